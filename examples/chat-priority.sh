#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# chat-priority.sh: a one-way chat with two lines of priority through the
# kernel path of ebpfrelaysink. Every chat line is one RTP packet; the
# server tags the "high" line's packets priority 7 and the "low" line's
# priority 0 (rtpframemarking priority=..., RFC 9626). The relay drops, in
# its TC program and per client, what the client's limit excludes:
#
#   cli1, limit 0: both lines
#   cli2, limit 7: only the high line
#
#   chat-priority.sh [-p PREFIX]          type lines; a line starting with
#                                         '!' goes out on the high line,
#                                         others on the low line; Ctrl-D ends
#   chat-priority.sh --demo [-p PREFIX]   send three lines on each, show what
#                                         each client got, exit 0 if each got
#                                         exactly the lines of its limit
#
# Pipelines (CAPS = application/x-rtp,media=application,encoding-name=X-GST,
#   payload=97,clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking):
#   server, one per line (PREFIX-srv):
#     gst-launch-1.0 fdsrc fd=0 do-timestamp=true ! identity single-segment=true
#       ! text/x-raw,format=utf8 ! rtpgstpay pt=97 ! rtpframemarking priority=7|0
#       ! udpsink host=10.200.1.2 port=5004
#   relay (PREFIX-rel):
#     gst-launch-1.0 udpsrc port=5004 caps="$CAPS" ! ebpfrelaysink mode=kernel
#       clients=10.200.11.2:6000@0,10.200.12.2:6000@7
#   client K (PREFIX-cliK), a stock receiver:
#     gst-launch-1.0 udpsrc port=6000 caps="$CAPS" ! rtpgstdepay ! fdsink fd=1
#
# The relay runs through tests/tools/launch-stats (gst-launch-1.0 -e that
# prints the elements' "stats" at the end), for the per-client count of
# packets dropped at the relay. Brings up the topology of topology.sh and
# removes on exit what it created. Needs root; uses the plugin from
# GST_PLUGIN_PATH, or ./build/gst-plugin, and launch-stats from the build's
# tests directory (meson -Dtests=enabled) or EBR_LAUNCH_STATS.
set -uo pipefail

# shellcheck source=../tests/lib/ebr.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/ebr.sh"

demo=0 prefix=ebrp
ebr_demo_args "[--demo] [-p PREFIX]" "$@"
port=5004
cport=6000

ebr_example_setup rtpgstpay rtpgstdepay
LAUNCH=$(ebr_test_tool launch-stats EBR_LAUNCH_STATS) || exit 1

work=$(mktemp -d /tmp/ebr-chatp.XXXXXX)
created=0
[ -n "$(ebr_topology_namespaces "$prefix")" ] || created=1
hfd=
lfd=

cleanup ()
{
  [ -z "$hfd" ] || exec {hfd}>&-
  [ -z "$lfd" ] || exec {lfd}>&-
  ebr_example_end $created "$prefix"
  rm -rf "$work"
}
ebr_on_exit cleanup

ebr_topology_up "$prefix" 2 || { echo "$0: topology failed" >&2; exit 1; }

CAPS="application/x-rtp,media=application,encoding-name=X-GST,payload=97,clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking"
limits=(0 7)
clients=
for k in 1 2; do
  clients="$clients${clients:+,}10.200.$(ebr_cli_net "$k").2:$cport@${limits[k - 1]}"
done

for k in 1 2; do
  if [ $demo -eq 1 ]; then
    ip netns exec "$prefix-cli$k" gst-launch-1.0 -q udpsrc port=$cport "caps=$CAPS" \
      ! rtpgstdepay ! fdsink fd=1 >"$work/cli$k.txt" 2>"$work/cli$k.log" </dev/null &
  else
    ip netns exec "$prefix-cli$k" gst-launch-1.0 -q udpsrc port=$cport "caps=$CAPS" \
      ! rtpgstdepay ! fdsink fd=1 > >(sed -u "s/^/[cli$k limit ${limits[k - 1]}] /") \
      2>"$work/cli$k.log" </dev/null &
  fi
done

relay=(udpsrc "port=$port" "caps=\"$CAPS\"" ! ebpfrelaysink mode=kernel "clients=$clients")
ip netns exec "$prefix-rel" setsid "$LAUNCH" "${relay[@]}" >"$work/relay.log" 2>&1 </dev/null &
relay_pid=$!

ebr_wait_relay "$relay_pid" "$work/relay.log" "$prefix" $cport 2 || exit 1

# The two server pipelines read their lines from FIFOs.
mkfifo "$work/high" "$work/low"
server ()      # server LINE PRIORITY
{
  ip netns exec "$prefix-srv" "$LAUNCH" fdsrc fd=0 do-timestamp=true \
    ! identity single-segment=true ! text/x-raw,format=utf8 ! rtpgstpay pt=97 \
    ! rtpframemarking "priority=$2" ! udpsink host=10.200.1.2 "port=$port" \
    <"$work/$1" >"$work/srv-$1.log" 2>&1 &
}
server high 7
high_pid=$!
server low 0
low_pid=$!
exec {hfd}>"$work/high"
exec {lfd}>"$work/low"

echo "== chat with priorities: server 10.200.1.1 -> relay 10.200.1.2:$port -> 2 clients"
echo "   relay:  gst-launch-1.0 ${relay[*]}"
echo "   high line: ... ! rtpframemarking priority=7 ! udpsink; low line: priority=0"
echo "   cli1 (10.200.$(ebr_cli_net 1).2) limit ${limits[0]}: both lines;" \
  "cli2 (10.200.$(ebr_cli_net 2).2) limit ${limits[1]}: the high line only"

if [ $demo -eq 0 ]; then
  echo "Type lines; '!text' goes on the high line, anything else on the low line. Ctrl-D ends."
  while IFS= read -r line; do
    if [[ $line == '!'* ]]; then
      printf 'HIGH %s\n' "${line#!}" >&"$hfd"
    else
      printf 'low  %s\n' "$line" >&"$lfd"
    fi
  done
  sleep 0.3
  exit 0
fi

sent=("HIGH the stream starts at 20:00" "low  nice weather here" "HIGH slides: page 4"
  "low  anyone else hear an echo?" "low  +1" "HIGH questions at the end, please")
echo "== server sends ${#sent[@]} lines:"
for l in "${sent[@]}"; do
  echo "    > $l"
  if [[ $l == HIGH* ]]; then echo "$l" >&"$hfd"; else echo "$l" >&"$lfd"; fi
  sleep 0.2    # one line, one read, one RTP packet
done
exec {hfd}>&- {lfd}>&-
hfd= lfd=
for pid in $high_pid $low_pid; do
  ebr_stop "$pid" 50 0    # end of input ends them; 5 s at most
done
sleep 0.3
ebr_stop "$relay_pid" 100
relay_stats=$(tr -d '\\' <"$work/relay.log" | grep '^stats ebpfrelaysink')
# packets LINE: the RTP packets the server of LINE sent (its udpsink's
# rendered count: one per chat line, plus rtpgstpay's in-band caps/event
# packets).
packets ()
{
  tr -d '\\' <"$work/srv-$1.log" | grep '^stats udpsink' \
    | grep -oE 'rendered=\([a-z0-9]*\)[0-9]+' | sed 's/.*)//'
}
nhigh=$(packets high)
nlow=$(packets low)
echo "== the server sent ${nhigh:-?} RTP packet(s) on the high line, ${nlow:-?} on the low line"

echo "== what each client received:"
rc=0
for k in 1 2; do
  l=${limits[k - 1]}
  addr=10.200.$(ebr_cli_net "$k").2
  got=$(cat "$work/cli$k.txt")
  want=$(printf '%s\n' "${sent[@]}" | if [ "$l" -eq 7 ]; then grep '^HIGH'; else cat; fi)
  dropped=$(grep -oE "host=\(string\)$addr, port=\(int\)$cport, [^\"]*" <<<"$relay_stats" \
    | grep -oE 'priority-dropped=\([a-z0-9]*\)[0-9]+' | sed 's/.*)//')
  echo "   cli$k $addr limit $l: $(grep -c . <<<"$got") line(s); ${dropped:-?} packet(s) dropped for it at the relay"
  [ -z "$got" ] || sed 's/^/      /' <<<"$got"
  if [ "$got" != "$want" ]; then
    echo "   cli$k: expected:" >&2
    sed 's/^/      /' <<<"$want" >&2
    rc=1
  fi
  # The relay drops for it exactly the low line's packets at limit 7.
  wdrop=0
  [ "$l" -ne 7 ] || wdrop=${nlow:-x}
  if [ "${dropped:-y}" != "$wdrop" ]; then
    echo "   cli$k: the relay dropped ${dropped:-?} packet(s) for it, expected $wdrop" >&2
    rc=1
  fi
done
ebr_demo_verdict $rc "each client got exactly the lines of its limit" \
  "some client got the wrong lines" "$work/relay.log"
