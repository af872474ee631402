"""The `m365-support connector` CLI against the data folder of a running server, as the support team uses it:
a new tenant registered, service health imported in Graph's shape and updated, read back over Graph."""
import json
import subprocess
import time


def connector_cli(identity, *args):
    return identity.cli("connector", *args, timeout=60)


def test_the_team_imports_and_updates_health_that_graph_clients_then_read(identity, connector, tmp_path):
    document = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/serviceAnnouncement/issues",
        "value": [{
            "id": "SP2000001", "title": "Users can't upload files larger than 100 MB", "service": "SharePoint Online",
            "classification": "Advisory", "origin": "Microsoft", "status": "ServiceDegradation", "isResolved": False,
            "startDateTime": "2026-12-01T08:00:00Z", "lastModifiedDateTime": "2026-12-01T08:30:00.12Z",
            "impactDescription": "Uploads over 100 MB fail with 'Something went wrong'.",
            "posts": [{"createdDateTime": "2026-12-01T08:30:00Z", "postType": "Regular",
                       "description": {"contentType": "Html", "content": "We're investigating."}}],
        }],
    }
    file = tmp_path / "health.json"
    file.write_text(json.dumps(document))
    assert "Imported 1 issue and" in connector_cli(identity, "health", "import", "--tenant", identity.domain, str(file))
    connector_cli(identity, "health", "post", "--tenant", identity.domain, "--issue", "SP2000001",
                  "--message", "A fix is rolling out.", "--status", "restoringService")

    session = identity.session()
    headers = {"Authorization": f"Bearer {connector.client_token(identity)}"}
    issue = session.get(f"{connector.base_url}/v1.0/admin/serviceAnnouncement/issues/SP2000001", headers=headers)
    assert issue.status_code == 200, issue.text
    body = issue.json()
    assert body["status"] == "restoringService"
    assert [post["description"]["content"] for post in body["posts"]] == ["We're investigating.", "A fix is rolling out."]
    active = session.get(
        f"{connector.base_url}/v1.0/admin/serviceAnnouncement/issues",
        params={"$filter": "service eq 'SharePoint Online' and isResolved eq false"}, headers=headers)
    assert "SP2000001" in [item["id"] for item in active.json()["value"]]


def test_a_tenant_registered_by_the_cli_can_call_the_running_connector(identity, connector):
    created = subprocess.run(
        [identity.binary, "identity", "tenant", "create", "--name", "Northwind", "--domain", "northwind.example",
         "--data-dir", str(identity.data_dir), "--json"], capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    tenant = json.loads(created.stdout)["id"]
    output = connector_cli(identity, "resource", "--tenant", "northwind.example")
    assert "Registered tenant Northwind" in output

    # A desk's outbound app in the new tenant, granted the Connector's role through the identity CLI.
    app = json.loads(subprocess.run(
        [identity.binary, "identity", "app", "create", "--tenant", "northwind.example", "--name", "Northwind desk",
         "--data-dir", str(identity.data_dir), "--json"], capture_output=True, text=True, timeout=60).stdout)
    granted = subprocess.run(
        [identity.binary, "identity", "app", "grant", "--tenant", "northwind.example", "--client", app["appId"],
         "--resource", connector.demo["resource"], "--role", "SupportIntegration.ReadWrite",
         "--data-dir", str(identity.data_dir)], capture_output=True, text=True, timeout=60)
    assert granted.returncode == 0, granted.stderr

    # Identity's cache takes up to 5 s to see new apps: poll for the token.
    deadline = time.monotonic() + 15
    session = identity.session()
    while True:
        response = session.post(f"{identity.base_url}/{tenant}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": app["appId"], "client_secret": app["secret"],
            "scope": f"{connector.demo['resource']}/.default"})
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert response.status_code == 200, response.text
    check = session.post(f"{connector.base_url}/api/v1/supportIntegration/check", json={},
                         headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    # The tenant is served; its administrator has not entered the App ID yet: the final step is missing.
    assert check.status_code == 403
    assert check.headers["Content-Type"].startswith("application/problem+json")
    assert check.json()["code"] == "profileNotConfigured"
