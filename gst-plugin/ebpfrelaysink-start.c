/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelaysink's start and stop sequences: ebpfrelaysink-start.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <gio/gio.h>

#include "gstebpfrelaysink-private.h"
#include "ebpfrelaysink-start.h"
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

/* the element's: what it logs, this logs */
GST_DEBUG_CATEGORY_EXTERN (gst_ebpf_relay_sink_debug);
#define GST_CAT_DEFAULT gst_ebpf_relay_sink_debug

/* The kernel-mode thread wakes for each event and at least every
 * KERNEL_TICK_MS (subscribers to move to the kernel or check again). */
#define KERNEL_TICK_MS 50

/* With the lock held: what used-socket and used-socket-v6 return. */
void
relay_sink_update_used_sockets (GstEbpfRelaySink * self)
{
  relay_udp_opts_set_used (self->udpopts,
      relay_sender_family_fd (self->sender, AF_INET), self->used_socket,
      relay_sender_family_fd (self->sender, AF_INET6), self->used_socket);
}

/* Basesink starts us (NULL -> READY) before the udpsrc upstream opens its
 * socket; once it has, send from that socket, so userspace copies leave
 * from the stream's port as the kernel's do. With the lock held. Returns
 * TRUE while an upstream udpsrc has not opened its socket yet (copies
 * must not leave from another port meanwhile). */
gboolean
relay_sink_use_udpsrc_socket (GstEbpfRelaySink * self)
{
  GstElement *udpsrc;

  if (self->used_socket)
    return FALSE;
  udpsrc = g_weak_ref_get (&self->udpsrc);
  if (!udpsrc)
    return FALSE;
  g_object_get (udpsrc, "used-socket", &self->used_socket, NULL);
  if (self->used_socket) {
    relay_sender_set_fd (self->sender, g_socket_get_fd (self->used_socket));
    g_weak_ref_set (&self->udpsrc, NULL);
    relay_sink_update_used_sockets (self);
  }
  gst_object_unref (udpsrc);
  return self->used_socket == NULL;
}

/* Kernel mode: sends what the kernel hands up (events: subscribers it
 * cannot serve yet) as soon as it comes, and moves subscribers to the
 * kernel or checks them again, also when no packet comes up at all. */
static gpointer
kernel_thread_func (gpointer data)
{
  GstEbpfRelaySink *self = data;
  struct pollfd p[2];
  gboolean waiting = TRUE;
  guint64 unsent = 0, n;
  gint64 next_look = 0, now;
  gboolean backlog_known, backlog_warned = FALSE;
  guint backlog = relay_route_netdev_max_backlog (&backlog_known), subs = 0;
  guint port;

  GST_EBPF_RELAY_SINK_LOCK (self);
  p[0].fd = relay_kernel_event_fd (self->kernel);
  p[1].fd = self->wake_fd;
  port = self->table->port;
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  p[0].events = p[1].events = POLLIN;
  p[0].revents = p[1].revents = 0;
  for (;;) {
    /* Until the udpsrc's socket is known the events wait (they are only
     * looked at again every few ms), as the kernel's copies leave from
     * the stream's port and userspace's must too. */
    if (waiting) {
      if (poll (p + 1, 1, 5) < 0 && errno != EINTR)
        break;
    } else if (poll (p, 2, KERNEL_TICK_MS) < 0 && errno != EINTR) {
      break;
    }
    if (p[1].revents)
      break;
    /* (the events are sent with the lock held: see the struct) */
    GST_EBPF_RELAY_SINK_LOCK (self);
    waiting = waiting && relay_sink_use_udpsrc_socket (self);
    if (!waiting)
      relay_kernel_poll (self->kernel);
    now = g_get_monotonic_time ();
    relay_clients_check (self->table, now);
    relay_publisher_tick (self->publisher, now);
    /* Fragmented datagrams that never came up whole; once a second, the
     * number of subscribers. */
    relay_sender_expire_fragments (self->sender, now);
    n = relay_sender_fragments_unsent (self->sender);
    if (now >= next_look) {
      next_look = now + G_TIME_SPAN_SECOND;
      subs = self->table->n_slots;
    }
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    if (subs >= backlog && !backlog_warned) {
      /* One datagram's copies are queued at once: on veth (and other
       * devices that receive through netif_rx) on this CPU's input
       * backlog, which drops what does not fit. */
      GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
          ("%u subscribers, but the kernel queues at most %u packets per "
              "CPU (net.core.netdev_max_backlog%s): copies beyond that are "
              "dropped", subs, backlog, backlog_known ? "" :
              ", the kernel's default: not readable in this network "
              "namespace"),
          ("raise net.core.netdev_max_backlog above the number of "
              "subscribers (and the egress queue length, txqueuelen, on a "
              "real interface)"));
      backlog_warned = TRUE;
    }
    if (n > unsent) {
      if (unsent == 0)
        GST_ELEMENT_WARNING (self, STREAM, FAILED,
            ("A fragmented datagram on port %u for subscribers served from "
                "userspace never came up whole (%" G_GUINT64_FORMAT " so "
                "far): they did not get it", port, n),
            ("a fragment was lost or came too late; fragments-unsent in "
                "stats counts them"));
      else
        GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " fragmented "
            "datagrams not sent so far", n);
      unsent = n;
    }
  }
  return NULL;
}

/* The udpsrc feeding us, if that is what is upstream (through queues,
 * tees: ebpfrelay-local). */
static GstElement *
find_upstream_udpsrc (GstEbpfRelaySink * self)
{
  return relay_local_find_udpsrc (GST_BASE_SINK_PAD (self));
}

/* With the lock held: the channel's settings, from the properties. */
void
relay_sink_apply_control_settings (GstEbpfRelaySink * self)
{
  if (!self->control)
    return;
  relay_control_server_set_token (self->control, self->token);
  relay_control_server_set_max_clients (self->control, self->max_clients);
  relay_control_server_set_timeout (self->control,
      self->subscriber_timeout * 1000);
}

static GstStructure *
watch_stats (gpointer user_data)
{
  return gst_ebpf_relay_sink_all_stats (user_data);
}

/* The watch thread (stats-interval, events) and, with a metrics-port, the
 * Prometheus endpoint in it. */
static gboolean
start_watch (GstEbpfRelaySink * self)
{
  RelayWatch *watch;
  RelayMetrics *metrics = NULL;
  guint interval, mport;
  gchar *maddr;
  GError *err = NULL;

  GST_EBPF_RELAY_SINK_LOCK (self);
  interval = self->stats_interval;
  mport = self->metrics_port;
  maddr = g_strdup (self->metrics_address);
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  watch = relay_watch_new (GST_ELEMENT (self), "ebpfrelay-watch", interval,
      watch_stats, self);
  if (mport) {
    metrics = relay_metrics_new (watch, maddr, mport, watch_stats, self, &err);
    if (!metrics) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
          ("metrics-address=%s, metrics-port=%u", maddr, mport));
      g_clear_error (&err);
      relay_watch_free (watch);
      g_free (maddr);
      return FALSE;
    }
    GST_INFO_OBJECT (self, "metrics at http://%s:%u/metrics", maddr, mport);
  }
  g_free (maddr);
  GST_EBPF_RELAY_SINK_LOCK (self);
  self->watch = watch;
  self->metrics = metrics;
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return TRUE;
}

static void
stop_watch (GstEbpfRelaySink * self)
{
  RelayWatch *watch;
  RelayMetrics *metrics;

  GST_EBPF_RELAY_SINK_LOCK (self);
  watch = g_steal_pointer (&self->watch);
  metrics = g_steal_pointer (&self->metrics);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  relay_metrics_free (metrics);
  relay_watch_free (watch);
}

gboolean
relay_sink_start (GstEbpfRelaySink * self)
{
  GstElement *udpsrc = find_upstream_udpsrc (self);
  gchar **ifnames = NULL, *interfaces, *desc;
  GError *err = NULL;
  GstEbpfRelayMode mode;
  RelayKernel *kernel = NULL;
  RelayControlServer *control;
  GstCaps *caps = NULL;
  guint i, control_port;
  gboolean originals;
  gint port;
  gsize token_len;
  gchar *dups = NULL, *bound = NULL;

  GST_EBPF_RELAY_SINK_LOCK (self);
  port = self->port;
  interfaces = g_strdup (self->interfaces);
  mode = self->mode;
  control_port = self->control_port;
  token_len = self->token ? strlen (self->token) : 0;
  dups = g_strdup (self->table->clients_duplicates);
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  if (port == 0 && udpsrc)
    g_object_get (udpsrc, "port", &port, NULL);
  GST_EBPF_RELAY_SINK_LOCK (self);
  if (!relay_udp_opts_start (self->udpopts, &err)) {
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    goto bad_socket;
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  /* Not fed by a udpsrc: the stream's socket is ours (the socket
   * property's, or bound to bind-address and port, else bind-port, else
   * an ephemeral port), the buffers go to the kernel through lo. */
  if (!udpsrc) {
    GSocket *given;
    guint32 baddr;
    guint16 bport;

    GST_EBPF_RELAY_SINK_LOCK (self);
    given = relay_udp_opts_socket (self->udpopts, G_SOCKET_FAMILY_IPV4);
    if (!relay_udp_opts_bind (self->udpopts, &baddr, &bport, &err) ||
        !relay_local_open_full (self->local, baddr, port ? port : bport,
            given ? g_socket_get_fd (given) : -1, &err)) {
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      goto bad_port;
    }
    port = relay_local_port (self->local);
    GST_EBPF_RELAY_SINK_UNLOCK (self);
  } else if (relay_udp_opts_bind_set (self->udpopts)) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("bind-address and bind-port are not used: upstream is a udpsrc, "
            "and copies leave from its socket (the stream's port)"),
        ("they bind the stream's socket when upstream is not a udpsrc"));
  }
  if (port <= 0 || port > 65535)
    goto no_port;
  if (control_port == (guint) port)
    goto control_is_stream;
  if (token_len > RELAY_CONTROL_MAX_TOKEN)
    goto bad_token;

  if (udpsrc) {
    ifnames = relay_route_list_interfaces (interfaces);
  } else {
    ifnames = g_strsplit ("lo", ",", -1);
    if (interfaces && *interfaces)
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
          ("interfaces=%s is not used: upstream is not a udpsrc, so the "
              "buffers reach the kernel on lo", interfaces),
          ("interfaces names where a udpsrc's stream arrives"));
  }
  for (i = 0; ifnames[i]; i++)
    if (if_nametoindex (ifnames[i]) == 0)
      goto no_interface;
  if (!start_watch (self))
    goto fail;

  GST_EBPF_RELAY_SINK_LOCK (self);
  self->router = relay_router_new ();
  if (!self->router) {
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    goto no_netlink;
  }
  relay_clients_set_group_ifindex (self->table,
      relay_udp_opts_multicast_ifindex (self->udpopts));
  if (!relay_clients_prepare (self->table, port, self->router, &err)) {
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    goto bad_client;
  }
  /* Until the udpsrc has opened its socket (it does so after us, see
   * use_udpsrc_socket), send from our own. */
  self->own_fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  relay_sender_set_fd (self->sender, relay_local_is_open (self->local) ?
      relay_local_fd (self->local) : self->own_fd);
  /* socket, socket-v6: copies to their family leave from them (without a
   * udpsrc, an IPv4 socket is the stream's socket itself) */
  {
    GSocket *g4 = relay_udp_opts_socket (self->udpopts, G_SOCKET_FAMILY_IPV4);
    GSocket *g6 = relay_udp_opts_socket (self->udpopts, G_SOCKET_FAMILY_IPV6);

    relay_sender_set_family_fd (self->sender, AF_INET, g4 && udpsrc ?
        g_socket_get_fd (g4) : -1);
    relay_sender_set_family_fd (self->sender, AF_INET6, g6 ?
        g_socket_get_fd (g6) : -1);
  }
  relay_sink_update_used_sockets (self);
  if (udpsrc)
    g_weak_ref_set (&self->udpsrc, udpsrc);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (self->own_fd < 0)
    goto no_socket;

  /* Loading BPF takes a while: without the lock (the kernel's events only
   * come once the thread below polls). */
  if (mode != GST_EBPF_RELAY_MODE_USERSPACE) {
    kernel = relay_sender_open_kernel (self->sender, port, ifnames, &err);
    if (kernel && !udpsrc && !relay_local_use_kernel (self->local, kernel,
            &err))
      g_clear_pointer (&kernel, relay_kernel_free);
    /* what the loopback socket sends carries qos-dscp and ttl (and the
     * kernel writes them into its copies: relay_udp_opts_set_kernel) */
    if (kernel && !udpsrc) {
      GST_EBPF_RELAY_SINK_LOCK (self);
      relay_udp_opts_socket_func (relay_local_lo_fd (self->local), TRUE,
          self->udpopts);
      GST_EBPF_RELAY_SINK_UNLOCK (self);
    }
    if (!kernel) {
      gboolean perm = g_error_matches (err, RELAY_KERNEL_ERROR,
          RELAY_KERNEL_ERROR_PERMISSION);
      const gchar *hint = perm ?
          "needs CAP_BPF and CAP_NET_ADMIN; run as root or set mode=userspace"
          : "set mode=userspace to forward without BPF";

      if (mode == GST_EBPF_RELAY_MODE_KERNEL)
        goto kernel_failed;
      if (perm)
        GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED,
            ("Kernel forwarding unavailable (%s), forwarding from userspace",
                err->message), ("%s", hint));
      else
        GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
            ("Kernel forwarding unavailable (%s), forwarding from userspace",
                err->message), ("%s", hint));
      g_clear_error (&err);
    }
  }
  if (kernel) {
    desc = relay_kernel_describe (kernel);
    GST_INFO_OBJECT (self, "port %u: kernel forwarding on %s", port, desc);
    g_free (desc);
  } else {
    GST_INFO_OBJECT (self, "port %u: userspace forwarding", port);
  }

  GST_EBPF_RELAY_SINK_LOCK (self);
  self->kernel = kernel;
  /* qos-dscp, ttl, ttl-mc in the kernel's copies, before it has slots */
  relay_udp_opts_set_kernel (self->udpopts, kernel);
  self->buffers_in = 0;
  relay_sender_start (self->sender);
  relay_sender_set_kernel (self->sender, kernel,
      kernel ? relay_kernel_min_mtu (kernel) : 0);
  /* The kernel sees packets before the caps reach us: start from the
   * upstream udpsrc's caps, if it has any. */
  if (udpsrc)
    g_object_get (udpsrc, "caps", &caps, NULL);
  gst_ebpf_relay_sink_priority_from_caps (self, caps);
  gst_clear_caps (&caps);
  if (!relay_clients_start (self->table, self->kernel, &err)) {
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    goto bad_client;
  }
  /* auto-multicast: the host a member of the groups among the clients */
  relay_udp_opts_join_groups (self->udpopts);
  /* a relay tree: its upstream subscription follows our subscribers */
  relay_tree_set_upstream (self->tree, udpsrc, self->follow_limits);
  relay_tree_update (self->tree, self->table);
  if (udpsrc)
    g_object_get (udpsrc, "address", &bound, NULL);
  if (!relay_publisher_start (self->publisher, self->kernel, bound, &err)) {
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    goto bad_sources;
  }
  /* who serves a subscriber depends on the stream's family too */
  relay_clients_set_stream_family (self->table,
      relay_publisher_family (self->publisher));
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  if (kernel) {
    self->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->wake_fd < 0)
      goto no_socket;
    self->kernel_thread = g_thread_new ("ebpfrelay-kernel",
        kernel_thread_func, self);
  }

  if (control_port) {
    control = relay_control_server_new (control_port, NULL,
        &relay_clients_control_callbacks, self->table, &err);
    if (!control)
      goto control_failed;
    GST_EBPF_RELAY_SINK_LOCK (self);
    self->control = control;
    relay_sink_apply_control_settings (self);
    GST_EBPF_RELAY_SINK_UNLOCK (self);
  }
  GST_EBPF_RELAY_SINK_LOCK (self);
  originals = !self->kernel || self->pass_original ||
      relay_local_is_open (self->local);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (!relay_feedback_start (self->feedback, port, self->control,
          control_port, originals, &err))
    goto bad_client;

  g_strfreev (ifnames);
  g_free (interfaces);
  g_free (dups);
  g_free (bound);
  g_clear_object (&udpsrc);
  return TRUE;

  /* ERRORS */
bad_socket:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
        ("socket, socket-v6"));
    g_clear_error (&err);
    goto fail;
  }
bad_sources:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
        ("sources property"));
    g_clear_error (&err);
    goto fail;
  }
control_is_stream:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("control-port %u is the stream's port %d: the subscription channel "
            "needs a port of its own (or set it to the rtcp-port)",
            control_port, port), ("control-port=%u, port=%d", control_port,
            port));
    goto fail;
  }
bad_token:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("token is %" G_GSIZE_FORMAT " bytes long; at most %d are allowed",
            token_len, RELAY_CONTROL_MAX_TOKEN), ("token property"));
    goto fail;
  }
control_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Cannot open the subscription channel on control-port %u: %s",
            control_port, err->message), ("control-port=%u", control_port));
    g_clear_error (&err);
    goto fail;
  }
bad_port:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", err->message),
        ("port=%d", port));
    g_clear_error (&err);
    goto fail;
  }
no_port:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No stream port: the upstream udpsrc has port 0; set its port or "
            "the port property"), ("port=%d", port));
    goto fail;
  }
no_interface:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Interface '%s' does not exist", ifnames[i]),
        ("interfaces=%s", interfaces));
    goto fail;
  }
no_netlink:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Cannot open a netlink socket for route look-ups"),
        ("%s", g_strerror (errno)));
    goto fail;
  }
no_socket:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot open a UDP socket"), ("%s", g_strerror (errno)));
    goto fail;
  }
kernel_failed:
  {
    gboolean perm = g_error_matches (err, RELAY_KERNEL_ERROR,
        RELAY_KERNEL_ERROR_PERMISSION);

    if (perm)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
          ("Kernel forwarding needs CAP_BPF and CAP_NET_ADMIN; run as root "
              "or set mode=userspace"), ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Kernel forwarding failed: %s", err->message),
          ("mode=kernel; set mode=auto or mode=userspace to forward "
              "without BPF"));
    g_clear_error (&err);
    goto fail;
  }
bad_client:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
        ("clients, add, rtcp-port, upstream-rtcp or nack-cache"));
    g_clear_error (&err);
    goto fail;
  }
fail:
  g_strfreev (ifnames);
  g_free (interfaces);
  g_free (dups);
  g_free (bound);
  g_clear_object (&udpsrc);
  relay_sink_stop (self);
  return FALSE;
}

void
relay_sink_stop (GstEbpfRelaySink * self)
{
  RelayControlServer *control;

  /* The channel's thread calls back into us (taking our lock): stop it
   * without holding the lock; RTCP first (it may share its socket). The
   * watch thread takes it too. */
  stop_watch (self);
  relay_feedback_stop (self->feedback);
  GST_EBPF_RELAY_SINK_LOCK (self);
  control = g_steal_pointer (&self->control);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  g_clear_pointer (&control, relay_control_server_free);

  /* So does the kernel-mode thread. */
  if (self->kernel_thread) {
    guint64 one = 1;

    if (write (self->wake_fd, &one, sizeof (one)) != sizeof (one))
      GST_WARNING_OBJECT (self, "cannot wake the kernel-mode thread");
    g_thread_join (self->kernel_thread);
    self->kernel_thread = NULL;
  }
  if (self->wake_fd >= 0)
    close (self->wake_fd);
  self->wake_fd = -1;

  GST_EBPF_RELAY_SINK_LOCK (self);
  relay_publisher_stop (self->publisher);
  /* (bytes-served counts the kernel's copies: read it while there is one) */
  relay_udp_opts_stop (self->udpopts, relay_clients_bytes_served (self->table));
  relay_clients_stop (self->table);
  relay_sender_stop (self->sender);
  relay_sender_set_kernel (self->sender, NULL, 0);
  relay_sender_set_fd (self->sender, -1);
  g_clear_pointer (&self->kernel, relay_kernel_free);
  relay_local_close (self->local);
  g_clear_pointer (&self->router, relay_router_free);
  g_clear_object (&self->used_socket);
  g_weak_ref_set (&self->udpsrc, NULL);
  relay_tree_set_upstream (self->tree, NULL, FALSE);
  if (self->own_fd >= 0)
    close (self->own_fd);
  self->own_fd = -1;
  GST_EBPF_RELAY_SINK_UNLOCK (self);
}
