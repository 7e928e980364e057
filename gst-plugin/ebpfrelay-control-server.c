/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subscription channel's server, in the relay (ebpfrelaysink): its
 * socket(s) and thread, the cookie handshake, the subscribers and their
 * expiry. See ebpfrelay-control-server.h.
 */
#include "ebpfrelay-control-server.h"
#include "ebpfrelay-control-private.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>

/* --- server ------------------------------------------------------------------ */

typedef struct
{
  RelayAddr addr;
  gchar host[INET6_ADDRSTRLEN];
  guint16 port;
  guint limit;
  gint rtcp_port;               /* -1: not named */
  gboolean auto_limit;
  gint64 last_seen;
} Subscriber;

struct _RelayControlServer
{
  GSocket *socket;
  GSocket *socket6;             /* IPv6 beside an IPv4 socket; or NULL */
  guint16 port;
  RelayControlServerCallbacks cb;
  gpointer user_data;
  guint8 secret[SECRET_LEN];
  guint32 ssrc;

  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GSource *sweep;               /* server thread only */

  GMutex lock;                  /* everything below */
  guint8 token[RELAY_CONTROL_MAX_TOKEN];
  gsize token_len;
  gboolean has_token;
  guint max_clients;
  guint timeout_ms;
  RelayControlClockFunc clock;
  gpointer clock_data;
  GHashTable *subs;             /* key: RelayAddr; changed by the thread */
  RelayControlOtherFunc other;  /* datagrams not of the channel */
  gpointer other_data;
  RelayControlServerStats stats;
};

/* The socket that answers @to: of its family. */
static GSocket *
server_socket_for (RelayControlServer * s, const RelayAddr * to)
{
  if (s->socket6 && relay_addr_is_v6 (to))
    return s->socket6;
  return s->socket;
}

/* With the lock held. */
static gint64
server_now (RelayControlServer * s)
{
  return s->clock ? s->clock (s->clock_data) : g_get_monotonic_time ();
}

static gboolean
cookie_valid (RelayControlServer * s, const RelayAddr * from,
    const guint8 * cookie, gint64 bucket)
{
  guint8 want[RELAY_CONTROL_COOKIE_LEN];
  gboolean ok = FALSE;
  gint64 b;

  /* Both buckets are always computed: no early exit on a match. */
  for (b = bucket - 1; b <= bucket; b++) {
    relay_control_cookie_addr (s->secret, SECRET_LEN, from, b, want);
    ok |= relay_control_equal (want, cookie, RELAY_CONTROL_COOKIE_LEN);
  }
  return ok;
}

static void
server_reply (RelayControlServer * s, const RelayAddr * to,
    RelayControlMessage * reply, gint64 bucket)
{
  reply->ssrc = s->ssrc;
  relay_control_cookie_addr (s->secret, SECRET_LEN, to, bucket, reply->cookie);
  relay_control_send_msg (server_socket_for (s, to), to, reply);
}

/* The refresh interval a subscriber is told: often enough not to expire,
 * and to come back before its cookie is out of the window. */
static guint32
refresh_ms (RelayControlServer * s)
{
  guint32 r = MIN (s->timeout_ms / 3, RELAY_CONTROL_BUCKET_MS * 3 / 4);

  return MAX (r, 10);
}

static void
server_subscribe (RelayControlServer * s, const RelayControlMessage * msg,
    const RelayAddr * from)
{
  RelayControlMessage reply = {.type = RELAY_CONTROL_ACK };
  const RelayAddr *key = from;
  Subscriber *sub;
  gint64 now, bucket;
  gboolean ok;

  g_mutex_lock (&s->lock);
  now = server_now (s);
  bucket = now / BUCKET_US;
  if (!msg->has_cookie || !cookie_valid (s, from, msg->cookie, bucket)) {
    /* No cookie, or not this address's, or too old: prove the address
     * first. The answer is no larger than the question. */
    if (msg->has_cookie)
      s->stats.refused_cookie++;
    s->stats.challenges++;
    reply.type = RELAY_CONTROL_CHALLENGE;
    server_reply (s, from, &reply, bucket);
    g_mutex_unlock (&s->lock);
    return;
  }

  reply.refresh_ms = refresh_ms (s);
  if (s->has_token && (msg->token_len != s->token_len
          || !relay_control_equal (msg->token, s->token, s->token_len))) {
    s->stats.refused_token++;
    reply.reason = RELAY_CONTROL_REASON_TOKEN;
    goto refuse;
  }

  sub = g_hash_table_lookup (s->subs, key);
  if (sub) {
    guint old = sub->limit;
    gint rtcp = msg->has_rtcp_port ? msg->rtcp_port : -1;

    sub->last_seen = now;
    s->stats.refreshed++;
    if (rtcp != sub->rtcp_port && s->cb.set_rtcp) {
      g_mutex_unlock (&s->lock);
      ok = s->cb.set_rtcp (sub->host, sub->port, rtcp, s->user_data);
      g_mutex_lock (&s->lock);
      if (ok)
        sub->rtcp_port = rtcp;
    }
    if (!msg->auto_limit != !sub->auto_limit && s->cb.set_auto) {
      g_mutex_unlock (&s->lock);
      ok = s->cb.set_auto (sub->host, sub->port, msg->auto_limit, s->user_data);
      g_mutex_lock (&s->lock);
      if (ok)
        sub->auto_limit = msg->auto_limit;
    }
    if (msg->limit != old) {
      g_mutex_unlock (&s->lock);
      ok = !s->cb.set_limit || s->cb.set_limit (sub->host, sub->port,
          msg->limit, s->user_data);
      g_mutex_lock (&s->lock);
      if (ok)
        sub->limit = msg->limit;
    }
    reply.accepted = TRUE;
    reply.limit = sub->limit;
    server_reply (s, from, &reply, bucket);
    g_mutex_unlock (&s->lock);
    return;
  }

  if (s->max_clients && g_hash_table_size (s->subs) >= s->max_clients) {
    s->stats.refused_full++;
    reply.reason = RELAY_CONTROL_REASON_FULL;
    goto refuse;
  }
  sub = g_new0 (Subscriber, 1);
  sub->addr = *from;
  sub->port = relay_addr_port (from);
  sub->limit = msg->limit;
  sub->rtcp_port = msg->has_rtcp_port ? msg->rtcp_port : -1;
  sub->last_seen = now;
  relay_addr_host_string (from, sub->host, sizeof (sub->host));
  g_mutex_unlock (&s->lock);
  /* Only this thread adds: nobody takes the place meanwhile. */
  if (s->cb.add_rtcp)
    ok = s->cb.add_rtcp (sub->host, sub->port, sub->limit, sub->rtcp_port,
        s->user_data);
  else
    ok = !s->cb.add
        || s->cb.add (sub->host, sub->port, sub->limit, s->user_data);
  if (ok && msg->auto_limit && s->cb.set_auto)
    sub->auto_limit = s->cb.set_auto (sub->host, sub->port, TRUE, s->user_data);
  g_mutex_lock (&s->lock);
  if (!ok) {
    g_free (sub);
    s->stats.refused_relay++;
    reply.reason = RELAY_CONTROL_REASON_REFUSED;
    goto refuse;
  }
  g_hash_table_insert (s->subs, g_memdup2 (key, sizeof (*key)), sub);
  s->stats.accepted++;
  reply.accepted = TRUE;
  reply.limit = sub->limit;
  server_reply (s, from, &reply, bucket);
  g_mutex_unlock (&s->lock);
  return;

refuse:
  reply.accepted = FALSE;
  reply.limit = msg->limit;
  server_reply (s, from, &reply, bucket);
  g_mutex_unlock (&s->lock);
}

static void
server_unsubscribe (RelayControlServer * s, const RelayControlMessage * msg,
    const RelayAddr * from)
{
  gpointer stolen_key = NULL;
  Subscriber *sub = NULL;

  g_mutex_lock (&s->lock);
  if (!cookie_valid (s, from, msg->cookie, server_now (s) / BUCKET_US)) {
    s->stats.refused_cookie++;
    g_mutex_unlock (&s->lock);
    return;
  }
  if (g_hash_table_steal_extended (s->subs, from, &stolen_key,
          (gpointer *) & sub))
    s->stats.unsubscribed++;
  g_mutex_unlock (&s->lock);
  g_free (stolen_key);
  if (sub) {
    if (s->cb.remove)
      s->cb.remove (sub->host, sub->port, s->user_data);
    g_free (sub);
  }
}

static void
server_packet (RelayControlServer * s, const guint8 * data, gsize len,
    const RelayAddr * from)
{
  RelayControlMessage msg;

  if (!relay_control_decode (data, len, &msg)) {
    g_mutex_lock (&s->lock);
    s->stats.malformed++;
    g_mutex_unlock (&s->lock);
    return;
  }
  switch (msg.type) {
    case RELAY_CONTROL_SUBSCRIBE:
      server_subscribe (s, &msg, from);
      break;
    case RELAY_CONTROL_UNSUBSCRIBE:
      server_unsubscribe (s, &msg, from);
      break;
    default:                   /* a server's message sent to the server */
      g_mutex_lock (&s->lock);
      s->stats.malformed++;
      g_mutex_unlock (&s->lock);
      break;
  }
}

static gboolean
server_readable (GSocket * socket, GIOCondition cond, gpointer user_data)
{
  RelayControlServer *s = user_data;
  /* larger than any valid message, to see oversized ones as such; and
   * room for other RTCP when the port is shared (set_other) */
  guint8 buf[2048];
  RelayControlOtherFunc other;
  gpointer other_data;
  struct sockaddr_storage native;
  RelayAddr from;
  gboolean has_from;
  socklen_t flen;
  ssize_t n;
  int fd = g_socket_get_fd (socket);

  for (;;) {
    flen = sizeof (native);
    n = recvfrom (fd, buf, sizeof (buf), MSG_DONTWAIT | MSG_TRUNC,
        (struct sockaddr *) &native, &flen);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;                    /* EAGAIN, or an ICMP error: read on later */
    }
    g_mutex_lock (&s->lock);
    other = s->other;
    other_data = s->other_data;
    g_mutex_unlock (&s->lock);
    has_from = relay_addr_from_native (&from, &native, flen);
    if (other && has_from
        && !relay_control_is_control (buf, MIN ((gsize) n, sizeof (buf)))) {
      other (buf, MIN ((gsize) n, sizeof (buf)), &from, other_data);
      continue;
    }
    if (!has_from || (gsize) n > RELAY_CONTROL_MAX_PACKET) {
      g_mutex_lock (&s->lock);
      s->stats.malformed++;
      g_mutex_unlock (&s->lock);
      continue;
    }
    server_packet (s, buf, n, &from);
  }
  return G_SOURCE_CONTINUE;
}

/* In the server thread (or before it runs): @sweep (server_sweep) runs
 * after a quarter of the timeout, which may have changed meanwhile. */
static void
schedule_sweep (RelayControlServer * s, GSourceFunc sweep)
{
  guint interval;

  g_mutex_lock (&s->lock);
  interval = CLAMP (s->timeout_ms / 4, 10, 1000);
  g_mutex_unlock (&s->lock);
  if (s->sweep)
    g_source_unref (s->sweep);
  s->sweep = g_timeout_source_new (interval);
  g_source_set_callback (s->sweep, sweep, s, NULL);
  g_source_attach (s->sweep, s->context);
}

static gboolean
server_sweep (gpointer user_data)
{
  RelayControlServer *s = user_data;
  GPtrArray *gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer key, value;
  gint64 now;
  guint i;

  g_mutex_lock (&s->lock);
  now = server_now (s);
  g_hash_table_iter_init (&it, s->subs);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    Subscriber *sub = value;

    if (now - sub->last_seen > (gint64) s->timeout_ms * 1000) {
      g_hash_table_iter_steal (&it);
      g_free (key);
      g_ptr_array_add (gone, sub);
      s->stats.expired++;
    }
  }
  g_mutex_unlock (&s->lock);
  for (i = 0; i < gone->len; i++) {
    Subscriber *sub = g_ptr_array_index (gone, i);

    if (s->cb.remove)
      s->cb.remove (sub->host, sub->port, s->user_data);
  }
  g_ptr_array_free (gone, TRUE);
  schedule_sweep (s, server_sweep);
  return G_SOURCE_REMOVE;
}

static gpointer
server_thread (gpointer user_data)
{
  RelayControlServer *s = user_data;

  g_main_context_push_thread_default (s->context);
  g_main_loop_run (s->loop);
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

/* [::]:@port, IPv6 only, non-blocking; NULL (logged) when it cannot be. */
static GSocket *
open_socket6 (guint16 port)
{
  GError *err = NULL;
  GInetAddress *any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  GSocketAddress *sa = g_inet_socket_address_new (any, port);
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &err);

  if (sock && (!g_socket_set_option (sock, IPPROTO_IPV6, IPV6_V6ONLY, 1,
              &err) || !g_socket_bind (sock, sa, FALSE, &err)))
    g_clear_object (&sock);
  if (!sock) {
    g_info ("control port [::]:%u: %s; IPv4 only", port, err->message);
    g_clear_error (&err);
  } else {
    g_socket_set_blocking (sock, FALSE);
  }
  g_object_unref (sa);
  g_object_unref (any);
  return sock;
}

RelayControlServer *
relay_control_server_new (guint16 port, const gchar * bind_addr,
    const RelayControlServerCallbacks * callbacks, gpointer user_data,
    GError ** error)
{
  RelayControlServer *s;
  GInetAddress *ia;
  GSocketAddress *sa;
  GSource *src;

  ia = g_inet_address_new_from_string (bind_addr ? bind_addr : "0.0.0.0");
  if (!ia) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "control address '%s' is not an IPv4 or IPv6 address", bind_addr);
    g_clear_object (&ia);
    return NULL;
  }

  s = g_new0 (RelayControlServer, 1);
  g_mutex_init (&s->lock);
  if (callbacks)
    s->cb = *callbacks;
  s->user_data = user_data;
  s->timeout_ms = RELAY_CONTROL_DEFAULT_TIMEOUT_MS;
  s->subs = g_hash_table_new_full (relay_addr_hash, relay_addr_equal_cb,
      g_free, g_free);
  relay_control_fill_random (s->secret, SECRET_LEN);
  relay_control_fill_random ((guint8 *) & s->ssrc, sizeof (s->ssrc));

  s->socket = g_socket_new (g_inet_address_get_family (ia),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (!s->socket)
    goto fail;
  /* an IPv6 address: that family only (GLib makes v6 sockets dual stack) */
  if (g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (s->socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    goto fail;
  sa = g_inet_socket_address_new (ia, port);
  if (!g_socket_bind (s->socket, sa, FALSE, error)) {
    g_prefix_error (error, "control port %s:%u: ",
        bind_addr ? bind_addr : "0.0.0.0", port);
    g_object_unref (sa);
    goto fail;
  }
  g_object_unref (sa);
  g_socket_set_blocking (s->socket, FALSE);
  sa = g_socket_get_local_address (s->socket, NULL);
  s->port = sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa))
      : port;
  g_clear_object (&sa);
  g_object_unref (ia);
  /* The default (every IPv4 address): every IPv6 one too, on the same
   * port, when the host has IPv6. */
  if (!bind_addr)
    s->socket6 = open_socket6 (s->port);

  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  src = g_socket_create_source (s->socket, G_IO_IN, NULL);
  g_source_set_callback (src, G_SOURCE_FUNC (server_readable), s, NULL);
  g_source_attach (src, s->context);
  g_source_unref (src);
  if (s->socket6) {
    src = g_socket_create_source (s->socket6, G_IO_IN, NULL);
    g_source_set_callback (src, G_SOURCE_FUNC (server_readable), s, NULL);
    g_source_attach (src, s->context);
    g_source_unref (src);
  }
  schedule_sweep (s, server_sweep);
  s->thread = g_thread_new ("relay-control", server_thread, s);
  return s;

fail:
  g_object_unref (ia);
  relay_control_server_free (s);
  return NULL;
}

void
relay_control_server_set_other (RelayControlServer * s,
    RelayControlOtherFunc func, gpointer user_data)
{
  g_mutex_lock (&s->lock);
  s->other = func;
  s->other_data = user_data;
  g_mutex_unlock (&s->lock);
}

int
relay_control_server_get_fd (RelayControlServer * s)
{
  return g_socket_get_fd (s->socket);
}

int
relay_control_server_get_fd6 (RelayControlServer * s)
{
  if (s->socket6)
    return g_socket_get_fd (s->socket6);
  return g_socket_get_family (s->socket) == G_SOCKET_FAMILY_IPV6 ?
      g_socket_get_fd (s->socket) : -1;
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
relay_control_server_free (RelayControlServer * s)
{
  GHashTableIter it;
  gpointer value;

  if (!s)
    return;
  if (s->thread) {
    GSource *src = g_idle_source_new ();

    g_source_set_callback (src, quit_loop, s->loop, NULL);
    g_source_attach (src, s->context);
    g_source_unref (src);
    g_thread_join (s->thread);
  }
  if (s->sweep) {
    g_source_destroy (s->sweep);
    g_source_unref (s->sweep);
  }
  g_clear_pointer (&s->loop, g_main_loop_unref);
  g_clear_pointer (&s->context, g_main_context_unref);
  g_hash_table_iter_init (&it, s->subs);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Subscriber *sub = value;

    if (s->cb.remove)
      s->cb.remove (sub->host, sub->port, s->user_data);
  }
  g_hash_table_destroy (s->subs);
  if (s->socket)
    g_socket_close (s->socket, NULL);
  g_clear_object (&s->socket);
  if (s->socket6)
    g_socket_close (s->socket6, NULL);
  g_clear_object (&s->socket6);
  memset (s->secret, 0, SECRET_LEN);
  g_mutex_clear (&s->lock);
  g_free (s);
}

void
relay_control_server_set_token (RelayControlServer * s, const gchar * token)
{
  gsize len = token ? strlen (token) : 0;

  g_mutex_lock (&s->lock);
  len = MIN (len, RELAY_CONTROL_MAX_TOKEN);
  s->has_token = len > 0;
  s->token_len = len;
  memset (s->token, 0, sizeof (s->token));
  if (len)
    memcpy (s->token, token, len);
  g_mutex_unlock (&s->lock);
}

void
relay_control_server_set_max_clients (RelayControlServer * s, guint max_clients)
{
  g_mutex_lock (&s->lock);
  s->max_clients = max_clients;
  g_mutex_unlock (&s->lock);
}

void
relay_control_server_set_timeout (RelayControlServer * s, guint timeout_ms)
{
  g_mutex_lock (&s->lock);
  s->timeout_ms = MAX (timeout_ms, 30);
  g_mutex_unlock (&s->lock);
}

guint16
relay_control_server_get_port (RelayControlServer * s)
{
  return s->port;
}

void
relay_control_server_get_stats (RelayControlServer * s,
    RelayControlServerStats * stats)
{
  g_mutex_lock (&s->lock);
  *stats = s->stats;
  stats->subscribers = g_hash_table_size (s->subs);
  g_mutex_unlock (&s->lock);
}

void
relay_control_server_set_clock (RelayControlServer * s,
    RelayControlClockFunc func, gpointer user_data)
{
  g_mutex_lock (&s->lock);
  s->clock = func;
  s->clock_data = user_data;
  g_mutex_unlock (&s->lock);
}

