"""PySNC, ServiceNow's own Python client, against the desk: GlideRecord queries with paging across batches,
display values, insert, update and delete with Basic auth, and the password grant flow at /oauth_token.do."""
import pytest
from pysnc import ServiceNowClient, ServiceNowPasswordGrantFlow
from pysnc.exceptions import RoleException


def client(desk, user):
    return ServiceNowClient(desk.base_url, (user, desk.user(user)["password"]))


def test_glide_records_query_page_and_show_display_values(desk):
    incidents = client(desk, "beth.anglin").GlideRecord("incident", batch_size=5)
    incidents.add_active_query()
    incidents.order_by("number")
    incidents.query()
    numbers = []
    while incidents.next():
        numbers.append(incidents.get_value("number"))
        assert incidents.get_value("active") == "true"
        assert incidents.get_display_value("state") in ("New", "In Progress", "On Hold")
    assert len(numbers) == incidents.get_row_count() > 5  # more than one batch of 5
    assert numbers == sorted(numbers)

    resolved = client(desk, "beth.anglin").GlideRecord("incident")
    resolved.add_query("state", "6")
    resolved.query()
    assert resolved.get_row_count() >= 1
    resolved.next()
    assert resolved.get_value("active") == "false"


def test_glide_record_insert_update_delete(desk):
    agent = client(desk, "beth.anglin")
    record = agent.GlideRecord("incident")
    record.initialize()
    record.short_description = "SharePoint site returns 403 for one department"
    record.impact = "1"
    record.urgency = "2"
    sys_id = record.insert()
    assert sys_id

    fetched = agent.GlideRecord("incident")
    assert fetched.get(sys_id)
    assert fetched.get_value("priority") == "2"
    assert fetched.get_display_value("priority") == "2 - High"
    assert fetched.get_value("number").startswith("INC")

    fetched.state = "2"
    fetched.work_notes = "Checked the site's permission inheritance."
    fetched.update()
    again = agent.GlideRecord("incident")
    assert again.get(sys_id)
    assert again.get_value("state") == "2"
    assert "permission inheritance" in again.get_display_value("work_notes")

    with pytest.raises(RoleException):
        again.delete()
    admin = client(desk, "desk.admin").GlideRecord("incident")
    assert admin.get(sys_id)
    admin.delete()
    gone = agent.GlideRecord("incident")
    assert not gone.get(sys_id)


def test_password_grant_flow_gets_a_token_from_oauth_token_do(desk):
    inbound = desk.demo["oauthClients"][0]
    integration = desk.user("m365.integration")
    flow = ServiceNowPasswordGrantFlow(
        integration["userName"], integration["password"], inbound["clientId"], inbound["clientSecret"])
    oauth_client = ServiceNowClient(desk.base_url, flow)
    incidents = oauth_client.GlideRecord("incident")
    incidents.add_query("number", "INC0010001")
    incidents.query()
    assert incidents.next()
    assert incidents.get_value("number") == "INC0010001"
