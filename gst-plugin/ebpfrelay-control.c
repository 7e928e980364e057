/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subscription channel's shared part: message codec, cookies,
 * addresses, the one send. The wire format and the handshake are
 * described in ebpfrelay-control.h; the relay's server is
 * ebpfrelay-control-server.c, the viewer's client
 * ebpfrelay-control-client.c.
 */
#include "ebpfrelay-control-private.h"

#include <gst/rtp/gstrtcpbuffer.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>

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

gboolean
relay_control_send_msg (GSocket * socket, const RelayAddr * to,
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

void
relay_control_fill_random (guint8 * buf, gsize len)
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
