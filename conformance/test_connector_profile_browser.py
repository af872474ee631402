"""The Connector's organization profile page in a real browser: the demo Global Administrator signs in through
Identity (authorization code with PKCE), saves a repository and sees it listed; an ordinary user sees the
profile read-only."""
import pytest

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from conftest import SCREENSHOTS  # noqa: E402


def user_with(identity, role):
    """The demo user holding `role`, or one holding no directory role when `role` is None."""
    return next(u for u in identity.demo["users"] if (role in u["roles"] if role else not u["roles"]))


def click(browser, element_id):
    # A script click: a native one on a button whose page leaves at once can fail inside chromedriver.
    browser.execute_script("arguments[0].click()", browser.find_element(By.ID, element_id))


def sign_in(browser, identity, connector, user):
    browser.delete_all_cookies()
    browser.get(f"{connector.base_url}/profile")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "tenant")))
    assert browser.find_element(By.CSS_SELECTOR, "label[for=tenant]").is_displayed()
    browser.find_element(By.ID, "tenant").send_keys(identity.domain)
    click(browser, "sign-in")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "login")))
    assert browser.current_url.startswith(identity.base_url)
    browser.find_element(By.ID, "login").send_keys(user["userPrincipalName"])
    browser.find_element(By.ID, "passwd").send_keys(user["password"])
    click(browser, "idSIButton9")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "basic-title")))
    assert browser.current_url == f"{connector.base_url}/profile"


def test_an_administrator_saves_a_repository_and_sees_it_listed(identity, connector, browser):
    sign_in(browser, identity, connector, user_with(identity, "Global Administrator"))
    assert "Contoso" in browser.find_element(By.ID, "basic-title").text
    assert not browser.find_elements(By.ID, "read-only")
    assert browser.find_element(By.ID, "no-repositories").is_displayed()

    # Other modules (the desk app's setup) may have entered an App ID already.
    app_id = browser.find_element(By.ID, "appId")
    app_id.clear()
    app_id.send_keys(connector.demo["client"]["appId"])
    click(browser, "save-basic")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "saved")))
    assert browser.find_element(By.ID, "appId").get_attribute("value") == connector.demo["client"]["appId"]

    fields = {
        "repositoryId": "contoso-desk", "endpoint": "https://desk.contoso.example", "clientId": "4931e4e2725c4754",
        "clientSecret": "browser-client-secret", "restUserName": "m365.integration",
        "restUserPassword": "browser-rest-password",
    }
    for name, value in fields.items():
        browser.find_element(By.ID, name).send_keys(value)
    click(browser, "save-repository")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "repositories")))
    assert browser.find_element(By.ID, "saved").text == "Repository saved."
    rows = browser.find_elements(By.CSS_SELECTOR, "#repositories tbody tr")
    assert [row.find_element(By.CLASS_NAME, "repository-id").text for row in rows] == ["contoso-desk"]
    assert "client secret set; password set" in rows[0].text
    assert "browser-client-secret" not in browser.page_source
    assert "browser-rest-password" not in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "connector-profile.png"))

    # A bad endpoint is refused on the page, with the reason.
    browser.find_element(By.ID, "repositoryId").send_keys("second")
    browser.execute_script("document.getElementById('endpoint').setAttribute('type', 'text')")
    browser.find_element(By.ID, "endpoint").send_keys("ftp://desk")
    click(browser, "save-repository")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "error")))
    assert "endpoint" in browser.find_element(By.ID, "error").text

    # The same profile over the admin API: the repository is there, its secrets are not.
    session = identity.session()
    answer = session.get(f"{connector.base_url}/admin/api/tenants/{identity.domain}/profile",
                         headers={"Authorization": f"Bearer {connector.admin_token}"})
    assert answer.status_code == 200
    assert [r["repositoryId"] for r in answer.json()["repositories"]] == ["contoso-desk"]
    assert "browser-client-secret" not in answer.text


def test_an_ordinary_user_sees_the_profile_read_only(identity, connector, browser):
    sign_in(browser, identity, connector, user_with(identity, None))
    assert browser.find_element(By.ID, "read-only").is_displayed()
    assert not browser.find_elements(By.ID, "basic-form")
    assert not browser.find_elements(By.ID, "repository-form")
