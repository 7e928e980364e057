# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
#
# tests/lib/e2e.sh: what every end-to-end test (tests/e2e/) does the same
# way. Source it, then call e2e_init NAME. Builds on tests/lib/ebr.sh (one
# library for examples, tests and bench), which e2e_init sources.
#
# Environment (meson sets it; by hand the defaults fit a ./build dir):
#   EBR_SOURCE_ROOT     source tree (default: two levels above this file)
#   EBR_UDP_RECORDS, EBR_TCX_COUNT, EBR_RELAY_CTL   the test tools (and the
#                       others a test asks e2e_tool for: EBR_RTP_PRIO, ...)
#   GST_PLUGIN_PATH     where libgstebpfrelay.so is (default build/gst-plugin)
#   EBR_E2E_TMP         where the per-test work directory goes (default /tmp)
#   EBR_E2E_KEEP=1      keep the work directory even when the test passes
#   EBR_E2E_PACE_US     microseconds between two sent datagrams (default 2000)
#
# Exit codes: 0 pass, 1 fail, 77 skip (only for missing privilege).
#
# Feedback-plane helpers (e2e-rtcp*.sh, e2e-latejoin.sh): e2e_now,
# e2e_count (rtcp-tool.py captures), e2e_stat_of, e2e_relay_stat.

E2E_SKIP=77
E2E_PIDS=()
E2E_NAMESPACES=()
E2E_FAILED=0
E2E_CTL_FD=
E2E_CTL_NAME=
E2E_CLEANUPS=()

e2e_log ()
{
  echo "[$E2E_NAME $(date +%T.%3N)] $*"
}

e2e_fail ()
{
  echo "FAIL: $*" >&2
  E2E_FAILED=1
  exit 1
}

# e2e_init NAME: checks, paths, traps; sets E2E_PREFIX and E2E_WORK.
e2e_init ()
{
  E2E_NAME=$1
  # shellcheck source=ebr.sh
  . "$(dirname "${BASH_SOURCE[0]}")/ebr.sh"
  EBR_SOURCE_ROOT=${EBR_SOURCE_ROOT:-$EBR_LIB_ROOT}

  if ! ebr_have_netns; then
    echo "SKIP: $E2E_NAME needs root and 'ip netns'"
    exit $E2E_SKIP
  fi

  export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$EBR_SOURCE_ROOT/build/gst-plugin}
  E2E_PACE_US=${EBR_E2E_PACE_US:-2000}

  e2e_tool EBR_UDP_RECORDS udp-records
  e2e_tool EBR_TCX_COUNT tcx-count
  e2e_tool EBR_RELAY_CTL relay-ctl
  local t
  for t in gst-launch-1.0 gst-inspect-1.0 ss; do
    command -v "$t" >/dev/null || { echo "FAIL: $t not installed" >&2; exit 1; }
  done
  # A missing plugin is a failure, never a skip. This also builds the
  # test's registry once; the pipelines after it only read it.
  if ! gst-inspect-1.0 ebpfrelaysink >/dev/null 2>&1; then
    echo "FAIL: gst-inspect-1.0 cannot find ebpfrelaysink" \
      "(GST_PLUGIN_PATH=$GST_PLUGIN_PATH)" >&2
    exit 1
  fi
  for t in udpsrc udpsink filesrc filesink identity; do
    gst-inspect-1.0 "$t" >/dev/null 2>&1 \
      || { echo "FAIL: GStreamer element $t not found" >&2; exit 1; }
  done
  export GST_REGISTRY_UPDATE=no

  E2E_PREFIX=ebr-$$
  E2E_WORK=$(mktemp -d "${EBR_E2E_TMP:-/tmp}/$E2E_NAME.XXXXXX")
  # The test's own stderr, for cleanup messages even when the trap fires
  # inside a command whose stderr is redirected.
  exec {E2E_STDERR}>&2
  ebr_on_exit e2e_cleanup
  e2e_log "work directory $E2E_WORK, namespaces $E2E_PREFIX-*"
}

# e2e_tool VAR NAME: the test tool NAME (tests/tools, built with -Dtests=
# enabled) in VAR, exported: $VAR, else the build's tests directory
# (ebr_test_tool). Fails the test when it is not built.
e2e_tool ()
{
  local t
  t=$(ebr_test_tool "$2" "$1") || e2e_fail "test tool $2 not built"
  export "$1=$t"
}

# e2e_cleanup RC (ebr_on_exit): stops every job, removes the namespaces,
# shows the logs of a failed test.
e2e_cleanup ()
{
  local rc=$1 ns i
  [ $E2E_FAILED -eq 0 ] || rc=1
  for i in "${E2E_CTL_FDS[@]}"; do
    [ -z "$i" ] || eval "exec $i>&-" 2>/dev/null || true
  done
  ebr_stop_all 20 TERM
  for i in "${E2E_CLEANUPS[@]}"; do
    eval "$i" >/dev/null 2>&1 || true
  done
  for ns in "${E2E_NAMESPACES[@]}"; do
    ebr_ns_del "$ns"
  done
  ebr_topology_down "$E2E_PREFIX"
  if [ $rc -ne 0 ] && [ -d "$E2E_WORK" ]; then
    {
      echo "--- $E2E_NAME failed (rc=$rc); logs in $E2E_WORK:"
      for f in "$E2E_WORK"/*.log; do
        [ -s "$f" ] || continue
        echo "--- $(basename "$f") (last 15 lines)"
        tail -n 15 "$f"
      done
    } >&"$E2E_STDERR"
  elif [ "${EBR_E2E_KEEP:-0}" != 1 ]; then
    rm -rf "$E2E_WORK"
  fi
  exit $rc
}

# e2e_on_cleanup CMD: CMD (a shell command line) runs in e2e_cleanup, after
# the jobs are stopped and before the namespaces are removed, however the
# test ends (nft tables, qdiscs; its output and status are ignored).
e2e_on_cleanup ()
{
  E2E_CLEANUPS+=("$1")
}

# e2e_ns NAME: a namespace of this test outside the standard topology.
e2e_ns ()
{
  E2E_NAMESPACES+=("$1")
  ebr_ns_add "$1" || e2e_fail "cannot create namespace $1"
}

# e2e_bg NS LOG CMD...: runs CMD in NS in the background, stdout and stderr
# to $E2E_WORK/LOG.log; sets E2E_LAST_PID. `ip netns exec` execs CMD, so
# the pid is CMD's own.
e2e_bg ()
{
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$@" >"$E2E_WORK/$log.log" 2>&1 </dev/null &
  E2E_LAST_PID=$!
  E2E_PIDS+=("$E2E_LAST_PID")
}

# e2e_wait_udp NS PORT...: waits (10 s at most) until a UDP socket is bound
# to each PORT in NS.
e2e_wait_udp ()
{
  local ns=$1
  shift
  ebr_wait_udp "$ns" 100 "$@" \
    || e2e_fail "in $ns no socket on UDP port(s)$EBR_UNBOUND after 10 s"
}

# e2e_wait_log NAME ERE [TENTHS]: waits (default 10 s) until
# $E2E_WORK/NAME.log has a line matching ERE; fails the test otherwise.
e2e_wait_log ()
{
  ebr_wait_log "$E2E_WORK/$1.log" "$2" "${3:-100}" \
    || e2e_fail "$1.log has no line matching '$2'"
}

# e2e_tcx NS IF: prints the number of TCX ingress programs on IF.
e2e_tcx ()
{
  ip netns exec "$1" "$EBR_TCX_COUNT" "$2" | sed -n 's/^ingress=\([0-9]*\).*/\1/p'
}

# e2e_wait_tcx NS N IF...: waits (10 s at most) until each IF in NS has
# exactly N TCX ingress programs.
e2e_wait_tcx ()
{
  local ns=$1 n=$2
  shift 2
  ebr_until 100 e2e_tcx_are "$ns" "$n" "$@" \
    || e2e_fail "in $ns expected $n TCX ingress program(s), have:$E2E_TCX_BAD"
}

# e2e_tcx_are NS N IF...: each IF in NS has N TCX ingress programs; the
# others go to E2E_TCX_BAD (" IF=COUNT ...").
e2e_tcx_are ()
{
  local ns=$1 n=$2 ifc c
  shift 2
  E2E_TCX_BAD=
  for ifc in "$@"; do
    c=$(e2e_tcx "$ns" "$ifc")
    [ "$c" = "$n" ] || E2E_TCX_BAD="$E2E_TCX_BAD $ifc=$c"
  done
  [ -z "$E2E_TCX_BAD" ]
}

# e2e_alive PID WHAT: fails the test if PID has exited.
e2e_alive ()
{
  ebr_running "$1" || e2e_fail "$2 (pid $1) exited early; see its log"
}

# e2e_receivers NS NAME HOST PORT...: one gst-launch in NS with one
# `udpsrc port=P ! filesink location=$E2E_WORK/NAME-P.bin` branch per PORT;
# waits until every port is bound; sets E2E_LAST_PID. E2E_RECV_ADDRESS
# (default: udpsrc's 0.0.0.0): the address they bind, e.g. :: for IPv6 and
# IPv4 (dual stack).
e2e_receivers ()
{
  local ns=$1 name=$2 port
  shift 2
  local desc=() addr=()
  [ -z "${E2E_RECV_ADDRESS:-}" ] || addr=(address="$E2E_RECV_ADDRESS")
  for port in "$@"; do
    # A large receive buffer, so a descheduled receiver loses nothing.
    desc+=(udpsrc "${addr[@]}" port="$port" buffer-size=2097152
      ! filesink location="$E2E_WORK/$name-$port.bin" buffer-mode=unbuffered)
  done
  e2e_bg "$ns" "recv-$name" gst-launch-1.0 -e "${desc[@]}"
  local pid=$E2E_LAST_PID
  e2e_wait_udp "$ns" "$@"
  e2e_alive "$pid" "receiver $name"
  E2E_LAST_PID=$pid
}

# e2e_gen FILE COUNT SIZE
e2e_gen ()
{
  "$EBR_UDP_RECORDS" gen "$1" "$2" "$3" || e2e_fail "udp-records gen $*"
}

# e2e_send_bg NS FILE SIZE HOST PORT [LOG]: starts sending FILE one
# SIZE-byte datagram at a time, paced by E2E_PACE_US; sets E2E_LAST_PID.
e2e_send_bg ()
{
  local ns=$1 file=$2 size=$3 host=$4 port=$5 log=${6:-send-$5}
  e2e_bg "$ns" "$log" gst-launch-1.0 -q filesrc location="$file" \
    blocksize="$size" ! identity sleep-time="$E2E_PACE_US" \
    ! udpsink host="$host" port="$port"
}

# e2e_wait_send PID: waits for a sender; fails the test if it failed.
e2e_wait_send ()
{
  wait "$1" || e2e_fail "a sender failed (exit $?; see the send-*.log)"
}

# e2e_send NS FILE SIZE HOST PORT [LOG]: e2e_send_bg, and wait for it.
e2e_send ()
{
  e2e_send_bg "$@"
  e2e_wait_send "$E2E_LAST_PID"
}

# e2e_check FILE COUNT SIZE [--range]: udp-records check; its summary goes
# to stderr and check.log, the range (--range) to E2E_RANGE; returns its
# status.
e2e_check ()
{
  local err rc
  E2E_RANGE=$("$EBR_UDP_RECORDS" check "$@" 2>"$E2E_WORK/check.tmp")
  rc=$?
  err=$(cat "$E2E_WORK/check.tmp")
  echo "$err" >>"$E2E_WORK/check.log"
  echo "$err" | sed "s|^$E2E_WORK/||" >&2
  return $rc
}

# --- the feedback-plane tests (rtcp-tool.py captures, relay stats) --------

# e2e_now: the unix time with nanoseconds (the captures' "t=" clock).
e2e_now ()
{
  date +%s.%N
}

# e2e_count FILE ITEM-ERE [FROM [TO]]: the lines of an rtcp-tool.py
# capture FILE ("t=UNIX from=IP:PORT len=N ITEM...") with an item matching
# ITEM-ERE, received at unix time FROM <= t < TO.
e2e_count ()
{
  awk -v re="$2" -v from="${3:-0}" -v to="${4:-1e12}" '
    { t = substr($1, 3) + 0 }
    t >= from && t < to { for (i = 4; i <= NF; i++) if ($i ~ re) { n++; break } }
    END { print n + 0 }' "$1"
}

# e2e_stat_of FIELD: the number FIELD in the last e2e_ctl_stats line.
e2e_stat_of ()
{
  ebr_field "$E2E_STATS_LINE" "$1"
}

# e2e_relay_stat FIELD: the number FIELD in the current relay's "stats"
# property, read now.
e2e_relay_stat ()
{
  e2e_ctl stats
  ebr_field "$(grep '^stats ' <<<"$E2E_CTL_REPLY")" "$1"
}

# --- relay-ctl ------------------------------------------------------------
# Several relay-ctl may run; e2e_ctl* talk to the current one (the last
# started, or the one e2e_ctl_select NAME names).
declare -A E2E_CTL_PIDS=() E2E_CTL_FDS=() E2E_CTL_OUTS=()

# e2e_ctl_start NS NAME PIPELINE: relay-ctl in NS reading commands from a
# FIFO; output in $E2E_WORK/NAME.out, stderr in NAME.log; waits for
# "ready" and makes it the current one.
e2e_ctl_start ()
{
  local ns=$1 name=$2 pipeline=$3 fifo fd
  fifo=$E2E_WORK/$name.fifo
  mkfifo "$fifo"
  ip netns exec "$ns" "$EBR_RELAY_CTL" "$pipeline" \
    <"$fifo" >"$E2E_WORK/$name.out" 2>"$E2E_WORK/$name.log" &
  E2E_CTL_PIDS[$name]=$!
  E2E_PIDS+=("$!")
  exec {fd}>"$fifo"
  E2E_CTL_FDS[$name]=$fd
  E2E_CTL_OUTS[$name]=$E2E_WORK/$name.out
  e2e_ctl_select "$name"
  ebr_wait_log "$E2E_CTL_OUT" '^ready$' 100 "$E2E_CTL_PID" && return 0
  e2e_fail "relay-ctl $name did not become ready: $(cat "$E2E_WORK/$name.log")"
}

# e2e_ctl_select NAME
e2e_ctl_select ()
{
  E2E_CTL_NAME=$1
  E2E_CTL_PID=${E2E_CTL_PIDS[$1]}
  E2E_CTL_FD=${E2E_CTL_FDS[$1]}
  E2E_CTL_OUT=${E2E_CTL_OUTS[$1]}
}

# e2e_ctl CMD...: sends one command, waits (10 s) for its "ok"; the lines
# it produced before the "ok" go to E2E_CTL_REPLY.
e2e_ctl ()
{
  local before i n
  before=$(wc -l <"$E2E_CTL_OUT")
  echo "$*" >&"$E2E_CTL_FD" || e2e_fail "relay-ctl is gone (command: $*)"
  for i in $(seq 500); do
    n=$(tail -n +"$((before + 1))" "$E2E_CTL_OUT" | grep -cx ok)
    if [ "$n" -ge 1 ]; then
      E2E_CTL_REPLY=$(tail -n +"$((before + 1))" "$E2E_CTL_OUT" | sed '/^ok$/,$d')
      return 0
    fi
    ebr_running "$E2E_CTL_PID" || break
    sleep 0.02
  done
  e2e_fail "relay-ctl: no ok for '$*'"
}

# e2e_ctl_batch CMD-LINE...: sends several commands at once and waits
# (30 s) for all their "ok"s; their output lines go to E2E_CTL_REPLY.
e2e_ctl_batch ()
{
  local before i n
  before=$(wc -l <"$E2E_CTL_OUT")
  printf '%s\n' "$@" >&"$E2E_CTL_FD" || e2e_fail "relay-ctl is gone"
  for i in $(seq 1500); do
    n=$(tail -n +"$((before + 1))" "$E2E_CTL_OUT" | grep -cx ok)
    if [ "$n" -ge $# ]; then
      E2E_CTL_REPLY=$(tail -n +"$((before + 1))" "$E2E_CTL_OUT" | grep -vx ok)
      return 0
    fi
    ebr_running "$E2E_CTL_PID" || break
    sleep 0.02
  done
  e2e_fail "relay-ctl: not all of $# commands answered"
}

# e2e_ctl_stats_all HOST:PORT...: get-stats for each; prints one line per
# missing field). An IPv6 HOST in brackets: [2001:db8::2]:6000.
e2e_ctl_stats_all ()
{
  local sub cmds=()
  for sub in "$@"; do
    cmds+=("get-stats ${sub%:*} ${sub##*:}")
  done
  e2e_ctl_batch "${cmds[@]}"
  grep '^get-stats ' <<<"$E2E_CTL_REPLY" | awk '
    function field(name,   m) {
      if (match($0, "[ ,]" name "=\\([a-z0-9]*\\)[0-9]+")) {
        m = substr($0, RSTART, RLENGTH); sub(/.*\)/, "", m); return m
      }
      return "-"
    }
    {
      port = field("port")
      match($0, /host=\(string\)[^,]*/); host = substr($0, RSTART + 13, RLENGTH - 13)
      if (host ~ /:/) host = "[" host "]"
      print host ":" port, field("kernel-packets"), field("user-packets"), field("packets")
    }'
}

# e2e_ctl_field_all FIELD HOST:PORT...: get-stats for each; prints one
# line "HOST:PORT VALUE" per answer, VALUE the field's (a string or a
# number; - when missing). An IPv6 HOST in brackets.
e2e_ctl_field_all ()
{
  local f=$1 sub cmds=()
  shift
  for sub in "$@"; do
    cmds+=("get-stats ${sub%:*} ${sub##*:}")
  done
  e2e_ctl_batch "${cmds[@]}"
  grep '^get-stats ' <<<"$E2E_CTL_REPLY" | awk -v f="$f" '
    function field(name,   m) {
      if (match($0, "[ ,]" name "=\\([a-z0-9]*\\)[^,;]*")) {
        m = substr($0, RSTART, RLENGTH); sub(/^[^)]*\)/, "", m); gsub(/"/, "", m)
        return m
      }
      return "-"
    }
    {
      port = field("port")
      match($0, /host=\(string\)[^,]*/); host = substr($0, RSTART + 13, RLENGTH - 13)
      if (host ~ /:/) host = "[" host "]"
      print host ":" port, field(f)
    }'
}

# e2e_ctl_stats HOST PORT: get-stats; sets E2E_KP, E2E_UP, E2E_P (kernel-,
# user- and total packets; empty when the field is missing).
e2e_ctl_stats ()
{
  local s
  e2e_ctl get-stats "$1" "$2"
  s=$(grep "^get-stats " <<<"$E2E_CTL_REPLY" | sed "s/^get-stats [^,]*, //")
  E2E_KP=$(ebr_field "$s" kernel-packets)
  E2E_UP=$(ebr_field "$s" user-packets)
  E2E_P=$(ebr_field "$s" packets)
  E2E_STATS_LINE=$s
}

# e2e_ctl_stop: end of input for the current relay-ctl, which stops its
# pipeline and exits.
e2e_ctl_stop ()
{
  [ -n "$E2E_CTL_FD" ] || return 0
  eval "exec $E2E_CTL_FD>&-"
  E2E_CTL_FDS[$E2E_CTL_NAME]=
  E2E_CTL_FD=
  ebr_stop "$E2E_CTL_PID" 50 0    # no signal: end of input stops it
}

# --- the subscription tests (e2e-subscribe.sh, e2e-subscribe-relay.sh) ----

# e2e_sub_init NCLIENTS: control-stub in STUB, the stream's constants
# (COUNT packets of PKT bytes, media port MPORT, control port CPORT, CAPS),
# P, the topology with NCLIENTS clients and $E2E_WORK/stream.bin.
e2e_sub_init ()
{
  e2e_tool EBR_CONTROL_STUB control-stub
  STUB=$EBR_CONTROL_STUB
  gst-inspect-1.0 ebpfprioritysrc >/dev/null 2>&1 \
    || e2e_fail "gst-inspect-1.0 cannot find ebpfprioritysrc"
  COUNT=400 PKT=32 CPORT=5005 MPORT=5004
  CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
  P=$E2E_PREFIX
  E2E_PACE_US=${EBR_E2E_PACE_US:-3000}
  ebr_topology_up "$P" "$1" || e2e_fail "topology"
  "$STUB" gen "$E2E_WORK/stream.bin" "$COUNT" || e2e_fail "control-stub gen"
}

# e2e_sub_viewer NS NAME RELAY-ADDR TOKEN [PROPERTY...]: in NS, an
# ebpfprioritysrc (with PROPERTY...) on port 6000 at priority-limit 6 that
# subscribes at RELAY-ADDR:CPORT with TOKEN; what it receives goes to
# $E2E_WORK/NAME.bin. Sets E2E_LAST_PID.
e2e_sub_viewer ()
{
  local ns=$1 name=$2 relay_addr=$3 token=$4
  shift 4
  e2e_bg "$ns" "$name" gst-launch-1.0 -e ebpfprioritysrc "$@" port=6000 \
    relay="$relay_addr:$CPORT" token="$token" priority-limit=6 \
    caps="$CAPS" ! filesink location="$E2E_WORK/$name.bin" \
    buffer-mode=unbuffered
}
