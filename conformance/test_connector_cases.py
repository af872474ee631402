"""Support cases over real HTTPS as `serve` wires them: the Connector reads the demo tenant's directory in Identity
with its own directory reader (registered at start) to check a case's contact, opens a case idempotently with an
MSAL token, and an engineer's update through the operator's API joins the thread."""
import uuid

from test_connector_solutions import set_app_id


def test_the_contact_check_and_a_case_with_an_engineers_update(identity, connector):
    session = identity.session()
    headers = {"Authorization": f"Bearer {connector.client_token(identity)}"}
    before = set_app_id(identity, connector, connector.demo["client"]["appId"])
    repository_id = f"conformance-{uuid.uuid4().hex[:8]}"
    try:
        admin = next(u for u in identity.demo["users"] if "Global Administrator" in u["roles"])
        plain = next(u for u in identity.demo["users"] if not u["roles"])
        check = f"{connector.base_url}/api/v1/administratorCheck"
        verdict = session.post(check, json={"email": admin["userPrincipalName"]}, headers=headers)
        assert verdict.status_code == 200, verdict.text
        assert verdict.json()["isAdministrator"] is True and "Global Administrator" in verdict.json()["roles"]
        assert session.post(check, json={"email": plain["userPrincipalName"]}, headers=headers).json()[
            "isAdministrator"] is False

        operator = {"Authorization": f"Bearer {connector.admin_token}"}
        repository = session.post(
            f"{connector.base_url}/admin/api/tenants/{identity.tenant_id}/profile/repositories", headers=operator,
            json={"repositoryId": repository_id, "endpoint": "https://desk.example.test",
                  "authenticationType": "basic", "clientId": "c", "clientSecret": "s", "restUserName": "u",
                  "restUserPassword": "p"})
        assert repository.status_code == 201, repository.text
        case = {"repositoryId": repository.json()["repositoryId"], "ticketNumber": "INC0010003",
                "title": "Mail to external partners delayed", "description": "Messages arrive hours late.",
                "severity": "B", "contact": {"email": plain["userPrincipalName"]},
                "idempotencyKey": f"conformance-{uuid.uuid4()}"}
        url = f"{connector.base_url}/api/v1/serviceRequests"
        refused = session.post(url, json=case, headers=headers)
        assert refused.status_code == 403 and refused.json()["code"] == "contactNotAdministrator"
        assert refused.json()["detail"].startswith(plain["userPrincipalName"].lower())

        case["contact"] = {"email": admin["userPrincipalName"], "name": "Contoso admin"}
        created = session.post(url, json=case, headers=headers)
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        assert session.post(url, json=case, headers=headers).json()["number"] == number

        update = session.post(f"{connector.base_url}/admin/api/serviceRequests/{number}/updates", headers=operator,
                              json={"text": "Engineer assigned.", "author": "Alex", "status": "inProgress"})
        assert update.status_code == 201, update.text
        shown = session.get(f"{url}/{number}", headers=headers).json()
        assert shown["status"] == "inProgress"
        assert [u["from"] for u in shown["updates"]] == ["support"]
    finally:
        set_app_id(identity, connector, before)
        # Other modules expect the demo profile without repositories.
        identity.cli("connector", "profile", "remove-repository", "--tenant", identity.tenant_id, "--id", repository_id)
