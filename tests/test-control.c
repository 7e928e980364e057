/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-control: the subscription channel (gst-plugin/ebpfrelay-control.c)
 * without GStreamer and without privilege: message round trips, every
 * malformed form, cookies, the server's decisions (token, max-clients,
 * replayed or forged cookies, expiry, unsubscribe) seen from raw sockets on
 * loopback, and a whole exchange between the server and client objects.
 */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <gst/gst.h>

#include "ebpfrelay-control-server.h"
#include "ebpfrelay-control-client.h"

#define WAIT_US (3 * G_USEC_PER_SEC)

/* --- codec ------------------------------------------------------------------ */

static gsize
encode (const RelayControlMessage * m, guint8 * buf)
{
  gsize n = relay_control_encode (m, buf, RELAY_CONTROL_MAX_PACKET);

  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (n % 4, ==, 0);
  return n;
}

static void
test_round_trip (void)
{
  guint8 buf[RELAY_CONTROL_MAX_PACKET];
  RelayControlMessage m, d;
  guint tl, i;

  for (tl = 0; tl <= RELAY_CONTROL_MAX_TOKEN; tl++) {
    for (i = 0; i < 2; i++) {
      gsize n;

      memset (&m, 0, sizeof (m));
      m.type = RELAY_CONTROL_SUBSCRIBE;
      m.ssrc = 0xdeadbeef;
      m.limit = tl % 8;
      m.has_cookie = i;
      if (i)
        memset (m.cookie, 0xa5, sizeof (m.cookie));
      m.token_len = tl;
      memset (m.token, 'x', tl);
      n = encode (&m, buf);
      /* the cookie field is always there: a CHALLENGE is never larger */
      g_assert_cmpuint (n, >=, 32);
      g_assert_cmpuint (n, ==, 32 + ((tl + 3) & ~3u));
      g_assert_true (relay_control_is_control (buf, n));
      g_assert_true (relay_control_decode (buf, n, &d));
      g_assert_cmpint (d.type, ==, RELAY_CONTROL_SUBSCRIBE);
      g_assert_cmphex (d.ssrc, ==, 0xdeadbeef);
      g_assert_cmpuint (d.limit, ==, tl % 8);
      g_assert_cmpint (d.has_cookie, ==, i);
      g_assert_cmpuint (d.token_len, ==, tl);
      g_assert_cmpmem (d.token, tl, m.token, tl);
      g_assert_cmpmem (d.cookie, 16, m.cookie, 16);
      /* RTCP APP framing */
      g_assert_cmphex (buf[0], ==, 0x81);
      g_assert_cmpuint (buf[1], ==, 204);
      g_assert_cmpuint ((buf[2] << 8 | buf[3]), ==, n / 4 - 1);
      g_assert_cmpmem (buf + 8, 4, "EBRS", 4);
    }
  }

  memset (&m, 0, sizeof (m));
  m.type = RELAY_CONTROL_ACK;
  m.accepted = FALSE;
  m.reason = RELAY_CONTROL_REASON_FULL;
  m.limit = 5;
  m.refresh_ms = 123456;
  memset (m.cookie, 0x3c, 16);
  g_assert_cmpuint (encode (&m, buf), ==, 36);
  g_assert_true (relay_control_decode (buf, 36, &d));
  g_assert_cmpint (d.type, ==, RELAY_CONTROL_ACK);
  g_assert_false (d.accepted);
  g_assert_cmpint (d.reason, ==, RELAY_CONTROL_REASON_FULL);
  g_assert_cmpuint (d.limit, ==, 5);
  g_assert_cmpuint (d.refresh_ms, ==, 123456);
  g_assert_cmpmem (d.cookie, 16, m.cookie, 16);
  m.accepted = TRUE;
  m.reason = RELAY_CONTROL_REASON_NONE;
  encode (&m, buf);
  g_assert_true (relay_control_decode (buf, 36, &d));
  g_assert_true (d.accepted);

  for (i = RELAY_CONTROL_CHALLENGE; i <= RELAY_CONTROL_UNSUBSCRIBE;
      i += RELAY_CONTROL_UNSUBSCRIBE - RELAY_CONTROL_CHALLENGE) {
    memset (&m, 0, sizeof (m));
    m.type = i;
    memset (m.cookie, 0x77, 16);
    g_assert_cmpuint (encode (&m, buf), ==, 32);
    g_assert_true (relay_control_decode (buf, 32, &d));
    g_assert_cmpint (d.type, ==, i);
    g_assert_cmpmem (d.cookie, 16, m.cookie, 16);
  }

  /* invalid messages are not encoded */
  memset (&m, 0, sizeof (m));
  m.type = RELAY_CONTROL_SUBSCRIBE;
  m.limit = 8;
  g_assert_cmpuint (relay_control_encode (&m, buf, sizeof (buf)), ==, 0);
  m.limit = 0;
  m.token_len = RELAY_CONTROL_MAX_TOKEN + 1;
  g_assert_cmpuint (relay_control_encode (&m, buf, sizeof (buf)), ==, 0);
  m.token_len = 0;
  g_assert_cmpuint (relay_control_encode (&m, buf, 31), ==, 0);
  m.type = 9;
  g_assert_cmpuint (relay_control_encode (&m, buf, sizeof (buf)), ==, 0);
}

static gboolean
decodes (const guint8 * buf, gsize len)
{
  RelayControlMessage d;

  return relay_control_decode (buf, len, &d);
}

static void
test_malformed (void)
{
  guint8 good[RELAY_CONTROL_MAX_PACKET + 64], b[sizeof (good)];
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE,.limit = 3,
    .token_len = 5
  };
  gsize n, i;

  memcpy (m.token, "hello", 5);
  n = encode (&m, good);        /* 40 bytes */
  g_assert_true (decodes (good, n));

  /* every shorter length, and every longer one up to the limit */
  for (i = 0; i < n; i++)
    g_assert_false (decodes (good, i));
  memset (good + n, 0, sizeof (good) - n);
  for (i = n + 1; i <= sizeof (good); i++)
    g_assert_false (decodes (good, i));
  /* a length field that does not match the datagram */
  memcpy (b, good, n);
  b[3]++;
  g_assert_false (decodes (b, n));
  memcpy (b, good, n);
  b[2] = 1;
  g_assert_false (decodes (b, n));
  /* two packets in one datagram (compound): not accepted */
  memcpy (b, good, n);
  memcpy (b + n, good, n);
  g_assert_false (decodes (b, 2 * n));
  /* oversized, even when self-consistent */
  memset (b, 0, sizeof (b));
  memcpy (b, good, 16);
  b[2] = 0;
  b[3] = 260 / 4 - 1;
  g_assert_false (decodes (b, 260));

#define MUTATE(off, val) G_STMT_START {                 \
    memcpy (b, good, n); b[off] = (val);                \
    g_assert_false (decodes (b, n));                    \
  } G_STMT_END
  MUTATE (0, 0x41);             /* V=1 */
  MUTATE (0, 0xc1);             /* V=3 */
  MUTATE (0, 0xa1);             /* P=1 */
  MUTATE (0, 0x80);             /* subtype 0 */
  MUTATE (0, 0x85);             /* subtype 5 */
  MUTATE (0, 0x9f);             /* subtype 31 */
  MUTATE (1, 203);              /* RTCP BYE, not APP */
  MUTATE (1, 96);               /* RTP */
  MUTATE (8, 'X');              /* another application's name */
  MUTATE (11, 's');
  MUTATE (12, 2);               /* version 2 */
  MUTATE (12, 0);
  MUTATE (13, 8);               /* limit out of range */
  MUTATE (13, 255);
  MUTATE (14, 0x02);            /* RTCP port flag without its word */
  MUTATE (14, 0x08);            /* unknown flag (0x04 is auto) */
  MUTATE (15, 4);               /* token length: padding does not match */
  MUTATE (15, 9);
  MUTATE (15, RELAY_CONTROL_MAX_TOKEN + 1);
  MUTATE (15, 255);
  MUTATE (37, 1);               /* non-zero padding after the token */
  MUTATE (39, 0xff);
#undef MUTATE
  /* "EBRS" but malformed: still recognised as control, never media */
  memcpy (b, good, n);
  b[12] = 9;
  g_assert_true (relay_control_is_control (b, n));
  g_assert_false (relay_control_is_control (good, 11));
  b[1] = 96;
  g_assert_false (relay_control_is_control (b, n));

  /* CHALLENGE / UNSUBSCRIBE: exact length, reserved bytes zero */
  m.type = RELAY_CONTROL_CHALLENGE;
  n = encode (&m, good);
  g_assert_true (decodes (good, n));
  for (i = 0; i < n; i++)
    g_assert_false (decodes (good, i));
  memset (good + n, 0, 4);
  good[3] = n / 4;
  g_assert_false (decodes (good, n + 4));
  good[3] = n / 4 - 1;
  for (i = 13; i < 16; i++) {
    memcpy (b, good, n);
    b[i] = 1;
    g_assert_false (decodes (b, n));
  }

  /* ACK: status, reason and limit in range and consistent, refresh > 0 */
  memset (&m, 0, sizeof (m));
  m.type = RELAY_CONTROL_ACK;
  m.accepted = TRUE;
  m.refresh_ms = 1000;
  n = encode (&m, good);
  g_assert_true (decodes (good, n));
  for (i = 0; i < n; i++)
    g_assert_false (decodes (good, i));
  memcpy (b, good, n);
  b[13] = 2;
  g_assert_false (decodes (b, n));
  memcpy (b, good, n);
  b[14] = RELAY_CONTROL_REASON_TOKEN;   /* accepted with a reason */
  g_assert_false (decodes (b, n));
  memcpy (b, good, n);
  b[13] = 1;                    /* refused without a reason */
  g_assert_false (decodes (b, n));
  b[14] = 4;                    /* unknown reason */
  g_assert_false (decodes (b, n));
  memcpy (b, good, n);
  b[15] = 8;
  g_assert_false (decodes (b, n));
  memcpy (b, good, n);
  b[32] = b[33] = b[34] = b[35] = 0;
  g_assert_false (decodes (b, n));
}

/* The SUBSCRIBE's RTCP port (flags bit 1, a last word after the token):
 * round trip for every token length; without it, the bytes of a request
 * from before the field existed; malformed words refused. */
static void
test_rtcp_port_codec (void)
{
  guint8 buf[RELAY_CONTROL_MAX_PACKET], old[RELAY_CONTROL_MAX_PACKET], b[300];
  RelayControlMessage m, d;
  gsize n, n_old;
  guint tl;

  for (tl = 0; tl <= RELAY_CONTROL_MAX_TOKEN; tl++) {
    memset (&m, 0, sizeof (m));
    m.type = RELAY_CONTROL_SUBSCRIBE;
    m.limit = tl % 8;
    m.has_cookie = TRUE;
    memset (m.cookie, 0x5a, 16);
    m.token_len = tl;
    memset (m.token, 't', tl);
    n_old = encode (&m, old);
    g_assert_true (relay_control_decode (old, n_old, &d));
    /* an old request: no RTCP port */
    g_assert_false (d.has_rtcp_port);
    g_assert_cmpuint (d.rtcp_port, ==, 0);
    g_assert_cmphex (old[14], ==, 0x01);

    m.has_rtcp_port = TRUE;
    m.rtcp_port = 1 + tl * 1000;
    n = encode (&m, buf);
    g_assert_cmpuint (n, ==, n_old + 4);
    g_assert_cmphex (buf[14], ==, 0x03);
    /* the same bytes but the length, the flag and the last word */
    g_assert_cmpmem (buf + 4, 10, old + 4, 10);
    g_assert_cmpmem (buf + 15, n_old - 15, old + 15, n_old - 15);
    g_assert_cmpuint (GST_READ_UINT16_BE (buf + n - 4), ==, 1 + tl * 1000);
    g_assert_cmpuint (GST_READ_UINT16_BE (buf + n - 2), ==, 0);
    g_assert_true (relay_control_decode (buf, n, &d));
    g_assert_true (d.has_rtcp_port);
    g_assert_cmpuint (d.rtcp_port, ==, 1 + tl * 1000);
    g_assert_cmpuint (d.token_len, ==, tl);
    g_assert_cmpmem (d.token, tl, m.token, tl);
    g_assert_cmpuint (d.limit, ==, tl % 8);

    /* malformed: port 0, reserved bits, the word missing or extra */
    memcpy (b, buf, n);
    b[n - 4] = b[n - 3] = 0;
    g_assert_false (decodes (b, n));
    memcpy (b, buf, n);
    b[n - 1] = 1;
    g_assert_false (decodes (b, n));
    memcpy (b, buf, n);
    b[14] = 0x01;               /* a word without the flag */
    g_assert_false (decodes (b, n));
    memcpy (b, old, n_old);
    b[14] = 0x03;               /* the flag without the word */
    g_assert_false (decodes (b, n_old));
  }
  m.has_rtcp_port = TRUE;
  m.rtcp_port = 65535;
  m.token_len = 0;
  n = encode (&m, buf);
  g_assert_true (relay_control_decode (buf, n, &d));
  g_assert_cmpuint (d.rtcp_port, ==, 65535);
  /* port 0 is not encoded */
  m.rtcp_port = 0;
  g_assert_cmpuint (relay_control_encode (&m, buf, sizeof (buf)), ==, 0);
}

/* The SUBSCRIBE's auto flag (flags bit 2): round trip, the bytes of a
 * request without it unchanged, an unknown flag still refused. */
static void
test_auto_codec (void)
{
  guint8 buf[RELAY_CONTROL_MAX_PACKET], old[RELAY_CONTROL_MAX_PACKET];
  RelayControlMessage m, d;
  gsize n, n_old;

  memset (&m, 0, sizeof (m));
  m.type = RELAY_CONTROL_SUBSCRIBE;
  m.limit = 2;
  m.has_cookie = TRUE;
  m.has_rtcp_port = TRUE;
  m.rtcp_port = 5001;
  m.token_len = 3;
  memcpy (m.token, "abc", 3);
  n_old = encode (&m, old);
  g_assert_true (relay_control_decode (old, n_old, &d));
  g_assert_false (d.auto_limit);
  m.auto_limit = TRUE;
  n = encode (&m, buf);
  g_assert_cmpuint (n, ==, n_old);
  g_assert_cmphex (buf[14], ==, 0x07);
  g_assert_cmpmem (buf + 15, n - 15, old + 15, n - 15);
  g_assert_true (relay_control_decode (buf, n, &d));
  g_assert_true (d.auto_limit);
  g_assert_true (d.has_rtcp_port);
  g_assert_cmpuint (d.limit, ==, 2);
  buf[14] = 0x0f;               /* bit 3: unknown */
  g_assert_false (decodes (buf, n));
}

/* --- cookies ---------------------------------------------------------------- */

/* An IPv6 cookie binds all 128 bits of the address and the port; an
 * IPv4 RelayAddr's cookie is the IPv4 one; v4-mapped is that IPv4. */
static void
test_cookie_v6 (void)
{
  guint8 secret[32], c1[16], c2[16];
  RelayAddr a, b;
  struct sockaddr_in6 s6 = {.sin6_family = AF_INET6 };
  int bit;

  memset (secret, 1, sizeof (secret));
  g_assert_true (relay_control_parse_address ("[fd00:200:11::2]:6000", &a,
          NULL));
  relay_control_cookie_addr (secret, 32, &a, 100, c1);
  relay_control_cookie_addr (secret, 32, &a, 100, c2);
  g_assert_true (relay_control_equal (c1, c2, 16));
  for (bit = 0; bit < 128; bit++) {
    b = a;
    b.v6.sin6_addr.s6_addr[bit / 8] ^= 0x80 >> (bit % 8);
    relay_control_cookie_addr (secret, 32, &b, 100, c2);
    g_assert_false (relay_control_equal (c1, c2, 16));
  }
  b = a;
  relay_addr_set_port (&b, 6001);
  relay_control_cookie_addr (secret, 32, &b, 100, c2);
  g_assert_false (relay_control_equal (c1, c2, 16));
  relay_control_cookie_addr (secret, 32, &a, 101, c2);
  g_assert_false (relay_control_equal (c1, c2, 16));

  /* IPv4 */
  g_assert_true (relay_control_parse_address ("10.0.0.2:6000", &b, NULL));
  relay_control_cookie_addr (secret, 32, &b, 100, c1);
  relay_control_cookie (secret, 32, inet_addr ("10.0.0.2"), 6000, 100, c2);
  g_assert_true (relay_control_equal (c1, c2, 16));
  /* v4-mapped from a dual-stack socket: the same peer */
  inet_pton (AF_INET6, "::ffff:10.0.0.2", &s6.sin6_addr);
  s6.sin6_port = htons (6000);
  g_assert_true (relay_addr_from_native (&a, &s6, sizeof (s6)));
  g_assert_cmpint (a.sa.sa_family, ==, AF_INET);
  g_assert_true (relay_addr_equal (&a, &b));
}

static void
test_cookie (void)
{
  guint8 secret[32], other[32], c1[16], c2[16];
  guint32 a = inet_addr ("10.0.0.2");

  memset (secret, 1, sizeof (secret));
  memset (other, 2, sizeof (other));
  relay_control_cookie (secret, 32, a, 6000, 100, c1);
  relay_control_cookie (secret, 32, a, 6000, 100, c2);
  g_assert_true (relay_control_equal (c1, c2, 16));
  relay_control_cookie (secret, 32, a, 6001, 100, c2);
  g_assert_false (relay_control_equal (c1, c2, 16));
  relay_control_cookie (secret, 32, inet_addr ("10.0.0.3"), 6000, 100, c2);
  g_assert_false (relay_control_equal (c1, c2, 16));
  relay_control_cookie (secret, 32, a, 6000, 101, c2);
  g_assert_false (relay_control_equal (c1, c2, 16));
  relay_control_cookie (other, 32, a, 6000, 100, c2);
  g_assert_false (relay_control_equal (c1, c2, 16));
  memcpy (c2, c1, 16);
  c2[15] ^= 1;
  g_assert_false (relay_control_equal (c1, c2, 16));
  c2[15] ^= 1;
  c2[0] ^= 0x80;
  g_assert_false (relay_control_equal (c1, c2, 16));
}

static void
test_parse_address (void)
{
  RelayAddr a;
  GError *err = NULL;
  const gchar *bad[] = { NULL, "", "1.2.3.4", ":5000", "1.2.3.4:",
    "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:-1", "1.2.3.4:50x",
    "1.2.3.4: 5", "::1:5000", "[::]:5000", "[1.2.3.4]:5000", "[::1:5000",
    "no.such.host.invalid:5000", "0.0.0.0:5000"
  };
  guint i;
  struct in6_addr want6;

  g_assert_true (relay_control_parse_address ("10.1.2.3:5006", &a, NULL));
  g_assert_cmpint (a.sa.sa_family, ==, AF_INET);
  g_assert_cmpuint (ntohs (a.v4.sin_port), ==, 5006);
  g_assert_cmphex (a.v4.sin_addr.s_addr, ==, inet_addr ("10.1.2.3"));
  g_assert_true (relay_control_parse_address ("localhost:1", &a, NULL));
  g_assert_cmphex (a.v4.sin_addr.s_addr, ==, htonl (INADDR_LOOPBACK));
  /* IPv6 in brackets */
  g_assert_true (relay_control_parse_address ("[2001:db8::5]:5005", &a,
          NULL));
  g_assert_cmpint (a.sa.sa_family, ==, AF_INET6);
  g_assert_cmpuint (ntohs (a.v6.sin6_port), ==, 5005);
  inet_pton (AF_INET6, "2001:db8::5", &want6);
  g_assert_cmpmem (&a.v6.sin6_addr, 16, &want6, 16);
  g_assert_true (relay_control_parse_address ("[::ffff:10.0.0.7]:9", &a,
          NULL));
  g_assert_cmpint (a.sa.sa_family, ==, AF_INET);
  g_assert_cmphex (a.v4.sin_addr.s_addr, ==, inet_addr ("10.0.0.7"));
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (relay_control_parse_address (bad[i], &a, &err));
    g_assert_nonnull (err);
    /* the message names what was given */
    if (bad[i] && *bad[i])
      g_assert_nonnull (strstr (err->message, bad[i]));
    g_clear_error (&err);
  }
}

/* --- server, seen from raw sockets ------------------------------------------- */

typedef struct
{
  GMutex lock;
  GString *log;                 /* "add 127.0.0.1:p 3;" ... */
  gboolean refuse;
  gint adds, removes, limits;
} Recorder;

static gboolean
rec_add (const gchar * addr, guint16 port, guint limit, gpointer user_data)
{
  Recorder *r = user_data;
  gboolean ok;

  g_mutex_lock (&r->lock);
  ok = !r->refuse;
  g_string_append_printf (r->log, "add %s:%u %u%s;", addr, port, limit,
      ok ? "" : " refused");
  if (ok)
    r->adds++;
  g_mutex_unlock (&r->lock);
  return ok;
}

static gboolean
rec_set_limit (const gchar * addr, guint16 port, guint limit,
    gpointer user_data)
{
  Recorder *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "limit %s:%u %u;", addr, port, limit);
  r->limits++;
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static void
rec_remove (const gchar * addr, guint16 port, gpointer user_data)
{
  Recorder *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "remove %s:%u;", addr, port);
  r->removes++;
  g_mutex_unlock (&r->lock);
}

static const RelayControlServerCallbacks rec_callbacks = {
  rec_add, rec_set_limit, rec_remove
};

static gboolean
rec_add_rtcp (const gchar * addr, guint16 port, guint limit, gint rtcp,
    gpointer user_data)
{
  Recorder *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "add %s:%u %u rtcp %d;", addr, port, limit,
      rtcp);
  r->adds++;
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static gboolean
rec_set_rtcp (const gchar * addr, guint16 port, gint rtcp, gpointer user_data)
{
  Recorder *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "rtcp %s:%u %d;", addr, port, rtcp);
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static const RelayControlServerCallbacks rec_rtcp_callbacks = {
  rec_add, rec_set_limit, rec_remove, rec_add_rtcp, rec_set_rtcp
};

static gboolean
rec_set_auto (const gchar * addr, guint16 port, gboolean auto_limit,
    gpointer user_data)
{
  Recorder *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "auto %s:%u %d;", addr, port, auto_limit);
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static const RelayControlServerCallbacks rec_auto_callbacks = {
  rec_add, rec_set_limit, rec_remove, rec_add_rtcp, rec_set_rtcp,
  rec_set_auto
};

static Recorder *
recorder_new (void)
{
  Recorder *r = g_new0 (Recorder, 1);

  g_mutex_init (&r->lock);
  r->log = g_string_new (NULL);
  return r;
}

static void
recorder_free (Recorder * r)
{
  g_string_free (r->log, TRUE);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static gchar *
recorder_take (Recorder * r, gboolean wait)
{
  gint64 end = g_get_monotonic_time () + (wait ? 2 * G_TIME_SPAN_SECOND : 0);
  gchar *s;

  /* The server counts a subscriber's change (its stats, which the tests
   * wait for) before it calls the callback, from its own thread: give the
   * callback that time when something is expected. */
  g_mutex_lock (&r->lock);
  while (r->log->len == 0 && g_get_monotonic_time () < end) {
    g_mutex_unlock (&r->lock);
    g_usleep (1000);
    g_mutex_lock (&r->lock);
  }
  s = g_strdup (r->log->str);
  g_string_truncate (r->log, 0);
  g_mutex_unlock (&r->lock);
  return s;
}

#define assert_log(r, expected) G_STMT_START {          \
    gchar *_l = recorder_take (r, (expected)[0] != 0);  \
    g_assert_cmpstr (_l, ==, expected);                 \
    g_free (_l);                                        \
  } G_STMT_END

static int
udp_socket (guint16 * port)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  g_assert_cmpint (fd, >=, 0);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &a, sizeof (a)), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &a, &len), ==, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  *port = ntohs (a.sin_port);
  return fd;
}

static void
send_raw (int fd, guint16 port, const guint8 * buf, gsize len)
{
  struct sockaddr_in to = {.sin_family = AF_INET };

  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (port);
  g_assert_cmpint (sendto (fd, buf, len, 0, (struct sockaddr *) &to,
          sizeof (to)), ==, (gssize) len);
}

static void
send_msg_raw (int fd, guint16 port, const RelayControlMessage * m)
{
  guint8 buf[RELAY_CONTROL_MAX_PACKET];

  send_raw (fd, port, buf, encode (m, buf));
}

/* The next message on @fd, which must come within 2 s; its size in @len. */
static void
recv_msg (int fd, RelayControlMessage * m, gsize * len)
{
  guint8 buf[512];
  ssize_t n = recv (fd, buf, sizeof (buf), 0);

  g_assert_cmpint (n, >, 0);
  g_assert_true (relay_control_decode (buf, n, m));
  if (len)
    *len = n;
}

static gboolean
nothing_within (int fd, guint ms)
{
  guint8 buf[512];
  struct timeval tv = {.tv_usec = ms * 1000 }, two = {.tv_sec = 2 };
  ssize_t n;

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  n = recv (fd, buf, sizeof (buf), 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &two, sizeof (two));
  return n < 0;
}

static RelayControlServerStats
stats_of (RelayControlServer * s)
{
  RelayControlServerStats st;

  relay_control_server_get_stats (s, &st);
  return st;
}

/* Waits until @expr holds (it reads server state updated by its thread). */
#define wait_for(expr) G_STMT_START {                                    \
    gint64 _end = g_get_monotonic_time () + WAIT_US;                    \
    while (!(expr) && g_get_monotonic_time () < _end)                   \
      g_usleep (2000);                                                  \
    g_assert_true (expr);                                               \
  } G_STMT_END

static RelayControlServer *
server_new (Recorder * r)
{
  GError *err = NULL;
  RelayControlServer *s = relay_control_server_new (0, "127.0.0.1",
      &rec_callbacks, r, &err);

  g_assert_no_error (err);
  g_assert_nonnull (s);
  g_assert_cmpuint (relay_control_server_get_port (s), >, 0);
  return s;
}

/* SUBSCRIBE, CHALLENGE, SUBSCRIBE with the cookie, ACK. Returns the ACK. */
static RelayControlMessage
handshake (int fd, guint16 sport, guint limit, const gchar * token)
{
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE,.limit = limit };
  RelayControlMessage reply;
  gsize sub_len, ch_len;
  guint8 buf[RELAY_CONTROL_MAX_PACKET];

  if (token) {
    m.token_len = strlen (token);
    memcpy (m.token, token, m.token_len);
  }
  sub_len = encode (&m, buf);
  send_raw (fd, sport, buf, sub_len);
  recv_msg (fd, &reply, &ch_len);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  /* never more bytes back than came in */
  g_assert_cmpuint (ch_len, <=, sub_len);
  m.has_cookie = TRUE;
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_ACK);
  return reply;
}

static void
test_server_subscribe (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 sport = relay_control_server_get_port (s), cport;
  int fd = udp_socket (&cport);
  RelayControlMessage ack, m;
  RelayControlServerStats st;
  gchar *expect;

  relay_control_server_set_timeout (s, 9000);
  ack = handshake (fd, sport, 3, NULL);
  g_assert_true (ack.accepted);
  g_assert_cmpuint (ack.limit, ==, 3);
  g_assert_cmpuint (ack.refresh_ms, ==, 3000);
  expect = g_strdup_printf ("add 127.0.0.1:%u 3;", cport);
  assert_log (r, expect);
  g_free (expect);
  st = stats_of (s);
  g_assert_cmpuint (st.accepted, ==, 1);
  g_assert_cmpuint (st.challenges, ==, 1);
  g_assert_cmpuint (st.subscribers, ==, 1);

  /* refresh with the ACK's cookie; then a new limit */
  m = (RelayControlMessage) {
  .type = RELAY_CONTROL_SUBSCRIBE,.limit = 3,.has_cookie = TRUE};
  memcpy (m.cookie, ack.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &ack, NULL);
  g_assert_true (ack.accepted);
  m.limit = 6;
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &ack, NULL);
  g_assert_true (ack.accepted);
  g_assert_cmpuint (ack.limit, ==, 6);
  expect = g_strdup_printf ("limit 127.0.0.1:%u 6;", cport);
  assert_log (r, expect);
  g_free (expect);
  st = stats_of (s);
  g_assert_cmpuint (st.refreshed, ==, 2);
  g_assert_cmpuint (st.accepted, ==, 1);

  /* a forged UNSUBSCRIBE does nothing; the real one removes at once */
  m = (RelayControlMessage) {
  .type = RELAY_CONTROL_UNSUBSCRIBE};
  memset (m.cookie, 0x42, 16);
  send_msg_raw (fd, sport, &m);
  wait_for (stats_of (s).refused_cookie == 1);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 1);
  memcpy (m.cookie, ack.cookie, 16);
  send_msg_raw (fd, sport, &m);
  wait_for (stats_of (s).unsubscribed == 1);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 0);
  expect = g_strdup_printf ("remove 127.0.0.1:%u;", cport);
  assert_log (r, expect);
  g_free (expect);
  /* no answer to an UNSUBSCRIBE */
  g_assert_true (nothing_within (fd, 100));

  close (fd);
  relay_control_server_free (s);
  assert_log (r, "");
  recorder_free (r);
}

/* The server hands the RTCP port of a SUBSCRIBE to add_rtcp (-1 when it
 * names none, an old request), and a changed one on a refresh to
 * set_rtcp; a server with the old callbacks only still adds. */
static void
test_server_rtcp_port (void)
{
  Recorder *r = recorder_new ();
  GError *err = NULL;
  RelayControlServer *s = relay_control_server_new (0, "127.0.0.1",
      &rec_rtcp_callbacks, r, &err);
  guint16 sport = relay_control_server_get_port (s), cport, cport2;
  int fd = udp_socket (&cport), fd2 = udp_socket (&cport2);
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE,.limit = 2 };
  RelayControlMessage reply;
  gchar *expect;

  g_assert_no_error (err);
  /* with an RTCP port: challenge, then the cookie */
  m.has_rtcp_port = TRUE;
  m.rtcp_port = 7011;
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  m.has_cookie = TRUE;
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_true (reply.accepted);
  expect = g_strdup_printf ("add 127.0.0.1:%u 2 rtcp 7011;", cport);
  assert_log (r, expect);
  g_free (expect);
  /* a refresh with the same port: nothing; another (its media port: mux) */
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  assert_log (r, "");
  m.rtcp_port = cport;
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  expect = g_strdup_printf ("rtcp 127.0.0.1:%u %u;", cport, cport);
  assert_log (r, expect);
  g_free (expect);
  /* and back to none */
  m.has_rtcp_port = FALSE;
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  expect = g_strdup_printf ("rtcp 127.0.0.1:%u -1;", cport);
  assert_log (r, expect);
  g_free (expect);

  /* an old request (no RTCP port): -1 */
  reply = handshake (fd2, sport, 4, NULL);
  g_assert_true (reply.accepted);
  expect = g_strdup_printf ("add 127.0.0.1:%u 4 rtcp -1;", cport2);
  assert_log (r, expect);
  g_free (expect);
  close (fd);
  close (fd2);
  relay_control_server_free (s);
  g_free (recorder_take (r, FALSE));

  /* the old callbacks only: a request with an RTCP port still adds */
  s = server_new (r);
  sport = relay_control_server_get_port (s);
  fd = udp_socket (&cport);
  m = (RelayControlMessage) {
  .type = RELAY_CONTROL_SUBSCRIBE,.limit = 1,.has_rtcp_port = TRUE,
        .rtcp_port = 9};
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  m.has_cookie = TRUE;
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_true (reply.accepted);
  expect = g_strdup_printf ("add 127.0.0.1:%u 1;", cport);
  assert_log (r, expect);
  g_free (expect);
  close (fd);
  relay_control_server_free (s);
  recorder_free (r);
}

/* The auto flag: set_auto after the add of a SUBSCRIBE with it, and on a
 * refresh that clears or sets it; nothing for a refresh that keeps it. */
static void
test_server_auto (void)
{
  Recorder *r = recorder_new ();
  GError *err = NULL;
  RelayControlServer *s = relay_control_server_new (0, "127.0.0.1",
      &rec_auto_callbacks, r, &err);
  guint16 sport = relay_control_server_get_port (s), cport;
  int fd = udp_socket (&cport);
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE,.limit = 0,
    .auto_limit = TRUE
  };
  RelayControlMessage reply;
  gchar *expect;

  g_assert_no_error (err);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  m.has_cookie = TRUE;
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_true (reply.accepted);
  expect = g_strdup_printf ("add 127.0.0.1:%u 0 rtcp -1;auto 127.0.0.1:%u 1;",
      cport, cport);
  assert_log (r, expect);
  g_free (expect);
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  assert_log (r, "");
  m.auto_limit = FALSE;
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  expect = g_strdup_printf ("auto 127.0.0.1:%u 0;", cport);
  assert_log (r, expect);
  g_free (expect);
  close (fd);
  relay_control_server_free (s);
  recorder_free (r);
}

static void
test_server_token (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 sport = relay_control_server_get_port (s), cport;
  int fd = udp_socket (&cport);
  RelayControlMessage ack;

  relay_control_server_set_token (s, "sesame");
  ack = handshake (fd, sport, 0, NULL);
  g_assert_false (ack.accepted);
  g_assert_cmpint (ack.reason, ==, RELAY_CONTROL_REASON_TOKEN);
  ack = handshake (fd, sport, 0, "sesam");
  g_assert_false (ack.accepted);
  ack = handshake (fd, sport, 0, "sesame!");
  g_assert_false (ack.accepted);
  ack = handshake (fd, sport, 0, "Sesame");
  g_assert_false (ack.accepted);
  assert_log (r, "");
  g_assert_cmpuint (stats_of (s).refused_token, ==, 4);
  ack = handshake (fd, sport, 0, "sesame");
  g_assert_true (ack.accepted);
  g_assert_cmpuint (stats_of (s).accepted, ==, 1);

  /* no token required again */
  relay_control_server_set_token (s, NULL);
  ack = handshake (fd, sport, 0, NULL);
  g_assert_true (ack.accepted);

  close (fd);
  relay_control_server_free (s);
  recorder_free (r);
}

static void
test_server_max_clients_and_refusal (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 sport = relay_control_server_get_port (s), p1, p2, p3;
  int a = udp_socket (&p1), b = udp_socket (&p2), c = udp_socket (&p3);
  RelayControlMessage ack;

  relay_control_server_set_max_clients (s, 2);
  g_assert_true (handshake (a, sport, 1, NULL).accepted);
  g_assert_true (handshake (b, sport, 2, NULL).accepted);
  ack = handshake (c, sport, 3, NULL);
  g_assert_false (ack.accepted);
  g_assert_cmpint (ack.reason, ==, RELAY_CONTROL_REASON_FULL);
  /* those in stay in: a refresh is not a new client */
  g_assert_true (handshake (a, sport, 1, NULL).accepted);
  g_assert_cmpuint (stats_of (s).refused_full, ==, 1);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 2);

  /* the relay's own refusal (e.g. a forwarding loop) */
  relay_control_server_set_max_clients (s, 0);
  g_mutex_lock (&r->lock);
  r->refuse = TRUE;
  g_mutex_unlock (&r->lock);
  ack = handshake (c, sport, 3, NULL);
  g_assert_false (ack.accepted);
  g_assert_cmpint (ack.reason, ==, RELAY_CONTROL_REASON_REFUSED);
  g_assert_cmpuint (stats_of (s).refused_relay, ==, 1);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 2);

  /* free tells the relay about everyone left */
  close (a);
  close (b);
  close (c);
  relay_control_server_free (s);
  g_assert_cmpint (r->removes, ==, 2);
  recorder_free (r);
}

static GMutex fake_lock;
static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  gint64 t;

  g_mutex_lock (&fake_lock);
  t = fake_now;
  g_mutex_unlock (&fake_lock);
  return t;
}

static void
fake_advance (gint64 us)
{
  g_mutex_lock (&fake_lock);
  fake_now += us;
  g_mutex_unlock (&fake_lock);
}

static void
test_server_replay (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 sport = relay_control_server_get_port (s), pa, pb;
  int a = udp_socket (&pa), b = udp_socket (&pb);
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE,.has_cookie = TRUE
  }, reply;
  guint8 cookie_a[16];

  fake_advance (1000 * G_USEC_PER_SEC);
  relay_control_server_set_clock (s, fake_clock, NULL);

  /* A's cookie */
  m.has_cookie = FALSE;
  send_msg_raw (a, sport, &m);
  recv_msg (a, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  memcpy (cookie_a, reply.cookie, 16);

  /* used from B (another port): B is challenged, nobody is added */
  m.has_cookie = TRUE;
  memcpy (m.cookie, cookie_a, 16);
  send_msg_raw (b, sport, &m);
  recv_msg (b, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  g_assert_true (nothing_within (a, 50));
  g_assert_cmpuint (stats_of (s).refused_cookie, ==, 1);

  /* forged: random bytes */
  memset (m.cookie, 0x5a, 16);
  send_msg_raw (a, sport, &m);
  recv_msg (a, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  g_assert_cmpuint (stats_of (s).refused_cookie, ==, 2);

  /* in the next bucket it is still good... */
  fake_advance (RELAY_CONTROL_BUCKET_MS * 1000);
  memcpy (m.cookie, cookie_a, 16);
  send_msg_raw (a, sport, &m);
  recv_msg (a, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_ACK);
  g_assert_true (reply.accepted);
  /* (unsubscribe so that the replay below would have to add again) */
  m.type = RELAY_CONTROL_UNSUBSCRIBE;
  send_msg_raw (a, sport, &m);
  wait_for (stats_of (s).unsubscribed == 1);

  /* ...one more and it is a replay: refused and challenged again */
  fake_advance (RELAY_CONTROL_BUCKET_MS * 1000);
  m.type = RELAY_CONTROL_SUBSCRIBE;
  send_msg_raw (a, sport, &m);
  recv_msg (a, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  g_assert_cmpuint (stats_of (s).refused_cookie, ==, 3);
  g_assert_cmpuint (stats_of (s).accepted, ==, 1);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 0);
  /* and the fresh cookie works */
  memcpy (m.cookie, reply.cookie, 16);
  send_msg_raw (a, sport, &m);
  recv_msg (a, &reply, NULL);
  g_assert_true (reply.accepted);

  close (a);
  close (b);
  relay_control_server_free (s);
  recorder_free (r);
}

static void
test_server_expiry (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 sport = relay_control_server_get_port (s), cport;
  int fd = udp_socket (&cport);
  RelayControlMessage ack, m = {.type = RELAY_CONTROL_SUBSCRIBE,
    .has_cookie = TRUE
  };
  gint64 start;
  gint i;

  relay_control_server_set_timeout (s, 300);
  ack = handshake (fd, sport, 0, NULL);
  g_assert_cmpuint (ack.refresh_ms, ==, 100);
  /* refreshing keeps it */
  for (i = 0; i < 8; i++) {
    g_usleep (100 * 1000);
    memcpy (m.cookie, ack.cookie, 16);
    send_msg_raw (fd, sport, &m);
    recv_msg (fd, &ack, NULL);
    g_assert_true (ack.accepted);
  }
  g_assert_cmpuint (stats_of (s).expired, ==, 0);
  g_assert_cmpint (r->removes, ==, 0);
  /* silence removes it, within timeout + one sweep */
  start = g_get_monotonic_time ();
  wait_for (stats_of (s).expired == 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 600 * 1000);
  g_assert_cmpint (r->removes, ==, 1);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 0);

  close (fd);
  relay_control_server_free (s);
  g_assert_cmpint (r->removes, ==, 1);
  recorder_free (r);
}

static void
test_server_malformed (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 sport = relay_control_server_get_port (s), cport;
  int fd = udp_socket (&cport);
  guint8 big[1200];
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE }, reply;
  guint8 buf[RELAY_CONTROL_MAX_PACKET];
  gsize n;

  memset (big, 0, sizeof (big));
  send_raw (fd, sport, (const guint8 *) "hello", 5);
  send_raw (fd, sport, big, sizeof (big));
  n = encode (&m, buf);
  memcpy (big, buf, n);
  big[2] = (sizeof (big) / 4 - 1) >> 8;
  big[3] = (sizeof (big) / 4 - 1) & 0xff;
  send_raw (fd, sport, big, sizeof (big));      /* oversized */
  send_raw (fd, sport, buf, n - 4);     /* truncated */
  m.type = RELAY_CONTROL_ACK;   /* a server's message */
  m.accepted = TRUE;
  m.refresh_ms = 5;
  send_msg_raw (fd, sport, &m);
  buf[0] = 0x80 | 7;            /* unknown subtype */
  send_raw (fd, sport, buf, n);
  wait_for (stats_of (s).malformed == 6);
  g_assert_true (nothing_within (fd, 100));
  /* and it still serves */
  m = (RelayControlMessage) {
  .type = RELAY_CONTROL_SUBSCRIBE};
  send_msg_raw (fd, sport, &m);
  recv_msg (fd, &reply, NULL);
  g_assert_cmpint (reply.type, ==, RELAY_CONTROL_CHALLENGE);
  assert_log (r, "");

  close (fd);
  relay_control_server_free (s);
  recorder_free (r);
}

/* --- server and client together ---------------------------------------------- */

typedef struct
{
  RelayControlClient *client;
  GSocket *socket;
  gboolean stop;
  guint64 media;                /* non-control datagrams seen */
} Reader;

/* What the element's streaming thread does: read the media socket, hand
 * control packets to the client. */
static gpointer
reader_thread (gpointer user_data)
{
  Reader *rd = user_data;
  int fd = g_socket_get_fd (rd->socket);
  struct timeval tv = {.tv_usec = 20000 };

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  while (!g_atomic_int_get (&rd->stop)) {
    guint8 buf[2048];
    struct sockaddr_storage from;
    socklen_t flen = sizeof (from);
    ssize_t n = recvfrom (fd, buf, sizeof (buf), 0,
        (struct sockaddr *) &from, &flen);

    if (n <= 0)
      continue;
    RelayAddr fa;

    if (n > 0)
      relay_addr_from_native (&fa, &from, flen);
    if (!relay_control_client_handle (rd->client, buf, n, &fa))
      rd->media++;
  }
  return NULL;
}

typedef struct
{
  GMutex lock;
  RelayControlClientState state;
  RelayControlReason reason;
  guint changes;
} Notes;

static void
on_notify (RelayControlClientState state, RelayControlReason reason,
    gpointer user_data)
{
  Notes *n = user_data;

  g_mutex_lock (&n->lock);
  n->state = state;
  n->reason = reason;
  n->changes++;
  g_mutex_unlock (&n->lock);
}

/* The last state on_notify was told of (the client's own state changes
 * before its notification is delivered). */
static RelayControlClientState
notes_state (Notes * n)
{
  RelayControlClientState st;

  g_mutex_lock (&n->lock);
  st = n->state;
  g_mutex_unlock (&n->lock);
  return st;
}

static RelayControlClientState
client_state (RelayControlClient * c)
{
  RelayControlClientStats st;

  relay_control_client_get_stats (c, &st);
  return st.state;
}

static GSocket *
media_socket (guint16 * port)
{
  GError *err = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &err);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, 0);

  g_assert_no_error (err);
  g_assert_true (g_socket_bind (sock, sa, FALSE, &err));
  g_object_unref (sa);
  g_object_unref (lo);
  sa = g_socket_get_local_address (sock, &err);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));
  g_object_unref (sa);
  return sock;
}

static void
test_exchange (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 mport;
  GSocket *sock = media_socket (&mport);
  gchar *relay = g_strdup_printf ("127.0.0.1:%u",
      relay_control_server_get_port (s));
  Notes notes = { 0 };
  Reader rd = { 0 };
  GThread *th;
  GError *err = NULL;
  gchar *expect;
  RelayControlClientStats cst;

  g_mutex_init (&notes.lock);
  relay_control_server_set_timeout (s, 300);
  relay_control_server_set_token (s, "t0k");

  /* wrong token: refused, told why */
  rd.client = relay_control_client_new (sock, relay, "bad", 4, on_notify,
      &notes, &err);
  g_assert_no_error (err);
  rd.socket = sock;
  th = g_thread_new ("reader", reader_thread, &rd);
  relay_control_client_start (rd.client);
  wait_for (client_state (rd.client) == RELAY_CONTROL_CLIENT_REFUSED);
  wait_for (notes_state (&notes) == RELAY_CONTROL_CLIENT_REFUSED);
  g_mutex_lock (&notes.lock);
  g_assert_cmpint (notes.state, ==, RELAY_CONTROL_CLIENT_REFUSED);
  g_assert_cmpint (notes.reason, ==, RELAY_CONTROL_REASON_TOKEN);
  g_mutex_unlock (&notes.lock);
  g_atomic_int_set (&rd.stop, TRUE);
  g_thread_join (th);
  relay_control_client_free (rd.client);
  assert_log (r, "");

  /* right token */
  rd.stop = FALSE;
  rd.client = relay_control_client_new (sock, relay, "t0k", 4, on_notify,
      &notes, &err);
  g_assert_no_error (err);
  th = g_thread_new ("reader", reader_thread, &rd);
  relay_control_client_start (rd.client);
  wait_for (client_state (rd.client) == RELAY_CONTROL_CLIENT_SUBSCRIBED);
  /* the media address is the media socket's */
  expect = g_strdup_printf ("add 127.0.0.1:%u 4;", mport);
  assert_log (r, expect);
  g_free (expect);

  /* the limit follows */
  relay_control_client_set_limit (rd.client, 6);
  wait_for (r->limits == 1);
  expect = g_strdup_printf ("limit 127.0.0.1:%u 6;", mport);
  assert_log (r, expect);
  g_free (expect);
  relay_control_client_get_stats (rd.client, &cst);
  wait_for ((relay_control_client_get_stats (rd.client, &cst),
          cst.limit == 6));

  /* refreshes keep it for several timeouts */
  g_usleep (1000 * 1000);
  g_assert_cmpuint (stats_of (s).expired, ==, 0);
  g_assert_cmpuint (stats_of (s).subscribers, ==, 1);
  g_assert_cmpuint (stats_of (s).refreshed, >=, 5);
  g_assert_cmpint (client_state (rd.client), ==,
      RELAY_CONTROL_CLIENT_SUBSCRIBED);

  /* other packets on the media socket are media, control ones from
   * elsewhere are consumed as foreign */
  {
    guint16 op;
    int other = udp_socket (&op);
    RelayControlMessage fake = {.type = RELAY_CONTROL_ACK,.accepted = TRUE,
      .refresh_ms = 5
    };

    send_raw (other, mport, (const guint8 *) "media!!!", 8);
    send_msg_raw (other, mport, &fake);
    wait_for (rd.media == 1);
    wait_for ((relay_control_client_get_stats (rd.client, &cst),
            cst.foreign == 1));
    close (other);
  }

  /* stopping unsubscribes at once */
  g_atomic_int_set (&rd.stop, TRUE);
  g_thread_join (th);
  relay_control_client_free (rd.client);
  wait_for (stats_of (s).unsubscribed == 1);
  expect = g_strdup_printf ("remove 127.0.0.1:%u;", mport);
  assert_log (r, expect);
  g_free (expect);
  g_assert_cmpuint (stats_of (s).expired, ==, 0);
  g_assert_cmpuint (rd.media, ==, 1);

  g_object_unref (sock);
  g_free (relay);
  relay_control_server_free (s);
  recorder_free (r);
  g_mutex_clear (&notes.lock);
}

/* A relay that goes away and comes back (same port): the client notices
 * the silence and subscribes again from the start. */
static void
test_exchange_relay_restart (void)
{
  Recorder *r = recorder_new ();
  RelayControlServer *s = server_new (r);
  guint16 port = relay_control_server_get_port (s), mport;
  GSocket *sock = media_socket (&mport);
  gchar *relay = g_strdup_printf ("127.0.0.1:%u", port);
  Reader rd = { 0 };
  GThread *th;
  GError *err = NULL;

  relay_control_server_set_timeout (s, 150);
  rd.socket = sock;
  rd.client = relay_control_client_new (sock, relay, NULL, 0, NULL, NULL,
      &err);
  g_assert_no_error (err);
  th = g_thread_new ("reader", reader_thread, &rd);
  relay_control_client_start (rd.client);
  wait_for (stats_of (s).accepted == 1);
  relay_control_server_free (s);
  g_assert_cmpint (r->removes, ==, 1);

  /* a new relay has a new secret: the old cookie is refused */
  s = relay_control_server_new (port, "127.0.0.1", &rec_callbacks, r, &err);
  g_assert_no_error (err);
  relay_control_server_set_timeout (s, 150);
  wait_for (stats_of (s).accepted == 1);
  g_assert_cmpint (client_state (rd.client), ==,
      RELAY_CONTROL_CLIENT_SUBSCRIBED);

  g_atomic_int_set (&rd.stop, TRUE);
  g_thread_join (th);
  relay_control_client_free (rd.client);
  g_object_unref (sock);
  g_free (relay);
  relay_control_server_free (s);
  recorder_free (r);
}

static void
test_client_bad_settings (void)
{
  guint16 p;
  GSocket *sock = media_socket (&p);
  GError *err = NULL;
  gchar *longtok = g_strnfill (65, 'a');

  g_assert_null (relay_control_client_new (sock, "127.0.0.1:70000", NULL, 0,
          NULL, NULL, &err));
  g_assert_nonnull (strstr (err->message, "70000"));
  g_clear_error (&err);
  g_assert_null (relay_control_client_new (sock, "nonsense", NULL, 0,
          NULL, NULL, &err));
  g_assert_nonnull (strstr (err->message, "nonsense"));
  g_clear_error (&err);
  g_assert_null (relay_control_client_new (sock, "127.0.0.1:5000", NULL, 8,
          NULL, NULL, &err));
  g_assert_nonnull (strstr (err->message, "8"));
  g_clear_error (&err);
  g_assert_null (relay_control_client_new (sock, "127.0.0.1:5000", longtok,
          0, NULL, NULL, &err));
  g_clear_error (&err);
  /* never started: frees without sending */
  relay_control_client_free (relay_control_client_new (sock,
          "127.0.0.1:5000", NULL, 0, NULL, NULL, NULL));
  g_free (longtok);
  g_object_unref (sock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/control/round-trip", test_round_trip);
  g_test_add_func ("/control/malformed", test_malformed);
  g_test_add_func ("/control/rtcp-port/codec", test_rtcp_port_codec);
  g_test_add_func ("/control/auto-codec", test_auto_codec);
  g_test_add_func ("/control/rtcp-port/server", test_server_rtcp_port);
  g_test_add_func ("/control/server/auto", test_server_auto);
  g_test_add_func ("/control/cookie", test_cookie);
  g_test_add_func ("/control/cookie-v6", test_cookie_v6);
  g_test_add_func ("/control/parse-address", test_parse_address);
  g_test_add_func ("/control/server/subscribe", test_server_subscribe);
  g_test_add_func ("/control/server/token", test_server_token);
  g_test_add_func ("/control/server/max-clients",
      test_server_max_clients_and_refusal);
  g_test_add_func ("/control/server/replay", test_server_replay);
  g_test_add_func ("/control/server/expiry", test_server_expiry);
  g_test_add_func ("/control/server/malformed", test_server_malformed);
  g_test_add_func ("/control/client/bad-settings", test_client_bad_settings);
  g_test_add_func ("/control/exchange", test_exchange);
  g_test_add_func ("/control/exchange/relay-restart",
      test_exchange_relay_restart);
  return g_test_run ();
}
