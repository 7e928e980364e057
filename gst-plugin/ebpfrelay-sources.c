/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-sources: see ebpfrelay-sources.h.
 */
#include "ebpfrelay-sources.h"
#include "ebpfrelay-clients.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

G_DEFINE_QUARK (relay - sources - error - quark, relay_sources_error);

struct _RelaySources
{
  GArray *list;                 /* of RelaySource */
  gboolean latch;
  guint timeout_ms;
  gboolean latched;
  RelayAddr latched_addr;       /* with its port */
  gint64 last_us;               /* the locked sender's last datagram */
  guint64 rejected, switches;
};

RelaySources *
relay_sources_new (void)
{
  RelaySources *s = g_new0 (RelaySources, 1);

  s->list = g_array_new (FALSE, FALSE, sizeof (RelaySource));
  s->timeout_ms = RELAY_SOURCES_DEFAULT_TIMEOUT_MS;
  return s;
}

void
relay_sources_free (RelaySources * s)
{
  if (!s)
    return;
  g_array_unref (s->list);
  g_free (s);
}

/* "host", "host:port", "[v6]" or "[v6]:port": the host (brackets kept,
 * for relay_client_resolve) into *@host and the port (0: none given)
 * into *@port. */
static gboolean
split_entry (const gchar * entry, gchar ** host, gint * port, GError ** error)
{
  const gchar *port_str = NULL, *colon;

  *host = NULL;
  *port = 0;
  if (entry[0] == '[') {
    const gchar *rb = strchr (entry, ']');

    if (!rb || (rb[1] != '\0' && rb[1] != ':')) {
      g_set_error (error, RELAY_SOURCES_ERROR, 0,
          "sources entry '%s' is not [IPv6 address] or [IPv6 address]:port",
          entry);
      return FALSE;
    }
    *host = g_strndup (entry, rb + 1 - entry);
    if (rb[1] == ':')
      port_str = rb + 2;
  } else if ((colon = strchr (entry, ':')) && strchr (colon + 1, ':')) {
    g_set_error (error, RELAY_SOURCES_ERROR, 0,
        "sources entry '%s': an IPv6 address goes in brackets, "
        "[2001:db8::1] or [2001:db8::1]:5004", entry);
    return FALSE;
  } else if (colon) {
    *host = g_strndup (entry, colon - entry);
    port_str = colon + 1;
  } else {
    *host = g_strdup (entry);
  }
  if (port_str) {
    gchar *end = NULL;
    gint64 p = g_ascii_strtoll (port_str, &end, 10);

    if (!g_ascii_isdigit (port_str[0]) || *end || p < 1 || p > 65535) {
      g_set_error (error, RELAY_SOURCES_ERROR, 0,
          "sources entry '%s': the port is not 1-65535", entry);
      g_clear_pointer (host, g_free);
      return FALSE;
    }
    *port = (gint) p;
  }
  if (!**host || g_strcmp0 (*host, "[]") == 0) {
    g_set_error (error, RELAY_SOURCES_ERROR, 0,
        "sources entry '%s' has no host", entry);
    g_clear_pointer (host, g_free);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_one (const gchar * entry, RelaySource * out, GError ** error)
{
  GError *err = NULL;
  gchar *host;
  gint port;
  gboolean ok;

  if (!split_entry (entry, &host, &port, error))
    return FALSE;
  memset (out, 0, sizeof (*out));
  /* the clients' parser (a literal of either family, or a name); any
   * port for it, then the entry's own (0: any) */
  ok = relay_client_resolve (host, port ? port : 1, &out->addr, &err);
  if (!ok) {
    /* (the clients' wording names a client) */
    g_set_error (error, RELAY_SOURCES_ERROR, 0,
        "sources entry '%s': host '%s' is not an IPv4 address, an IPv6 "
        "one in brackets or a name that resolves to one", entry, host);
    g_error_free (err);
  } else {
    relay_addr_set_port (&out->addr, port);
    if (relay_addr_is_v6 (&out->addr) ?
        IN6_IS_ADDR_UNSPECIFIED (&out->addr.v6.sin6_addr) :
        out->addr.v4.sin_addr.s_addr == 0) {
      g_set_error (error, RELAY_SOURCES_ERROR, 0,
          "sources entry '%s': %s sends nothing (leave sources empty "
          "for any sender)", entry, relay_addr_is_v6 (&out->addr) ? "::" :
          "0.0.0.0");
      ok = FALSE;
    }
  }
  g_free (host);
  return ok;
}

gboolean
relay_sources_parse (const gchar * spec, GArray * out, GError ** error)
{
  gchar **entries;
  guint i;
  gboolean ok = TRUE;

  g_array_set_size (out, 0);
  if (!spec || !*spec)
    return TRUE;
  entries = g_strsplit (spec, ",", -1);
  for (i = 0; entries[i] && ok; i++) {
    gchar *e = g_strstrip (entries[i]);
    RelaySource src;

    if (!*e) {
      g_set_error (error, RELAY_SOURCES_ERROR, 0,
          "sources '%s' has an empty entry", spec);
      ok = FALSE;
    } else if (out->len >= RELAY_SOURCES_MAX) {
      g_set_error (error, RELAY_SOURCES_ERROR, 0,
          "sources has more than %d entries", RELAY_SOURCES_MAX);
      ok = FALSE;
    } else if (parse_one (e, &src, error)) {
      g_array_append_val (out, src);
    } else {
      ok = FALSE;
    }
  }
  g_strfreev (entries);
  if (!ok)
    g_array_set_size (out, 0);
  return ok;
}

void
relay_sources_configure (RelaySources * s, const RelaySource * list,
    guint n, gboolean latch, guint timeout_ms)
{
  g_array_set_size (s->list, 0);
  if (n)
    g_array_append_vals (s->list, list, n);
  s->latch = latch;
  s->timeout_ms = timeout_ms;
  s->latched = FALSE;
  s->rejected = s->switches = 0;
}

gboolean
relay_sources_active (RelaySources * s)
{
  return s->list->len > 0 || s->latch;
}

static gboolean
listed (RelaySources * s, const RelayAddr * from)
{
  for (guint i = 0; i < s->list->len; i++) {
    const RelayAddr *e = &g_array_index (s->list, RelaySource, i).addr;

    if (relay_addr_same_host (e, from) && (relay_addr_port (e) == 0
            || relay_addr_port (e) == relay_addr_port (from)))
      return TRUE;
  }
  return FALSE;
}

/* The same sender: address and port (a link-local one's zone aside, as
 * the kernel's key has none). */
static gboolean
same_sender (const RelayAddr * a, const RelayAddr * b)
{
  return relay_addr_same_host (a, b)
      && relay_addr_port (a) == relay_addr_port (b);
}

RelaySourceVerdict
relay_sources_check (RelaySources * s, const RelayAddr * from, gint64 now_us)
{
  if (s->list->len && !listed (s, from)) {
    s->rejected++;
    return RELAY_SOURCE_NOT_LISTED;
  }
  if (!s->latch)
    return RELAY_SOURCE_ACCEPTED;
  if (!s->latched || !same_sender (&s->latched_addr, from)) {
    if (s->latched && (s->timeout_ms == 0
            || now_us - s->last_us <= (gint64) s->timeout_ms * 1000)) {
      s->rejected++;
      return RELAY_SOURCE_NOT_LATCHED;
    }
    s->latched = TRUE;
    s->latched_addr = *from;
    s->switches++;
  }
  s->last_us = now_us;
  return RELAY_SOURCE_ACCEPTED;
}

gboolean
relay_sources_allows_host (RelaySources * s, const RelayAddr * from)
{
  gboolean any = s->list->len == 0;

  for (guint i = 0; i < s->list->len && !any; i++)
    any = relay_addr_same_host (&g_array_index (s->list, RelaySource,
            i).addr, from);
  if (!any)
    return FALSE;
  return !s->latch || (s->latched
      && relay_addr_same_host (&s->latched_addr, from));
}

gboolean
relay_sources_latched (RelaySources * s, RelayAddr * out)
{
  if (!s->latched)
    return FALSE;
  *out = s->latched_addr;
  return TRUE;
}

void
relay_sources_set_latched (RelaySources * s, const RelayAddr * addr,
    gint64 now_us)
{
  if (!addr) {
    s->latched = FALSE;
    return;
  }
  if (!s->latched || !same_sender (&s->latched_addr, addr))
    s->switches++;
  s->latched = TRUE;
  s->latched_addr = *addr;
  s->last_us = now_us;
}

guint64
relay_sources_rejected (RelaySources * s)
{
  return s->rejected;
}

guint64
relay_sources_switches (RelaySources * s)
{
  return s->switches;
}

/* --- the relay's own addresses --------------------------------------------- */

static gint
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

gboolean
relay_local_addrs_read (GArray * out)
{
  struct ifaddrs *ifs = NULL, *i;
  guint n = 0;

  g_array_set_size (out, 0);
  if (getifaddrs (&ifs) != 0)
    return FALSE;
  for (i = ifs; i; i = i->ifa_next) {
    guint32 a;

    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
      continue;
    a = ntohl (((struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr);
    g_array_append_val (out, a);
  }
  freeifaddrs (ifs);
  g_array_sort (out, cmp_u32);
  for (guint k = 0; k < out->len; k++)
    if (n == 0 || g_array_index (out, guint32, k) !=
        g_array_index (out, guint32, n - 1))
      g_array_index (out, guint32, n++) = g_array_index (out, guint32, k);
  g_array_set_size (out, n);
  return TRUE;
}

gboolean
relay_local_addrs_has (GArray * addrs, guint32 addr)
{
  if ((addr >> 24) == 127)
    return TRUE;
  for (guint i = 0; addrs && i < addrs->len; i++)
    if (g_array_index (addrs, guint32, i) == addr)
      return TRUE;
  return FALSE;
}

gboolean
relay_local_addrs6_read (GArray * out)
{
  struct ifaddrs *ifs = NULL, *i;

  g_array_set_size (out, 0);
  if (getifaddrs (&ifs) != 0)
    return FALSE;
  for (i = ifs; i; i = i->ifa_next) {
    const struct in6_addr *a;

    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6)
      continue;
    a = &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr;
    if (!relay_local_addrs6_has (out, a))
      g_array_append_val (out, *a);
  }
  freeifaddrs (ifs);
  return TRUE;
}

gboolean
relay_local_addrs6_has (GArray * addrs, const void *addr)
{
  if (IN6_IS_ADDR_LOOPBACK ((const struct in6_addr *) addr))
    return TRUE;
  for (guint i = 0; addrs && i < addrs->len; i++)
    if (memcmp (&g_array_index (addrs, struct in6_addr, i), addr, 16) == 0)
      return TRUE;
  return FALSE;
}
