"""Cases in a real browser (headless Chromium through Selenium), on a `serve` of its own: a desk admin walks the
setup wizard in basic mode by clicking; an agent with the app's administrator role opens a Microsoft support case
from the incident's tab; an engineer answers in the Connector's console; the update appears on the incident as a
work note and in the tab. Screenshots go to .ci-artifacts/screenshots."""
import json

import pytest

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from conftest import SCREENSHOTS, Serve  # noqa: E402
from test_app_browser import PROVIDER  # noqa: E402
from test_connector_profile_browser import click  # noqa: E402
from test_delivery_crash import wait_until  # noqa: E402
from test_desk_browser import click_and_load, sign_in, wait_for  # noqa: E402

REPOSITORY = "contoso-servicenow"
INBOUND = "Microsoft 365 support (inbound)"


@pytest.fixture(scope="module")
def fresh():
    serve = Serve()
    yield serve
    serve.stop()


def test_basic_mode_by_clicking_then_a_case_from_the_tab_answered_in_the_console(fresh, browser):
    identity, desk, connector = fresh.identity, fresh.desk, fresh.connector
    common = ["--identity-url", identity.base_url, "--connector-url", connector.base_url, "--desk-url", desk.base_url]
    # The app registration comes from the scripted setup, whose --reset takes the desk's and the admin center's
    # side away again: the browser does those by hand.
    identity.cli("demo", "configure", "--mode", "basic", *common)
    identity.cli("demo", "configure", "--mode", "basic", "--reset", *common)
    demo = json.loads((identity.data_dir / "demo.json").read_text())
    app = demo["insightsSetup"]
    inbound = next(c for c in demo["desk"]["oauthClients"] if c["name"] == INBOUND)
    integration = next(u for u in demo["desk"]["users"] if u["webServiceAccessOnly"])

    # The Microsoft 365 administrator's part in the admin center: App ID and the desk's repository.
    session = identity.session()
    operator = {"Authorization": f"Bearer {connector.admin_token}"}
    profile_url = f"{connector.base_url}/admin/api/tenants/{identity.tenant_id}/profile"
    session.patch(profile_url, headers=operator, json={"supportTool": "ServiceNow", "appId": app["appId"]},
                  timeout=10).raise_for_status()
    session.put(f"{profile_url}/repositories/{REPOSITORY}", headers=operator, timeout=10, json={
        "endpoint": desk.base_url, "authenticationType": "basic", "clientId": inbound["clientId"],
        "clientSecret": inbound["clientSecret"], "restUserName": integration["userName"],
        "restUserPassword": integration["password"]}).raise_for_status()

    sign_in(browser, desk, "desk.admin")
    browser.get(desk.base_url + "/oauth_entity.do?sys_id=-1&sysparm_type=oauth_provider")
    wait_for(browser, "name").send_keys(PROVIDER)
    browser.find_element(By.ID, "client_id").send_keys(app["appId"])
    browser.find_element(By.ID, "client_secret").send_keys(app["secret"])
    token_url = browser.find_element(By.ID, "token_url")
    token_url.clear()
    token_url.send_keys(f"{identity.base_url}/{identity.tenant_id}/oauth2/token")
    browser.find_element(By.ID, "resource").send_keys("api://m365-support-connector")
    click_and_load(browser, "save")

    browser.get(desk.base_url + "/x_mioms_m365_assis_setup.do?step=consent")
    wait_for(browser, "accept").click()
    click_and_load(browser, "next")
    Select(wait_for(browser, "profile")).select_by_visible_text(f"{PROVIDER} — {PROVIDER} default_profile")
    connector_url = browser.find_element(By.ID, "connector_url")
    connector_url.clear()
    connector_url.send_keys(connector.base_url)
    click_and_load(browser, "next")
    Select(wait_for(browser, "inbound_client")).select_by_visible_text(
        f"{INBOUND} — client ID {inbound['clientId']}")
    browser.save_screenshot(str(SCREENSHOTS / "app-setup-basic-inbound.png"))
    click_and_load(browser, "next")
    # Only web-service-only users are offered.
    users = Select(wait_for(browser, "integration_user"))
    offered = [option.text for option in users.options][1:]
    assert offered == ["Microsoft 365 Integration (m365.integration)"], offered
    users.select_by_index(1)
    click_and_load(browser, "next")
    wait_for(browser, "repository_id").send_keys(REPOSITORY)
    click_and_load(browser, "next")
    wait_for(browser, "admin_email").send_keys("admin@contoso.onmicrosoft.com")
    browser.find_element(By.ID, "test_environment").click()
    click_and_load(browser, "next")
    assert wait_for(browser, "value-endpoint").text == desk.base_url
    assert browser.find_element(By.ID, "value-client_id").text == inbound["clientId"]
    assert browser.find_element(By.ID, "value-username").text == "m365.integration"
    browser.save_screenshot(str(SCREENSHOTS / "app-setup-basic-complete.png"))
    click_and_load(browser, "next")
    assert wait_for(browser, "setup-mode").text == "Basic", browser.page_source[:3000]
    assert browser.find_element(By.ID, "summary-inbound").text == INBOUND
    assert browser.find_element(By.ID, "summary-user").text == "m365.integration"

    incident = session.get(desk.base_url + "/api/now/table/incident", timeout=10,
                           auth=("desk.admin", desk.user("desk.admin")["password"]),
                           params={"sysparm_query": "short_description=Emails to external partners delayed"}
                           ).json()["result"][0]["sys_id"]
    sign_in(browser, desk, "david.loo")
    browser.get(desk.base_url + f"/incident.do?sys_id={incident}")
    wait_for(browser, "tab-x_mioms_m365_assis").click()
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "m365-contact-form")))
    assert browser.find_element(By.ID, "m365-case-title").get_attribute("value") == "Emails to external partners delayed"
    assert browser.find_element(By.ID, "m365-case-contact").get_attribute("value") == "admin@contoso.onmicrosoft.com"
    browser.save_screenshot(str(SCREENSHOTS / "app-case-form.png"))
    click_and_load(browser, "m365-open-case")
    wait_for(browser, "tab-x_mioms_m365_assis").click()
    case = WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".m365-case")))
    number = case.get_attribute("data-number")
    assert number.startswith("SR")
    assert f"Microsoft support case {number} opened" in browser.find_element(By.ID, "journal").get_attribute("textContent")
    browser.save_screenshot(str(SCREENSHOTS / "app-case-opened.png"))

    engineer = demo["console"][0]
    browser.delete_all_cookies()
    browser.get(f"{connector.base_url}/console/cases/{number}")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "sign-in")))
    click(browser, "sign-in")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "login")))
    browser.find_element(By.ID, "login").send_keys(engineer["userPrincipalName"])
    browser.find_element(By.ID, "passwd").send_keys(engineer["password"])
    click(browser, "idSIButton9")
    browser.get(f"{connector.base_url}/console/cases/{number}")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "update-form")))
    browser.find_element(By.ID, "text").send_keys("The fabrikam.com queue is drained; please confirm.")
    Select(browser.find_element(By.ID, "new-status")).select_by_visible_text("Waiting on customer")
    click(browser, "post-update")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "saved")))

    sign_in(browser, desk, "david.loo")

    def noted():
        browser.get(desk.base_url + f"/incident.do?sys_id={incident}")
        return "The fabrikam.com queue is drained" in wait_for(browser, "journal").get_attribute("textContent")
    wait_until(noted, 30, "the engineer's update did not reach the incident")
    wait_for(browser, "tab-x_mioms_m365_assis").click()
    WebDriverWait(browser, 20).until(
        ec.text_to_be_present_in_element((By.ID, f"m365-case-{number}"), "The fabrikam.com queue is drained"))
    assert "Waiting on customer" in browser.find_element(By.ID, f"m365-case-{number}").text
    browser.save_screenshot(str(SCREENSHOTS / "app-case-update.png"))
