"""The desk in a real browser (headless Chromium through Selenium): an agent signs in, creates an incident, adds
a work note, resolves and reopens it; refusals are clear pages. Screenshots go to .ci-artifacts/screenshots."""
import pytest

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from conftest import SCREENSHOTS  # noqa: E402


def wait_for(browser, element_id):
    return WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, element_id)))


def click_and_load(browser, element_id):
    """Clicks a button that sends a form and waits until the next page replaced this one (the old page's
    elements would otherwise still be found)."""
    page = browser.find_element(By.TAG_NAME, "html")
    button = browser.find_element(By.ID, element_id)
    # A native click on a button whose page is gone at once sometimes fails inside chromedriver
    # ("Node with given id does not belong to the document"); a script click returns before the navigation.
    browser.execute_script("arguments[0].click()", button)
    WebDriverWait(browser, 15).until(ec.staleness_of(page))


def sign_in(browser, desk, user_name, password=None):
    browser.delete_all_cookies()
    browser.get(desk.base_url + "/login.do")
    wait_for(browser, "user_name").send_keys(user_name)
    browser.find_element(By.ID, "user_password").send_keys(password or desk.user(user_name)["password"])
    click_and_load(browser, "sysverb_login")


def test_an_agent_works_an_incident_from_creation_to_reopening(desk, browser):
    browser.get(desk.base_url + "/incident_list.do")
    wait_for(browser, "user_name")
    assert "/login.do" in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, "label[for=user_name]").is_displayed()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.save_screenshot(str(SCREENSHOTS / "desk-sign-in.png"))

    sign_in(browser, desk, "beth.anglin")
    wait_for(browser, "record-list")
    assert "Incidents" in browser.title
    # The demo's 12 incidents, plus any other conformance tests created before.
    caption = browser.find_element(By.CSS_SELECTOR, "#record-list caption").text
    assert caption.startswith("1 to ") and int(caption.rsplit(" ", 1)[1]) >= 12, caption
    browser.save_screenshot(str(SCREENSHOTS / "desk-incident-list.png"))

    browser.find_element(By.ID, "new-record").click()
    wait_for(browser, "short_description").send_keys("OneDrive sync stuck at 'Processing changes'")
    # The caller is a search-as-you-type reference: typing part of a name offers matching users.
    caller = browser.find_element(By.ID, "caller_id")
    caller.send_keys("tut")
    WebDriverWait(browser, 10).until(
        lambda b: "abel.tuter" in [o.get_attribute("value")
                                   for o in b.find_elements(By.CSS_SELECTOR, "#caller_id-options option")])
    caller.clear()
    caller.send_keys("abel.tuter")
    Select(browser.find_element(By.ID, "category")).select_by_visible_text("Software")
    Select(browser.find_element(By.ID, "impact")).select_by_visible_text("2 - Medium")
    Select(browser.find_element(By.ID, "urgency")).select_by_visible_text("1 - High")
    browser.find_element(By.ID, "description").send_keys("Since this morning, 40 files are waiting to upload.")
    click_and_load(browser, "sysverb_insert")

    number = wait_for(browser, "number").get_attribute("value")
    assert number.startswith("INC")
    assert browser.find_element(By.ID, "caller_id-label").text == "Abel Tuter"
    assert browser.find_element(By.ID, "priority").get_attribute("value") == "2 - High"

    browser.find_element(By.ID, "work_notes").send_keys("Asked the user to pause and resume sync.")
    click_and_load(browser, "sysverb_update")
    journal = wait_for(browser, "journal")
    assert "Asked the user to pause and resume sync." in journal.text
    assert "beth.anglin" in journal.text
    browser.save_screenshot(str(SCREENSHOTS / "desk-incident-work-note.png"))

    browser.find_element(By.ID, "tab-resolution").click()
    close_code = browser.find_element(By.ID, "close_code")
    assert close_code.is_displayed()
    Select(close_code).select_by_visible_text("Solved (Work Around)")
    browser.find_element(By.ID, "close_notes").send_keys("Reset the OneDrive client; sync finished.")
    click_and_load(browser, "resolve_incident")
    wait_for(browser, "reopen_incident")
    assert Select(browser.find_element(By.ID, "state")).first_selected_option.text == "Resolved"
    browser.find_element(By.ID, "tab-resolution").click()
    assert browser.find_element(By.ID, "resolved_at").get_attribute("value") != ""
    browser.save_screenshot(str(SCREENSHOTS / "desk-incident-resolved.png"))

    click_and_load(browser, "reopen_incident")
    wait_for(browser, "resolve_incident")
    assert Select(browser.find_element(By.ID, "state")).first_selected_option.text == "In Progress"
    browser.save_screenshot(str(SCREENSHOTS / "desk-incident-reopened.png"))

    browser.get(desk.base_url + "/incident_list.do?sysparm_search=" + number)
    assert number in wait_for(browser, "record-list").text


def test_refusals_are_clear_pages(desk, browser):
    sign_in(browser, desk, "m365.integration")
    error = wait_for(browser, "login-error")
    assert error.get_attribute("role") == "alert"
    assert "web service access only" in error.text
    browser.save_screenshot(str(SCREENSHOTS / "desk-web-service-only.png"))

    sign_in(browser, desk, "beth.anglin")
    wait_for(browser, "record-list")
    browser.get(desk.base_url + "/oauth_entity_list.do")
    assert "You are not allowed to open this page" in wait_for(browser, "message-text").find_element(By.XPATH, "..").text
    browser.save_screenshot(str(SCREENSHOTS / "desk-not-allowed.png"))


def test_an_admin_reads_the_registry_and_the_logs(desk, browser):
    sign_in(browser, desk, "desk.admin")
    wait_for(browser, "signed-in-user")
    browser.get(desk.base_url + "/oauth_entity_list.do")
    assert "Microsoft 365 support (inbound)" in wait_for(browser, "record-list").text
    browser.save_screenshot(str(SCREENSHOTS / "desk-application-registry.png"))
    browser.get(desk.base_url + "/sys_outbound_http_log_list.do")
    wait_for(browser, "record-list")
    browser.get(desk.base_url + "/sys_scope_privilege_list.do")
    assert "oauth_entity" in wait_for(browser, "record-list").text
    click_and_load(browser, "sign-out")
    wait_for(browser, "user_name")
    assert "You are signed out." in browser.page_source
