/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udpsrc's socket surface of ebpfprioritysrc: ebpfprioritysrc-udp.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <gst/net/gstnetaddressmeta.h>

#include "ebpfprioritysrc-udp.h"

/* the element's: what it logs, this logs */
GST_DEBUG_CATEGORY_EXTERN (gst_ebpf_priority_src_debug);
#define GST_CAT_DEFAULT gst_ebpf_priority_src_debug

void
psrc_udp_settings_init (PsrcUdpSettings * s)
{
  memset (s, 0, sizeof (*s));
  s->address = g_strdup (PSRC_UDP_DEFAULT_ADDRESS);
  s->port = PSRC_UDP_DEFAULT_PORT;
  s->buffer_size = PSRC_UDP_DEFAULT_BUFFER_SIZE;
  s->multicast_iface = g_strdup (PSRC_UDP_DEFAULT_MULTICAST_IFACE);
  s->timeout = PSRC_UDP_DEFAULT_TIMEOUT;
  s->skip_first_bytes = PSRC_UDP_DEFAULT_SKIP_FIRST_BYTES;
  s->close_socket = PSRC_UDP_DEFAULT_CLOSE_SOCKET;
  s->auto_multicast = PSRC_UDP_DEFAULT_AUTO_MULTICAST;
  s->reuse = PSRC_UDP_DEFAULT_REUSE;
  s->loop = PSRC_UDP_DEFAULT_LOOP;
  s->retrieve_sender_address = PSRC_UDP_DEFAULT_RETRIEVE_SENDER_ADDRESS;
  s->mtu = PSRC_UDP_DEFAULT_MTU;
  s->socket_timestamp = PSRC_UDP_DEFAULT_SOCKET_TIMESTAMP;
}

void
psrc_udp_settings_clear (PsrcUdpSettings * s)
{
  g_clear_pointer (&s->address, g_free);
  g_clear_pointer (&s->multicast_iface, g_free);
  g_clear_object (&s->given_socket);
}

/* --- NULL -> READY ---------------------------------------------------------- */

/* Joins @group on each interface of multicast-iface (or the system's
 * choice), as udpsrc does. */
static gboolean
join_group (const PsrcUdpSettings * s, GSocket * sock, GInetAddress * group,
    GError ** err)
{
  gchar **ifaces, **i;
  gboolean ok = TRUE;

  if (!s->multicast_iface || !*s->multicast_iface)
    return g_socket_join_multicast_group (sock, group, FALSE, NULL, err);
  ifaces = g_strsplit (s->multicast_iface, ",", -1);
  for (i = ifaces; ok && *i; i++) {
    g_strstrip (*i);
    if (**i)
      ok = g_socket_join_multicast_group (sock, group, FALSE, *i, err);
  }
  g_strfreev (ifaces);
  return ok;
}

gboolean
psrc_udp_open_socket (PsrcUdpSettings * s, GstElement * e, PsrcUdpOpen * o)
{
  GError *err = NULL;
  GSocketFamily family;

  memset (o, 0, sizeof (*o));
  o->external = s->given_socket != NULL;
  o->ia = g_inet_address_new_from_string (s->address ? s->address : "");
  if (!o->ia)
    goto bad_address;
  family = g_inet_address_get_family (o->ia);
  o->multicast = g_inet_address_get_is_multicast (o->ia);

  if (o->external) {
    o->sock = g_object_ref (s->given_socket);
    family = g_socket_get_family (o->sock);
    if ((family != G_SOCKET_FAMILY_IPV4 && family != G_SOCKET_FAMILY_IPV6) ||
        g_socket_get_socket_type (o->sock) != G_SOCKET_TYPE_DATAGRAM)
      goto bad_given_socket;
  } else {
    o->sock = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
        G_SOCKET_PROTOCOL_UDP, &err);
    if (!o->sock)
      goto no_socket;
    /* an IPv6 address receives IPv6 only (GLib's v6 sockets are dual
     * stack; :: is then IPv6 and IPv4) */
    if (family == G_SOCKET_FAMILY_IPV6 && !g_inet_address_get_is_any (o->ia))
      g_socket_set_option (o->sock, IPPROTO_IPV6, IPV6_V6ONLY, 1, NULL);
  }
  /* (reads are MSG_DONTWAIT: a given socket keeps its blocking mode) */
  if (!o->external)
    g_socket_set_blocking (o->sock, FALSE);
  if (s->buffer_size > 0 && !g_socket_set_option (o->sock, SOL_SOCKET,
          SO_RCVBUF, s->buffer_size, &err)) {
    GST_WARNING_OBJECT (e, "buffer-size %d: %s", s->buffer_size, err->message);
    g_clear_error (&err);
  }
  return TRUE;

  /* ERRORS */
bad_address:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, SETTINGS,
        ("address '%s' is not an IPv4 or IPv6 address",
            GST_STR_NULL (s->address)),
        ("address=%s", GST_STR_NULL (s->address)));
    psrc_udp_open_clear (o);
    return FALSE;
  }
bad_given_socket:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, SETTINGS,
        ("The socket property must be an IPv4 or IPv6 UDP socket"),
        ("socket property: family %d, type %d", g_socket_get_family (o->sock),
            g_socket_get_socket_type (o->sock)));
    psrc_udp_open_clear (o);
    return FALSE;
  }
no_socket:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, OPEN_READ,
        ("Cannot open a UDP socket"), ("%s", err->message));
    g_clear_error (&err);
    psrc_udp_open_clear (o);
    return FALSE;
  }
}

gboolean
psrc_udp_bind (PsrcUdpSettings * s, GstElement * e, PsrcUdpOpen * o)
{
  GSocketAddress *sa = NULL;
  GError *err = NULL;

  if (!o->external) {
    sa = g_inet_socket_address_new (o->ia, s->port);
    if (!g_socket_bind (o->sock, sa, s->reuse, &err))
      goto bind_failed;
    g_clear_object (&sa);
  }
  g_socket_set_multicast_loopback (o->sock, s->loop);
  if (o->multicast && s->auto_multicast && !join_group (s, o->sock, o->ia,
          &err))
    goto join_failed;
  if (s->socket_timestamp == GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_REALTIME
      && !g_socket_set_option (o->sock, SOL_SOCKET, SO_TIMESTAMPNS, 1, &err)) {
    GST_WARNING_OBJECT (e, "socket-timestamp=realtime: %s; disabled",
        err->message);
    g_clear_error (&err);
    s->socket_timestamp = GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_DISABLED;
    g_object_notify (G_OBJECT (e), "socket-timestamp");
  }
  sa = g_socket_get_local_address (o->sock, &err);
  if (!sa)
    goto no_local_address;
  if (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) != s->port) {
    s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));
    g_object_notify (G_OBJECT (e), "port");
  }
  g_clear_object (&sa);
  return TRUE;

  /* ERRORS */
bind_failed:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, OPEN_READ,
        ("Cannot receive on %s:%d: %s", s->address, s->port,
            err->message), ("address and port properties"));
    g_clear_error (&err);
    g_clear_object (&sa);
    return FALSE;
  }
join_failed:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, OPEN_READ,
        ("Cannot join multicast group %s: %s", s->address, err->message),
        ("address=%s multicast-iface=%s", s->address,
            GST_STR_NULL (s->multicast_iface)));
    g_clear_error (&err);
    return FALSE;
  }
no_local_address:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, OPEN_READ,
        ("Cannot read the socket's local address: %s", err->message),
        (o->external ? "socket property (is it bound?)" : NULL));
    g_clear_error (&err);
    return FALSE;
  }
}

void
psrc_udp_open_clear (PsrcUdpOpen * o)
{
  g_clear_object (&o->sock);
  g_clear_object (&o->ia);
}

void
psrc_udp_detach_filter (GSocket * sock)
{
  int unused = 0;

  setsockopt (g_socket_get_fd (sock), SOL_SOCKET, SO_DETACH_BPF, &unused,
      sizeof (unused));
}

void
psrc_udp_release (const PsrcUdpSettings * s, GSocket * sock,
    gboolean external, gboolean filtered)
{
  if (!sock)
    return;
  if (external && !s->close_socket) {
    /* The application keeps its socket: without our filter on it. */
    if (filtered)
      psrc_udp_detach_filter (sock);
  } else {
    g_socket_close (sock, NULL);
  }
}

/* --- the URI (udp://address:port, as udpsrc's) ------------------------------- */

gchar *
psrc_udp_get_uri (const PsrcUdpSettings * s)
{
  return g_strdup_printf ("udp://%s:%d", GST_STR_NULL (s->address), s->port);
}

gboolean
psrc_udp_set_uri (PsrcUdpSettings * s, GObject * obj, const gchar * uri,
    GError ** error)
{
  GstUri *u = uri ? gst_uri_from_string (uri) : NULL;
  const gchar *host;
  guint port;

  if (!u || g_strcmp0 (gst_uri_get_scheme (u), "udp") != 0 ||
      !(host = gst_uri_get_host (u)) || !*host) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "Invalid URI '%s': expected udp://address:port", GST_STR_NULL (uri));
    if (!error)
      GST_WARNING_OBJECT (obj, "uri: invalid URI '%s' (expected "
          "udp://address:port): address and port kept", GST_STR_NULL (uri));
    if (u)
      gst_uri_unref (u);
    return FALSE;
  }
  port = gst_uri_get_port (u);
  if (port == GST_URI_NO_PORT)
    port = PSRC_UDP_DEFAULT_PORT;
  if (port > 65535) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "Invalid URI '%s': port %u is out of range", uri, port);
    if (!error)
      GST_WARNING_OBJECT (obj, "uri: port %u of '%s' is out of range: "
          "address and port kept", port, uri);
    gst_uri_unref (u);
    return FALSE;
  }
  g_free (s->address);
  s->address = g_strdup (host);
  s->port = port;
  gst_uri_unref (u);
  g_object_notify (obj, "address");
  g_object_notify (obj, "port");
  return TRUE;
}

const gchar *const *
psrc_udp_uri_protocols (void)
{
  static const gchar *protocols[] = { "udp", NULL };

  return protocols;
}

/* --- the streaming thread ----------------------------------------------------- */

void
psrc_udp_recv_init (PsrcUdpRecv * r)
{
  memset (r, 0, sizeof (*r));
  r->scratch = g_malloc (PSRC_UDP_MAX_DATAGRAM);
  r->joined = g_malloc (PSRC_UDP_MAX_DATAGRAM);
}

void
psrc_udp_recv_clear (PsrcUdpRecv * r)
{
  psrc_udp_recv_end (r);
  g_clear_pointer (&r->scratch, g_free);
  g_clear_pointer (&r->joined, g_free);
}

void
psrc_udp_recv_begin (PsrcUdpRecv * r, guint mtu)
{
  r->mtu = MIN (mtu, PSRC_UDP_MAX_DATAGRAM);
}

void
psrc_udp_recv_end (PsrcUdpRecv * r)
{
  if (r->mem) {
    gst_memory_unmap (r->mem, &r->map);
    gst_memory_unref (r->mem);
    r->mem = NULL;
  }
}

PsrcUdpResult
psrc_udp_wait (GSocket * sock, guint64 timeout, GCancellable * cancellable,
    GstElement * e)
{
  GError *err = NULL;

  if (g_socket_condition_timed_wait (sock, G_IO_IN,
          timeout ? (gint64) MIN (timeout / 1000, G_MAXINT64) : -1,
          cancellable, &err))
    return PSRC_UDP_OK;
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_clear_error (&err);
    return PSRC_UDP_FLUSHING;
  }
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_clear_error (&err);
    gst_element_post_message (e,
        gst_message_new_element (GST_OBJECT (e),
            gst_structure_new ("GstUDPSrcTimeout",
                "timeout", G_TYPE_UINT64, timeout, NULL)));
    return PSRC_UDP_AGAIN;
  }
  GST_ELEMENT_ERROR (e, RESOURCE, READ, ("Waiting for data failed"),
      ("%s", err->message));
  g_clear_error (&err);
  return PSRC_UDP_ERROR;
}

/* Where a datagram larger than mtu is in one piece (the control check and
 * the filter read it whole). */
static const guint8 *
datagram_data (PsrcUdpRecv * r, const guint8 * first, gsize n)
{
  if (n <= r->mtu)
    return first;
  memcpy (r->joined, first, r->mtu);
  memcpy (r->joined + r->mtu, r->scratch, n - r->mtu);
  return r->joined;
}

PsrcUdpResult
psrc_udp_read (PsrcUdpRecv * r, int fd, GstElement * e)
{
  ssize_t n;
  int recv_errno;

  /* udpsrc's layout: the first mtu bytes in the buffer's own memory,
   * the rest (if any) in a second one. */
  if (!r->mem) {
    r->mem = gst_allocator_alloc (NULL, MAX (r->mtu, 1), NULL);
    if (!gst_memory_map (r->mem, &r->map, GST_MAP_READWRITE))
      goto map_failed;
  }
  r->iov[0].iov_base = r->map.data;
  r->iov[0].iov_len = r->mtu;
  r->iov[1].iov_base = r->scratch;
  r->iov[1].iov_len = PSRC_UDP_MAX_DATAGRAM;
  memset (&r->msg, 0, sizeof (r->msg));
  r->msg.msg_name = &r->from;
  r->msg.msg_namelen = sizeof (r->from);
  r->msg.msg_iov = r->iov;
  r->msg.msg_iovlen = 2;
  r->msg.msg_control = r->control.buf;
  r->msg.msg_controllen = sizeof (r->control.buf);
  n = recvmsg (fd, &r->msg, MSG_DONTWAIT);
  if (n < 0) {
    recv_errno = errno;
    /* ICMP errors of what we sent (the relay gone) are not ours to stop
     * on. */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
        || errno == ECONNREFUSED || errno == EHOSTUNREACH
        || errno == ENETUNREACH)
      return PSRC_UDP_AGAIN;
    goto recv_failed;
  }
  r->n = n;
  r->data = datagram_data (r, r->map.data, n);
  return PSRC_UDP_OK;

  /* ERRORS */
map_failed:
  {
    gst_memory_unref (r->mem);
    r->mem = NULL;
    GST_ELEMENT_ERROR (e, RESOURCE, READ, (NULL), ("Failed to map memory"));
    return PSRC_UDP_ERROR;
  }
recv_failed:
  {
    GST_ELEMENT_ERROR (e, RESOURCE, READ, ("Receiving failed"),
        ("recvmsg: %s", g_strerror (recv_errno)));
    psrc_udp_recv_end (r);
    return PSRC_UDP_ERROR;
  }
}

/* The DTS of a datagram the kernel received at @real (CLOCK_REALTIME), as
 * udpsrc's socket-timestamp=realtime sets it: the running time now, less
 * the time since the kernel received it. */
static void
set_socket_dts (GstElement * e, GstBuffer * buf, GstClockTime real)
{
  GstClock *clock = gst_element_get_clock (e);
  GstClockTime now, base;
  gint64 age;

  if (!clock)
    return;
  age = (gint64) (g_get_real_time () * GST_USECOND) - (gint64) real;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (e);
  gst_object_unref (clock);
  /* (the system clock stepped: the basesrc timestamps it as it reads) */
  if (age < 0 || now < base || (gint64) (now - base) < age)
    return;
  GST_BUFFER_DTS (buf) = now - base - age;
}

GstBuffer *
psrc_udp_buffer (PsrcUdpRecv * r, GstElement * e, guint8 * rewritten,
    gsize rewritten_len, gint skip, gboolean want_addr)
{
  struct cmsghdr *cm;
  GstBuffer *buf;
  gsize n = r->n, mtu = r->mtu;

  gst_memory_unmap (r->mem, &r->map);
  if (rewritten) {
    /* an SPS rewritten: the new datagram in one memory */
    gst_memory_unref (r->mem);
    buf = gst_buffer_new_wrapped (rewritten, rewritten_len);
    n = rewritten_len;
    mtu = n;
  } else {
    gst_memory_resize (r->mem, 0, MIN (n, mtu));
    buf = gst_buffer_new ();
    gst_buffer_append_memory (buf, r->mem);
  }
  r->mem = NULL;
  if (n > mtu) {
    GstMemory *rest = gst_allocator_alloc (NULL, n - mtu, NULL);
    GstMapInfo map;

    gst_memory_map (rest, &map, GST_MAP_WRITE);
    memcpy (map.data, r->scratch, n - mtu);
    gst_memory_unmap (rest, &map);
    gst_buffer_append_memory (buf, rest);
  }
  if (skip > 0)
    gst_buffer_resize (buf, skip, n - skip);

  if (want_addr && r->msg.msg_namelen >= sizeof (struct sockaddr_in)) {
    GSocketAddress *sa = g_socket_address_new_from_native (&r->from,
        r->msg.msg_namelen);

    if (sa) {
      gst_buffer_add_net_address_meta (buf, sa);
      g_object_unref (sa);
    }
  }
  for (cm = CMSG_FIRSTHDR (&r->msg); cm; cm = CMSG_NXTHDR (&r->msg, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
        cm->cmsg_len >= CMSG_LEN (sizeof (struct timespec))) {
      struct timespec ts;

      memcpy (&ts, CMSG_DATA (cm), sizeof (ts));
      set_socket_dts (e, buf, GST_TIMESPEC_TO_TIME (ts));
    }
  }
  return buf;
}
