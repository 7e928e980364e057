#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-backlog.sh: the kernel queues one datagram's copies at once, and the
# per-CPU input backlog (net.core.netdev_max_backlog) drops what does not
# fit (bench/run.sh: backlog drops at N = 1000 with 1000, none with 4096).
# A relay in kernel mode with that many subscribers must say so: one
# warning naming the sysctl; with one subscriber fewer, none. The sysctl is
# machine-wide but readable only in the initial network namespace, so a
# relay in a namespace (as here) goes by the kernel's default, 1000, and
# says that it does.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init backlog

P=$E2E_PREFIX
B=1000
ebr_topology_up "$P" 1 || e2e_fail "topology"

# relay N NAME: a kernel-mode relay with N subscribers, running 2.5 s
relay ()
{
  local n=$1 name=$2 clients
  clients=$(seq 6000 $((6000 + n - 1)) | sed 's/^/10.200.11.2:/' | paste -sd,)
  e2e_ctl_start "$P-rel" "$name" \
    "udpsrc port=5004 ! ebpfrelaysink name=relay mode=kernel clients=$clients"
  sleep 2.5       # the relay looks once a second
  e2e_ctl_select "$name"
  e2e_ctl_stop
}

relay $B at
relay $((B - 1)) below
grep -q "warning from relay: $B subscribers, but the kernel queues at most $B packets per CPU (net.core.netdev_max_backlog, the kernel's default: not readable in this network namespace)" \
  "$E2E_WORK/at.log" || e2e_fail "no warning with $B subscribers: $(cat "$E2E_WORK/at.log")"
[ "$(grep -c '^relay-ctl: warning from relay:.*netdev_max_backlog' "$E2E_WORK/at.log")" -eq 1 ] || e2e_fail "warned more than once"
! grep -q 'netdev_max_backlog' "$E2E_WORK/below.log" \
  || e2e_fail "warned with $((B - 1)) subscribers"
e2e_log "warned at $B subscribers, not at $((B - 1))"
e2e_log PASS
