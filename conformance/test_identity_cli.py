"""The `m365-support identity` CLI against the data folder of a running server, as an operator uses it."""
import json
import subprocess
import time

import jwt
import msal


def cli(identity, *args, check=True):
    result = subprocess.run(
        [identity.binary, "identity", *args, "--data-dir", str(identity.data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def cli_json(identity, *args):
    return json.loads(cli(identity, *args, "--json").stdout)


def token_when_visible(identity, data, path, deadline_seconds=15):
    """The server re-reads a tenant's apps within its cache lifetime (5 s); poll until then."""
    deadline = time.monotonic() + deadline_seconds
    session = identity.session()
    while True:
        response = session.post(identity.base_url + path, data=data)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        assert response.json()["error_codes"] == [700016], response.text
        time.sleep(0.25)


def test_app_created_and_granted_by_the_cli_gets_tokens_from_the_running_server(identity):
    app = cli_json(identity, "app", "create", "--tenant", identity.domain, "--name", "Outbound from CLI")
    assert app["appId"] and len(app["secret"]) == 40
    grant = cli_json(
        identity, "app", "grant", "--tenant", identity.domain, "--client", app["appId"],
        "--resource", "https://graph.microsoft.com", "--role", "Directory.Read.All",
    )
    assert grant["role"] == "Directory.Read.All"

    response = token_when_visible(
        identity,
        {"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": app["secret"],
         "resource": "https://graph.microsoft.com"},
        f"/{identity.domain}/oauth2/token",
    )
    assert response.status_code == 200, response.text

    result = msal.ConfidentialClientApplication(
        app["appId"], client_credential=app["secret"], authority=f"{identity.base_url}/{identity.tenant_id}",
        instance_discovery=False, http_client=identity.session(),
    ).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["roles"] == ["Directory.Read.All"]


def test_user_created_by_the_cli_is_readable_through_graph(identity):
    user = cli_json(
        identity, "user", "create", "--tenant", identity.domain, "--upn", f"ops@{identity.domain}",
        "--display-name", "Operations", "--role", "Helpdesk Administrator",
    )
    assert user["roles"] == ["Helpdesk Administrator"]
    assert len(user["password"]) >= 16
    token = identity.session().post(
        f"{identity.base_url}/{identity.domain}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": identity.client_id,
              "client_secret": identity.client_secret, "scope": "https://graph.microsoft.com/.default"},
    ).json()["access_token"]
    member_of = identity.session().get(
        f"{identity.base_url}/v1.0/users/ops@{identity.domain}/memberOf",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert member_of.status_code == 200, member_of.text
    assert [role["displayName"] for role in member_of.json()["value"]] == ["Helpdesk Administrator"]


def test_cli_refusals_are_one_clear_line_and_a_failing_exit_code(identity):
    result = cli(identity, "app", "create", "--tenant", "nobody.onmicrosoft.com", "--name", "X", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: No tenant 'nobody.onmicrosoft.com'."


def test_key_rotation_by_the_cli_keeps_the_old_key_published(identity):
    keys = cli_json(identity, "keys", "rotate")
    assert len([k for k in keys if k["active"]]) == 1
    retired = [k for k in keys if not k["active"]]
    assert retired and all(k["publishedUntil"] for k in retired)
