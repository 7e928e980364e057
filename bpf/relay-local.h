/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-local.h: relay.bpf.c on lo, the any-upstream case
 * (config.local_sport; userspace's side is ebpfrelay-local): which
 * packets are the element's own buffers, and which of them are too large
 * for the kernel's copies (relay_local). Part of relay.bpf.c (one object;
 * included by it only, after relay-maps.h).
 */

#ifndef __RELAY_LOCAL_H__
#define __RELAY_LOCAL_H__

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "relay-maps.h"

/* On lo (config.local_sport) only the element's own buffers
 * (ebpfrelay-local): 1 for another packet. One larger than the egress
 * MTUs (config.local_mtu; lo's is 64 KiB) goes to userspace for every slot
 * (its socket fragments), as with IP options: scr->all_user. Global, and
 * its result through the map: the verifier checks it once, on its own. */
__noinline int relay_local(struct scratch *scr, struct relay_config *cfg,
                           __u16 sport, __u32 tot_len)
{
	if (!scr || !cfg || !cfg->local_sport)
		return 0;
	if (sport != cfg->local_sport)
		return 1;
	stat_inc(RELAY_STAT_LOCAL);
	if (cfg->local_mtu && tot_len > cfg->local_mtu) {
		stat_inc(RELAY_STAT_LOCAL_MTU);
		scr->all_user = 1;
	}
	return 0;
}

#endif /* __RELAY_LOCAL_H__ */
