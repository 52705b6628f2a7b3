#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with only Python 3.11: creates .venv if needed,
# installs the project with its test extras, makes sure Debian's chromium is there for the
# browser tests, with a CJK font so their screenshots show the Chinese (when we are root and apt
# is available), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "note: could not install chromium; browser tests will be skipped" >&2
fi
set +e
# two workers (pytest-xdist): a later -n in the arguments wins, e.g. -n 0 to run in one process
.venv/bin/python -m pytest -n 2 "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi
exit "$rc"
