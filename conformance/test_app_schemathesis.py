"""Schemathesis against the Microsoft 365 support app's scripted REST API (docs/openapi/m365-support-app.yaml) on a
fresh `serve`: generated and mutated requests to every setup step (as the desk admin) and to the inbound events API
(as the integration user, once basic mode is configured) find no 5xx and no answer outside the document."""
import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Serve

DOCUMENT = Path(__file__).parent.parent / "docs" / "openapi" / "m365-support-app.yaml"


@pytest.fixture(scope="module")
def fresh():
    serve = Serve()
    yield serve
    serve.stop()


def schemathesis(serve: Serve, user: str, path_regex: str, report_dir: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("schemathesis") or str(Path(os.sys.executable).parent / "schemathesis")
    if not Path(binary).exists():
        pytest.skip("schemathesis is not installed (pip install -r conformance/requirements.txt)")
    password = serve.desk.user(user)["password"]
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return subprocess.run(
        [binary, "run", str(DOCUMENT), "--url", serve.desk.base_url, "--include-path-regex", path_regex,
         "--tls-verify", serve.ca_file, "-H", f"Authorization: Basic {basic}",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--phases", "examples,coverage,fuzzing", "--max-examples", os.environ.get("M365_SCHEMATHESIS_EXAMPLES", "30"),
         "--generation-deterministic", "--report-dir", str(report_dir)],
        capture_output=True, text=True, timeout=900, env=dict(os.environ, SCHEMATHESIS_HOOKS=""))


def test_generated_setup_steps_find_no_server_error_and_no_answer_outside_the_schema(fresh, tmp_path):
    result = schemathesis(fresh, "desk.admin", "^/api/x_mioms_m365_assis/v1/setup", tmp_path)
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "generated" in result.stdout, result.stdout[-2000:]


def test_generated_events_find_no_server_error_once_basic_mode_is_set_up(fresh, tmp_path):
    fresh.identity.cli(
        "demo", "configure", "--mode", "basic", "--identity-url", fresh.identity.base_url,
        "--connector-url", fresh.connector.base_url, "--desk-url", fresh.desk.base_url)
    result = schemathesis(fresh, "m365.integration", "^/api/x_mioms_m365_assis/v1/events", tmp_path)
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "generated" in result.stdout, result.stdout[-2000:]
