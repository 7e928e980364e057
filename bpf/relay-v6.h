/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-v6.h: relay.bpf.c's IPv6 parsing: whether a packet is for this
 * host (relay_for_us6, local_addrs6) and the walk over its extension
 * headers to the UDP header (relay_v6_l4, its V6_L4_* result flags).
 * Part of relay.bpf.c (one object; included by it only, after
 * relay-maps.h).
 */

#ifndef __RELAY_V6_H__
#define __RELAY_V6_H__

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "relay-maps.h"

/* IPv6 next header values (linux/in6.h's, without its userspace parts). */
#define V6_HOPOPTS  0
#define V6_ROUTING  43
#define V6_FRAGMENT 44
#define V6_DSTOPTS  60
/* struct frag_hdr's frag_off: offset (8-byte units) and M flag */
#define V6_FRAG_OFFSET 0xfff8
#define V6_FRAG_MF     0x0001

/* Whether an IPv6 packet is for this host: its destination is one of
 * local_addrs6 (there is no header checksum to check). If not, counted.
 * Verified once. */
__noinline int relay_for_us6(struct __sk_buff *skb)
{
	struct relay_addr6 daddr;

	if (!skb || bpf_skb_load_bytes(skb, IP_OFF + offsetof(struct ipv6hdr,
	                                                      daddr),
	                               &daddr, sizeof(daddr)))
		return 0;
	if (!bpf_map_lookup_elem(&local_addrs6, &daddr)) {
		stat_inc(RELAY_STAT_NOT_LOCAL);
		return 0;
	}
	return 1;
}

/* The result of relay_v6_l4: the header chain's length (with the
 * extension headers) in the low 16 bits, and these. */
#define V6_L4_EXT  (1 << 16) /* extension headers before UDP */
#define V6_L4_FRAG (1 << 17) /* a first fragment (offset 0, M set) */

/*
 * Walks an IPv6 packet's extension headers (at most RELAY_V6_MAX_EXT:
 * hop-by-hop, routing, destination options, fragment) to its UDP header.
 * Returns V6_L4_* | the offset of the UDP header from the IPv6 header's
 * start, or -1: not UDP (or AH, ESP, no next header, a chain longer than
 * looked through), or a later fragment (it has no UDP header; the socket
 * reassembles the datagram, whose first fragment userspace was told of).
 * A Fragment header with offset 0 and no M flag (an atomic fragment, RFC
 * 6946) is a whole datagram with an extension header. Verified once.
 */
__noinline int relay_v6_l4(struct __sk_buff *skb, __u32 nexthdr)
{
	__u32 off = sizeof(struct ipv6hdr), flags = 0;
	__u8 ext[8];
	__u16 fo;
	int i;

	if (!skb)
		return -1;
	for (i = 0; i < RELAY_V6_MAX_EXT; i++) {
		if (nexthdr == IPPROTO_UDP)
			break;
		if (off > RELAY_V6_MAX_HDR - 8 ||
		    bpf_skb_load_bytes(skb, IP_OFF + off, ext, 8))
			return -1;
		switch (nexthdr) {
		case V6_HOPOPTS:
		case V6_ROUTING:
		case V6_DSTOPTS:
			off += ((__u32)ext[1] + 1) * 8;
			break;
		case V6_FRAGMENT:
			fo = ((__u16)ext[2] << 8) | ext[3];
			if (fo & V6_FRAG_OFFSET)
				return -1;
			if (fo & V6_FRAG_MF)
				flags |= V6_L4_FRAG;
			off += 8;
			break;
		default:
			return -1;
		}
		flags |= V6_L4_EXT;
		nexthdr = ext[0];
	}
	if (nexthdr != IPPROTO_UDP || off > RELAY_V6_MAX_HDR - 8)
		return -1;
	return (int)(flags | off);
}

#endif /* __RELAY_V6_H__ */
