"""The sign-in page in a real browser (headless Chromium through Selenium), finishing an MSAL auth-code flow."""
from urllib.parse import parse_qs, urlparse

import msal
import pytest

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from conftest import SCREENSHOTS  # noqa: E402

REDIRECT_URI = "http://localhost:8765/callback"


def admin_user(identity):
    return next(u for u in identity.demo["users"] if "Global Administrator" in u["roles"])


def start_flow(identity):
    app = msal.ConfidentialClientApplication(
        identity.client_id, client_credential=identity.client_secret,
        authority=f"{identity.base_url}/{identity.domain}", instance_discovery=False, http_client=identity.session(),
    )
    return app, app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT_URI)


def wait_for_redirect(browser):
    """Nothing listens on the redirect URI; the browser's address bar still shows where it was sent."""
    WebDriverWait(browser, 15).until(lambda b: b.current_url.startswith(REDIRECT_URI))
    return {k: v[0] for k, v in parse_qs(urlparse(browser.current_url).query).items()}


def test_sign_in_page_is_labelled_and_completes_the_flow(identity, browser):
    app, flow = start_flow(identity)
    browser.get(flow["auth_uri"])
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "login")))
    assert browser.title == "Sign in to your account"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=login]").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, "label[for=passwd]").is_displayed()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.save_screenshot(str(SCREENSHOTS / "identity-sign-in.png"))

    user = admin_user(identity)
    browser.find_element(By.ID, "login").send_keys(user["userPrincipalName"])
    browser.find_element(By.ID, "passwd").send_keys(user["password"])
    # A script click: a native one on a button whose page leaves at once can fail inside chromedriver.
    browser.execute_script("arguments[0].click()", browser.find_element(By.ID, "idSIButton9"))
    auth_response = wait_for_redirect(browser)
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == user["userPrincipalName"]


def test_wrong_password_is_announced_and_keeps_the_user_on_the_page(identity, browser):
    _, flow = start_flow(identity)
    browser.get(flow["auth_uri"])
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "login")))
    browser.find_element(By.ID, "login").send_keys(admin_user(identity)["userPrincipalName"])
    browser.find_element(By.ID, "passwd").send_keys("not the password")
    # A script click: a native one on a button whose page leaves at once can fail inside chromedriver.
    browser.execute_script("arguments[0].click()", browser.find_element(By.ID, "idSIButton9"))
    alert = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "signin-error")))
    assert alert.get_attribute("role") == "alert"
    assert "incorrect" in alert.text
    assert browser.find_element(By.ID, "login").get_attribute("value") == admin_user(identity)["userPrincipalName"]
    browser.save_screenshot(str(SCREENSHOTS / "identity-sign-in-error.png"))
