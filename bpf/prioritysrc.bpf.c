/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prioritysrc.bpf.c: ebpfprioritysrc's socket filter. Classifies each UDP
 * datagram with prio_classify() (priority.h) and drops it when its priority
 * is below the limit in force for its SSRC, before it is queued on the
 * socket. The limit in force follows the one in the config map at the
 * SSRC's frame boundaries (switch.h, struct psrc_ssrc). RTCP APP packets
 * (the relay's control messages) always pass.
 *
 * The data starts at the UDP header (see prioritysrc.h). Returning
 * skb->len keeps the whole datagram, 0 drops it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "prioritysrc.h"
#include "priority-bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct psrc_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PSRC_VP8_SSRCS);
	__type(key, __u32);
	__type(value, struct prio_vp8_state);
} vp8 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PSRC_SWITCH_SSRCS);
	__type(key, __u32);
	__type(value, struct psrc_ssrc);
} switches SEC(".maps");

/* Per CPU: the copy of the payload's first bytes the classifier reads,
 * and its result (kept off the 512-byte stack). */
struct scratch {
	__u8 payload[PRIO_BUF_LEN];
	struct prio_info info;
};

PRIO_SCRATCH_MAP(scratch, struct scratch);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PSRC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &key);

	if (v)
		*v += 1;
}

/*
 * Classifies the datagram's UDP payload (@len bytes) into scr->info;
 * returns 0, or -1 when it could not. A global function: the verifier checks the
 * classifier once, on its own, with every length possible.
 */
__noinline int psrc_classify(struct __sk_buff *skb, struct scratch *scr,
                             struct psrc_config *cfg, __u32 len)
{
	__u64 n = len;

	if (!scr || !cfg)
		return -1;
	if (n > PRIO_BUF_LEN)
		n = PRIO_BUF_LEN;
	/* Arguments reach a global function unbounded: bound n where the
	 * verifier sees it, whatever the compiler made of the test above. */
	asm volatile("%0 &= 0xff" : "+r"(n));
	if (n == 0 || n > PRIO_BUF_LEN)
		n = 0;
	if (n == 0 || bpf_skb_load_bytes(skb, PSRC_UDP_HLEN, scr->payload, n))
		n = 0;
	prio_classify_bpf(&vp8, scr->payload, n, len, cfg->codec_by_pt,
	                  cfg->fm_id, &scr->info);
	return 0;
}

SEC("socket")
int prioritysrc_filter(struct __sk_buff *skb)
{
	struct psrc_config *cfg;
	struct scratch *scr;
	__u32 zero = 0, len;
	__u8 hdr[2];

	if (skb->len <= PSRC_UDP_HLEN)
		return skb->len;
	len = skb->len - PSRC_UDP_HLEN;

	/* The relay's control messages (RTCP APP) always pass. */
	if (len >= 2 && bpf_skb_load_bytes(skb, PSRC_UDP_HLEN, hdr, 2) == 0 &&
	    (hdr[0] & 0xc0) == 0x80 && hdr[1] == PSRC_RTCP_APP) {
		count(PSRC_STAT_CONTROL);
		return skb->len;
	}

	cfg = bpf_map_lookup_elem(&config, &zero);
	scr = bpf_map_lookup_elem(&scratch, &zero);
	if (!cfg || !scr || psrc_classify(skb, scr, cfg, len) != 0) {
		count(PSRC_STAT_KEPT);
		return skb->len;
	}
	/* Every RTP packet, also at limit 0: a raise must know whether the
	 * next packet starts a frame. */
	if (prio_is_rtp(&scr->info)) {
		struct psrc_ssrc *st, fresh = {};
		__u32 ssrc = scr->info.ssrc;
		int frame, v;

		st = bpf_map_lookup_elem(&switches, &ssrc);
		if (!st) {
			sw_sub_init(&fresh.s, 0, scr->info.pt, cfg->limit);
			bpf_map_update_elem(&switches, &ssrc, &fresh, BPF_ANY);
			st = bpf_map_lookup_elem(&switches, &ssrc);
		}
		if (st) {
			frame = sw_frame(&st->f, scr->info.ts,
			                 scr->info.priority);
			v = sw_decide(&st->s, frame, scr->info.priority,
			              cfg->limit);
		} else {
			v = prio_drops(&scr->info, cfg->limit) ? SW_DROP
			                                       : SW_SEND;
		}
		if (v != SW_SEND) {
			count(PSRC_STAT_DROPPED);
			return 0;
		}
	}
	count(PSRC_STAT_KEPT);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
