/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-rewrite.h: relay.bpf.c's rewrite of a copy's headers in the skb,
 * checksums updated through the csum helpers (never computed from the
 * bytes): the MACs, addresses and ports from one struct relay_sub to
 * another (relay_rewrite), the TOS / traffic class and TTL / hop limit
 * (relay_rewrite_ip, config's RELAY_IP_*), the RTP sequence number
 * (set_seq), and the way back to the bytes as received (restore). Part
 * of relay.bpf.c (one object; included by it only, after relay-maps.h).
 */

#ifndef __RELAY_REWRITE_H__
#define __RELAY_REWRITE_H__

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "relay-maps.h"

/*
 * The header fields a copy gets are kept in struct relay_sub form: its
 * layout follows the packet (dmac, smac; saddr, daddr; sport, dport), so
 * each group is written with one store.
 */
_Static_assert(__builtin_offsetof(struct relay_sub, smac) == ETH_ALEN, "macs");
_Static_assert(__builtin_offsetof(struct relay_sub, daddr) ==
                       __builtin_offsetof(struct relay_sub, saddr) + 4,
               "addrs");
_Static_assert(__builtin_offsetof(struct relay_sub, dport) ==
                       __builtin_offsetof(struct relay_sub, sport) + 2,
               "ports");
_Static_assert(__builtin_offsetof(struct relay_sub, daddr6) ==
                       __builtin_offsetof(struct relay_sub, saddr6) + 16,
               "addrs6");
_Static_assert(__builtin_offsetof(struct ipv6hdr, daddr) ==
                       __builtin_offsetof(struct ipv6hdr, saddr) + 16,
               "ipv6 addrs");

/* bpf_csum_diff() of two fields of @n (1..8, a constant) 32-bit words, in
 * line: the one's complement sum of ~from and to, as a 32-bit partial sum
 * for the csum_replace helpers (size 0: "to" is a diff). 8 words: the
 * IPv6 addresses. */
static __always_inline __u32 csum_diff_words(const __u32 *from, const __u32 *to,
                                             int n)
{
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++)
		if (i < n)
			s += (__u64)(__u32)~from[i] + to[i];
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return (__u32)s;
}

/* relay_rewrite's @flags */
#define RW_V6        0x1 /* IPv6: the *6 offsets, saddr6/daddr6 */
#define RW_L4        0x2 /* the packet has the UDP header */
#define RW_RECOMPUTE 0x4 /* no UDP checksum (IPv4): fix skb->csum on the
                          * port store (BPF_F_RECOMPUTE_CSUM) */

/*
 * Rewrite the skb's headers from *@cur to *@to (then *@cur = *@to). Only
 * the fields that differ are touched: usually the copies differ in the
 * destination address and port only, and in the MACs only when the next
 * hop changes. A global function: the verifier checks it once, on its
 * own, not once per way through the slot loop. -1 when a helper failed
 * (the skb may be half rewritten: the caller restores it).
 */
__noinline int relay_rewrite(struct __sk_buff *skb, struct relay_sub *cur,
                             const struct relay_sub *to, __u32 flags)
{
	const __u32 *cm, *tm;
	__u32 addr_diff = 0, port_diff, d = 0, udp_off, csum_off;
	int macs, addrs, ports, i;

	if (!skb || !cur || !to)
		return -1;
	cm = (const __u32 *)cur->dmac;
	tm = (const __u32 *)to->dmac;
	macs = ((cm[0] ^ tm[0]) | (cm[1] ^ tm[1]) | (cm[2] ^ tm[2])) != 0;
	ports = (flags & RW_L4) &&
	        (to->sport != cur->sport || to->dport != cur->dport);
	udp_off = (flags & RW_V6) ? UDP6_OFF : UDP_OFF;
	csum_off = (flags & RW_V6) ? UDP6_CSUM_OFF : UDP_CSUM_OFF;
	if (flags & RW_V6) {
#pragma unroll
		for (i = 0; i < 4; i++)
			d |= (to->saddr6[i] ^ cur->saddr6[i]) |
			     (to->daddr6[i] ^ cur->daddr6[i]);
	} else {
		d = (to->saddr ^ cur->saddr) | (to->daddr ^ cur->daddr);
	}
	addrs = d != 0;

	if (macs && bpf_skb_store_bytes(skb, 0, to->dmac, 2 * ETH_ALEN, 0))
		return -1;
	if (addrs && (flags & RW_V6)) {
		/* no IPv6 header checksum: the UDP one below */
		addr_diff = csum_diff_words(cur->saddr6, to->saddr6, 8);
		if (bpf_skb_store_bytes(skb, IP6_ADDR_OFF, to->saddr6, 32, 0))
			return -1;
	} else if (addrs) {
		addr_diff = csum_diff_words(&cur->saddr, &to->saddr, 2);
		if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, addr_diff, 0) ||
		    bpf_skb_store_bytes(skb, IP_ADDR_OFF, &to->saddr, 8, 0))
			return -1;
	}
	if (ports) {
		port_diff = csum_diff_words((const __u32 *)&cur->sport,
		                            (const __u32 *)&to->sport, 1);
		if (bpf_l4_csum_replace(skb, csum_off, 0, port_diff,
		                        BPF_F_MARK_MANGLED_0) ||
		    bpf_skb_store_bytes(skb, udp_off, &to->sport, 4,
		                        (flags & RW_RECOMPUTE) ?
		                                BPF_F_RECOMPUTE_CSUM : 0))
			return -1;
	}
	/* A zero UDP checksum (none, IPv4 only) stays zero: MARK_MANGLED_0;
	 * a result of zero is written 0xffff (IPv6 has no "none"). */
	if (addrs && (flags & RW_L4) &&
	    bpf_l4_csum_replace(skb, csum_off, 0, addr_diff,
	                        BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0))
		return -1;
	*cur = *to;
	return 0;
}

static __always_inline int rewrite(struct __sk_buff *skb, struct scratch *scr,
                                   struct copy_state *c, struct relay_sub *to)
{
	__u32 flags = (c->v6 ? RW_V6 : 0) | (c->l4 ? RW_L4 : 0) |
	              (c->port_flags ? RW_RECOMPUTE : 0);

	return relay_rewrite(skb, &scr->cur, to, flags);
}

/* Two bytes as the 16-bit word they make in the packet (network order,
 * as the csum helpers take it). */
static __always_inline __u16 be_word(__u8 hi, __u8 lo)
{
	__u8 b[2] = {hi, lo};
	__u16 w;

	__builtin_memcpy(&w, b, 2);
	return w;
}

/*
 * The TOS / traffic class and TTL / hop limit in the skb, from what is
 * there now (scratch.cs: tos_cur, ttl_cur) to @tos and @ttl; only a field
 * that differs is touched. IPv4: each field's 16-bit word goes into the
 * header checksum (TOS with version and IHL, TTL with the protocol), so
 * the header's sum, and a COMPLETE skb->csum, stay as they were. IPv6:
 * no header checksum, and the UDP pseudo header covers neither field;
 * the stores keep a COMPLETE skb->csum right (BPF_F_RECOMPUTE_CSUM). A
 * global function: verified once. -1 when a helper failed.
 */
__noinline int relay_rewrite_ip(struct __sk_buff *skb, __u32 tos, __u32 ttl)
{
	struct copy_state *c;
	struct scratch *scr;
	const __u8 *raw;
	__u32 key = 0;
	__u8 b[2];

	scr = bpf_map_lookup_elem(&scratch, &key);
	if (!skb || !scr)
		return -1;
	c = &scr->cs;
	/* the IP header's first bytes as received (IPv4 or IPv6) */
	raw = (const __u8 *)&scr->orig_h.ip;
	if (c->v6) {
		if (tos != c->tos_cur) {
			/* version (4 bits), traffic class (8), flow label */
			b[0] = (raw[0] & 0xf0) | ((tos >> 4) & 0x0f);
			b[1] = ((tos & 0x0f) << 4) | (raw[1] & 0x0f);
			if (bpf_skb_store_bytes(skb, IP_OFF, b, 2,
			                        BPF_F_RECOMPUTE_CSUM))
				return -1;
		}
		if (ttl != c->ttl_cur) {
			b[0] = ttl;
			if (bpf_skb_store_bytes(skb, IP6_HOPS_OFF, b, 1,
			                        BPF_F_RECOMPUTE_CSUM))
				return -1;
		}
	} else {
		if (tos != c->tos_cur) {
			b[0] = tos;
			if (bpf_l3_csum_replace(skb, IP_CSUM_OFF,
			                        be_word(raw[0], c->tos_cur),
			                        be_word(raw[0], tos), 2) ||
			    bpf_skb_store_bytes(skb, IP_TOS_OFF, b, 1, 0))
				return -1;
		}
		if (ttl != c->ttl_cur) {
			b[0] = ttl;
			if (bpf_l3_csum_replace(skb, IP_CSUM_OFF,
			                        be_word(c->ttl_cur, raw[9]),
			                        be_word(ttl, raw[9]), 2) ||
			    bpf_skb_store_bytes(skb, IP_TTL_OFF, b, 1, 0))
				return -1;
		}
	}
	c->tos_cur = tos;
	c->ttl_cur = ttl;
	return 0;
}

/* What the copies' TOS / traffic class and TTL / hop limit are (relay.h,
 * RELAY_IP_*), from the packet's headers @h: once per packet. */
static __always_inline void ip_fields_init(struct copy_state *cs,
                                           const struct hdrs *h,
                                           const struct relay_config *cfg,
                                           int v6)
{
	const __u8 *raw = (const __u8 *)&h->ip;
	__u8 tos, ttl, flags = cfg->ip_flags;

	if (v6) {
		tos = (raw[0] << 4) | (raw[1] >> 4);
		ttl = raw[7]; /* hop limit */
	} else {
		tos = raw[1];
		ttl = raw[8];
	}
	cs->tos_orig = cs->tos_cur = cs->tos_want = tos;
	cs->ttl_orig = cs->ttl_cur = cs->ttl_uc = cs->ttl_mc = ttl;
	if (flags & RELAY_IP_DSCP)
		cs->tos_want = ((cfg->dscp & 0x3f) << 2) | (tos & 0x3);
	if (flags & RELAY_IP_TTL) {
		cs->ttl_uc = cfg->ttl;
		cs->ttl_mc = cfg->ttl_mc;
	}
}

/* Write RTP sequence number @seq into the skb, UDP checksum updated. */
static __always_inline int set_seq(struct __sk_buff *skb, struct copy_state *c,
                                   __u16 seq)
{
	__be16 from = bpf_htons(c->cur_seq), to = bpf_htons(seq);

	c->seq_touched = 1;
	if (bpf_l4_csum_replace(skb, c->v6 ? UDP6_CSUM_OFF : UDP_CSUM_OFF,
	                        from, to, BPF_F_MARK_MANGLED_0 | sizeof(to)) ||
	    bpf_skb_store_bytes(skb, c->v6 ? SEQ6_OFF : SEQ_OFF, &to,
	                        sizeof(to), c->port_flags))
		return -1;
	c->cur_seq = seq;
	return 0;
}

/* Store the received headers and sequence number back, byte for byte. */
static __always_inline int restore(struct __sk_buff *skb, struct scratch *scr,
                                   struct copy_state *c)
{
	__be16 seq = bpf_htons(c->orig_seq);

	if (c->v6) {
		if (bpf_skb_store_bytes(skb, 0, &scr->orig_h.eth, HDR6_LEN, 0))
			return -1;
	} else if (bpf_skb_store_bytes(skb, 0, &scr->orig_h.eth,
	                               c->l4 ? HDR_LEN : UDP_OFF, 0)) {
		return -1;
	}
	if (c->seq_touched &&
	    bpf_skb_store_bytes(skb, c->v6 ? SEQ6_OFF : SEQ_OFF, &seq,
	                        sizeof(seq), 0))
		return -1;
	scr->cur = scr->orig_f;
	c->cur_seq = c->orig_seq;
	c->tos_cur = c->tos_orig;
	c->ttl_cur = c->ttl_orig;
	return 0;
}

/* The packet's header fields in struct relay_sub form (the rest zero). */
static __always_inline void hdr_fields(struct relay_sub *f,
                                       const struct hdrs *h, int v6)
{
	__builtin_memset(f, 0, sizeof(*f));
	__builtin_memcpy(f->dmac, h->eth.h_dest, ETH_ALEN);
	__builtin_memcpy(f->smac, h->eth.h_source, ETH_ALEN);
	if (v6) {
		f->family = RELAY_FAMILY_V6;
		__builtin_memcpy(f->saddr6, &h->ip6.saddr, 16);
		__builtin_memcpy(f->daddr6, &h->ip6.daddr, 16);
		f->sport = h->udp6.source;
		f->dport = h->udp6.dest;
	} else {
		f->saddr = h->ip.saddr;
		f->daddr = h->ip.daddr;
		f->sport = h->udp.source;
		f->dport = h->udp.dest;
	}
}

#endif /* __RELAY_REWRITE_H__ */
