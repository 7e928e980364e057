#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs the chat through the
# kernel path in network namespaces (non-interactive).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
export GST_PLUGIN_PATH="$PWD/build/gst-plugin"
exec bash examples/chat.sh --demo "$@"
