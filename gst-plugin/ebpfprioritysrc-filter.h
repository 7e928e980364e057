/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfprioritysrc-filter: ebpfprioritysrc's userspace filter (GLib only,
 * no GStreamer): what bpf/prioritysrc.bpf.c does in the kernel, done to a
 * datagram after it is read (mode=userspace, no BPF, skip-first-bytes).
 * The same classifier (bpf/priority.h) and the same limit switching per
 * SSRC (bpf/switch.h: a raised limit at the next frame start, a lowered
 * one at the next key frame start) as the kernel's filter, with the same
 * configuration (struct psrc_config, bpf/prioritysrc.h).
 *
 * Owns: the VP8 state per SSRC (struct prio_vp8_state; more than
 * PSRC_FILTER_VP8_SSRCS SSRCs and it starts over) and the switch state
 * per SSRC (struct psrc_ssrc, the limit in force; more than
 * PSRC_SWITCH_SSRCS and it starts over, as the kernel's LRU map forgets).
 * Also the rule that reads the limit in force out of switch states (this
 * filter's or the kernel's: psrc_filter_limit_in_force).
 *
 * Lock: none of its own; the element's lock is held around every call.
 */
#ifndef __EBPF_PRIORITY_SRC_FILTER_H__
#define __EBPF_PRIORITY_SRC_FILTER_H__

#include <glib.h>

#include "prioritysrc.h"

G_BEGIN_DECLS

/* The VP8 state's SSRCs (a stream has a handful). */
#define PSRC_FILTER_VP8_SSRCS 256

typedef struct
{
  GHashTable *vp8;              /* ssrc -> struct prio_vp8_state */
  GHashTable *switches;         /* ssrc -> struct psrc_ssrc */
} PsrcFilter;

void psrc_filter_init (PsrcFilter * f);
void psrc_filter_clear (PsrcFilter * f);

/* The configuration changed (caps, frame marking id, limit): the VP8
 * state starts over (the switch states keep the limit in force). */
void psrc_filter_configured (PsrcFilter * f);
/* A new socket (NULL -> READY): the switch states start over. */
void psrc_filter_reset (PsrcFilter * f);

/* The datagram @data (@len bytes, the RTP packet) classified with @cfg
 * into *@out; TRUE if it is kept: not RTP (RTCP, anything else), or RTP
 * that its SSRC's limit in force lets through. */
gboolean psrc_filter_keep (PsrcFilter * f, const struct psrc_config *cfg,
    const guint8 * data, gsize len, struct prio_info *out);

/* The limit in force for @ssrc, -1 if the filter has no state for it. */
gint psrc_filter_ssrc_limit (PsrcFilter * f, guint32 ssrc);
/* The switch states into @out (at most @max); returns how many. */
guint psrc_filter_switches (PsrcFilter * f, struct psrc_ssrc *out,
    guint max);

/* Of @n switch states (this filter's or the kernel's) under the requested
 * @limit: the limit in force of an SSRC with a change pending if there is
 * one (then *@pending is @limit, else -1), else @limit; -1 with none. */
gint psrc_filter_limit_in_force (const struct psrc_ssrc *sw, guint n,
    guint8 limit, gint * pending);

G_END_DECLS
#endif
