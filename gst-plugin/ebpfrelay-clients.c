/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subscriber table of ebpfrelaysink and its kernel slots: see
 * ebpfrelay-clients.h for what it owns and which lock protects it. One
 * subscriber's entry, host and checks: ebpfrelay-client.c.
 */
#include "ebpfrelay-clients.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>

G_DEFINE_QUARK (relay - clients - error - quark, relay_clients_error);

static void
G_GNUC_PRINTF (3, 4)
table_log (RelayClients * t, GLogLevelFlags level, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  if (!t->callbacks.log)
    return;
  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  t->callbacks.log (level, msg, t->user_data);
  g_free (msg);
}

/* --- the table -------------------------------------------------------------- */

RelayClients *
relay_clients_new (GMutex * lock, const RelayClientsCallbacks * callbacks,
    gpointer user_data)
{
  RelayClients *t = g_new0 (RelayClients, 1);

  t->lock = lock;
  if (callbacks)
    t->callbacks = *callbacks;
  t->user_data = user_data;
  t->clients = g_ptr_array_new ();
  t->removing = g_ptr_array_new ();
  t->send_duplicates = TRUE;
  t->stream_family = AF_UNSPEC;
  return t;
}

void
relay_clients_set_rtcp_listener (RelayClients * t, RelayClientsRtcpFunc func,
    gpointer user_data)
{
  t->rtcp_changed = func;
  t->rtcp_changed_data = user_data;
}

void
relay_clients_free (RelayClients * t)
{
  g_ptr_array_set_free_func (t->clients, (GDestroyNotify) relay_client_free);
  g_ptr_array_free (t->clients, TRUE);
  g_ptr_array_free (t->removing, TRUE);
  g_free (t->clients_error);
  g_free (t->clients_duplicates);
  g_free (t);
}

RelayClient *
relay_clients_find (RelayClients * t, const RelayAddr * addr)
{
  return relay_client_list_find (t->clients, addr);
}

RelayClient *
relay_clients_find_any (RelayClients * t, const RelayAddr * addr)
{
  RelayClient *c = relay_client_list_find (t->clients, addr);

  return c ? c : relay_client_list_find (t->removing, addr);
}

guint
relay_clients_copies (RelayClients * t, const RelayClient * c)
{
  return t->send_duplicates && c->add_count > 1 ? c->add_count : 1;
}

gboolean
relay_clients_kernel_may_serve (RelayClients * t, const RelayClient * c)
{
  return relay_clients_copies (t, c) == 1;
}

guint64
relay_clients_bytes_served (RelayClients * t)
{
  guint64 sum = t->served_gone, kp, kb, kd;

  for (guint i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);

    sum += c->user_bytes;
    if (t->running && t->kernel && c->slot_written) {
      kb = 0;
      relay_kernel_slot_counters (t->kernel, c->slot, &kp, &kb, &kd);
      sum += kb;
    }
  }
  return sum;
}

/* Whether @a is an address of this network namespace (or ::1). */
static gboolean
is_local6 (const struct in6_addr *a)
{
  struct ifaddrs *ifs = NULL, *i;
  gboolean found = IN6_IS_ADDR_LOOPBACK (a);

  if (found || getifaddrs (&ifs) != 0)
    return found;
  for (i = ifs; i && !found; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6
        && memcmp (&((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, a,
            16) == 0)
      found = TRUE;
  freeifaddrs (ifs);
  return found;
}

/* A subscriber at the relay's own listening address would receive the
 * relay's copies on the relay's own socket: a forwarding loop. */
static gboolean
check_not_loop (RelayClients * t, const RelayClient * c, GError ** error)
{
  if (c->port != t->port || !t->router)
    return TRUE;
  if (c->addr.sa.sa_family == AF_INET6 ? !is_local6 (&c->addr.v6.sin6_addr)
      : !relay_router_is_local (t->router, c->addr.v4.sin_addr))
    return TRUE;
  g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
      "client %s:%d is the relay's own listening address and port: it "
      "would be a forwarding loop", c->host, c->port);
  return FALSE;
}

/* --- kernel slots ----------------------------------------------------------- */

/* Whether the kernel sends @c a stream of @family (AF_UNSPEC: not known,
 * then whether its slot is KERNEL). */
static gboolean
kernel_serves (const RelayClient * c, gint family)
{
  return c->in_kernel && (family == AF_UNSPEC
      || family == c->addr.sa.sa_family);
}

gboolean
relay_clients_kernel_serves (RelayClients * t, const RelayClient * c)
{
  return kernel_serves (c, t->stream_family);
}

const gchar *
relay_clients_path (RelayClients * t, const RelayClient * c)
{
  return relay_clients_kernel_serves (t, c) ? "kernel" : "userspace";
}

void
relay_clients_set_stream_family (RelayClients * t, gint family)
{
  gint was = t->stream_family;

  if (family == was)
    return;
  t->stream_family = family;
  if (!t->running || !t->callbacks.changed)
    return;
  for (guint i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);

    if (kernel_serves (c, was) != kernel_serves (c, family))
      t->callbacks.changed (c, RELAY_CLIENT_CHANGE_PATH, t->user_data);
  }
}

static void
set_in_kernel (RelayClients * t, RelayClient * c, gboolean in_kernel)
{
  gboolean was = relay_clients_kernel_serves (t, c);

  c->in_kernel = in_kernel;
  if (was != relay_clients_kernel_serves (t, c) && t->running
      && t->callbacks.changed)
    t->callbacks.changed (c, RELAY_CLIENT_CHANGE_PATH, t->user_data);
}

static void
fill_sub (RelayClients * t, const RelayClient * c, const RelayRoute * r,
    guint8 state, struct relay_sub *sub)
{
  memset (sub, 0, sizeof (*sub));
  memcpy (sub->dmac, r->dmac, 6);
  memcpy (sub->smac, r->smac, 6);
  sub->ifindex = r->ifindex;
  /* An IPv6 subscriber's slot: the kernel sends it the IPv6 packets, the
   * event names it for an IPv4 one (no translation; userspace sends that
   * from its IPv6 socket) */
  if (c->addr.sa.sa_family == AF_INET6) {
    sub->family = RELAY_FAMILY_V6;
    memcpy (sub->saddr6, &r->src6, 16);
    memcpy (sub->daddr6, &c->addr.v6.sin6_addr, 16);
    sub->dport = c->addr.v6.sin6_port;
  } else {
    sub->family = RELAY_FAMILY_V4;
    sub->saddr = r->src.s_addr;
    sub->daddr = c->addr.v4.sin_addr.s_addr;
    sub->dport = c->addr.v4.sin_port;
  }
  sub->sport = htons (t->port);
  sub->limit = c->limit;
  sub->burst = c->kf_hold;
  sub->state = state;
}

/* Forgets @c's key-frame burst (ebpfrelay-kfburst). */
static void
client_drop_burst (RelayClient * c)
{
  c->kf_hold = FALSE;
  if (c->kf_free)
    c->kf_free (c->kf);
  c->kf = NULL;
  c->kf_free = NULL;
}

void
relay_clients_program (RelayClients * t, RelayClient * c, gint64 now)
{
  RelayRoute r;
  RelayRouteResult res;
  struct relay_sub sub;

  if (!t->kernel || !t->router)
    return;
  /* a group leaves by multicast-iface if set, as from a socket with
   * IP_MULTICAST_IF / IPV6_MULTICAST_IF */
  if (c->addr.sa.sa_family == AF_INET6)
    res = relay_router_resolve6 (t->router, &c->addr.v6.sin6_addr,
        c->addr.v6.sin6_scope_id, (int) t->group_ifindex, &r);
  else
    res = relay_router_resolve (t->router, c->addr.v4.sin_addr,
        (int) t->group_ifindex, &r);
  if (res != c->route)
    table_log (t, G_LOG_LEVEL_INFO, "client %s:%d: %s, served from %s",
        c->host, c->port, relay_route_result_str (res),
        res == RELAY_ROUTE_OK ? "the kernel" : "userspace");
  c->route = res;

  /* a key-frame burst pending: userspace serves it until the burst is
   * out (ebpfrelay-kfburst moves it then) */
  if (res == RELAY_ROUTE_OK && !c->kf_hold
      && relay_clients_kernel_may_serve (t, c)) {
    c->next_check = now + RELAY_CLIENTS_REVALIDATE_US;
    if (c->in_kernel && memcmp (&r, &c->resolved, sizeof (r)) == 0)
      return;
    fill_sub (t, c, &r, RELAY_SUB_KERNEL, &sub);
    /* From USERSPACE to KERNEL: the copies the kernel already left to
     * userspace go out before the kernel's own (the next packet's, less
     * than one packet interval after the slot is written), or the first
     * kernel copy could overtake the last userspace one: send what is in
     * the event ring now, and once more right after the write, for an
     * event the kernel made in between. */
    if (!c->in_kernel)
      relay_kernel_poll (t->kernel);
    if (relay_kernel_set_slot (t->kernel, c->slot, &sub)) {
      gboolean moved = !c->in_kernel;

      c->slot_written = TRUE;
      c->resolved = r;
      set_in_kernel (t, c, TRUE);
      if (moved)
        relay_kernel_poll (t->kernel);
      return;
    }
    table_log (t, G_LOG_LEVEL_WARNING, "cannot write slot %u: %s", c->slot,
        g_strerror (errno));
  }

  c->next_check = now + (res == RELAY_ROUTE_NO_NEIGH ?
      RELAY_CLIENTS_RETRY_NEIGH_US : RELAY_CLIENTS_RETRY_OTHER_US);
  if (!c->in_kernel && c->slot_written)
    return;                     /* with userspace already */
  memset (&c->resolved, 0, sizeof (c->resolved));
  fill_sub (t, c, &c->resolved, RELAY_SUB_USERSPACE, &sub);
  if (relay_kernel_set_slot (t->kernel, c->slot, &sub))
    c->slot_written = TRUE;
  set_in_kernel (t, c, FALSE);
}

void
relay_clients_set_group_ifindex (RelayClients * t, guint ifindex)
{
  if (t->group_ifindex == ifindex)
    return;
  t->group_ifindex = ifindex;
  if (!t->running || !t->kernel)
    return;
  for (guint i = 0; i < t->n_slots; i++)
    if (t->slots[i] && relay_addr_is_group (&t->slots[i]->addr))
      relay_clients_program (t, t->slots[i], g_get_monotonic_time ());
}

void
relay_clients_check (RelayClients * t, gint64 now)
{
  guint i, budget = RELAY_CLIENTS_REVALIDATE_PER_CALL;

  for (i = 0; i < t->n_slots && budget > 0; i++) {
    guint s = (t->revalidate_next + i) % t->n_slots;
    RelayClient *c = t->slots[s];

    if (c && now >= c->next_check) {
      relay_clients_program (t, c, now);
      budget--;
    }
  }
  if (t->n_slots)
    t->revalidate_next = (t->revalidate_next + i) % t->n_slots;
}

static void
update_n_slots (RelayClients * t)
{
  guint n = t->n_slots;

  while (n > 0 && t->slots[n - 1] == NULL)
    n--;
  if (n != t->n_slots || t->kernel) {
    t->n_slots = n;
    if (t->kernel)
      relay_kernel_set_n_slots (t->kernel, n);
  }
}

/* Gives @c the lowest free slot and, in kernel mode, programs it. */
static gboolean
activate_client (RelayClients * t, RelayClient * c, GError ** error)
{
  guint i;

  for (i = 0; i < RELAY_MAX_SUBS && t->slots[i]; i++);
  if (i == RELAY_MAX_SUBS) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_NO_SPACE,
        "cannot add client %s:%d: already %d clients", c->host, c->port,
        RELAY_MAX_SUBS);
    return FALSE;
  }
  c->slot = i;
  c->in_kernel = c->slot_written = FALSE;
  c->route = RELAY_ROUTE_ERROR;
  c->user_packets = c->user_bytes = c->user_errors = 0;
  c->user_prio_dropped = c->user_held = 0;
  c->gone_kernel_packets = c->gone_kernel_bytes = 0;
  g_hash_table_remove_all (c->ssrcs);
  client_drop_burst (c);
  c->kf_burst_packets = c->kf_burst_bytes = 0;
  if (c->kf_sent)
    g_hash_table_remove_all (c->kf_sent);
  c->kf_hold = t->kf_joins;
  t->slots[i] = c;
  if (i >= t->n_slots)
    t->n_slots = i + 1;
  if (t->kernel) {
    relay_clients_program (t, c, g_get_monotonic_time ());
    relay_kernel_set_n_slots (t->kernel, t->n_slots);
  }
  return TRUE;
}

static void
deactivate_client (RelayClients * t, RelayClient * c)
{
  guint64 kd;

  if (t->kernel) {
    /* Send what the kernel already left to userspace for this client
     * before its slot goes; its counts stay readable (get-stats in the
     * client-removed handler, bytes-served). */
    relay_kernel_poll (t->kernel);
    c->gone_kernel_packets = c->gone_kernel_bytes = 0;
    relay_kernel_slot_counters (t->kernel, c->slot, &c->gone_kernel_packets,
        &c->gone_kernel_bytes, &kd);
    relay_kernel_clear_slot (t->kernel, c->slot);
  }
  t->served_gone += c->user_bytes + c->gone_kernel_bytes;
  client_drop_burst (c);
  t->slots[c->slot] = NULL;
  update_n_slots (t);
}

void
relay_clients_set_limit (RelayClients * t, RelayClient * c, guint8 limit)
{
  gboolean lowered = limit < c->limit;

  if (c->limit == limit)
    return;
  table_log (t, G_LOG_LEVEL_DEBUG, "client %s:%d: priority limit %u -> %u",
      c->host, c->port, c->limit, limit);
  c->limit = limit;
  if (t->running && t->kernel
      && !relay_kernel_set_limit (t->kernel, c->slot, limit))
    table_log (t, G_LOG_LEVEL_WARNING, "cannot write the limit of slot %u: "
        "%s", c->slot, g_strerror (errno));
  if (t->running && t->callbacks.changed)
    t->callbacks.changed (c, RELAY_CLIENT_CHANGE_LIMIT, t->user_data);
  /* it gets more now: its owner asks the sender for a key frame */
  if (lowered && t->callbacks.limit_lowered)
    t->callbacks.limit_lowered (c, t->user_data);
}

void
relay_clients_set_adaptive (RelayClients * t, RelayClient * c,
    gboolean adaptive)
{
  if (!c->adaptive == !adaptive)
    return;
  table_log (t, G_LOG_LEVEL_DEBUG, "client %s:%d: priority limit %s",
      c->host, c->port, adaptive ? "automatic" : "fixed");
  c->adaptive = adaptive;
  if (adaptive) {
    c->adapt = relay_adapt_sub_new (NULL);
    relay_adapt_reset (c->adapt, g_get_monotonic_time ());
  } else {
    g_clear_pointer (&c->adapt, relay_adapt_sub_free);
  }
}

void
relay_clients_set_rtcp (RelayClients * t, RelayClient * c, gint rtcp)
{
  gint old = c->rtcp_port;

  relay_client_set_rtcp (c, rtcp);
  if (c->rtcp_port == old)
    return;
  table_log (t, G_LOG_LEVEL_DEBUG, "client %s:%d: RTCP port %d -> %d",
      c->host, c->port, old, c->rtcp_port);
  if (t->rtcp_changed)
    t->rtcp_changed (c, t->rtcp_changed_data);
}

/* --- starting and stopping -------------------------------------------------- */

gboolean
relay_clients_prepare (RelayClients * t, guint16 port, RelayRouter * router,
    GError ** error)
{
  t->port = port;
  t->router = router;
  if (t->clients_error) {
    g_set_error_literal (error, RELAY_CLIENTS_ERROR,
        RELAY_CLIENTS_ERROR_SETTINGS, t->clients_error);
    return FALSE;
  }
  for (guint i = 0; i < t->clients->len; i++)
    if (!check_not_loop (t, g_ptr_array_index (t->clients, i), error))
      return FALSE;
  return TRUE;
}

gboolean
relay_clients_start (RelayClients * t, RelayKernel * kernel, GError ** error)
{
  t->kernel = kernel;
  t->running = TRUE;
  t->n_slots = 0;
  t->served_gone = 0;
  for (guint i = 0; i < t->clients->len; i++)
    if (!activate_client (t, g_ptr_array_index (t->clients, i), error))
      return FALSE;
  return TRUE;
}

void
relay_clients_stop (RelayClients * t)
{
  t->running = FALSE;
  t->kernel = NULL;
  t->router = NULL;
  memset (t->slots, 0, sizeof (t->slots));
  t->n_slots = 0;
}

/* --- adding and removing ---------------------------------------------------- */

RelayClient *
relay_clients_add (RelayClients * t, const gchar * host, gint port,
    const RelayAddr * addr, guint8 limit, gint rtcp,
    gboolean set_limit, GError ** error)
{
  RelayClient *c = relay_clients_find (t, addr);

  if (c) {
    c->add_count++;
    if (set_limit) {
      relay_clients_set_limit (t, c, limit);
      relay_clients_set_rtcp (t, c, rtcp);
    }
    /* its copies may now be userspace's (send-duplicates) */
    if (t->running && t->kernel)
      relay_clients_program (t, c, g_get_monotonic_time ());
    return NULL;
  }
  c = relay_client_new (host, port, addr, limit);
  relay_client_set_rtcp (c, rtcp);
  if (t->running && (!check_not_loop (t, c, error)
          || !activate_client (t, c, error))) {
    relay_client_free (c);
    return NULL;
  }
  g_ptr_array_add (t->clients, c);
  return c;
}

static void
remove_client (RelayClients * t, RelayClient * c)
{
  c->disconnect_time = (guint64) g_get_real_time () * 1000;
  if (t->running)
    deactivate_client (t, c);
  g_ptr_array_remove (t->clients, c);
}

gboolean
relay_clients_remove (RelayClients * t, const RelayAddr * addr,
    RelayClient ** removed)
{
  RelayClient *c = relay_clients_find (t, addr);

  *removed = NULL;
  if (!c)
    return FALSE;
  if (--c->add_count == 0) {
    remove_client (t, c);
    *removed = c;
  } else if (t->running && t->kernel) {
    relay_clients_program (t, c, g_get_monotonic_time ());
  }
  return TRUE;
}

GPtrArray *
relay_clients_clear (RelayClients * t)
{
  GPtrArray *gone = g_ptr_array_copy (t->clients, NULL, NULL);

  g_ptr_array_set_free_func (gone, (GDestroyNotify) relay_client_free);
  for (guint i = 0; i < gone->len; i++) {
    RelayClient *c = g_ptr_array_index (gone, i);

    remove_client (t, c);
  }
  return gone;
}

void
relay_clients_set (RelayClients * t, GPtrArray * wanted, GPtrArray * gone,
    GPtrArray * added, GPtrArray * errors)
{
  guint first_gone = gone->len, i;

  for (i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);

    if (!relay_client_list_find (wanted, &c->addr))
      g_ptr_array_add (gone, c);
  }
  for (i = first_gone; i < gone->len; i++) {
    RelayClient *c = g_ptr_array_index (gone, i);

    remove_client (t, c);
  }
  for (i = 0; i < wanted->len; i++) {
    RelayClient *w = g_ptr_array_index (wanted, i);
    RelayClient *c = relay_clients_find (t, &w->addr);
    GError *err = NULL;

    if (c) {
      /* @auto adapts from the limit it has */
      if (!w->adaptive)
        relay_clients_set_limit (t, c, w->limit);
      relay_clients_set_adaptive (t, c, w->adaptive);
      relay_clients_set_rtcp (t, c, w->rtcp_given);
      /* counted as often as the value names it (multiudpsink clears
       * and adds each entry) */
      if (c->add_count != w->add_count) {
        c->add_count = w->add_count;
        if (t->running && t->kernel)
          relay_clients_program (t, c, g_get_monotonic_time ());
      }
      continue;
    }
    c = relay_clients_add (t, w->host, w->port, &w->addr, w->limit,
        w->rtcp_given, TRUE, &err);
    if (c) {
      relay_clients_set_adaptive (t, c, w->adaptive);
      if (w->add_count > 1) {
        c->add_count = w->add_count;
        if (t->running && t->kernel)
          relay_clients_program (t, c, g_get_monotonic_time ());
      }
      g_ptr_array_add (added, c);
    }
    if (err)
      g_ptr_array_add (errors, err);
  }
}

gchar *
relay_clients_to_string (RelayClients * t)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);
    gboolean v6 = strchr (c->host, ':') != NULL;

    for (guint n = 0; n < MAX (c->add_count, 1); n++) {
      g_string_append_printf (s, "%s%s%s%s:%d", s->len ? "," : "",
          v6 ? "[" : "", c->host, v6 ? "]" : "", c->port);
      if (c->adaptive)
        g_string_append (s, "@auto");
      else if (c->limit)
        g_string_append_printf (s, "@%u", c->limit);
      if (c->rtcp_given == RELAY_CLIENT_RTCP_MUX || (c->rtcp_given > 0
              && c->rtcp_given == c->port))
        g_string_append (s, "/mux");
      else if (c->rtcp_given > 0 && c->rtcp_given != c->port + 1)
        g_string_append_printf (s, "/%d", c->rtcp_given);
    }
  }
  return g_string_free (s, FALSE);
}

/* --- takes the lock --------------------------------------------------------- */

static void
emit (RelayClients * t, void (*func) (RelayClient *, gpointer), RelayClient * c)
{
  if (func)
    func (c, t->user_data);
}

static void
emit_signal (RelayClients * t, const gchar * host, gint port, gboolean added)
{
  if (t->callbacks.signal)
    t->callbacks.signal (host, port, added, t->user_data);
}

gboolean
relay_clients_add_host (RelayClients * t, const gchar * host, gint port,
    gint limit, gboolean set_limit, GError ** error)
{
  return relay_clients_add_host_full (t, host, port, limit,
      RELAY_CLIENT_RTCP_DEFAULT, set_limit, error);
}

gboolean
relay_clients_add_host_full (RelayClients * t, const gchar * host, gint port,
    gint limit, gint rtcp, gboolean set_limit, GError ** error)
{
  RelayAddr addr;
  GError *err = NULL;
  RelayClient *c;

  if (!host) {
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS,
        "no host");
    return FALSE;
  }
  if (!relay_client_check_limit (limit, error)
      || !relay_client_check_rtcp (rtcp, error)
      || !relay_client_resolve (host, port, &addr, error)
      || !relay_client_check_address (host, &addr, error))
    return FALSE;
  g_mutex_lock (t->lock);
  c = relay_clients_add (t, host, port, &addr, limit, rtcp, set_limit, &err);
  if (c)
    table_log (t, G_LOG_LEVEL_DEBUG, "added %s:%d@%d, RTCP to port %d", host,
        port, limit, c->rtcp_port);
  g_mutex_unlock (t->lock);
  if (err) {
    g_propagate_error (error, err);
    return FALSE;
  }
  if (c)
    emit (t, t->callbacks.added, c);
  /* multiudpsink's client-added: on every add, also of one counted again */
  emit_signal (t, host, port, TRUE);
  return TRUE;
}

gboolean
relay_clients_set_limit_host (RelayClients * t, const gchar * host, gint port,
    gint limit, GError ** error)
{
  RelayAddr addr;
  RelayClient *c = NULL;

  if (!relay_client_check_limit (limit, error))
    return FALSE;
  if (host && relay_client_resolve (host, port, &addr, NULL)) {
    g_mutex_lock (t->lock);
    c = relay_clients_find (t, &addr);
    if (c)
      relay_clients_set_limit (t, c, limit);
    /* an adaptive one goes on from there */
    if (c && c->adapt)
      relay_adapt_reset (c->adapt, g_get_monotonic_time ());
    g_mutex_unlock (t->lock);
  }
  if (!c)
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_NOT_FOUND,
        "no client %s:%d", host ? host : "(NULL)", port);
  return c != NULL;
}

gboolean
relay_clients_set_adaptive_host (RelayClients * t, const gchar * host,
    gint port, gboolean adaptive, GError ** error)
{
  RelayAddr addr;
  RelayClient *c = NULL;

  if (host && relay_client_resolve (host, port, &addr, NULL)) {
    g_mutex_lock (t->lock);
    c = relay_clients_find (t, &addr);
    if (c)
      relay_clients_set_adaptive (t, c, adaptive);
    g_mutex_unlock (t->lock);
  }
  if (!c)
    g_set_error (error, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_NOT_FOUND,
        "no client %s:%d", host ? host : "(NULL)", port);
  return c != NULL;
}

gboolean
relay_clients_remove_host (RelayClients * t, const gchar * host, gint port)
{
  RelayAddr addr;
  RelayClient *c = NULL;
  gboolean found = FALSE;

  if (host && relay_client_resolve (host, port, &addr, NULL)) {
    g_mutex_lock (t->lock);
    found = relay_clients_remove (t, &addr, &c);
    if (c)
      g_ptr_array_add (t->removing, c);
    g_mutex_unlock (t->lock);
  }
  if (c) {
    emit (t, t->callbacks.removed, c);
    /* multiudpsink's client-removed: when the last add is undone; its
     * get-stats still answers meanwhile */
    emit_signal (t, host, port, FALSE);
    g_mutex_lock (t->lock);
    g_ptr_array_remove (t->removing, c);
    g_mutex_unlock (t->lock);
    relay_client_free (c);
  }
  return found;
}

void
relay_clients_remove_all (RelayClients * t)
{
  GPtrArray *gone;

  g_mutex_lock (t->lock);
  gone = relay_clients_clear (t);
  g_mutex_unlock (t->lock);
  for (guint i = 0; i < gone->len; i++)
    emit (t, t->callbacks.removed, g_ptr_array_index (gone, i));
  g_ptr_array_free (gone, TRUE);
}

gboolean
relay_clients_set_string (RelayClients * t, const gchar * str, GError ** error)
{
  gchar *duplicates = NULL;
  GPtrArray *wanted = NULL, *gone, *added, *errors;
  GError *err = NULL;
  guint i;

  if (!relay_clients_parse_full (str, &wanted, &duplicates, &err)) {
    g_mutex_lock (t->lock);
    g_free (t->clients_error);
    t->clients_error = g_strdup (err->message);
    g_mutex_unlock (t->lock);
    g_propagate_error (error, err);
    return FALSE;
  }

  gone = g_ptr_array_new_with_free_func ((GDestroyNotify) relay_client_free);
  added = g_ptr_array_new ();
  errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_mutex_lock (t->lock);
  g_clear_pointer (&t->clients_error, g_free);
  g_free (t->clients_duplicates);
  t->clients_duplicates = duplicates;
  relay_clients_set (t, wanted, gone, added, errors);
  for (i = 0; i < errors->len && t->callbacks.refused; i++)
    t->callbacks.refused (g_ptr_array_index (errors, i), str, t->user_data);
  g_mutex_unlock (t->lock);

  for (i = 0; i < gone->len; i++)
    emit (t, t->callbacks.removed, g_ptr_array_index (gone, i));
  for (i = 0; i < added->len; i++)
    emit (t, t->callbacks.added, g_ptr_array_index (added, i));
  /* multiudpsink's clients: cleared without a signal, then each entry
   * added (client-added for each, duplicates too); the entries refused
   * are not */
  if (t->callbacks.signal) {
    /* in the value's order, one per entry (already parsed once: valid) */
    gchar **entries = g_strsplit (str ? str : "", ",", -1);
    GPtrArray *names = g_ptr_array_new_with_free_func ((GDestroyNotify)
        relay_client_free);

    for (i = 0; entries[i]; i++) {
      gchar *entry = g_strstrip (entries[i]);
      RelayClient *e = *entry ? relay_client_parse (entry, NULL) : NULL;

      if (e)
        g_ptr_array_add (names, e);
    }
    g_strfreev (entries);
    g_mutex_lock (t->lock);
    for (i = 0; i < names->len;) {
      RelayClient *e = g_ptr_array_index (names, i);

      if (relay_clients_find (t, &e->addr))
        i++;
      else
        g_ptr_array_remove_index (names, i);
    }
    g_mutex_unlock (t->lock);
    for (i = 0; i < names->len; i++) {
      RelayClient *e = g_ptr_array_index (names, i);

      emit_signal (t, e->host, e->port, TRUE);
    }
    g_ptr_array_free (names, TRUE);
  }
  g_ptr_array_free (gone, TRUE);
  g_ptr_array_free (added, TRUE);
  g_ptr_array_free (errors, TRUE);
  g_ptr_array_free (wanted, TRUE);
  return TRUE;
}

/* The subscription channel's callbacks, from its thread. */
static gboolean
on_control_add (const gchar * addr, guint16 port, guint limit, gpointer data)
{
  RelayClients *t = data;
  GError *err = NULL;

  if (relay_clients_add_host (t, addr, port, limit, TRUE, &err))
    return TRUE;
  table_log (t, G_LOG_LEVEL_WARNING, "subscription of %s:%u refused: %s",
      addr, port, err->message);
  g_error_free (err);
  return FALSE;
}

static gboolean
on_control_add_rtcp (const gchar * addr, guint16 port, guint limit, gint rtcp,
    gpointer data)
{
  RelayClients *t = data;
  GError *err = NULL;

  /* (the SUBSCRIBE names a port or none: -1, the default) */
  if (relay_clients_add_host_full (t, addr, port, limit, rtcp, TRUE, &err))
    return TRUE;
  table_log (t, G_LOG_LEVEL_WARNING, "subscription of %s:%u refused: %s",
      addr, port, err->message);
  g_error_free (err);
  return FALSE;
}

static gboolean
on_control_set_rtcp (const gchar * addr, guint16 port, gint rtcp, gpointer data)
{
  RelayClients *t = data;
  RelayAddr sa;
  RelayClient *c = NULL;

  if (!relay_client_check_rtcp (rtcp, NULL)
      || !relay_client_resolve (addr, port, &sa, NULL))
    return FALSE;
  g_mutex_lock (t->lock);
  c = relay_clients_find (t, &sa);
  if (c)
    relay_clients_set_rtcp (t, c, rtcp);
  g_mutex_unlock (t->lock);
  return c != NULL;
}

static gboolean
on_control_set_limit (const gchar * addr, guint16 port, guint limit,
    gpointer data)
{
  return relay_clients_set_limit_host (data, addr, port, limit, NULL);
}

static void
on_control_remove (const gchar * addr, guint16 port, gpointer data)
{
  RelayClients *t = data;

  if (!relay_clients_remove_host (t, addr, port))
    table_log (t, G_LOG_LEVEL_WARNING, "remove: no client %s:%d", addr, port);
}

static gboolean
on_control_set_auto (const gchar * addr, guint16 port, gboolean auto_limit,
    gpointer data)
{
  return relay_clients_set_adaptive_host (data, addr, port, auto_limit, NULL);
}

void
relay_clients_set_send_duplicates (RelayClients * t, gboolean dups)
{
  gint64 now = g_get_monotonic_time ();

  if (!t->send_duplicates == !dups)
    return;
  t->send_duplicates = dups;
  if (!t->running || !t->kernel)
    return;
  for (guint i = 0; i < t->n_slots; i++)
    if (t->slots[i] && t->slots[i]->add_count > 1)
      relay_clients_program (t, t->slots[i], now);
}

const RelayControlServerCallbacks relay_clients_control_callbacks = {
  on_control_add, on_control_set_limit, on_control_remove,
  on_control_add_rtcp, on_control_set_rtcp, on_control_set_auto
};
