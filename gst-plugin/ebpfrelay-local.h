/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-local: ebpfrelaysink fed by anything but packets that crossed
 * its TC hook ("any upstream": a payloader, appsrc, a udpsrc behind an
 * element that changes the stream). GStreamer (pads, for the walk
 * upstream) and GLib.
 *
 * Owns: the decision, at start, whether the buffers are packets the TC
 * program saw at ingress (relay_local_find_udpsrc: a udpsrc upstream,
 * through elements that pass buffers on unchanged); otherwise the stream
 * socket (bound to the port property, or to a port the kernel chooses
 * when none is set, as multiudpsink binds one) that userspace's copies
 * leave from, and in kernel mode the loopback path: a socket of its own,
 * connected to 127.0.0.1:<stream port>, sends each buffer once;
 * relay.bpf.c, attached at lo's ingress and told that socket's port
 * (relay_kernel_set_local_sport), makes every subscriber's copy exactly as
 * for a relayed packet (priority drop, sequence rewriting, KERNEL slots
 * cloned, USERSPACE slots named in an event) and consumes the original.
 * A buffer the kernel cannot take goes to every subscriber from userspace
 * (relay_sender_forward), and the first such buffer is reported.
 *
 * Lock: none of its own; the sink lock (GST_EBPF_RELAY_SINK_LOCK) is held
 * around every call, as for ebpfrelay-send.
 */
#ifndef __EBPF_RELAY_LOCAL_H__
#define __EBPF_RELAY_LOCAL_H__

#include <gst/gst.h>

#include "ebpfrelay-kernel.h"
#include "ebpfrelay-send.h"

G_BEGIN_DECLS

/* Buffers larger than this never go through lo: the kernel's event that
 * would carry one up to userspace (relay.bpf.c, EVENT_MAX_DATA) must hold
 * it with the event header and up to RELAY_MAX_SUBS entries. */
#define RELAY_LOCAL_MAX_LEN 60000

typedef struct _RelayLocal RelayLocal;

/* The udpsrc (or ebpfprioritysrc: a relay tree, ebpfrelay-tree.h) whose
 * datagrams reach @sinkpad, found upstream through
 * queue, queue2, multiqueue, tee, capsfilter, identity and bins' ghost
 * pads; NULL (transfer full otherwise) when anything else is upstream or
 * the pad is not linked. */
GstElement *relay_local_find_udpsrc (GstPad * sinkpad);

RelayLocal *relay_local_new (void);
void relay_local_free (RelayLocal * l);

/* Local buffers from now on: opens the stream socket on @port (every
 * address; 0: a port the kernel chooses). FALSE with @error when it cannot
 * be bound. */
gboolean relay_local_open (RelayLocal * l, guint16 port, GError ** error);
/* The same on @addr (network order; INADDR_ANY: every address), or with
 * @fd >= 0 (borrowed: the socket property) as the stream socket, bound to
 * @addr:@port unless it is bound already. */
gboolean relay_local_open_full (RelayLocal * l, guint32 addr, guint16 port,
    int fd, GError ** error);
/* Whether relay_local_open succeeded and relay_local_close came since. */
gboolean relay_local_is_open (RelayLocal * l);
/* The stream socket (copies from userspace leave from it) and its port. */
int relay_local_fd (RelayLocal * l);
/* Kernel mode: the loopback socket each buffer is sent once from (-1:
 * none); what it sets (TOS, TTL) the kernel's copies keep. */
int relay_local_lo_fd (RelayLocal * l);
guint16 relay_local_port (RelayLocal * l);
/* Kernel mode with @k (borrowed; its program attached to lo for the
 * stream's port): opens the loopback socket and tells @k its port. FALSE
 * with @error: the buffers go out from userspace. */
gboolean relay_local_use_kernel (RelayLocal * l, RelayKernel * k,
    GError ** error);
/* Closes the sockets; the counters stay until the next open. */
void relay_local_close (RelayLocal * l);

/* One buffer: sent once to the kernel, or to every subscriber by @s.
 * Returns a message (free it) the first time a buffer goes out from
 * userspace although the kernel is in use (the caller warns once). */
gchar *relay_local_render (RelayLocal * l, RelaySender * s,
    const guint8 * data, gsize len);

/* local-* fields of the stats: local (whether the buffers are local),
 * local-sent (buffers sent once to the kernel), local-userspace (buffers
 * userspace sent to every subscriber itself), local-errors (of those,
 * buffers the loopback socket refused), kernel-local (the kernel's count
 * of the buffers it took on lo), kernel-local-mtu (copies it left to
 * userspace: larger than their egress MTU). */
void relay_local_add_stats (RelayLocal * l, GstStructure * s,
    RelayKernel * k);

G_END_DECLS
#endif
