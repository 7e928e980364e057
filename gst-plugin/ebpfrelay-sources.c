/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-sources: see ebpfrelay-sources.h.
 */
#include "ebpfrelay-sources.h"

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
  guint32 latched_addr;
  guint16 latched_port;
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

static gboolean
parse_one (const gchar * entry, RelaySource * out, GError ** error)
{
  struct addrinfo hints = {.ai_family = AF_INET,.ai_socktype = SOCK_DGRAM };
  struct addrinfo *res = NULL;
  gchar *host = g_strdup (entry), *colon = strrchr (host, ':');
  struct in_addr a;
  gboolean ok = FALSE;

  out->port = 0;
  if (colon) {
    gchar *end = NULL;
    gint64 port;

    *colon = '\0';
    port = g_ascii_strtoll (colon + 1, &end, 10);
    if (!colon[1] || *end || port < 1 || port > 65535) {
      g_set_error (error, RELAY_SOURCES_ERROR, 0,
          "sources entry '%s': the port is not 1-65535", entry);
      goto done;
    }
    out->port = port;
  }
  if (!*host) {
    g_set_error (error, RELAY_SOURCES_ERROR, 0,
        "sources entry '%s' has no host", entry);
    goto done;
  }
  if (inet_pton (AF_INET, host, &a) == 1) {
    out->addr = ntohl (a.s_addr);
  } else if (strchr (host, ':') || getaddrinfo (host, NULL, &hints, &res)
      || !res) {
    g_set_error (error, RELAY_SOURCES_ERROR, 0,
        "sources entry '%s': host '%s' is not an IPv4 address or a name "
        "that resolves to one", entry, host);
    goto done;
  } else {
    out->addr = ntohl (((struct sockaddr_in *) res->ai_addr)->sin_addr.s_addr);
  }
  if (out->addr == 0) {
    g_set_error (error, RELAY_SOURCES_ERROR, 0,
        "sources entry '%s': 0.0.0.0 sends nothing (leave sources empty "
        "for any sender)", entry);
    goto done;
  }
  ok = TRUE;
done:
  if (res)
    freeaddrinfo (res);
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
listed (RelaySources * s, guint32 addr, guint16 port)
{
  for (guint i = 0; i < s->list->len; i++) {
    const RelaySource *e = &g_array_index (s->list, RelaySource, i);

    if (e->addr == addr && (e->port == 0 || e->port == port))
      return TRUE;
  }
  return FALSE;
}

RelaySourceVerdict
relay_sources_check (RelaySources * s, guint32 addr, guint16 port,
    gint64 now_us)
{
  if (s->list->len && !listed (s, addr, port)) {
    s->rejected++;
    return RELAY_SOURCE_NOT_LISTED;
  }
  if (!s->latch)
    return RELAY_SOURCE_ACCEPTED;
  if (!s->latched || s->latched_addr != addr || s->latched_port != port) {
    if (s->latched && (s->timeout_ms == 0
            || now_us - s->last_us <= (gint64) s->timeout_ms * 1000)) {
      s->rejected++;
      return RELAY_SOURCE_NOT_LATCHED;
    }
    s->latched = TRUE;
    s->latched_addr = addr;
    s->latched_port = port;
    s->switches++;
  }
  s->last_us = now_us;
  return RELAY_SOURCE_ACCEPTED;
}

gboolean
relay_sources_allows_host (RelaySources * s, guint32 addr)
{
  gboolean any = s->list->len == 0;

  for (guint i = 0; i < s->list->len && !any; i++)
    any = g_array_index (s->list, RelaySource, i).addr == addr;
  if (!any)
    return FALSE;
  return !s->latch || (s->latched && s->latched_addr == addr);
}

gboolean
relay_sources_latched (RelaySources * s, guint32 * addr, guint16 * port)
{
  if (!s->latched)
    return FALSE;
  *addr = s->latched_addr;
  *port = s->latched_port;
  return TRUE;
}

void
relay_sources_set_latched (RelaySources * s, guint32 addr, guint16 port,
    gint64 now_us)
{
  if (!addr) {
    s->latched = FALSE;
    return;
  }
  if (!s->latched || s->latched_addr != addr || s->latched_port != port)
    s->switches++;
  s->latched = TRUE;
  s->latched_addr = addr;
  s->latched_port = port;
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
