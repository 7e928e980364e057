/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The instance structure of ebpfrelaysink, for the element
 * (gstebpfrelaysink.c) and its start and stop sequences
 * (ebpfrelaysink-start.c) only; nothing else includes it. Also what each
 * of the two calls in the other (the element's functions here, the
 * sequences' in ebpfrelaysink-start.h).
 */
#ifndef __GST_EBPF_RELAY_SINK_PRIVATE_H__
#define __GST_EBPF_RELAY_SINK_PRIVATE_H__

#include <gst/gst.h>
#include <gio/gio.h>

#include "gstebpfrelaysink.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-route.h"
#include "ebpfrelay-clients.h"
#include "ebpfrelay-send.h"
#include "ebpfrelay-control-server.h"
#include "ebpfrelay-feedback.h"
#include "ebpfrelay-local.h"
#include "ebpfrelay-tree.h"
#include "ebpfrelay-publisher.h"
#include "ebpfrelay-watch.h"
#include "ebpfrelay-metrics.h"
#include "ebpfrelay-udpopts.h"
#include "priority.h"

G_BEGIN_DECLS

/*
 * Locking: one lock, GST_EBPF_RELAY_SINK_LOCK (@lock), protects every
 * field below it (the properties, the subscriber table, the sender, the
 * kernel and router handles, the counters); never GST_OBJECT_LOCK. Its
 * order, and why it is held across a send: docs/architecture.md, "Locks".
 */
struct _GstEbpfRelaySink
{
  GstBaseSink parent;

  GMutex lock;

  /* properties */
  gint port;
  gchar *interfaces;
  GstEbpfRelayMode mode;
  gboolean rewrite_seq;
  gboolean pass_original;
  guint control_port;
  guint subscriber_timeout;     /* seconds */
  guint max_clients;
  gchar *token;
  guint framemarking_id;        /* 0: from the caps */
  guint stats_interval;         /* ms, 0: none */
  guint metrics_port;           /* 0: no endpoint */
  gchar *metrics_address;

  RelayWatch *watch;            /* while started: bus messages, metrics */
  RelayMetrics *metrics;        /* the Prometheus endpoint, if metrics-port */

  RelayControlServer *control;  /* the subscription channel, if control-port */
  guint8 caps_fm_id;            /* from the caps' extmap-N */
  guint8 codec_by_pt[PRIO_N_PT];        /* enum prio_codec, from the caps */
  RelayClients *table;          /* the subscribers and their slots */
  RelaySender *sender;          /* what userspace sends */
  RelayFeedback *feedback;      /* RTCP */
  RelayLocal *local;            /* open: the buffers did not cross the hook */
  RelayUdpOpts *udpopts;        /* multiudpsink's properties */
  RelayPublisher *publisher;    /* who may publish; for this host */
  RelayKernel *kernel;          /* NULL: userspace forwarding */
  RelayRouter *router;
  GWeakRef udpsrc;              /* upstream udpsrc, if that is what feeds us
                                 * (or an ebpfprioritysrc: a relay tree) */
  RelayTree *tree;              /* the upstream ebpfprioritysrc's limit */
  gboolean follow_limits;
  GSocket *used_socket;         /* its socket, to send from the stream's port */
  int own_fd;
  guint64 buffers_in;
  /* kernel mode: the thread that sends what the kernel hands up (events)
   * and moves subscribers to the kernel; wake_fd (an eventfd) stops it */
  GThread *kernel_thread;
  int wake_fd;
};

#define GST_EBPF_RELAY_SINK_LOCK(s) g_mutex_lock (&(s)->lock)
#define GST_EBPF_RELAY_SINK_UNLOCK(s) g_mutex_unlock (&(s)->lock)

/* The element's, for the start sequence (with the lock): the codec of
 * each payload type and the frame marking id from @caps, handed to the
 * sender, the kernel and the feedback plane. */
void gst_ebpf_relay_sink_priority_from_caps (GstEbpfRelaySink * self,
    const GstCaps * caps);
/* The element's, for the watch thread: the stats structure. */
GstStructure *gst_ebpf_relay_sink_all_stats (GstEbpfRelaySink * self);

G_END_DECLS
#endif
