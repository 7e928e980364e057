/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-publisher: see ebpfrelay-publisher.h.
 */
#include "ebpfrelay-publisher.h"
#include "ebpfrelay-addr.h"

#include <arpa/inet.h>
#include <string.h>
#include <gio/gio.h>
#include <gst/net/gstnetaddressmeta.h>

struct _RelayPublisher
{
  RelayFeedback *feedback;      /* borrowed */
  RelaySources *sources;

  /* properties */
  gchar *sources_str;
  gboolean latch;
  guint timeout_ms;

  /* running */
  RelayKernel *kernel;          /* borrowed; NULL: userspace mode */
  gboolean bound;               /* local: the udpsrc's address only */
  GArray *local;                /* guint32, host order: what the kernel
                                 * forwards to */
  GArray *own;                  /* every address of the namespace: a
                                 * sender there is this host */
  gboolean bound6;              /* local6: the udpsrc's IPv6 address only */
  gboolean no4, no6;            /* the socket gets no IPv4 (a specific
                                 * IPv6 address) / no IPv6 (an IPv4 one,
                                 * 0.0.0.0 too): none forwarded */
  GArray *local6, *own6;        /* the same in IPv6 (struct in6_addr) */
  gint64 next_refresh;
  gint family;                  /* the stream's (relay_publisher_family) */
  gboolean has_publisher;       /* the latched host the feedback plane has */
  RelayAddr publisher;
  guint64 no_sender, unhooked;
};

RelayPublisher *
relay_publisher_new (RelayFeedback * feedback)
{
  RelayPublisher *p = g_new0 (RelayPublisher, 1);

  p->feedback = feedback;
  p->sources = relay_sources_new ();
  p->timeout_ms = RELAY_SOURCES_DEFAULT_TIMEOUT_MS;
  p->local = g_array_new (FALSE, FALSE, sizeof (guint32));
  p->own = g_array_new (FALSE, FALSE, sizeof (guint32));
  p->local6 = g_array_new (FALSE, FALSE, sizeof (struct in6_addr));
  p->own6 = g_array_new (FALSE, FALSE, sizeof (struct in6_addr));
  relay_feedback_set_sources (feedback, p->sources);
  return p;
}

void
relay_publisher_free (RelayPublisher * p)
{
  if (!p)
    return;
  relay_sources_free (p->sources);
  g_array_unref (p->local);
  g_array_unref (p->own);
  g_array_unref (p->local6);
  g_array_unref (p->own6);
  g_free (p->sources_str);
  g_free (p);
}

/* --- properties ------------------------------------------------------------ */

void
relay_publisher_install_properties (GObjectClass * klass, guint first_id)
{
  g_object_class_install_property (klass,
      first_id + RELAY_PUBLISHER_PROP_SOURCES,
      g_param_spec_string ("sources", "Sources",
          "Senders that may publish, comma-separated host or host:port "
          "(a host: any of its ports; IPv6 in brackets, [2001:db8::1] or "
          "[2001:db8::1]:5004); datagrams of others reach no "
          "subscriber (the kernel drops them) and count in rejected-source; "
          "their SRs are not sent on, the relay's RTCP goes to an allowed "
          "sender only. NULL/empty = any sender. A bad entry fails the "
          "start", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass,
      first_id + RELAY_PUBLISHER_PROP_LATCH,
      g_param_spec_boolean ("source-latch", "Source latch",
          "Lock onto the first sender (address and port; among sources, "
          "when set): the others are rejected until it has been silent for "
          "source-timeout", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass,
      first_id + RELAY_PUBLISHER_PROP_TIMEOUT,
      g_param_spec_uint ("source-timeout", "Source timeout",
          "source-latch: ms of silence of the locked sender after which "
          "the next sender that sends takes the lock over (0 = never)", 0,
          3600000, RELAY_SOURCES_DEFAULT_TIMEOUT_MS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

void
relay_publisher_set_property (RelayPublisher * p, guint id,
    const GValue * value)
{
  switch (id) {
    case RELAY_PUBLISHER_PROP_SOURCES:
      g_free (p->sources_str);
      p->sources_str = g_value_dup_string (value);
      break;
    case RELAY_PUBLISHER_PROP_LATCH:
      p->latch = g_value_get_boolean (value);
      break;
    case RELAY_PUBLISHER_PROP_TIMEOUT:
      p->timeout_ms = g_value_get_uint (value);
      break;
    default:
      break;
  }
}

void
relay_publisher_get_property (RelayPublisher * p, guint id, GValue * value)
{
  switch (id) {
    case RELAY_PUBLISHER_PROP_SOURCES:
      g_value_set_string (value, p->sources_str);
      break;
    case RELAY_PUBLISHER_PROP_LATCH:
      g_value_set_boolean (value, p->latch);
      break;
    case RELAY_PUBLISHER_PROP_TIMEOUT:
      g_value_set_uint (value, p->timeout_ms);
      break;
    default:
      break;
  }
}

/* --- running --------------------------------------------------------------- */

static void
read_local (RelayPublisher * p)
{
  GArray *now = g_array_new (FALSE, FALSE, sizeof (guint32));

  if (!relay_local_addrs_read (now)) {
    g_array_unref (now);
    return;
  }
  g_array_set_size (p->own, 0);
  g_array_append_vals (p->own, now->data, now->len);
  if (p->no4)
    g_array_set_size (now, 0);
  if (!p->bound && (now->len != p->local->len ||
          memcmp (now->data, p->local->data, now->len * sizeof (guint32)))) {
    g_array_set_size (p->local, 0);
    g_array_append_vals (p->local, now->data, now->len);
    if (p->kernel)
      relay_kernel_set_local_addrs (p->kernel, (guint32 *) p->local->data,
          p->local->len);
  }
  g_array_unref (now);

  now = g_array_new (FALSE, FALSE, sizeof (struct in6_addr));
  if (!relay_local_addrs6_read (now)) {
    g_array_unref (now);
    return;
  }
  g_array_set_size (p->own6, 0);
  g_array_append_vals (p->own6, now->data, now->len);
  if (p->no6)
    g_array_set_size (now, 0);
  if (!p->bound6 && (now->len != p->local6->len || memcmp (now->data,
              p->local6->data, now->len * sizeof (struct in6_addr)))) {
    g_array_set_size (p->local6, 0);
    g_array_append_vals (p->local6, now->data, now->len);
    if (p->kernel)
      relay_kernel_set_local_addrs6 (p->kernel, p->local6->data,
          p->local6->len);
  }
  g_array_unref (now);
}

gboolean
relay_publisher_start (RelayPublisher * p, RelayKernel * kernel,
    const gchar * bound, GError ** error)
{
  GArray *list = g_array_new (FALSE, FALSE, sizeof (RelaySource));
  struct in6_addr a6;
  struct in_addr a;

  if (!relay_sources_parse (p->sources_str, list, error)) {
    g_array_unref (list);
    return FALSE;
  }
  relay_sources_configure (p->sources, (RelaySource *) list->data, list->len,
      p->latch, p->timeout_ms);
  p->kernel = kernel;
  p->has_publisher = FALSE;
  p->family = AF_UNSPEC;
  p->no_sender = p->unhooked = 0;
  p->next_refresh = 0;
  g_array_set_size (p->local, 0);
  g_array_set_size (p->local6, 0);
  /* What the udpsrc's socket receives, so what the kernel may forward:
   * an IPv4 address, that one (0.0.0.0: every one), no IPv6; an IPv6
   * one, that one, no IPv4; :: (dual stack) or no udpsrc, every one */
  p->bound = p->bound6 = p->no4 = p->no6 = FALSE;
  if (bound && inet_pton (AF_INET, bound, &a) == 1) {
    p->no6 = TRUE;
    p->bound = a.s_addr != 0;
  } else if (bound && inet_pton (AF_INET6, bound, &a6) == 1
      && !IN6_IS_ADDR_UNSPECIFIED (&a6)) {
    p->no4 = p->bound6 = TRUE;
  }
  if (p->bound) {
    guint32 h = ntohl (a.s_addr);

    g_array_append_val (p->local, h);
    if (kernel)
      relay_kernel_set_local_addrs (kernel, &h, 1);
  }
  if (p->bound6) {
    g_array_append_val (p->local6, a6);
    if (kernel)
      relay_kernel_set_local_addrs6 (kernel, &a6, 1);
  }
  if (kernel && p->no4)
    relay_kernel_set_local_addrs (kernel, NULL, 0);
  if (kernel && p->no6)
    relay_kernel_set_local_addrs6 (kernel, NULL, 0);
  read_local (p);
  /* (RelaySource is a RelayAddr) */
  if (kernel)
    relay_kernel_set_sources (kernel, (const RelayAddr *) list->data,
        list->len, p->latch, p->timeout_ms);
  g_array_unref (list);
  return TRUE;
}

void
relay_publisher_stop (RelayPublisher * p)
{
  p->kernel = NULL;
}

/* The feedback plane follows the latched sender. */
static void
sync_publisher (RelayPublisher * p)
{
  RelayAddr addr;

  if (!relay_sources_latched (p->sources, &addr)) {
    p->has_publisher = FALSE;
    p->family = AF_UNSPEC;
    return;
  }
  if (!p->has_publisher || !relay_addr_same_host (&addr, &p->publisher))
    relay_feedback_set_publisher (p->feedback, &addr);
  p->has_publisher = TRUE;
  p->publisher = addr;
}

RelayPublisherVerdict
relay_publisher_check (RelayPublisher * p, GstBuffer * buffer, gboolean rtcp,
    gboolean * first_unhooked)
{
  GstNetAddressMeta *meta = gst_buffer_get_net_address_meta (buffer);
  struct sockaddr_storage ss;
  RelayAddr from;
  /* (a v4-mapped sender, on a dual-stack socket, is IPv4) */
  gboolean native = meta && g_socket_address_to_native (meta->addr, &ss,
      sizeof (ss), NULL) && relay_addr_from_native (&from, &ss, sizeof (ss));
  gboolean v4 = native && !relay_addr_is_v6 (&from);
  gboolean v6 = native && relay_addr_is_v6 (&from), hooked;
  guint32 addr = v4 ? ntohl (from.v4.sin_addr.s_addr) : 0;

  /* The kernel judged (and forwarded) what came through an attached
   * interface: a sender that is not this host; IPv6 too (relay.bpf.c) */
  hooked = p->kernel && ((v4 && !relay_local_addrs_has (p->own, addr))
      || (v6 && !relay_local_addrs6_has (p->own6, &from.v6.sin6_addr)));

  *first_unhooked = FALSE;
  /* what the kernel saw of the stream: the family of its datagrams */
  if (hooked && !rtcp)
    p->family = v6 ? AF_INET6 : AF_INET;
  /* (the kernel judged it, RTCP is the feedback plane's) */
  if (rtcp || hooked)
    return RELAY_PUBLISHER_FORWARD;
  if (relay_sources_active (p->sources)) {
    if (!native) {
      p->no_sender++;
      return RELAY_PUBLISHER_REJECT;
    }
    if (relay_sources_check (p->sources, &from,
            g_get_monotonic_time ()) != RELAY_SOURCE_ACCEPTED)
      return RELAY_PUBLISHER_REJECT;
    sync_publisher (p);
  }
  if (!p->kernel)
    return RELAY_PUBLISHER_FORWARD;
  *first_unhooked = p->unhooked++ == 0;
  return RELAY_PUBLISHER_UNHOOKED;
}

gint
relay_publisher_family (RelayPublisher * p)
{
  if (p->family != AF_UNSPEC)
    return p->family;
  /* none seen yet: what the udpsrc's socket can receive */
  if (p->no6)
    return AF_INET;
  if (p->no4)
    return AF_INET6;
  return AF_UNSPEC;
}

void
relay_publisher_tick (RelayPublisher * p, gint64 now_us)
{
  RelayAddr addr, cur;

  if (!p->kernel)
    return;
  if (now_us >= p->next_refresh) {
    p->next_refresh = now_us + G_TIME_SPAN_SECOND;
    read_local (p);
  }
  if (p->latch && relay_kernel_latched (p->kernel, &addr)
      && (!relay_sources_latched (p->sources, &cur)
          || !relay_addr_same_host (&cur, &addr)
          || relay_addr_port (&cur) != relay_addr_port (&addr))) {
    relay_sources_set_latched (p->sources, &addr, now_us);
    sync_publisher (p);
  }
}

void
relay_publisher_add_stats (RelayPublisher * p, GstStructure * s)
{
  guint64 rejected = relay_sources_rejected (p->sources) + p->no_sender;
  gchar locked[RELAY_ADDR_STRLEN] = "";
  RelayAddr addr;

  /* "a.b.c.d:port" or "[v6]:port" */
  if (relay_sources_latched (p->sources, &addr))
    relay_addr_to_string (&addr, locked, sizeof (locked));
  gst_structure_set (s, "rejected-source", G_TYPE_UINT64, rejected,
      "rejected-no-sender", G_TYPE_UINT64, p->no_sender,
      "source-locked", G_TYPE_STRING, locked,
      "unhooked-sent", G_TYPE_UINT64, p->unhooked, NULL);
}
