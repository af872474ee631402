"""The engineers' console in a real browser: an engineer of the demo support provider signs in through Identity, finds
a test-environment case marked "do not contact", posts an update with a status change, and sees it delivered to
the desk (here the stand-in receiver of the crash test, behind the repository's basic credentials)."""
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from conftest import SCREENSHOTS, free_port  # noqa: E402
from test_connector_profile_browser import click  # noqa: E402
from test_connector_solutions import set_app_id  # noqa: E402
from test_delivery_crash import wait_until  # noqa: E402

HERE = Path(__file__).parent


def test_an_engineer_posts_an_update_and_sees_it_delivered(identity, connector, browser, tmp_path):
    port = free_port()
    receiver = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), str(port), str(tmp_path), "console-client",
                                 "console-secret", "console.user", "console-password"])
    wait_until(lambda: requests.post(f"http://127.0.0.1:{port}/none", timeout=1).status_code == 404, 30,
               "the receiver did not start")
    session = identity.session()
    operator = {"Authorization": f"Bearer {connector.admin_token}"}
    repository_id = f"console-{uuid.uuid4().hex[:8]}"
    before = set_app_id(identity, connector, connector.demo["client"]["appId"])
    try:
        session.post(f"{connector.base_url}/admin/api/tenants/{identity.tenant_id}/profile/repositories",
                     headers=operator, json={
                         "repositoryId": repository_id, "endpoint": f"http://127.0.0.1:{port}",
                         "authenticationType": "basic", "clientId": "console-client", "clientSecret": "console-secret",
                         "restUserName": "console.user", "restUserPassword": "console-password"}).raise_for_status()
        admin = next(u for u in identity.demo["users"] if "Global Administrator" in u["roles"])
        created = session.post(f"{connector.base_url}/api/v1/serviceRequests",
                               headers={"Authorization": f"Bearer {connector.client_token(identity)}"}, json={
                                   "repositoryId": repository_id, "ticketNumber": "INC0010042",
                                   "title": "Teams meetings drop after 30 seconds",
                                   "description": "All PSTN calls drop after about 30 seconds.", "severity": "A",
                                   "contact": {"email": admin["userPrincipalName"], "name": "Contoso admin"},
                                   "testEnvironment": True, "idempotencyKey": f"console-{uuid.uuid4()}"})
        assert created.status_code == 201, created.text
        number = created.json()["number"]

        engineer = json.loads((identity.data_dir / "demo.json").read_text())["console"][0]
        browser.delete_all_cookies()
        browser.get(f"{connector.base_url}/console")
        WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "sign-in")))
        click(browser, "sign-in")
        WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "login")))
        browser.find_element(By.ID, "login").send_keys(engineer["userPrincipalName"])
        browser.find_element(By.ID, "passwd").send_keys(engineer["password"])
        click(browser, "idSIButton9")
        WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "filters")))
        test_cases = browser.find_element(By.ID, "test-cases")
        assert number in test_cases.text and "Do not contact" in test_cases.text
        browser.save_screenshot(str(SCREENSHOTS / "console-cases.png"))

        browser.find_element(By.LINK_TEXT, number).click()
        WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "update-form")))
        assert browser.find_element(By.ID, "do-not-contact").is_displayed()
        browser.find_element(By.ID, "text").send_keys("We found the SBC setting; please test again.")
        Select(browser.find_element(By.ID, "new-status")).select_by_visible_text("Waiting on customer")
        click(browser, "post-update")
        WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "saved")))
        assert browser.find_element(By.ID, "case-status").text == "Waiting on customer"

        def delivered():
            browser.get(f"{connector.base_url}/console/cases/{number}")
            return browser.find_elements(By.CSS_SELECTOR, "#thread .delivery.sent")
        wait_until(delivered, 30, "the update was not delivered")
        browser.save_screenshot(str(SCREENSHOTS / "console-case-delivered.png"))
        applied = [json.loads(line) for line in (tmp_path / "applied.jsonl").read_text().splitlines()]
        assert [entry["number"] for entry in applied] == [number]

        browser.get(f"{connector.base_url}/console/deliveries?state=sent")
        assert number in browser.find_element(By.ID, "deliveries").text
    finally:
        receiver.kill()
        set_app_id(identity, connector, before)
        identity.cli("connector", "profile", "remove-repository", "--tenant", identity.tenant_id, "--id", repository_id)
