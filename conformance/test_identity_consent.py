"""Consent with MSAL for Python: tokens carry only consented permissions, a refresh narrows but never widens,
and the consent page grants what a user (or a Global Administrator, for the organization) accepts."""
import html
import json
import re
import subprocess
import time
from urllib.parse import parse_qs, urlparse

import jwt
import msal

REDIRECT_URI = "http://localhost:8765/callback"


def demo_user(identity, role=None):
    return next(u for u in identity.demo["users"] if (role in u["roles"] if role else not u["roles"]))


def hidden_fields(page_text):
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page_text)
    return {name: html.unescape(value) for name, value in hidden}


def sign_in(identity, app, scopes, user, prompt=None):
    """Runs MSAL's authorization-code flow through the sign-in page; returns the flow, the session and the
    answer to the password (a redirect, or the consent page)."""
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT_URI, prompt=prompt)
    browser = identity.session()
    # An app the CLI just created reaches the server's directory cache within its lifetime (5 s): poll.
    deadline = time.monotonic() + 15
    while True:
        page = browser.get(flow["auth_uri"])
        if page.status_code == 200 or time.monotonic() > deadline:
            break
        assert "AADSTS700016" in page.text, page.text[:500]
        time.sleep(0.25)
    assert page.status_code == 200, page.text[:500]
    fields = hidden_fields(page.text)
    fields.update({"login": user["userPrincipalName"], "passwd": user["password"]})
    action = urlparse(page.url)._replace(query="").geturl()
    return flow, browser, action, browser.post(action, data=fields, allow_redirects=False)


def redirect_fields(response):
    assert response.status_code in (302, 303), response.text[:500]
    return {k: v[0] for k, v in parse_qs(urlparse(response.headers["Location"]).query).items()}


def scp(result):
    return jwt.decode(result["access_token"], options={"verify_signature": False})["scp"]


def confidential(identity, client_id=None, secret=None):
    return msal.ConfidentialClientApplication(
        client_id or identity.client_id, client_credential=secret or identity.client_secret,
        authority=f"{identity.base_url}/{identity.domain}", instance_discovery=False,
        http_client=identity.session(),
    )


def cli(identity, *args):
    result = subprocess.run(
        [identity.binary, "identity", *args, "--data-dir", str(identity.data_dir), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_consented_scope_signs_in_without_a_consent_page_and_refresh_cannot_widen(identity):
    app = confidential(identity)
    flow, _, _, answer = sign_in(identity, app, ["User.Read"], demo_user(identity))
    result = app.acquire_token_by_auth_code_flow(flow, redirect_fields(answer))
    assert scp(result) == "User.Read"

    wider = app.acquire_token_by_refresh_token(result["refresh_token"], ["User.Read", "Directory.Read.All"])
    assert "access_token" not in wider
    assert wider["error"] == "invalid_grant"
    assert wider["error_codes"] == [65001]
    assert wider.get("suberror") == "consent_required"


def test_refresh_narrows_to_the_scopes_asked(identity):
    cli(identity, "app", "consent", "--tenant", identity.domain, "--client", identity.client_id,
        "--resource", "https://graph.microsoft.com", "--scope", "User.ReadBasic.All")
    app = confidential(identity)
    flow, _, _, answer = sign_in(identity, app, ["User.Read", "User.ReadBasic.All"], demo_user(identity))
    result = app.acquire_token_by_auth_code_flow(flow, redirect_fields(answer))
    assert scp(result) == "User.Read User.ReadBasic.All"
    narrow = app.acquire_token_by_refresh_token(result["refresh_token"], ["User.Read"])
    assert scp(narrow) == "User.Read"


def test_not_consented_scope_needs_an_administrator_and_the_admin_consents_for_the_organization(identity):
    created = cli(identity, "app", "create", "--tenant", identity.domain, "--name", "Consent test",
                  "--redirect-uri", REDIRECT_URI,
                  "--require-scope", "https://graph.microsoft.com=Directory.Read.All")
    created = json.loads(created)
    app = confidential(identity, created["appId"], created["secret"])

    # An ordinary user is shown what is asked and that only an admin can grant it; no Accept button.
    flow, _, _, page = sign_in(identity, app, ["Directory.Read.All"], demo_user(identity))
    assert page.status_code == 200
    assert "Directory.Read.All" in page.text and "admin consent required" in page.text
    assert 'value="accept"' not in page.text

    # The Global Administrator consents for the organization.
    admin = demo_user(identity, "Global Administrator")
    flow, browser, action, page = sign_in(identity, app, ["Directory.Read.All"], admin)
    assert 'name="consent_for_organization"' in page.text
    fields = hidden_fields(page.text)
    fields.update({"consent_action": "accept", "consent_for_organization": "true"})
    result = app.acquire_token_by_auth_code_flow(flow, redirect_fields(browser.post(action, data=fields, allow_redirects=False)))
    assert scp(result) == "Directory.Read.All"

    # Now the ordinary user gets it straight away.
    flow, _, _, answer = sign_in(identity, app, ["Directory.Read.All"], demo_user(identity))
    result = app.acquire_token_by_auth_code_flow(flow, redirect_fields(answer))
    assert scp(result) == "Directory.Read.All"


def test_a_user_declining_consent_sends_access_denied_to_the_app(identity):
    created = cli(identity, "app", "create", "--tenant", identity.domain, "--name", "Declined consent",
                  "--redirect-uri", REDIRECT_URI)
    created = json.loads(created)
    app = confidential(identity, created["appId"], created["secret"])
    flow, browser, action, page = sign_in(identity, app, ["User.Read"], demo_user(identity))
    fields = hidden_fields(page.text)
    fields["consent_action"] = "cancel"
    answer = redirect_fields(browser.post(action, data=fields, allow_redirects=False))
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert result["error"] == "access_denied"
