"""A stand-in for the desk's inbound API, for the delivery crash test: `/oauth_token.do` (password and refresh grants
for one client and user; tokens live in memory, so a restart makes old tokens fail with 401) and
`/api/x_mioms_m365_assis/v1/events`, which applies each event ID once, checks the order per case, and keeps what
it applied in a file (fsynced) so a kill -9 loses nothing it acknowledged.

python receiver.py PORT STATE_DIR CLIENT_ID CLIENT_SECRET USER PASSWORD"""
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PORT, STATE, CLIENT_ID, CLIENT_SECRET, USER, PASSWORD = sys.argv[1:7]
APPLIED = os.path.join(STATE, "applied.jsonl")
PROBLEMS = os.path.join(STATE, "problems.log")
LOCK = threading.Lock()
TOKENS = set()
REFRESH = set()
applied_ids = set()
last_sequence = {}
if os.path.exists(APPLIED):
    for line in open(APPLIED):
        if line.strip():
            entry = json.loads(line)
            applied_ids.add(entry["eventId"])
            last_sequence[entry["number"]] = max(last_sequence.get(entry["number"], 0), entry["sequence"])


def problem(text):
    with open(PROBLEMS, "a") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/oauth_token.do":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self.answer(401, {"error": "access_denied", "error_description": "bad client"})
            if form.get("grant_type") == "password":
                if form.get("username") != USER or form.get("password") != PASSWORD:
                    return self.answer(401, {"error": "access_denied", "error_description": "bad user"})
                refresh = secrets.token_urlsafe(24)
                REFRESH.add(refresh)
            elif form.get("grant_type") == "refresh_token" and form.get("refresh_token") in REFRESH:
                refresh = form["refresh_token"]
            else:
                return self.answer(401, {"error": "invalid_grant"})
            token = secrets.token_urlsafe(24)
            TOKENS.add(token)
            return self.answer(200, {"access_token": token, "refresh_token": refresh, "expires_in": 1799,
                                     "token_type": "Bearer", "scope": "useraccount"})
        if self.path == "/api/x_mioms_m365_assis/v1/events":
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
                return self.answer(401, {"error": {"message": "User Not Authenticated"}, "status": "failure"})
            event = json.loads(body)
            number, sequence = event["serviceRequest"]["number"], event["update"]["sequence"]
            with LOCK:
                if event["eventId"] not in applied_ids:
                    if sequence != last_sequence.get(number, 0) + 1:
                        problem(f"order: {number} got {sequence} after {last_sequence.get(number, 0)}")
                    with open(APPLIED, "a") as f:
                        f.write(json.dumps({"eventId": event["eventId"], "number": number, "sequence": sequence}) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
                    applied_ids.add(event["eventId"])
                    last_sequence[number] = max(last_sequence.get(number, 0), sequence)
            # Applied but not yet acknowledged: a kill now makes the Connector send it again.
            time.sleep(0.05)
            return self.answer(200, {"result": {"applied": True}})
        self.answer(404, {"error": {"message": "Not found"}, "status": "failure"})


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
