/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-source.h: relay.bpf.c's publisher lock (relay.h, RELAY_SRC_*):
 * whether a sender may publish (relay_source_ok): the allowed list
 * (sources) and the latch on the first sender (latch). The rule is
 * ebpfrelay-sources' in userspace. Part of relay.bpf.c (one object;
 * included by it only, after relay-maps.h).
 */

#ifndef __RELAY_SOURCE_H__
#define __RELAY_SOURCE_H__

#include <linux/bpf.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "relay-maps.h"

/* The publisher lock (relay.h, RELAY_SRC_*): whether the sender may
 * publish: @addr (be) and @port (be) for an IPv4 one; @v6: an IPv6 one,
 * whose address is read from @skb's header. Both as one 16-byte key (an
 * IPv4 sender v4-mapped), as in userspace (ebpfrelay-sources: the same
 * rule). Verified once, as a function of its own. */
__noinline int relay_source_ok(struct __sk_buff *skb, __u32 addr, __u32 port,
                               __u32 v6)
{
	struct relay_src_key k = {};
	struct relay_config *cfg;
	struct relay_latch *l;
	__u32 key = 0, flags, timeout_ms;
	__u64 now, timeout;
	int ok, took = 0;

	cfg = bpf_map_lookup_elem(&config, &key);
	if (!cfg || !skb)
		return 0;
	flags = cfg->src_flags;
	timeout_ms = cfg->src_timeout_ms;
	if (!flags)
		return 1;
	if (v6) {
		if (bpf_skb_load_bytes(skb,
		                       IP_OFF + offsetof(struct ipv6hdr, saddr),
		                       k.addr, sizeof(k.addr)))
			return 0;
	} else {
		k.addr[2] = bpf_htonl(RELAY_V4MAPPED);
		k.addr[3] = addr;
	}
	k.port = (__u16)port;

	if (flags & RELAY_SRC_LIST) {
		if (!bpf_map_lookup_elem(&sources, &k)) {
			k.port = 0;
			if (!bpf_map_lookup_elem(&sources, &k))
				return 0;
			k.port = (__u16)port;
		}
	}
	if (!(flags & RELAY_SRC_LATCH))
		return 1;
	l = bpf_map_lookup_elem(&latch, &key);
	if (!l)
		return 0;
	now = bpf_ktime_get_ns();
	timeout = (__u64)timeout_ms * 1000000;
	bpf_spin_lock(&l->lock);
	ok = l->addr[0] == k.addr[0] && l->addr[1] == k.addr[1] &&
	     l->addr[2] == k.addr[2] && l->addr[3] == k.addr[3] &&
	     l->port == k.port;
	if (!ok && (!(l->addr[0] | l->addr[1] | l->addr[2] | l->addr[3]) ||
	            (timeout && now - l->last_ns > timeout))) {
		l->addr[0] = k.addr[0];
		l->addr[1] = k.addr[1];
		l->addr[2] = k.addr[2];
		l->addr[3] = k.addr[3];
		l->port = k.port;
		ok = took = 1;
	}
	if (ok)
		l->last_ns = now;
	bpf_spin_unlock(&l->lock);
	if (took)
		stat_inc(RELAY_STAT_SOURCE_LATCHED);
	return ok;
}

#endif /* __RELAY_SOURCE_H__ */
