"""Schemathesis against the Connector's own API as served (`/api/v1/openapi.json`), with the demo desk app's token:
generated and mutated requests for every `/api/v1` operation find no 5xx and no answer outside the document."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_connector_solutions import set_app_id

HERE = Path(__file__).parent


def test_generated_requests_find_no_server_error_and_no_answer_outside_the_schema(identity, connector, tmp_path):
    binary = shutil.which("schemathesis") or str(Path(os.sys.executable).parent / "schemathesis")
    if not Path(binary).exists():
        pytest.skip("schemathesis is not installed (pip install -r conformance/requirements.txt)")
    before = set_app_id(identity, connector, connector.demo["client"]["appId"])
    try:
        result = subprocess.run(
            [binary, "run", f"{connector.base_url}/api/v1/openapi.json", "--url", connector.base_url,
             "--include-path-regex", "^/api/v1/", "--tls-verify", identity.ca_file,
             "-H", f"Authorization: Bearer {connector.client_token(identity)}",
             "--checks", "not_a_server_error,response_schema_conformance",
             "--phases", "examples,coverage,fuzzing", "--max-examples", os.environ.get("M365_SCHEMATHESIS_EXAMPLES", "30"),
             "--generation-deterministic", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=900, env=dict(os.environ, SCHEMATHESIS_HOOKS=""))
        print(result.stdout[-3000:])
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert "operations" in result.stdout.lower(), result.stdout[-2000:]
    finally:
        set_app_id(identity, connector, before)
