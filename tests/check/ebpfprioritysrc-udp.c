/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfprioritysrc as a drop-in for udpsrc (issue 13, item 3): what
 * GStreamer's own tests/check/elements/udpsrc.c (1.22) asserts of udpsrc,
 * asserted here of ebpfprioritysrc, and the rest of udpsrc's surface:
 *
 *  - an empty datagram and then "HeLL0": one or two buffers, the last the
 *    6 bytes, the first (if any) empty;
 *  - the buffer layout: a datagram up to mtu in one memory of at most
 *    ~2000 bytes, a larger one in two (the first small), nothing cut;
 *  - the sender's address as GstNetAddressMeta (retrieve-sender-address);
 *  - uri (GstURIHandler, udp://address:port), good and bad;
 *  - timeout: GstUDPSrcTimeout messages while nothing arrives;
 *  - skip-first-bytes: the filter reads the RTP packet after them, a
 *    shorter datagram is dropped and counted; refused with mode=kernel;
 *  - socket and close-socket: a given socket is used, left open with
 *    close-socket=false and then without our filter on it;
 *  - socket-timestamp: the DTS is the kernel's receive time.
 *
 * Built twice like ebpfprioritysrc.c: the userspace filter, and with
 * PSRC_TEST_KERNEL the kernel socket filter (77 without root). Multicast
 * (auto-multicast, multicast-iface, loop) needs a multicast-capable
 * interface that leads nowhere: it is not tested here.
 */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/net/gstnetaddressmeta.h>

#ifdef PSRC_TEST_KERNEL
#define MODE "kernel"
#else
#define MODE "userspace"
#endif

#define H264_CAPS "application/x-rtp,media=video,encoding-name=H264," \
  "payload=96,clock-rate=90000"

#include "check-start-error.h"

/* --- helpers ------------------------------------------------------------------ */

static GstHarness *
start_src (const gchar * extra_props, gint * port)
{
  GstHarness *h;
  GstElement *e;
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("ebpfprioritysrc mode=" MODE
      " address=127.0.0.1 port=0 %s", extra_props ? extra_props : "");

  /* one element: gst_parse_launch gives the element itself, no bin */
  e = gst_parse_launch (desc, &err);
  fail_unless (e != NULL && err == NULL, "%s", desc);
  g_free (desc);
  h = gst_harness_new_with_element (e, NULL, "src");
  gst_object_unref (e);
  /* the real clock: socket-timestamp compares it with the kernel's time */
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  g_object_get (h->element, "port", port, NULL);
  fail_unless (*port > 0);
  return h;
}

static GSocket *
sender (void)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);

  fail_unless (s != NULL);
  return s;
}

static void
send_to (GSocket * s, gint port, const void *data, gsize len)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, port);

  fail_unless_equals_int (g_socket_send_to (s, sa, data, len, NULL, NULL),
      (gssize) len);
  g_object_unref (sa);
  g_object_unref (lo);
}

/* An H.264 RTP packet of NRI @nri after @prefix bytes of 0xee. */
static gsize
h264_packet (guint8 * b, gsize prefix, guint16 seq, guint nri)
{
  memset (b, 0xee, prefix);
  b += prefix;
  b[0] = 0x80;
  b[1] = 96;
  GST_WRITE_UINT16_BE (b + 2, seq);
  GST_WRITE_UINT32_BE (b + 4, seq * 3000);
  GST_WRITE_UINT32_BE (b + 8, 0x11223344);
  memset (b + 12, 0xab, 20);
  b[12] = (nri << 5) | (nri == 3 ? 5 : 1);
  return prefix + 32;
}

static GstBuffer *
pull (GstHarness * h)
{
  GstBuffer *b = gst_harness_pull (h);

  fail_unless (b != NULL, "no buffer");
  return b;
}

/* --- what udpsrc.c asserts ------------------------------------------------------ */

GST_START_TEST (test_empty_packet)
{
  GSocket *s = sender ();
  GstHarness *h;
  GstBuffer *b;
  GstMapInfo map;
  gint port;

  h = start_src (NULL, &port);
  send_to (s, port, "HeLL0", 0);
  send_to (s, port, "HeLL0", 6);
  b = pull (h);
  if (gst_buffer_get_size (b) == 0) {
    gst_buffer_unref (b);
    b = pull (h);
  }
  fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, 6);
  fail_unless_equals_string ((const gchar *) map.data, "HeLL0");
  gst_buffer_unmap (b, &map);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
  g_object_unref (s);
}

GST_END_TEST;

GST_START_TEST (test_buffer_layout)
{
  static const gsize sizes[] = { 48000, 21000, 500, 1600, 1400, 1492, 1493 };
  static guint8 data[48000];
  GSocket *s = sender ();
  GstHarness *h;
  guint i;
  gint port;

  for (i = 0; i < sizeof (data); i++)
    data[i] = i & 0xff;         /* byte 0: version 0, not RTP: priority 7 */
  h = start_src (NULL, &port);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    send_to (s, port, data, sizes[i]);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstBuffer *b = pull (h);
    GstMemory *mem;
    gsize max_size;
    GstMapInfo map;

    fail_unless_equals_int (gst_buffer_get_size (b), sizes[i]);
    fail_unless_equals_int (gst_buffer_n_memory (b), sizes[i] > 1492 ? 2 : 1);
    mem = gst_buffer_peek_memory (b, 0);
    gst_memory_get_sizes (mem, NULL, &max_size);
    fail_unless (max_size <= 2000, "first memory of %" G_GSIZE_FORMAT
        " bytes", max_size);
    fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
    fail_unless (memcmp (map.data, data, sizes[i]) == 0,
        "datagram %u altered", i);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
  g_object_unref (s);
}

GST_END_TEST;

/* mtu changes the first memory's size, as udpsrc's. */
GST_START_TEST (test_mtu)
{
  static guint8 data[700];
  GSocket *s = sender ();
  GstHarness *h;
  GstBuffer *b;
  gint port;

  h = start_src ("mtu=600", &port);
  send_to (s, port, data, 700);
  send_to (s, port, data, 600);
  b = pull (h);
  fail_unless_equals_int (gst_buffer_get_size (b), 700);
  fail_unless_equals_int (gst_buffer_n_memory (b), 2);
  fail_unless_equals_int (gst_buffer_peek_memory (b, 0)->size, 600);
  gst_buffer_unref (b);
  b = pull (h);
  fail_unless_equals_int (gst_buffer_get_size (b), 600);
  fail_unless_equals_int (gst_buffer_n_memory (b), 1);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
  g_object_unref (s);
}

GST_END_TEST;

/* --- the rest of udpsrc's surface ------------------------------------------------ */

GST_START_TEST (test_sender_address)
{
  GSocket *s = sender ();
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *local = g_inet_socket_address_new (lo, 0), *bound;
  GstNetAddressMeta *meta;
  GstHarness *h;
  GstBuffer *b;
  gint port, sport;
  gchar *a;

  fail_unless (g_socket_bind (s, local, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  sport = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  h = start_src (NULL, &port);
  send_to (s, port, "one", 3);
  b = pull (h);
  meta = gst_buffer_get_net_address_meta (b);
  fail_unless (meta != NULL, "no GstNetAddressMeta");
  fail_unless_equals_int (g_inet_socket_address_get_port
      (G_INET_SOCKET_ADDRESS (meta->addr)), sport);
  a = g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (meta->addr)));
  fail_unless_equals_string (a, "127.0.0.1");
  g_free (a);
  gst_buffer_unref (b);

  /* off: no meta (may change while PLAYING) */
  g_object_set (h->element, "retrieve-sender-address", FALSE, NULL);
  send_to (s, port, "two", 3);
  b = pull (h);
  fail_unless (gst_buffer_get_net_address_meta (b) == NULL);
  gst_buffer_unref (b);

  gst_harness_teardown (h);
  g_object_unref (bound);
  g_object_unref (local);
  g_object_unref (lo);
  g_object_unref (s);
}

GST_END_TEST;

GST_START_TEST (test_uri)
{
  GstElement *e = gst_element_factory_make ("ebpfprioritysrc", NULL);
  GError *err = NULL;
  gchar *uri, *addr;
  gint port;

  fail_unless (GST_IS_URI_HANDLER (e));
  fail_unless_equals_int (gst_uri_handler_get_uri_type (GST_URI_HANDLER (e)),
      GST_URI_SRC);
  fail_unless_equals_string (gst_uri_handler_get_protocols
      (GST_URI_HANDLER (e))[0], "udp");
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (uri, "udp://0.0.0.0:5004");
  g_free (uri);

  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "udp://127.0.0.1:6000", &err));
  g_object_get (e, "address", &addr, "port", &port, NULL);
  fail_unless_equals_string (addr, "127.0.0.1");
  fail_unless_equals_int (port, 6000);
  g_free (addr);

  /* the property, as udpsrc's; without a port: 5004 */
  g_object_set (e, "uri", "udp://127.0.0.2", NULL);
  g_object_get (e, "uri", &uri, "port", &port, NULL);
  fail_unless_equals_string (uri, "udp://127.0.0.2:5004");
  g_free (uri);

  /* bad ones: refused with an error, nothing changed */
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e), "http://x:1", &err));
  fail_unless (err != NULL);
  g_clear_error (&err);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e), "udp://:1", &err));
  g_clear_error (&err);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "udp://127.0.0.1:70000", &err));
  g_clear_error (&err);
  g_object_get (e, "uri", &uri, NULL);
  fail_unless_equals_string (uri, "udp://127.0.0.2:5004");
  g_free (uri);
  gst_object_unref (e);

  /* in a pipeline: the URI's address and port are the ones bound */
  port = check_free_port (1);
  {
    gchar *d = g_strdup_printf ("ebpfprioritysrc mode=" MODE
        " uri=udp://127.0.0.1:%d", port);
    GstElement *e = gst_parse_launch (d, NULL);
    GstHarness *h = gst_harness_new_with_element (e, NULL, "src");
    GSocket *s = sender ();
    GstBuffer *b;

    gst_harness_play (h);
    send_to (s, port, "uri", 3);
    b = pull (h);
    fail_unless_equals_int (gst_buffer_get_size (b), 3);
    gst_buffer_unref (b);
    gst_harness_teardown (h);
    gst_object_unref (e);
    g_object_unref (s);
    g_free (d);
  }
}

GST_END_TEST;

GST_START_TEST (test_timeout)
{
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *m;
  const GstStructure *st;
  guint64 t = 0;
  gint port;

  h = start_src ("timeout=100000000", &port);
  gst_element_set_bus (h->element, bus);
  m = gst_bus_timed_pop_filtered (bus, 2 * GST_SECOND, GST_MESSAGE_ELEMENT);
  fail_unless (m != NULL, "no GstUDPSrcTimeout within 2 s");
  st = gst_message_get_structure (m);
  fail_unless (gst_structure_has_name (st, "GstUDPSrcTimeout"), "%s",
      gst_structure_get_name (st));
  fail_unless (gst_structure_get_uint64 (st, "timeout", &t));
  fail_unless_equals_uint64 (t, 100000000);
  gst_message_unref (m);
  /* and again */
  m = gst_bus_timed_pop_filtered (bus, 2 * GST_SECOND, GST_MESSAGE_ELEMENT);
  fail_unless (m != NULL, "only one GstUDPSrcTimeout");
  gst_message_unref (m);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_skip_first_bytes)
{
  GSocket *s = sender ();
  GstHarness *h;
  GstStructure *st;
  guint8 b[64];
  guint64 too_short = 0;
  gint port;
  guint nri;

#ifdef PSRC_TEST_KERNEL
  /* the kernel socket filter cannot skip: refused, naming both */
  assert_start_error ("ebpfprioritysrc mode=kernel port=0 skip-first-bytes=4 "
      "! fakesink", "skip-first-bytes");
  assert_start_error ("ebpfprioritysrc mode=kernel port=0 skip-first-bytes=4 "
      "! fakesink", "mode=auto");
  /* mode=auto: filters in userspace */
  {
    gchar *d = g_strdup_printf ("ebpfprioritysrc mode=auto address=127.0.0.1 "
        "port=0 skip-first-bytes=4 priority-limit=6 caps=\"%s\"", H264_CAPS);
    GstElement *e = gst_parse_launch (d, NULL);

    fail_unless (e != NULL);
    h = gst_harness_new_with_element (e, NULL, "src");
    gst_object_unref (e);
    g_free (d);
  }
  gst_harness_play (h);
  g_object_get (h->element, "port", &port, NULL);
#else
  {
    gchar *p = g_strdup_printf ("skip-first-bytes=4 priority-limit=6 "
        "caps=\"%s\"", H264_CAPS);
    h = start_src (p, &port);
    g_free (p);
  }
#endif
  /* a short one first: dropped, counted */
  send_to (s, port, "ab", 2);
  for (nri = 0; nri < 4; nri++)
    send_to (s, port, b, h264_packet (b, 4, 100 + nri, nri));
  /* NRI 2 and 3 (priorities 6, 7) come out, without the 4 bytes */
  for (nri = 2; nri < 4; nri++) {
    GstBuffer *buf = pull (h);
    GstMapInfo map;

    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, 32);
    fail_unless_equals_int (map.data[0], 0x80);
    fail_unless_equals_int (GST_READ_UINT16_BE (map.data + 2), 100 + nri);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  g_object_get (h->element, "stats", &st, NULL);
  fail_unless (gst_structure_get_uint64 (st, "too-short", &too_short));
  fail_unless_equals_uint64 (too_short, 1);
  {
    guint64 dropped = 0;
    const gchar *mode = gst_structure_get_string (st, "mode");

    fail_unless_equals_string (mode, "userspace");
    fail_unless (gst_structure_get_uint64 (st, "dropped", &dropped));
    fail_unless_equals_uint64 (dropped, 2);
  }
  gst_structure_free (st);
  gst_harness_teardown (h);
  g_object_unref (s);
}

GST_END_TEST;

static GSocket *
bound_socket (gint * port)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, 0), *bound;
  GSocket *s = sender ();

  fail_unless (g_socket_bind (s, sa, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (sa);
  g_object_unref (lo);
  return s;
}

GST_START_TEST (test_given_socket)
{
  GSocket *s = sender (), *given, *used = NULL;
  GstHarness *h;
  GstBuffer *b;
  guint8 pkt[64], in[64];
  gint port, given_port, elem_port = 0;

  /* close-socket=false: used, left open, without our filter */
  given = bound_socket (&given_port);
  h = gst_harness_new_with_padnames ("ebpfprioritysrc", NULL, "src");
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", MODE);
  {
    GstCaps *c = gst_caps_from_string (H264_CAPS);

    g_object_set (h->element, "socket", given, "close-socket", FALSE,
        "priority-limit", 7, "caps", c, NULL);
    gst_caps_unref (c);
  }
  gst_harness_play (h);
  g_object_get (h->element, "port", &elem_port, "used-socket", &used, NULL);
  fail_unless_equals_int (elem_port, given_port);
  fail_unless (used == given);
  g_object_unref (used);
  send_to (s, given_port, pkt, h264_packet (pkt, 0, 1, 0));   /* dropped */
  send_to (s, given_port, pkt, h264_packet (pkt, 0, 2, 3));   /* kept */
  b = pull (h);
  {
    GstMapInfo map;

    fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
    fail_unless_equals_int (GST_READ_UINT16_BE (map.data + 2), 2);
    gst_buffer_unmap (b, &map);
  }
  gst_buffer_unref (b);
  gst_harness_teardown (h);
  fail_if (g_socket_is_closed (given), "close-socket=false closed it");
  /* the filter (limit 7) is off the socket: a priority-0 packet arrives */
  send_to (s, given_port, pkt, h264_packet (pkt, 0, 3, 0));
  g_socket_set_blocking (given, TRUE);
  g_socket_set_timeout (given, 2);
  fail_unless_equals_int (g_socket_receive (given, (gchar *) in, sizeof (in),
          NULL, NULL), 32);
  fail_unless_equals_int (GST_READ_UINT16_BE (in + 2), 3);
  g_object_unref (given);

  /* close-socket=true (the default): closed at NULL */
  given = bound_socket (&port);
  h = gst_harness_new_with_padnames ("ebpfprioritysrc", NULL, "src");
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", MODE);
  g_object_set (h->element, "socket", given, NULL);
  gst_harness_play (h);
  send_to (s, port, "x", 1);
  b = pull (h);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
  fail_unless (g_socket_is_closed (given));
  g_object_unref (given);

  /* not a UDP/IPv4 socket: refused, naming the property */
  given = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  {
    GstElement *e = gst_element_factory_make ("ebpfprioritysrc", NULL);
    GstBus *bus = gst_bus_new ();
    GstMessage *m;
    GError *err = NULL;

    gst_element_set_bus (e, bus);
    gst_util_set_object_arg (G_OBJECT (e), "mode", MODE);
    g_object_set (e, "socket", given, NULL);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
        GST_STATE_CHANGE_FAILURE);
    m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (m != NULL);
    gst_message_parse_error (m, &err, NULL);
    fail_unless (strstr (err->message, "socket property") != NULL, "%s",
        err->message);
    g_error_free (err);
    gst_message_unref (m);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_element_set_bus (e, NULL);
    gst_object_unref (bus);
    gst_object_unref (e);
  }
  g_object_unref (given);
  g_object_unref (s);
}

GST_END_TEST;

/* The streaming thread is held up for 300 ms after the first buffer; the
 * second datagram, sent with the first, waits in the socket meanwhile:
 * with socket-timestamp=realtime its DTS is when it arrived, about 300 ms
 * before it comes out; disabled, when it was read, just before it comes
 * out. Returns the running time it came out at less its DTS. */
static GstPadProbeReturn
hold_first (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  gint *n = user_data;

  if ((*n)++ == 0)
    g_usleep (300 * 1000);
  return GST_PAD_PROBE_OK;
}

static GstClockTimeDiff
age_at_output (const gchar * mode)
{
  GSocket *s = sender ();
  GstHarness *h;
  GstBuffer *b;
  GstClock *clock;
  GstClockTime now;
  GstClockTimeDiff d;
  gchar *p = g_strdup_printf ("socket-timestamp=%s", mode);
  gint port, n = 0;

  h = start_src (p, &port);
  g_free (p);
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER, hold_first, &n,
      NULL);
  send_to (s, port, "first", 5);
  send_to (s, port, "second", 6);
  gst_buffer_unref (pull (h));
  b = pull (h);
  clock = gst_element_get_clock (h->element);
  fail_unless (clock != NULL);
  now = gst_clock_get_time (clock) - gst_element_get_base_time (h->element);
  gst_object_unref (clock);
  fail_unless (GST_BUFFER_DTS_IS_VALID (b));
  d = GST_CLOCK_DIFF (GST_BUFFER_DTS (b), now);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
  g_object_unref (s);
  return d;
}

GST_START_TEST (test_socket_timestamp)
{
  GstClockTimeDiff realtime = age_at_output ("realtime");
  GstClockTimeDiff disabled = age_at_output ("disabled");

  GST_INFO ("output - DTS: realtime %" GST_STIME_FORMAT ", disabled %"
      GST_STIME_FORMAT, GST_STIME_ARGS (realtime), GST_STIME_ARGS (disabled));
  fail_unless (realtime >= 250 * GST_MSECOND, "realtime: output - DTS %"
      GST_STIME_FORMAT, GST_STIME_ARGS (realtime));
  fail_unless (disabled >= 0 && disabled < 50 * GST_MSECOND,
      "disabled: output - DTS %" GST_STIME_FORMAT, GST_STIME_ARGS (disabled));
}

GST_END_TEST;

#ifndef PSRC_TEST_KERNEL
GST_START_TEST (test_defaults_are_udpsrc_defaults)
{
  GstElement *e = gst_element_factory_make ("ebpfprioritysrc", NULL);
  GstElement *u = gst_element_factory_make ("udpsrc", NULL);
  static const gchar *props[] = { "port", "address", "multicast-group",
    "multicast-iface", "uri", "buffer-size", "timeout", "skip-first-bytes",
    "close-socket", "auto-multicast", "reuse", "loop",
    "retrieve-sender-address", "mtu", "socket", "used-socket",
    "socket-timestamp", "caps"
  };
  guint i;

  /* (scripts/deps.sh installs gst-plugins-good: without udpsrc there is
   * nothing to compare with, which must not pass) */
  fail_unless (u != NULL, "no udpsrc (gstreamer1.0-plugins-good) to compare "
      "the defaults with");
  for (i = 0; i < G_N_ELEMENTS (props); i++) {
    GParamSpec *a = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
        props[i]);
    GParamSpec *b = g_object_class_find_property (G_OBJECT_GET_CLASS (u),
        props[i]);
    GValue va = G_VALUE_INIT, vb = G_VALUE_INIT;
    gchar *sa, *sb;

    fail_unless (a != NULL, "ebpfprioritysrc has no %s", props[i]);
    fail_unless (b != NULL, "udpsrc has no %s", props[i]);
    /* the same value type (an enum: the same nicks) and default */
    if (G_IS_PARAM_SPEC_ENUM (b)) {
      GEnumClass *ka = G_PARAM_SPEC_ENUM (a)->enum_class;
      GEnumClass *kb = G_PARAM_SPEC_ENUM (b)->enum_class;
      guint j;

      fail_unless (G_IS_PARAM_SPEC_ENUM (a), "%s", props[i]);
      fail_unless_equals_int (ka->n_values, kb->n_values);
      for (j = 0; j < kb->n_values; j++)
        fail_unless_equals_string (ka->values[j].value_nick,
            kb->values[j].value_nick);
      fail_unless_equals_string (g_enum_get_value (ka,
              G_PARAM_SPEC_ENUM (a)->default_value)->value_nick,
          g_enum_get_value (kb, G_PARAM_SPEC_ENUM (b)->default_value)->
          value_nick);
      continue;
    }
    fail_unless (G_PARAM_SPEC_VALUE_TYPE (a) == G_PARAM_SPEC_VALUE_TYPE (b),
        "%s: %s, udpsrc's %s", props[i],
        g_type_name (G_PARAM_SPEC_VALUE_TYPE (a)),
        g_type_name (G_PARAM_SPEC_VALUE_TYPE (b)));
    fail_unless_equals_int (a->flags & (G_PARAM_READABLE | G_PARAM_WRITABLE),
        b->flags & (G_PARAM_READABLE | G_PARAM_WRITABLE));
    if (!(b->flags & G_PARAM_WRITABLE) || G_IS_PARAM_SPEC_OBJECT (b) ||
        G_IS_PARAM_SPEC_BOXED (b))
      continue;
    g_value_init (&va, G_PARAM_SPEC_VALUE_TYPE (a));
    g_value_init (&vb, G_PARAM_SPEC_VALUE_TYPE (b));
    g_param_value_set_default (a, &va);
    g_param_value_set_default (b, &vb);
    sa = g_strdup_value_contents (&va);
    sb = g_strdup_value_contents (&vb);
    fail_unless_equals_string (sa, sb);
    g_free (sa);
    g_free (sb);
    g_value_unset (&va);
    g_value_unset (&vb);
  }
  gst_object_unref (e);
  gst_object_unref (u);
}

GST_END_TEST;
#endif

static Suite *
ebpfprioritysrc_udp_suite (void)
{
  Suite *s = suite_create ("ebpfprioritysrc-udp-" MODE);
  TCase *tc = tcase_create ("udpsrc");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_empty_packet);
  tcase_add_test (tc, test_buffer_layout);
  tcase_add_test (tc, test_mtu);
  tcase_add_test (tc, test_sender_address);
  tcase_add_test (tc, test_uri);
  tcase_add_test (tc, test_timeout);
  tcase_add_test (tc, test_skip_first_bytes);
  tcase_add_test (tc, test_given_socket);
  tcase_add_test (tc, test_socket_timestamp);
#ifndef PSRC_TEST_KERNEL
  tcase_add_test (tc, test_defaults_are_udpsrc_defaults);
#endif
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
  return gst_check_run_suite (ebpfprioritysrc_udp_suite (),
      "ebpfprioritysrc-udp", __FILE__);
}
