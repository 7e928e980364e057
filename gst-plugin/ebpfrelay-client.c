/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One subscriber of ebpfrelaysink: its entry parsed ("host:port[@limit]
 * [/rtcp]"), its host resolved, its address, limit and RTCP port checked,
 * a clients value parsed into a list (duplicates merged). No table state,
 * no lock: ebpfrelay-clients.h declares these with the table that uses
 * them.
 */
#include "ebpfrelay-clients.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <net/if.h>
#include <sys/socket.h>

/* --- one subscriber --------------------------------------------------------- */

static gchar *strip_brackets (const gchar * host);

RelayClient *
relay_client_new (const gchar * host, gint port,
    const RelayAddr * addr, guint8 limit)
{
  RelayClient *c = g_new0 (RelayClient, 1);

  c->host = strip_brackets (host);
  c->port = port;
  if (addr)
    c->addr = *addr;
  c->limit = limit;
  relay_client_set_rtcp (c, RELAY_CLIENT_RTCP_DEFAULT);
  c->add_count = 1;
  c->connect_time = (guint64) g_get_real_time () * 1000;
  c->ssrcs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return c;
}

void
relay_client_free (RelayClient * c)
{
  if (c->kf_free)
    c->kf_free (c->kf);
  relay_adapt_sub_free (c->adapt);
  g_free (c->host);
  g_hash_table_destroy (c->ssrcs);
  if (c->kf_sent)
    g_hash_table_destroy (c->kf_sent);
  g_free (c);
}

/* @host without the brackets of an IPv6 literal (a new string). */
static gchar *
strip_brackets (const gchar * host)
{
  gsize n = strlen (host);

  if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
    return g_strndup (host + 1, n - 2);
  return g_strdup (host);
}

static void
set_v4 (RelayAddr * addr, struct in_addr a, gint port)
{
  memset (addr, 0, sizeof (*addr));
  addr->v4.sin_family = AF_INET;
  addr->v4.sin_port = htons (port);
  addr->v4.sin_addr = a;
}

static void
set_v6 (RelayAddr * addr, const struct in6_addr *a, guint32 scope, gint port)
{
  memset (addr, 0, sizeof (*addr));
  if (IN6_IS_ADDR_V4MAPPED (a)) {
    struct in_addr a4;

    memcpy (&a4, &a->s6_addr[12], 4);
    set_v4 (addr, a4, port);
    return;
  }
  addr->v6.sin6_family = AF_INET6;
  addr->v6.sin6_port = htons (port);
  addr->v6.sin6_addr = *a;
  addr->v6.sin6_scope_id = scope;
}

gboolean
relay_client_resolve (const gchar * host, gint port, RelayAddr * addr,
    GError ** error)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC,.ai_socktype = SOCK_DGRAM };
  struct addrinfo *res = NULL, *i, *pick = NULL;
  struct in_addr a4;
  struct in6_addr a6;
  gboolean bracketed = host[0] == '[';
  gchar *h;

  if (port <= 0 || port > 65535) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "port %d of client '%s' is out of range (1-65535)", port, host);
    return FALSE;
  }
  h = strip_brackets (host);
  if (!bracketed && inet_pton (AF_INET, h, &a4) == 1) {
    set_v4 (addr, a4, port);
    g_free (h);
    return TRUE;
  }
  if (inet_pton (AF_INET6, h, &a6) == 1) {
    set_v6 (addr, &a6, 0, port);
    g_free (h);
    return TRUE;
  }
  if (bracketed || strchr (h, '%') || strchr (h, ':')) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client '%s' is not an IPv6 address (IPv6 literals go in brackets: "
        "[2001:db8::2]:6000; zone indexes are not supported)", host);
    g_free (h);
    return FALSE;
  }
  if (getaddrinfo (h, NULL, &hints, &res) != 0 || !res) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client host '%s' cannot be resolved to an IPv4 or IPv6 address", host);
    g_free (h);
    return FALSE;
  }
  g_free (h);
  /* A name with both: IPv4, the family streams mostly come in. */
  for (i = res; i && !pick; i = i->ai_next)
    if (i->ai_family == AF_INET)
      pick = i;
  for (i = res; i && !pick; i = i->ai_next)
    if (i->ai_family == AF_INET6)
      pick = i;
  if (pick && pick->ai_family == AF_INET)
    set_v4 (addr, ((struct sockaddr_in *) pick->ai_addr)->sin_addr, port);
  else if (pick)
    set_v6 (addr, &((struct sockaddr_in6 *) pick->ai_addr)->sin6_addr,
        ((struct sockaddr_in6 *) pick->ai_addr)->sin6_scope_id, port);
  freeaddrinfo (res);
  if (!pick)
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client host '%s' cannot be resolved to an IPv4 or IPv6 address", host);
  return pick != NULL;
}

/* Whether @a (network order) is a subnet broadcast address of this
 * network namespace: an address's prefix with all host bits set, for
 * prefixes up to /30, as the kernel's broadcast routes are (a /31 has
 * none, RFC 3021); or a broadcast address configured explicitly. (glibc's
 * ifa_broadaddr holds the interface's own address when none is set.) */
static gboolean
is_local_broadcast (in_addr_t a)
{
  struct ifaddrs *ifs = NULL, *i;
  gboolean found = FALSE;

  if (getifaddrs (&ifs) != 0)
    return FALSE;
  for (i = ifs; i && !found; i = i->ifa_next) {
    in_addr_t own, mask, brd;

    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask
        || !(i->ifa_flags & IFF_BROADCAST))
      continue;
    own = ((struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr;
    mask = ((struct sockaddr_in *) i->ifa_netmask)->sin_addr.s_addr;
    if (ntohl (mask) <= 0xfffffffcu && a == (own | ~mask))
      found = TRUE;
    if (i->ifa_broadaddr) {
      brd = ((struct sockaddr_in *) i->ifa_broadaddr)->sin_addr.s_addr;
      if (brd != own && brd != 0 && a == brd)
        found = TRUE;
    }
  }
  freeifaddrs (ifs);
  return found;
}

static gboolean
check_address6 (const gchar * host, const struct in6_addr *a, GError ** error)
{
  const gchar *what = NULL;

  if (IN6_IS_ADDR_UNSPECIFIED (a))
    what = "is unspecified (::): nobody receives there";
  else if (IN6_IS_ADDR_MULTICAST (a) && (a->s6_addr[1] & 0x0f) <= 2)
    what = "is an IPv6 group of interface-local or link-local scope "
        "(ff01::/16, ff02::/16: neighbour discovery, routing protocols, "
        "not media) or of the reserved scope 0";
  else if (IN6_IS_ADDR_MULTICAST (a) && (a->s6_addr[1] & 0x0f) == 0x0f)
    what = "is an IPv6 group of the reserved scope 15";
  if (!what)
    return TRUE;
  g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
      "client '%s' %s", host, what);
  return FALSE;
}

gboolean
relay_client_check_address (const gchar * host,
    const RelayAddr * addr, GError ** error)
{
  guint32 a = ntohl (addr->v4.sin_addr.s_addr);
  const gchar *what = NULL;

  if (addr->sa.sa_family == AF_INET6)
    return check_address6 (host, &addr->v6.sin6_addr, error);
  if ((a >> 24) == 0)
    what = "is unspecified (0.0.0.0/8): nobody receives there";
  else if (a == INADDR_BROADCAST
      || is_local_broadcast (addr->v4.sin_addr.s_addr))
    what = "is a broadcast address: a relay sends to one subscriber per "
        "address, never to a whole network";
  else if ((a >> 24) == 224 && ((a >> 8) & 0xffff) == 0)
    what = "is in 224.0.0.0/24, the local network control groups "
        "(routing protocols, not media)";
  else if ((a >> 28) == 0xf)
    what = "is a reserved address (240.0.0.0/4)";
  if (!what)
    return TRUE;
  g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
      "client '%s' %s", host, what);
  return FALSE;
}

gboolean
relay_client_check_limit (gint limit, GError ** error)
{
  if (limit >= 0 && limit <= PRIO_MAX)
    return TRUE;
  g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
      "priority limit %d is not in 0-%d", limit, PRIO_MAX);
  return FALSE;
}

gboolean
relay_client_check_rtcp (gint rtcp, GError ** error)
{
  if (rtcp >= RELAY_CLIENT_RTCP_DEFAULT && rtcp <= 65535)
    return TRUE;
  g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
      "RTCP port %d is not -1 (media port + 1), 0 (the media port: "
      "rtcp-mux) or 1-65535", rtcp);
  return FALSE;
}

void
relay_client_set_rtcp (RelayClient * c, gint rtcp)
{
  c->rtcp_given = rtcp;
  if (rtcp == RELAY_CLIENT_RTCP_DEFAULT)
    c->rtcp_port = c->port < 65535 ? c->port + 1 : 0;
  else if (rtcp == RELAY_CLIENT_RTCP_MUX)
    c->rtcp_port = c->port;
  else
    c->rtcp_port = rtcp;
}

/* The "/rtcp-port" or "/mux" of an entry (after the '/'). */
static gboolean
parse_rtcp (const gchar * entry, const gchar * s, gint * rtcp, GError ** error)
{
  gchar *end = NULL;
  gint64 v;

  if (g_strcmp0 (s, "mux") == 0) {
    *rtcp = RELAY_CLIENT_RTCP_MUX;
    return TRUE;
  }
  v = g_ascii_strtoll (s, &end, 10);
  if (!g_ascii_isdigit (s[0]) || *end != '\0' || v <= 0 || v > 65535) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client entry '%s': RTCP port '%s' is not a number in 1-65535 or "
        "'mux' (the form is host:port[@limit][/rtcp-port|/mux])", entry, s);
    return FALSE;
  }
  *rtcp = (gint) v;
  return TRUE;
}

RelayClient *
relay_client_parse (const gchar * entry, GError ** error)
{
  const gchar *slash = strchr (entry, '/');
  const gchar *at, *colon;
  gchar *head, *hostport, *host, *end = NULL;
  RelayAddr addr;
  gint64 p, limit = 0;
  gint rtcp = RELAY_CLIENT_RTCP_DEFAULT;
  gboolean adaptive = FALSE;
  RelayClient *c = NULL;

  if (slash && !parse_rtcp (entry, slash + 1, &rtcp, error))
    return NULL;
  head = slash ? g_strndup (entry, slash - entry) : g_strdup (entry);
  at = strrchr (head, '@');
  if (at && g_strcmp0 (at + 1, "auto") == 0) {
    adaptive = TRUE;
  } else if (at) {
    limit = g_ascii_strtoll (at + 1, &end, 10);
    if (at[1] == '\0' || !g_ascii_isdigit (at[1]) || *end != '\0'
        || limit < 0 || limit > PRIO_MAX) {
      g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
          "client entry '%s': priority limit '%s' is not a number in 0-%d "
          "or 'auto'", entry, at + 1, PRIO_MAX);
      g_free (head);
      return NULL;
    }
  }
  hostport = at ? g_strndup (head, at - head) : g_strdup (head);
  g_free (head);
  colon = strrchr (hostport, ':');
  if (!colon || colon == hostport || colon[1] == '\0') {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client entry '%s' is not host:port[@limit][/rtcp-port|/mux]", entry);
    goto out;
  }
  p = g_ascii_strtoll (colon + 1, &end, 10);
  if (*end != '\0' || p <= 0 || p > 65535) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client entry '%s': port '%s' is not a number in 1-65535", entry,
        colon + 1);
    goto out;
  }
  host = g_strndup (hostport, colon - hostport);
  if (host[0] != '[' && strchr (host, ':')) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "client entry '%s': an IPv6 address goes in brackets, "
        "[2001:db8::2]:6000", entry);
  } else if (relay_client_resolve (host, p, &addr, error)
      && relay_client_check_address (host, &addr, error)) {
    c = relay_client_new (host, p, &addr, limit);
    relay_client_set_rtcp (c, rtcp);
    if (adaptive) {
      c->adaptive = TRUE;
      c->adapt = relay_adapt_sub_new (NULL);
    }
  }
  g_free (host);
out:
  g_free (hostport);
  return c;
}

static gboolean
same_client (const RelayClient * a, const RelayAddr * addr)
{
  return relay_addr_equal (&a->addr, addr);
}

RelayClient *
relay_client_list_find (GPtrArray * list, const RelayAddr * addr)
{
  for (guint i = 0; i < list->len; i++) {
    RelayClient *c = g_ptr_array_index (list, i);

    if (same_client (c, addr))
      return c;
  }
  return NULL;
}

gboolean
relay_clients_parse (const gchar * str, GPtrArray ** out, GError ** error)
{
  return relay_clients_parse_full (str, out, NULL, error);
}

gboolean
relay_clients_parse_full (const gchar * str, GPtrArray ** out,
    gchar ** duplicates, GError ** error)
{
  GString *dups = NULL;
  gchar **entries;
  guint i;
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify)
      relay_client_free);

  entries = g_strsplit (str ? str : "", ",", -1);
  for (i = 0; entries[i]; i++) {
    RelayClient *c;
    gchar *entry = g_strstrip (entries[i]);

    if (*entry == '\0')
      continue;
    c = relay_client_parse (entry, error);
    if (!c) {
      g_strfreev (entries);
      g_ptr_array_free (list, TRUE);
      return FALSE;
    }
    if (relay_client_list_find (list, &c->addr)) {
      relay_client_list_find (list, &c->addr)->add_count++;
      if (!dups)
        dups = g_string_new (NULL);
      g_string_append_printf (dups, "%s'%s'", dups->len ? ", " : "", entry);
      relay_client_free (c);
      continue;
    }
    g_ptr_array_add (list, c);
  }
  g_strfreev (entries);
  *out = list;
  if (duplicates)
    *duplicates = dups ? g_string_free (dups, FALSE) : NULL;
  else if (dups)
    g_string_free (dups, TRUE);
  return TRUE;
}
