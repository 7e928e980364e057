#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-addremove.sh: subscribers change while the stream runs (mode=kernel).
#   A  subscribed from the start           -> every record, once
#   B  added mid-stream ("add" signal)      -> one contiguous run ending
#                                              at the last record
#   C  removed mid-stream ("remove" signal) -> one contiguous run starting
#                                              at the first record
# Nobody gets a record twice; B and C both get strictly part of the stream;
# client-added/client-removed are emitted; the kernel sent to B.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init addremove

COUNT=600
SIZE=200
PORT=5004
P=$E2E_PREFIX
A_HOST=10.200.11.2 A_PORT=6000
C_HOST=10.200.11.2 C_PORT=6001
B_HOST=10.200.12.2 B_PORT=6000
ADD_AT=150        # records A has received when B is added
REMOVE_AT=300     # ... when C is removed
E2E_PACE_US=${EBR_E2E_PACE_US:-4000}

ebr_topology_up "$P" 2 || e2e_fail "topology"
e2e_gen "$E2E_WORK/records.bin" $COUNT $SIZE

e2e_receivers "$P-cli1" cli1 $A_PORT $C_PORT
recv1=$E2E_LAST_PID
e2e_receivers "$P-cli2" cli2 $B_PORT
recv2=$E2E_LAST_PID

e2e_ctl_start "$P-rel" relay "udpsrc port=$PORT ! ebpfrelaysink name=relay \
mode=kernel clients=$A_HOST:$A_PORT,$C_HOST:$C_PORT"
e2e_wait_tcx "$P-rel" 1 up0 down1 down2
sleep 1

# Number of whole records in a file (filesink is unbuffered here).
records_in ()
{
  local sz
  sz=$(stat -c %s "$1" 2>/dev/null || echo 0)
  echo $((sz / SIZE))
}

# wait_records FILE N: until FILE holds N records (30 s at most).
wait_records ()
{
  local i
  for i in $(seq 300); do
    [ "$(records_in "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  e2e_fail "$(basename "$1") has $(records_in "$1") records, waited for $2"
}

e2e_log "sending $COUNT records, one every $E2E_PACE_US us"
e2e_send_bg "$P-srv" "$E2E_WORK/records.bin" $SIZE 10.200.1.2 $PORT
send_pid=$E2E_LAST_PID

wait_records "$E2E_WORK/cli1-$A_PORT.bin" $ADD_AT
e2e_ctl add $B_HOST $B_PORT
e2e_log "added B at A=$(records_in "$E2E_WORK/cli1-$A_PORT.bin") records"
wait_records "$E2E_WORK/cli1-$A_PORT.bin" $REMOVE_AT
e2e_ctl remove $C_HOST $C_PORT
e2e_log "removed C at A=$(records_in "$E2E_WORK/cli1-$A_PORT.bin") records"

e2e_wait_send "$send_pid"
sleep 1
e2e_alive "$E2E_CTL_PID" relay

e2e_ctl_stats $A_HOST $A_PORT
e2e_log "A: $E2E_STATS_LINE"
a_kp=$E2E_KP
e2e_ctl_stats $B_HOST $B_PORT
e2e_log "B: $E2E_STATS_LINE"
b_kp=$E2E_KP
ebr_stop "$recv1"
ebr_stop "$recv2"
e2e_ctl_stop

rc=0
e2e_check "$E2E_WORK/cli1-$A_PORT.bin" $COUNT $SIZE || { echo "A did not get every record once" >&2; rc=1; }

if e2e_check "$E2E_WORK/cli2-$B_PORT.bin" $COUNT $SIZE --range; then
  read -r b_first b_last <<<"$E2E_RANGE"
  e2e_log "B received records $b_first..$b_last"
  [ "$b_last" -eq $((COUNT - 1)) ] || { echo "B's run ends at $b_last, not at the last record" >&2; rc=1; }
  [ "$b_first" -gt 0 ] || { echo "B got the stream from its start: not added mid-stream?" >&2; rc=1; }
else
  echo "B did not get one contiguous run" >&2
  rc=1
fi

if e2e_check "$E2E_WORK/cli1-$C_PORT.bin" $COUNT $SIZE --range; then
  read -r c_first c_last <<<"$E2E_RANGE"
  e2e_log "C received records $c_first..$c_last"
  [ "$c_first" -eq 0 ] || { echo "C's run starts at $c_first, not at 0" >&2; rc=1; }
  [ "$c_last" -lt $((COUNT - 1)) ] || { echo "C got everything: not removed?" >&2; rc=1; }
else
  echo "C did not get one contiguous run" >&2
  rc=1
fi

grep -qx "client-added $B_HOST $B_PORT" "$E2E_CTL_OUT" \
  || { echo "no client-added signal for B" >&2; rc=1; }
grep -qx "client-removed $C_HOST $C_PORT" "$E2E_CTL_OUT" \
  || { echo "no client-removed signal for C" >&2; rc=1; }
if [ -z "$b_kp" ] || [ "$b_kp" -eq 0 ] || [ -z "$a_kp" ] || [ "$a_kp" -eq 0 ]; then
  echo "the kernel did not send to A and B (kernel-packets A=${a_kp:-?} B=${b_kp:-?})" >&2
  rc=1
fi

[ $rc -eq 0 ] || e2e_fail "add/remove mid-stream"
e2e_log PASS
