/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subscription channel: message codec, cookies, the relay's server and
 * the viewer's client. The wire format and the handshake are described in
 * ebpfrelay-control.h.
 */
#include "ebpfrelay-control.h"

#include <gst/rtp/gstrtcpbuffer.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>

#define HDR_LEN 12
#define BODY_LEN (HDR_LEN + 4 + RELAY_CONTROL_COOKIE_LEN)       /* 32 */
#define ACK_LEN (BODY_LEN + 4)
#define FLAG_COOKIE 0x01
#define FLAG_RTCP_PORT 0x02
#define FLAG_AUTO 0x04
#define RTCP_WORD_LEN 4
#define SECRET_LEN 32
#define BUCKET_US ((gint64) RELAY_CONTROL_BUCKET_MS * 1000)

/* Client timing: first retry, longest retry while waiting for an answer. */
#define RETRY_FIRST_MS 200
#define RETRY_MAX_MS 2000
/* ...and how soon a refused client asks again. */
#define REFUSED_RETRY_MS 5000

const gchar *
relay_control_reason_str (RelayControlReason reason)
{
  switch (reason) {
    case RELAY_CONTROL_REASON_NONE:
      return "none";
    case RELAY_CONTROL_REASON_TOKEN:
      return "token missing or wrong";
    case RELAY_CONTROL_REASON_FULL:
      return "relay full (max-clients)";
    case RELAY_CONTROL_REASON_REFUSED:
      return "refused by the relay";
  }
  return "unknown";
}

/* --- codec ------------------------------------------------------------------ */

static gsize
msg_len (const RelayControlMessage * msg)
{
  switch (msg->type) {
    case RELAY_CONTROL_SUBSCRIBE:
      return BODY_LEN + ((msg->token_len + 3u) & ~3u)
          + (msg->has_rtcp_port ? RTCP_WORD_LEN : 0);
    case RELAY_CONTROL_CHALLENGE:
    case RELAY_CONTROL_UNSUBSCRIBE:
      return BODY_LEN;
    case RELAY_CONTROL_ACK:
      return ACK_LEN;
  }
  return 0;
}

/* GstRTCPBuffer needs GStreamer's memory allocators (gst_init). A process
 * that uses only this channel (test-control, control-stub) has not
 * initialised GStreamer: do it here, once, without a registry update (it
 * needs no plugin). In the plugin GStreamer is initialised already. */
static gpointer
init_gst_once (gpointer unused)
{
  if (!gst_is_initialized ()) {
    gchar *args[] = { (gchar *) "relay-control",
      (gchar *) "--gst-disable-registry-update", NULL
    };
    gchar **argv = args;
    gint argc = 2;

    if (!gst_init_check (&argc, &argv, NULL))
      return GINT_TO_POINTER (FALSE);
  }
  return GINT_TO_POINTER (TRUE);
}

static gboolean
ensure_gst (void)
{
  static GOnce once = G_ONCE_INIT;

  return GPOINTER_TO_INT (g_once (&once, init_gst_once, NULL));
}

/* The APP packet's header (V=2, P=0, subtype, PT=APP, length, SSRC, name)
 * is written by GstRTCPBuffer; the application-dependent data (from the
 * version byte on, offset HDR_LEN of the datagram) by us. */
gsize
relay_control_encode (const RelayControlMessage * msg, guint8 * buf, gsize size)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  GstBuffer *b;
  gsize len = msg_len (msg);
  guint8 *d = NULL;
  gboolean ok;

  if (len == 0 || len > size || len > RELAY_CONTROL_MAX_PACKET)
    return 0;
  if (msg->limit > RELAY_CONTROL_MAX_LIMIT
      || msg->token_len > RELAY_CONTROL_MAX_TOKEN
      || (msg->type == RELAY_CONTROL_SUBSCRIBE && msg->has_rtcp_port
          && msg->rtcp_port == 0))
    return 0;
  if (!ensure_gst ())
    return 0;
  /* GstRTCPBuffer writes headers and lengths, never clears the data */
  memset (buf, 0, len);
  b = gst_buffer_new_wrapped_full (0, buf, size, 0, 0, NULL, NULL);
  gst_rtcp_buffer_map (b, GST_MAP_READWRITE, &rtcp);
  ok = gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_APP, &packet)
      && gst_rtcp_packet_app_set_data_length (&packet, (len - HDR_LEN) / 4);
  if (ok) {
    gst_rtcp_packet_app_set_subtype (&packet, msg->type);
    gst_rtcp_packet_app_set_ssrc (&packet, msg->ssrc);
    gst_rtcp_packet_app_set_name (&packet, RELAY_CONTROL_NAME);
    d = gst_rtcp_packet_app_get_data (&packet);
    ok = d != NULL;
  }
  if (ok) {
    d[0] = RELAY_CONTROL_VERSION;
    switch (msg->type) {
      case RELAY_CONTROL_SUBSCRIBE:
        d[1] = msg->limit;
        d[2] = (msg->has_cookie ? FLAG_COOKIE : 0)
            | (msg->has_rtcp_port ? FLAG_RTCP_PORT : 0)
            | (msg->auto_limit ? FLAG_AUTO : 0);
        d[3] = msg->token_len;
        if (msg->has_cookie)
          memcpy (d + 4, msg->cookie, RELAY_CONTROL_COOKIE_LEN);
        memcpy (d + BODY_LEN - HDR_LEN, msg->token, msg->token_len);
        if (msg->has_rtcp_port)
          GST_WRITE_UINT16_BE (d + len - HDR_LEN - RTCP_WORD_LEN,
              msg->rtcp_port);
        break;
      case RELAY_CONTROL_ACK:
        d[1] = msg->accepted ? 0 : 1;
        d[2] = msg->accepted ? 0 : msg->reason;
        d[3] = msg->limit;
        memcpy (d + 4, msg->cookie, RELAY_CONTROL_COOKIE_LEN);
        GST_WRITE_UINT32_BE (d + BODY_LEN - HDR_LEN, msg->refresh_ms);
        break;
      default:                 /* CHALLENGE, UNSUBSCRIBE */
        memcpy (d + 4, msg->cookie, RELAY_CONTROL_COOKIE_LEN);
        break;
    }
  }
  gst_rtcp_buffer_unmap (&rtcp);
  ok = ok && gst_buffer_get_size (b) == len;
  gst_buffer_unref (b);
  return ok ? len : 0;
}

/* Raw bytes on purpose: the demux test every datagram of the viewer's media
 * socket goes through, before anything is parsed. */
gboolean
relay_control_is_control (const guint8 * data, gsize len)
{
  return len >= HDR_LEN && (data[0] & 0xc0) == 0x80
      && data[1] == RELAY_CONTROL_PT
      && memcmp (data + 8, RELAY_CONTROL_NAME, 4) == 0;
}

/* The APP packet of a datagram that holds exactly one, not padded (the
 * message's data is then at data + HDR_LEN). */
static gboolean
decode_app (const guint8 * data, gsize len, RelayControlMessage * msg)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  GstBuffer *b;
  gboolean ok;

  if (!ensure_gst ()
      || !gst_rtcp_buffer_validate_data_reduced ((guint8 *) data, len))
    return FALSE;
  b = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, (gpointer) data,
      len, 0, len, NULL, NULL);
  gst_rtcp_buffer_map (b, GST_MAP_READ, &rtcp);
  ok = gst_rtcp_buffer_get_first_packet (&rtcp, &packet)
      && gst_rtcp_packet_get_type (&packet) == GST_RTCP_TYPE_APP
      && !gst_rtcp_packet_get_padding (&packet)
      && ((gsize) gst_rtcp_packet_get_length (&packet) + 1) * 4 == len
      && memcmp (gst_rtcp_packet_app_get_name (&packet), RELAY_CONTROL_NAME,
      4) == 0
      && ((gsize) gst_rtcp_packet_app_get_data_length (&packet)) * 4 + HDR_LEN
      == len;
  if (ok) {
    msg->type = gst_rtcp_packet_app_get_subtype (&packet);
    msg->ssrc = gst_rtcp_packet_app_get_ssrc (&packet);
  }
  gst_rtcp_buffer_unmap (&rtcp);
  gst_buffer_unref (b);
  return ok;
}

gboolean
relay_control_decode (const guint8 * data, gsize len, RelayControlMessage * msg)
{
  const guint8 *d = data + HDR_LEN;
  guint i;

  if (len < BODY_LEN || len > RELAY_CONTROL_MAX_PACKET || len % 4 != 0)
    return FALSE;
  memset (msg, 0, sizeof (*msg));
  /* V=2, P=0 (never padded), PT=APP "EBRS", exactly one packet */
  if (!decode_app (data, len, msg) || d[0] != RELAY_CONTROL_VERSION)
    return FALSE;
  memcpy (msg->cookie, d + 4, RELAY_CONTROL_COOKIE_LEN);

  switch (msg->type) {
    case RELAY_CONTROL_SUBSCRIBE:{
      gsize tail;

      msg->limit = d[1];
      msg->has_cookie = (d[2] & FLAG_COOKIE) != 0;
      msg->has_rtcp_port = (d[2] & FLAG_RTCP_PORT) != 0;
      msg->auto_limit = (d[2] & FLAG_AUTO) != 0;
      msg->token_len = d[3];
      if (msg->limit > RELAY_CONTROL_MAX_LIMIT
          || (d[2] & ~(FLAG_COOKIE | FLAG_RTCP_PORT | FLAG_AUTO))
          || msg->token_len > RELAY_CONTROL_MAX_TOKEN)
        return FALSE;
      tail = msg->has_rtcp_port ? RTCP_WORD_LEN : 0;
      if (len != BODY_LEN + ((msg->token_len + 3u) & ~3u) + tail)
        return FALSE;
      if (msg->has_rtcp_port) {
        msg->rtcp_port = GST_READ_UINT16_BE (data + len - tail);
        if (msg->rtcp_port == 0 || GST_READ_UINT16_BE (data + len - 2) != 0)
          return FALSE;
      }
      for (i = BODY_LEN + msg->token_len; i < len - tail; i++)
        if (data[i] != 0)
          return FALSE;
      memcpy (msg->token, data + BODY_LEN, msg->token_len);
      if (!msg->has_cookie)
        memset (msg->cookie, 0, RELAY_CONTROL_COOKIE_LEN);
      return TRUE;
    }
    case RELAY_CONTROL_ACK:
      if (len != ACK_LEN || d[1] > 1 || d[2] > RELAY_CONTROL_REASON_REFUSED
          || d[3] > RELAY_CONTROL_MAX_LIMIT)
        return FALSE;
      msg->accepted = d[1] == 0;
      msg->reason = d[2];
      msg->limit = d[3];
      if (msg->accepted != (msg->reason == RELAY_CONTROL_REASON_NONE))
        return FALSE;
      msg->refresh_ms = GST_READ_UINT32_BE (data + BODY_LEN);
      return msg->refresh_ms > 0;
    case RELAY_CONTROL_CHALLENGE:
    case RELAY_CONTROL_UNSUBSCRIBE:
      return len == BODY_LEN && d[1] == 0 && d[2] == 0 && d[3] == 0;
  }
  return FALSE;                 /* unknown subtype */
}

/* --- cookies ---------------------------------------------------------------- */

void
relay_control_cookie (const guint8 * secret, gsize secret_len,
    guint32 addr, guint16 port, gint64 bucket,
    guint8 out[RELAY_CONTROL_COOKIE_LEN])
{
  GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, secret, secret_len);
  guint8 in[14], digest[32];
  gsize dlen = sizeof (digest);
  guint64 b = (guint64) bucket;
  int i;

  memcpy (in, &addr, 4);        /* network order as it is */
  in[4] = port >> 8;
  in[5] = port & 0xff;
  for (i = 0; i < 8; i++)
    in[6 + i] = b >> (56 - 8 * i);
  g_hmac_update (h, in, sizeof (in));
  g_hmac_get_digest (h, digest, &dlen);
  g_hmac_unref (h);
  memcpy (out, digest, RELAY_CONTROL_COOKIE_LEN);
}

void
relay_control_cookie_addr (const guint8 * secret, gsize secret_len,
    const RelayAddr * a, gint64 bucket, guint8 out[RELAY_CONTROL_COOKIE_LEN])
{
  GHmac *h;
  guint8 in[26], digest[32];
  gsize dlen = sizeof (digest);
  guint64 b = (guint64) bucket;
  guint16 port = relay_addr_port (a);
  int i;

  if (!relay_addr_is_v6 (a)) {
    relay_control_cookie (secret, secret_len, a->v4.sin_addr.s_addr, port,
        bucket, out);
    return;
  }
  /* the whole IPv6 address: 26 bytes in, never the 14 of an IPv4 one */
  h = g_hmac_new (G_CHECKSUM_SHA256, secret, secret_len);
  memcpy (in, &a->v6.sin6_addr, 16);
  in[16] = port >> 8;
  in[17] = port & 0xff;
  for (i = 0; i < 8; i++)
    in[18 + i] = b >> (56 - 8 * i);
  g_hmac_update (h, in, sizeof (in));
  g_hmac_get_digest (h, digest, &dlen);
  g_hmac_unref (h);
  memcpy (out, digest, RELAY_CONTROL_COOKIE_LEN);
}

/* Constant time: the time taken says nothing about where they differ. */
gboolean
relay_control_equal (const guint8 * a, const guint8 * b, gsize len)
{
  volatile guint8 d = 0;
  gsize i;

  for (i = 0; i < len; i++)
    d |= a[i] ^ b[i];
  return d == 0;
}

/* --- addresses --------------------------------------------------------------- */

gboolean
relay_control_parse_address (const gchar * str, RelayAddr * out,
    GError ** error)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC,.ai_socktype = SOCK_DGRAM };
  struct addrinfo *res = NULL, *i, *pick = NULL;
  const gchar *colon;
  gchar *host, *end = NULL;
  gint64 port;
  struct in_addr a4;
  struct in6_addr a6;
  gboolean ok = TRUE;
  gsize hl;

  if (!str || !(colon = strrchr (str, ':')) || colon == str || colon[1] == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "relay '%s' is not host:port", str ? str : "(NULL)");
    return FALSE;
  }
  port = g_ascii_strtoll (colon + 1, &end, 10);
  if (*end != '\0' || !g_ascii_isdigit (colon[1]) || port <= 0 || port > 65535) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "relay '%s': port '%s' is not a number in 1-65535", str, colon + 1);
    return FALSE;
  }
  host = g_strndup (str, colon - str);
  hl = strlen (host);
  memset (out, 0, sizeof (*out));
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    /* [IPv6]:port */
    host[hl - 1] = '\0';
    if (inet_pton (AF_INET6, host + 1, &a6) == 1) {
      struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,.sin6_addr = a6 };

      relay_addr_from_native (out, &s6, sizeof (s6));
    } else {
      ok = FALSE;
    }
  } else if (inet_pton (AF_INET, host, &a4) == 1) {
    out->v4.sin_family = AF_INET;
    out->v4.sin_addr = a4;
  } else if (strchr (host, ':') || getaddrinfo (host, NULL, &hints, &res) != 0
      || !res) {
    ok = FALSE;
  } else {
    /* a name with both: IPv4, as for subscribers (ebpfrelay-clients) */
    for (i = res; i && !pick; i = i->ai_next)
      if (i->ai_family == AF_INET)
        pick = i;
    for (i = res; i && !pick; i = i->ai_next)
      if (i->ai_family == AF_INET6)
        pick = i;
    ok = pick && relay_addr_from_native (out, pick->ai_addr, pick->ai_addrlen);
    freeaddrinfo (res);
  }
  if (!ok) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "relay '%s': host '%s' is not an IPv4 address, an IPv6 address in "
        "brackets or a name that resolves to one", str, host);
    g_free (host);
    return FALSE;
  }
  g_free (host);
  relay_addr_set_port (out, port);
  if (relay_addr_is_v6 (out) ? IN6_IS_ADDR_UNSPECIFIED (&out->v6.sin6_addr)
      : out->v4.sin_addr.s_addr == htonl (INADDR_ANY)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "relay '%s': %s is not an address to send to", str,
        relay_addr_is_v6 (out) ? "::" : "0.0.0.0");
    return FALSE;
  }
  return TRUE;
}

static gboolean
send_msg (GSocket * socket, const RelayAddr * to,
    const RelayControlMessage * msg)
{
  guint8 buf[RELAY_CONTROL_MAX_PACKET];
  gsize len = relay_control_encode (msg, buf, sizeof (buf));
  GSocketAddress *addr;
  gssize r;

  if (len == 0)
    return FALSE;
  addr = g_socket_address_new_from_native ((gpointer) to, relay_addr_len (to));
  r = g_socket_send_to (socket, addr, (const gchar *) buf, len, NULL, NULL);
  g_object_unref (addr);
  return r == (gssize) len;
}

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
  send_msg (server_socket_for (s, to), to, reply);
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

static void
fill_random (guint8 * buf, gsize len)
{
  gsize done = 0;

  while (done < len) {
    ssize_t n = getrandom (buf + done, len - done, 0);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    done += n;
  }
  for (; done < len; done++)    /* no getrandom: GLib's generator */
    buf[done] = g_random_int () & 0xff;
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
  fill_random (s->secret, SECRET_LEN);
  fill_random ((guint8 *) & s->ssrc, sizeof (s->ssrc));

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
  fill_random ((guint8 *) & c->ssrc, sizeof (c->ssrc));
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
  if (send_msg (c->socket, &c->relay, &m))
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
