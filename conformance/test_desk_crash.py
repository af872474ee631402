"""The desk killed with SIGKILL while the Connector delivers case updates to it: the desk runs alone (`serve desk`, a
data folder of its own) against a `serve` holding Identity and the Connector, set up in basic mode by `demo
configure`; an engineer posts updates one after another while the desk is killed and restarted mid-stream, round
after round. After the last restart every update is on the incident as a work note exactly once, in order."""
import os
import shutil
import signal
import subprocess

import requests

from conftest import Serve, free_port
from test_delivery_crash import wait_until

ROUNDS = int(os.environ.get("M365_DESK_CRASH_ROUNDS", "3"))
UPDATES_PER_ROUND = 8


class LoneDesk:
    """`m365-support serve desk` in its own data folder, trusting (and presenting a certificate of) the other serve's
    development CA, so the Connector and the desk trust each other."""

    def __init__(self, microsoft: Serve):
        self.binary = microsoft.binary
        self.folder = microsoft.root / "lone-desk"
        (self.folder / "data").mkdir(parents=True)
        shutil.copytree(microsoft.root / "data" / "tls", self.folder / "data" / "tls")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.ca = microsoft.ca_file
        self.process = None

    def start(self):
        log = open(self.folder / "desk.log", "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "desk", "--data-dir", str(self.folder / "data"), "--desk-port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, LOG_LEVEL="notice"))
        wait_until(lambda: requests.get(self.url + "/healthz", verify=self.ca, timeout=2).status_code == 200, 90,
                   "the desk did not answer")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def test_every_update_reaches_the_incident_once_across_desk_crashes():
    microsoft = Serve()
    desk = LoneDesk(microsoft)
    try:
        desk.start()
        identity, connector = microsoft.identity, microsoft.connector
        tokens = dict(os.environ,
                      M365_IDENTITY_ADMIN_TOKEN=(identity.data_dir / "identity-admin-token").read_text().strip(),
                      M365_CONNECTOR_ADMIN_TOKEN=connector.admin_token)
        configured = subprocess.run(
            [desk.binary, "demo", "configure", "--mode", "basic", "--data-dir", str(desk.folder / "data"),
             "--identity-url", identity.base_url, "--connector-url", connector.base_url, "--desk-url", desk.url],
            capture_output=True, text=True, timeout=120, env=tokens)
        assert configured.returncode == 0, configured.stderr + configured.stdout
        demo = __import__("json").loads((desk.folder / "data" / "demo.json").read_text())["desk"]
        admin = ("desk.admin", next(u for u in demo["users"] if u["userName"] == "desk.admin")["password"])
        http = identity.session()
        incident = http.get(desk.url + "/api/now/table/incident", auth=admin, timeout=10, params={
            "sysparm_query": "short_description=Emails to external partners delayed"}).json()["result"][0]

        # The case, opened as the desk does (through the Connector's API with the desk's outbound app token).
        outbound = __import__("json").loads((desk.folder / "data" / "demo.json").read_text())["insightsSetup"]
        token = http.post(f"{identity.base_url}/{identity.tenant_id}/oauth2/v2.0/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": outbound["appId"], "client_secret": outbound["secret"],
            "scope": "api://m365-support-connector/.default"}).json()["access_token"]
        created = http.post(f"{connector.base_url}/api/v1/serviceRequests", timeout=20,
                            headers={"Authorization": f"Bearer {token}"}, json={
                                "repositoryId": "contoso-servicenow", "ticketNumber": incident["number"],
                                "title": "Mail delayed", "description": "Mail to fabrikam.com is late.", "severity": "B",
                                "contact": {"email": f"admin@{identity.domain}"}, "idempotencyKey": "desk-crash"})
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        operator = {"Authorization": f"Bearer {connector.admin_token}"}

        def notes():
            entries = http.get(desk.url + "/api/now/table/sys_journal_field", auth=admin, timeout=10, params={
                "sysparm_query": f"element_id={incident['sys_id']}^element=work_notes^ORDERBYsys_created_on",
                "sysparm_limit": 1000}).json()["result"]
            return [entry["value"] for entry in entries]

        sent = []
        for round_number in range(ROUNDS):
            for index in range(UPDATES_PER_ROUND):
                text = f"crash round {round_number} update {index}"
                answer = http.post(f"{connector.base_url}/admin/api/serviceRequests/{number}/updates", timeout=10,
                                   headers=operator, json={"text": text, "author": "Alex Engineer"})
                assert answer.status_code == 201, answer.text
                sent.append(text)
                if index == UPDATES_PER_ROUND // 2:
                    desk.kill()
            # The desk is down: the updates sent since are waiting, each having failed once.
            wait_until(lambda: any(row.get("lastError") for row in http.get(
                f"{connector.base_url}/admin/api/deliveries", params={"state": "pending"}, headers=operator,
                timeout=10).json()), 20, "no delivery failed while the desk was down")
            desk.start()
        # Deliveries back off after a failure (5 s, then doubling): a replay of what waits makes it due now.
        def all_delivered():
            for state in ("pending",):
                for waiting in http.get(f"{connector.base_url}/admin/api/deliveries", params={"state": state},
                                        headers=operator, timeout=10).json():
                    http.post(f"{connector.base_url}/admin/api/deliveries/{waiting['eventId']}/replay",
                              headers=operator, timeout=10)
            return sum(1 for note in notes() if "crash round" in note) >= len(sent)
        wait_until(all_delivered, 120, "not every update reached the incident")
        applied = [line for note in notes() for line in note.splitlines() if line.startswith("crash round")]
        assert applied == sent, applied
        parked = http.get(f"{connector.base_url}/admin/api/deliveries", params={"state": "parked"},
                          headers=operator, timeout=10).json()
        assert parked == [], parked
    finally:
        if desk.process and desk.process.poll() is None:
            desk.kill()
        microsoft.stop()
