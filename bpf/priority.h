/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * priority.h: the priority contract of gst-ebpf-relay, written once.
 * Compiled unchanged by the BPF programs (relay.bpf.c, prioritysrc.bpf.c)
 * and by userspace (ebpfrelaysink's userspace path, rtpframemarking, the
 * tests), so the kernel and userspace cannot disagree.
 *
 * A packet's priority is 0..7, higher is more important. A subscriber with
 * limit L receives exactly the packets with priority >= L. Derived, for an
 * RTP packet, in this order:
 *  1. RFC 9626 frame marking extension (RFC 8285 one- or two-byte form,
 *     with the negotiated extension id) present: I=1 -> 7; else D=1 -> 0;
 *     else 6 - min(TID, 6).
 *  2. H.264 (RFC 6184): NRI of the first payload byte (also right for FU-A
 *     and STAP-A): 3 -> 7, 2 -> 6, 1 -> 5, 0 -> 0.
 *  3. VP8 (RFC 7741): key frame -> 7; N bit (non-reference) -> 0;
 *     TID t -> 6 - t (no TID: 6). Only a frame's first packet shows the
 *     key frame bit: the frame's other packets (same SSRC and timestamp)
 *     inherit its priority (struct prio_vp8_state, kept by the caller).
 *  4. Anything else (other codecs, not RTP, malformed): 7, never dropped.
 *
 * The classifier reads a linear copy of the first PRIO_BUF_LEN bytes of the
 * UDP payload: in BPF, bpf_skb_load_bytes into a stack buffer; in userspace
 * the buffer itself. Every access is bounds-checked against the valid
 * length and masked with PRIO_BUF_LEN - 1, which the verifier needs and
 * costs userspace nothing; loops have constant bounds.
 */
#ifndef __EBPF_RELAY_PRIORITY_H__
#define __EBPF_RELAY_PRIORITY_H__

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define PRIO_MAX           7
#define PRIO_BUF_LEN       128 /* power of two */
#define PRIO_MAX_EXT_ELEMS 16  /* RFC 8285 elements looked at */
#define PRIO_N_PT          128

/* Codec of a payload type (table filled from the caps). */
enum prio_codec {
	PRIO_CODEC_OTHER = 0,
	PRIO_CODEC_H264 = 1,
	PRIO_CODEC_VP8 = 2,
};

/* Which rule gave the priority. */
enum prio_rule {
	PRIO_RULE_NOT_RTP = 0, /* not RTP or malformed: 7, never rewritten */
	PRIO_RULE_FRAMEMARKING,
	PRIO_RULE_H264,
	PRIO_RULE_VP8,
	PRIO_RULE_DEFAULT, /* RTP, other codec or no payload: 7 */
	PRIO_N_RULES
};

struct prio_info {
	__u8 priority;
	__u8 rule; /* enum prio_rule */
	__u8 pt;
	__u8 vp8_frame_start; /* first packet of a VP8 frame */
	__u16 seq;            /* host order */
	__u16 payload_off;    /* offset of the codec payload */
	__u32 ts;             /* host order */
	__u32 ssrc;           /* host order */
};

/* Per SSRC: priority of the VP8 frame in progress. */
struct prio_vp8_state {
	__u32 ts;
	__u8 priority;
	__u8 valid;
	__u8 pad[2];
};

#define PRIO_BYTE(b, off) ((b)[(off) & (PRIO_BUF_LEN - 1)])

/* The compiler must forget what it knows of @x (no code). */
#define PRIO_OPAQUE(x) __asm__ __volatile__("" : "+r"(x))

/* Priority from a frame marking byte (the first byte of the element: S E I
 * D B TID, in both the short and the long form). */
static __always_inline __u8 prio_from_framemarking(__u8 fm)
{
	__u8 tid = fm & 0x07;

	if (fm & 0x20)
		return 7;
	if (fm & 0x10)
		return 0;
	return 6 - (tid > 6 ? 6 : tid);
}

static __always_inline __u8 prio_from_h264_nri(__u8 nal_header)
{
	switch ((nal_header >> 5) & 0x3) {
	case 3:
		return 7;
	case 2:
		return 6;
	case 1:
		return 5;
	}
	return 0;
}

/* Looks for the frame marking element in the RFC 8285 block at
 * [off, end), of the one-byte form (@two_byte 0) or the two-byte form.
 * Returns 1 and sets *fm when found, 0 when absent, -1 when the block is
 * malformed. One loop per form: fewer paths for the BPF verifier. */
static __always_inline int prio_scan_ext(const __u8 *b, __u32 len, __u32 off,
                                         __u32 end, int two_byte, __u8 fm_id,
                                         __u8 *fm)
{
	int i;

	for (i = 0; i < PRIO_MAX_EXT_ELEMS; i++) {
		__u32 id, elen;

		if (off >= end || off >= len)
			return 0; /* the end, or beyond what we copied */
		/* A no-op (off < len <= PRIO_BUF_LEN) that the compiler must keep:
     * every way through the loop then reaches this point with off in
     * [0, PRIO_BUF_LEN) for the BPF verifier, which can merge them
     * instead of following each one on its own. */
		PRIO_OPAQUE(off);
		off &= PRIO_BUF_LEN - 1;
		id = PRIO_BYTE(b, off);
		off++;
		if (id == 0)
			continue; /* padding */
		if (two_byte) {
			if (off >= end)
				return -1;
			if (off >= len)
				return 0;
			elen = PRIO_BYTE(b, off);
			off++;
		} else {
			if ((id >> 4) == 15)
				return 0; /* stop: the rest is not to be read */
			elen = (id & 0x0f) + 1;
			id >>= 4;
		}
		if (off + elen > end)
			return -1;
		if (id == fm_id) {
			if (elen < 1)
				return -1;
			if (off >= len)
				return 0; /* there, but beyond what we copied */
			*fm = PRIO_BYTE(b, off);
			return 1;
		}
		off += elen;
	}
	return 0;
}

static __always_inline int prio_find_framemarking(const __u8 *b, __u32 len,
                                                  __u32 off, __u32 end,
                                                  __u16 profile, __u8 fm_id,
                                                  __u8 *fm)
{
	if (fm_id == 0)
		return 0;
	if (profile == 0xBEDE)
		return fm_id <= 14
		               ? prio_scan_ext(b, len, off, end, 0, fm_id, fm)
		               : 0;
	if ((profile & 0xfff0) == 0x1000)
		return prio_scan_ext(b, len, off, end, 1, fm_id, fm);
	return 0; /* another extension profile */
}

/*
 * Classifies the RTP packet whose first @len bytes (at most PRIO_BUF_LEN)
 * are in @b; @pkt_len is the whole UDP payload's length. @codec_by_pt maps
 * a payload type to enum prio_codec (NULL: every codec "other"); @fm_id is
 * the frame marking extension id (0: none). @vp8 is the state of this
 * packet's SSRC, looked up by the caller (NULL: none), and updated here.
 * Fills @out; returns out->priority.
 */
static __always_inline __u8 prio_classify(const __u8 *b, __u32 len,
                                          __u32 pkt_len,
                                          const __u8 *codec_by_pt, __u8 fm_id,
                                          struct prio_vp8_state *vp8,
                                          struct prio_info *out)
{
	__u32 off, end, cc, pad = 0;
	__u8 codec, first, fm = 0;
	int found = 0;

	out->priority = 7;
	out->rule = PRIO_RULE_NOT_RTP;
	out->pt = 0;
	out->vp8_frame_start = 0;
	out->seq = 0;
	out->payload_off = 0;
	out->ts = 0;
	out->ssrc = 0;
	if (len > PRIO_BUF_LEN)
		len = PRIO_BUF_LEN;
	if (len > pkt_len)
		len = pkt_len;
	if (len < 12 || (PRIO_BYTE(b, 0) & 0xc0) != 0x80)
		return 7;
	/* RTCP multiplexed on the port (RFC 5761): payload types 72-76 with M. */
	if ((PRIO_BYTE(b, 1) & 0x7f) >= 72 && (PRIO_BYTE(b, 1) & 0x7f) <= 76)
		return 7;

	cc = PRIO_BYTE(b, 0) & 0x0f;
	out->pt = PRIO_BYTE(b, 1) & 0x7f;
	out->seq = ((__u16)PRIO_BYTE(b, 2) << 8) | PRIO_BYTE(b, 3);
	out->ts = ((__u32)PRIO_BYTE(b, 4) << 24) |
	          ((__u32)PRIO_BYTE(b, 5) << 16) |
	          ((__u32)PRIO_BYTE(b, 6) << 8) | PRIO_BYTE(b, 7);
	out->ssrc = ((__u32)PRIO_BYTE(b, 8) << 24) |
	            ((__u32)PRIO_BYTE(b, 9) << 16) |
	            ((__u32)PRIO_BYTE(b, 10) << 8) | PRIO_BYTE(b, 11);
	off = 12 + cc * 4;
	if (PRIO_BYTE(b, 0) & 0x20) { /* padding: count in the last byte */
		if (pkt_len - 1 >= len)
			pad = 0; /* not copied; only matters for empty payloads */
		else
			pad = PRIO_BYTE(b, pkt_len - 1);
	}
	if (off > pkt_len)
		return 7;

	if (PRIO_BYTE(b, 0) & 0x10) { /* header extension */
		__u16 profile, words;

		if (off + 4 > pkt_len || off + 4 > len)
			return 7;
		profile =
		        ((__u16)PRIO_BYTE(b, off) << 8) | PRIO_BYTE(b, off + 1);
		words = ((__u16)PRIO_BYTE(b, off + 2) << 8) |
		        PRIO_BYTE(b, off + 3);
		end = off + 4 + (__u32)words * 4;
		if (end > pkt_len)
			return 7;
		found = prio_find_framemarking(b, len, off + 4, end, profile,
		                               fm_id, &fm);
		if (found < 0)
			return 7;
		off = end;
	}
	if (off + pad > pkt_len)
		return 7;
	out->payload_off = off;

	if (found) {
		out->rule = PRIO_RULE_FRAMEMARKING;
		out->priority = prio_from_framemarking(fm);
		return out->priority;
	}

	out->rule = PRIO_RULE_DEFAULT;
	codec = codec_by_pt ? codec_by_pt[out->pt & (PRIO_N_PT - 1)]
	                    : PRIO_CODEC_OTHER;
	if (codec == PRIO_CODEC_OTHER || off >= pkt_len - pad || off >= len)
		return 7;
	first = PRIO_BYTE(b, off);

	if (codec == PRIO_CODEC_H264) {
		out->rule = PRIO_RULE_H264;
		out->priority = prio_from_h264_nri(first);
		return out->priority;
	}

	if (codec == PRIO_CODEC_VP8) {
		__u32 p = off + 1;
		__u8 x, ext = 0, tid = 0, prio;
		int start =
		        (first & 0x10) && (first & 0x07) == 0; /* S, PID 0 */

		out->rule = PRIO_RULE_VP8;
		x = first & 0x80;
		if (x) {
			if (p >= len)
				goto vp8_short;
			ext = PRIO_BYTE(b, p);
			p++;
			if (ext & 0x80) { /* I: picture id, 7 or 15 bits */
				if (p >= len)
					goto vp8_short;
				p += (PRIO_BYTE(b, p) & 0x80) ? 2 : 1;
			}
			if (ext & 0x40) /* L: TL0PICIDX */
				p++;
			if (ext & 0x30) { /* T or K: TID|Y|KEYIDX */
				if (p >= len)
					goto vp8_short;
				if (ext & 0x20)
					tid = PRIO_BYTE(b, p) >> 6;
				p++;
			}
		}
		if (start) {
			if (p >= len || p >= pkt_len - pad)
				goto vp8_short;
			/* VP8 payload header: P (inverse key frame flag) in bit 0 */
			if (!(PRIO_BYTE(b, p) & 0x01))
				prio = 7;
			else if (first & 0x20)
				prio = 0;
			else
				prio = 6 - tid;
			out->vp8_frame_start = 1;
			if (vp8) {
				vp8->ts = out->ts;
				vp8->priority = prio;
				vp8->valid = 1;
			}
		} else if (vp8 && vp8->valid && vp8->ts == out->ts) {
			prio = vp8->priority;
		} else if (first & 0x20) {
			prio = 0;
		} else {
			prio = 6 - tid;
		}
		out->priority = prio;
		return prio;
	vp8_short:
		out->rule = PRIO_RULE_DEFAULT;
		return 7;
	}
	return 7;
}

/* Sets *ssrc and returns 1 when the packet in @b (@len bytes copied) is
 * RTP with a VP8 payload type: prio_classify then needs that SSRC's
 * struct prio_vp8_state. */
static __always_inline int prio_wants_vp8_state(const __u8 *b, __u32 len,
                                                const __u8 *codec_by_pt,
                                                __u32 *ssrc)
{
	if (len < 12 || !codec_by_pt || (PRIO_BYTE(b, 0) & 0xc0) != 0x80 ||
	    codec_by_pt[PRIO_BYTE(b, 1) & (PRIO_N_PT - 1)] != PRIO_CODEC_VP8)
		return 0;
	*ssrc = ((__u32)PRIO_BYTE(b, 8) << 24) |
	        ((__u32)PRIO_BYTE(b, 9) << 16) |
	        ((__u32)PRIO_BYTE(b, 10) << 8) | PRIO_BYTE(b, 11);
	return 1;
}

/* What a subscriber with priority limit @limit gets of a classified packet.
 * The kernel (relay.bpf.c) and ebpfrelaysink's userspace path both decide
 * with these. */

/* The subscriber does not get the packet. Packets that are not RTP have
 * priority 7: never dropped. */
static __always_inline int prio_drops(const struct prio_info *p, __u8 limit)
{
	return p->priority < limit;
}

/* The packet's RTP sequence number may be rewritten: it is RTP. */
static __always_inline int prio_is_rtp(const struct prio_info *p)
{
	return p->rule != PRIO_RULE_NOT_RTP;
}

/* The sequence number a subscriber gets once @dropped packets of this SSRC
 * were dropped for it: contiguous across the drops, modulo 2^16. */
static __always_inline __u16 prio_out_seq(__u16 seq, __u32 dropped)
{
	return (__u16)(seq - (__u16)dropped);
}

#endif /* __EBPF_RELAY_PRIORITY_H__ */
