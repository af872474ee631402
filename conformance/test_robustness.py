"""Bad input against the running `serve` process, which hosts Identity and the desk together: every request is
answered in its interface's shape, and one request can never take the process (and every service) down."""
import requests


def desk_get(desk, path, user="beth.anglin", password=None, **kwargs):
    password = password or desk.user(user)["password"]
    return requests.get(desk.base_url + path, auth=(user, password), timeout=30, **kwargs)


def still_serving(identity, desk):
    assert requests.get(identity.base_url + "/healthz", timeout=10).status_code == 200
    assert requests.get(desk.base_url + "/healthz", timeout=10).status_code == 200


def servicenow_error(response, status):
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["status"] == "failure"
    assert set(body["error"]) == {"message", "detail"}
    return body["error"]


def test_huge_limits_and_offsets_are_answered_and_the_process_keeps_serving(identity, desk):
    for query in ("sysparm_offset=1&sysparm_limit=9223372036854775807",
                  "sysparm_offset=9223372036854775807&sysparm_limit=9223372036854775807",
                  "sysparm_limit=99999999999999999999999999999"):
        response = desk_get(desk, "/api/now/table/incident?" + query)
        assert response.status_code == 200, response.text[:300]
        assert isinstance(response.json()["result"], list)
        still_serving(identity, desk)
    servicenow_error(desk_get(desk, "/api/now/table/incident?sysparm_offset=-1"), 400)


def test_list_pages_take_any_first_row(identity, desk):
    session = requests.Session()
    login = session.get(desk.base_url + "/login.do", timeout=10)
    token = login.text.split('name="sysparm_ck" value="')[1].split('"')[0]
    user = desk.user("beth.anglin")
    signed_in = session.post(desk.base_url + "/login.do", data={
        "user_name": "beth.anglin", "user_password": user["password"], "sysparm_ck": token}, timeout=10)
    assert signed_in.status_code == 200
    for first_row in ("9223372036854775807", "-9223372036854775808", "1e99"):
        page = session.get(desk.base_url + "/incident_list.do?sysparm_first_row=" + first_row, timeout=10)
        assert page.status_code == 200
    still_serving(identity, desk)


def test_error_envelopes_always_carry_detail(desk):
    servicenow_error(desk_get(desk, "/api/now/table/no_such_table"), 400)
    big = requests.post(desk.base_url + "/api/now/table/incident", auth=("beth.anglin", desk.user("beth.anglin")["password"]),
                        data=b'{"short_description":"' + b"x" * 200_000 + b'"}',
                        headers={"Content-Type": "application/json"}, timeout=30)
    servicenow_error(big, 413)


def test_malformed_json_and_queries_are_clear_400s(identity, desk):
    auth = ("beth.anglin", desk.user("beth.anglin")["password"])
    trailing = requests.post(desk.base_url + "/api/now/table/incident", auth=auth,
                             data=b'{"short_description":"x",}', headers={"Content-Type": "application/json"}, timeout=10)
    assert servicenow_error(trailing, 400)["message"] == "Exception while reading request"
    ors = "^OR".join(f"number={i}" for i in range(2000))
    error = servicenow_error(desk_get(desk, "/api/now/table/incident", params={"sysparm_query": ors}), 400)
    assert "500 conditions" in error["detail"]
    still_serving(identity, desk)


def test_a_query_value_that_is_not_utf8_matches_nothing(desk):
    response = desk_get(desk, "/api/now/table/incident?sysparm_query=short_descriptionLIKE%FF")
    assert response.status_code == 200
    assert response.json()["result"] == []


def test_a_password_with_a_nul_after_the_right_one_is_refused(desk):
    user = desk.user("beth.anglin")
    response = desk_get(desk, "/api/now/table/incident?sysparm_limit=1", password=user["password"] + "\x00anything")
    servicenow_error(response, 401)


def test_oauth_token_failures_are_oauth_errors(desk):
    garbage = requests.post(desk.base_url + "/oauth_token.do", data=b"grant_type=%ZZ%FF",
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert garbage.status_code == 400
    assert garbage.json()["error"] == "invalid_request"
    big = requests.post(desk.base_url + "/oauth_token.do", data=b"grant_type=password&x=" + b"a" * 200_000,
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert big.status_code == 413
    assert big.json()["error"] == "invalid_request"


def raw_tls(base_url, ca_file, request: bytes) -> bytes:
    """Sends bytes no HTTP library would send and reads the answer until the server closes."""
    import socket
    import ssl
    from urllib.parse import urlparse
    url = urlparse(base_url)
    context = ssl.create_default_context(cafile=ca_file)
    with socket.create_connection((url.hostname, url.port), timeout=10) as plain:
        with context.wrap_socket(plain, server_hostname=url.hostname) as tls:
            tls.sendall(request)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
            return answer


def test_headers_the_http_parser_refuses_are_answered_in_each_services_shape(identity, desk):
    huge = b"GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + b"A" * 100_000 + b"\r\n\r\n"
    answer = raw_tls(desk.base_url, identity.ca_file, huge)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b'"status":"failure"' in answer
    garbage = (b"POST /api/now/table/incident HTTP/1.1\r\nHost: x\r\nContent-Type: \x01\x02garbage\r\n"
               b"Content-Length: 2\r\n\r\n{}")
    answer = raw_tls(desk.base_url, identity.ca_file, garbage)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    answer = raw_tls(identity.base_url, identity.ca_file,
                     b"GET /common/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nX-Pad: "
                     + b"p" * 100_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b'"error_codes":[9002313]' in answer
    still_serving(identity, desk)
