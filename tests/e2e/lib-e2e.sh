# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
#
# lib-e2e.sh: what every end-to-end test does the same way. Source it, then
# call e2e_init NAME. Builds on examples/lib-netns.sh (one topology
# mechanism for examples and tests).
#
# Environment (meson sets it; by hand the defaults fit a ./build dir):
#   EBR_SOURCE_ROOT     source tree (default: two levels above this file)
#   EBR_UDP_RECORDS, EBR_TCX_COUNT, EBR_RELAY_CTL   the test tools
#   GST_PLUGIN_PATH     where libgstebpfrelay.so is (default build/gst-plugin)
#   EBR_E2E_TMP         where the per-test work directory goes (default /tmp)
#   EBR_E2E_KEEP=1      keep the work directory even when the test passes
#   EBR_E2E_PACE_US     microseconds between two sent datagrams (default 2000)
#
# Exit codes: 0 pass, 1 fail, 77 skip (only for missing privilege).

E2E_SKIP=77
E2E_PIDS=()
E2E_NAMESPACES=()
E2E_FAILED=0
E2E_CTL_FD=
E2E_CTL_NAME=

e2e_log ()
{
  echo "[$E2E_NAME $(date +%T.%3N)] $*"
}

# e2e_running PID: PID is a background job of this shell still running
# (examples/lib-netns.sh, sourced by e2e_init).
e2e_running ()
{
  ebr_running "$1"
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
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  EBR_SOURCE_ROOT=${EBR_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
  # shellcheck source=../../examples/lib-netns.sh
  . "$EBR_SOURCE_ROOT/examples/lib-netns.sh"

  if ! ebr_have_netns; then
    echo "SKIP: $E2E_NAME needs root and 'ip netns'"
    exit $E2E_SKIP
  fi

  local build=$EBR_SOURCE_ROOT/build
  EBR_UDP_RECORDS=${EBR_UDP_RECORDS:-$build/tests/udp-records}
  EBR_TCX_COUNT=${EBR_TCX_COUNT:-$build/tests/tcx-count}
  EBR_RELAY_CTL=${EBR_RELAY_CTL:-$build/tests/relay-ctl}
  export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$build/gst-plugin}
  E2E_PACE_US=${EBR_E2E_PACE_US:-2000}

  local t
  for t in "$EBR_UDP_RECORDS" "$EBR_TCX_COUNT" "$EBR_RELAY_CTL"; do
    [ -x "$t" ] || { echo "FAIL: test tool $t not built" >&2; exit 1; }
  done
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
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM HUP
  trap 'exit 141' PIPE
  e2e_log "work directory $E2E_WORK, namespaces $E2E_PREFIX-*"
}

e2e_cleanup ()
{
  local rc=$? pid ns i
  trap - EXIT
  trap '' PIPE
  [ $E2E_FAILED -eq 0 ] || rc=1
  for i in "${E2E_CTL_FDS[@]}"; do
    [ -z "$i" ] || eval "exec $i>&-" 2>/dev/null || true
  done
  # Only children not yet reaped: a pid already waited for may belong to
  # someone else by now.
  local live
  live=$(jobs -rp)
  for pid in $live; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq 20); do
    local alive=0
    for pid in $live; do
      e2e_running "$pid" && alive=1
    done
    [ $alive -eq 1 ] || break
    sleep 0.1
  done
  for pid in $live; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
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
  local ns=$1 i port missing
  shift
  for i in $(seq 100); do
    missing=
    local bound
    bound=$(ip netns exec "$ns" ss -Hlun 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    for port in "$@"; do
      grep -qx "$port" <<<"$bound" || missing="$missing $port"
    done
    [ -n "$missing" ] || return 0
    sleep 0.1
  done
  e2e_fail "in $ns no socket on UDP port(s)$missing after 10 s"
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
  local ns=$1 n=$2 i ifc bad
  shift 2
  for i in $(seq 100); do
    bad=
    for ifc in "$@"; do
      [ "$(e2e_tcx "$ns" "$ifc")" = "$n" ] || bad="$bad $ifc=$(e2e_tcx "$ns" "$ifc")"
    done
    [ -n "$bad" ] || return 0
    sleep 0.1
  done
  e2e_fail "in $ns expected $n TCX ingress program(s), have:$bad"
}

# e2e_alive PID WHAT: fails the test if PID has exited.
e2e_alive ()
{
  e2e_running "$1" || e2e_fail "$2 (pid $1) exited early; see its log"
}

# e2e_receivers NS NAME HOST PORT...: one gst-launch in NS with one
# `udpsrc port=P ! filesink location=$E2E_WORK/NAME-P.bin` branch per PORT;
# waits until every port is bound; sets E2E_LAST_PID.
e2e_receivers ()
{
  local ns=$1 name=$2 port
  shift 2
  local desc=()
  for port in "$@"; do
    # A large receive buffer, so a descheduled receiver loses nothing.
    desc+=(udpsrc port="$port" buffer-size=2097152
      ! filesink location="$E2E_WORK/$name-$port.bin" buffer-mode=unbuffered)
  done
  e2e_bg "$ns" "recv-$name" gst-launch-1.0 -e "${desc[@]}"
  local pid=$E2E_LAST_PID
  e2e_wait_udp "$ns" "$@"
  e2e_alive "$pid" "receiver $name"
  E2E_LAST_PID=$pid
}

# e2e_stop PID: SIGINT (gst-launch -e sends EOS, filesink flushes) and wait
# up to 10 s, then SIGKILL.
e2e_stop ()
{
  local pid=$1 i
  e2e_running "$pid" || { wait "$pid" 2>/dev/null; return 0; }
  kill -INT "$pid" 2>/dev/null
  for i in $(seq 100); do
    e2e_running "$pid" || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
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

# e2e_field STRUCTURE-STRING FIELD: the number in "FIELD=(type)N" (empty if
# absent).
e2e_field ()
{
  grep -oE "(^|[ ,])$2=\([a-z0-9]*\)[0-9]+" <<<"$1" | head -n 1 | sed 's/.*)//'
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
  local ns=$1 name=$2 pipeline=$3 fifo i fd
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
  for i in $(seq 100); do
    grep -qx ready "$E2E_CTL_OUT" 2>/dev/null && return 0
    e2e_running "$E2E_CTL_PID" || break
    sleep 0.1
  done
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
    e2e_running "$E2E_CTL_PID" || break
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
    e2e_running "$E2E_CTL_PID" || break
    sleep 0.02
  done
  e2e_fail "relay-ctl: not all of $# commands answered"
}

# e2e_ctl_stats_all HOST:PORT...: get-stats for each; prints one line per
# subscriber: "HOST:PORT KERNEL-PACKETS USER-PACKETS PACKETS" ("-" for a
# missing field).
e2e_ctl_stats_all ()
{
  local sub cmds=()
  for sub in "$@"; do
    cmds+=("get-stats ${sub%:*} ${sub#*:}")
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
      print host ":" port, field("kernel-packets"), field("user-packets"), field("packets")
    }'
}

# e2e_ctl_stats HOST PORT: get-stats; sets E2E_KP, E2E_UP, E2E_P (kernel-,
# user- and total packets; empty when the field is missing).
e2e_ctl_stats ()
{
  local s
  e2e_ctl get-stats "$1" "$2"
  s=$(grep "^get-stats " <<<"$E2E_CTL_REPLY" | sed "s/^get-stats [^,]*, //")
  E2E_KP=$(e2e_field "$s" kernel-packets)
  E2E_UP=$(e2e_field "$s" user-packets)
  E2E_P=$(e2e_field "$s" packets)
  E2E_STATS_LINE=$s
}

# e2e_ctl_stop: end of input for the current relay-ctl, which stops its
# pipeline and exits.
e2e_ctl_stop ()
{
  local i
  [ -n "$E2E_CTL_FD" ] || return 0
  eval "exec $E2E_CTL_FD>&-"
  E2E_CTL_FDS[$E2E_CTL_NAME]=
  E2E_CTL_FD=
  for i in $(seq 50); do
    e2e_running "$E2E_CTL_PID" || break
    sleep 0.1
  done
  ! e2e_running "$E2E_CTL_PID" || kill -KILL "$E2E_CTL_PID" 2>/dev/null
  wait "$E2E_CTL_PID" 2>/dev/null
}
