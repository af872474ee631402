#!/usr/bin/env bash
# Writes the Connector's OpenAPI document as JSON (served at /api/v1/openapi.json) from docs/openapi/connector.yaml,
# the document people edit. A test checks that the two describe the same routes.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"), indent=1, sort_keys=True); open(sys.argv[2], "a").write("\n")' \
  docs/openapi/connector.yaml Sources/Connector/Resources/openapi.json
