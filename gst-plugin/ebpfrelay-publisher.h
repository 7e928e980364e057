/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-publisher: ebpfrelaysink's publisher lock and local-address
 * check as mechanism (the rule itself: ebpfrelay-sources.h): the three
 * properties sources, source-latch and source-timeout (installed on the
 * element's class), their validation at start, the kernel's maps
 * (local_addrs, sources, the latch: relay.h), the check of each buffer
 * in userspace, and the stats.
 *
 * Kernel mode: the kernel checks every datagram it sees (relay.bpf.c)
 * and drops the rejected ones, so a buffer that came through the TC hook
 * is not checked again; its latch is the one, mirrored here
 * (relay_publisher_tick) for the feedback plane. A buffer that did not
 * come through the hook (no sender address: appsrc, a file; or a sender
 * that is this host: it came over loopback, which the hook is not on) is
 * checked here and, accepted, sent from userspace to every subscriber.
 * Userspace mode: every buffer is checked here.
 *
 * The relay's own addresses: the udpsrc's bound address when it is not
 * 0.0.0.0, else every IPv4 address of the namespace (getifaddrs), read at
 * start and again every second (an address added later counts within a
 * second).
 *
 * Lock: its owner's one lock, held for every call.
 */
#ifndef __EBPF_RELAY_PUBLISHER_H__
#define __EBPF_RELAY_PUBLISHER_H__

#include <gst/gst.h>

#include "ebpfrelay-feedback.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-sources.h"

G_BEGIN_DECLS

enum
{
  RELAY_PUBLISHER_PROP_SOURCES,
  RELAY_PUBLISHER_PROP_LATCH,
  RELAY_PUBLISHER_PROP_TIMEOUT,
  RELAY_PUBLISHER_N_PROPS
};

typedef enum
{
  RELAY_PUBLISHER_FORWARD = 0,  /* forward as before */
  RELAY_PUBLISHER_REJECT,       /* not from a sender that may publish */
  RELAY_PUBLISHER_UNHOOKED,     /* kernel mode: did not come through the
                                 * hook; send it from userspace to all */
} RelayPublisherVerdict;

typedef struct _RelayPublisher RelayPublisher;

RelayPublisher *relay_publisher_new (RelayFeedback * feedback);
void relay_publisher_free (RelayPublisher * p);

void relay_publisher_install_properties (GObjectClass * klass, guint first_id);
void relay_publisher_set_property (RelayPublisher * p, guint id,
    const GValue * value);
void relay_publisher_get_property (RelayPublisher * p, guint id,
    GValue * value);

/* Validates the properties (an error naming sources), reads the local
 * addresses (@bound: the udpsrc's address, NULL or 0.0.0.0: any) and
 * configures @kernel (NULL: userspace mode). */
gboolean relay_publisher_start (RelayPublisher * p, RelayKernel * kernel,
    const gchar * bound, GError ** error);
void relay_publisher_stop (RelayPublisher * p);

/* What to do with @buffer (@rtcp: it is RTCP, which the feedback plane
 * judges itself; it is never UNHOOKED). *@first_unhooked: TRUE the first
 * time a buffer is UNHOOKED (the owner warns once). */
RelayPublisherVerdict relay_publisher_check (RelayPublisher * p,
    GstBuffer * buffer, gboolean rtcp, gboolean * first_unhooked);

/* Kernel mode: the family of the stream's datagrams the kernel saw
 * (AF_INET, AF_INET6): of the last one that came up through the hook,
 * before the first what the udpsrc's socket receives (an IPv4-bound one
 * no IPv6, an IPv6-bound one no IPv4), else AF_UNSPEC. With consume (the
 * kernel keeps the datagrams it forwards), the first one's. */
gint relay_publisher_family (RelayPublisher * p);

/* Kernel mode, periodically: the local addresses again (once a second),
 * the kernel's latch mirrored. */
void relay_publisher_tick (RelayPublisher * p, gint64 now_us);

void relay_publisher_add_stats (RelayPublisher * p, GstStructure * s);

G_END_DECLS
#endif
