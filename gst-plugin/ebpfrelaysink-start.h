/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelaysink-start: ebpfrelaysink's start and stop sequences (what
 * GstBaseSink's start takes NULL->READY and stop releases READY->NULL)
 * and the kernel-mode thread they run (GStreamer, GLib).
 *
 * relay_sink_start, in order: the upstream udpsrc (or ebpfprioritysrc: a
 * relay tree) through ebpfrelay-local and its port, multiudpsink's
 * sockets (ebpfrelay-udpopts), the stream's own socket when no udpsrc
 * feeds the element (ebpfrelay-local: lo), the checks of port,
 * control-port, token and interfaces, the watch thread and the metrics
 * endpoint, the router, the table's preparation, the sockets copies leave
 * from until the udpsrc's is known, the kernel's load and attach
 * (mode=auto falls back to userspace with a warning), the sender, the
 * table, the relay tree, the publisher lock, the kernel-mode thread, the
 * subscription channel, the feedback plane. A failure posts an element
 * error that names the setting and undoes what was done (relay_sink_stop).
 * relay_sink_stop undoes it all, threads first, without the lock.
 *
 * The kernel-mode thread sends what the kernel hands up (events), moves
 * subscribers to the kernel or checks them again, ticks the publisher
 * lock, expires fragments and warns once of a backlog smaller than the
 * subscribers and of fragmented datagrams never sent; it takes the sink
 * lock for each round.
 *
 * Lock: the sink lock (GST_EBPF_RELAY_SINK_LOCK); the functions below
 * say whether they take it or need it held.
 */
#ifndef __EBPF_RELAY_SINK_START_H__
#define __EBPF_RELAY_SINK_START_H__

#include "gstebpfrelaysink-private.h"

G_BEGIN_DECLS

/* GstBaseSink's start (takes the lock itself). FALSE: an element error
 * was posted and everything undone. */
gboolean relay_sink_start (GstEbpfRelaySink * self);
/* GstBaseSink's stop (takes the lock itself; joins the threads first). */
void relay_sink_stop (GstEbpfRelaySink * self);

/* With the lock: once the upstream udpsrc has opened its socket, copies
 * leave from it. TRUE while it has not yet. */
gboolean relay_sink_use_udpsrc_socket (GstEbpfRelaySink * self);
/* With the lock: what used-socket and used-socket-v6 return. */
void relay_sink_update_used_sockets (GstEbpfRelaySink * self);
/* With the lock: the subscription channel's settings, from the
 * properties (nothing without a channel). */
void relay_sink_apply_control_settings (GstEbpfRelaySink * self);

G_END_DECLS
#endif
