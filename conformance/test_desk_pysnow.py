"""The pysnow ServiceNow client against the desk's Table API, with Basic auth."""
import pysnow
import pytest
import requests


def client(desk, user):
    host = desk.base_url.removeprefix("http://")
    return pysnow.Client(host=host, user=user, password=desk.user(user)["password"], use_ssl=False)


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
