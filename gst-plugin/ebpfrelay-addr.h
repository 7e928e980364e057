/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-addr: one UDP peer address of either family, for the
 * subscriber table (ebpfrelay-clients), the userspace sender, the
 * subscription channel (ebpfrelay-control) and the feedback plane. GLib
 * only; inline helpers, no state, no lock.
 *
 * A v4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
 * reports for an IPv4 peer) is always held as the IPv4 address it is
 * (relay_addr_from_native), so one peer has one RelayAddr whichever
 * socket it came through.
 */
#ifndef __EBPF_RELAY_ADDR_H__
#define __EBPF_RELAY_ADDR_H__

#include <glib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* A peer: IPv4 or IPv6 (sa.sa_family tells; the port in network order
 * at the same offset in both). */
typedef union
{
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} RelayAddr;

#define RELAY_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/* The length of @a's sockaddr (for sendto). */
static inline socklen_t
relay_addr_len (const RelayAddr * a)
{
  return a->sa.sa_family == AF_INET6 ? sizeof (a->v6) : sizeof (a->v4);
}

static inline gboolean
relay_addr_is_v6 (const RelayAddr * a)
{
  return a->sa.sa_family == AF_INET6;
}

static inline guint16
relay_addr_port (const RelayAddr * a)
{
  return ntohs (a->v4.sin_port);
}

static inline void
relay_addr_set_port (RelayAddr * a, guint16 port)
{
  a->v4.sin_port = htons (port);
}

/* Same family, address and port. */
static inline gboolean
relay_addr_equal (const RelayAddr * a, const RelayAddr * b)
{
  if (a->sa.sa_family != b->sa.sa_family)
    return FALSE;
  if (a->sa.sa_family == AF_INET6)
    return a->v6.sin6_port == b->v6.sin6_port
        && memcmp (&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0
        && a->v6.sin6_scope_id == b->v6.sin6_scope_id;
  return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr
      && a->v4.sin_port == b->v4.sin_port;
}

/* Same family and address (any port). */
static inline gboolean
relay_addr_same_host (const RelayAddr * a, const RelayAddr * b)
{
  if (a->sa.sa_family != b->sa.sa_family)
    return FALSE;
  if (a->sa.sa_family == AF_INET6)
    return memcmp (&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0;
  return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

/* Whether @a is a multicast group (224.0.0.0/4, ff00::/8). */
static inline gboolean
relay_addr_is_group (const RelayAddr * a)
{
  if (a->sa.sa_family == AF_INET6)
    return IN6_IS_ADDR_MULTICAST (&a->v6.sin6_addr);
  return a->sa.sa_family == AF_INET
      && IN_MULTICAST (ntohl (a->v4.sin_addr.s_addr));
}

/* For GHashTable (g_hash_table_new (relay_addr_hash, relay_addr_equal_cb)
 * with RelayAddr keys). */
static inline guint
relay_addr_hash (gconstpointer p)
{
  const RelayAddr *a = p;
  const guint8 *b;
  gsize n;
  guint h = 5381 + a->sa.sa_family + a->v4.sin_port;

  if (a->sa.sa_family == AF_INET6) {
    b = a->v6.sin6_addr.s6_addr;
    n = 16;
  } else {
    b = (const guint8 *) &a->v4.sin_addr;
    n = 4;
  }
  for (gsize i = 0; i < n; i++)
    h = h * 33 + b[i];
  return h;
}

static inline gboolean
relay_addr_equal_cb (gconstpointer a, gconstpointer b)
{
  return relay_addr_equal (a, b);
}

/* "a.b.c.d:port" or "[v6]:port" into @buf (RELAY_ADDR_STRLEN). */
static inline const gchar *
relay_addr_to_string (const RelayAddr * a, gchar * buf, gsize size)
{
  gchar ip[INET6_ADDRSTRLEN] = "?";

  if (a->sa.sa_family == AF_INET6) {
    inet_ntop (AF_INET6, &a->v6.sin6_addr, ip, sizeof (ip));
    g_snprintf (buf, size, "[%s]:%u", ip, ntohs (a->v6.sin6_port));
  } else {
    inet_ntop (AF_INET, &a->v4.sin_addr, ip, sizeof (ip));
    g_snprintf (buf, size, "%s:%u", ip, ntohs (a->v4.sin_port));
  }
  return buf;
}

/* The address alone ("a.b.c.d" or "v6", no brackets) into @buf
 * (INET6_ADDRSTRLEN). */
static inline const gchar *
relay_addr_host_string (const RelayAddr * a, gchar * buf, gsize size)
{
  if (!inet_ntop (a->sa.sa_family, a->sa.sa_family == AF_INET6 ?
          (const void *) &a->v6.sin6_addr : (const void *) &a->v4.sin_addr,
          buf, size))
    g_strlcpy (buf, "?", size);
  return buf;
}

/* @sa (@len bytes, from recvfrom) into @out, a v4-mapped IPv6 address as
 * IPv4; FALSE (and @out untouched) for anything but AF_INET/AF_INET6. */
static inline gboolean
relay_addr_from_native (RelayAddr * out, const void *sa, socklen_t len)
{
  const struct sockaddr *s = sa;

  if (len >= sizeof (struct sockaddr_in) && s->sa_family == AF_INET) {
    memset (out, 0, sizeof (*out));
    memcpy (&out->v4, sa, sizeof (out->v4));
    return TRUE;
  }
  if (len >= sizeof (struct sockaddr_in6) && s->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = sa;

    memset (out, 0, sizeof (*out));
    if (IN6_IS_ADDR_V4MAPPED (&s6->sin6_addr)) {
      out->v4.sin_family = AF_INET;
      out->v4.sin_port = s6->sin6_port;
      memcpy (&out->v4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    } else {
      out->v6 = *s6;
      out->v6.sin6_flowinfo = 0;
    }
    return TRUE;
  }
  return FALSE;
}

/* @a's address as 16 bytes (network order) into @out: an IPv6 one as it
 * is, an IPv4 one v4-mapped (::ffff:a.b.c.d), the one key type of the
 * kernel's publisher lock (bpf/relay.h struct relay_src_key). */
static inline void
relay_addr_to_mapped (const RelayAddr * a, guint8 out[16])
{
  if (a->sa.sa_family == AF_INET6) {
    memcpy (out, &a->v6.sin6_addr, 16);
    return;
  }
  memset (out, 0, 10);
  out[10] = out[11] = 0xff;
  memcpy (out + 12, &a->v4.sin_addr, 4);
}

/* The inverse: 16 bytes (v4-mapped: IPv4) and @port_be into @out, folded
 * as relay_addr_from_native folds a peer. */
static inline void
relay_addr_from_mapped (RelayAddr * out, const guint8 in[16], guint16 port_be)
{
  struct sockaddr_in6 s6;

  memset (&s6, 0, sizeof (s6));
  s6.sin6_family = AF_INET6;
  s6.sin6_port = port_be;
  memcpy (&s6.sin6_addr, in, 16);
  relay_addr_from_native (out, &s6, sizeof (s6));
}

G_END_DECLS
#endif
