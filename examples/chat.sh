#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# chat.sh: a one-way chat through the kernel path of ebpfrelaysink. Lines
# typed at the server reach every client; the relay's TC program copies
# each datagram to the clients before the relay's userspace sees it.
#
#   chat.sh [-p PREFIX] [-n NCLIENTS]          type lines, Ctrl-D to end
#   chat.sh --demo [-p PREFIX] [-n NCLIENTS]   send 3 lines, show what
#                                              each client got, exit 0 if
#                                              all got all
#
#   server (PREFIX-srv): gst-launch-1.0 -q fdsrc fd=0 ! udpsink host=10.200.1.2 port=5004
#   relay  (PREFIX-rel): gst-launch-1.0 udpsrc port=5004 ! ebpfrelaysink mode=kernel clients=...
#   client (PREFIX-cliK): gst-launch-1.0 -q udpsrc port=6000 ! fdsink fd=1
#
# Brings up the topology of topology.sh (default prefix ebr, 2 clients) and
# removes on exit what it created. Needs root; uses the plugin from
# GST_PLUGIN_PATH, or else from ./build/gst-plugin of this source tree.
set -uo pipefail

# shellcheck source=../tests/lib/ebr.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/ebr.sh"

demo=0 prefix=ebr n=2
ebr_demo_args "[--demo] [-p PREFIX] [-n NCLIENTS]" "$@"
port=5004
cport=6000

ebr_example_setup

work=$(mktemp -d /tmp/ebr-chat.XXXXXX)
created=0
[ -n "$(ebr_topology_namespaces "$prefix")" ] || created=1

cleanup ()
{
  ebr_example_end $created "$prefix"
  rm -rf "$work"
}
ebr_on_exit cleanup

ebr_topology_up "$prefix" "$n" || { echo "$0: topology failed" >&2; exit 1; }

clients=
for k in $(seq 1 "$n"); do
  clients="$clients${clients:+,}10.200.$(ebr_cli_net "$k").2:$cport"
done

# Clients: each prints what it receives, prefixed with its name (to the
# terminal, or to a file in demo mode).
for k in $(seq 1 "$n"); do
  if [ $demo -eq 1 ]; then
    ip netns exec "$prefix-cli$k" gst-launch-1.0 -q udpsrc port=$cport \
      ! fdsink fd=1 >"$work/cli$k.txt" 2>"$work/cli$k.log" &
  else
    ip netns exec "$prefix-cli$k" gst-launch-1.0 -q udpsrc port=$cport \
      ! fdsink fd=1 > >(sed -u "s/^/[cli$k] /") 2>"$work/cli$k.log" &
  fi
done

relay=(gst-launch-1.0 udpsrc "port=$port" ! ebpfrelaysink mode=kernel "clients=$clients")
ip netns exec "$prefix-rel" "${relay[@]}" >"$work/relay.log" 2>&1 &
relay_pid=$!

ebr_wait_relay "$relay_pid" "$work/relay.log" "$prefix" $cport "$n" || exit 1
prog_ids=$(ebr_prog_ids "$relay_pid")
sleep 0.5

show_prog ()
{
  local id
  echo "kernel program(s) of the relay (pid $relay_pid), from 'bpftool prog show':"
  for id in $prog_ids; do
    bpftool prog show id "$id" 2>/dev/null | grep -A1 relay_ingress | sed 's/^\s*/        /; 1s/^ */    /'
  done
}

server=(ip netns exec "$prefix-srv" gst-launch-1.0 -q fdsrc fd=0 ! udpsink host=10.200.1.2 "port=$port")

if [ $demo -eq 0 ]; then
  echo "server 10.200.1.1 -> relay 10.200.1.2:$port -> clients $clients"
  show_prog
  echo "Type lines for the clients; Ctrl-D ends."
  "${server[@]}"
  sleep 0.3
  exit 0
fi

lines=("hello from the server" "the relay's kernel copies every datagram" "bye")
echo "== chat demo: server 10.200.1.1 -> relay 10.200.1.2:$port -> $n client(s)"
echo "   relay: ${relay[*]}"
echo "== $(show_prog)"
echo "== server sends ${#lines[@]} lines:"
for l in "${lines[@]}"; do echo "    > $l"; done
{
  for l in "${lines[@]}"; do
    echo "$l"
    sleep 0.2    # one line, one read, one datagram
  done
} | "${server[@]}"
sleep 0.5

echo "== what each client received:"
rc=0
for k in $(seq 1 "$n"); do
  got=$(cat "$work/cli$k.txt")
  sed "s/^/    [cli$k 10.200.$(ebr_cli_net "$k").2] /" <<<"$got"
  if [ "$got" != "$(printf '%s\n' "${lines[@]}")" ]; then
    echo "    [cli$k] MISSING OR WRONG LINES" >&2
    rc=1
  fi
done
ebr_demo_verdict $rc "every client got every line" "some client missed lines" "$work/relay.log"
