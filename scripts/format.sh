#!/usr/bin/env bash
# Formats the C sources in their styles: gst-indent's (GNU indent with
# GStreamer's options, 2 spaces) for gst-plugin/*.c, kernel style
# (bpf/.clang-format) for bpf/. Headers in gst-plugin/ are left to hand
# (GNU indent misreads G_BEGIN_DECLS), as in GStreamer. Needs indent and
# clang-format (apt-get install indent clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
for f in gst-plugin/*.c; do
  indent --braces-on-if-line --case-brace-indentation0 --case-indentation2 \
    --braces-after-struct-decl-line --line-length80 --no-tabs --cuddle-else \
    --dont-line-up-parentheses --continuation-indentation4 --honour-newlines \
    --tab-size8 --indent-level2 --leave-preprocessor-space "$f"
  rm -f "$f~"
done
clang-format -i --style=file bpf/*.c bpf/*.h
