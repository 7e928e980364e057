#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# topology.sh: the server / relay / clients network namespaces the examples
# run in.
#
#   topology.sh up|check|down [-p PREFIX] [-n NCLIENTS] [--ipv6]
#
#   up     create PREFIX-srv, PREFIX-rel, PREFIX-cli1..N and their veths
#          (idempotent)
#   check  ping across every link; exit 1 when anything is missing
#   down   delete every PREFIX-* namespace of the topology (idempotent)
#
# Defaults: PREFIX=ebr, NCLIENTS=2. Addresses:
#   srv   10.200.1.1     (eth0)            rel 10.200.1.2 (up0)
#   cliK  10.200.(10+K).2 (eth0)           rel 10.200.(10+K).1 (downK)
# --ipv6 (with up): dual stack, also fd00:200:1::1 / ::2 and
# fd00:200:(10+K)::2 / ::1 on the same veths (ebr_topology_v6); a relay
# then takes [fd00:200:11::2]:6000 subscribers as well.
# Run a command inside one: ip netns exec ebr-rel gst-launch-1.0 ...
set -euo pipefail

# shellcheck source=../tests/lib/ebr.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/ebr.sh"

usage ()
{
  echo "usage: $0 up|check|down [-p PREFIX] [-n NCLIENTS] [--ipv6]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift
prefix=ebr
n=2
ipv6=0
while [ $# -gt 0 ]; do
  case $1 in
    -p) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    -n) [ $# -ge 2 ] || usage; n=$2; shift 2 ;;
    --ipv6) ipv6=1; shift ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
case $n in ''|*[!0-9]*) usage ;; esac

if ! ebr_have_netns; then
  echo "$0: needs root and 'ip netns'" >&2
  exit 1
fi

case $cmd in
  up)
    if ! { ebr_topology_up "$prefix" "$n" \
      && { [ $ipv6 = 0 ] || ebr_topology_v6 "$prefix" "$n"; }; }; then
      echo "$0: could not build the topology; removing what was made" >&2
      ebr_topology_down "$prefix"
      exit 1
    fi
    echo "topology $prefix up: server, relay, $n client(s)"
    ebr_topology_summary "$prefix"
    [ $ipv6 = 0 ] || echo "dual stack: srv fd00:200:1::1, rel fd00:200:1::2 and fd00:200:(10+K)::1, cliK fd00:200:(10+K)::2"
    echo "relay interfaces: up0 (to server)$(for k in $(seq 1 "$n"); do printf ', down%s' "$k"; done)"
    ;;
  check)
    echo "topology $prefix, $n client(s):"
    if ebr_topology_check "$prefix" "$n"; then
      echo "all links answer"
    else
      echo "topology $prefix is incomplete (run: $0 up -p $prefix -n $n)" >&2
      exit 1
    fi
    ;;
  down)
    gone=$(ebr_topology_namespaces "$prefix" | tr '\n' ' ')
    ebr_topology_down "$prefix"
    if [ -n "$gone" ]; then
      echo "topology $prefix down: removed $gone"
    else
      echo "topology $prefix down: nothing to remove"
    fi
    ;;
  *) usage ;;
esac
