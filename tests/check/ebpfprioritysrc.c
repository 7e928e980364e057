/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfprioritysrc element tests: properties, the error for each bad
 * setting, and crafted RTP packets received on loopback through the
 * element's filter: exactly the packets at or above the limit come out,
 * a limit changed while PLAYING applies at once, control packets never
 * come out, the subscription at a relay (the server object of
 * ebpfrelay-control.c standing in for ebpfrelaysink) follows the element,
 * and rewrite-sps rewrites the SPSs a limit-7 viewer pushes (single NAL,
 * STAP-A, padded), not those of a limit-0 viewer that got B slices, nor
 * any with rewrite-sps=false.
 *
 * Built twice: as is, the userspace filter (no privilege needed); with
 * PSRC_TEST_KERNEL (ebpfprioritysrc-kernel.c), the kernel socket filter,
 * which exits 77 (skipped) without root. The kernel variant also proves
 * where a UDP socket filter's data starts: the filter reads the RTP header
 * at offset 8 (after the UDP header); at any other offset it would see no
 * RTP and drop nothing.
 */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "ebpfrelay-control-server.h"
#include "ebpfrelay-sps.h"

#ifdef PSRC_TEST_KERNEL
#define MODE "kernel"
#else
#define MODE "userspace"
#endif

#define H264_CAPS "application/x-rtp,media=video,encoding-name=H264," \
  "payload=96,clock-rate=90000"
#define VP8_CAPS "application/x-rtp,media=video,encoding-name=VP8," \
  "payload=97,clock-rate=90000"
#define MARKER_SEQ 60000

/* --- helpers ------------------------------------------------------------------ */

/* The tests below run over IPv4 (127.0.0.1), or over IPv6 (::1) when set. */
static gboolean use_v6;

static int
sender_socket (void)
{
  int fd = socket (use_v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  return fd;
}

static void
send_to (int fd, gint port, const guint8 * data, gsize len)
{
  struct sockaddr_in to = {.sin_family = AF_INET };
  struct sockaddr_in6 to6 = {.sin6_family = AF_INET6 };

  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (port);
  to6.sin6_addr = in6addr_loopback;
  to6.sin6_port = htons (port);
  if (use_v6)
    fail_unless (sendto (fd, data, len, 0, (struct sockaddr *) &to6,
            sizeof (to6)) == (gssize) len);
  else
    fail_unless (sendto (fd, data, len, 0, (struct sockaddr *) &to,
            sizeof (to)) == (gssize) len);
}

/* An RTP packet of payload type @pt whose payload starts with @first. */
static gsize
rtp_packet (guint8 * b, guint8 pt, guint16 seq, guint32 ts, guint32 ssrc,
    const guint8 * payload, gsize plen)
{
  b[0] = 0x80;
  b[1] = pt;
  GST_WRITE_UINT16_BE (b + 2, seq);
  GST_WRITE_UINT32_BE (b + 4, ts);
  GST_WRITE_UINT32_BE (b + 8, ssrc);
  memcpy (b + 12, payload, plen);
  return 12 + plen;
}

static void
send_h264 (int fd, gint port, guint16 seq, guint nri)
{
  guint8 b[64], payload[20];

  memset (payload, 0xab, sizeof (payload));
  payload[0] = (nri << 5) | (nri == 3 ? 5 : 1);     /* IDR or non-IDR slice */
  send_to (fd, port, b, rtp_packet (b, 96, seq, seq * 3000, 0x11223344,
          payload, sizeof (payload)));
}

static void
send_control (int fd, gint port)
{
  RelayControlMessage m = {.type = RELAY_CONTROL_ACK,.accepted = TRUE,
    .refresh_ms = 1000
  };
  guint8 b[RELAY_CONTROL_MAX_PACKET];
  gsize n = relay_control_encode (&m, b, sizeof (b));

  fail_unless (n > 0);
  send_to (fd, port, b, n);
}

/* Pulls buffers until the marker; returns the RTP sequence numbers seen
 * ("seq,seq,...") and non-RTP payloads as "[text]". Fails on a control
 * packet. */
static gchar *
pull_until_marker (GstHarness * h)
{
  GString *s = g_string_new (NULL);

  for (;;) {
    GstBuffer *buf = gst_harness_pull (h);
    GstMapInfo map;
    guint16 seq;

    fail_unless (buf != NULL, "no buffer");
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_if (relay_control_is_control (map.data, map.size),
        "a control packet came out");
    if (map.size >= 12 && (map.data[0] & 0xc0) == 0x80) {
      seq = GST_READ_UINT16_BE (map.data + 2);
      if (seq == MARKER_SEQ) {
        gst_buffer_unmap (buf, &map);
        gst_buffer_unref (buf);
        break;
      }
      g_string_append_printf (s, "%s%u", s->len ? "," : "", seq);
    } else {
      g_string_append_printf (s, "%s[%.*s]", s->len ? "," : "",
          (int) map.size, map.data);
    }
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  return g_string_free (s, FALSE);
}

static void
send_marker (int fd, gint port)
{
  guint8 b[64], payload[4] = { 0x65, 0, 0, 0 };  /* NRI 3: priority 7 */

  send_to (fd, port, b, rtp_packet (b, 96, MARKER_SEQ, 0, 0x11223344,
          payload, sizeof (payload)));
}

static GstHarness *
start_src (const gchar * caps, guint limit, gint * port)
{
  GstHarness *h = gst_harness_new_with_padnames ("ebpfprioritysrc", NULL,
      "src");
  GstCaps *c = gst_caps_from_string (caps);

  gst_util_set_object_arg (G_OBJECT (h->element), "mode", MODE);
  g_object_set (h->element, "address", use_v6 ? "::1" : "127.0.0.1", "port",
      0, "caps", c, "priority-limit", limit, NULL);
  gst_caps_unref (c);
  gst_harness_play (h);
  g_object_get (h->element, "port", port, NULL);
  fail_unless (*port > 0);
  return h;
}

static GstStructure *
src_stats (GstHarness * h)
{
  GstStructure *s;

  g_object_get (h->element, "stats", &s, NULL);
  return s;
}

static guint64
stat_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s", field);
  return v;
}

static gint
stat_int (const GstStructure * s, const gchar * field)
{
  gint v = 0;

  fail_unless (gst_structure_get_int (s, field, &v), "no %s", field);
  return v;
}

#include "check-start-error.h"

/* --- tests --------------------------------------------------------------------- */

#ifndef PSRC_TEST_KERNEL
GST_START_TEST (test_properties)
{
  GstElement *src = gst_element_factory_make ("ebpfprioritysrc", NULL);
  gchar *address, *relay, *token;
  gint port, bufsize, mode;
  guint limit, fm;
  GstCaps *caps;
  GSocket *sock;
  GstStructure *s;

  fail_unless (src != NULL);
  g_object_get (src, "address", &address, "port", &port, "caps", &caps,
      "buffer-size", &bufsize, "priority-limit", &limit, "framemarking-id",
      &fm, "relay", &relay, "token", &token, "mode", &mode, "used-socket",
      &sock, NULL);
  fail_unless_equals_string (address, "0.0.0.0");
  fail_unless_equals_int (port, 5004);
  fail_unless (caps == NULL);
  fail_unless_equals_int (bufsize, 0);
  fail_unless_equals_int (limit, 0);
  fail_unless_equals_int (fm, 0);
  fail_unless (relay == NULL);
  fail_unless (token == NULL);
  fail_unless_equals_int (mode, 0);     /* auto */
  fail_unless (sock == NULL);
  g_free (address);

  caps = gst_caps_from_string (H264_CAPS);
  g_object_set (src, "address", "127.0.0.1", "port", 0, "caps", caps,
      "buffer-size", 1 << 20, "priority-limit", 5, "framemarking-id", 3,
      "relay", "127.0.0.1:5005", "token", "secret", NULL);
  gst_caps_unref (caps);
  gst_util_set_object_arg (G_OBJECT (src), "mode", "userspace");
  g_object_get (src, "caps", &caps, "priority-limit", &limit, "relay",
      &relay, "token", &token, "mode", &mode, "framemarking-id", &fm, NULL);
  fail_unless (gst_structure_has_field (gst_caps_get_structure (caps, 0),
          "encoding-name"));
  gst_caps_unref (caps);
  fail_unless_equals_int (limit, 5);
  fail_unless_equals_int (fm, 3);
  fail_unless_equals_string (relay, "127.0.0.1:5005");
  fail_unless_equals_string (token, "secret");
  fail_unless_equals_int (mode, 2);
  g_free (relay);
  g_free (token);

  g_object_get (src, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"),
      "stopped");
  gst_structure_free (s);

  /* the socket exists from READY on; port 0 reads back the port */
  g_object_set (src, "relay", NULL, NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (src, "used-socket", &sock, "port", &port, NULL);
  fail_unless (G_IS_SOCKET (sock));
  fail_unless (port > 0);
  g_object_get (src, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"),
      "userspace");
  fail_unless_equals_string (gst_structure_get_string (s, "subscription"),
      "none");
  gst_structure_free (s);
  g_object_unref (sock);
  gst_element_set_state (src, GST_STATE_NULL);
  g_object_get (src, "used-socket", &sock, NULL);
  fail_unless (sock == NULL);
  gst_object_unref (src);
}

GST_END_TEST;
#endif

GST_START_TEST (test_bad_settings_fail_start)
{
  gint port;
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  gchar *p;

  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "relay=nonsense ! fakesink", "nonsense");
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "relay=127.0.0.1:70000 ! fakesink", "70000");
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "relay=127.0.0.1: ! fakesink", "127.0.0.1:");
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "relay=no.such.host.invalid:5005 ! fakesink", "no.such.host.invalid");
  /* the limit's range is the property's own: GObject refuses 8 */
  {
    GObjectClass *k = g_type_class_ref (g_type_from_name ("GstEbpfPrioritySrc"));
    GParamSpecUInt *ps = G_PARAM_SPEC_UINT (g_object_class_find_property (k,
            "priority-limit"));

    fail_unless_equals_int (ps->minimum, 0);
    fail_unless_equals_int (ps->maximum, 7);
    g_type_class_unref (k);
  }
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "token=0123456789012345678901234567890123456789012345678901234567890123"
      "4 ! fakesink", "65 bytes");
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "address=not-an-address ! fakesink", "not-an-address");
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "address=::1 relay=[::]:5005 ! fakesink", "[::]:5005");
  assert_start_error ("ebpfprioritysrc mode=" MODE " port=0 "
      "address=::1 relay=[::1 ! fakesink", "[::1");

  /* a port in use */
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  port = ntohs (a.sin_port);
  p = g_strdup_printf ("ebpfprioritysrc mode=" MODE " address=127.0.0.1 "
      "port=%d ! fakesink", port);
  {
    gchar *needle = g_strdup_printf ("127.0.0.1:%d", port);
    assert_start_error (p, needle);
    g_free (needle);
  }
  g_free (p);
  close (fd);
}

GST_END_TEST;

/* H.264 NRI 0..3 at limit 6: exactly NRI 2 and 3 come out (priorities 6
 * and 7); a non-RTP datagram (priority 7) too; control packets never. The
 * limit changes while PLAYING. */
static void
check_h264_filter (void)
{
  gint port;
  GstHarness *h = start_src (H264_CAPS, 6, &port);
  int fd = sender_socket ();
  GstStructure *s;
  gchar *got;
  guint16 seq = 100;
  guint i, nri;

  for (i = 0; i < 3; i++)
    for (nri = 0; nri < 4; nri++)
      send_h264 (fd, port, seq++, nri);
  send_control (fd, port);
  send_to (fd, port, (const guint8 *) "not rtp", 7);
  send_marker (fd, port);
  got = pull_until_marker (h);
  fail_unless_equals_string (got,
      "102,103,106,107,110,111,[not rtp]");
  g_free (got);

  s = src_stats (h);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), MODE);
  fail_unless_equals_int (stat_u64 (s, "dropped"), 6);
  /* 6 H.264 + not rtp + marker */
  fail_unless_equals_int (stat_u64 (s, "kept"), 8);
  fail_unless_equals_int (stat_u64 (s, "control"), 1);
  gst_structure_free (s);

  /* while PLAYING: 7 keeps NRI 3 only */
  g_object_set (h->element, "priority-limit", 7, NULL);
  seq = 200;
  for (nri = 0; nri < 4; nri++)
    send_h264 (fd, port, seq++, nri);
  send_marker (fd, port);
  got = pull_until_marker (h);
  fail_unless_equals_string (got, "203");
  g_free (got);

  /* 0 keeps everything from the next key frame start on (bpf/switch.h:
   * a lowered limit waits for it; here the IDR, NRI 3, of 303); control
   * packets still never come out */
  g_object_set (h->element, "priority-limit", 0, NULL);
  seq = 300;
  for (i = 0; i < 2; i++)
    for (nri = 0; nri < 4; nri++) {
      send_h264 (fd, port, seq++, nri);
      send_control (fd, port);
      if (seq == 301) {
        s = src_stats (h);
        fail_unless_equals_int (stat_int (s, "limit-in-force"), 7);
        fail_unless_equals_int (stat_int (s, "limit-pending"), 0);
        gst_structure_free (s);
      }
    }
  send_marker (fd, port);
  got = pull_until_marker (h);
  fail_unless_equals_string (got, "303,304,305,306,307");
  g_free (got);
  s = src_stats (h);
  fail_unless_equals_int (stat_int (s, "limit-in-force"), 0);
  fail_unless_equals_int (stat_int (s, "limit-pending"), -1);
  gst_structure_free (s);

  /* an out-of-range limit while PLAYING is refused (by the property's
   * range, with GObject's warning), the old one kept */
  ASSERT_WARNING (g_object_set (h->element, "priority-limit", 8, NULL));
  s = src_stats (h);
  {
    guint l;
    fail_unless (gst_structure_get_uint (s, "priority-limit", &l));
    fail_unless_equals_int (l, 0);
  }
  gst_structure_free (s);

  close (fd);
  gst_harness_teardown (h);
}

GST_START_TEST (test_h264_filter)
{
  use_v6 = FALSE;
  check_h264_filter ();
}

GST_END_TEST;

/* The same over IPv6 on ::1: in the kernel variant this proves where a
 * v6 UDP socket filter's data starts (offset 8, the UDP header first, as
 * for v4: docs/subscription.md): read anywhere else, the filter would
 * keep or drop other packets than 102,103,106,... */
GST_START_TEST (test_h264_filter_v6)
{
  use_v6 = TRUE;
  check_h264_filter ();
  use_v6 = FALSE;
}

GST_END_TEST;

/* VP8: a frame's later packets (same SSRC and timestamp) inherit the
 * priority of its first packet, so the state per SSRC works. */
GST_START_TEST (test_vp8_frames)
{
  gint port;
  GstHarness *h = start_src (VP8_CAPS, 7, &port);
  int fd = sender_socket ();
  guint8 b[64];
  /* descriptor S=1 PID 0, then the payload header: P=0 key frame */
  const guint8 key_start[] = { 0x10, 0x00, 0x9d, 0x01, 0x2a };
  const guint8 inter_start[] = { 0x10, 0x01, 0x00, 0x00, 0x00 };
  const guint8 cont[] = { 0x00, 0x55, 0x55, 0x55 };
  gchar *got;

  send_to (fd, port, b, rtp_packet (b, 97, 1, 1000, 7, key_start, 5));
  send_to (fd, port, b, rtp_packet (b, 97, 2, 1000, 7, cont, 4));
  send_to (fd, port, b, rtp_packet (b, 97, 3, 1000, 7, cont, 4));
  send_to (fd, port, b, rtp_packet (b, 97, 4, 4000, 7, inter_start, 5));
  send_to (fd, port, b, rtp_packet (b, 97, 5, 4000, 7, cont, 4));
  /* another SSRC's inter frame does not disturb the first's state */
  send_to (fd, port, b, rtp_packet (b, 97, 6, 7000, 8, inter_start, 5));
  send_to (fd, port, b, rtp_packet (b, 97, 7, 7000, 7, key_start, 5));
  send_to (fd, port, b, rtp_packet (b, 97, 8, 7000, 8, cont, 4));
  send_to (fd, port, b, rtp_packet (b, 97, 9, 7000, 7, cont, 4));
  send_marker (fd, port);
  got = pull_until_marker (h);
  fail_unless_equals_string (got, "1,2,3,7,9");
  g_free (got);
  close (fd);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Frame marking from the caps' extmap: I=1 -> 7, D=1 -> 0, TID t -> 6 - t,
 * whatever the codec. */
GST_START_TEST (test_framemarking)
{
  gint port;
  GstHarness *h = start_src ("application/x-rtp,media=video,"
      "encoding-name=H264,payload=96,clock-rate=90000,"
      "extmap-5=urn:ietf:params:rtp-hdrext:framemarking", 5, &port);
  int fd = sender_socket ();
  const guint8 fm_bytes[] = { 0xa0, 0x90, 0x01, 0x02 };     /* I, D, TID1, TID2 */
  gchar *got;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fm_bytes); i++) {
    guint8 b[64];

    /* one-byte header extension: id 5, length 1 */
    b[0] = 0x90;
    b[1] = 96;
    GST_WRITE_UINT16_BE (b + 2, 10 + i);
    GST_WRITE_UINT32_BE (b + 4, i);
    GST_WRITE_UINT32_BE (b + 8, 1);
    b[12] = 0xbe;
    b[13] = 0xde;
    b[14] = 0;
    b[15] = 1;
    b[16] = 0x50;
    b[17] = fm_bytes[i];
    b[18] = b[19] = 0;
    b[20] = 0x01;               /* NRI 0: would be dropped without marking */
    send_to (fd, port, b, 21);
  }
  send_marker (fd, port);
  got = pull_until_marker (h);
  /* priorities 7, 0, 5, 4 at limit 5 */
  fail_unless_equals_string (got, "10,12");
  g_free (got);
  close (fd);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* --- the subscription ------------------------------------------------------------ */

typedef struct
{
  GMutex lock;
  GString *log;
} Relay;

static gboolean
relay_add (const gchar * addr, guint16 port, guint limit, gpointer user_data)
{
  Relay *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "add %s:%u %u;", addr, port, limit);
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static gboolean
relay_set_limit (const gchar * addr, guint16 port, guint limit,
    gpointer user_data)
{
  Relay *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "limit %s:%u %u;", addr, port, limit);
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static void
relay_remove (const gchar * addr, guint16 port, gpointer user_data)
{
  Relay *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "remove %s:%u;", addr, port);
  g_mutex_unlock (&r->lock);
}

static const RelayControlServerCallbacks relay_callbacks = {
  relay_add, relay_set_limit, relay_remove
};

static gboolean
relay_add_rtcp (const gchar * addr, guint16 port, guint limit, gint rtcp,
    gpointer user_data)
{
  Relay *r = user_data;

  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "add %s:%u %u rtcp %d;", addr, port, limit,
      rtcp);
  g_mutex_unlock (&r->lock);
  return TRUE;
}

static const RelayControlServerCallbacks relay_rtcp_callbacks = {
  relay_add, relay_set_limit, relay_remove, relay_add_rtcp, NULL
};

static gboolean
relay_log_is (Relay * r, const gchar * expected)
{
  gboolean eq;

  g_mutex_lock (&r->lock);
  eq = strcmp (r->log->str, expected) == 0;
  g_mutex_unlock (&r->lock);
  return eq;
}

static void
wait_log (Relay * r, const gchar * expected)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!relay_log_is (r, expected) && g_get_monotonic_time () < end)
    g_usleep (5000);
  g_mutex_lock (&r->lock);
  fail_unless_equals_string (r->log->str, expected);
  g_mutex_unlock (&r->lock);
}

static void
check_subscription (void)
{
  const gchar *host = use_v6 ? "::1" : "127.0.0.1";
  Relay r = { 0 };
  RelayControlServer *server;
  RelayControlServerStats st;
  GstHarness *h;
  GstCaps *caps = gst_caps_from_string (H264_CAPS);
  GstStructure *s;
  GError *err = NULL;
  gchar *relay, *expect;
  gint port;
  int fd = sender_socket ();

  g_mutex_init (&r.lock);
  r.log = g_string_new (NULL);
  /* IPv6: the default binding, 0.0.0.0 and [::] on one port */
  server = relay_control_server_new (0, use_v6 ? NULL : "127.0.0.1",
      &relay_callbacks, &r, &err);
  fail_unless (server != NULL);
  relay_control_server_set_timeout (server, 600);
  relay = g_strdup_printf (use_v6 ? "[::1]:%u" : "127.0.0.1:%u",
      relay_control_server_get_port (server));

  h = gst_harness_new_with_padnames ("ebpfprioritysrc", NULL, "src");
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", MODE);
  g_object_set (h->element, "address", host, "port", 0, "caps", caps,
      "priority-limit", 5, "relay", relay, NULL);
  gst_caps_unref (caps);
  gst_harness_play (h);
  g_object_get (h->element, "port", &port, NULL);

  /* the relay adds the element's own address and port, with its limit */
  expect = g_strdup_printf ("add %s:%d 5;", host, port);
  wait_log (&r, expect);
  g_free (expect);

  /* a new limit reaches the relay */
  g_object_set (h->element, "priority-limit", 6, NULL);
  expect = g_strdup_printf ("add %s:%d 5;limit %s:%d 6;", host, port,
      host, port);
  wait_log (&r, expect);

  /* the relay's media gets through the filter; its control packets (the
   * challenge, ACKs) never come out */
  send_h264 (fd, port, 1, 1);
  send_h264 (fd, port, 2, 2);
  send_marker (fd, port);
  {
    gchar *got = pull_until_marker (h);
    fail_unless_equals_string (got, "2");
    g_free (got);
  }
  s = src_stats (h);
  fail_unless_equals_string (gst_structure_get_string (s, "subscription"),
      "subscribed");
  fail_unless (stat_u64 (s, "control") >= 2);   /* challenge + ACK */
  fail_unless (stat_u64 (s, "control-received") >= 2);
  gst_structure_free (s);

  /* refreshes keep it beyond the relay's timeout */
  g_usleep (1500 * 1000);
  relay_control_server_get_stats (server, &st);
  fail_unless_equals_int (st.expired, 0);
  fail_unless_equals_int (st.subscribers, 1);
  fail_unless (st.refreshed >= 3);

  /* stopping unsubscribes at once */
  gst_harness_teardown (h);
  {
    gchar *e2 = g_strdup_printf ("%sremove %s:%d;", expect, host, port);
    wait_log (&r, e2);
    g_free (e2);
  }
  relay_control_server_get_stats (server, &st);
  fail_unless_equals_int (st.unsubscribed, 1);
  fail_unless_equals_int (st.expired, 0);
  g_free (expect);

  relay_control_server_free (server);
  g_free (relay);
  g_string_free (r.log, TRUE);
  g_mutex_clear (&r.lock);
  close (fd);
}

GST_START_TEST (test_subscription)
{
  use_v6 = FALSE;
  check_subscription ();
}

GST_END_TEST;

/* The subscription over IPv6: relay=[::1]:port, the media socket on ::1,
 * the relay's table gets the v6 address (cookies bind it). */
GST_START_TEST (test_subscription_v6)
{
  use_v6 = TRUE;
  check_subscription ();
  use_v6 = FALSE;
}
GST_END_TEST;

/* rtcp-port (issue 9): -1 by default, its range; the subscription names
 * it: none for -1 (the relay's default, port + 1), the bound media port
 * for 0 (mux, with port=0 too), the port given otherwise. */
GST_START_TEST (test_subscription_rtcp_port)
{
  static const gint values[] = { -1, 0, 7123 };
  GstElement *src = gst_element_factory_make ("ebpfprioritysrc", NULL);
  gint rtcp_port = 0;
  guint i;

  g_object_get (src, "rtcp-port", &rtcp_port, NULL);
  fail_unless_equals_int (rtcp_port, -1);
  g_object_set (src, "rtcp-port", 6001, NULL);
  g_object_get (src, "rtcp-port", &rtcp_port, NULL);
  fail_unless_equals_int (rtcp_port, 6001);
  gst_object_unref (src);

  for (i = 0; i < G_N_ELEMENTS (values); i++) {
    Relay r = { 0 };
    RelayControlServer *server;
    GstHarness *h;
    GError *err = NULL;
    gchar *relay, *expect;
    gint port, want;

    g_mutex_init (&r.lock);
    r.log = g_string_new (NULL);
    server = relay_control_server_new (0, "127.0.0.1", &relay_rtcp_callbacks,
        &r, &err);
    fail_unless (server != NULL);
    relay = g_strdup_printf ("127.0.0.1:%u",
        relay_control_server_get_port (server));
    h = gst_harness_new_with_padnames ("ebpfprioritysrc", NULL, "src");
    gst_util_set_object_arg (G_OBJECT (h->element), "mode", MODE);
    g_object_set (h->element, "address", "127.0.0.1", "port", 0,
        "priority-limit", 2, "relay", relay, "rtcp-port", values[i], NULL);
    gst_harness_play (h);
    g_object_get (h->element, "port", &port, NULL);
    want = values[i] == 0 ? port : values[i];
    expect = g_strdup_printf ("add 127.0.0.1:%d 2 rtcp %d;", port, want);
    wait_log (&r, expect);
    g_free (expect);
    gst_harness_teardown (h);
    relay_control_server_free (server);
    g_free (relay);
    g_string_free (r.log, TRUE);
    g_mutex_clear (&r.lock);
  }
}

GST_END_TEST;

/* A relay that wants a token the element does not have: a warning naming
 * the reason, and the element stays up. */
GST_START_TEST (test_subscription_refused)
{
  RelayControlServer *server;
  RelayControlServerStats st;
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *relay, *debug = NULL;

  server = relay_control_server_new (0, "127.0.0.1", NULL, NULL, &err);
  fail_unless (server != NULL);
  relay_control_server_set_token (server, "right");
  relay = g_strdup_printf ("127.0.0.1:%u",
      relay_control_server_get_port (server));

  h = gst_harness_new_with_padnames ("ebpfprioritysrc", NULL, "src");
  gst_element_set_bus (h->element, bus);
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", MODE);
  g_object_set (h->element, "address", "127.0.0.1", "port", 0, "relay",
      relay, "token", "wrong", NULL);
  gst_harness_play (h);

  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (strstr (err->message, "token") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, relay) != NULL, "%s", err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  relay_control_server_get_stats (server, &st);
  fail_unless (st.refused_token >= 1);
  fail_unless_equals_int (st.accepted, 0);

  /* (messages still queued hold the element, which holds the bus) */
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
  relay_control_server_free (server);
  g_free (relay);
}

GST_END_TEST;

/* rewrite-sps: x264's SPS (Main, bframes=2: max_num_reorder_frames 2) */
static const guint8 x264_sps[] = {
  0x67, 0x4d, 0x40, 0x1e, 0xec, 0xa0, 0x50, 0x17, 0xfc, 0xb8, 0x0b, 0x50,
  0x60, 0x60, 0x6a, 0x50, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03,
  0x03, 0xc8, 0xf1, 0x62, 0xd9, 0x60
};

static const guint8 x264_pps[] = { 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0 };

/* The reorder depth of the SPS in an RTP packet's payload (single NAL or
 * the first NAL unit of a STAP-A), -1 if none parses. */
static gint
pushed_reorder (const guint8 * d, gsize n)
{
  EbpfRelaySpsInfo info;
  gsize off = 12, len = n - 12;

  if ((d[0] & 0x20) && d[n - 1] < len)    /* padding, as sent */
    len -= d[n - 1];
  if (n > off + 3 && (d[off] & 0x1f) == 24) {
    len = MIN ((gsize) ((d[off + 1] << 8) | d[off + 2]), n - off - 3);
    off += 3;
  }
  if (n <= off || !ebpf_relay_sps_parse (d + off, len, &info))
    return -1;
  return info.bitstream_restriction ? (gint) info.max_num_reorder_frames : 99;
}

/* Sends SPS (single NAL), STAP-A [SPS, PPS], a padded SPS and an IDR at
 * timestamp @ts; pulls them and returns the reorder depth each pushed SPS
 * declares ("r,r,r"), checking that headers and sequence numbers stay. */
static gchar *
send_sps_au (GstHarness * h, int fd, gint port, guint16 seq, guint32 ts)
{
  guint8 b[256], p[128];
  GString *s = g_string_new (NULL);
  gsize n;
  guint i;

  send_to (fd, port, b, rtp_packet (b, 96, seq, ts, 0x11223344, x264_sps,
          sizeof (x264_sps)));
  p[0] = 0x78;
  p[1] = 0;
  p[2] = sizeof (x264_sps);
  memcpy (p + 3, x264_sps, sizeof (x264_sps));
  p[3 + sizeof (x264_sps)] = 0;
  p[4 + sizeof (x264_sps)] = sizeof (x264_pps);
  memcpy (p + 5 + sizeof (x264_sps), x264_pps, sizeof (x264_pps));
  send_to (fd, port, b, rtp_packet (b, 96, seq + 1, ts, 0x11223344, p,
          5 + sizeof (x264_sps) + sizeof (x264_pps)));
  n = rtp_packet (b, 96, seq + 2, ts, 0x11223344, x264_sps,
      sizeof (x264_sps));
  b[0] |= 0x20;
  memset (b + n, 0, 3);
  b[n + 3] = 4;
  send_to (fd, port, b, n + 4);
  send_h264 (fd, port, seq + 3, 3);
  for (i = 0; i < 4; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    GstMapInfo map;

    fail_unless (buf != NULL);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (map.size > 12);
    fail_unless_equals_int (GST_READ_UINT16_BE (map.data + 2), seq + i);
    fail_unless_equals_int (map.data[1], 96);
    if (i < 3) {
      fail_unless_equals_int (GST_READ_UINT32_BE (map.data + 4), ts);
      fail_unless_equals_int (GST_READ_UINT32_BE (map.data + 8), 0x11223344);
      g_string_append_printf (s, "%s%d", s->len ? "," : "",
          pushed_reorder (map.data, map.size));
      if (i == 1 && pushed_reorder (map.data, map.size) == 0) {
        /* the PPS after the rewritten SPS, as sent */
        gsize off = 12 + 3 + map.data[14];

        fail_unless (map.size >= off + 2 + sizeof (x264_pps));
        fail_unless_equals_int (map.data[off + 1], sizeof (x264_pps));
        fail_unless (memcmp (map.data + off + 2, x264_pps,
                sizeof (x264_pps)) == 0);
        fail_unless_equals_int (map.size, off + 2 + sizeof (x264_pps));
      }
    }
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  return g_string_free (s, FALSE);
}

GST_START_TEST (test_rewrite_sps)
{
  const guint8 b_slice[] = { 0x01, 0xa0, 0x00, 0x10, 0xab, 0xab };
  gint port;
  GstHarness *h = start_src (H264_CAPS, 7, &port);
  int fd = sender_socket ();
  GstStructure *s;
  gboolean rewrite;
  guint8 b[64];
  gchar *got;

  g_object_get (h->element, "rewrite-sps", &rewrite, NULL);
  fail_unless (rewrite, "rewrite-sps is not TRUE by default");
  /* limit 7: every SPS rewritten, the padded one unpadded */
  got = send_sps_au (h, fd, port, 10, 3000);
  fail_unless_equals_string (got, "0,0,0");
  g_free (got);
  s = src_stats (h);
  fail_unless_equals_int (stat_u64 (s, "sps-rewritten"), 3);
  fail_unless_equals_int (stat_u64 (s, "sps-kept"), 0);
  gst_structure_free (s);
  /* rewrite-sps=false while PLAYING: as sent (x264's 2) */
  g_object_set (h->element, "rewrite-sps", FALSE, NULL);
  got = send_sps_au (h, fd, port, 20, 6000);
  fail_unless_equals_string (got, "2,2,2");
  g_free (got);
  gst_harness_teardown (h);

  /* limit 0: the first key frame's SPSs as sent (limit 0 not watched
   * yet); a non-reference B slice passes; then never rewritten */
  h = start_src (H264_CAPS, 0, &port);
  got = send_sps_au (h, fd, port, 30, 3000);
  fail_unless_equals_string (got, "2,2,2");
  g_free (got);
  send_to (fd, port, b, rtp_packet (b, 96, 34, 6000, 0x11223344, b_slice,
          sizeof (b_slice)));
  gst_buffer_unref (gst_harness_pull (h));
  got = send_sps_au (h, fd, port, 35, 9000);
  fail_unless_equals_string (got, "2,2,2");
  g_free (got);
  s = src_stats (h);
  fail_unless_equals_int (stat_u64 (s, "sps-rewritten"), 0);
  fail_unless_equals_int (stat_u64 (s, "sps-kept"), 6);
  gst_structure_free (s);
  close (fd);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
ebpfprioritysrc_suite (void)
{
  Suite *s = suite_create ("ebpfprioritysrc-" MODE);
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
#ifndef PSRC_TEST_KERNEL
  tcase_add_test (tc, test_properties);
#endif
  tcase_add_test (tc, test_bad_settings_fail_start);
  tcase_add_test (tc, test_h264_filter);
  tcase_add_test (tc, test_h264_filter_v6);
  tcase_add_test (tc, test_vp8_frames);
  tcase_add_test (tc, test_framemarking);
  tcase_add_test (tc, test_rewrite_sps);
  tcase_add_test (tc, test_subscription);
  tcase_add_test (tc, test_subscription_v6);
  tcase_add_test (tc, test_subscription_rtcp_port);
  tcase_add_test (tc, test_subscription_refused);
  return s;
}

int
main (int argc, char **argv)
{
#ifdef PSRC_TEST_KERNEL
  if (geteuid () != 0) {
    g_printerr ("needs root (CAP_BPF) to load the socket filter: skipped\n");
    return 77;
  }
#endif
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (ebpfprioritysrc_suite (), "ebpfprioritysrc",
      __FILE__);
}
