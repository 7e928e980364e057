/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * priority-bpf.h: bpf/priority.h's classifier as both BPF programs run it
 * (relay.bpf.c, prioritysrc.bpf.c): on a linear copy of the payload's
 * first bytes, with the VP8 frame state kept per SSRC in a map of the
 * program's (looked up only for VP8 packets; a frame's first packet
 * creates the entry).
 */
#ifndef __PRIORITY_BPF_H__
#define __PRIORITY_BPF_H__

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "priority.h"

/* The program's per-CPU scratch space, one @value_type (kept off the
 * 512-byte stack): the payload copy the classifier reads, its result and
 * whatever else the program builds per packet. Look it up at key 0. */
#define PRIO_SCRATCH_MAP(name, value_type)               \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, 1);                  \
		__type(key, __u32);                      \
		__type(value, value_type);               \
	} name SEC(".maps")

/* Classify @b (@n bytes of a @len-byte payload) into @out; @vp8_map is
 * an SSRC -> struct prio_vp8_state map. */
static __always_inline void prio_classify_bpf(void *vp8_map, const __u8 *b,
                                              __u32 n, __u32 len,
                                              const __u8 *codec_by_pt,
                                              __u8 fm_id, struct prio_info *out)
{
	struct prio_vp8_state *st = NULL, fresh = {};
	__u32 ssrc = 0;
	int is_fresh = 0;

	if (prio_wants_vp8_state(b, n, codec_by_pt, &ssrc)) {
		st = bpf_map_lookup_elem(vp8_map, &ssrc);
		if (!st) {
			st = &fresh;
			is_fresh = 1;
		}
	}
	prio_classify(b, n, len, codec_by_pt, fm_id, st, out);
	if (is_fresh && fresh.valid)
		bpf_map_update_elem(vp8_map, &ssrc, &fresh, BPF_ANY);
}

#endif /* __PRIORITY_BPF_H__ */
