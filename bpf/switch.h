/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * switch.h: when a subscriber starts and switches an SSRC, written
 * once. Compiled unchanged by relay.bpf.c and by userspace (ebpfrelaysink's
 * userspace path, the checker tools, the tests), like priority.h, so the
 * kernel and userspace cannot disagree.
 *
 * Frames (DESIGN.md, "Join and switch"): per SSRC, a packet starts a frame
 * when its RTP timestamp differs from the previous packet's of that SSRC
 * (struct sw_ssrc, one per SSRC, kept by the caller). The first packet
 * seen of an SSRC starts a frame: there is nothing to compare it with, and
 * a relay that starts with its stream sees the first frame whole. A key
 * frame starts at the first packet of priority PRIO_MAX of a frame whose
 * earlier packets, if any, all had priority 0: a frame start of priority 7,
 * or one behind leading discardable packets. Real H.264 streams need the
 * latter: x264 begins every access unit with an access unit delimiter
 * (NAL type 9, NRI 0; frame marking D), then SPS, PPS (NRI 3) and the IDR,
 * all with the IDR's timestamp; a viewer starting at the SPS misses only
 * the delimiter (and SEI), which a decoder does without.
 *
 * Subscribers: per subscriber and SSRC a struct sw_sub, made by sw_sub_init
 * when the subscriber sees its first packet of that SSRC. A video SSRC
 * (the payload type's codec is H.264 or VP8) starts WAITING, anything else
 * (audio, other) RUNNING. A WAITING subscriber gets nothing of the SSRC
 * until a key frame starts; from that packet on it RUNS: it gets the
 * packets its priority limit lets through (priority.h, prio_drops).
 * Packets held back while WAITING are not "dropped" for the sequence
 * number rewrite: the subscriber has seen nothing before them, so its
 * first packet keeps its number (minus 0) and only packets dropped while
 * RUNNING lower the later ones (prio_out_seq).
 *
 * Switching (DESIGN.md, "Join and switch"): the limit a subscriber asks
 * for (its requested limit, passed to every sw_decide) and the limit that
 * decides its packets of an SSRC (struct sw_sub @limit, in force) differ
 * only until the next boundary that can be switched at without breaking
 * a picture. A WAITING subscriber's requested limit comes into force
 * with its first key frame. A RUNNING one's
 *  - raised limit (it gets fewer packets) comes into force at the next
 *    frame start of the SSRC (SW_FRAME_START: a new timestamp), so the
 *    frame in progress is finished whole at the old limit. A new
 *    timestamp rather than the marker bit: it needs no codec's marker
 *    rule, and it is also right when the marked packet was lost (the
 *    next frame's first packet is the first one decided at the new
 *    limit, as it would be after a marker);
 *  - lowered limit (it gets more) comes into force at the next key frame
 *    start (SW_KEY_START): the packets it did not get before would be the
 *    references of those it would get now. The relay asks the sender for
 *    a key frame when a limit is lowered (ebpfrelay-feedback.c).
 * A request that goes back to the limit in force before the boundary
 * cancels the switch; any number of requests between two boundaries is
 * one switch. Only which packets are dropped changes: the sequence number
 * rewrite (prio_out_seq) counts the drops as they happen, so the numbers
 * stay contiguous across every switch. An SSRC whose every packet is a
 * key frame start (audio and other non-video payloads: priority 7, a new
 * timestamp each) switches at its next packet either way.
 *
 * Also here: RTCP multiplexed on the media port (RFC 5761, sw_is_rtcp),
 * which is never switched nor fanned out, and the RTP payload octets an
 * SR counts (RFC 3550 6.4.1, sw_payload_octets).
 */
#ifndef __EBPF_RELAY_SWITCH_H__
#define __EBPF_RELAY_SWITCH_H__

#include <linux/types.h>
#include "priority.h"

/* Per SSRC: the previous packet's RTP timestamp, and whether every packet
 * of the current frame so far had priority 0. */
struct sw_ssrc {
	__u32 ts; /* host order */
	__u8 valid;
	__u8 lead; /* only priority-0 packets in this frame yet */
	__u8 pad[2];
};

/* What a packet is to its SSRC's frames (sw_frame). */
#define SW_FRAME_START 0x1 /* a new timestamp: starts a frame */
#define SW_KEY_START   0x2 /* starts a key frame (see above) */

enum sw_state {
	SW_RUNNING = 0, /* gets what its limit lets through */
	SW_WAITING = 1, /* gets nothing until a key frame starts */
};

/* Per subscriber and SSRC. */
struct sw_sub {
	__u8 state; /* enum sw_state */
	__u8 limit; /* limit in force (sw_decide moves it to the
	             * requested one at a boundary) */
	__u8 pad[2];
};

/* What a subscriber does with a packet (sw_decide). */
enum sw_verdict {
	SW_SEND = 0, /* send it (sequence number: prio_out_seq) */
	SW_DROP = 1, /* below the limit: dropped, counts for the
                                 * sequence number rewrite */
	SW_HOLD = 2, /* waiting for a key frame: not sent, does
                                 * not count as dropped */
};

/* What the packet (timestamp @ts, host order, priority @priority) is to
 * the frames of its SSRC, whose state @f is updated (zeroed: no packet
 * seen yet): SW_FRAME_START and SW_KEY_START bits. */
static __always_inline int sw_frame(struct sw_ssrc *f, __u32 ts, __u8 priority)
{
	int flags = 0;

	if (!f->valid || f->ts != ts) {
		flags |= SW_FRAME_START;
		f->lead = 1;
	}
	if (priority == PRIO_MAX && f->lead)
		flags |= SW_KEY_START;
	if (priority != 0)
		f->lead = 0;
	f->ts = ts;
	f->valid = 1;
	return flags;
}

/* Whether payload type @pt is video (H.264, VP8): its subscribers start
 * at a key frame. */
static __always_inline int sw_is_video(const __u8 *codec_by_pt, __u8 pt)
{
	__u8 codec;

	if (!codec_by_pt)
		return 0;
	codec = codec_by_pt[pt & (PRIO_N_PT - 1)];
	return codec == PRIO_CODEC_H264 || codec == PRIO_CODEC_VP8;
}

/* The state of a subscriber's first packet of an SSRC of payload type
 * @pt, before sw_decide on that packet. */
static __always_inline void
sw_sub_init(struct sw_sub *s, const __u8 *codec_by_pt, __u8 pt, __u8 limit)
{
	s->state = sw_is_video(codec_by_pt, pt) ? SW_WAITING : SW_RUNNING;
	s->limit = limit;
	s->pad[0] = s->pad[1] = 0;
}

/* A subscriber that joins with a key-frame burst (ebpfrelaysink's
 * keyframe-cache): the relay sends it the cached packets since the last
 * key frame start of the SSRC, numbered to end just before this packet,
 * so it RUNS from its first packet of the SSRC on instead of WAITING.
 * Call after sw_sub_init. */
static __always_inline void sw_sub_start_burst(struct sw_sub *s)
{
	s->state = SW_RUNNING;
}

/* What subscriber state @s, whose requested limit is @limit, does with a
 * classified RTP packet (@frame: sw_frame of it). Updates @s: the state,
 * and the limit in force at a boundary (see above), which decides this
 * packet. Only RTP packets come here (prio_is_rtp): the others are always
 * sent. */
static __always_inline int sw_decide(struct sw_sub *s, int frame, __u8 priority,
                                     __u8 limit)
{
	if (s->state == SW_WAITING) {
		if (!(frame & SW_KEY_START))
			return SW_HOLD;
		s->state = SW_RUNNING;
		s->limit = limit;
	} else if (limit > s->limit) {
		if (frame & SW_FRAME_START)
			s->limit = limit;
	} else if (limit < s->limit) {
		if (frame & SW_KEY_START)
			s->limit = limit;
	}
	return priority < s->limit ? SW_DROP : SW_SEND;
}

/* Whether state @s has a switch pending: RUNNING with a limit in force
 * other than the requested @limit. */
static __always_inline int sw_pending(const struct sw_sub *s, __u8 limit)
{
	return s->state == SW_RUNNING && s->limit != limit;
}

/* RTCP multiplexed on the RTP port (RFC 5761 4): version 2 and a second
 * byte (RTCP packet type) of 192..223. @b: the UDP payload's first @len
 * bytes. */
static __always_inline int sw_is_rtcp(const __u8 *b, __u32 len)
{
	return len >= 2 && (b[0] & 0xc0) == 0x80 && b[1] >= 192 && b[1] <= 223;
}

/* RTP payload octets of an RTP packet (RFC 3550 6.4.1: not the header,
 * CSRCs, extension nor padding) of @pkt_len bytes whose payload starts at
 * @payload_off (struct prio_info); @pad: padding octets (the last byte
 * when the P bit is set, else 0). */
static __always_inline __u32 sw_payload_octets(__u32 pkt_len, __u32 payload_off,
                                               __u32 pad)
{
	if (payload_off + pad > pkt_len)
		return 0;
	return pkt_len - payload_off - pad;
}

#endif /* __EBPF_RELAY_SWITCH_H__ */
