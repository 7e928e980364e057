#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test,
# and ends with one line "N passed, N failed, N skipped".
#
# --sanitize: instead, builds into build-asan with
# -Db_sanitize=address,undefined and runs the gst-check and unit tests
# there (not the e2e and fuzz suites). GStreamer and GLib are not built
# with ASan: its runtime is preloaded (gst-plugin-scanner and the tests'
# children load the instrumented plugin), the registry is scanned in the
# test's own process (GST_REGISTRY_FORK=no), and LeakSanitizer ignores only
# GLib's and GStreamer's own one-time allocations (scripts/lsan.supp).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
dir=build
if [ "${1:-}" = "--sanitize" ]; then
  shift
  dir=build-asan
  # (-fno-sanitize=alignment: GStreamer's GST_READ_UINT*_BE are plain
  # unaligned loads where the CPU allows them, by design)
  [ -f $dir/build.ninja ] || meson setup $dir -Dtests=enabled -Dfuzz=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize=alignment
  ninja -C $dir
  export GST_REGISTRY_FORK=no G_SLICE=always-malloc G_DEBUG=gc-friendly
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0:fast_unwind_on_malloc=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
  set -- --wrapper "$PWD/scripts/asan-wrap.sh" --no-suite e2e --no-suite fuzz "$@"
else
  bash scripts/build.sh
fi
rc=0
meson test -C $dir --print-errorlogs --num-processes 2 "$@" || rc=$?
log=$(ls -t $dir/meson-logs/testlog*.json | head -n 1)
# The end-to-end tests time real pipelines in namespaces on a 2-core
# machine; one that fails is run once more, alone, and the summary names
# it: a test that fails twice fails the suite, and no other test is ever
# run again.
again=$(python3 - "$log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    # names are "project:suite / test"
    suite, _, name = t["name"].partition(" / ")
    if t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and suite.endswith(":e2e"):
        print(name)
PY
)
all_e2e=$(python3 - "$log" <<'PY'
import json, sys
bad = [json.loads(l) for l in open(sys.argv[1])]
bad = [t for t in bad if t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP")]
print(int(bool(bad) and all(t["name"].partition(" / ")[0].endswith(":e2e") for t in bad)))
PY
)
rerun_ok=0
# (the rerun writes its own testlog.json: the summary is of the first run)
cp "$log" "$log.first"
log=$log.first
if [ $rc -ne 0 ] && [ -n "$again" ] && [ "$all_e2e" = 1 ] && [ $(wc -l <<<"$again") -le 3 ]; then
  echo "== run once more, alone: $(echo $again)"
  # shellcheck disable=SC2086
  if meson test -C $dir --print-errorlogs --num-processes 1 $again; then
    rerun_ok=1
    rc=0
  fi
fi
python3 - "$log" "$rerun_ok" "$(echo $again)" <<'PY' || true
import json, sys
res = {}
for line in open(sys.argv[1]):
    t = json.loads(line)
    res[t["result"]] = res.get(t["result"], 0) + 1
ok = res.get("OK", 0) + res.get("EXPECTEDFAIL", 0)
skip = res.get("SKIP", 0)
fail = sum(v for k, v in res.items() if k not in ("OK", "EXPECTEDFAIL", "SKIP"))
if sys.argv[2] == "1":
    print(f"{ok + fail} passed ({fail} of them on a second run, alone: {sys.argv[3]}), 0 failed, {skip} skipped")
else:
    print(f"{ok} passed, {fail} failed, {skip} skipped")
PY
exit $rc
