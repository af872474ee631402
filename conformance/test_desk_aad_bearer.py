"""The aad setup mode end to end over real HTTPS: Microsoft's MSAL gets an app token from Identity for the
"REST API" app, and the desk accepts it through an OIDC provider entity configured with the Table API — the
metadata and keys fetched over TLS with the development CA — and maps it to the integration user."""
import time

import msal
import requests

from test_identity_cli import cli_json


def admin_session(desk):
    admin = desk.user("desk.admin")
    session = requests.Session()
    session.auth = (admin["userName"], admin["password"])
    session.headers["Accept"] = "application/json"
    return session


def app_token(identity, client_id, secret, resource_app_id, deadline_seconds=15):
    """Identity re-reads a tenant's apps within its cache lifetime (5 s); retry until the new app is seen. Each
    attempt uses a new MSAL client: one client answers a repeated request that got a 400 from its own cache
    for 60 s."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        client = msal.ConfidentialClientApplication(
            client_id, client_credential=secret, authority=f"{identity.base_url}/{identity.tenant_id}",
            instance_discovery=False, http_client=identity.session(),
        )
        result = client.acquire_token_for_client(scopes=[f"{resource_app_id}/.default"])
        if "access_token" in result or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


def test_an_msal_app_token_is_accepted_through_the_oidc_provider_entity(identity, desk):
    rest_api = cli_json(identity, "app", "create", "--tenant", identity.domain, "--name", "ServiceNow REST API",
                        "--app-role", "Incidents.Write", "--no-secret")
    rest_user = cli_json(identity, "app", "create", "--tenant", identity.domain, "--name", "ServiceNow REST user")
    cli_json(identity, "app", "grant", "--tenant", identity.domain, "--client", rest_user["appId"],
             "--resource", rest_api["appId"], "--role", "Incidents.Write")

    session = admin_session(desk)
    table = desk.base_url + "/api/now/table/"
    config = session.post(table + "oidc_provider_configuration", json={
        "oidc_provider": "Contoso Entra ID",
        "oidc_metadata_url": f"{identity.base_url}/{identity.tenant_id}/.well-known/openid-configuration",
        "user_claim": "appid", "user_field": "user_name", "oidc_config_cache_life_span": "120",
    })
    assert config.status_code == 201, config.text
    entity = session.post(table + "oauth_entity", json={
        "name": "Microsoft 365 support (aad)", "type": "oidc_provider", "client_id": rest_api["appId"],
        "oidc_provider_configuration": config.json()["result"]["sys_id"],
    })
    assert entity.status_code == 201, entity.text
    user = session.post(table + "sys_user", json={
        "user_name": rest_user["appId"], "first_name": "Microsoft 365", "last_name": "REST user",
        "web_service_access_only": True, "user_password": "Unused-" + rest_user["secret"][:12],
    })
    assert user.status_code == 201, user.text
    itil = session.get(table + "sys_user_role", params={"sysparm_query": "name=itil"}).json()["result"][0]
    assert session.post(table + "sys_user_has_role", json={
        "user": user.json()["result"]["sys_id"], "role": itil["sys_id"]}).status_code == 201

    result = app_token(identity, rest_user["appId"], rest_user["secret"], rest_api["appId"])
    assert "access_token" in result, result
    bearer = {"Authorization": "Bearer " + result["access_token"], "Accept": "application/json"}

    created = requests.post(table + "incident", headers=bearer, json={"short_description": "Case update from Microsoft"})
    assert created.status_code == 201, created.text
    assert created.json()["result"]["sys_created_by"] == rest_user["appId"]

    tampered = result["access_token"][:-4] + ("AAAA" if not result["access_token"].endswith("AAAA") else "BBBB")
    refused = requests.get(table + "incident", headers={"Authorization": "Bearer " + tampered})
    assert refused.status_code == 401
    assert refused.json() == {"error": {"message": "User Not Authenticated",
                                        "detail": "Required to provide Auth information"}, "status": "failure"}

    calls = session.get(table + "sys_outbound_http_log",
                        params={"sysparm_query": "hostname=127.0.0.1^pathLIKEdiscovery"}).json()["result"]
    assert calls and all(call["response_status"] == "200" for call in calls)
    assert result["access_token"] not in session.get(table + "sys_outbound_http_log").text
