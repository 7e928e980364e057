#!/bin/sh
# scripts/asan-wrap.sh TEST [ARGS...]: runs one test of build-asan with the
# ASan and UBSan runtimes preloaded (GStreamer, GLib and the
# gst-plugin-scanner are not instrumented; the plugin is), for
# scripts/test.sh --sanitize (meson test --wrapper). Only the test gets
# the preload, not meson itself.
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD
exec "$@"
