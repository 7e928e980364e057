#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/run.sh: one-way delay, loss, relay CPU and highest sustainable rate
# of four ways to get a UDP stream from a server to N subscribers, measured
# side by side in one run, in network namespaces this script makes
# (tests/lib/ebr.sh topology; removed on exit, also on failure).
#
#   bench/run.sh [--quick] [--build DIR] [--plugin-path DIR] [--out DIR]
#                [--sizes "1 10 100 1000"] [--paths "floor multiudpsink
#                userspace kernel"] [--repeat R] [--no-sweep] [--no-drop] [--no-probe]
#                [--plots DIR] [--perf] [--rps MASK] [--video-rate R]
#                [--base-plugin-path DIR] [--rtp] [--connect]
#                [--loss PCT] [--loss-sizes "100"] [--loss-paths "kernel"]
#                [--no-loss] [--only-loss] [--server [SECONDS]] [--ipv6]
#
# Paths (the relay pipelines run with gst-launch-1.0 in the relay namespace):
#   floor         no relay process: the relay namespace only routes
#                 (ip_forward) and the server sends to the client's address.
#                 One destination, so N = 1 only.
#   multiudpsink  udpsrc port=5004 ! multiudpsink clients=...
#   userspace     udpsrc port=5004 ! ebpfrelaysink mode=userspace clients=...
#   kernel        udpsrc port=5004 ! ebpfrelaysink mode=kernel clients=...
#   kernel-consume  the same with pass-original=false: the kernel consumes
#                 the packets it forwards (the last copy is the packet
#                 itself), the relay process no longer gets each original
#                 (not in the default paths; --paths "... kernel-consume")
#   PATH@base     any relay path above, run with the plugin in
#                 --base-plugin-path DIR (another build, e.g. an older
#                 commit's) instead of --plugin-path's: --paths "kernel
#                 kernel@base" runs both, interleaved, in every repeat, with
#                 the same bench tools and traffic (the bench tools always
#                 come from --build)
#
# --ipv6: IPv4 against IPv6 in one run (issue 14's bench). The topology is
# made dual stack (tests/lib/ebr.sh ebr_topology_v6: fd00:200:N::/64 on the
# same veths) and every path PATH of --paths may also be given as PATH.v6:
# the same pipeline, but the server sends over IPv6 to the relay's
# fd00:200:1::2 (udpsrc address=::), the subscribers are IPv6
# ([fd00:200:N::2]:port) and the receivers bind ::. multiudpsink's clients
# property cannot take an IPv6 literal (it splits host:port at the first
# colon): its v6 subscribers are names, ebr-cliK-v6, that the relay
# namespace's own hosts file (/etc/netns/NS/hosts, which `ip netns exec`
# mounts over /etc/hosts; removed on exit) resolves to AAAA only. Defaults with --ipv6: --paths "floor floor.v6
# multiudpsink multiudpsink.v6 kernel kernel.v6" --sizes "1 100", the video
# phase only (probe, sweep, drop and loss are IPv4 tools: --ipv6 turns them
# off); each repeat runs a path's v4 and v6 back to back, and the table adds
# each .v6 path's p50/p99 over its IPv4 twin's, per repeat and as medians.
#
# --server [SECONDS]: the server case instead (issue 13's bench; default 3 s
# a run): the relay namespace's process makes the stream itself, mock RTP
# from appsrc (bench-server: 12-byte RTP header, PT 96 with no codec, so
# priority 7, then the bench record; --video-rate buffers/s of 1200 bytes),
# through `ebpfrelaysink mode=kernel` (each buffer once to lo, the kernel's
# copies) and through `multiudpsink`, to N = --sizes subscribers (default
# "10 100"). Per run: the sending process's CPU per copy = its on-CPU time
# over the sending window, all threads (schedstat; it includes the softirq
# work done in its context: the TC program, the clones' transmit and the
# veth receive they trigger, for both sinks alike, since this kernel has no
# IRQ_TIME_ACCOUNTING) / (buffers x N); the same plus the ksoftirqd threads'
# time over the window (deferred softirq work, machine-wide); and each
# subscriber's delay (push -> its socket's receive timestamp), p50/p99/max
# over all of them, loss. Each N and sink runs twice: "recv" with bench-recv
# receivers (the delay; the CPU then includes the receivers' socket delivery,
# which the softirq does in the sender's context, for both sinks) and
# "drop" with every client namespace dropping at its veth's TCX ingress
# (bench-bpf drop: the sender's own cost). us_net_copy subtracts the
# harness's own cost per buffer (appsrc ! fakesink: appsrc, its streaming
# thread, the pacing), the same for both sinks. Output OUT/server.tsv and a
# table.
# EBR_BENCH_RELAY_OPTS: more ebpfrelaysink properties (e.g. nack-cache=0).
#
# --connect: the sender (bench-send) connects its socket and sends with
# send(), its route looked up once; by default it sends with sendto() on an
# unconnected socket, as GStreamer's udpsink and ffmpeg do, a route look-up
# per datagram, which costs IPv6 (fib6) about 2-3 us more than IPv4 here:
# that part of an IPv6 path's delay is the sender's, not the relay's.
# --rtp: the sender puts a 12-byte RTP header (payload type 96, no codec in
# the relay's caps: priority 7, never dropped) before the record, so that
# the relay's RTP work (switch state, per-subscriber SR counts) runs; the
# relay's udpsrc then has caps application/x-rtp with clock-rate=90000
# (the kernel's upstream jitter runs too).
#
# N subscribers are ports 6000.. spread over min(N, 4) client namespaces,
# one bench-recv (epoll + recvmmsg over all its sockets) per namespace.
# Delay per datagram = the receiving socket's kernel timestamp
# (SO_TIMESTAMPNS) - the CLOCK_REALTIME the sender wrote into it just
# before sendto (same host, same clock).
#
# Phases:
#   video  2000 datagrams/s (--video-rate) of 1200 bytes, R repeats (default
#          3; 1 quick)
#   sweep  rising input rates; the highest with loss < 0.1 % and p99 < 1 ms,
#          at the rate the sender really achieved (a failing step is tried
#          once more before the sweep stops)
#   probe  video rate again, but only two subscribers receive: the first
#          and the last of the N in the relay's list (both in client
#          namespace 1); the other N - 2 are in namespaces that drop IPv4 at
#          their veth's TCX ingress. The delay then no longer includes the
#          CPU the other receivers take from the relay (the kernel path
#          runs in softirq, which preempts them; a userspace relay waits
#          for a CPU like they do), and shows the fan-out position effect.
#   loss   repair at the relay (issue 10): mock RTP (as --rtp) at the video
#          rate to N subscribers (--loss-sizes, default 100) whose links
#          each drop PCT % (--loss, default 1) of the media datagrams at
#          random (nftables numgen in each client namespace, counted), and
#          once more with no loss, side by side, R repeats; every receiver
#          NACKs its gaps as a viewer's RTP stack does (bench-recv --nack:
#          at once, again every 20 ms, at most 5 times) from the RTCP port
#          its clients entry names (port + 10000), and the relay answers
#          from its packet cache. Reported (OUT/loss.tsv, the table):
#          recovered / lost, retransmissions / datagrams dropped (the
#          retransmissions' bytes over the lost bytes: same size), the
#          relay's extra CPU per retransmission (its CPU with loss less its
#          CPU without, over the retransmissions), and the fast path's
#          p50/p99 (datagrams that were never NACKed) against the run
#          without loss. The relay runs under tests/tools/launch-stats, which
#          prints its stats (nack-resent) at the end.
#   drop   the kernel path (and the two userspace relays for comparison)
#          with every client namespace dropping IPv4 at its veth's TCX
#          ingress (bench-bpf drop): no receiving sockets share the CPUs,
#          what is left is the relay's own cost; BPF run-time statistics
#          are on during this phase only (BPF_ENABLE_STATS, held by
#          bench-bpf stats), giving the TC program's ns per packet.
#
# CPU: relay = user + system of the relay's gst-launch (all threads, from
# /proc/PID/task/*/schedstat, exact); sender and receivers from their own
# getrusage; softirq and busy = deltas of /proc/stat's cpu line (WHOLE
# MACHINE, sampled by the 250 Hz tick: this kernel has no
# IRQ_TIME_ACCOUNTING, and the softirq work done inline in a process's
# context is also in that process's system time). On this machine other
# people's processes may run at the same time: the load average is recorded
# with every row.
#
# --perf: during the drop phase, `perf record -a -g` over each run's sending
# window; OUT/runs/drop-*/perf.txt has the hottest kernel symbols (self
# time, with callers), perf-children.txt the cumulative time per symbol.
# --rps MASK: receive packet steering on the relay's up0 (rps_cpus = MASK,
# hex), so that the relay namespace's receive path, TC program included,
# runs on those CPUs instead of in the sending process's softirq (on veths
# the sender's CPU otherwise does the relay's kernel work, as a NIC's
# interrupt CPU would).
#
# Progress: before each run, on stderr, the phase, N, path and rate, the
# run's number of those planned, the time elapsed and an estimate of the
# time left ("[bench T] phase sweep, N=100, kernel at 4000/s: run 12 of at
# most 44, 0m41s elapsed, about 1m50s left").
#
# Output: OUT/results.tsv (one row per run), OUT/table.txt (printed at the
# end), OUT/cdf-*.txt, OUT/machine.txt, and with gnuplot the plots
# OUT/delay-cdf.png and OUT/fanout.png (or in --plots DIR).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../tests/lib/ebr.sh
. "$root/tests/lib/ebr.sh"

QUICK=0
BUILD=$root/build
PLUGIN_PATH=
OUT=
SIZES=
PATHS="floor multiudpsink userspace kernel"
REPEAT=
VIDEO_RATE_ARG=
SWEEP=1
DROP=1
PROBE=1
PLOTS=
PERF=0
RPS=
BASE_PLUGIN_PATH=
RTP=
CONNECT=
SRC_CAPS=
SERVER=0
SIZES_ARG=
LOSS_PCT=1
LOSS_SIZES=100
LOSS_PATHS=kernel
LOSS=1
ONLY_LOSS=0
NACK_OFF=10000
IPV6=0
PATHS_ARG=

usage ()
{
  sed -n '4,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --build) BUILD=$2; shift 2 ;;
    --plugin-path) PLUGIN_PATH=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --sizes) SIZES=$2; SIZES_ARG=$2; shift 2 ;;
    --paths) PATHS=$2; PATHS_ARG=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --video-rate) VIDEO_RATE_ARG=$2; shift 2 ;;
    --no-sweep) SWEEP=0; shift ;;
    --no-drop) DROP=0; shift ;;
    --no-probe) PROBE=0; shift ;;
    --plots) PLOTS=$2; shift 2 ;;
    --perf) PERF=1; shift ;;
    --rps) RPS=$2; shift 2 ;;
    --base-plugin-path) BASE_PLUGIN_PATH=$2; shift 2 ;;
    --server)
      SERVER=3; shift
      case ${1:-} in [0-9]*) SERVER=$1; shift ;; esac ;;
    --connect) CONNECT=--connect; shift ;;
    --rtp) RTP=--rtp; SRC_CAPS="caps=application/x-rtp,media=application,payload=96,clock-rate=90000"; shift ;;
    --loss) LOSS_PCT=$2; shift 2 ;;
    --loss-sizes) LOSS_SIZES=$2; shift 2 ;;
    --loss-paths) LOSS_PATHS=$2; shift 2 ;;
    --no-loss) LOSS=0; shift ;;
    --only-loss) ONLY_LOSS=1; LOSS=1; shift ;;
    --ipv6) IPV6=1; shift ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done

if [ $IPV6 -eq 1 ]; then
  SIZES=${SIZES:-"1 100"}
  [ -n "$PATHS_ARG" ] || PATHS="floor floor.v6 multiudpsink multiudpsink.v6 kernel kernel.v6"
  SWEEP=0 DROP=0 PROBE=0 LOSS=0
fi
for path in $PATHS; do
  case ${path%.v6} in floor|multiudpsink|userspace|kernel|kernel-consume|multiudpsink@base|userspace@base|kernel@base|kernel-consume@base) ;;
    *) echo "bench/run.sh: unknown path '$path'" >&2; exit 2 ;;
  esac
  [ "${path%.v6}" = "$path" ] || [ $IPV6 -eq 1 ] || { echo "bench/run.sh: path '$path' needs --ipv6" >&2; exit 2; }
done
if [ $QUICK -eq 1 ]; then
  SIZES=${SIZES:-"1 100"}
  REPEAT=${REPEAT:-1}
  VIDEO_S=2 SWEEP_S=1 DROP_S=2    # seconds a run of each phase
  # x4 steps
  SWEEP_RATES="250 1000 4000 16000 64000 256000"
  DROP_SIZES=${SIZES##* }
else
  SIZES=${SIZES:-"1 10 100 1000"}
  REPEAT=${REPEAT:-3}
  VIDEO_S=10 SWEEP_S=3 DROP_S=5
  SWEEP_RATES="100 200 500 1000 2000 5000 10000 20000 50000 100000 200000 400000"
  DROP_SIZES=$SIZES
fi
VIDEO_RATE=${VIDEO_RATE_ARG:-2000}
SIZE=1200
SRC_PORT=5004
BASE_PORT=6000
MAX_CLI_NS=4
# Whole-run bound (the runs inside are bounded too).
RUN_DEADLINE=$(( $(date +%s) + (QUICK ? 240 : 1800) ))

PLUGIN_PATH=${PLUGIN_PATH:-$BUILD/gst-plugin}
SEND=$BUILD/bench/bench-send
RECV=$BUILD/bench/bench-recv
BPF=$BUILD/bench/bench-bpf
LAUNCH_STATS=$BUILD/tests/launch-stats

die () { echo "bench/run.sh: $*" >&2; exit 1; }
log () { echo "[bench $(date +%T)] $*" >&2; }

ebr_have_netns || die "needs root and 'ip netns'"
for t in "$SEND" "$RECV" "$BPF"; do
  [ -x "$t" ] || die "$t not built (meson setup $BUILD && ninja -C $BUILD)"
done
if [ $LOSS -eq 1 ]; then
  [ -x "$LAUNCH_STATS" ] || die "$LAUNCH_STATS not built (meson setup $BUILD -Dtests=enabled)"
  command -v nft >/dev/null || die "nft not installed (apt-get install nftables), or --no-loss"
  awk -v p="$LOSS_PCT" 'BEGIN { exit !(p + 0 > 0 && p + 0 < 100) }' \
    || die "--loss $LOSS_PCT: a percentage above 0 and below 100"
fi
command -v gst-launch-1.0 >/dev/null || die "gst-launch-1.0 not installed"

OUT=${OUT:-/tmp/ebr-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
export GST_PLUGIN_PATH=$PLUGIN_PATH
export GST_REGISTRY=$OUT/registry.bin
gst-inspect-1.0 ebpfrelaysink >/dev/null 2>&1 \
  || die "gst-inspect-1.0 cannot find ebpfrelaysink in $PLUGIN_PATH"
gst-inspect-1.0 multiudpsink >/dev/null 2>&1 || die "multiudpsink missing"
if [ -n "$BASE_PLUGIN_PATH" ]; then
  BASE_PLUGIN_PATH=$(cd "$BASE_PLUGIN_PATH" && pwd) || die "no $BASE_PLUGIN_PATH"
  GST_PLUGIN_PATH=$BASE_PLUGIN_PATH GST_REGISTRY=$OUT/registry-base.bin \
    gst-inspect-1.0 ebpfrelaysink >/dev/null 2>&1 \
    || die "gst-inspect-1.0 cannot find ebpfrelaysink in $BASE_PLUGIN_PATH"
fi
case " $PATHS " in
  *@base*) [ -n "$BASE_PLUGIN_PATH" ] || die "a PATH@base needs --base-plugin-path" ;;
esac
export GST_REGISTRY_UPDATE=no
HAVE_GNUPLOT=1
if ! command -v gnuplot >/dev/null; then
  HAVE_GNUPLOT=0
  log "gnuplot not found: no plots (apt-get install gnuplot-nox)"
fi

P=ebrb-$$
cleanup ()
{
  # SIGTERM to every job, 0.2 s, then SIGKILL (a relay's gst-launch, the
  # child of its `timeout`, first)
  ebr_stop_all 2 TERM
  ebr_topology_down "$P"
  [ $IPV6 -eq 1 ] && rm -rf "/etc/netns/$P-rel"
}
ebr_on_exit cleanup

# --- machine ------------------------------------------------------------------
load1 () { cut -d' ' -f1 /proc/loadavg; }
# cli_addr K FAMILY: client namespace K's address (4: 10.200.N.2, 6:
# fd00:200:N::2); relay_addr FAMILY: the relay's on the server side.
cli_addr () { [ "$2" = 6 ] && echo "fd00:200:$(ebr_cli_net "$1")::2" || echo "10.200.$(ebr_cli_net "$1").2"; }
relay_addr () { [ "$1" = 6 ] && echo fd00:200:1::2 || echo 10.200.1.2; }
# client_entry K PORT FAMILY STYLE: a clients entry (STYLE multiudpsink:
# IPv6 by name, see --ipv6)
client_entry ()
{
  if [ "$3" = 6 ] && [ "$4" = multiudpsink ]; then
    echo "ebr-cli$1-v6:$2"
  elif [ "$3" = 6 ]; then
    echo "[$(cli_addr "$1" 6)]:$2"
  else
    echo "$(cli_addr "$1" "$3"):$2"
  fi
}
{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "kernel: $(uname -r)"
  echo "gstreamer: $(gst-launch-1.0 --version | sed -n 's/.*GStreamer //p' | head -n1)"
  echo "git: $(git -C "$root" describe --always --dirty 2>/dev/null) (bench tools); plugin: $PLUGIN_PATH"
  echo "uptime at start: $(uptime)"
  echo "mode: $([ $QUICK -eq 1 ] && echo quick || echo full); sizes: $SIZES; paths: $PATHS; repeat: $REPEAT; traffic: $([ -n "$RTP" ] && echo RTP || echo plain); sender: $([ -n "$CONNECT" ] && echo "connected (send)" || echo "unconnected (sendto)")"
  [ -z "$BASE_PLUGIN_PATH" ] || echo "base plugin (PATH@base): $BASE_PLUGIN_PATH (git: $(git -C "$BASE_PLUGIN_PATH" describe --always --dirty 2>/dev/null))"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2
if awk -v l="$(load1)" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "WARNING: load average $(load1) on $(nproc) CPUs: other work is running; numbers will be noisy"
fi

# --- topology -------------------------------------------------------------------
ebr_topology_up "$P" $MAX_CLI_NS || die "cannot build the topology"
if [ $IPV6 -eq 1 ]; then
  ebr_topology_v6 "$P" $MAX_CLI_NS || die "cannot make the topology dual stack"
  mkdir -p "/etc/netns/$P-rel" || die "cannot create /etc/netns/$P-rel"
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    for k in $(seq 1 $MAX_CLI_NS); do echo "$(cli_addr "$k" 6) ebr-cli$k-v6"; done
  } >"/etc/netns/$P-rel/hosts"
  echo "ipv6: dual-stack topology; paths ending .v6 run over IPv6" >>"$OUT/machine.txt"
fi
for k in $(seq 1 $MAX_CLI_NS); do
  for fam in 4 $([ $IPV6 -eq 1 ] && echo 6); do
    ebr_reach "$P-rel" "$(cli_addr "$k" $fam)" \
      || die "relay cannot reach client $k (IPv$fam)"
    ebr_reach "$P-srv" "$(cli_addr "$k" $fam)" \
      || die "server cannot reach client $k through the relay (IPv$fam)"
  done
done
if [ -n "$RPS" ]; then
  ip netns exec "$P-rel" sh -c "echo $RPS > /sys/class/net/up0/queues/rx-0/rps_cpus" \
    || die "cannot set rps_cpus=$RPS on up0"
  echo "rps: up0 rps_cpus=$RPS in the relay namespace" >>"$OUT/machine.txt"
fi
if [ $PERF -eq 1 ] && ! command -v perf >/dev/null; then
  log "perf not installed (apt-get install linux-perf): --perf ignored"
  PERF=0
fi
log "topology $P up (server, relay, $MAX_CLI_NS client namespaces)"

# --- helpers ----------------------------------------------------------------------
now_s () { date +%s.%N; }

# machine cpu line: "busy softirq" in USER_HZ ticks
cpu_sample ()
{
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $8; exit }' /proc/stat
}

# proc_cpu_ns PID: user + system of all threads, ns (0 if gone)
proc_cpu_ns ()
{
  [ -n "$1" ] || { echo 0; return; }
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

# proc_ticks PID: "utime stime" (USER_HZ ticks, main process incl. threads)
proc_ticks ()
{
  [ -n "$1" ] && awk '{ print $14, $15 }' /proc/"$1"/stat 2>/dev/null || echo "0 0"
}

# relay_prog_attached: the relay's TC program is on up0.
relay_prog_attached ()
{
  ip netns exec "$P-rel" "$BPF" prog-stats up0 2>/dev/null | grep -q name=relay
}

ncli_for () { local n=$1; [ "$n" -lt $MAX_CLI_NS ] && echo "$n" || echo $MAX_CLI_NS; }

# ports_of N C K: the ports of client namespace K when N subscribers are
# spread over C namespaces (first namespaces get the remainder).
ports_of ()
{
  local n=$1 c=$2 k=$3 per rem cnt first
  per=$(( n / c )); rem=$(( n % c ))
  cnt=$(( per + (k <= rem ? 1 : 0) ))
  first=$BASE_PORT
  echo "$first-$(( first + cnt - 1 ))"
}

clients_of ()
{
  local n=$1 fam=${2:-4} style=${3:-} c k r a b p list=()
  c=$(ncli_for "$n")
  for k in $(seq 1 "$c"); do
    r=$(ports_of "$n" "$c" "$k"); a=${r%-*}; b=${r#*-}
    for p in $(seq "$a" "$b"); do
      list+=("$(client_entry "$k" "$p" "$fam" "$style")")
    done
  done
  (IFS=,; echo "${list[*]}")
}

# clients_probe N: cli1:6000, N - 2 subscribers over cli2.., cli1:6001
clients_probe ()
{
  local n=$1 m c k r a b p list=()
  list+=("10.200.$(ebr_cli_net 1).2:$BASE_PORT")
  if [ "$n" -gt 2 ]; then
    m=$(( n - 2 )); c=$(( m < MAX_CLI_NS - 1 ? m : MAX_CLI_NS - 1 ))
    for k in $(seq 1 "$c"); do
      r=$(ports_of "$m" "$c" "$k"); a=${r%-*}; b=${r#*-}
      for p in $(seq "$a" "$b"); do
        list+=("10.200.$(ebr_cli_net $(( k + 1 ))).2:$p")
      done
    done
  fi
  [ "$n" -ge 2 ] && list+=("10.200.$(ebr_cli_net 1).2:$(( BASE_PORT + 1 ))")
  (IFS=,; echo "${list[*]}")
}

rx_packets ()   # sum of rx packets on the client namespaces' eth0
{
  local c=$1 k s=0 v
  for k in $(seq 1 "$c"); do
    v=$(ip netns exec "$P-cli$k" cat /sys/class/net/eth0/statistics/rx_packets 2>/dev/null || echo 0)
    s=$(( s + v ))
  done
  echo $s
}

# softnet_drops: datagrams the kernel dropped because a CPU's input backlog
# (net.core.netdev_max_backlog) was full; machine-wide.
softnet_drops ()
{
  local s=0 v
  for v in $(awk '{ print $2 }' /proc/net/softnet_stat 2>/dev/null); do
    s=$(( s + 16#$v ))
  done
  echo $s
}

bpf_prog_sample () # "run_cnt run_time_ns" of the relay program on up0
{
  ip netns exec "$P-rel" "$BPF" prog-stats up0 2>/dev/null \
    | awk '/name=relay/ { c += substr($3, 9); t += substr($4, 13) } END { printf "%d %d\n", c, t }'
}

# --- the server case (--server) ----------------------------------------------------
server_case ()
{
  local out=$OUT/server.tsv n path sink c k dir clients rate=$VIDEO_RATE
  local secs=$SERVER max_seq line sent cpu ks pids m
  local srv=$BUILD/bench/bench-server
  [ -x "$srv" ] || die "$srv not built"
  # the harness's own cost per buffer (appsrc, its streaming thread, the
  # pacing): appsrc ! fakesink, no copy at all; subtracted in us_net_copy
  local base_ns=0
  ip netns exec "$P-rel" "$srv" --sink "fakesink sync=false" --rate "$rate" \
    --seconds "$secs" --size $SIZE >"$OUT/server-base.log" 2>&1
  base_ns=$(sed -n 's/^sent=\([0-9]*\) .* cpu_ns=\([0-9]*\).*/\2 \1/p' "$OUT/server-base.log" \
    | awk '{ printf "%d", $1 / $2 }')
  log "server case: appsrc ! fakesink costs ${base_ns:-?} ns per buffer (the harness)"
  printf 'kind\tpath\tn\tsent\tseconds\tcpu_ns\tutime_ns\tstime_ns\tksoftirqd_ns\tus_per_copy\tus_per_copy_ksoftirqd\tus_net_copy\tloss_pct\tp50_us\tp99_us\tmax_us\tlocal_sent\tkernel_local\tload1\n' >"$out"
  for n in $SIZES; do
   for kind in recv drop; do
    for path in ebpfrelaysink multiudpsink; do
      c=$(ncli_for "$n")
      clients=$(clients_of "$n")
      case $path in
        ebpfrelaysink) sink="ebpfrelaysink name=relay mode=kernel rtcp-port=0 ${EBR_BENCH_RELAY_OPTS:-} clients=$clients" ;;
        multiudpsink) sink="multiudpsink name=relay sync=false clients=$clients" ;;
      esac
      dir=$OUT/runs/server-$kind-$path-n$n
      mkdir -p "$dir"
      max_seq=$(awk -v r="$rate" -v s="$secs" 'BEGIN { printf "%d", r * s + 1000 }')
      pids=()
      for k in $(seq 1 "$c"); do
        if [ $kind = drop ]; then
          ip netns exec "$P-cli$k" "$BPF" drop eth0 --seconds $(( secs + 60 )) \
            >"$dir/drop$k.log" 2>&1 &
        else
          ip netns exec "$P-cli$k" "$RECV" recv --ports "$(ports_of "$n" "$c" "$k")" \
            --max-seq "$max_seq" --out "$dir/recv$k.txt" --idle-ms 600000 \
            --timeout $(( secs + 60 )) >"$dir/recv$k.log" 2>&1 &
        fi
        pids+=($!)
      done
      for k in $(seq 1 "$c"); do
        if [ $kind = drop ]; then
          ebr_wait_log "$dir/drop$k.log" attached 100 || die "server-$kind-$path-n$n: drop $k not attached"
        else
          ebr_wait_log "$dir/recv$k.log" "ports bound" 100 || die "server-$path-n$n: receiver $k not ready"
        fi
      done
      log "server case ($kind): $path, N=$n, $rate buffers/s for $secs s"
      ip netns exec "$P-rel" "$srv" --sink "$sink" --rate "$rate" --seconds "$secs" \
        --size $SIZE >"$dir/server.log" 2>&1 || log "server-$path-n$n: bench-server failed: $(tail -n 3 "$dir/server.log")"
      sleep 0.5
      for k in "${pids[@]}"; do kill -INT "$k" 2>/dev/null; done
      for k in "${pids[@]}"; do wait "$k" 2>/dev/null; done
      line=$(grep '^sent=' "$dir/server.log")
      sent=$(sed -n 's/^sent=\([0-9]*\).*/\1/p' <<<"$line")
      [ -n "$sent" ] || { log "server-$path-n$n: no result"; continue; }
      cpu=$(sed -n 's/.* cpu_ns=\([0-9]*\).*/\1/p' <<<"$line")
      ks=$(sed -n 's/.* ksoftirqd_ns=\([0-9]*\).*/\1/p' <<<"$line")
      m=
      [ $kind = drop ] || m=$("$RECV" merge --sent "$sent" "$dir"/recv*.txt)
      echo "$m" >"$dir/merge.txt"
      awk -v kind="$kind" -v path="$path" -v n="$n" -v line="$line" -v m="$m" \
        -v rel="$(grep '^relay ' "$dir/server.log")" -v load="$(load1)" -v base="${base_ns:-0}" '
        function f(s, k,   r) { r = s; if (!sub(".*(^| )" k "=", "", r)) return "-"; sub(" .*", "", r); return r }
        BEGIN {
          sent = f(line, "sent"); cpu = f(line, "cpu_ns"); ks = f(line, "ksoftirqd_ns")
          printf "%s\t%s\t%d\t%d\t%s\t%.0f\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
            kind, path, n, sent, f(line, "seconds"), cpu, f(line, "utime_ns"), f(line, "stime_ns"), ks,
            cpu / (sent * n) / 1000, (cpu + ks) / (sent * n) / 1000,
            (cpu - base * sent) / (sent * n) / 1000,
            f(m, "loss_pct"), f(m, "p50_us"), f(m, "p99_us"), f(m, "max_us"),
            f(rel, "local-sent"), f(rel, "kernel-local"), load
        }' >>"$out"
    done
   done
  done
  echo
  column -t "$out"
  awk -F'\t' 'NR > 1 { c[$1 " " $2 " " $3] = $10; e[$1 " " $2 " " $3] = $11; d[$1 " " $2 " " $3] = $12 } END {
    for (k in c) if (k ~ / ebpfrelaysink /) { split(k, a, " "); j = a[1] " multiudpsink " a[3]; m = c[j];
      if (m > 0) printf "%s N=%s: ebpfrelaysink %.3f us/copy, multiudpsink %.3f: ratio %.2f; with ksoftirqd %.3f vs %.3f: ratio %.2f; without the harness %.3f vs %.3f: ratio %.2f\n",
        a[1], a[3], c[k], m, c[k] / m, e[k], e[j], (e[j] > 0 ? e[k] / e[j] : 0), d[k], d[j], (d[j] > 0 ? d[k] / d[j] : 0) } }' "$out"
}
if [ "$SERVER" != 0 ]; then
  SIZES=${SIZES_ARG:-"10 100"}
  server_case
  exit 0
fi

RESULTS=$OUT/results.tsv
printf 'phase\tpath\tn\trep\trate_target\trate\tsent\tseconds\tloss_pct\tdup\tp50_us\tp99_us\tmax_us\trelay_us_copy\trelay_user_pct\tsender_us_pkt\trecv_us_copy\tsoftirq_us_copy\tbusy_us_copy\tbpf_ns_pkt\tbpf_ns_copy\tdelivered\tload1\tok\tsoftnet_drops\tsender_bound\tfirst_p50_us\tfirst_p99_us\tfirst_max_us\n' >"$RESULTS"

# run_one PHASE PATH N RATE SECONDS REP: one measurement; appends a row to
# results.tsv and sets RUN_OK (1 when loss < 0.1 % and p99 < 1 ms).
run_one ()
{
  local phase=$1 path=$2 n=$3 rate=$4 secs=$5 rep=$6
  local tag="$phase-$path-n$n-r$rate-$rep" c k relay_pid="" recv_pids=() drop_pids=()
  # PATH.v6: the same over IPv6 (--ipv6)
  local base=${path%.v6} fam=4 bind=()
  if [ "$base" != "$path" ]; then fam=6; bind=(--bind ::); fi
  local dir=$OUT/runs/$tag
  mkdir -p "$dir"
  RUN_OK=0
  if [ "$(date +%s)" -ge "$RUN_DEADLINE" ]; then
    log "time budget used up: skipping $tag"
    return 1
  fi
  progress "$phase" "$path" "$n" "$rate" "$secs"
  DONE_RUNS=$((DONE_RUNS + 1)) DONE_SECS=$((DONE_SECS + secs))
  c=$(ncli_for "$n")
  local max_seq
  max_seq=$(awk -v r="$rate" -v s="$secs" 'BEGIN { printf "%d", r * s + 1000 }')

  # receivers (or drops)
  if [ "$phase" = probe ]; then
    local m=$(( n - 2 ))
    c=$(( 1 + (m > 0 ? (m < MAX_CLI_NS - 1 ? m : MAX_CLI_NS - 1) : 0) ))
    ip netns exec "$P-cli1" "$RECV" recv --ports $BASE_PORT --max-seq "$max_seq" \
      --out "$dir/probe-first.txt" --idle-ms 600000 --timeout $(( secs + 60 )) \
      >"$dir/recv1.log" 2>&1 &
    recv_pids+=($!)
    if [ "$n" -ge 2 ]; then
      ip netns exec "$P-cli1" "$RECV" recv --ports $(( BASE_PORT + 1 )) --max-seq "$max_seq" \
        --out "$dir/probe-last.txt" --idle-ms 600000 --timeout $(( secs + 60 )) \
        >"$dir/recv2.log" 2>&1 &
      recv_pids+=($!)
    fi
    for k in $(seq 2 "$c"); do
      ip netns exec "$P-cli$k" "$BPF" drop eth0 --seconds $(( secs + 60 )) \
        >"$dir/drop$k.log" 2>&1 &
      drop_pids+=($!)
    done
    for k in 1 $([ "$n" -ge 2 ] && echo 2); do
      ebr_wait_log "$dir/recv$k.log" "ports bound" 100 || { log "$tag: probe receiver not ready"; return 1; }
    done
    for k in $(seq 2 "$c"); do
      ebr_wait_log "$dir/drop$k.log" attached 100 || { log "$tag: drop program not attached: $(cat "$dir/drop$k.log")"; return 1; }
    done
  fi
  for k in $(seq 1 "$c"); do
    [ "$phase" = probe ] && break
    if [ "${phase%stats}" = drop ]; then
      ip netns exec "$P-cli$k" "$BPF" drop eth0 --seconds $(( secs + 60 )) \
        >"$dir/drop$k.log" 2>&1 &
      drop_pids+=($!)
    else
      ip netns exec "$P-cli$k" "$RECV" recv --ports "$(ports_of "$n" "$c" "$k")" "${bind[@]}" \
        --max-seq "$max_seq" --out "$dir/recv$k.txt" --idle-ms 600000 \
        --timeout $(( secs + 60 )) >"$dir/recv$k.log" 2>&1 &
      recv_pids+=($!)
    fi
  done
  for k in $(seq 1 "$c"); do
    [ "$phase" = probe ] && break
    if [ "${phase%stats}" = drop ]; then
      ebr_wait_log "$dir/drop$k.log" attached 100 || { log "$tag: drop program not attached: $(cat "$dir/drop$k.log")"; return 1; }
    else
      ebr_wait_log "$dir/recv$k.log" "ports bound" 100 || { log "$tag: receiver $k not ready: $(cat "$dir/recv$k.log")"; return 1; }
    fi
  done

  # relay
  local dst dport=$SRC_PORT clients src_addr=
  dst=$(relay_addr $fam)
  [ $fam = 6 ] && src_addr="address=::"
  if [ "$base" = floor ]; then
    dst=$(cli_addr 1 $fam); dport=$BASE_PORT
  else
    if [ "$phase" = probe ]; then clients=$(clients_probe "$n")
    else clients=$(clients_of "$n" $fam "${base%@base}"); fi
    local sink env_plugin=$PLUGIN_PATH env_reg=$GST_REGISTRY
    if [ "${base%@base}" != "$base" ]; then
      env_plugin=$BASE_PLUGIN_PATH env_reg=$OUT/registry-base.bin
    fi
    case ${base%@base} in
      multiudpsink) sink="multiudpsink sync=false clients=$clients" ;;
      userspace) sink="ebpfrelaysink mode=userspace clients=$clients" ;;
      kernel) sink="ebpfrelaysink mode=kernel clients=$clients" ;;
      kernel-consume) sink="ebpfrelaysink mode=kernel pass-original=false clients=$clients" ;;
    esac
    # shellcheck disable=SC2086
    ip netns exec "$P-rel" env GST_PLUGIN_PATH="$env_plugin" GST_REGISTRY="$env_reg" \
      timeout -s INT $(( secs + 60 )) gst-launch-1.0 -q \
      udpsrc $src_addr port=$SRC_PORT buffer-size=4194304 $SRC_CAPS ! $sink >"$dir/relay.log" 2>&1 &
    relay_pid=$!
    ebr_wait_udp "$P-rel" 150 $SRC_PORT || { log "$tag: relay did not bind: $(tail -n 5 "$dir/relay.log")"; return 1; }
    case $path in kernel*) ebr_until 100 relay_prog_attached ;; esac
    sleep 0.3
    # Warm-up: sequence numbers beyond the receivers' range, not counted.
    # shellcheck disable=SC2086
    ip netns exec "$P-srv" "$SEND" $dst $dport $RTP $CONNECT --rate 1000 --count 50 \
      --first-seq 100000000000 >/dev/null 2>&1
    sleep 0.3
  fi
  # The relay's pid is timeout's child (gst-launch).
  local gst_pid=""
  [ -n "$relay_pid" ] && gst_pid=$(pgrep -P "$relay_pid" -n gst-launch-1.0 || true)
  [ -z "$relay_pid" ] || ebr_running "$relay_pid" || { log "$tag: relay died: $(tail -n 5 "$dir/relay.log")"; return 1; }

  local cpu0 cpu1 r0 r1 t0 t1 bpf0 bpf1 rx0 rx1 load sd0 sd1
  load=$(load1)
  sd0=$(softnet_drops)
  cpu0=$(cpu_sample); r0=$(proc_cpu_ns "$gst_pid"); t0=$(proc_ticks "$gst_pid")
  [ "${phase%stats}" = drop ] && { rx0=$(rx_packets "$c"); bpf0=$(bpf_prog_sample); }
  local perf_pid=""
  if [ "$phase" = drop ] && [ $PERF -eq 1 ]; then
    perf record -q -a -g -o "$dir/perf.data" -- sleep "$secs" >"$dir/perf.log" 2>&1 &
    perf_pid=$!
  fi
  # shellcheck disable=SC2086
  ip netns exec "$P-srv" timeout $(( secs + 10 )) "$SEND" $dst $dport $RTP $CONNECT \
    --rate "$rate" --duration "$secs" --size $SIZE >"$dir/send.txt" 2>&1
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" 2>/dev/null
    perf report -i "$dir/perf.data" --no-children --sort sym --stdio 2>/dev/null \
      | grep -v '^$' | grep -v '^#' | grep '%' | head -n 40 >"$dir/perf.txt"
    perf report -i "$dir/perf.data" --children --sort sym -g none --stdio 2>/dev/null \
      | grep -v '^$' | grep -v '^#' | grep '%' | head -n 60 >"$dir/perf-children.txt"
    rm -f "$dir/perf.data"
  fi
  sleep 0.5
  cpu1=$(cpu_sample); r1=$(proc_cpu_ns "$gst_pid"); t1=$(proc_ticks "$gst_pid")
  sd1=$(softnet_drops)
  [ "${phase%stats}" = drop ] && { rx1=$(rx_packets "$c"); bpf1=$(bpf_prog_sample); }
  [ -n "$relay_pid" ] && ! ebr_running "$relay_pid" \
    && log "$tag: relay exited during the run: $(tail -n 3 "$dir/relay.log")"

  # SIGTERM (a `timeout` passes it on), 5 s, then SIGKILL
  for k in "${recv_pids[@]}" "${drop_pids[@]}" $relay_pid; do ebr_stop "$k" 50 TERM; done

  local sent achieved seconds sender_cpu
  sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$dir/send.txt")
  achieved=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$dir/send.txt")
  seconds=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$dir/send.txt")
  sender_cpu=$(sed -n 's/.*cpu_ns=\([0-9]*\).*/\1/p' "$dir/send.txt")
  [ -n "$sent" ] || { log "$tag: sender failed: $(cat "$dir/send.txt")"; return 1; }

  local m="" loss=- dup=- p50=- p99=- max=- recv_cpu=0 delivered
  if [ "$phase" = probe ]; then
    local which
    for which in first last; do
      [ -s "$dir/probe-$which.txt" ] || continue
      m=$("$RECV" merge --sent "$sent" --cdf "$dir/cdf-$which.txt" "$dir/probe-$which.txt")
      echo "$which $m" >>"$dir/merge.txt"
    done
    # the row: the last subscriber (worst position); first in probe_first
    m=$("$RECV" merge --sent "$sent" "$dir/probe-first.txt")
    PROBE_FIRST=$(sed -n 's/.*p50_us=\([0-9.]*\) p99_us=\([0-9.]*\) max_us=\([0-9.]*\).*/\1 \2 \3/p' <<<"$m")
    [ -s "$dir/probe-last.txt" ] && m=$("$RECV" merge --sent "$sent" "$dir/probe-last.txt")
    loss=$(sed -n 's/.*loss_pct=\([0-9.]*\).*/\1/p' <<<"$m")
    dup=$(sed -n 's/.* dup=\([0-9]*\).*/\1/p' <<<"$m")
    p50=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$m")
    p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$m")
    max=$(sed -n 's/.*max_us=\([0-9.]*\).*/\1/p' <<<"$m")
    recv_cpu=0
    delivered=$(sed -n 's/.* unique=\([0-9]*\).*/\1/p' <<<"$m")
  elif [ "${phase%stats}" != drop ]; then
    m=$("$RECV" merge --sent "$sent" --cdf "$dir/cdf.txt" "$dir"/recv*.txt)
    echo "$m" >"$dir/merge.txt"
    loss=$(sed -n 's/.*loss_pct=\([0-9.]*\).*/\1/p' <<<"$m")
    dup=$(sed -n 's/.* dup=\([0-9]*\).*/\1/p' <<<"$m")
    p50=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$m")
    p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$m")
    max=$(sed -n 's/.*max_us=\([0-9.]*\).*/\1/p' <<<"$m")
    recv_cpu=$(sed -n 's/.*recv_cpu_ns=\([0-9]*\).*/\1/p' <<<"$m")
    delivered=$(sed -n 's/.* unique=\([0-9]*\).*/\1/p' <<<"$m")
  else
    # Copies that reached the clients' veths (the warm-up is not in the
    # window); loss from that.
    delivered=$(( rx1 - rx0 ))
    # (ARP replies count too: a tiny excess is clamped to no loss.)
    loss=$(awk -v d="$delivered" -v e="$(( sent * n ))" 'BEGIN { l = e ? 100 * (e - d) / e : 0; printf "%.4f", l < 0 ? 0 : l }')
  fi

  local row
  row=$(awk -v phase="$phase" -v path="$path" -v base="$base" -v n="$n" -v rep="$rep" \
    -v rt="$rate" -v rate="$achieved" -v sent="$sent" -v secs="$seconds" \
    -v loss="$loss" -v dup="$dup" -v p50="$p50" -v p99="$p99" -v max="$max" \
    -v r0="$r0" -v r1="$r1" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" \
    -v scpu="$sender_cpu" -v rcpu="$recv_cpu" -v b0="${bpf0:-0 0}" -v b1="${bpf1:-0 0}" \
    -v deliv="$delivered" -v load="$load" -v hz="$(getconf CLK_TCK)" \
    -v sdrops="$(( sd1 - sd0 ))" '
    BEGIN {
      copies = sent * n; if (copies < 1) copies = 1
      split(t0, a, " "); split(t1, b, " ")
      ut = b[1] - a[1]; st = b[2] - a[2]
      upct = (ut + st) > 0 ? 100 * ut / (ut + st) : 0
      split(c0, x, " "); split(c1, y, " ")
      busy = (y[1] - x[1]) * 1e6 / hz; soft = (y[2] - x[2]) * 1e6 / hz
      split(b0, p, " "); split(b1, q, " ")
      runs = q[1] - p[1]; rt_ns = q[2] - p[2]
      bpf_pkt = runs > 0 ? sprintf("%.0f", rt_ns / runs) : "-"
      bpf_copy = runs > 0 ? sprintf("%.1f", rt_ns / runs / n) : "-"
      relay = (base == "floor") ? "-" : sprintf("%.3f", (r1 - r0) / 1e3 / copies)
      ok = (loss != "-" && loss + 0 < 0.1 && (p99 == "-" || p99 + 0 < 1000)) ? 1 : 0
      bound = (rate < 0.9 * rt) ? 1 : 0
      printf "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n",
        phase, path, n, rep, rt, rate, sent, secs, loss, dup, p50, p99, max,
        relay, upct, scpu / 1e3 / (sent > 0 ? sent : 1), rcpu / 1e3 / copies,
        soft / copies, busy / copies, bpf_pkt, bpf_copy, deliv, load, ok,
        sdrops, bound
    }')
  [ "$phase" = probe ] && row="$row"$'\t'"$(tr ' ' '\t' <<<"${PROBE_FIRST:-- - -}")"
  echo "$row" >>"$RESULTS"
  RUN_OK=$(awk -F'\t' '{ print $24 }' <<<"$row")
  RUN_BOUND=$(awk -F'\t' '{ print $26 }' <<<"$row")
  [ "$phase" = video ] && [ "$rep" = 1 ] && [ -s "$dir/cdf.txt" ] \
    && cp "$dir/cdf.txt" "$OUT/cdf-$path-n$n.txt"
  # the CDF of the copy sent last (multiudpsink sends in the reverse order
  # of its clients list)
  local sent_last=last
  [ "$base" = multiudpsink ] && sent_last=first
  [ "$phase" = probe ] && [ "$rep" = 1 ] && [ -s "$dir/cdf-$sent_last.txt" ] \
    && cp "$dir/cdf-$sent_last.txt" "$OUT/cdf-probe-$path-n$n.txt"
  log "$(awk -F'\t' '{ printf "%-5s %-12s N=%-4s rate=%-7s%s loss=%s%% p50=%s p99=%s max=%s us relay=%s us/copy sender=%s us/dgram bpf=%s ns/dgram backlog-drops=%s load=%s %s", $1, $2, $3, $6, ($26 ? "(<" $5 ")" : ""), $9, $11, $12, $13, $14, $16, $20, $25, $23, ($24 ? "ok" : "FAIL") }' <<<"$row")"
  return 0
}

# run_loss PATH N PCT REP: one run of the loss phase (PCT 0: no loss);
# appends a row to loss.tsv.
LOSS_RESULTS=$OUT/loss.tsv
printf 'path\tn\tloss_target_pct\trep\tsent\texpected\tunique\tfinal_loss_pct\tdropped\tnacks\tnacked\trecovered\tgave_up\tresent\tresent_per_dropped\tp50_us\tp99_us\trec_p50_us\trec_p99_us\trelay_cpu_ns\tload1\n' >"$LOSS_RESULTS"
loss_stop () { local k; for k in "$@"; do ebr_stop "$k" 50 TERM; done; }
run_loss ()
{
  local path=$1 n=$2 pct=$3 rep=$4 tag dir c k relay_pid="" recv_pids=()
  local max_seq clients list=() a b q r mode thr row
  tag="loss-$path-n$n-p$pct-$rep"; dir=$OUT/runs/$tag
  mkdir -p "$dir"
  if [ "$(date +%s)" -ge "$RUN_DEADLINE" ]; then
    log "time budget used up: skipping $tag"
    return 1
  fi
  progress "loss ($pct %)" "$path" "$n" "$VIDEO_RATE" "$VIDEO_S"
  DONE_RUNS=$((DONE_RUNS + 1)) DONE_SECS=$((DONE_SECS + VIDEO_S))
  c=$(ncli_for "$n")
  max_seq=$(( VIDEO_RATE * VIDEO_S + 1000 ))
  thr=$(awk -v p="$pct" 'BEGIN { printf "%d", p * 100 }')
  # the loss: at each client namespace's ingress, before anything else
  for k in $(seq 1 "$c"); do
    ip netns exec "$P-cli$k" nft delete table inet ebrloss 2>/dev/null
    [ "$thr" -gt 0 ] || continue
    r=$(ports_of "$n" "$c" "$k")
    printf '%s\n' "table inet ebrloss {" "  chain in {" \
      "    type filter hook prerouting priority -300; policy accept;" \
      "    udp dport $r numgen random mod 10000 < $thr counter drop" \
      "  }" "}" | ip netns exec "$P-cli$k" nft -f - \
      || { log "$tag: nft failed"; return 1; }
  done
  for k in $(seq 1 "$c"); do
    r=$(ports_of "$n" "$c" "$k"); a=${r%-*}; b=${r#*-}
    for q in $(seq "$a" "$b"); do
      list+=("10.200.$(ebr_cli_net "$k").2:$q/$(( q + NACK_OFF ))")
    done
    ip netns exec "$P-cli$k" "$RECV" recv --ports "$r" --max-seq "$max_seq" \
      --out "$dir/recv$k.txt" --idle-ms 600000 --timeout $(( VIDEO_S + 60 )) \
      --nack "10.200.$(ebr_cli_net "$k").1:$(( SRC_PORT + 1 ))" \
      --nack-sport-offset $NACK_OFF >"$dir/recv$k.log" 2>&1 &
    recv_pids+=($!)
  done
  for k in $(seq 1 "$c"); do
    ebr_wait_log "$dir/recv$k.log" "ports bound" 100 || { log "$tag: receiver $k not ready: $(cat "$dir/recv$k.log")"; loss_stop "${recv_pids[@]}"; return 1; }
  done
  clients=$(IFS=,; echo "${list[*]}")
  case $path in
    kernel) mode="mode=kernel" ;;
    userspace) mode="mode=userspace" ;;
    *) log "$tag: the loss phase's paths are kernel and userspace"; loss_stop "${recv_pids[@]}"; return 1 ;;
  esac
  ip netns exec "$P-rel" timeout -s TERM $(( VIDEO_S + 60 )) "$LAUNCH_STATS" \
    udpsrc port=$SRC_PORT buffer-size=4194304 \
    caps=application/x-rtp,media=application,payload=96,clock-rate=90000 \
    ! ebpfrelaysink name=relay $mode clients="$clients" >"$dir/relay.log" 2>&1 &
  relay_pid=$!
  ebr_wait_udp "$P-rel" 150 $SRC_PORT || { log "$tag: relay did not bind: $(tail -c 300 "$dir/relay.log")"; loss_stop "${recv_pids[@]}" $relay_pid; return 1; }
  [ "$path" = kernel ] && ebr_until 100 relay_prog_attached
  sleep 0.3
  ip netns exec "$P-srv" "$SEND" 10.200.1.2 $SRC_PORT --rtp --rate 1000 --count 50 \
    --first-seq 100000000000 >/dev/null 2>&1
  sleep 0.3
  local ls_pid cpu0 cpu1 load
  ls_pid=$(pgrep -P "$relay_pid" -n launch-stats || true)
  load=$(load1)
  cpu0=$(proc_cpu_ns "$ls_pid")
  ip netns exec "$P-srv" timeout $(( VIDEO_S + 10 )) "$SEND" 10.200.1.2 $SRC_PORT \
    --rtp --rate "$VIDEO_RATE" --duration "$VIDEO_S" --size $SIZE >"$dir/send.txt" 2>&1
  # the last NACK rounds (5 x 20 ms) and their answers
  sleep 1
  cpu1=$(proc_cpu_ns "$ls_pid")
  local dropped=0 v
  for k in $(seq 1 "$c"); do
    v=$(ip netns exec "$P-cli$k" nft list table inet ebrloss 2>/dev/null \
      | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -n1)
    dropped=$(( dropped + ${v:-0} ))
    ip netns exec "$P-cli$k" nft delete table inet ebrloss 2>/dev/null
  done
  for k in "${recv_pids[@]}" $relay_pid; do ebr_stop "$k" 50 TERM; done
  local sent m resent
  sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$dir/send.txt")
  [ -n "$sent" ] || { log "$tag: sender failed: $(cat "$dir/send.txt")"; return 1; }
  m=$("$RECV" merge --sent "$sent" "$dir"/recv*.txt)
  echo "$m" >"$dir/merge.txt"
  grep -q '^stats relay ' "$dir/relay.log" \
    || log "$tag: no relay stats: $(tail -n 3 "$dir/relay.log")"
  # (per-client structures nest, escaped: nack-resent\=\(guint64\)N)
  resent=$(grep '^stats relay ' "$dir/relay.log" | grep -oE 'nack-resent[^0-9]*guint64[^0-9]*[0-9]+' \
    | grep -oE '[0-9]+$' | awk '{ s += $1 } END { printf "%d", s }')
  row=$(awk -v m=" $m" -v path="$path" -v n="$n" -v pct="$pct" -v rep="$rep" \
    -v sent="$sent" -v dropped="$dropped" -v resent="${resent:-0}" \
    -v cpu=$(( cpu1 - cpu0 )) -v load="$load" '
    function f(name,   a) {
      if (match(m, " " name "=[0-9.]+")) { split(substr(m, RSTART + 1, RLENGTH - 1), a, "="); return a[2] }
      return 0
    }
    BEGIN {
      printf "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
        path, n, pct, rep, sent, f("expected"), f("unique"), f("loss_pct"),
        dropped, f("nacks"), f("nacked"), f("recovered"), f("gave_up"), resent,
        dropped ? sprintf("%.3f", resent / dropped) : "-",
        f("p50_us"), f("p99_us"), f("rec_p50_us"), f("rec_p99_us"), cpu, load
    }')
  echo "$row" >>"$LOSS_RESULTS"
  log "$(awk -F'\t' '{ printf "loss  %-9s N=%-4s loss=%s%%: dropped=%s nacked=%s recovered=%s final_loss=%s%% resent=%s (%s per dropped) p50=%s p99=%s us, recovered p50=%s p99=%s us, relay cpu=%.0f ms", $1, $2, $3, $9, $11, $12, $8, $14, $15, $16, $17, $18, $19, $20 / 1e6 }' <<<"$row")"
  return 0
}

# runs_of SIZES: "N:PATH" for each N of SIZES and PATH of PATHS, in that
# order; the floor (one destination) only at N = 1.
runs_of ()
{
  local n path
  for n in $1; do
    for path in $PATHS; do
      [ "${path%.v6}" = floor ] && [ "$n" != 1 ] && continue
      echo "$n:$path"
    done
  done
}

# --- progress (stderr) -------------------------------------------------------------
# Before each run: the phase, N, path, how many runs are done of how many
# planned, and an estimate of the time left: the planned runs' seconds of
# sending plus, per run, the mean overhead (set-up, settling, tear-down) of
# the runs so far (3 s before the first). A sweep stops at its first
# failures, so its plan is an upper bound until each series ends (then its
# unrun steps leave the plan, and its retries join it). Never more than
# what the time budget (RUN_DEADLINE) leaves.
PLAN_RUNS=0 PLAN_SECS=0 DONE_RUNS=0 DONE_SECS=0 PROGRESS_T0=$(date +%s)
plan_add () { PLAN_RUNS=$((PLAN_RUNS + $1)); PLAN_SECS=$((PLAN_SECS + $1 * $2)); }
# sweep_steps N: the rates a sweep at N tries (without retries)
sweep_steps ()
{
  local start=$(( 10000 / $1 )) rate k=0
  [ $start -lt 100 ] && start=100
  for rate in $SWEEP_RATES; do [ "$rate" -ge "$start" ] && k=$((k + 1)); done
  echo $k
}
plan_runs ()
{
  local run n path k
  for run in $(runs_of "$SIZES"); do
    [ $ONLY_LOSS -eq 1 ] && break
    n=${run%%:*} path=${run#*:}
    [ "${path%.v6}" = floor ] || [ "$n" -le 1024 ] || continue
    plan_add "$REPEAT" $VIDEO_S
  done
  [ $ONLY_LOSS -eq 1 ] && { PROBE=0 SWEEP=0 DROP=0; }
  if [ $LOSS -eq 1 ]; then
    # a run without loss and one with, per repeat, N and path
    for n in $LOSS_SIZES; do
      for path in $LOSS_PATHS; do plan_add $((2 * REPEAT)) $VIDEO_S; done
    done
  fi
  if [ $PROBE -eq 1 ]; then
    for n in $SIZES; do
      [ "$n" -gt 1 ] || continue
      for path in $PATHS; do [ "${path%.v6}" = floor ] || plan_add "$REPEAT" $VIDEO_S; done
    done
  fi
  if [ $SWEEP -eq 1 ]; then
    for run in $(runs_of "$SIZES"); do plan_add "$(sweep_steps "${run%%:*}")" $SWEEP_S; done
  fi
  if [ $DROP -eq 1 ]; then
    for run in $(runs_of "$DROP_SIZES"); do plan_add 1 $DROP_S; done
    case " $PATHS " in
      *" kernel "*|*" kernel-consume "*|*" kernel@base "*|*" kernel-consume@base "*)
        for n in $DROP_SIZES; do
          for path in $PATHS; do
            k=${path%@base}
            [ "${k%-consume}" = kernel ] && plan_add 1 $DROP_S
          done
        done ;;
    esac
  fi
}
# hms SECONDS
hms () { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
# progress PHASE PATH N RATE SECONDS
progress ()
{
  local now elapsed over left budget
  now=$(date +%s)
  elapsed=$((now - PROGRESS_T0))
  over=3
  [ $DONE_RUNS -gt 0 ] && over=$(( (elapsed - DONE_SECS) / DONE_RUNS ))
  [ $over -lt 0 ] && over=0
  left=$(( PLAN_SECS - DONE_SECS + (PLAN_RUNS - DONE_RUNS) * over ))
  [ $left -lt 0 ] && left=0
  budget=$((RUN_DEADLINE - now))
  [ $budget -lt $left ] && left=$budget
  [ $left -lt 0 ] && left=0
  echo "[bench $(date +%T)] phase $1, N=$3, $2 at $4/s: run $((DONE_RUNS + 1))" \
    "of $([ "$1" = sweep ] && echo "at most ")$PLAN_RUNS, $(hms $elapsed) elapsed," \
    "about $(hms $left) left" >&2
}
plan_runs
log "plan: $PLAN_RUNS runs, $(hms "$PLAN_SECS") of sending"

# --- phase 1: video rate ----------------------------------------------------------
[ $ONLY_LOSS -eq 1 ] && { PROBE=0 SWEEP=0 DROP=0; }
for rep in $(seq 1 "$REPEAT"); do
  [ $ONLY_LOSS -eq 1 ] && break
  for run in $(runs_of "$SIZES"); do
    n=${run%%:*} path=${run#*:}
    [ "${path%.v6}" = floor ] || [ "$n" -le 1024 ] || continue
    run_one video "$path" "$n" $VIDEO_RATE $VIDEO_S "$rep"
  done
done

# --- phase 1b: two probes, the others dropped ---------------------------------------
if [ $PROBE -eq 1 ]; then
  for rep in $(seq 1 "$REPEAT"); do
    for n in $SIZES; do
      [ "$n" -gt 1 ] || continue
      for path in $PATHS; do
        [ "$path" = floor ] && continue
        run_one probe "$path" "$n" $VIDEO_RATE $VIDEO_S "$rep"
      done
    done
  done
fi

# --- phase 2: rising rates --------------------------------------------------------
if [ $SWEEP -eq 1 ]; then
  for run in $(runs_of "$SIZES"); do
    n=${run%%:*} path=${run#*:}
    start=$(( 10000 / n )); [ $start -lt 100 ] && start=100
    fails=0
    series0=$DONE_RUNS
    for rate in $SWEEP_RATES; do
      [ "$rate" -lt "$start" ] && continue
      run_one sweep "$path" "$n" "$rate" $SWEEP_S 1 || break
      if [ "$RUN_OK" = 1 ]; then
        fails=0
        # The sender could not reach the target: on veths the sending
        # CPU also runs the receive path (softirq), so this is as fast
        # as this path goes here.
        [ "$RUN_BOUND" = 1 ] && break
        continue
      fi
      fails=$((fails + 1))
      [ $fails -ge 2 ] && break
      # once more at the same rate: another user's burst, not the path?
      run_one sweep "$path" "$n" "$rate" $SWEEP_S 2 || break
      [ "$RUN_OK" = 1 ] || break
      fails=0
    done
    # the plan had every step of this series: now it has what ran
    plan_add $(( DONE_RUNS - series0 - $(sweep_steps "$n") )) $SWEEP_S
  done
fi

# --- phase 3: receivers drop at ingress -----------------------------------------------
if [ $DROP -eq 1 ]; then
  for run in $(runs_of "$DROP_SIZES"); do
    run_one drop "${run#*:}" "${run%%:*}" $VIDEO_RATE $DROP_S 1
  done
  # Once more for the kernel path with BPF run-time statistics on. Apart,
  # because they cost two clock reads per program run (the drop programs'
  # too, once per copy) and would inflate the CPU figures above.
  case " $PATHS " in
    *" kernel "*|*" kernel-consume "*|*" kernel@base "*|*" kernel-consume@base "*)
      ip netns exec "$P-rel" "$BPF" stats --seconds 1800 >"$OUT/bpf-stats.log" 2>&1 &
      STATS_PID=$!
      if ebr_wait_log "$OUT/bpf-stats.log" enabled 50; then
        for n in $DROP_SIZES; do
          for path in $PATHS; do
            p=${path%@base}
            [ "${p%-consume}" = kernel ] || continue
            run_one dropstats "$path" "$n" $VIDEO_RATE $DROP_S 1
          done
        done
      else
        log "BPF statistics unavailable: $(cat "$OUT/bpf-stats.log")"
      fi
      ebr_stop "$STATS_PID" 50 TERM
      ;;
  esac
fi

# --- phase 4: loss and repair ------------------------------------------------------------
if [ $LOSS -eq 1 ]; then
  for rep in $(seq 1 "$REPEAT"); do
    for n in $LOSS_SIZES; do
      for path in $LOSS_PATHS; do
        run_loss "$path" "$n" 0 "$rep"
        run_loss "$path" "$n" "$LOSS_PCT" "$rep"
      done
    done
  done
  # per path and N, the loss runs against the no-loss runs (means over the
  # repeats)
  awk -F'\t' -v pct="$LOSS_PCT" '
    NR > 1 && $3 + 0 == 0 { k = $1 " " $2; c0[k] += $20; p50z[k] += $16; p99z[k] += $17; nz[k]++ }
    NR > 1 && $3 + 0 > 0 { k = $1 " " $2; c1[k] += $20; r[k] += $14; d[k] += $9; nk[k] += $11
      rc[k] += $12; fl[k] += $8; p50[k] += $16; p99[k] += $17; rp99[k] += $19; n1[k]++ }
    END {
      printf "\nLoss and repair: %s %% random loss on every viewer link, NACKed by every viewer (loss.tsv)\n", pct
      printf "%-10s %5s %9s %10s %11s %15s %16s %10s %10s %11s\n", "path", "N", "dropped",
        "recovered", "final loss", "resent/dropped", "relay us/resent", "p50 x", "p99 x", "rec p99 us"
      for (k in n1) {
        if (!nz[k]) continue
        split(k, a, " ")
        printf "%-10s %5s %9d %9.2f%% %10.4f%% %15.3f %16.1f %10.3f %10.3f %11.0f\n", a[1], a[2],
          d[k] / n1[k], nk[k] ? 100 * rc[k] / nk[k] : 0, fl[k] / n1[k],
          d[k] ? r[k] / d[k] : 0,
          r[k] ? (c1[k] / n1[k] - c0[k] / nz[k]) / (r[k] / n1[k]) / 1e3 : 0,
          p50z[k] ? (p50[k] / n1[k]) / (p50z[k] / nz[k]) : 0,
          p99z[k] ? (p99[k] / n1[k]) / (p99z[k] / nz[k]) : 0, rp99[k] / n1[k]
      }
    }' "$LOSS_RESULTS" >"$OUT/loss-table.txt"
  cat "$OUT/loss-table.txt" >&2
fi

echo "uptime at end: $(uptime)" >>"$OUT/machine.txt"

# --- table ---------------------------------------------------------------------------
"$here/report.sh" "$OUT" >"$OUT/table.txt"
[ -s "$OUT/loss-table.txt" ] && cat "$OUT/loss-table.txt" >>"$OUT/table.txt"
cat "$OUT/table.txt"
if [ $HAVE_GNUPLOT -eq 1 ]; then
  "$here/plot.sh" "$OUT" "${PLOTS:-$OUT}" && log "plots in ${PLOTS:-$OUT}"
fi
log "results in $OUT"
