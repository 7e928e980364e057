/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-stats: the pieces of ebpfrelaysink's statistics structures
 * (#GstEbpfRelaySink:stats, the get-stats signal), read from the
 * subscriber table, the kernel helper and the subscription channel. Owns
 * nothing; every call holds the lock that protects what it reads
 * (ebpfrelaysink: GST_EBPF_RELAY_SINK_LOCK).
 */
#ifndef __EBPF_RELAY_STATS_H__
#define __EBPF_RELAY_STATS_H__

#include <gst/gst.h>

#include "ebpfrelay-clients.h"
#include "ebpfrelay-control-server.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-feedback.h"
#include "ebpfrelay-send.h"

G_BEGIN_DECLS

/* One subscriber: application/x-ebpfrelaysink-client-stats. */
/* With @fb (NULL: none), its rtcp-* fields (ebpfrelay-feedback.h). */
GstStructure *ebpf_relay_stats_client (RelayClients * t, RelayClient * c,
    RelayFeedback * fb);
/* The kernel's counters (zeros without @kernel), @fragments_unsent, and
 * with a @kernel what its classifier saw, per rule and priority. */
void ebpf_relay_stats_add_kernel (GstStructure * s, RelayKernel * kernel,
    guint64 fragments_unsent);
/* The subscription channel's counters, control-*. */
void ebpf_relay_stats_add_control (GstStructure * s,
    RelayControlServer * control);
/* "clients": one structure per subscriber, in the order added. */
void ebpf_relay_stats_add_clients (GstStructure * s, RelayClients * t,
    RelayFeedback * fb);
/* The whole #GstEbpfRelaySink:stats (application/x-ebpfrelaysink-stats):
 * mode, port, interfaces, buffers-in, then the pieces above. */
GstStructure *ebpf_relay_stats_all (RelayClients * t, RelayKernel * kernel,
    RelaySender * sender, RelayControlServer * control, RelayFeedback * fb,
    guint64 buffers_in);
/* Takes the table's lock (called without it): get-stats of @host:@port,
 * NULL when there is no such subscriber. */
GstStructure *ebpf_relay_stats_client_host (RelayClients * t,
    const gchar * host, gint port, RelayFeedback * fb);

G_END_DECLS
#endif
