#!/usr/bin/env bash
# Installs what gst-ebpf-relay needs on Debian 12 (or newer), as root.
# Does nothing when everything is there already.
set -euo pipefail

PKGS=(
  # build
  meson ninja-build pkg-config gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  linux-libc-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  # ebpfrelaysink's Prometheus endpoint (metrics-port)
  libsoup-3.0-dev
  # the fuzz suite (tests/fuzz): clang's libFuzzer and sanitizer runtimes, for
  # the default clang (Debian 12: libclang-rt-14-dev)
  libclang-rt-dev
  # run: gst-launch-1.0, udpsrc/udpsink/filesink, codecs for the video example
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  # network namespaces, veth, tc, ping; nftables for loss injection (netem
  # is not available on every kernel)
  iproute2 iputils-ping nftables
  # checksum offload off on a veth (e2e-anyup: copies checksummed in software)
  ethtool
  # the clients users have, in the tests: ffmpeg and tshark as viewers and
  # dissectors, GStreamer's Python bindings (system python3) for rtpbin's
  # session statistics
  ffmpeg tshark python3-gi gir1.2-gstreamer-1.0
  # a real Prometheus server scraping the relay, and promtool checking its
  # /metrics (tests/e2e/e2e-prometheus.sh, e2e-metrics-http.sh)
  prometheus
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
