#!/usr/bin/env bash
# The demo: installs what is missing, builds, then runs, in network
# namespaces and through the kernel path (non-interactive):
#   1. examples/video.sh --demo: H.264 from an rtpbin sender through the
#      relay to rtpbin viewers at limits 0, 1 and 7 and one joining late;
#      per viewer frames decoded, time from join to first frame, packets
#      received, packets dropped for it at the relay, decoder errors, SRs
#      received, fraction lost and round-trip time from its RRs;
#   2. examples/chat-priority.sh --demo: a chat with a high and a low line,
#      clients at limits 0 and 7.
# Arguments go to video.sh (e.g. -d 10 -o frames/ keeps the PNGs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
export GST_PLUGIN_PATH="$PWD/build/gst-plugin"
rc=0
bash examples/video.sh --demo "$@" || rc=1
echo
bash examples/chat-priority.sh --demo || rc=1
exit $rc
