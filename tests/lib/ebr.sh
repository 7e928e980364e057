# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# tests/lib/ebr.sh: the one shell library of the examples, the end-to-end
# tests (through tests/lib/e2e.sh, which builds on it) and the benchmark,
# so that all of them build the same topology, stop their jobs and wait
# for sockets and log lines the same way. Source it; it defines functions
# (and EBR_LIB_ROOT, the source tree it belongs to) only and changes no
# shell option.
#
#   topology     ebr_topology_up/v6/down/check/summary/namespaces, ebr_ns_*,
#                ebr_veth, ebr_cli_net, ebr_reach, ebr_ping
#   clean-up     ebr_on_exit FUNC: FUNC runs once however the script ends
#   jobs         ebr_running, ebr_stop (the one way to stop a job),
#                ebr_stop_all, ebr_kill
#   waiting      ebr_until, ebr_udp_bound, ebr_wait_udp, ebr_log_has,
#                ebr_wait_log, ebr_prog_ids, ebr_wait_relay
#   examples     ebr_example_setup, ebr_example_end, ebr_test_tool,
#                ebr_demo_args, ebr_demo_verdict
#   parsing      ebr_field
#
# Times are in tenths of a second everywhere.
#
# The topology (prefix P, N clients):
#
#   P-srv  eth0 10.200.1.1/24 ──── up0 10.200.1.2/24   P-rel
#                                  down1 10.200.11.1/24 ──── eth0 10.200.11.2/24  P-cli1
#                                  ...
#                                  downK 10.200.(10+K).1/24 ── eth0 10.200.(10+K).2/24  P-cliK
#
# Every veth is created directly inside its namespaces, so no interface
# name ever appears in the root namespace and parallel users never collide.
# srv and every cli have a default route via the relay; the relay forwards
# (net.ipv4.ip_forward=1) but does no NAT; nothing leads out of the
# namespaces.

# The source tree this library belongs to (two levels up).
EBR_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# ebr_have_netns: succeeds when we may create namespaces (root, ip netns).
ebr_have_netns ()
{
  [ "$(id -u)" -eq 0 ] || return 1
  command -v ip >/dev/null 2>&1 || return 1
  ip netns list >/dev/null 2>&1 || return 1
}

# ebr_ns_exists NS
ebr_ns_exists ()
{
  [ -e "/run/netns/$1" ]
}

# ebr_ns_add NS: creates NS (if missing) with lo up.
ebr_ns_add ()
{
  local ns=$1
  if ! ebr_ns_exists "$ns"; then
    ip netns add "$ns" || return 1
  fi
  ip -n "$ns" link set lo up
}

# ebr_ns_del NS: deletes NS if it exists (its veths go with it, and with
# them every TC program attached to them).
ebr_ns_del ()
{
  local ns=$1
  if ebr_ns_exists "$ns"; then
    # Processes still running in the namespace keep it alive but detached;
    # killing them is the caller's business (it knows their pids).
    ip netns del "$ns" 2>/dev/null || true
  fi
}

# ebr_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B
# A veth pair IF_A (in NS_A) <-> IF_B (in NS_B), addresses in CIDR form
# (empty: none), both ends up. Idempotent.
ebr_veth ()
{
  local nsa=$1 ifa=$2 addra=$3 nsb=$4 ifb=$5 addrb=$6
  if ! ip -n "$nsa" link show dev "$ifa" >/dev/null 2>&1; then
    # A stale half (the other end's namespace was deleted) cannot exist:
    # deleting one end of a veth deletes the pair.
    ip -n "$nsa" link add name "$ifa" type veth peer name "$ifb" netns "$nsb" \
      || return 1
  fi
  [ -z "$addra" ] || ip -n "$nsa" addr replace "$addra" dev "$ifa" || return 1
  [ -z "$addrb" ] || ip -n "$nsb" addr replace "$addrb" dev "$ifb" || return 1
  ip -n "$nsa" link set dev "$ifa" up || return 1
  ip -n "$nsb" link set dev "$ifb" up || return 1
}

# ebr_default_route NS GW
ebr_default_route ()
{
  ip -n "$1" route replace default via "$2"
}

# ebr_forwarding NS: the namespace routes between its interfaces.
ebr_forwarding ()
{
  ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1
}

# ebr_cli_net K: the third octet of client K's subnet.
ebr_cli_net ()
{
  echo $((10 + $1))
}

# ebr_topology_up PREFIX NCLIENTS
ebr_topology_up ()
{
  local p=$1 n=$2 k net
  if [ "$n" -lt 1 ] || [ "$n" -gt 240 ]; then
    echo "ebr_topology_up: 1..240 clients, not $n" >&2
    return 1
  fi
  ebr_ns_add "$p-srv" || return 1
  ebr_ns_add "$p-rel" || return 1
  ebr_forwarding "$p-rel" || return 1
  ebr_veth "$p-srv" eth0 10.200.1.1/24 "$p-rel" up0 10.200.1.2/24 || return 1
  ebr_default_route "$p-srv" 10.200.1.2 || return 1
  for k in $(seq 1 "$n"); do
    net=$(ebr_cli_net "$k")
    ebr_ns_add "$p-cli$k" || return 1
    ebr_veth "$p-rel" "down$k" "10.200.$net.1/24" \
      "$p-cli$k" eth0 "10.200.$net.2/24" || return 1
    ebr_default_route "$p-cli$k" "10.200.$net.1" || return 1
  done
}

# ebr_topology_v6 PREFIX NCLIENTS: makes the topology of ebr_topology_up
# dual stack, on the same veths: fd00:200:1::1/64 (srv) and ::2 (rel up0),
# fd00:200:(10+K)::1/64 (rel downK) and ::2 (cliK), default routes via the
# relay, IPv6 forwarding in rel. nodad: usable at once (no DAD delay).
ebr_topology_v6 ()
{
  local p=$1 n=$2 k net
  ip netns exec "$p-rel" sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
  ip -n "$p-srv" addr replace fd00:200:1::1/64 dev eth0 nodad || return 1
  ip -n "$p-rel" addr replace fd00:200:1::2/64 dev up0 nodad || return 1
  ip -n "$p-srv" -6 route replace default via fd00:200:1::2 || return 1
  for k in $(seq 1 "$n"); do
    net=$(ebr_cli_net "$k")
    ip -n "$p-rel" addr replace "fd00:200:$net::1/64" dev "down$k" nodad || return 1
    ip -n "$p-cli$k" addr replace "fd00:200:$net::2/64" dev eth0 nodad || return 1
    ip -n "$p-cli$k" -6 route replace default via "fd00:200:$net::1" || return 1
  done
}

# ebr_topology_namespaces PREFIX: the namespaces of that topology that exist.
ebr_topology_namespaces ()
{
  local p=$1
  ip netns list 2>/dev/null | awk -v p="$p-" '
    index($1, p) == 1 && substr($1, length(p) + 1) ~ /^(srv|rel|cli[0-9]+)$/ { print $1 }'
}

# ebr_topology_down PREFIX: deletes every PREFIX-srv/rel/cliK namespace.
ebr_topology_down ()
{
  local ns
  for ns in $(ebr_topology_namespaces "$1"); do
    ebr_ns_del "$ns"
  done
}

# ebr_reach NS ADDR: one ping, one second. Without ping (iputils-ping not
# installed), a TCP connection attempt to port 9 (discard): a refusal
# comes back from ADDR, so it proves the path as well as an echo reply.
ebr_reach ()
{
  if command -v ping >/dev/null 2>&1; then
    ip netns exec "$1" ping -c1 -W1 -q "$2" >/dev/null 2>&1
  else
    local err
    err=$(ip netns exec "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) \
      && return 0
    case $err in *refused*) return 0 ;; esac
    return 1
  fi
}

# ebr_ping NS ADDR: ebr_reach, printing a line; returns its status.
ebr_ping ()
{
  if ebr_reach "$1" "$2"; then
    printf '  ok    %-14s -> %s\n' "$1" "$2"
  else
    printf '  FAIL  %-14s -> %s\n' "$1" "$2"
    return 1
  fi
}

# ebr_topology_check PREFIX NCLIENTS: every namespace present, every link
# answers, and srv reaches every client through the relay.
ebr_topology_check ()
{
  local p=$1 n=$2 k net rc=0 ns
  for ns in "$p-srv" "$p-rel" $(for k in $(seq 1 "$n"); do echo "$p-cli$k"; done); do
    if ! ebr_ns_exists "$ns"; then
      echo "  MISSING namespace $ns"
      rc=1
    fi
  done
  [ $rc -eq 0 ] || return 1
  ebr_ping "$p-srv" 10.200.1.2 || rc=1
  ebr_ping "$p-rel" 10.200.1.1 || rc=1
  for k in $(seq 1 "$n"); do
    net=$(ebr_cli_net "$k")
    ebr_ping "$p-rel" "10.200.$net.2" || rc=1
    ebr_ping "$p-cli$k" "10.200.$net.1" || rc=1
    ebr_ping "$p-srv" "10.200.$net.2" || rc=1      # through the relay
  done
  return $rc
}

# ebr_topology_summary PREFIX
ebr_topology_summary ()
{
  local p=$1 ns
  for ns in $(ebr_topology_namespaces "$p"); do
    ip -n "$ns" -4 -o addr show scope global 2>/dev/null \
      | awk -v ns="$ns" '{ printf "  %-14s %-8s %s\n", ns, $2, $4 }'
  done
}

# ---- clean-up ---------------------------------------------------------------

# ebr_on_exit FUNC: FUNC RC runs once when the script ends, however it
# ends: exit (RC = its status), INT/TERM/HUP (130), a closed stdout (141;
# the clean-up goes on all the same). The script then exits RC, unless
# FUNC exits itself.
ebr_on_exit ()
{
  EBR_ON_EXIT=$1
  trap ebr_exit_trap EXIT
  trap 'exit 130' INT TERM HUP
  trap 'exit 141' PIPE
}

ebr_exit_trap ()
{
  local rc=$?
  trap - EXIT INT TERM HUP
  trap '' PIPE    # a closed stdout must not stop the clean-up
  "$EBR_ON_EXIT" "$rc"
  exit "$rc"
}

# ---- background jobs -----------------------------------------------------------
# (processes started with `... &` by the script that sourced this file;
# these act on that shell's own jobs only, never on a bare pid: a pid
# already reaped may belong to someone else by now)

# ebr_running PID: PID is a background job of this shell still running
# (unlike kill -0, never true for a pid reaped and reused since).
ebr_running ()
{
  local live
  live=$(jobs -rp)
  [[ $'\n'$live$'\n' == *$'\n'$1$'\n'* ]]
}

# ebr_ended PID: job PID is no longer running.
ebr_ended ()
{
  ! ebr_running "$1"
}

# ebr_no_jobs: no job of this shell is running.
ebr_no_jobs ()
{
  [ -z "$(jobs -rp)" ]
}

# ebr_kill PID: SIGKILL to the children of job PID (the gst-launch a
# `timeout` runs would outlive it), then to PID; nothing if PID is no
# longer a running job.
ebr_kill ()
{
  ebr_running "$1" || return 0
  pkill -KILL -P "$1" 2>/dev/null
  kill -KILL "$1" 2>/dev/null
}

# ebr_stop PID [TENTHS] [SIGNAL]: SIGNAL (default INT: a gst-launch -e
# sends EOS and ends, its filesink flushed; 0: none, only wait) to job
# PID, up to TENTHS (default 100) for it to end, then ebr_kill; reaps it.
# Returns the job's status.
ebr_stop ()
{
  local pid=$1 tenths=${2:-100} sig=${3:-INT}
  if ebr_running "$pid"; then
    kill -"$sig" "$pid" 2>/dev/null
    ebr_until "$tenths" ebr_ended "$pid" || ebr_kill "$pid"
  fi
  wait "$pid" 2>/dev/null
}

# ebr_stop_all [TENTHS] [SIGNAL]: the same for every job of this shell
# still running, at once (default 30 tenths, INT).
ebr_stop_all ()
{
  local tenths=${1:-30} sig=${2:-INT} pid
  for pid in $(jobs -rp); do
    kill -"$sig" "$pid" 2>/dev/null
  done
  ebr_until "$tenths" ebr_no_jobs || for pid in $(jobs -rp); do
    ebr_kill "$pid"
  done
  wait 2>/dev/null
}

# ---- waiting ------------------------------------------------------------------

# ebr_until TENTHS CMD...: runs CMD every tenth of a second until it
# succeeds, for TENTHS at most; fails when it never did.
ebr_until ()
{
  local tenths=$1 i
  shift
  for ((i = 0; ; i++)); do
    "$@" && return 0
    [ "$i" -lt "$tenths" ] || return 1
    sleep 0.1
  done
}

# ebr_udp_bound NS PORT...: a UDP socket is bound to each PORT in NS; the
# ports that have none go to EBR_UNBOUND (" P1 P2").
ebr_udp_bound ()
{
  local ns=$1 port bound
  shift
  bound=$(ip netns exec "$ns" ss -Hlun 2>/dev/null | awk '{ sub(/.*:/, "", $4); print $4 }')
  EBR_UNBOUND=
  for port in "$@"; do
    grep -qx "$port" <<<"$bound" || EBR_UNBOUND="$EBR_UNBOUND $port"
  done
  [ -z "$EBR_UNBOUND" ]
}

# ebr_wait_udp NS TENTHS PORT...: waits until ebr_udp_bound NS PORT...
ebr_wait_udp ()
{
  local ns=$1 tenths=$2
  shift 2
  ebr_until "$tenths" ebr_udp_bound "$ns" "$@"
}

# ebr_log_has FILE ERE [PID]: FILE has a line matching ERE; with PID, also
# true once job PID has ended (ebr_wait_log then tells which).
ebr_log_has ()
{
  grep -qE -- "$2" "$1" 2>/dev/null || { [ -n "${3:-}" ] && ebr_ended "$3"; }
}

# ebr_wait_log FILE ERE TENTHS [PID]: waits until FILE has a line matching
# ERE; with PID, gives up early when job PID ends without writing it.
ebr_wait_log ()
{
  ebr_until "$3" ebr_log_has "$1" "$2" "${4:-}" && ebr_log_has "$1" "$2"
}

# ebr_prog_ids PID: the ids of the BPF programs process PID holds, through
# a program fd or a link fd ("prog_id:" in /proc/PID/fdinfo).
ebr_prog_ids ()
{
  cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -un
}

# ebr_relay_ready PID PREFIX PORT N: job PID holds a BPF program and
# PREFIX-cli1..N each have a UDP socket on PORT; or PID has ended.
ebr_relay_ready ()
{
  local k
  ebr_running "$1" || return 0
  [ -n "$(ebr_prog_ids "$1")" ] || return 1
  for k in $(seq 1 "$4"); do
    ebr_udp_bound "$2-cli$k" "$3" || return 1
  done
}

# ebr_wait_relay PID LOG PREFIX PORT N: waits (10 s at most) until the
# relay job PID holds its BPF program (attached by then) and a UDP socket
# is bound to PORT in each of PREFIX-cli1..N (N may be 0). Otherwise says
# why, shows LOG, and fails.
ebr_wait_relay ()
{
  local pid=$1 log=$2
  ebr_until 100 ebr_relay_ready "$pid" "$3" "$4" "$5" && ebr_running "$pid" && return 0
  if ebr_running "$pid"; then
    echo "$0: relay or clients not ready after 10 s" >&2
  else
    echo "$0: the relay exited:" >&2
  fi
  cat "$log" >&2
  return 1
}

# ebr_field STRUCTURE-STRING FIELD: the number in "FIELD=(type)N" (empty if
# absent).
ebr_field ()
{
  grep -oE "(^|[ ,])$2=\([a-z0-9]*\)[0-9]+" <<<"$1" | head -n 1 | sed 's/.*)//'
}

# ---- examples -------------------------------------------------------------------

# ebr_demo_args USAGE ARG...: the options of the chat examples: --demo
# (sets demo=1), -p PREFIX (prefix), and -n NCLIENTS (n) where USAGE
# ("[--demo] [-p PREFIX] ...") names it. Anything else: "usage: $0 USAGE",
# exit 2.
ebr_demo_args ()
{
  local usage="usage: $0 $1"
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --demo) demo=1; shift ;;
      -p|-n)
        if [ $# -lt 2 ] || [[ $usage != *"[$1 "* ]]; then
          echo "$usage" >&2
          exit 2
        fi
        if [ "$1" = -p ]; then prefix=$2; else n=$2; fi
        shift 2 ;;
      *) echo "$usage" >&2; exit 2 ;;
    esac
  done
}

# ebr_demo_verdict RC PASS FAIL LOG: a demo's last word: "== PASS", or
# "== FAIL; relay log:" and LOG on stderr; exits RC.
ebr_demo_verdict ()
{
  if [ "$1" -eq 0 ]; then
    echo "== $2"
  else
    echo "== $3; relay log:" >&2
    cat "$4" >&2
  fi
  exit "$1"
}

# ebr_example_end CREATED PREFIX: an example's clean-up: its jobs stopped,
# then the topology PREFIX removed if CREATED is 1 (it made it), else left.
ebr_example_end ()
{
  ebr_stop_all
  if [ "$1" -eq 1 ]; then
    ebr_topology_down "$2"
  else
    echo "(topology $2 existed before; left in place)" >&2
  fi
}

# ebr_example_setup ELEMENT...: what every example checks first: root and
# `ip netns`, the plugin (GST_PLUGIN_PATH, else build/gst-plugin of this
# source tree), and the other GStreamer elements it uses. Says what is
# missing and exits.
ebr_example_setup ()
{
  local root=$EBR_LIB_ROOT e
  ebr_have_netns || { echo "$0: needs root and 'ip netns'" >&2; exit 1; }
  if [ -z "${GST_PLUGIN_PATH:-}" ] && [ -d "$root/build/gst-plugin" ]; then
    export GST_PLUGIN_PATH=$root/build/gst-plugin
  fi
  if ! gst-inspect-1.0 ebpfrelaysink >/dev/null 2>&1; then
    echo "$0: GStreamer cannot find ebpfrelaysink; build it (meson setup build &&" \
      "ninja -C build) or set GST_PLUGIN_PATH" >&2
    exit 1
  fi
  for e in "$@"; do
    gst-inspect-1.0 "$e" >/dev/null 2>&1 || {
      echo "$0: GStreamer element $e is missing (gstreamer1.0-plugins-good," \
        "-bad, -ugly, -libav: scripts/deps.sh installs them)" >&2
      exit 1
    }
  done
  PATH=$PATH:/usr/sbin:/sbin
}

# ebr_test_tool NAME VAR: the path of the test tool NAME (built with meson
# -Dtests=enabled) from $VAR, else the tests directory of the build the
# plugin comes from, else build/tests of this source tree. Fails when not
# built.
ebr_test_tool ()
{
  local name=$1 var=$2 t
  t=${!var:-$(cd "${GST_PLUGIN_PATH%%:*}/.." 2>/dev/null && pwd)/tests/$name}
  [ -x "$t" ] || t=$EBR_LIB_ROOT/build/tests/$name
  if [ ! -x "$t" ]; then
    echo "$0: tests/tools/$name is not built: meson setup -Dtests=enabled, or set $var" >&2
    return 1
  fi
  echo "$t"
}
