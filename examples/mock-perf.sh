#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mock-perf.sh: mock-data performance analysis with gst-launch pipelines.
# A server sends mock RTP (no codec: each payload carries a sequence number
# and its send time), a relay pipeline forwards it, client pipelines receive
# it and hand every packet on to a local probe that reports the one-way
# delay (server send -> out of the client pipeline), loss and duplicates.
#
#   examples/mock-perf.sh [-n CLIENTS] [-c CLIENT_NAMESPACES] [-s SECONDS]
#       [-r PACKETS_PER_S] [--size BYTES] [--mode kernel|userspace|auto]
#       [--relay PIPELINE] [--client PIPELINE|none] [--build DIR]
#       [--plugin-path DIR] [--keep DIR]
#
# Defaults: 4 clients in 2 client namespaces, 10 s at 2000 packets/s of
# 1200 bytes, mode=kernel. Namespaces ebrm-PID-* (tests/lib/ebr.sh
# topology), removed on exit.
#
# Server: bench-send --rtp (bench/bench-send.c): RTP version 2, payload type
# 96, 90 kHz timestamps, then the record. It is a small C tool because no
# gst-launch element writes the wall-clock send time of each packet into
# its payload.
#
# Your own pipelines: --relay and --client take gst-launch-1.0 descriptions
# with placeholders:
#   @PORT@     the stream's port at the relay (5004), or the client's port
#   @CLIENTS@  host:port,... of every subscriber (relay)
#   @MODE@     --mode (relay)
#   @CAPS@     application/x-rtp caps of the mock stream
#   @OUT@      the probe's port on 127.0.0.1 (client): end your client
#              pipeline with `udpsink host=127.0.0.1 port=@OUT@`, sending
#              the RTP packets as they are (depayloading would drop the
#              record the probe reads)
# Default relay:
#   udpsrc port=@PORT@ caps="@CAPS@" ! ebpfrelaysink mode=@MODE@ clients=@CLIENTS@
# Default client:
#   udpsrc port=@PORT@ caps="@CAPS@" ! queue ! udpsink host=127.0.0.1 port=@OUT@ sync=false
# --client none: the probe listens on the subscriber ports itself (the
# delay of the network path alone, to subtract from a client pipeline's).
# Examples:
#   examples/mock-perf.sh --mode userspace
#   examples/mock-perf.sh --relay 'udpsrc port=@PORT@ ! multiudpsink clients=@CLIENTS@'
#   examples/mock-perf.sh --client 'udpsrc port=@PORT@ caps="@CAPS@" ! rtpjitterbuffer latency=20 ! udpsink host=127.0.0.1 port=@OUT@ sync=false'
set -uo pipefail

# shellcheck source=../tests/lib/ebr.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/ebr.sh"

NCLIENTS=4
NCLINS=2
SECS=10
RATE=2000
SIZE=1200
MODE=kernel
BUILD=$EBR_LIB_ROOT/build
PLUGIN_PATH=
KEEP=
CAPS='application/x-rtp,media=application,clock-rate=90000,encoding-name=X-EBR-MOCK,payload=96'
RELAY='udpsrc port=@PORT@ caps="@CAPS@" ! ebpfrelaysink mode=@MODE@ clients=@CLIENTS@'
CLIENT='udpsrc port=@PORT@ caps="@CAPS@" ! queue ! udpsink host=127.0.0.1 port=@OUT@ sync=false'
SRC_PORT=5004
BASE_PORT=6000
OUT_OFFSET=1000

usage () { sed -n '9,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case $1 in -h|--help) usage ;; *) usage ;; esac
  case $1 in
    -n) NCLIENTS=$2 ;;
    -c) NCLINS=$2 ;;
    -s) SECS=$2 ;;
    -r) RATE=$2 ;;
    --size) SIZE=$2 ;;
    --mode) MODE=$2 ;;
    --relay) RELAY=$2 ;;
    --client) CLIENT=$2 ;;
    --build) BUILD=$2 ;;
    --plugin-path) PLUGIN_PATH=$2 ;;
    --keep) KEEP=$2 ;;
    *) usage ;;
  esac
  shift 2
done
for v in "$NCLIENTS" "$NCLINS" "$SECS" "$RATE" "$SIZE"; do
  case $v in ''|*[!0-9]*) usage ;; esac
done
[ "$NCLIENTS" -ge 1 ] && [ "$NCLIENTS" -le 1000 ] || { echo "1..1000 clients" >&2; exit 2; }
[ "$NCLINS" -ge 1 ] && [ "$NCLINS" -le 16 ] || { echo "1..16 client namespaces" >&2; exit 2; }
[ "$NCLINS" -le "$NCLIENTS" ] || NCLINS=$NCLIENTS
[ "$SECS" -ge 1 ] && [ "$SECS" -le 600 ] || { echo "1..600 seconds" >&2; exit 2; }

SEND=$BUILD/bench/bench-send
RECV=$BUILD/bench/bench-recv
for t in "$SEND" "$RECV"; do
  [ -x "$t" ] || { echo "$t not built (meson setup $BUILD && ninja -C $BUILD)" >&2; exit 1; }
done
ebr_have_netns || { echo "needs root and 'ip netns'" >&2; exit 1; }
export GST_PLUGIN_PATH=${PLUGIN_PATH:-$BUILD/gst-plugin}

P=ebrm-$$
WORK=$(mktemp -d /tmp/mock-perf.XXXXXX)
cleanup ()
{
  ebr_stop_all 50
  ebr_topology_down "$P"
  if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/ && echo "logs and CDF in $KEEP"
  fi
  rm -rf "$WORK"
}
ebr_on_exit cleanup

# subst TEMPLATE PORT OUT CLIENTS
subst ()
{
  local s=$1
  s=${s//@PORT@/$2}
  s=${s//@OUT@/$3}
  s=${s//@CLIENTS@/$4}
  s=${s//@MODE@/$MODE}
  s=${s//@CAPS@/$CAPS}
  printf '%s' "$s"
}

ebr_topology_up "$P" "$NCLINS" || { echo "cannot build the topology" >&2; exit 1; }
echo "topology $P: server, relay, $NCLINS client namespace(s); $NCLIENTS client(s)"
for k in $(seq 1 "$NCLINS"); do
  ebr_reach "$P-rel" "10.200.$(ebr_cli_net "$k").2" || { echo "relay cannot reach client $k" >&2; exit 1; }
done

# subscribers: round-robin over the client namespaces
declare -A ports_of
subs=()
for i in $(seq 0 $(( NCLIENTS - 1 ))); do
  k=$(( i % NCLINS + 1 ))
  port=$(( BASE_PORT + i / NCLINS ))
  subs+=("10.200.$(ebr_cli_net "$k").2:$port")
  ports_of[$k]="${ports_of[$k]:-} $port"
done
clients=$(IFS=,; echo "${subs[*]}")
max_seq=$(( RATE * SECS + 1000 ))

# probes and client pipelines
for k in $(seq 1 "$NCLINS"); do
  list=$(echo ${ports_of[$k]} | tr ' ' ',')
  if [ "$CLIENT" = none ]; then
    ip netns exec "$P-cli$k" "$RECV" recv --ports "$list" --max-seq "$max_seq" \
      --out "$WORK/probe$k.txt" --timeout $(( SECS + 60 )) --idle-ms 600000 \
      >"$WORK/probe$k.log" 2>&1 &
  else
    outs=$(for p in ${ports_of[$k]}; do echo $(( p + OUT_OFFSET )); done | paste -sd,)
    ip netns exec "$P-cli$k" "$RECV" recv --bind 127.0.0.1 --ports "$outs" \
      --max-seq "$max_seq" --out "$WORK/probe$k.txt" --timeout $(( SECS + 60 )) \
      --idle-ms 600000 >"$WORK/probe$k.log" 2>&1 &
    desc=""
    for p in ${ports_of[$k]}; do
      desc="$desc $(subst "$CLIENT" "$p" $(( p + OUT_OFFSET )) "$clients")"
    done
    # One gst-launch per client namespace, one branch per client. The
    # description is split into words as a shell would (quotes in caps),
    # without a subshell, so that $! is the process itself.
    eval "set -- $desc"
    ip netns exec "$P-cli$k" timeout -s INT $(( SECS + 60 )) gst-launch-1.0 -q "$@" \
      >"$WORK/client$k.log" 2>&1 </dev/null &
    for p in ${ports_of[$k]}; do
      ebr_wait_udp "$P-cli$k" 150 "$p" || { echo "client pipeline in $P-cli$k did not bind $p:"; cat "$WORK/client$k.log"; exit 1; } >&2
    done
  fi
done

relay_desc=$(subst "$RELAY" $SRC_PORT 0 "$clients")
echo "relay: gst-launch-1.0 ${relay_desc:0:200}$([ ${#relay_desc} -gt 200 ] && echo ...)"
[ "$CLIENT" = none ] || echo "client: gst-launch-1.0 $(subst "$CLIENT" '<port>' '<probe port>' '')"
eval "set -- $relay_desc"
ip netns exec "$P-rel" timeout -s INT $(( SECS + 60 )) gst-launch-1.0 -q "$@" \
  >"$WORK/relay.log" 2>&1 </dev/null &
RELAY_PID=$!
ebr_wait_udp "$P-rel" 150 $SRC_PORT || { echo "the relay pipeline did not bind port $SRC_PORT:" >&2; cat "$WORK/relay.log" >&2; exit 1; }
sleep 1
# A short warm-up the probes do not count (sequence numbers out of range).
ip netns exec "$P-srv" "$SEND" 10.200.1.2 $SRC_PORT --rtp --rate 1000 --count 50 \
  --first-seq 100000000000 >/dev/null
sleep 0.5

echo "server: bench-send --rtp, $RATE packets/s of $SIZE bytes for $SECS s"
sent_line=$(ip netns exec "$P-srv" timeout $(( SECS + 10 )) "$SEND" 10.200.1.2 $SRC_PORT \
  --rtp --rate "$RATE" --duration "$SECS" --size "$SIZE")
echo "server: $sent_line"
sleep 1
ebr_running $RELAY_PID || { echo "the relay pipeline exited:" >&2; tail -n 5 "$WORK/relay.log" >&2; }
# SIGINT to every job (a `timeout` passes it on to its gst-launch, which
# stops), then SIGKILL to what is left, its children first.
ebr_stop_all 50

sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$sent_line")
summary=$("$RECV" merge --sent "$sent" --cdf "$WORK/delay-cdf.txt" "$WORK"/probe*.txt) || exit 1
echo "clients: $summary"
awk -v s="$summary" 'BEGIN {
  n = split(s, f, " ")
  for (i = 1; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
  printf "delay server -> client output: p50 %s us, p99 %s us, max %s us; lost %s of %s (%s %%), duplicates %s\n",
    v["p50_us"], v["p99_us"], v["max_us"], v["lost"], v["expected"], v["loss_pct"], v["dup"]
}'
