"""Microsoft's MSAL for Python and Azure Identity against Identity, and PyJWT verifying what they get."""
import html
import re
import ssl
from urllib.parse import parse_qs, urlparse

import jwt
import msal
import pytest
import requests
from azure.identity import ClientSecretCredential

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"


def confidential_app(identity, tenant=None, client_id=None, secret=None):
    return msal.ConfidentialClientApplication(
        client_id or identity.client_id,
        client_credential=secret or identity.client_secret,
        authority=f"{identity.base_url}/{tenant or identity.domain}",
        instance_discovery=False,
        http_client=identity.session(),
    )


def jwks_client(identity, discovery_path):
    config = identity.session().get(identity.base_url + discovery_path).json()
    context = ssl.create_default_context(cafile=identity.ca_file)
    return config, jwt.PyJWKClient(config["jwks_uri"], ssl_context=context)


def test_msal_client_credentials_token_verifies_against_published_jwks(identity):
    result = confidential_app(identity).acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    token = result["access_token"]

    _, keys = jwks_client(identity, f"/{identity.domain}/v2.0/.well-known/openid-configuration")
    signing_key = keys.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, signing_key.key, algorithms=["RS256"], audience="https://graph.microsoft.com",
        issuer=f"{identity.base_url}/{identity.tenant_id}/",
    )
    assert claims["appid"] == identity.client_id
    assert claims["tid"] == identity.tenant_id
    assert claims["roles"] == ["Directory.Read.All"]
    assert claims["ver"] == "1.0"


def test_msal_accepts_the_tenant_guid_as_authority(identity):
    result = confidential_app(identity, tenant=identity.tenant_id).acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    assert "access_token" in result, result


def test_msal_gets_entra_shaped_error_for_a_wrong_secret(identity):
    result = confidential_app(identity, secret="not-the-secret").acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215:")
    assert "not-the-secret" not in result["error_description"]
    assert result["correlation_id"] and result["trace_id"] and result["timestamp"]


def test_msal_gets_entra_shaped_error_for_an_unknown_client(identity):
    result = confidential_app(identity, client_id="11111111-2222-3333-4444-555555555555").acquire_token_for_client(
        scopes=[GRAPH_DEFAULT]
    )
    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]


def test_msal_refuses_an_unknown_tenant_at_discovery(identity):
    with pytest.raises(ValueError):
        confidential_app(identity, tenant="nobody.onmicrosoft.com")


def test_pyjwkclient_verifies_v1_tokens_from_the_v1_discovery_document(identity):
    response = identity.session().post(
        f"{identity.base_url}/{identity.domain}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": identity.client_id,
            "client_secret": identity.client_secret,
            "resource": "https://graph.microsoft.com",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["expires_in"], str) and isinstance(body["expires_on"], str)
    config, keys = jwks_client(identity, f"/{identity.domain}/.well-known/openid-configuration")
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["kid"] == header["x5t"]
    claims = jwt.decode(
        token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
        audience="https://graph.microsoft.com", issuer=config["issuer"],
    )
    assert claims["appidacr"] == "1"


def test_azure_identity_client_secret_credential(identity):
    credential = ClientSecretCredential(
        identity.tenant_id, identity.client_id, identity.client_secret,
        authority=identity.base_url, disable_instance_discovery=True, connection_verify=identity.ca_file,
    )
    token = credential.get_token(GRAPH_DEFAULT)
    assert token.token.count(".") == 2
    assert token.expires_on > 0
    graph = identity.session().get(
        f"{identity.base_url}/v1.0/users/admin@{identity.domain}/memberOf",
        headers={"Authorization": f"Bearer {token.token}"},
    )
    assert graph.status_code == 200, graph.text
    assert graph.json()["value"][0]["displayName"] == "Global Administrator"


def test_msal_authorization_code_flow_with_pkce_through_the_sign_in_page(identity):
    app = confidential_app(identity)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost:8765/callback")
    assert "code_challenge=" in flow["auth_uri"] and "code_challenge_method=S256" in flow["auth_uri"]
    browser = identity.session()
    page = browser.get(flow["auth_uri"])
    assert page.status_code == 200
    assert 'name="passwd"' in page.text
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    fields = {name: html.unescape(value) for name, value in hidden}
    user = next(u for u in identity.demo["users"] if "Global Administrator" in u["roles"])
    fields.update({"login": user["userPrincipalName"], "passwd": user["password"]})
    submit = browser.post(urlparse(page.url)._replace(query="").geturl(), data=fields, allow_redirects=False)
    assert submit.status_code in (302, 303), submit.text[:500]
    redirect = urlparse(submit.headers["Location"])
    auth_response = {k: v[0] for k, v in parse_qs(redirect.query).items()}
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == user["userPrincipalName"]
    assert "refresh_token" in result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["scp"] == "User.Read"
    assert "62e90394-69f5-4237-9190-012177145e10" in claims["wids"]
