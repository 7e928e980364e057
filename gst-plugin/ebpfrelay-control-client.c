/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subscription channel's client, in the viewer (ebpfprioritysrc):
 * subscribing, answering the challenge, refreshing, unsubscribing. See
 * ebpfrelay-control-client.h.
 */
#include "ebpfrelay-control-client.h"
#include "ebpfrelay-control-private.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>

/* --- client ------------------------------------------------------------------ */

struct _RelayControlClient
{
  GSocket *socket;
  RelayAddr relay;
  guint8 token[RELAY_CONTROL_MAX_TOKEN];
  guint8 token_len;
  gint rtcp_port;               /* -1: not named */
  gboolean auto_limit;
  guint32 ssrc;
  RelayControlClientNotify notify;
  gpointer user_data;
  GThread *thread;

  GMutex lock;                  /* everything below */
  GCond cond;
  gboolean stopping;
  guint limit;
  guint8 cookie[RELAY_CONTROL_COOKIE_LEN];
  gboolean has_cookie;
  RelayControlClientState state;
  RelayControlReason reason;
  guint relay_limit;
  guint refresh_ms;
  guint retry_ms;
  gint64 next_send;             /* monotonic µs */
  gint64 last_answer;
  gboolean awaiting;            /* sent, no answer yet */
  guint64 sent, received, foreign;
};

const gchar *
relay_control_client_state_str (RelayControlClientState state)
{
  switch (state) {
    case RELAY_CONTROL_CLIENT_STOPPED:
      return "stopped";
    case RELAY_CONTROL_CLIENT_SUBSCRIBING:
      return "subscribing";
    case RELAY_CONTROL_CLIENT_SUBSCRIBED:
      return "subscribed";
    case RELAY_CONTROL_CLIENT_REFUSED:
      return "refused";
  }
  return "unknown";
}

RelayControlClient *
relay_control_client_new (GSocket * socket, const gchar * relay,
    const gchar * token, guint limit, RelayControlClientNotify notify,
    gpointer user_data, GError ** error)
{
  RelayControlClient *c;
  RelayAddr addr;
  gsize tlen = token ? strlen (token) : 0;

  if (limit > RELAY_CONTROL_MAX_LIMIT) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "priority limit %u is out of range (0-7)", limit);
    return NULL;
  }
  if (tlen > RELAY_CONTROL_MAX_TOKEN) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "token is %" G_GSIZE_FORMAT " bytes long, at most %d are allowed",
        tlen, RELAY_CONTROL_MAX_TOKEN);
    return NULL;
  }
  if (!relay_control_parse_address (relay, &addr, error))
    return NULL;
  if ((g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV6) !=
      relay_addr_is_v6 (&addr)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "relay '%s' is IPv%d but the socket is IPv%d: subscribe from a "
        "socket of the relay's family (address)", relay,
        relay_addr_is_v6 (&addr) ? 6 : 4,
        g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV6 ? 6 : 4);
    return NULL;
  }

  c = g_new0 (RelayControlClient, 1);
  c->socket = g_object_ref (socket);
  c->relay = addr;
  c->token_len = tlen;
  if (tlen)
    memcpy (c->token, token, tlen);
  relay_control_fill_random ((guint8 *) & c->ssrc, sizeof (c->ssrc));
  c->notify = notify;
  c->user_data = user_data;
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->limit = limit;
  c->rtcp_port = -1;
  c->state = RELAY_CONTROL_CLIENT_STOPPED;
  c->refresh_ms = RELAY_CONTROL_DEFAULT_TIMEOUT_MS / 3;
  c->retry_ms = RETRY_FIRST_MS;
  return c;
}

/* With the lock held. Returns TRUE when the state changed (notify). */
static gboolean
client_set_state (RelayControlClient * c, RelayControlClientState state,
    RelayControlReason reason)
{
  if (c->state == state && c->reason == reason)
    return FALSE;
  c->state = state;
  c->reason = reason;
  return TRUE;
}

static void
client_notify (RelayControlClient * c, RelayControlClientState state,
    RelayControlReason reason)
{
  if (c->notify)
    c->notify (state, reason, c->user_data);
}

/* With the lock held. */
static void
client_send (RelayControlClient * c, RelayControlType type)
{
  RelayControlMessage m = {.type = type,.ssrc = c->ssrc };

  if (type == RELAY_CONTROL_SUBSCRIBE) {
    m.limit = c->limit;
    m.has_cookie = c->has_cookie;
    m.token_len = c->token_len;
    memcpy (m.token, c->token, c->token_len);
    m.has_rtcp_port = c->rtcp_port > 0;
    m.rtcp_port = m.has_rtcp_port ? c->rtcp_port : 0;
    m.auto_limit = c->auto_limit;
  }
  if (c->has_cookie)
    memcpy (m.cookie, c->cookie, RELAY_CONTROL_COOKIE_LEN);
  if (relay_control_send_msg (c->socket, &c->relay, &m))
    c->sent++;
}

static gpointer
client_thread (gpointer user_data)
{
  RelayControlClient *c = user_data;

  g_mutex_lock (&c->lock);
  while (!c->stopping) {
    gint64 now = g_get_monotonic_time ();
    gboolean changed = FALSE;
    RelayControlClientState st;
    RelayControlReason rs;

    if (now >= c->next_send) {
      /* No answer for as long as the relay keeps us: start over. */
      if (c->state == RELAY_CONTROL_CLIENT_SUBSCRIBED && c->awaiting
          && now - c->last_answer > (gint64) c->refresh_ms * 3000) {
        c->has_cookie = FALSE;
        changed = client_set_state (c, RELAY_CONTROL_CLIENT_SUBSCRIBING,
            RELAY_CONTROL_REASON_NONE);
      }
      client_send (c, RELAY_CONTROL_SUBSCRIBE);
      if (!c->awaiting)
        c->retry_ms = RETRY_FIRST_MS;
      c->awaiting = TRUE;
      c->next_send = now + (gint64) c->retry_ms * 1000;
      c->retry_ms = MIN (c->retry_ms * 2, RETRY_MAX_MS);
      if (changed) {
        st = c->state;
        rs = c->reason;
        g_mutex_unlock (&c->lock);
        client_notify (c, st, rs);
        g_mutex_lock (&c->lock);
      }
      continue;
    }
    g_cond_wait_until (&c->cond, &c->lock, c->next_send);
  }
  g_mutex_unlock (&c->lock);
  return NULL;
}

void
relay_control_client_start (RelayControlClient * c)
{
  g_mutex_lock (&c->lock);
  if (c->thread) {
    g_mutex_unlock (&c->lock);
    return;
  }
  c->state = RELAY_CONTROL_CLIENT_SUBSCRIBING;
  c->next_send = g_get_monotonic_time ();
  c->last_answer = c->next_send;
  c->thread = g_thread_new ("relay-control-client", client_thread, c);
  g_mutex_unlock (&c->lock);
  client_notify (c, RELAY_CONTROL_CLIENT_SUBSCRIBING,
      RELAY_CONTROL_REASON_NONE);
}

void
relay_control_client_set_auto (RelayControlClient * c, gboolean auto_limit)
{
  c->auto_limit = auto_limit;
}

void
relay_control_client_set_rtcp_port (RelayControlClient * c, gint rtcp_port)
{
  g_mutex_lock (&c->lock);
  c->rtcp_port = rtcp_port > 0 && rtcp_port <= 65535 ? rtcp_port : -1;
  g_mutex_unlock (&c->lock);
}

void
relay_control_client_set_limit (RelayControlClient * c, guint limit)
{
  if (limit > RELAY_CONTROL_MAX_LIMIT)
    return;
  g_mutex_lock (&c->lock);
  if (limit != c->limit) {
    c->limit = limit;
    c->awaiting = FALSE;
    c->next_send = g_get_monotonic_time ();
    g_cond_signal (&c->cond);
  }
  g_mutex_unlock (&c->lock);
}

gboolean
relay_control_client_handle (RelayControlClient * c, const guint8 * data,
    gsize len, const RelayAddr * from)
{
  RelayControlMessage msg;
  gboolean changed = FALSE;
  RelayControlClientState st;
  RelayControlReason rs;
  gint64 now;

  if (!relay_control_is_control (data, len))
    return FALSE;
  g_mutex_lock (&c->lock);
  if (!from || !relay_addr_equal (from, &c->relay)
      || !relay_control_decode (data, len, &msg)
      || (msg.type != RELAY_CONTROL_CHALLENGE && msg.type != RELAY_CONTROL_ACK)) {
    c->foreign++;
    g_mutex_unlock (&c->lock);
    return TRUE;
  }
  c->received++;
  if (!c->thread || c->stopping) {
    g_mutex_unlock (&c->lock);
    return TRUE;
  }
  now = g_get_monotonic_time ();
  c->last_answer = now;
  memcpy (c->cookie, msg.cookie, RELAY_CONTROL_COOKIE_LEN);
  c->has_cookie = TRUE;
  if (msg.type == RELAY_CONTROL_CHALLENGE) {
    c->awaiting = FALSE;
    c->next_send = now;         /* answer at once */
  } else {
    c->refresh_ms = CLAMP (msg.refresh_ms, 10, 3600 * 1000);
    /* An ACK with another limit answers an older SUBSCRIBE (or the relay
     * kept the old limit): keep retrying until the limit is confirmed. */
    if (!msg.accepted || msg.limit == c->limit) {
      c->awaiting = FALSE;
      /* refused: ask again, but seldom (the relay may have room later) */
      c->next_send = now + (gint64) (msg.accepted ? c->refresh_ms :
          MAX (c->refresh_ms, REFUSED_RETRY_MS)) * 1000;
    }
    if (msg.accepted) {
      c->relay_limit = msg.limit;
      changed = client_set_state (c, RELAY_CONTROL_CLIENT_SUBSCRIBED,
          RELAY_CONTROL_REASON_NONE);
    } else {
      changed = client_set_state (c, RELAY_CONTROL_CLIENT_REFUSED, msg.reason);
    }
  }
  g_cond_signal (&c->cond);
  st = c->state;
  rs = c->reason;
  g_mutex_unlock (&c->lock);
  if (changed)
    client_notify (c, st, rs);
  return TRUE;
}

void
relay_control_client_get_stats (RelayControlClient * c,
    RelayControlClientStats * stats)
{
  g_mutex_lock (&c->lock);
  stats->sent = c->sent;
  stats->received = c->received;
  stats->foreign = c->foreign;
  stats->state = c->state;
  stats->reason = c->reason;
  stats->limit = c->relay_limit;
  g_mutex_unlock (&c->lock);
}

void
relay_control_client_free (RelayControlClient * c)
{
  if (!c)
    return;
  g_mutex_lock (&c->lock);
  if (c->thread && c->has_cookie && c->state != RELAY_CONTROL_CLIENT_REFUSED)
    client_send (c, RELAY_CONTROL_UNSUBSCRIBE);
  c->stopping = TRUE;
  c->state = RELAY_CONTROL_CLIENT_STOPPED;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  if (c->thread)
    g_thread_join (c->thread);
  g_object_unref (c->socket);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}
