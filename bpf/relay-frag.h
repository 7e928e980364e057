/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-frag.h: relay.bpf.c's IPv4 fragments. A first fragment is
 * forwarded as any packet (forward() with a struct relay_frag_key); who
 * got it is recorded per slot in a bitmap (struct relay_frag, frag_word)
 * and kept in frags; the datagram's later fragments, which have no UDP
 * header, go to the same slots (relay_later_fragment, forward_frag,
 * frag_cb), the last one deletes the entry. Part of relay.bpf.c (one
 * object; included by it only, after relay-maps.h).
 */

#ifndef __RELAY_FRAG_H__
#define __RELAY_FRAG_H__

#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "relay-maps.h"
#include "relay-rewrite.h" /* hdr_fields, ip_fields_init */

/* relay.bpf.c's slot loop, whose parts a later fragment goes through;
 * defined there, after the relay-*.h. */
__noinline int relay_stage_copy(struct __sk_buff *skb, __u32 i, __u32 seq);
static __always_inline int finish(struct loop_ctx *c, struct scratch *scr,
                                  struct relay_config *cfg);
__noinline int relay_for_us(struct __sk_buff *skb, __u32 ihl_len,
                            __u32 check_local);

/* The word of struct relay_frag's bitmap that holds @slot's bit; the
 * barrier keeps the mask in the code the verifier sees. */
static __always_inline __u32 frag_word(__u32 slot)
{
	__u32 w = slot / 64;

	asm volatile("" : "+r"(w));
	return w & (RELAY_MAX_SUBS / 64 - 1);
}

/* A later fragment of a datagram whose first fragment came: to the slots
 * that got that, Ethernet and IP headers rewritten. */
static long frag_cb(__u32 i, void *data)
{
	struct loop_ctx *c = data;
	struct relay_sub *slot;

	if (i >= RELAY_MAX_SUBS || !c->frag_to)
		return 1;
	if (!(c->frag_to->slots[frag_word(i)] & (1ULL << (i % 64))))
		return 0;
	slot = bpf_map_lookup_elem(&subs, &i);
	if (!slot)
		return 1;
	*c->sub = *slot;
	if (c->sub->state == RELAY_SUB_KERNEL)
		relay_stage_copy(c->skb, i, 0);
	return 0;
}

static __always_inline int forward_frag(struct __sk_buff *skb, struct hdrs *h,
                                        struct scratch *scr,
                                        struct relay_config *cfg,
                                        struct relay_frag *to, __u32 n_slots)
{
	struct loop_ctx c = {
	        .skb = skb,
	        .ev = &scr->ev,
	        .frag_to = to,
	        .orig_f = &scr->orig_f,
	        .cur = &scr->cur,
	        .sub = &scr->sub,
	        .cs = &scr->cs,
	        .pass_up = to->pass_up ? 1 : 0,
	};
	struct copy_state *cs = &scr->cs;

	__builtin_memset(cs, 0, sizeof(*cs));
	cs->pending = -1;
	cs->later_frag = 1;
	cs->payload_len = bpf_ntohs(h->ip.tot_len) - sizeof(struct iphdr);
	hdr_fields(c.orig_f, h, 0);
	c.orig_f->sport = c.orig_f->dport = 0; /* no UDP header here */
	*c.cur = *c.orig_f;
	ip_fields_init(cs, h, cfg, 0);
	bpf_loop(n_slots, frag_cb, &c, 0);
	return finish(&c, scr, cfg);
}

static __always_inline void frag_key(struct relay_frag_key *k,
                                     const struct hdrs *h)
{
	k->saddr = h->ip.saddr;
	k->daddr = h->ip.daddr;
	k->id = h->ip.id;
}

/* An IPv4 later fragment (no UDP header; its headers in scratch.orig_h):
 * ours when its first fragment was (frags; its destination was checked
 * then), to the slots that got that. A global function: its stack is not
 * relay_ingress's. */
__noinline int relay_later_fragment(struct __sk_buff *skb)
{
	struct relay_frag_key fkey = {};
	struct relay_config *cfg;
	struct relay_frag *fr;
	struct scratch *scr;
	__u32 key = 0, tot_len, n_slots;
	struct hdrs *h;
	int verdict;

	scr = bpf_map_lookup_elem(&scratch, &key);
	if (!skb || !scr)
		return TC_ACT_UNSPEC;
	h = &scr->orig_h;
	frag_key(&fkey, h);
	if (h->ip.ihl != 5)
		return TC_ACT_UNSPEC;
	fr = bpf_map_lookup_elem(&frags, &fkey);
	if (!fr || !relay_for_us(skb, sizeof(struct iphdr), 0))
		return TC_ACT_UNSPEC;
	cfg = bpf_map_lookup_elem(&config, &key);
	if (!fr || !cfg)
		return TC_ACT_UNSPEC;
	tot_len = bpf_ntohs(h->ip.tot_len);
	if (tot_len < sizeof(struct iphdr) || tot_len + ETH_HLEN > skb->len)
		return TC_ACT_UNSPEC;
	n_slots = cfg->n_slots;
	if (n_slots > RELAY_MAX_SUBS)
		n_slots = RELAY_MAX_SUBS;
	verdict = forward_frag(skb, h, scr, cfg, fr, n_slots);
	if (!(h->ip.frag_off & bpf_htons(IP_MF)))
		bpf_map_delete_elem(&frags, &fkey);
	return verdict;
}

#endif /* __RELAY_FRAG_H__ */
