/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prioritysrc.h: the contract between ebpfprioritysrc's socket filter
 * (prioritysrc.bpf.c) and userspace (gst-plugin/ebpfprioritysrc-kernel.c).
 * Plain __u types only, so both sides compile it unchanged.
 *
 * The filter is attached with SO_ATTACH_BPF to the element's own UDP
 * socket. For a UDP socket, the data a socket filter sees starts at the
 * UDP header: offset 0 is the source port, the UDP payload starts at
 * PSRC_UDP_HLEN, and skb->len counts the header too (checked on kernel
 * 6.18 with a probe program; see tests/check/ebpfprioritysrc-kernel.c).
 *
 * Maps (owned by one element instance, never pinned):
 *   config  ARRAY [1] struct psrc_config         limit and codec table
 *   vp8     LRU_HASH  ssrc -> struct prio_vp8_state
 *   switches LRU_HASH ssrc -> struct psrc_ssrc     the limit in force per
 *                                                  SSRC (bpf/switch.h)
 *   stats   PERCPU_ARRAY [PSRC_STAT_MAX] __u64
 */
#ifndef __EBPF_RELAY_PRIORITYSRC_H__
#define __EBPF_RELAY_PRIORITYSRC_H__

#include <linux/types.h>
#include "priority.h"
#include "switch.h"

#define PSRC_UDP_HLEN     8
#define PSRC_VP8_SSRCS    256
#define PSRC_SWITCH_SSRCS 256

/* The subscription channel's packets (RTCP APP, RFC 3550 6.7): never
 * dropped, whatever the limit. */
#define PSRC_RTCP_APP 204

/* Per SSRC, as the relay keeps it per subscriber and SSRC: a change of
 * the limit comes into force at a boundary of that SSRC's frames
 * (switch.h: a raise at the next frame start, a lowering at the next key
 * frame start), never inside a frame. The filter does not gate the start
 * (the relay does): an SSRC's first packet makes its state RUNNING at the
 * limit requested then. */
struct psrc_ssrc {
	struct sw_ssrc f;
	struct sw_sub s;
};

struct psrc_config {
	__u8 limit; /* requested: keep packets with priority >= limit
	             * (in force per SSRC: struct psrc_ssrc) */
	__u8 fm_id; /* frame marking extension id, 0: none */
	__u8 pad[6];
	__u8 codec_by_pt[PRIO_N_PT]; /* enum prio_codec */
};

enum psrc_stat {
	PSRC_STAT_KEPT = 0, /* media packets passed to the socket */
	PSRC_STAT_DROPPED,  /* below the limit, dropped */
	PSRC_STAT_CONTROL,  /* RTCP APP packets, always passed */
	PSRC_STAT_MAX
};

#endif /* __EBPF_RELAY_PRIORITYSRC_H__ */
