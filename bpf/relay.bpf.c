// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay.bpf.c: the relay's TC ingress fast path.
 *
 * For each UDP/IPv4 packet to the stream's port: RTCP multiplexed on the
 * port (RFC 5761) goes up to the socket, untouched; an RTP packet is
 * classified once (bpf/priority.h) and whether it starts a frame of its
 * SSRC found once (bpf/switch.h, frame_state). Then per slot and SSRC
 * (sub_ssrcs): a slot waiting for a key frame of a video SSRC gets nothing
 * until one starts; a running slot gets the packet when its priority
 * limit lets it through, with its RTP sequence number lowered by the
 * packets of that SSRC dropped for that slot so far, so each subscriber
 * sees a contiguous stream; what each slot is sent is counted per SSRC
 * (packets, payload octets) for its sender reports, per CPU (sub_stats). KERNEL slots get a copy (headers and sequence
 * number rewritten in place, with the DSCP and TTL of config's
 * RELAY_IP_* (relay_rewrite_ip), bpf_clone_redirect to the slot's
 * interface);
 * the USERSPACE slots are named, each with its sequence number, in one
 * perf event that carries the packet up. The original then continues, unchanged, to the
 * udpsrc socket: the program returns TC_ACT_UNSPEC (TCX_NEXT), so other
 * programs on the interface run as well. With config.consume (userspace
 * needs no more originals) the packet is used up instead: the last kernel
 * copy is the packet itself (bpf_redirect, no clone, nothing to restore),
 * or it is dropped once copied and, if need be, carried up in the event.
 *
 * Each kernel copy is sent when the next one is about to be written (the
 * "pending" slot), so the last one is known when the loop ends.
 *
 * Checksums are never computed here from the bytes: the csum helpers know
 * skb->ip_summed (NONE/UNNECESSARY: fix the field; PARTIAL: the field
 * holds only the pseudo header sum; COMPLETE: skb->csum too).
 *
 * One object, one program, in parts (one mechanism per header, all
 * included here only): relay-maps.h (the maps, struct scratch, the slot
 * loop's context), relay-pkt.h (the packet layout), relay-rewrite.h (a
 * copy's header rewrite and its undoing), relay-v6.h (IPv6: for this host,
 * the extension header walk), relay-source.h (the publisher lock),
 * relay-local.h (lo, the any-upstream case), relay-frag.h (IPv4
 * fragments). Here: the entry (relay_ingress, the IPv4 checks), the
 * classification, the receiver statistics, and the slot loop that
 * decides and sends the copies.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "relay.h"
#include "priority-bpf.h"
#include "switch.h"

char LICENSE[] SEC("license") = "GPL";

/* Stream's UDP port, host byte order; set by userspace before load. */
const volatile __u16 relay_port = 0;

/* The parts (relay-maps.h first). */
#include "relay-maps.h"
#include "relay-rewrite.h"
#include "relay-v6.h"
#include "relay-source.h"
#include "relay-local.h"
#include "relay-frag.h"

/* A perf record (8-byte header, 4-byte size, sample padded to 8) must fit
 * in 64 KiB: event header, entries and packet together at most this. */
#define EVENT_MAX_DATA 65500

static __always_inline void send_event(struct __sk_buff *skb,
                                       struct relay_event_buf *ev, __u32 n)
{
	__u64 len = skb->len, size;
	long err = -1;

	if (n > RELAY_MAX_SUBS)
		n = RELAY_MAX_SUBS;
	ev->hdr.n_entries = n;
	size = sizeof(ev->hdr) + n * sizeof(ev->entries[0]);
	if (len + size <= EVENT_MAX_DATA)
		err = bpf_perf_event_output(skb, &events,
		                            BPF_F_CURRENT_CPU | (len << 32), ev,
		                            size);
	stat_inc(err ? RELAY_STAT_EVENT_ERRORS : RELAY_STAT_EVENTS);
}

/* Summing one sub_stats ssrc[] count over the CPUs (ssrc_base). */
struct base_ctx {
	__u32 slot;
	__u32 idx;
	__u64 packets;
	__u64 octets;
};

static long base_cb(__u32 cpu, void *data)
{
	struct base_ctx *b = data;
	struct relay_counters *cnt;

	cnt = bpf_map_lookup_percpu_elem(&sub_stats, &b->slot, cpu);
	if (!cnt)
		return 1; /* cpu >= nr_cpu_ids: done */
	b->packets += cnt->ssrc[b->idx & (RELAY_SSRCS_PER_SUB - 1)].packets;
	b->octets += cnt->ssrc[b->idx & (RELAY_SSRCS_PER_SUB - 1)].octets;
	return 0;
}

/* The base of a claimed entry: slot @slot's per-CPU counts of entry index
 * @idx summed over the CPUs (relay.h). Once per (slot, SSRC) and
 * assignment. */
static __always_inline void ssrc_base(__u32 slot, __u32 idx,
                                      struct relay_ssrc_state *e)
{
	struct base_ctx b = {.slot = slot, .idx = idx};

	bpf_loop(RELAY_MAX_CPUS, base_cb, &b, 0);
	e->packets = (__u32)b.packets;
	e->octets = (__u32)b.octets;
}

/*
 * The index of slot @slot's sub_ssrcs entry for its assignment @gen and
 * SSRC @ssrc: found, or claimed (switch.h's initial state for payload type
 * @pt and limit @limit, a burst start with @burst, dropped zero, the base
 * of its sent counts taken). -1 when every entry is in use by other SSRCs,
 * or when another CPU is claiming one for this SSRC right now (see
 * relay.h). A global function, scalars in and out: the verifier checks it
 * once, on its own, instead of once per way through slot_cb (inline, the
 * program went past the verifier's 1M instructions on kernel 6.18.44).
 */
__noinline int relay_ssrc_entry(__u32 slot, __u32 gen, __u32 ssrc, __u32 pt,
                                __u32 limit_burst)
{
	__u64 key = RELAY_SSRC_ID(gen, ssrc);
	__u64 want = RELAY_SSRC_VALID | key, busy = RELAY_SSRC_BUSY | key;
	struct relay_ssrc_state *e;
	struct relay_sub_ssrcs *t;
	struct relay_config *cfg;
	int attempt, i, free;
	__u32 zero = 0, idx;
	__u64 id, free_id;

	t = bpf_map_lookup_elem(&sub_ssrcs, &slot);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!t || !cfg)
		return -1;

	for (attempt = 0; attempt < 2; attempt++) {
		free = -1;
		free_id = 0;
#pragma unroll
		for (i = 0; i < RELAY_SSRCS_PER_SUB; i++) {
			id = *(volatile __u64 *)&t->e[i].id;
			if (id == want)
				return i;
			if (id == busy)
				return -1;
			if (free < 0 &&
			    (RELAY_SSRC_ID_GEN(id) != gen ||
			     !(id & (RELAY_SSRC_VALID | RELAY_SSRC_BUSY)))) {
				free = i;
				free_id = id;
			}
		}
		if (free < 0)
			return -1;
		idx = free & (RELAY_SSRCS_PER_SUB - 1);
		e = &t->e[idx];
		if (__sync_val_compare_and_swap(&e->id, free_id, busy) !=
		    free_id)
			continue; /* taken meanwhile: look again */
		sw_sub_init(&e->sw, cfg->codec_by_pt, (__u8)pt,
		            (__u8)limit_burst);
		if (limit_burst >> 8)
			sw_sub_start_burst(&e->sw);
		e->dropped = 0;
		ssrc_base(slot, idx, e);
		e->log.runs = 0;
		e->log.started = 0;
		/* Fully ordered: the fields are clean before anyone sees it. */
		__sync_val_compare_and_swap(&e->id, busy, want);
		return idx;
	}
	return -1;
}

/* Count one copy the kernel sent to @slot. */
static __always_inline void count_sent(struct scratch *scr, struct copy_state *c,
                                       __u32 slot)
{
	struct relay_counters *cnt = bpf_map_lookup_elem(&sub_stats, &slot);

	if (c->has_frag)
		scr->frag.slots[frag_word(slot)] |= 1ULL << (slot % 64);
	/* A datagram counts once, at its first fragment. */
	if (c->later_frag)
		return;
	if (cnt) {
		cnt->packets++;
		cnt->bytes += c->payload_len;
	}
}

/* Send the pending copy: a clone of the skb as it is now. */
static __always_inline void flush_pending(struct __sk_buff *skb,
                                          struct scratch *scr,
                                          struct copy_state *c)
{
	if (c->pending < 0)
		return;
	if (bpf_clone_redirect(skb, c->pending_ifindex, 0))
		stat_inc(RELAY_STAT_CLONE_ERRORS);
	else
		count_sent(scr, c, c->pending);
	c->pending = -1;
}

/* Send the pending copy, then write slot @i's headers (the slot's copy
 * in scratch.sub: addresses, ports, MACs; the TOS and TTL the copies get)
 * and, with seq_on, RTP sequence number @seq into the skb: the next
 * pending copy. 1 when userspace must send this copy (its TTL would be 0,
 * relay.h), else 0. A global function (pointers only in its arguments
 * and from map look-ups): the verifier checks it once, not at the end of
 * each way through slot_cb. */
__noinline int relay_stage_copy(struct __sk_buff *skb, __u32 i, __u32 seq)
{
	struct copy_state *c;
	struct scratch *scr;
	__u32 key = 0, mc;
	__u8 ttl;

	scr = bpf_map_lookup_elem(&scratch, &key);
	if (!skb || !scr)
		return 0;
	c = &scr->cs;
	/* a group: 224.0.0.0/4, ff00::/8 (the first byte of the address) */
	if (c->v6)
		mc = *(const __u8 *)scr->sub.daddr6 == 0xff;
	else
		mc = (*(const __u8 *)&scr->sub.daddr & 0xf0) == 0xe0;
	ttl = mc ? c->ttl_mc : c->ttl_uc;
	if (!ttl)
		return 1;
	if (c->broken) {
		stat_inc(RELAY_STAT_CLONE_ERRORS);
		return 0;
	}
	flush_pending(skb, scr, c);
	c->rewritten = 1;
	if (rewrite(skb, scr, c, &scr->sub) ||
	    ((c->tos_want != c->tos_cur || ttl != c->ttl_cur) &&
	     relay_rewrite_ip(skb, c->tos_want, ttl)) ||
	    (c->seq_on && (__u16)seq != c->cur_seq &&
	     set_seq(skb, c, (__u16)seq))) {
		/* Half rewritten (the helpers fail only when the skb cannot
		 * be made writable): go back to the original bytes. A
		 * COMPLETE skb->csum may stay off; the stack then verifies
		 * the checksum in software. */
		stat_inc(RELAY_STAT_CLONE_ERRORS);
		if (restore(skb, scr, c))
			c->broken = 1;
		return 0;
	}
	c->pending = i;
	c->pending_ifindex = scr->sub.ifindex;
	return 0;
}

/* Count one packet slot @i does not get: below its limit (@held 0) or
 * waiting for a key frame. */
static __always_inline void count_not_sent(__u32 i, int held)
{
	struct relay_counters *cnt = bpf_map_lookup_elem(&sub_stats, &i);

	if (!cnt)
		return;
	if (held)
		cnt->held++;
	else
		cnt->prio_dropped++;
}

static long slot_cb(__u32 i, void *data)
{
	struct loop_ctx *c = data;
	struct relay_ssrc_state *e = NULL;
	struct relay_counters *cnt;
	struct relay_sub_ssrcs *t;
	struct relay_sub *slot, *sub = c->sub;
	__u16 seq = c->info.seq;
	__u32 n, idx = 0;
	int v;

	if (i >= RELAY_MAX_SUBS)
		return 1;
	slot = bpf_map_lookup_elem(&subs, &i);
	if (!slot)
		return 1;
	/* Userspace may rewrite the slot meanwhile: the checksum update and
	 * the stored bytes must come from one copy. */
	*sub = *slot;
	if (sub->state != RELAY_SUB_USERSPACE && sub->state != RELAY_SUB_KERNEL)
		return 0;

	if (c->rtp) {
		t = bpf_map_lookup_elem(&sub_ssrcs, &i);
		if (t) {
			v = relay_ssrc_entry(i, sub->gen, c->info.ssrc,
			                     c->info.pt,
			                     sub->limit | (sub->burst ? 0x100 : 0));
			if (v >= 0) {
				idx = v & (RELAY_SSRCS_PER_SUB - 1);
				e = &t->e[idx];
			}
		}
	}
	if (e) {
		v = sw_decide(&e->sw, c->frame, c->info.priority, sub->limit);
		if (v != SW_SEND) {
			if (v == SW_DROP && c->cs->seq_on)
				__sync_fetch_and_add(&e->dropped, 1);
			if (v == SW_DROP)
				seqlog_note(&e->log, c->info.seq, 1);
			count_not_sent(i, v == SW_HOLD);
			return 0;
		}
		if (c->cs->seq_on)
			seq = prio_out_seq(c->info.seq, e->dropped);
		seqlog_note(&e->log, c->info.seq, 0);
		/* This CPU's own count: no atomic operation per copy. */
		cnt = bpf_map_lookup_elem(&sub_stats, &i);
		if (cnt) {
			idx &= RELAY_SSRCS_PER_SUB - 1;
			cnt->ssrc[idx].packets++;
			cnt->ssrc[idx].octets += c->octets;
		}
	} else {
		/* Not RTP (priority 7), or no room to remember this SSRC:
		 * then its sequence numbers stay right only if nothing is
		 * dropped. */
		if (c->rtp)
			stat_inc(RELAY_STAT_SEQ_FULL);
		if (!c->cs->seq_on && prio_drops(&c->info, sub->limit)) {
			count_not_sent(i, 0);
			return 0;
		}
	}

	/* A KERNEL slot of the other family gets it from userspace: the
	 * kernel does not translate between IPv4 and IPv6; so does one
	 * whose copy would leave with TTL 0 (relay_stage_copy). */
	if (sub->state == RELAY_SUB_KERNEL && !c->all_user &&
	    sub->family == c->family && !relay_stage_copy(c->skb, i, seq))
		return 0;
	n = c->cs->n_users;
	if (n < RELAY_MAX_SUBS) {
		/* The mask is a no-op; it keeps the bound in the verifier's
		 * view. */
		c->ev->entries[n & (RELAY_MAX_SUBS - 1)].slot = i;
		c->ev->entries[n & (RELAY_MAX_SUBS - 1)].seq = seq;
		c->cs->n_users = n + 1;
	}
	return 0;
}

/*
 * Classify the packet once (bpf/priority.h), from a copy of the first
 * PRIO_BUF_LEN bytes of its UDP payload, into scr->info. A global
 * function: the verifier checks it once, on its own, instead of checking
 * the rest of the program once per way through the classifier.
 */
__noinline int relay_classify(struct __sk_buff *skb, struct scratch *scr,
                              struct relay_config *cfg)
{
	__u32 n, len;

	if (!scr || !cfg)
		return -1;
	n = len = scr->ev.hdr.payload_len;
	if (n > scr->avail)
		n = scr->avail;
	if (n > PRIO_BUF_LEN)
		n = PRIO_BUF_LEN;
	if (n == 0 ||
	    bpf_skb_load_bytes(skb, scr->ev.hdr.payload_off, scr->payload, n))
		n = 0;
	prio_classify_bpf(&vp8_state, scr->payload, n, len, cfg->codec_by_pt,
	                  cfg->fm_id, &scr->info);
	stat_inc(RELAY_STAT_RULE_0 + scr->info.rule);
	stat_inc(RELAY_STAT_PRIO_0 + scr->info.priority);
	return 0;
}

/* The statistics start (again) at sequence number @seq. */
static __always_inline void rx_init_seq(struct relay_stream *st, __u16 seq)
{
	st->base_seq = seq;
	st->max_seq = seq;
	st->bad_seq = seq + 1; /* so that seq == bad_seq is false */
	st->cycles = 0;
	st->received = 0;
}

/* The receiver statistics (relay.h, struct relay_stream) of one RTP packet
 * with sequence number @seq, RTP timestamp @ts, arrived at @now_ns; @fresh:
 * the first packet of its SSRC. */
static __always_inline void rx_update(struct relay_stream *st, int fresh,
                                      __u16 seq, __u32 ts, __u64 now_ns,
                                      __u32 clock_rate)
{
	__u16 udelta = seq - st->max_seq;
	__u32 transit;
	__s32 d;

	if (fresh) {
		rx_init_seq(st, seq);
	} else if (udelta < RELAY_MAX_DROPOUT) {
		if (seq < st->max_seq)
			st->cycles += 65536;
		st->max_seq = seq;
	} else if (udelta <= 65536 - RELAY_MAX_MISORDER) {
		if (seq != st->bad_seq) {
			st->bad_seq = seq + 1;
			st->bad++;
			return;
		}
		rx_init_seq(st, seq); /* two in a row: the sender restarted */
		st->has_transit = 0;
	}
	st->received++;
	if (!clock_rate)
		return;
	/* In RTP units; only differences count, the 32-bit wrap is harmless.
	 * Microseconds first: no overflow of the product for years. */
	transit = (__u32)((now_ns / 1000) * clock_rate / 1000000) - ts;
	if (st->has_transit) {
		d = (__s32)(transit - st->transit);
		if (d < 0)
			d = -d;
		st->jitter += (__u32)d - ((st->jitter + 8) >> 4);
	}
	st->transit = transit;
	st->has_transit = 1;
}

/* Of an RTP packet: what it is to its SSRC's frames (sw_frame), the
 * upstream receiver statistics (once per packet), and its payload
 * octets (the padding count is the UDP payload's last byte; in a first
 * fragment that byte is not there, and the padding counts as payload). */
static __always_inline void rtp_frame(struct __sk_buff *skb,
                                      struct scratch *scr, struct loop_ctx *c,
                                      __u32 clock_rate)
{
	struct relay_stream *f, fresh = {};
	__u32 len = scr->ev.hdr.payload_len, pad = 0;
	__u64 now = clock_rate ? bpf_ktime_get_ns() : 0;
	__u8 last;

	f = bpf_map_lookup_elem(&frame_state, &c->info.ssrc);
	if (f) {
		c->frame = sw_frame(&f->f, c->info.ts, c->info.priority);
		rx_update(f, 0, c->info.seq, c->info.ts, now, clock_rate);
	} else {
		c->frame = sw_frame(&fresh.f, c->info.ts, c->info.priority);
		rx_update(&fresh, 1, c->info.seq, c->info.ts, now, clock_rate);
		bpf_map_update_elem(&frame_state, &c->info.ssrc, &fresh,
		                    BPF_ANY);
	}
	if ((scr->payload[0] & 0x20) && len && len <= scr->avail &&
	    !bpf_skb_load_bytes(skb, scr->ev.hdr.payload_off + len - 1, &last,
	                        1))
		pad = last;
	c->octets = sw_payload_octets(len, c->info.payload_off, pad);
}

/* After the loop over the slots: send the last kernel copy (with consume,
 * the packet itself), put the original bytes back, send the event.
 * Returns the program's verdict. */
static __always_inline int finish(struct loop_ctx *c, struct scratch *scr,
                                  struct relay_config *cfg)
{
	/* A fragment of a datagram userspace must send goes up, so that the
	 * socket gets the datagram. */
	int consume = (cfg->consume || cfg->local_sport) && !c->pass_up;

	/* Consumed, and no event needs the original bytes: the last copy
	 * is the packet itself. */
	if (consume && c->cs->pending >= 0 && !c->cs->n_users) {
		count_sent(scr, c->cs, c->cs->pending);
		stat_inc(RELAY_STAT_CONSUMED);
		return bpf_redirect(c->cs->pending_ifindex, 0);
	}
	flush_pending(c->skb, scr, c->cs);
	if (c->cs->rewritten) {
		/* Undo the checksum changes (this keeps COMPLETE's skb->csum
		 * right), then store the original bytes so that they are
		 * exactly what arrived. */
		if (!c->cs->broken) {
			rewrite(c->skb, scr, c->cs, &scr->orig_f);
			/* (IPv4: restore's bytes keep the header's sum) */
			if (c->cs->v6 &&
			    (c->cs->tos_cur != c->cs->tos_orig ||
			     c->cs->ttl_cur != c->cs->ttl_orig))
				relay_rewrite_ip(c->skb, c->cs->tos_orig,
				                 c->cs->ttl_orig);
			if (c->cs->cur_seq != c->info.seq)
				set_seq(c->skb, c->cs, c->info.seq);
		}
		if (restore(c->skb, scr, c->cs))
			stat_inc(RELAY_STAT_CLONE_ERRORS);
	}
	if (c->cs->n_users) {
		scr->ev.hdr.flags = c->cs->seq_on ? RELAY_EVENT_SEQ : 0;
		if (c->cs->has_frag || c->frag_user) {
			scr->ev.hdr.flags |= RELAY_EVENT_FRAGMENT;
			scr->ev.hdr.frag_avail = scr->avail;
			stat_inc(RELAY_STAT_FRAG_USER);
		}
		send_event(c->skb, &scr->ev, c->cs->n_users);
	}
	if (consume) {
		stat_inc(RELAY_STAT_CONSUMED);
		return TC_ACT_SHOT;
	}
	return TC_ACT_UNSPEC;
}

/* Send one packet to the slots [0, n_slots): the kernel-served ones now,
 * the others named in one event. With @all_user (IP options or IPv6
 * extension headers, which the copies' header rewrite does not handle)
 * userspace sends to every slot. An IPv4 first fragment (@fkey) goes to
 * the kernel-served slots only, and who got it is remembered for the
 * datagram's other fragments; an IPv6 one (@frag_user, with @all_user) to
 * userspace for every slot, which sends the datagram its socket
 * reassembles. @v6: an IPv6 packet (its header fields in h->ip6, udp6).
 * Returns the program's verdict. */
static __always_inline int forward(struct __sk_buff *skb, struct hdrs *h,
                                   struct scratch *scr,
                                   struct relay_config *cfg, __u32 n_slots,
                                   int all_user, struct relay_frag_key *fkey,
                                   int v6, int frag_user)
{
	struct loop_ctx c = {
	        .skb = skb,
	        .ev = &scr->ev,
	        .all_user = all_user,
	        .family = v6 ? RELAY_FAMILY_V6 : RELAY_FAMILY_V4,
	        .frag_user = frag_user,
	        .orig_f = &scr->orig_f,
	        .cur = &scr->cur,
	        .sub = &scr->sub,
	        .cs = &scr->cs,
	};
	struct copy_state *cs = &scr->cs;
	int verdict;

	__builtin_memset(cs, 0, sizeof(*cs));
	/* With no UDP checksum nothing in the packet compensates the port
	 * change: let the store fix COMPLETE's skb->csum. (IPv6: never zero
	 * here.) */
	cs->port_flags = v6 || h->udp.check ? 0 : BPF_F_RECOMPUTE_CSUM;
	cs->payload_len = scr->ev.hdr.payload_len;
	cs->pending = -1;
	cs->l4 = 1;
	cs->v6 = v6;
	/* (h is scratch.orig_h: relay_ingress loaded it there) */
	hdr_fields(c.orig_f, h, v6);
	*c.cur = *c.orig_f;
	ip_fields_init(cs, h, cfg, v6);
	relay_classify(skb, scr, cfg);
	c.info = scr->info;
	c.rtp = prio_is_rtp(&c.info);
	cs->seq_on = cfg->rewrite_seq && c.rtp;
	cs->cur_seq = cs->orig_seq = c.info.seq;
	if (c.rtp)
		rtp_frame(skb, scr, &c, cfg->clock_rate);
	if (fkey) {
		__builtin_memset(&scr->frag, 0, sizeof(scr->frag));
		cs->has_frag = 1;
	}

	bpf_loop(n_slots, slot_cb, &c, 0);

	if (fkey && cs->n_users)
		c.pass_up = scr->frag.pass_up = 1;
	if (frag_user && cs->n_users)
		c.pass_up = 1;
	verdict = finish(&c, scr, cfg);
	if (fkey)
		bpf_map_update_elem(&frags, fkey, &scr->frag, BPF_ANY);
	return verdict;
}

/* relay_forward's @flags */
#define FW_ALL_USER   0x1 /* userspace sends to every slot */
#define FW_FIRST_FRAG 0x2 /* an IPv4 first fragment (frags) */
#define FW_V6         0x4 /* IPv6 */
#define FW_FRAG_USER  0x8 /* an IPv6 first fragment */

/* forward() with the packet's kind in @flags: a global function, so that
 * the verifier checks the slot loop once for IPv4 and IPv6 (and every
 * kind of either), not once per way relay_ingress gets here. */
__noinline int relay_forward(struct __sk_buff *skb, __u32 flags)
{
	struct relay_frag_key fkey = {};
	struct relay_config *cfg;
	struct scratch *scr;
	struct hdrs *h;
	__u32 key = 0, n_slots;

	scr = bpf_map_lookup_elem(&scratch, &key);
	cfg = bpf_map_lookup_elem(&config, &key);
	if (!skb || !scr || !cfg)
		return TC_ACT_UNSPEC;
	h = &scr->orig_h;
	n_slots = cfg->n_slots;
	if (n_slots > RELAY_MAX_SUBS)
		n_slots = RELAY_MAX_SUBS;
	if (flags & FW_FIRST_FRAG)
		frag_key(&fkey, h);
	return forward(skb, h, scr, cfg, n_slots, !!(flags & FW_ALL_USER),
	               (flags & FW_FIRST_FRAG) ? &fkey : NULL,
	               !!(flags & FW_V6), !!(flags & FW_FRAG_USER));
}

/* Whether the packet (its IPv4 header @ihl_len bytes long, options
 * included) is for this host: its header checksum is valid (the one's
 * complement sum is 0xffff) and its destination is a local address
 * (local_addrs; with @check_local). If not, counted. A function of its
 * own, verified once. */
__noinline int relay_for_us(struct __sk_buff *skb, __u32 ihl_len,
                            __u32 check_local)
{
	struct scratch *scr;
	__u32 sum = 0, daddr, key = 0;
	__u16 *w;
	int i;

	/* the header goes to the scratch map (the stack is for the callers) */
	scr = bpf_map_lookup_elem(&scratch, &key);
	if (!skb || !scr || ihl_len < sizeof(struct iphdr) || ihl_len > 60 ||
	    bpf_skb_load_bytes(skb, IP_OFF, scr->payload, ihl_len))
		return 0;
	w = (__u16 *)scr->payload;
	for (i = 0; i < 30; i++) {
		if (i * 2 >= ihl_len)
			break;
		sum += w[i];
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff) {
		stat_inc(RELAY_STAT_BAD_CSUM);
		return 0;
	}
	__builtin_memcpy(&daddr, &w[8], 4);
	if (check_local && !bpf_map_lookup_elem(&local_addrs, &daddr)) {
		stat_inc(RELAY_STAT_NOT_LOCAL);
		return 0;
	}
	return 1;
}

/* RTCP multiplexed on the port (counted, TC_ACT_UNSPEC: for the socket),
 * a datagram of a sender that may not publish (counted, TC_ACT_SHOT), or
 * 0: to forward. @sport_v6: the sender's port (be) and, with
 * SPORT_V6, an IPv6 sender (five arguments at most). */
#define SPORT_V6 (1U << 16)
__noinline int relay_rtcp_or_rejected(struct __sk_buff *skb, __u32 ihl_len,
                                      __u32 udp_len, __u32 saddr,
                                      __u32 sport_v6)
{
	__u32 sport = sport_v6 & 0xffff, v6 = !!(sport_v6 & SPORT_V6);
	__u8 rtcp[2];

	if (!skb || ihl_len > RELAY_V6_MAX_HDR)
		return TC_ACT_UNSPEC;
	if (udp_len >= sizeof(struct udphdr) + 2 &&
	    !bpf_skb_load_bytes(skb, IP_OFF + ihl_len + sizeof(struct udphdr),
	                        rtcp, 2) &&
	    sw_is_rtcp(rtcp, 2)) {
		stat_inc(RELAY_STAT_RTCP);
		return TC_ACT_UNSPEC;
	}
	if (!relay_source_ok(skb, saddr, sport, v6)) {
		stat_inc(RELAY_STAT_REJECTED_SOURCE);
		return TC_ACT_SHOT;
	}
	return 0;
}

SEC("tc")
int relay_ingress(struct __sk_buff *skb)
{
	struct relay_config *cfg;
	struct scratch *scr;
	__u32 key = 0, ihl_len, tot_len, udp_len, n_slots, saddr, sport;
	int first_frag = 0, frag_user = 0, all_user, v6 = 0, verdict, l4;
	struct hdrs *h;

	/* A tag still in skb->vlan_tci: the packet is for a VLAN device. */
	if (skb->vlan_present)
		return TC_ACT_UNSPEC;
	/* The headers go to the scratch map: the stack is for the slot
	 * loop's frames. */
	scr = bpf_map_lookup_elem(&scratch, &key);
	if (!scr)
		return TC_ACT_UNSPEC;
	h = &scr->orig_h;
	/* The helper does the bounds checks, also on non-linear skbs. */
	if (bpf_skb_load_bytes(skb, 0, &h->eth, ETH_HLEN))
		return TC_ACT_UNSPEC;
	if (h->eth.h_proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, IP_OFF, &h->ip6, sizeof(h->ip6)) ||
		    h->ip6.version != 6)
			return TC_ACT_UNSPEC;
		l4 = relay_v6_l4(skb, h->ip6.nexthdr);
		if (l4 < 0)
			return TC_ACT_UNSPEC;
		ihl_len = l4 & 0xffff;
		if (bpf_skb_load_bytes(skb, IP_OFF + ihl_len, &h->udp6,
		                       sizeof(h->udp6)))
			return TC_ACT_UNSPEC;
		if (h->udp6.dest != bpf_htons(relay_port))
			return TC_ACT_UNSPEC;
		stat_inc(RELAY_STAT_MATCHED);
		stat_inc(RELAY_STAT_IPV6);
		if (!relay_for_us6(skb))
			return TC_ACT_UNSPEC;
		v6 = 1;
		sport = h->udp6.source;
		udp_len = bpf_ntohs(h->udp6.len);
		/* (a jumbogram's payload length is 0: passed below) */
		tot_len = sizeof(struct ipv6hdr) + bpf_ntohs(h->ip6.payload_len);
		frag_user = !!(l4 & V6_L4_FRAG);
		if (frag_user)
			stat_inc(RELAY_STAT_FRAGMENTED);
		/* Extension headers (a fragment's too): not rewritten here;
		 * userspace sends the copies. */
		all_user = !!(l4 & V6_L4_EXT);
		if (tot_len + ETH_HLEN > skb->len || udp_len < sizeof(h->udp6) ||
		    tot_len < ihl_len + sizeof(h->udp6) ||
		    (!frag_user && udp_len + ihl_len > tot_len) ||
		    (frag_user && udp_len + ihl_len <= tot_len)) {
			stat_inc(RELAY_STAT_PASSED);
			return TC_ACT_UNSPEC;
		}
		/* The UDP checksum is mandatory in IPv6 (RFC 8200 8.1): the
		 * stack drops a datagram without one; so does a copy's
		 * receiver. */
		if (!h->udp6.check) {
			stat_inc(RELAY_STAT_BAD_CSUM);
			return TC_ACT_UNSPEC;
		}
		if (all_user)
			stat_inc(RELAY_STAT_PASSED);
		saddr = 0;
	} else {
		if (bpf_skb_load_bytes(skb, IP_OFF, &h->ip, sizeof(h->ip)) ||
		    h->eth.h_proto != bpf_htons(ETH_P_IP) || h->ip.version != 4 ||
		    h->ip.ihl < 5 || h->ip.protocol != IPPROTO_UDP)
			return TC_ACT_UNSPEC;
		/* Later fragments have no UDP header: they are ours when their
		 * first fragment was (frags). */
		if (h->ip.frag_off & bpf_htons(IP_OFFSET))
			return relay_later_fragment(skb);
		ihl_len = h->ip.ihl * 4;
		if (bpf_skb_load_bytes(skb, IP_OFF + ihl_len, &h->udp,
		                       sizeof(h->udp)))
			return TC_ACT_UNSPEC;
		if (h->udp.dest != bpf_htons(relay_port))
			return TC_ACT_UNSPEC;

		stat_inc(RELAY_STAT_MATCHED);
		/* Only datagrams for this host, with a valid IP header: the
		 * rest (transit traffic, a bad checksum) goes on untouched. */
		if (!relay_for_us(skb, ihl_len, 1))
			return TC_ACT_UNSPEC;
		sport = h->udp.source;
		saddr = h->ip.saddr;
		tot_len = bpf_ntohs(h->ip.tot_len);
		udp_len = bpf_ntohs(h->udp.len);
		first_frag = !!(h->ip.frag_off & bpf_htons(IP_MF));
		if (first_frag)
			stat_inc(RELAY_STAT_FRAGMENTED);
		if (tot_len + ETH_HLEN > skb->len || udp_len < sizeof(h->udp) ||
		    tot_len < ihl_len + sizeof(h->udp) ||
		    (!first_frag && udp_len + ihl_len > tot_len) ||
		    (first_frag && (ihl_len != sizeof(struct iphdr) ||
		                    udp_len + ihl_len <= tot_len))) {
			stat_inc(RELAY_STAT_PASSED);
			return TC_ACT_UNSPEC;
		}
		/* IP options: not rewritten here; userspace sends the copies. */
		all_user = ihl_len != sizeof(struct iphdr);
		if (all_user)
			stat_inc(RELAY_STAT_PASSED);
	}

	/* RTCP on the media port (RFC 5761): for the socket, also with
	 * consume; userspace relays it. Neither a subscriber nor the socket
	 * gets a datagram of a sender that may not publish. */
	verdict = relay_rtcp_or_rejected(skb, ihl_len, udp_len, saddr,
	                                 sport | (v6 ? SPORT_V6 : 0));
	if (verdict)
		return verdict;

	cfg = bpf_map_lookup_elem(&config, &key);
	if (!cfg)
		return TC_ACT_UNSPEC;
	/* On lo only the element's own buffers, which are IPv4
	 * (ebpfrelay-local). */
	if (v6 && cfg->local_sport)
		return TC_ACT_UNSPEC;
	scr->all_user = all_user;
	if (relay_local(scr, cfg, sport, tot_len))
		return TC_ACT_UNSPEC;
	n_slots = cfg->n_slots;
	if (n_slots > RELAY_MAX_SUBS)
		n_slots = RELAY_MAX_SUBS;
	if (!n_slots) {
		if (!cfg->consume && !cfg->local_sport)
			return TC_ACT_UNSPEC;
		stat_inc(RELAY_STAT_CONSUMED);
		return TC_ACT_SHOT;
	}
	scr->ev.hdr.payload_off = IP_OFF + ihl_len + sizeof(struct udphdr);
	scr->ev.hdr.payload_len = udp_len - sizeof(struct udphdr);
	scr->avail = tot_len - ihl_len - sizeof(struct udphdr);
	return relay_forward(skb,
	                     (scr->all_user ? FW_ALL_USER : 0) |
	                             (first_frag ? FW_FIRST_FRAG : 0) |
	                             (v6 ? FW_V6 : 0) |
	                             (frag_user ? FW_FRAG_USER : 0));
}
