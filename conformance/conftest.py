"""Starts `m365-support serve` (Identity, the Connector and the desk) in a fresh data folder and hands tests their URLs and
demo credentials."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import msal
import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("M365_SCREENSHOT_DIR", REPO / ".ci-artifacts" / "screenshots"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a skip there means a missing dependency, which is a broken run."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every conformance test: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped in CI, which must run every conformance test: {report.longrepr}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningIdentity:
    def __init__(self, base_url: str, ca_file: str, demo: dict, data_dir: Path, binary: str):
        self.base_url = base_url
        self.ca_file = ca_file
        self.demo = demo
        self.data_dir = data_dir
        self.binary = binary

    @property
    def domain(self) -> str:
        return self.demo["tenantDomain"]

    @property
    def tenant_id(self) -> str:
        return self.demo["tenantId"]

    @property
    def client_id(self) -> str:
        return self.demo["clientApp"]["appId"]

    @property
    def client_secret(self) -> str:
        return self.demo["clientApp"]["secret"]

    def session(self) -> requests.Session:
        s = requests.Session()
        # Not the environment's CA bundle: a second `serve` in the same run has a CA of its own.
        s.trust_env = False
        s.verify = self.ca_file
        return s

    def cli(self, *args, stdin=None, timeout=120) -> str:
        """`m365-support ARGS --data-dir DATA` on the running server's data folder; its standard output."""
        result = subprocess.run([self.binary, *args, "--data-dir", str(self.data_dir)],
                                capture_output=True, text=True, timeout=timeout, input=stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout


class RunningDesk:
    def __init__(self, base_url: str, demo: dict):
        self.base_url = base_url
        self.demo = demo

    def user(self, name: str) -> dict:
        return next(u for u in self.demo["users"] if u["userName"] == name)


class RunningConnector:
    def __init__(self, base_url: str, demo: dict, data_dir: Path):
        self.base_url = base_url
        self.demo = demo
        self.data_dir = data_dir

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "connector-admin-token").read_text().strip()

    def client_token(self, identity) -> str:
        """An app token of the demo Connector client (both roles), from Identity through MSAL."""
        client = self.demo["client"]
        app = msal.ConfidentialClientApplication(
            client["appId"], client_credential=client["secret"], authority=f"{identity.base_url}/{identity.tenant_id}",
            instance_discovery=False, http_client=identity.session())
        result = app.acquire_token_for_client([f"{self.demo['resource']}/.default"])
        assert "access_token" in result, result
        return result["access_token"]


SEMANTIC_MODEL = REPO / "data" / "models" / "all-MiniLM-L6-v2"


class Serve:
    """`m365-support serve` in a fresh data folder on free loopback ports, until `stop`; with the sentence
    encoder scripts/install-semantic-model.sh installed, when it is there."""

    def __init__(self):
        self.binary = os.environ.get("M365_BIN", str(REPO / ".build" / "debug" / "m365-support"))
        self.root = Path(tempfile.mkdtemp(prefix="m365-conformance-"))
        ports = [free_port() for _ in range(3)]
        self.log = open(self.root / "server.log", "w")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", str(self.root / "data"), "--identity-port", str(ports[0]),
             "--desk-port", str(ports[1]), "--connector-port", str(ports[2])],
            stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ, LOG_LEVEL="notice", **semantic_model()),
        )
        urls = [f"https://127.0.0.1:{port}" for port in ports]
        self.ca_file = str(self.root / "data" / "tls" / "ca.pem")
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"m365-support exited early: {(self.root / 'server.log').read_text()}")
            try:
                if all(requests.get(url + "/healthz", verify=self.ca_file, timeout=2).status_code == 200
                       for url in urls):
                    break
            except (requests.RequestException, OSError):
                pass
            if time.monotonic() > deadline:
                self.process.terminate()
                raise RuntimeError("m365-support did not answer /healthz within 60 s")
            time.sleep(0.2)
        demo = json.loads((self.root / "data" / "demo.json").read_text())
        self.identity = RunningIdentity(urls[0], self.ca_file, demo["identity"], self.root / "data", self.binary)
        self.desk = RunningDesk(urls[1], demo["desk"])
        self.connector = RunningConnector(urls[2], demo["connector"], self.root / "data")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def semantic_model() -> dict:
    if (SEMANTIC_MODEL / "model.safetensors").exists():
        return {"M365_CONNECTOR_SEMANTIC_MODEL": str(SEMANTIC_MODEL)}
    return {}


@pytest.fixture(scope="session")
def services():
    serve = Serve()
    # requests honours these over Session.verify on this machine; point them at the dev CA for this process.
    os.environ["REQUESTS_CA_BUNDLE"] = serve.ca_file
    os.environ["CURL_CA_BUNDLE"] = serve.ca_file
    yield serve.identity, serve.desk, serve.connector
    serve.stop()


@pytest.fixture(scope="session")
def identity(services):
    return services[0]


@pytest.fixture(scope="session")
def desk(services):
    return services[1]


@pytest.fixture(scope="session")
def connector(services):
    return services[2]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through chromedriver, one per test module (so cookies do not leak between modules)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        message = "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    # The dev CA is not in Chromium's store; the TLS trust itself is covered by the other conformance tests.
    options.add_argument("--ignore-certificate-errors")
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
