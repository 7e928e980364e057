/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libbpf glue of ebpfprioritysrc: load prioritysrc.bpf.c, attach it to
 * one UDP socket, set its configuration, read its counters. Kept apart from
 * GStreamer code; errors come back as GError (RELAY_KERNEL_ERROR,
 * ebpfrelay-bpf-error.h). */
#ifndef __EBPF_PRIORITY_SRC_KERNEL_H__
#define __EBPF_PRIORITY_SRC_KERNEL_H__

#include <glib.h>
#include "prioritysrc.h"

G_BEGIN_DECLS

typedef struct _PrioritySrcKernel PrioritySrcKernel;

/* Loads the filter (limit 0: keeps everything until configured). */
PrioritySrcKernel *priority_src_kernel_new (GError ** error);
/* SO_ATTACH_BPF on @fd: from now on the kernel filters what @fd queues. */
gboolean priority_src_kernel_attach (PrioritySrcKernel * k, int fd,
    GError ** error);
/* Takes effect from the next datagram; no reload. */
gboolean priority_src_kernel_configure (PrioritySrcKernel * k,
    const struct psrc_config *cfg);
void priority_src_kernel_counters (PrioritySrcKernel * k,
    guint64 out[PSRC_STAT_MAX]);
/* Frees the program and maps; a socket still holding the filter keeps it
 * until the socket closes. */
/* The filter's per-SSRC switch states (struct psrc_ssrc), into @out (at
 * most @max); returns how many. */
guint priority_src_kernel_switches (PrioritySrcKernel * k,
    struct psrc_ssrc *out, guint max);
/* The switch state of @ssrc (host order) into @out; FALSE if the filter
 * has none. */
gboolean priority_src_kernel_switch (PrioritySrcKernel * k, guint32 ssrc,
    struct psrc_ssrc *out);
void priority_src_kernel_free (PrioritySrcKernel * k);

G_END_DECLS
#endif
