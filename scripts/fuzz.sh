#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [NAME...]: runs every libFuzzer target of
# tests/fuzz (or the NAMEs given: control, cookie, classify, framemarking,
# rtcp-viewer, rtcp-sender) for SECONDS each (default 60), one after the other, from
# the checked-in seeds. New inputs go to build/tests/fuzz/work-NAME (kept
# between runs); a crash is written there as crash-* and ends the run
# with exit code 1. Builds first (needs clang and its fuzzer runtime,
# scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [NAME...]" >&2; exit 2 ;; esac
bash scripts/build.sh >/dev/null
if [ $# -eq 0 ]; then
  set -- $(ls tests/fuzz/corpus)
fi
rc=0
for name in "$@"; do
  exe=build/tests/fuzz/fuzz-$name
  if [ ! -x "$exe" ]; then
    echo "fuzz-$name: not built (meson -Dfuzz=enabled needs clang's fuzzer runtime)" >&2
    exit 1
  fi
  echo "== fuzz-$name: ${secs} s"
  if tests/fuzz/run-fuzz.sh "$exe" "tests/fuzz/corpus/$name" \
      "build/tests/fuzz/work-$name" -max_total_time="$secs" 2>"build/tests/fuzz/fuzz-$name.log"; then
    tail -n 1 "build/tests/fuzz/fuzz-$name.log"
  else
    echo "fuzz-$name FAILED: see build/tests/fuzz/fuzz-$name.log and build/tests/fuzz/work-$name/crash-*"
    rc=1
  fi
done
exit $rc
