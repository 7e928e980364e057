/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seqlog.h: which original packet a subscriber's sequence number names.
 * Compiled unchanged by relay.bpf.c (which writes the log) and by
 * userspace (ebpfrelaysink's userspace path writes it too; the NACK
 * answer reads it), like priority.h and switch.h, so the two paths keep
 * one record of what each subscriber was sent.
 *
 * A subscriber that drops packets for its priority limit gets the later
 * ones renumbered (prio_out_seq): its number of original packet o is
 * o - (packets of that SSRC it dropped before o). A NACK (RFC 4585 6.2.1)
 * names numbers of the subscriber's; to answer from the cache of
 * originals, the relay needs the inverse, exactly, also across limit
 * changes (a limit changes only which packets are dropped). It is
 * recorded where the drops happen, per subscriber and SSRC, as the last
 * SEQLOG_RUNS runs of consecutive dropped originals (a run: a B frame, a
 * layer's packets of one frame, ...), plus the first original the
 * subscriber decided on while running (the start: nothing before it was
 * sent). A packet sent costs one test (the start is set), a dropped one a
 * store in the newest run or a new run.
 *
 * seqlog_map inverts: with D the subscriber's dropped count and a_k the
 * drops newer than the gap between runs k-1 and k, an original o in that
 * gap was sent numbered o - (D - a_k), so the candidate o = s + D - a_k is
 * the answer when it lies in that gap. Gaps are walked newest first,
 * comparing distances back from the newest original (16-bit serial
 * arithmetic, RFC 1982): valid while everything asked lies within 32768
 * packets of the newest. A number older than the oldest run logged (when
 * more than SEQLOG_RUNS runs were) is not found: the packet is no longer
 * known, as if not in the cache.
 */
#ifndef __EBPF_RELAY_SEQLOG_H__
#define __EBPF_RELAY_SEQLOG_H__

#include <linux/types.h>

#define SEQLOG_RUNS 64 /* a power of two */

struct seqlog {
	__u32 runs; /* runs ever logged; the newest is (runs - 1) % SEQLOG_RUNS */
	__u16 first; /* the start: first original decided while running */
	__u8 started;
	__u8 pad;
	__u16 start[SEQLOG_RUNS]; /* first original of the run */
	__u16 len[SEQLOG_RUNS];   /* originals in the run, >= 1 */
};

/* A running subscriber's decision on original @seq: sent (@dropped 0) or
 * dropped for its limit (1). Packets held while waiting for a key frame
 * are not decisions (switch.h: they are not counted as dropped). */
static __always_inline void seqlog_note(struct seqlog *l, __u16 seq,
                                        int dropped)
{
	__u32 k;

	if (!l->started) {
		l->first = seq;
		l->started = 1;
	}
	if (!dropped)
		return;
	if (l->runs) {
		k = (l->runs - 1) & (SEQLOG_RUNS - 1);
		if ((__u16)(l->start[k] + l->len[k]) == seq &&
		    l->len[k] < 0xffff) {
			l->len[k]++;
			return;
		}
	}
	k = l->runs & (SEQLOG_RUNS - 1);
	l->start[k] = seq;
	l->len[k] = 1;
	l->runs++;
}

#ifndef __bpf__
/* Distance of @x back from @newest (0: the newest). */
static inline __u16 seqlog_back(__u16 newest, __u16 x)
{
	return (__u16)(newest - x);
}

/* seqlog_map's test of one gap [@top, @bottom] (distances back). */
static inline int seqlog_try(__u16 newest, __u16 cand, __u16 top, __u16 bottom,
                             __u16 *orig)
{
	__u16 b = seqlog_back(newest, cand);

	if (b < top || b > bottom)
		return 0;
	*orig = cand;
	return 1;
}

/* The original that the subscriber with log @l and dropped count
 * @dropped (its total, any width, taken modulo 2^16) numbered @s, when
 * the newest original the caller knows is @newest; with @rewrite 0 the
 * subscriber's numbers are the originals' (sequence numbers not
 * rewritten: @s is the original when it was sent). Returns 1 and *@orig;
 * 0: no packet the subscriber was sent (dropped for its limit, before its
 * start, never decided on); -1: older than the oldest run logged. */
static inline int seqlog_map(const struct seqlog *l, __u32 dropped,
                             __u16 newest, __u16 s, int rewrite, __u16 *orig)
{
	__u32 n = l->runs, lo = n > SEQLOG_RUNS ? n - SEQLOG_RUNS : 0, i;
	__u16 after = 0, top = 0, first_back;

	if (!l->started)
		return 0;
	/* the newest run may be newer than what the caller has seen */
	if (n) {
		__u32 k = (n - 1) & (SEQLOG_RUNS - 1);
		__u16 end = (__u16)(l->start[k] + l->len[k] - 1);

		if ((__s16)(end - newest) > 0)
			newest = end;
	}
	if ((__s16)(l->first - newest) > 0)
		return 0;
	first_back = seqlog_back(newest, l->first);
	for (i = n; i > lo; i--) {
		__u32 k = (i - 1) & (SEQLOG_RUNS - 1);
		__u16 end_back = seqlog_back(
		        newest, (__u16)(l->start[k] + l->len[k] - 1));
		__u16 start_back = seqlog_back(newest, l->start[k]);

		/* the gap newer than run k: [top, end_back - 1] */
		if (end_back > top &&
		    seqlog_try(newest,
		               rewrite ? (__u16)(s + (__u16)dropped - after)
		                       : s,
		               top,
		               end_back - 1 < first_back ? end_back - 1
		                                         : first_back,
		               orig))
			return 1;
		after += l->len[k];
		if (start_back >= first_back)
			return 0; /* nothing sent before the start */
		top = start_back + 1;
	}
	if (n > SEQLOG_RUNS)
		return -1; /* older than the oldest run logged */
	return seqlog_try(newest,
	                  rewrite ? (__u16)(s + (__u16)dropped - after) : s,
	                  top, first_back, orig);
}
#endif

#endif /* __EBPF_RELAY_SEQLOG_H__ */
