"""The Microsoft 365 support app end to end in insights-only mode, over real HTTPS with the three services of
`m365-support serve`: `demo configure --mode insights` performs the guide's setup through the services' APIs; an
agent's incident tab then shows recommended solutions and the related service health issue, keeps a result marked
helpful through resolving and reopening, and names the host when the Connector cannot be reached."""
import re

import requests

DESK_ADMIN = "desk.admin"


def configure(identity, desk, connector, *extra):
    return identity.cli("demo", "configure", "--mode", "insights", "--identity-url", identity.base_url,
                        "--connector-url", connector.base_url, "--desk-url", desk.base_url, *extra)


def admin_auth(desk):
    return (DESK_ADMIN, desk.user(DESK_ADMIN)["password"])


def signed_in(identity, desk, user):
    session = identity.session()
    login = session.get(desk.base_url + "/login.do", timeout=10)
    token = re.search(r'name="sysparm_ck" value="([^"]+)"', login.text).group(1)
    answer = session.post(desk.base_url + "/login.do", data={
        "sysparm_ck": token, "user_name": user, "user_password": desk.user(user)["password"]}, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    return session


def incident_id(identity, desk, short):
    found = identity.session().get(desk.base_url + "/api/now/table/incident", auth=admin_auth(desk), timeout=10,
                                   params={"sysparm_query": f"short_description={short}", "sysparm_fields": "sys_id"})
    return found.json()["result"][0]["sys_id"]


def setup_state(identity, desk):
    answer = identity.session().get(desk.base_url + "/api/x_mioms_m365_assis/v1/setup", auth=admin_auth(desk),
                                    timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def test_insights_only_from_scripted_setup_to_the_incident_tab(identity, desk, connector):
    output = configure(identity, desk, connector)
    for step in ("Microsoft Entra ID: register the outbound app", "Setup step 1: Consent",
                 "Setup step 2: Outbound OAuth provider", "Setup step 3: Inbound OAuth provider — skipped",
                 "Organization profiles", "Setup step 7: Complete integration", "mode: insights-only"):
        assert step in output, output
    # Idempotent: a second run reuses the app registration and the OAuth provider.
    app_id = setup_state(identity, desk)["adminCenter"]["App ID"]
    configure(identity, desk, connector)
    state = setup_state(identity, desk)
    assert state["complete"] and state["mode"] == "insights-only" and state["adminCenter"]["App ID"] == app_id
    providers = identity.session().get(desk.base_url + "/api/now/table/oauth_entity", auth=admin_auth(desk),
                                       params={"sysparm_query": "type=oauth_provider"}, timeout=10).json()["result"]
    assert len([p for p in providers if p["name"] == "Microsoft 365 support (outbound)"]) == 1

    agent = signed_in(identity, desk, "beth.anglin")
    incident = incident_id(identity, desk, "Cannot join Teams meetings from browser")
    form = agent.get(desk.base_url + "/incident.do", params={"sys_id": incident}, timeout=10)
    assert 'id="tab-x_mioms_m365_assis"' in form.text
    panel = agent.get(desk.base_url + "/x_mioms_m365_assis_insights.do",
                      params={"sys_id": incident, "fragment": "1"}, timeout=20)
    assert panel.status_code == 200
    assert 'id="m365-solutions"' in panel.text and "<mark>" in panel.text, panel.text[:2000]
    assert "TM1051207" in panel.text
    assert 'id="m365-contact-unavailable"' in panel.text
    outbound = identity.session().get(desk.base_url + "/api/now/table/sys_outbound_http_log", auth=admin_auth(desk),
                                      params={"sysparm_query": "path=/api/v1/recommendedSolutions"},
                                      timeout=10).json()["result"]
    assert outbound and all(entry["response_status"] == "200" for entry in outbound)

    # Marked helpful, then the incident is resolved and reopened: the result is still shown.
    solution_id = re.search(r'class="m365-solution" data-id="([^"]+)"', panel.text).group(1)
    token = re.search(r'name="sysparm_ck" value="([^"]+)"', panel.text).group(1)
    kept = agent.post(desk.base_url + "/x_mioms_m365_assis_insight.do", allow_redirects=False, timeout=10, data={
        "sysparm_ck": token, "sys_id": incident, "kind": "solution", "item_id": solution_id, "title": "Kept solution",
        "detail": "Microsoft Teams", "url": "https://learn.microsoft.com/microsoftteams/", "action": "helpful"})
    assert kept.status_code == 303
    for state_value in ("6", "2"):
        changed = identity.session().patch(
            desk.base_url + f"/api/now/table/incident/{incident}", auth=admin_auth(desk), timeout=10,
            json={"state": state_value, "close_code": "Solved (Permanently)", "close_notes": "Fixed by the guide."})
        assert changed.status_code == 200, changed.text
    again = agent.get(desk.base_url + "/x_mioms_m365_assis_insights.do",
                      params={"sys_id": incident, "fragment": "1"}, timeout=20)
    assert 'id="m365-saved"' in again.text and f'data-id="{solution_id}"' in again.text


def test_an_unreachable_connector_is_named_with_its_log_entries(identity, desk, connector):
    configure(identity, desk, connector)
    profile = setup_state(identity, desk)["outboundProfile"]
    closed = f"https://127.0.0.1:{_closed_port()}"
    session = identity.session()
    # The outbound step asks the Connector before it keeps a URL: one where nothing listens is refused, naming
    # the host, with a system log entry and the failed call in the outbound HTTP log; the settings stay as they
    # were. (The tab's own outage message, with the Connector really stopped, is tested in Swift.)
    refused = session.put(desk.base_url + "/api/x_mioms_m365_assis/v1/setup/outbound", auth=admin_auth(desk),
                          json={"profile": profile, "connectorUrl": closed}, timeout=30)
    assert refused.status_code == 400
    assert "could not be reached" in refused.json()["error"]["message"]
    assert "127.0.0.1" in refused.json()["error"]["message"]
    log_ref = refused.json()["error"]["detail"]
    assert log_ref.startswith("System log entry ")
    entry = session.get(desk.base_url + f"/api/now/table/syslog/{log_ref.split()[-1]}", auth=admin_auth(desk),
                        timeout=10).json()["result"]
    assert entry["source"] == "x_mioms_m365_assis"
    failed = session.get(desk.base_url + "/api/now/table/sys_outbound_http_log", auth=admin_auth(desk), timeout=10,
                         params={"sysparm_query": "source=x_mioms_m365_assis^error_messageISNOTEMPTY"}).json()
    assert failed["result"], failed
    state = setup_state(identity, desk)
    assert state["complete"] and state["connectorUrl"] == connector.base_url


def _closed_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
