#!/bin/sh
# run-fuzz.sh FUZZER SEEDS WORK [libFuzzer options...]: a bounded libFuzzer
# run from the checked-in seeds. New inputs go to WORK (in the build
# tree), never into the source tree; a crash writes WORK/crash-* and
# fails the test (exit code 1).
set -eu
fuzzer=$1 seeds=$2 work=$3
shift 3
mkdir -p "$work/corpus"
export G_SLICE=always-malloc
# Leaks: libFuzzer checks each input (an input whose mallocs outnumber its
# frees is checked by LeakSanitizer). Not at exit: GLib's library
# constructors allocate once and never free (16 KB), and its stacks (no
# frame pointers) are too short for a suppression to tell them apart.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:leak_check_at_exit=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# libFuzzer's default error exit code is 77, which meson takes for a skip
exec "$fuzzer" -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$work/" -max_len=2048 "$@" \
  "$work/corpus" "$seeds"
