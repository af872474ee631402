"""Delivery survives crashes: the real `m365-support serve` is killed with SIGKILL while case events are pending, and
the receiving desk is killed in the middle of deliveries, round after round; after the restarts every event is
delivered, none is applied twice, and each case's updates arrive in order."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msal
import requests

from conftest import free_port

ROUNDS = int(os.environ.get("M365_CRASH_ROUNDS", "20"))
HERE = Path(__file__).parent


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} within {seconds} s")


class Serve:
    def __init__(self, binary, folder):
        self.binary, self.folder = binary, folder
        self.ports = {"identity": free_port(), "connector": free_port(), "desk": free_port()}
        self.process = None

    def url(self, service):
        return f"https://127.0.0.1:{self.ports[service]}"

    def start(self):
        log = open(self.folder / "serve.log", "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", str(self.folder / "data"),
             "--identity-port", str(self.ports["identity"]), "--connector-port", str(self.ports["connector"]),
             "--desk-port", str(self.ports["desk"])],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, LOG_LEVEL="notice"))
        ca = self.folder / "data" / "tls" / "ca.pem"
        wait_until(lambda: ca.exists() and all(
            requests.get(self.url(s) + "/healthz", verify=str(ca), timeout=2).status_code == 200
            for s in self.ports), 90, "serve did not answer")
        self.ca = str(ca)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


class Receiver:
    def __init__(self, folder, credentials):
        self.folder, self.credentials, self.port = folder, credentials, free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), str(self.port), str(self.folder),
                                         *self.credentials])
        wait_until(lambda: requests.post(f"http://127.0.0.1:{self.port}/none", timeout=1).status_code == 404, 30,
                   "the receiver did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def applied(self):
        path = self.folder / "applied.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    def problems(self):
        path = self.folder / "problems.log"
        return path.read_text().splitlines() if path.exists() else []


def test_every_event_arrives_once_and_in_order_through_kills(tmp_path=None):
    folder = Path(tempfile.mkdtemp(prefix="m365-crash-"))
    binary = os.environ.get("M365_BIN", str(HERE.parent / ".build" / "debug" / "m365-support"))
    serve = Serve(binary, folder)
    (folder / "receiver").mkdir()
    receiver = Receiver(folder / "receiver", ["crash-client", "crash-secret", "crash.user", "crash-password"])
    serve.start()
    receiver.start()
    try:
        demo = json.loads((folder / "data" / "demo.json").read_text())
        tenant = demo["identity"]["tenantId"]
        admin_token = (folder / "data" / "connector-admin-token").read_text().strip()
        operator = {"Authorization": f"Bearer {admin_token}"}
        connector = lambda: serve.url("connector")  # noqa: E731 — the URL stays, the process changes
        session = requests.Session()
        # Not REQUESTS_CA_BUNDLE: that names the shared conformance server's CA, and this server has its own.
        session.trust_env = False
        session.verify = serve.ca
        client = demo["connector"]["client"]
        session.patch(f"{connector()}/admin/api/tenants/{tenant}/profile", headers=operator,
                      json={"supportTool": "ServiceNow", "appId": client["appId"]}).raise_for_status()
        session.post(f"{connector()}/admin/api/tenants/{tenant}/profile/repositories", headers=operator, json={
            "repositoryId": "crash-desk", "endpoint": f"http://127.0.0.1:{receiver.port}",
            "authenticationType": "basic", "clientId": "crash-client", "clientSecret": "crash-secret",
            "restUserName": "crash.user", "restUserPassword": "crash-password"}).raise_for_status()
        app = msal.ConfidentialClientApplication(
            client["appId"], client_credential=client["secret"], authority=f"{serve.url('identity')}/{tenant}",
            instance_discovery=False, http_client=session)
        token = app.acquire_token_for_client([f"{demo['connector']['resource']}/.default"])["access_token"]
        admin = next(u for u in demo["identity"]["users"] if "Global Administrator" in u["roles"])
        numbers = []
        for index in range(2):
            created = session.post(f"{connector()}/api/v1/serviceRequests", headers={
                "Authorization": f"Bearer {token}"}, json={
                "repositoryId": "crash-desk", "ticketNumber": f"INC00{index}", "title": "Crash test",
                "description": "Updates must survive kills.", "severity": "C",
                "contact": {"email": admin["userPrincipalName"]}, "idempotencyKey": f"crash-{uuid.uuid4()}"})
            assert created.status_code == 201, created.text
            numbers.append(created.json()["number"])

        posted = 0
        for round_ in range(ROUNDS):
            for number in numbers:
                for _ in range(2):
                    session.post(f"{connector()}/admin/api/serviceRequests/{number}/updates", headers=operator,
                                 json={"text": f"Round {round_} update {posted}"}).raise_for_status()
                    posted += 1
            if round_ % 2 == 0:
                serve.kill()  # events pending, some perhaps claimed
                serve.start()
            else:
                before = len(receiver.applied())
                wait_until(lambda: len(receiver.applied()) > before, 30, "no delivery started")
                receiver.kill()  # in the middle of deliveries
                receiver.start()

        wait_until(lambda: len(receiver.applied()) == posted, 180,
                   f"not every event was delivered ({len(receiver.applied())} of {posted})")
        applied = receiver.applied()
        assert len({entry["eventId"] for entry in applied}) == len(applied) == posted
        assert receiver.problems() == []
        for number in numbers:
            sequences = [entry["sequence"] for entry in applied if entry["number"] == number]
            assert sequences == list(range(1, len(sequences) + 1)), (number, sequences)
        # An event applied just before a kill is sent again and then recorded as sent.
        sent = lambda: session.get(  # noqa: E731
            f"{connector()}/admin/api/deliveries?state=sent&limit=1000", headers=operator).json()
        wait_until(lambda: len(sent()) == posted, 120, "the Connector did not record every delivery as sent")
        assert len(receiver.applied()) == posted
    finally:
        for process in (serve, receiver):
            if process.process and process.process.poll() is None:
                process.process.terminate()
                process.process.wait(timeout=20)
