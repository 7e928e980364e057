/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any upstream for ebpfrelaysink: see ebpfrelay-local.h for what it owns
 * and which lock protects it.
 */
#include "ebpfrelay-local.h"
#include "ebpfrelay-route.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/udp.h>
#include <gio/gio.h>

/* Elements that pass every buffer on unchanged: what reaches the sink
 * through them is what their udpsrc read, i.e. what crossed the hook. */
static const gchar *pass_through[] = {
  "GstQueue", "GstQueue2", "GstMultiQueue", "GstTee", "GstCapsFilter",
  "GstIdentity",
};

struct _RelayLocal
{
  gboolean open;
  int fd;                       /* the stream socket */
  gboolean adopted;             /* fd is the caller's (socket property) */
  guint16 port;
  int lo_fd;                    /* kernel mode: to 127.0.0.1:port */
  guint64 sent, user, errors;
  gboolean warned;
};

static gboolean
passes_through (GstElement * el)
{
  for (guint i = 0; i < G_N_ELEMENTS (pass_through); i++)
    if (g_strcmp0 (G_OBJECT_TYPE_NAME (el), pass_through[i]) == 0)
      return TRUE;
  return FALSE;
}

/* The sink pad whose buffers go out of @src (an element's source pad):
 * its internal link. */
static GstPad *
internal_sink (GstPad * src)
{
  GstIterator *it = gst_pad_iterate_internal_links (src);
  GValue v = G_VALUE_INIT;
  GstPad *sink = NULL;

  if (it && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    sink = gst_object_ref (g_value_get_object (&v));
    g_value_unset (&v);
  }
  if (it)
    gst_iterator_free (it);
  return sink;
}

GstElement *
relay_local_find_udpsrc (GstPad * sinkpad)
{
  GstPad *pad = gst_pad_get_peer (sinkpad), *next;
  GstElement *el = NULL;
  guint depth;

  for (depth = 0; pad && depth < 32; depth++) {
    if (GST_IS_GHOST_PAD (pad)) {
      /* a bin's source: the pad inside it */
      next = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
    } else if (GST_IS_PROXY_PAD (pad)) {
      /* inside a bin, behind its ghost sink pad: what feeds the bin */
      GstProxyPad *ghost = gst_proxy_pad_get_internal (GST_PROXY_PAD (pad));

      next = ghost ? gst_pad_get_peer (GST_PAD (ghost)) : NULL;
      g_clear_object (&ghost);
    } else {
      el = gst_pad_get_parent_element (pad);
      next = NULL;
      /* (an ebpfprioritysrc, a relay tree's upstream: ebpfrelay-tree.h,
       * has udpsrc's port, address, caps and used-socket) */
      if (el && (g_strcmp0 (G_OBJECT_TYPE_NAME (el), "GstUDPSrc") == 0 ||
              g_strcmp0 (G_OBJECT_TYPE_NAME (el), "GstEbpfPrioritySrc") == 0)) {
        gst_object_unref (pad);
        return el;
      }
      if (el && passes_through (el)) {
        GstPad *sink = internal_sink (pad);

        if (sink) {
          next = gst_pad_get_peer (sink);
          gst_object_unref (sink);
        }
      }
      g_clear_object (&el);
    }
    gst_object_unref (pad);
    pad = next;
  }
  g_clear_object (&pad);
  return NULL;
}

RelayLocal *
relay_local_new (void)
{
  RelayLocal *l = g_new0 (RelayLocal, 1);

  l->fd = l->lo_fd = -1;
  return l;
}

void
relay_local_free (RelayLocal * l)
{
  relay_local_close (l);
  g_free (l);
}

static int
udp_socket (in_addr_t addr, guint16 port, guint16 * bound)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e;

  if (fd < 0)
    return -1;
  a.sin_addr.s_addr = addr;
  a.sin_port = htons (port);
  if (bind (fd, (struct sockaddr *) &a, sizeof (a)) != 0 ||
      getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
    e = errno;
    close (fd);
    errno = e;
    return -1;
  }
  *bound = ntohs (a.sin_port);
  return fd;
}

/* The caller's socket @fd as the stream socket: bound to @addr:@port
 * unless it is bound already. */
static gboolean
adopt (RelayLocal * l, int fd, in_addr_t addr, guint16 port, GError ** error)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);

  if (getsockname (fd, (struct sockaddr *) &a, &len) != 0
      || a.sin_family != AF_INET) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the socket property is not an IPv4 UDP socket");
    return FALSE;
  }
  if (a.sin_port == 0) {
    a.sin_addr.s_addr = addr;
    a.sin_port = htons (port);
    if (bind (fd, (struct sockaddr *) &a, sizeof (a)) != 0 ||
        getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "cannot bind the socket property to port %u: %s", port,
          g_strerror (errno));
      return FALSE;
    }
  }
  l->fd = fd;
  l->adopted = TRUE;
  l->port = ntohs (a.sin_port);
  l->open = TRUE;
  return TRUE;
}

gboolean
relay_local_open (RelayLocal * l, guint16 port, GError ** error)
{
  return relay_local_open_full (l, htonl (INADDR_ANY), port, -1, error);
}

gboolean
relay_local_open_full (RelayLocal * l, guint32 addr, guint16 port, int fd,
    GError ** error)
{
  relay_local_close (l);
  l->sent = l->user = l->errors = 0;
  l->warned = FALSE;
  if (fd >= 0)
    return adopt (l, fd, addr, port, error);
  l->fd = udp_socket (addr, port, &l->port);
  /* An ephemeral port whose next one is free too: the default RTCP port
   * (rtcp-port -1, the stream's port + 1) must be bindable. */
  for (guint i = 0; port == 0 && l->fd >= 0 && i < 64; i++) {
    guint16 next;
    int probe = l->port < 65535 ? udp_socket (addr, l->port + 1, &next) : -1;

    if (probe >= 0) {
      close (probe);
      break;
    }
    close (l->fd);
    l->fd = udp_socket (addr, 0, &l->port);
  }
  if (l->fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "cannot bind the stream's UDP port %u (port property): %s", port,
        g_strerror (errno));
    return FALSE;
  }
  l->open = TRUE;
  return TRUE;
}

gboolean
relay_local_is_open (RelayLocal * l)
{
  return l->open;
}

int
relay_local_fd (RelayLocal * l)
{
  return l->fd;
}

int
relay_local_lo_fd (RelayLocal * l)
{
  return l->lo_fd;
}

guint16
relay_local_port (RelayLocal * l)
{
  return l->open ? l->port : 0;
}

/* The smallest MTU of the interfaces that are up, loopback aside: the
 * largest datagram every subscriber's egress takes whole (0: unknown). */
static guint
egress_mtu (void)
{
  gchar **names = relay_route_list_interfaces (NULL);
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  guint i, min = 0;

  for (i = 0; fd >= 0 && names[i]; i++) {
    struct ifreq ifr = { 0 };

    g_strlcpy (ifr.ifr_name, names[i], IFNAMSIZ);
    if (ioctl (fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 &&
        (min == 0 || (guint) ifr.ifr_mtu < min))
      min = ifr.ifr_mtu;
  }
  if (fd >= 0)
    close (fd);
  g_strfreev (names);
  return min;
}

gboolean
relay_local_use_kernel (RelayLocal * l, RelayKernel * k, GError ** error)
{
  struct sockaddr_in to = {.sin_family = AF_INET };
  guint16 sport;
  int fd;

  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (l->port);
  fd = udp_socket (htonl (INADDR_LOOPBACK), 0, &sport);
  if (fd < 0 || connect (fd, (struct sockaddr *) &to, sizeof (to)) != 0)
    goto failed;
  if (!relay_kernel_set_local (k, sport, egress_mtu ()))
    goto failed;
  /* UDP_SEGMENT with a segment size no datagram here exceeds: no datagram
   * is segmented, but each is built with its headers alone in the linear
   * part and the payload in page fragments. The TC program's copies then
   * share the payload: each one's header rewrite (after the clone of the
   * one before) copies the headers, not the whole datagram. */
  {
    int gso = RELAY_LOCAL_MAX_LEN;

    if (setsockopt (fd, SOL_UDP, UDP_SEGMENT, &gso, sizeof (gso)) != 0)
      g_debug ("UDP_SEGMENT on the loopback socket: %s", g_strerror (errno));
  }
  l->lo_fd = fd;
  return TRUE;

failed:
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
      "cannot open the loopback socket to 127.0.0.1:%u: %s", l->port,
      g_strerror (errno));
  if (fd >= 0)
    close (fd);
  return FALSE;
}

void
relay_local_close (RelayLocal * l)
{
  if (l->lo_fd >= 0)
    close (l->lo_fd);
  if (l->fd >= 0 && !l->adopted)
    close (l->fd);
  l->fd = l->lo_fd = -1;
  l->adopted = FALSE;
  l->open = FALSE;
}

/* One send on the loopback socket; 0 or an errno. */
static int
send_lo (RelayLocal * l, const guint8 * data, gsize len)
{
  ssize_t r;
  guint tries = 0;

  for (;;) {
    r = send (l->lo_fd, data, len, 0);
    if (r == (ssize_t) len)
      return 0;
    if (r >= 0)
      return EMSGSIZE;
    /* (the socket blocks; no buffer space now: a moment later) */
    if (errno == EINTR || ((errno == ENOBUFS || errno == EAGAIN)
            && ++tries < 20)) {
      if (errno != EINTR)
        g_usleep (200);
      continue;
    }
    return errno;
  }
}

gchar *
relay_local_render (RelayLocal * l, RelaySender * s, const guint8 * data,
    gsize len)
{
  gchar *msg = NULL;
  int err = 0;

  if (l->lo_fd >= 0) {
    if (len <= RELAY_LOCAL_MAX_LEN && (err = send_lo (l, data, len)) == 0) {
      l->sent++;
      return NULL;
    }
    if (err)
      l->errors++;
    if (!l->warned) {
      l->warned = TRUE;
      msg = err ? g_strdup_printf ("the loopback socket refused a buffer "
          "(%s): sent from userspace", g_strerror (err)) :
          g_strdup_printf ("a buffer of %" G_GSIZE_FORMAT " bytes (more than "
          "%d) is sent from userspace", len, RELAY_LOCAL_MAX_LEN);
    }
  }
  l->user++;
  relay_sender_forward (s, data, len);
  return msg;
}

void
relay_local_add_stats (RelayLocal * l, GstStructure * s, RelayKernel * k)
{
  gst_structure_set (s,
      "local", G_TYPE_BOOLEAN, l->open,
      "local-sent", G_TYPE_UINT64, l->sent,
      "local-userspace", G_TYPE_UINT64, l->user,
      "local-errors", G_TYPE_UINT64, l->errors,
      "kernel-local", G_TYPE_UINT64,
      k ? relay_kernel_stat (k, RELAY_STAT_LOCAL) : (guint64) 0,
      "kernel-local-mtu", G_TYPE_UINT64,
      k ? relay_kernel_stat (k, RELAY_STAT_LOCAL_MTU) : (guint64) 0, NULL);
}
