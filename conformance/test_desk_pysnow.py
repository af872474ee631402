"""The pysnow ServiceNow client against the desk's Table API and /oauth_token.do, and the desk CLI."""
import json
import subprocess

import pysnow
import pytest
import requests


def client(desk, user):
    host = desk.base_url.removeprefix("https://")
    return pysnow.Client(host=host, user=user, password=desk.user(user)["password"], use_ssl=True)


def test_pysnow_creates_reads_queries_updates_and_deletes_incidents(desk):
    incidents = client(desk, "beth.anglin").resource(api_path="/table/incident")
    created = incidents.create(payload={"short_description": "Outlook crashes on start", "impact": "2", "urgency": "1"}).one()
    assert created["number"].startswith("INC")
    assert created["priority"] == "2"
    assert created["state"] == "1"

    fetched = incidents.get(query={"number": created["number"]}).one()
    assert fetched["sys_id"] == created["sys_id"]

    query = pysnow.QueryBuilder().field("short_description").contains("crashes").AND().field("state").equals("1")
    assert created["number"] in [record["number"] for record in incidents.get(query=query).all()]

    updated = incidents.update(query={"number": created["number"]}, payload={"state": "6", "close_code": "Solved"})
    assert updated["state"] == "6"
    assert updated["resolved_at"]

    with pytest.raises(requests.exceptions.HTTPError) as refused:
        incidents.delete(query={"number": created["number"]})
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["error"]["message"] == "User Not Authorized"

    admin_incidents = client(desk, "desk.admin").resource(api_path="/table/incident")
    assert admin_incidents.delete(query={"number": created["number"]}) == {"status": "record deleted"}
    assert list(incidents.get(query={"number": created["number"]}).all()) == []


def test_pysnow_reads_demo_incidents_with_display_values(desk):
    incidents = client(desk, "david.loo").resource(api_path="/table/incident")
    response = incidents.get(query={"state": "2"}, display_value=True, limit=3)
    records = list(response.all())
    assert records and all(record["state"] == "In Progress" for record in records)


def test_wrong_password_is_refused_in_the_envelope(desk):
    response = requests.get(
        desk.base_url + "/api/now/table/incident", auth=("beth.anglin", "wrong"), timeout=10)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
        "status": "failure",
    }


def test_pysnow_oauth_client_gets_and_refreshes_a_token_from_oauth_token_do(desk):
    # Over HTTPS, as requests-oauthlib insists for token URLs.
    oauth = desk.demo["oauthClients"][0]
    user = desk.user("m365.integration")
    session = pysnow.OAuthClient(
        client_id=oauth["clientId"], client_secret=oauth["clientSecret"],
        host=desk.base_url.removeprefix("https://"), use_ssl=True)
    token = session.generate_token(user["userName"], user["password"])
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["useraccount"]  # requests-oauthlib splits the scope string
    session.set_token(token)
    incidents = session.resource(api_path="/table/incident")
    created = incidents.create(payload={"short_description": "Created over OAuth"}).one()
    assert created["sys_created_by"] == "m365.integration"

    refreshed = requests.post(
        desk.base_url + "/oauth_token.do",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
              "client_id": oauth["clientId"], "client_secret": oauth["clientSecret"]}, timeout=10)
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] == token["refresh_token"]


def test_desk_cli_creates_users_and_inbound_clients_that_work_against_the_running_desk(identity, desk):
    def cli(*args):
        result = subprocess.run(
            [identity.binary, "desk", *args, "--data-dir", str(identity.data_dir), "--json"],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    user = cli("user", "create", "--user-name", "svc.m365", "--role", "itil", "--web-service-only")
    client_info = cli("oauth", "create-inbound", "--name", "From the CLI")
    assert user["webServiceAccessOnly"] is True and user["password"]
    response = requests.post(
        desk.base_url + "/oauth_token.do",
        data={"grant_type": "password", "client_id": client_info["clientId"],
              "client_secret": client_info["clientSecret"], "username": "svc.m365", "password": user["password"]},
        timeout=10)
    assert response.status_code == 200, response.text
    listing = requests.get(
        desk.base_url + "/api/now/table/incident?sysparm_limit=1",
        headers={"Authorization": f"Bearer {response.json()['access_token']}"}, timeout=10)
    assert listing.status_code == 200
