"""The Microsoft 365 support app in a real browser (headless Chromium through Selenium): a desk admin creates the
outbound OAuth provider in the Application Registry and walks the whole setup wizard by clicking, in insights-only
mode; an agent then opens the Microsoft 365 support tab of an incident and searches. Screenshots go to
.ci-artifacts/screenshots."""
import json

import pytest

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from conftest import SCREENSHOTS  # noqa: E402
from test_desk_browser import click_and_load, sign_in, wait_for  # noqa: E402

PROVIDER = "Microsoft 365 support (outbound)"


def registered_app(identity, desk, connector):
    """The outbound app registration with its Connector roles, made by the scripted setup, whose --reset then takes
    the desk's and the Connector's side away again, so the browser does those by hand."""
    common = ["--identity-url", identity.base_url, "--connector-url", connector.base_url, "--desk-url", desk.base_url]
    identity.cli("demo", "configure", "--mode", "insights", *common)
    identity.cli("demo", "configure", "--reset", *common)
    return json.loads((identity.data_dir / "demo.json").read_text())["insightsSetup"]


def set_app_id(identity, connector, app_id):
    answer = identity.session().patch(
        f"{connector.base_url}/admin/api/tenants/{identity.tenant_id}/profile", timeout=10,
        headers={"Authorization": f"Bearer {connector.admin_token}"}, json={"supportTool": "ServiceNow", "appId": app_id})
    assert answer.status_code == 200, answer.text


def wizard_next(browser, action="next"):
    click_and_load(browser, action)


def test_an_admin_sets_up_insights_only_by_clicking_and_an_agent_uses_the_tab(identity, desk, connector, browser):
    app = registered_app(identity, desk, connector)
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

    browser.get(desk.base_url + "/x_mioms_m365_assis_setup.do")
    wait_for(browser, "setup-steps")
    assert "Step 1: Consent" in browser.page_source
    browser.find_element(By.ID, "accept").click()
    wizard_next(browser)
    Select(wait_for(browser, "profile")).select_by_visible_text(f"{PROVIDER} — {PROVIDER} default_profile")
    connector_url = browser.find_element(By.ID, "connector_url")
    connector_url.clear()
    connector_url.send_keys(connector.base_url)
    browser.save_screenshot(str(SCREENSHOTS / "app-setup-outbound.png"))
    wizard_next(browser)
    assert "Step 3: Inbound OAuth provider" in wait_for(browser, "setup-form").text, browser.page_source[:3000]
    assert browser.find_element(By.ID, "inbound_client").is_displayed()
    wizard_next(browser, "skip")
    assert "no integration user is needed" in wait_for(browser, "user-not-needed").text
    wizard_next(browser)
    wait_for(browser, "repository_id")
    wizard_next(browser, "skip")
    wait_for(browser, "admin_email").send_keys("admin@contoso.onmicrosoft.com")
    wizard_next(browser)
    assert wait_for(browser, "value-app_id").text == app["appId"]
    browser.save_screenshot(str(SCREENSHOTS / "app-setup-complete.png"))
    wizard_next(browser)
    problem = wait_for(browser, "setup-problem").text
    assert f"App ID {app['appId']}" in problem and "Organization profiles" in problem, problem

    set_app_id(identity, connector, app["appId"])
    wizard_next(browser)
    assert wait_for(browser, "setup-mode").text == "Insights only"
    browser.save_screenshot(str(SCREENSHOTS / "app-setup-summary.png"))

    sign_in(browser, desk, "beth.anglin")
    found = identity.session().get(
        desk.base_url + "/api/now/table/incident", timeout=10,
        auth=("desk.admin", desk.user("desk.admin")["password"]),
        params={"sysparm_query": "short_description=Cannot join Teams meetings from browser"}).json()["result"][0]
    browser.get(desk.base_url + f"/incident.do?sys_id={found['sys_id']}")
    wait_for(browser, "tab-x_mioms_m365_assis").click()
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "m365-solutions")))
    panel = browser.find_element(By.ID, "panel-x_mioms_m365_assis")
    assert panel.is_displayed()
    assert "TM1051207" in panel.text
    assert browser.find_elements(By.CSS_SELECTOR, "#m365-solutions mark")
    assert "insights only" in browser.find_element(By.ID, "m365-contact-unavailable").text
    browser.save_screenshot(str(SCREENSHOTS / "app-incident-tab.png"))

    query = browser.find_element(By.ID, "m365-query")
    query.send_keys("mailbox full archive")
    browser.find_element(By.ID, "m365-search-button").click()
    WebDriverWait(browser, 20).until(
        ec.text_to_be_present_in_element((By.ID, "m365-insights-panel"), "for “mailbox full archive”"))
    assert browser.current_url.endswith(found["sys_id"])  # the search replaced the panel, not the page
    assert "updated" not in browser.find_element(By.TAG_NAME, "main").text.split("\n")[0]
    browser.save_screenshot(str(SCREENSHOTS / "app-incident-search.png"))

    # Opening a result keeps it with the incident: after a reload it is listed as opened.
    first = browser.find_element(By.CSS_SELECTOR, "#m365-solutions a.m365-title")
    title = first.text
    tabs_before = browser.window_handles
    first.click()
    WebDriverWait(browser, 10).until(lambda b: len(b.window_handles) > len(tabs_before))
    browser.switch_to.window(tabs_before[0])
    kept_list = (By.CSS_SELECTOR, "#m365-saved")
    for _ in range(20):
        browser.get(desk.base_url + f"/incident.do?sys_id={found['sys_id']}")
        wait_for(browser, "tab-x_mioms_m365_assis").click()
        WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "m365-insights-panel")))
        if browser.find_elements(*kept_list) and title in browser.find_element(*kept_list).text:
            break
    saved = browser.find_element(*kept_list).text
    assert title in saved and "opened" in saved, saved
    browser.save_screenshot(str(SCREENSHOTS / "app-incident-kept.png"))
