#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test,
# and ends with one line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
rc=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || rc=$?
python3 - build/meson-logs/testlog.json <<'PY' || true
import json, sys
res = {}
for line in open(sys.argv[1]):
    t = json.loads(line)
    res[t["result"]] = res.get(t["result"], 0) + 1
ok = res.get("OK", 0) + res.get("EXPECTEDFAIL", 0)
skip = res.get("SKIP", 0)
fail = sum(v for k, v in res.items() if k not in ("OK", "EXPECTEDFAIL", "SKIP"))
print(f"{ok} passed, {fail} failed, {skip} skipped")
PY
exit $rc
