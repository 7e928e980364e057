/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelaysink element tests that need no privilege: properties, signals,
 * state changes, the error for each bad setting, and the userspace path on
 * loopback. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>
#include <gst/check/gstcheck.h>
#include <gst/net/gstnetaddressmeta.h>
#include <gst/check/gstharness.h>

/* A UDP socket on ::1 with a kernel-chosen port. */
static int
open_receiver6 (gint * port)
{
  struct sockaddr_in6 a = {.sin6_family = AF_INET6 };
  socklen_t len = sizeof (a);
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET6, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  a.sin6_addr = in6addr_loopback;
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  *port = ntohs (a.sin6_port);
  return fd;
}

/* A UDP socket on 127.0.0.1 with a kernel-chosen port. */
static int
open_receiver (gint * port)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  *port = ntohs (a.sin_port);
  return fd;
}

#include "check-start-error.h"
#include "check-anyup.h"

GST_START_TEST (test_properties)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  gchar *clients, *ifaces;
  gint port, mode;
  GstStructure *stats;

  fail_unless (sink != NULL);
  g_object_get (sink, "clients", &clients, "port", &port, "mode", &mode,
      "interfaces", &ifaces, NULL);
  fail_unless_equals_string (clients, "");
  fail_unless_equals_int (port, 0);
  fail_unless_equals_int (mode, 0);     /* auto */
  fail_unless (ifaces == NULL);
  g_free (clients);

  g_object_set (sink, "clients", "10.0.0.1:5000, 10.0.0.2:6000,10.0.0.1:5000",
      "port", 5004, "interfaces", "veth0,veth1", NULL);
  gst_util_set_object_arg (G_OBJECT (sink), "mode", "userspace");
  g_object_get (sink, "clients", &clients, "port", &port, "mode", &mode,
      "interfaces", &ifaces, NULL);
  /* as multiudpsink: a repeated entry counts its subscriber again, and
   * the property lists it as often */
  fail_unless_equals_string (clients,
      "10.0.0.1:5000,10.0.0.1:5000,10.0.0.2:6000");
  fail_unless_equals_int (port, 5004);
  fail_unless_equals_int (mode, 2);
  fail_unless_equals_string (ifaces, "veth0,veth1");
  g_free (clients);
  g_free (ifaces);

  {
    gboolean pass;

    /* the design's default: originals go up to udpsrc */
    g_object_get (sink, "pass-original", &pass, NULL);
    fail_unless (pass);
    g_object_set (sink, "pass-original", FALSE, NULL);
    g_object_get (sink, "pass-original", &pass, NULL);
    fail_if (pass);
  }

  {
    gboolean kf;
    guint size, rate;

    /* the key-frame cache: off by default */
    g_object_get (sink, "keyframe-cache", &kf, "keyframe-cache-size", &size,
        "keyframe-burst-rate", &rate, NULL);
    fail_if (kf);
    fail_unless_equals_int (size, 4096);
    fail_unless_equals_int (rate, 16000000);
    g_object_set (sink, "keyframe-cache", TRUE, "keyframe-cache-size", 128,
        "keyframe-burst-rate", 2000000, NULL);
    g_object_get (sink, "keyframe-cache", &kf, "keyframe-cache-size", &size,
        "keyframe-burst-rate", &rate, NULL);
    fail_unless (kf);
    fail_unless_equals_int (size, 128);
    fail_unless_equals_int (rate, 2000000);
  }

  g_object_get (sink, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless_equals_string (gst_structure_get_string (stats, "mode"),
      "stopped");
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "clients")), 2);
  gst_structure_free (stats);
  gst_object_unref (sink);
}

GST_END_TEST;

static void
count_signal (GstElement * sink, const gchar * host, gint port, gint * count)
{
  (*count)++;
}

GST_START_TEST (test_signals)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  gint added = 0, removed = 0;
  GstStructure *s = NULL;
  gchar *clients;

  g_signal_connect (sink, "client-added", G_CALLBACK (count_signal), &added);
  g_signal_connect (sink, "client-removed", G_CALLBACK (count_signal),
      &removed);

  g_signal_emit_by_name (sink, "add", "10.0.0.1", 5000);
  g_signal_emit_by_name (sink, "add", "10.0.0.2", 5000);
  g_signal_emit_by_name (sink, "add", "10.0.0.1", 5000);        /* counted again */
  /* multiudpsink's: client-added on every add */
  fail_unless_equals_int (added, 3);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients,
      "10.0.0.1:5000,10.0.0.1:5000,10.0.0.2:5000");
  g_free (clients);

  g_signal_emit_by_name (sink, "get-stats", "10.0.0.1", 5000, &s);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "host"),
      "10.0.0.1");
  fail_unless (gst_structure_has_field_typed (s, "kernel-packets",
          G_TYPE_UINT64));
  fail_unless (gst_structure_has_field_typed (s, "user-packets",
          G_TYPE_UINT64));
  gst_structure_free (s);
  s = NULL;
  /* unknown: an empty structure, as multiudpsink's */
  g_signal_emit_by_name (sink, "get-stats", "10.9.9.9", 1, &s);
  fail_unless (s != NULL);
  fail_unless_equals_int (gst_structure_n_fields (s), 0);
  gst_structure_free (s);

  /* added twice: the first remove only uncounts it */
  g_signal_emit_by_name (sink, "remove", "10.0.0.1", 5000);
  fail_unless_equals_int (removed, 0);
  g_signal_emit_by_name (sink, "remove", "10.0.0.1", 5000);
  fail_unless_equals_int (removed, 1);
  g_signal_emit_by_name (sink, "remove", "10.0.0.1", 5000);     /* unknown */
  fail_unless_equals_int (removed, 1);

  g_signal_emit_by_name (sink, "add", "10.0.0.3", 5000);
  fail_unless_equals_int (added, 4);
  /* clear: no client-removed (multiudpsink's) */
  g_signal_emit_by_name (sink, "clear");
  fail_unless_equals_int (removed, 1);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "");
  g_free (clients);

  /* clients property: as multiudpsink's, a client-added per entry (kept
   * ones too, a repeated one twice), no client-removed for those dropped */
  g_object_set (sink, "clients", "10.0.0.1:1,10.0.0.2:2", NULL);
  fail_unless_equals_int (added, 6);
  g_object_set (sink, "clients", "10.0.0.2:2,10.0.0.3:3,10.0.0.3:3", NULL);
  fail_unless_equals_int (added, 9);
  fail_unless_equals_int (removed, 1);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_bad_add_is_refused)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  gchar *clients;

  g_signal_emit_by_name (sink, "add", "10.0.0.1", 70000);
  g_signal_emit_by_name (sink, "add", "not a host name", 5000);
  g_signal_emit_by_name (sink, "add", "ff02::1", 5000);
  g_signal_emit_by_name (sink, "add", "::", 5000);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "");
  g_free (clients);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_bad_settings_fail_start)
{
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=nonsense", "nonsense");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:70000", "70000");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:", "127.0.0.1:");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=no.such.host.invalid:5000",
      "no.such.host.invalid");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=[ff02::1]:5000", "ff02::1");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=::1:5000", "brackets");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace interfaces=nosuchif0", "nosuchif0");
  /* a udpsrc upstream whose port is not known yet */
  assert_start_error ("udpsrc address=127.0.0.1 port=0 ! ebpfrelaysink "
      "mode=userspace", "port");
  /* the relay's own listening address: a forwarding loop */
  {
    gint port = check_free_port (2);
    gchar *desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
        "ebpfrelaysink mode=userspace clients=127.0.0.1:%d", port, port);
    gchar *needle = g_strdup_printf ("127.0.0.1:%d", port);

    assert_start_error (desc, needle);
    g_free (desc);
    g_free (needle);
  }
  assert_start_error ("fakesrc ! ebpfrelaysink port=@B@ mode=userspace "
      "clients=127.0.0.1:@B@", "loop");
}

GST_END_TEST;

/* rtx-payload-type-map: a bad map fails start naming the property; a good
 * one is kept as given and starts. */
GST_START_TEST (test_rtx_map)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  GstStructure *m = gst_structure_from_string ("application/x-rtp-pt-map, "
      "96=(uint)97", NULL), *got = NULL;

  g_object_get (sink, "rtx-payload-type-map", &got, NULL);
  fail_unless (got == NULL, "a default RTX map");
  g_object_set (sink, "rtx-payload-type-map", m, NULL);
  g_object_get (sink, "rtx-payload-type-map", &got, NULL);
  fail_unless (got && gst_structure_is_equal (got, m));
  gst_structure_free (got);
  gst_structure_free (m);
  gst_object_unref (sink);

  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace rtx-payload-type-map=\"application/x-rtp-pt-map, "
      "96=(uint)96\"", "rtx-payload-type-map");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace rtx-payload-type-map=\"application/x-rtp-pt-map, "
      "x=(uint)97\"", "rtx-payload-type-map");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace rtx-payload-type-map=\"application/x-rtp-pt-map, "
      "96=(uint)300\"", "rtx-payload-type-map");
}

GST_END_TEST;

/* Runs @desc to PLAYING (it must start) and returns the text of the
 * first warning it posts within a second, or NULL. */
static gchar *
start_and_get_warning (const gchar * desc)
{
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus;
  GstMessage *msg;
  gchar *text = NULL;

  fail_unless (p != NULL);
  bus = gst_element_get_bus (p);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "%s did not start", desc);
  msg = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_WARNING);
  if (msg) {
    GError *err = NULL;
    gchar *debug = NULL;

    gst_message_parse_warning (msg, &err, &debug);
    text = g_strdup (err->message);
    g_error_free (err);
    g_free (debug);
    gst_message_unref (msg);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return text;
}

/* Issue 11: every refused or altered value says so. */
GST_START_TEST (test_refused_values)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  const gchar *long_token =
      "01234567890123456789012345678901234567890123456789012345678901234";
  gchar *clients, *w, *desc;
  struct ifaddrs *ifs = NULL, *i;

  /* addresses nobody subscribes at, by every way of adding */
  g_signal_emit_by_name (sink, "add", "0.0.0.0", 5000);
  g_signal_emit_by_name (sink, "add", "255.255.255.255", 5000);
  g_signal_emit_by_name (sink, "add", "224.0.0.5", 5000);
  g_object_set (sink, "clients", "224.0.0.1:5000", NULL);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "");
  g_free (clients);
  gst_object_unref (sink);
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=0.0.0.0:5000", "'0.0.0.0' is unspecified");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5000,255.255.255.255:5000",
      "'255.255.255.255' is a broadcast address");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=224.0.0.251:5000",
      "'224.0.0.251' is in 224.0.0.0/24");
  /* a subnet broadcast (prefix with every host bit set), where an
   * interface here has a prefix of /30 or shorter; and the interface's own
   * address is no broadcast */
  fail_unless (getifaddrs (&ifs) == 0);
  for (i = ifs; i; i = i->ifa_next) {
    gchar b[INET_ADDRSTRLEN], *needle;
    struct in_addr own, mask, brd;

    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET
        || !i->ifa_netmask || !(i->ifa_flags & IFF_BROADCAST))
      continue;
    own = ((struct sockaddr_in *) i->ifa_addr)->sin_addr;
    mask = ((struct sockaddr_in *) i->ifa_netmask)->sin_addr;
    if (ntohl (mask.s_addr) > 0xfffffffcu)
      continue;
    brd.s_addr = own.s_addr | ~mask.s_addr;
    inet_ntop (AF_INET, &brd, b, sizeof (b));
    desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
        "ebpfrelaysink mode=userspace clients=%s:5000", check_free_port (2), b);
    needle = g_strdup_printf ("'%s' is a broadcast address", b);
    assert_start_error (desc, needle);
    g_free (desc);
    g_free (needle);
    inet_ntop (AF_INET, &own, b, sizeof (b));
    desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
        "ebpfrelaysink mode=userspace rtcp-port=0 clients=%s:5000",
        check_free_port (2), b);
    w = start_and_get_warning (desc);
    fail_unless (w == NULL, "%s: %s", desc, w);
    g_free (desc);
    break;
  }
  freeifaddrs (ifs);

  /* the control port is the stream's: named, not udpsrc's bind error */
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace control-port=@A@", "control-port");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace control-port=@A@", "stream's port");

  /* a token longer than the channel carries: refused, not cut */
  desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=@A@ ! "
      "ebpfrelaysink mode=userspace control-port=@B@ token=%s", long_token);
  assert_start_error (desc, "65 bytes");
  g_free (desc);
  /* 64 bytes are fine */
  desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=@A@ ! "
      "ebpfrelaysink mode=userspace control-port=@B@ token=%.64s", long_token);
  w = start_and_get_warning (check_ports (desc));
  fail_unless (w == NULL, "warning: %s", w);
  g_free (desc);

  /* duplicates: counted again (multiudpsink's send-duplicates), no
   * warning */
  w = start_and_get_warning (check_ports ("udpsrc address=127.0.0.1 "
          "port=@A@ ! ebpfrelaysink mode=userspace rtcp-port=0 "
          "clients=127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5000@3"));
  fail_unless (w == NULL, "warning: %s", w);
}

GST_END_TEST;

/* While running: a too long token is refused with a warning and the old
 * one stays. */
GST_START_TEST (test_refused_values_running)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink "
          "port=@A@ rtcp-port=0 mode=userspace control-port=@B@ token=old"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *token;

  gst_element_set_bus (sink, bus);
  gst_harness_play (h);
  g_object_set (sink, "token",
      "01234567890123456789012345678901234567890123456789012345678901234",
      NULL);
  g_object_get (sink, "token", &token, NULL);
  fail_unless_equals_string (token, "old");
  g_free (token);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "65 bytes") != NULL, "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);


  gst_bus_set_flushing (bus, TRUE);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Every range a property's spec allows is one its element accepts: the
 * priority limit and ports of all three elements. */
GST_START_TEST (test_param_ranges)
{
  struct
  {
    const gchar *type, *prop;
    gint64 min, max;
  } want[] = {
    {"GstEbpfRelaySink", "port", 0, 65535},
    {"GstEbpfRelaySink", "control-port", 0, 65535},
    {"GstEbpfRelaySink", "rtcp-port", -1, 65535},
    {"GstEbpfRelaySink", "framemarking-id", 0, 255},
    {"GstEbpfRelaySink", "max-clients", 0, 1024},
    {"GstEbpfRelaySink", "subscriber-timeout", 1, 3600},
    {"GstEbpfRelaySink", "nack-cache", -1, 8192},
    {"GstEbpfRelaySink", "source-timeout", 0, 3600000},
    {"GstEbpfRelaySink", "keyframe-cache-size", 64, 32768},
    {"GstEbpfRelaySink", "keyframe-burst-rate", 100000, 1000000000},
    {"GstEbpfPrioritySrc", "priority-limit", 0, 7},
    {"GstEbpfPrioritySrc", "port", 0, 65535},
    {"GstEbpfPrioritySrc", "rtcp-port", -1, 65535},
    {"GstEbpfPrioritySrc", "framemarking-id", 0, 255},
    {"GstRtpFrameMarking", "priority", -1, 7},
    {"GstRtpFrameMarking", "framemarking-id", 1, 255},
  };

  /* (the element types exist once a factory loaded them) */
  gst_object_unref (gst_element_factory_make ("ebpfprioritysrc", NULL));
  gst_object_unref (gst_element_factory_make ("rtpframemarking", NULL));
  gst_object_unref (gst_element_factory_make ("ebpfrelaysink", NULL));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
    GObjectClass *k = g_type_class_ref (g_type_from_name (want[i].type));
    GParamSpec *ps = g_object_class_find_property (k, want[i].prop);
    gint64 min, max;

    fail_unless (ps != NULL, "%s:%s", want[i].type, want[i].prop);
    if (G_IS_PARAM_SPEC_INT (ps)) {
      min = G_PARAM_SPEC_INT (ps)->minimum;
      max = G_PARAM_SPEC_INT (ps)->maximum;
    } else {
      min = G_PARAM_SPEC_UINT (ps)->minimum;
      max = G_PARAM_SPEC_UINT (ps)->maximum;
    }
    fail_unless (min == want[i].min && max == want[i].max,
        "%s:%s is %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ", accepted "
        "%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, want[i].type, want[i].prop,
        min, max, want[i].min, want[i].max);
    g_type_class_unref (k);
  }
}

GST_END_TEST;

GST_START_TEST (test_loop_refused_at_runtime)
{
  gint port = check_free_port (1);
  gchar *desc = g_strdup_printf ("ebpfrelaysink port=%d rtcp-port=0 "
      "mode=userspace", port);
  GstHarness *h = gst_harness_new_parse (desc);
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  gchar *clients;

  g_free (desc);
  gst_harness_play (h);
  g_signal_emit_by_name (sink, "add", "127.0.0.1", port);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "");
  g_free (clients);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gsize
recv_one (int fd, guint8 * buf, gsize size)
{
  ssize_t n = recv (fd, buf, size, 0);
  return n < 0 ? 0 : n;
}

/* Userspace forwarding: every buffer reaches every client once, byte for
 * byte, and clients added or removed while PLAYING count from the next
 * buffer. */
GST_START_TEST (test_userspace_forwarding)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  gint pa, pb;
  int a = open_receiver (&pa), b = open_receiver (&pb);
  guint8 buf[2048];
  GstStructure *s = NULL;
  guint64 packets = 0;
  gint i;

  gst_harness_set_src_caps_str (h, "application/x-rtp");
  g_signal_emit_by_name (sink, "add", "127.0.0.1", pa);
  gst_harness_play (h);

  for (i = 0; i < 5; i++) {
    gchar *msg = g_strdup_printf ("packet %d", i);
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_wrapped (msg, strlen (msg))), GST_FLOW_OK);
    if (i == 1)
      g_signal_emit_by_name (sink, "add", "127.0.0.1", pb);
    if (i == 3)
      g_signal_emit_by_name (sink, "remove", "127.0.0.1", pa);
  }
  for (i = 0; i < 4; i++) {
    gchar *want = g_strdup_printf ("packet %d", i);
    gsize n = recv_one (a, buf, sizeof (buf));
    fail_unless_equals_int (n, strlen (want));
    fail_unless (memcmp (buf, want, n) == 0);
    g_free (want);
  }
  for (i = 2; i < 5; i++) {
    gchar *want = g_strdup_printf ("packet %d", i);
    gsize n = recv_one (b, buf, sizeof (buf));
    fail_unless_equals_int (n, strlen (want));
    fail_unless (memcmp (buf, want, n) == 0);
    g_free (want);
  }
  /* nothing more, on either */
  {
    struct timeval tv = {.tv_usec = 200000 };
    setsockopt (a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    setsockopt (b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    fail_unless_equals_int (recv_one (a, buf, sizeof (buf)), 0);
    fail_unless_equals_int (recv_one (b, buf, sizeof (buf)), 0);
  }

  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", pb, &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "user-packets", &packets));
  fail_unless_equals_int (packets, 3);
  fail_unless (gst_structure_get_uint64 (s, "kernel-packets", &packets));
  fail_unless_equals_int (packets, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "path"),
      "userspace");
  gst_structure_free (s);

  close (a);
  close (b);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* IPv6 in userspace mode: a v6 subscriber on ::1 and a v4 one get every
 * packet exactly once, byte for byte, the v6 one from an IPv6 socket on
 * the stream's port; add, get-stats and remove by the v6 address. */
GST_START_TEST (test_userspace_ipv6_mixed)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  gint p4, p6, p6b, port;
  int r4 = open_receiver (&p4), r6 = open_receiver6 (&p6);
  int r6b = open_receiver6 (&p6b);
  guint8 buf[2048];
  GstStructure *s = NULL;
  guint64 packets = 0;
  gchar *clients, *want_clients;
  struct timeval tv = {.tv_usec = 200000 };
  gint i;

  g_object_get (sink, "port", &port, NULL);
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  clients = g_strdup_printf ("127.0.0.1:%d,[::1]:%d@0", p4, p6);
  g_object_set (sink, "clients", clients, NULL);
  g_free (clients);
  gst_harness_play (h);
  for (i = 0; i < 10; i++) {
    gchar *msg = g_strdup_printf ("packet %d", i);
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_wrapped (msg, strlen (msg))), GST_FLOW_OK);
    if (i == 4)
      g_signal_emit_by_name (sink, "add", "[::1]", p6b);
  }
  for (i = 0; i < 10; i++) {
    gchar *want = g_strdup_printf ("packet %d", i);
    struct sockaddr_in6 from;
    socklen_t flen = sizeof (from);
    gsize n = recv_one (r4, buf, sizeof (buf));

    fail_unless_equals_int (n, strlen (want));
    fail_unless (memcmp (buf, want, n) == 0);
    n = recvfrom (r6, buf, sizeof (buf), 0, (struct sockaddr *) &from, &flen);
    fail_unless_equals_int (n, strlen (want));
    fail_unless (memcmp (buf, want, n) == 0);
    fail_unless_equals_int (from.sin6_family, AF_INET6);
    fail_unless (IN6_IS_ADDR_LOOPBACK (&from.sin6_addr));
    fail_unless_equals_int (ntohs (from.sin6_port), port);
    if (i >= 5) {
      n = recv_one (r6b, buf, sizeof (buf));
      fail_unless_equals_int (n, strlen (want));
      fail_unless (memcmp (buf, want, n) == 0);
    }
    g_free (want);
  }
  /* exactly once: nothing more on any */
  setsockopt (r4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (r6, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (r6b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (r4, buf, sizeof (buf)), 0);
  fail_unless_equals_int (recv_one (r6, buf, sizeof (buf)), 0);
  fail_unless_equals_int (recv_one (r6b, buf, sizeof (buf)), 0);

  g_signal_emit_by_name (sink, "get-stats", "::1", p6, &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "user-packets", &packets));
  fail_unless_equals_int (packets, 10);
  gst_structure_free (s);
  g_signal_emit_by_name (sink, "get-stats", "[::1]", p6b, &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "user-packets", &packets));
  fail_unless_equals_int (packets, 5);
  gst_structure_free (s);

  g_signal_emit_by_name (sink, "remove", "::1", p6);
  g_object_get (sink, "clients", &clients, NULL);
  want_clients = g_strdup_printf ("127.0.0.1:%d,[::1]:%d", p4, p6b);
  fail_unless_equals_string (clients, want_clients);
  g_free (clients);
  g_free (want_clients);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_wrapped (g_strdup ("last"), 4)), GST_FLOW_OK);
  fail_unless_equals_int (recv_one (r6b, buf, sizeof (buf)), 4);
  fail_unless_equals_int (recv_one (r6, buf, sizeof (buf)), 0);

  close (r4);
  close (r6);
  close (r6b);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A stream over IPv6 (udpsrc on ::1, or on :: dual stack): a v6 and a v4
 * subscriber each get it once, both from the stream's port. */
static void
check_v6_stream (const gchar * udpsrc_address)
{
  gint p4, p6, port = check_free_port (2);
  int r4 = open_receiver (&p4), r6 = open_receiver6 (&p6);
  gchar *desc = g_strdup_printf ("udpsrc address=%s port=%d ! "
      "ebpfrelaysink mode=userspace rtcp-port=0 "
      "clients=[::1]:%d,127.0.0.1:%d", udpsrc_address, port, p6, p4);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  struct sockaddr_in6 to = {.sin6_family = AF_INET6 };
  int tx = socket (AF_INET6, SOCK_DGRAM, 0);
  struct timeval tv = {.tv_usec = 100000 };
  guint8 buf[64];
  ssize_t n = -1;
  gint got = 0;

  fail_unless (pipeline != NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  to.sin6_addr = in6addr_loopback;
  to.sin6_port = htons (port);
  setsockopt (r6, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (r4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  /* udpsrc may need a moment: send until a copy comes back */
  for (int i = 0; i < 30 && n <= 0; i++) {
    sendto (tx, "first", 5, 0, (struct sockaddr *) &to, sizeof (to));
    n = recv (r6, buf, sizeof (buf), 0);
  }
  fail_unless_equals_int (n, 5);
  /* drain the rest of the "first"s on both */
  while (recv (r6, buf, sizeof (buf), 0) > 0);
  while (recv (r4, buf, sizeof (buf), 0) > 0);
  for (int i = 0; i < 5; i++)
    sendto (tx, "hello", 5, 0, (struct sockaddr *) &to, sizeof (to));
  for (int i = 0; i < 2; i++) {
    int fd = i ? r4 : r6;
    struct sockaddr_storage from;
    socklen_t flen = sizeof (from);

    for (got = 0; (n = recvfrom (fd, buf, sizeof (buf), 0,
                (struct sockaddr *) &from, &flen)) > 0; got++) {
      fail_unless_equals_int (n, 5);
      fail_unless (memcmp (buf, "hello", 5) == 0);
      fail_unless_equals_int (from.ss_family, i ? AF_INET : AF_INET6);
      fail_unless_equals_int (ntohs (i ? ((struct sockaddr_in *)
                  &from)->sin_port : ((struct sockaddr_in6 *)
                  &from)->sin6_port), port);
      flen = sizeof (from);
    }
    fail_unless_equals_int (got, 5);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (desc);
  close (r4);
  close (r6);
  close (tx);
}

GST_START_TEST (test_userspace_ipv6_stream)
{
  check_v6_stream ("::1");
  check_v6_stream ("::");
}

GST_END_TEST;

/* Any upstream (appsrc, no port set): an ephemeral port is bound and
 * readable, and every buffer, pushed alone or in buffer lists, reaches
 * both subscribers once, from that port. */
GST_START_TEST (test_any_upstream_userspace)
{
  gchar *w = NULL;
  GstStructure *s = anyup_deliver ("mode=userspace", 20, 100, FALSE, &w);

  fail_unless_equals_string (gst_structure_get_string (s, "mode"),
      "userspace");
  fail_unless_equals_int (anyup_u64 (s, "local-userspace"), 20);
  fail_unless_equals_int (anyup_u64 (s, "local-sent"), 0);
  fail_unless (w == NULL, "warning: %s", w);
  gst_structure_free (s);

  s = anyup_deliver ("mode=userspace", 20, 100, TRUE, &w);
  fail_unless_equals_int (anyup_u64 (s, "local-userspace"), 20);
  fail_unless_equals_int (anyup_u64 (s, "buffers-in"), 20);
  gst_structure_free (s);
  g_free (w);
}

GST_END_TEST;

/* Copies leave from the stream's port when upstream is a udpsrc. */
GST_START_TEST (test_userspace_source_port)
{
  gint pr, port = check_free_port (2);
  int r = open_receiver (&pr);
  gchar *desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
      "ebpfrelaysink mode=userspace clients=127.0.0.1:%d", port, pr);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  struct sockaddr_in to = {.sin_family = AF_INET }, from;
  socklen_t fromlen = sizeof (from);
  int tx = socket (AF_INET, SOCK_DGRAM, 0);
  guint8 buf[64];
  ssize_t n;

  fail_unless (pipeline != NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (port);
  /* udpsrc may need a moment: send until the copy comes back */
  for (int i = 0; i < 20; i++) {
    sendto (tx, "hello", 5, 0, (struct sockaddr *) &to, sizeof (to));
    struct timeval tv = {.tv_usec = 100000 };
    setsockopt (r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    n = recvfrom (r, buf, sizeof (buf), 0, (struct sockaddr *) &from,
        &fromlen);
    if (n > 0)
      break;
  }
  fail_unless_equals_int (n, 5);
  fail_unless (memcmp (buf, "hello", 5) == 0);
  fail_unless_equals_int (ntohs (from.sin_port), port);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (desc);
  close (r);
  close (tx);
}

GST_END_TEST;

/* --- priority limits --------------------------------------------------- */

GST_START_TEST (test_priority_limit_property)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  GstStructure *s = NULL;
  gboolean ok = FALSE;
  gchar *clients;
  gint limit = -1;

  g_object_set (sink, "clients",
      "10.0.0.1:5000@7, 10.0.0.2:6000,10.0.0.3:7000@0,10.0.0.4:8000@5", NULL);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients,
      "10.0.0.1:5000@7,10.0.0.2:6000,10.0.0.3:7000,10.0.0.4:8000@5");
  g_free (clients);
  g_signal_emit_by_name (sink, "get-stats", "10.0.0.1", 5000, &s);
  fail_unless (gst_structure_get_int (s, "priority-limit", &limit));
  fail_unless_equals_int (limit, 7);
  fail_unless (gst_structure_has_field_typed (s, "priority-dropped",
          G_TYPE_UINT64));
  gst_structure_free (s);

  g_signal_emit_by_name (sink, "set-priority-limit", "10.0.0.2", 6000, 6,
      &ok);
  fail_unless (ok);
  g_signal_emit_by_name (sink, "set-priority-limit", "10.0.0.1", 5000, 0,
      &ok);
  fail_unless (ok);
  g_signal_emit_by_name (sink, "set-priority-limit", "10.0.0.9", 5000, 3,
      &ok);
  fail_if (ok, "unknown client");
  g_signal_emit_by_name (sink, "set-priority-limit", "10.0.0.2", 6000, 8,
      &ok);
  fail_if (ok, "limit 8");
  g_signal_emit_by_name (sink, "set-priority-limit", "10.0.0.2", 6000, -1,
      &ok);
  fail_if (ok, "limit -1");
  /* add: limit 0 for a new client, the limit kept for a known one */
  g_signal_emit_by_name (sink, "add", "10.0.0.5", 9000);
  g_signal_emit_by_name (sink, "add", "10.0.0.4", 8000);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "10.0.0.1:5000,10.0.0.2:6000@6,"
      "10.0.0.3:7000,10.0.0.4:8000@5,10.0.0.4:8000@5,10.0.0.5:9000");
  g_free (clients);
  /* the property changes the limit of a client it keeps */
  g_object_set (sink, "clients", "10.0.0.4:8000@2,10.0.0.5:9000@7", NULL);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "10.0.0.4:8000@2,10.0.0.5:9000@7");
  g_free (clients);
  gst_object_unref (sink);
}

GST_END_TEST;

/* Starts @desc to PLAYING (must succeed), then stops it. */
static void
assert_starts (const gchar * tmpl)
{
  /* (its "@X@" are free ports, check_ports) */
  const gchar *desc = check_ports (tmpl);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstStateChangeReturn ret;

  fail_unless (p != NULL);
  /* (the sink starts in the state change; prerolling needs a buffer) */
  ret = gst_element_set_state (p, GST_STATE_PLAYING);
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s did not start", desc);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

GST_START_TEST (test_rtcp_settings)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  gint rtcp_port, busy_port;
  guint interval;
  gchar *up, *desc;
  int busy = open_receiver (&busy_port);

  g_object_get (sink, "rtcp-port", &rtcp_port, "upstream-rtcp", &up,
      "keyframe-request-interval", &interval, NULL);
  fail_unless_equals_int (rtcp_port, -1);
  fail_unless (up == NULL);
  fail_unless_equals_int (interval, 500);
  g_object_set (sink, "rtcp-port", 6001, "upstream-rtcp", "10.0.0.1:5007",
      "keyframe-request-interval", 200, NULL);
  g_object_get (sink, "rtcp-port", &rtcp_port, "upstream-rtcp", &up,
      "keyframe-request-interval", &interval, NULL);
  fail_unless_equals_int (rtcp_port, 6001);
  fail_unless_equals_string (up, "10.0.0.1:5007");
  fail_unless_equals_int (interval, 200);
  g_free (up);
  gst_object_unref (sink);

  /* errors name the property */
  {
    gint port = check_free_port (2);
    gchar *needle = g_strdup_printf ("rtcp-port %d", port);

    desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
        "ebpfrelaysink mode=userspace rtcp-port=%d", port, port);
    assert_start_error (desc, needle);
    g_free (desc);
    g_free (needle);
  }
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace upstream-rtcp=nonsense", "upstream-rtcp 'nonsense'");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace upstream-rtcp=127.0.0.1:99999", "upstream-rtcp");
  assert_start_error ("udpsrc address=127.0.0.1 port=65535 ! ebpfrelaysink "
      "mode=userspace", "rtcp-port");
  desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
      "ebpfrelaysink mode=userspace rtcp-port=%d", check_free_port (2),
      busy_port);
  assert_start_error (desc, "rtcp-port");
  g_free (desc);
  /* default port + 1 taken: fails too, naming the property */
  desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d ! "
      "ebpfrelaysink mode=userspace", busy_port - 1);
  assert_start_error (desc, "rtcp-port");
  g_free (desc);
  close (busy);
  /* off; or one socket with the subscription channel */
  assert_starts ("udpsrc address=127.0.0.1 port=65535 ! ebpfrelaysink "
      "mode=userspace rtcp-port=0");
  assert_starts ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace control-port=@B@");
  assert_starts ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace control-port=@B@ rtcp-port=@B@");
}

GST_END_TEST;

/* A receiver on port @port of 127.0.0.1 (bound, 2 s timeout). */
static int
open_receiver_at (gint port)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  a.sin_port = htons (port);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0,
      "port %d: %s", port, g_strerror (errno));
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return fd;
}

static gint
rtcp_port_of (GstElement * sink, gint port)
{
  GstStructure *s = NULL;
  gint rp = -100;

  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", port, &s);
  fail_unless (s != NULL, "no client 127.0.0.1:%d", port);
  fail_unless (gst_structure_get_int (s, "rtcp-port", &rp));
  gst_structure_free (s);
  return rp;
}

/* Each subscriber's RTCP destination (issue 9): the clients syntax
 * host:port[@limit][/rtcp-port|/mux] (kept as given by the property), the
 * add-full signal, get-stats' rtcp-port, and the sender's SR reaching each
 * subscriber there: its given port, its media port (mux), port + 1. */
GST_START_TEST (test_rtcp_destination)
{
  gint up_port, m1, m2, m3, r1, relay_rtcp = check_free_port (1);
  int up = open_receiver (&up_port), a, b, c, tx, media_a;
  gchar *desc, *clients, *want;
  GstElement *sink;
  GstHarness *h;
  gboolean ok = FALSE;
  guint8 sr[28] = { 0x80, 200, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44 };
  guint8 buf[256];
  struct sockaddr_in to = {.sin_family = AF_INET };

  m1 = check_free_port (2);
  a = open_receiver (&r1);      /* m1's RTCP port: not m1 + 1 */
  media_a = open_receiver_at (m1 + 1);  /* must get nothing */
  b = open_receiver (&m2);      /* mux: the media port */
  m3 = check_free_port (2);
  c = open_receiver_at (m3 + 1);        /* default: port + 1 */
  desc = g_strdup_printf ("ebpfrelaysink port=%d rtcp-port=%d mode=userspace "
      "upstream-rtcp=127.0.0.1:%d clients=127.0.0.1:%d/%d,127.0.0.1:%d@3/mux",
      check_free_port (1), relay_rtcp, up_port, m1, r1, m2);
  h = gst_harness_new_parse (desc);
  g_free (desc);
  sink = gst_harness_find_element (h, "ebpfrelaysink");
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  gst_harness_play (h);
  g_signal_emit_by_name (sink, "add-full", "127.0.0.1", m3, 0, -1, &ok);
  fail_unless (ok);
  /* bad arguments: refused, nothing added */
  g_signal_emit_by_name (sink, "add-full", "127.0.0.1", 9, 0, 65536, &ok);
  fail_if (ok);
  g_signal_emit_by_name (sink, "add-full", "127.0.0.1", 9, 8, -1, &ok);
  fail_if (ok);
  g_signal_emit_by_name (sink, "add-full", "127.0.0.1", 9, 0, -2, &ok);
  fail_if (ok);
  g_object_get (sink, "clients", &clients, NULL);
  want = g_strdup_printf ("127.0.0.1:%d/%d,127.0.0.1:%d@3/mux,127.0.0.1:%d",
      m1, r1, m2, m3);
  fail_unless_equals_string (clients, want);
  g_free (clients);
  g_free (want);
  fail_unless_equals_int (rtcp_port_of (sink, m1), r1);
  fail_unless_equals_int (rtcp_port_of (sink, m2), m2);
  fail_unless_equals_int (rtcp_port_of (sink, m3), m3 + 1);

  /* the sender's SR (from upstream-rtcp's host) to each one's RTCP port */
  tx = socket (AF_INET, SOCK_DGRAM, 0);
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (relay_rtcp);
  fail_unless_equals_int (sendto (tx, sr, sizeof (sr), 0,
          (struct sockaddr *) &to, sizeof (to)), sizeof (sr));
  fail_unless_equals_int (recv_one (a, buf, sizeof (buf)), sizeof (sr));
  fail_unless_equals_int (buf[1], 200);
  fail_unless_equals_int (GST_READ_UINT32_BE (buf + 4), 0x11223344);
  fail_unless_equals_int (recv_one (b, buf, sizeof (buf)), sizeof (sr));
  fail_unless_equals_int (buf[1], 200);
  fail_unless_equals_int (recv_one (c, buf, sizeof (buf)), sizeof (sr));
  fail_unless_equals_int (buf[1], 200);
  {
    struct timeval tv = {.tv_usec = 200000 };
    setsockopt (media_a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    fail_unless_equals_int (recv_one (media_a, buf, sizeof (buf)), 0);
  }

  /* a clients change moves an RTCP port; remove finds a client by its
   * media address */
  desc = g_strdup_printf ("127.0.0.1:%d/mux,127.0.0.1:%d@3/mux", m1, m2);
  g_object_set (sink, "clients", desc, NULL);
  g_free (desc);
  fail_unless_equals_int (rtcp_port_of (sink, m1), m1);
  /* ... and its RTCP is attributed by the new one: an RR from m1 (three
   * unbound subscribers at 127.0.0.1, so only the port tells) */
  {
    guint8 rr[8] = { 0x80, 201, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d };
    int m1fd = open_receiver_at (m1);
    GstStructure *st = NULL;
    guint64 got = 0;
    gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    fail_unless_equals_int (sendto (m1fd, rr, sizeof (rr), 0,
            (struct sockaddr *) &to, sizeof (to)), sizeof (rr));
    while (got == 0 && g_get_monotonic_time () < end) {
      g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", m1, &st);
      fail_unless (gst_structure_get_uint64 (st, "rtcp-received", &got));
      gst_structure_free (st);
      if (got == 0)
        g_usleep (10000);
    }
    fail_unless_equals_int (got, 1);
    close (m1fd);
  }
  g_signal_emit_by_name (sink, "remove", "127.0.0.1", m2);
  g_object_get (sink, "clients", &clients, NULL);
  want = g_strdup_printf ("127.0.0.1:%d/mux", m1);
  fail_unless_equals_string (clients, want);
  g_free (clients);
  g_free (want);

  close (tx);
  close (a);
  close (b);
  close (c);
  close (media_a);
  close (up);
  gst_object_unref (sink);
  gst_harness_teardown (h);

  /* a bad entry fails the start, naming it */
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5000/0", "127.0.0.1:5000/0");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5000/6000@3", "127.0.0.1:5000/6000@3");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5000/muxx", "'muxx'");
}

GST_END_TEST;

static int
open_receiver6_at (gint port)
{
  struct sockaddr_in6 a = {.sin6_family = AF_INET6 };
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET6, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons (port);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0,
      "port %d: %s", port, g_strerror (errno));
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return fd;
}

static guint64
rtcp_received_of (GstElement * sink, const gchar * host, gint port)
{
  GstStructure *st = NULL;
  guint64 got = 0;

  g_signal_emit_by_name (sink, "get-stats", host, port, &st);
  fail_unless (st != NULL, "no client %s:%d", host, port);
  fail_unless (gst_structure_get_uint64 (st, "rtcp-received", &got));
  gst_structure_free (st);
  return got;
}

/* RTCP over IPv6 (userspace mode): the sender's SR (over IPv4) reaches
 * the IPv6 subscribers at their RTCP ports (port + 1, mux) from the
 * relay's IPv6 RTCP socket, and the IPv4 one; an RR from a v6 viewer's
 * RTCP port is attributed to that viewer by its v6 address, not to the
 * IPv4 subscriber on the same ports. */
GST_START_TEST (test_rtcp_ipv6)
{
  gint up_port, m6 = check_free_port (2), m7 = check_free_port (1), m4,
      relay_rtcp = check_free_port (1);
  int up = open_receiver (&up_port), v6a, v6b, v4, tx;
  gchar *desc;
  GstElement *sink;
  GstHarness *h;
  guint8 sr[28] = { 0x80, 200, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44 };
  guint8 rr[8] = { 0x80, 201, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d };
  guint8 buf[256];
  struct sockaddr_in to = {.sin_family = AF_INET };
  struct sockaddr_in6 to6 = {.sin6_family = AF_INET6 }, from;
  socklen_t flen = sizeof (from);
  gint64 end;

  v6a = open_receiver6_at (m6 + 1);     /* default: port + 1 */
  v6b = open_receiver6_at (m7);         /* mux */
  m4 = m6;                              /* an IPv4 one on the same ports */
  v4 = open_receiver_at (m4 + 1);
  desc = g_strdup_printf ("ebpfrelaysink port=%d rtcp-port=%d mode=userspace "
      "upstream-rtcp=127.0.0.1:%d clients=[::1]:%d,[::1]:%d/mux,127.0.0.1:%d",
      check_free_port (1), relay_rtcp, up_port, m6, m7, m4);
  h = gst_harness_new_parse (desc);
  g_free (desc);
  sink = gst_harness_find_element (h, "ebpfrelaysink");
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  gst_harness_play (h);

  tx = socket (AF_INET, SOCK_DGRAM, 0);
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (relay_rtcp);
  fail_unless_equals_int (sendto (tx, sr, sizeof (sr), 0,
          (struct sockaddr *) &to, sizeof (to)), sizeof (sr));
  fail_unless_equals_int (recvfrom (v6a, buf, sizeof (buf), 0,
          (struct sockaddr *) &from, &flen), sizeof (sr));
  fail_unless_equals_int (buf[1], 200);
  fail_unless_equals_int (GST_READ_UINT32_BE (buf + 4), 0x11223344);
  fail_unless_equals_int (from.sin6_family, AF_INET6);
  fail_unless_equals_int (ntohs (from.sin6_port), relay_rtcp);
  fail_unless_equals_int (recv_one (v6b, buf, sizeof (buf)), sizeof (sr));
  fail_unless_equals_int (buf[1], 200);
  fail_unless_equals_int (recv_one (v4, buf, sizeof (buf)), sizeof (sr));

  /* an RR from [::1]:m6+1 to the relay's v6 RTCP port: the v6 viewer's */
  to6.sin6_addr = in6addr_loopback;
  to6.sin6_port = htons (relay_rtcp);
  fail_unless_equals_int (sendto (v6a, rr, sizeof (rr), 0,
          (struct sockaddr *) &to6, sizeof (to6)), sizeof (rr));
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (rtcp_received_of (sink, "::1", m6) == 0
      && g_get_monotonic_time () < end)
    g_usleep (10000);
  fail_unless_equals_int (rtcp_received_of (sink, "::1", m6), 1);
  fail_unless_equals_int (rtcp_received_of (sink, "127.0.0.1", m4), 0);
  fail_unless_equals_int (rtcp_received_of (sink, "[::1]", m7), 0);

  close (tx);
  close (v6a);
  close (v6b);
  close (v4);
  close (up);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_bad_priority_limit_fails_start)
{
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5000,127.0.0.1:5001@8",
      "127.0.0.1:5001@8");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5001@x", "127.0.0.1:5001@x");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5001@", "127.0.0.1:5001@");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:5001@-1", "127.0.0.1:5001@-1");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1@3", "127.0.0.1@3");
}

GST_END_TEST;

#define N_RX 5

/* An RTP packet: @nal is the first payload byte (H.264: NRI in bits 5-6);
 * @fm >= 0: with a one-byte frame marking extension (id 3) of that value.
 * Padded to 100 + k % 7 bytes. */
static GstBuffer *
rtp_packet (guint8 pt, guint16 seq, guint32 ssrc, guint8 nal, gint fm,
    gint k, gsize * len_out)
{
  gsize len = 100 + k % 7, off = 12;
  guint8 *p = g_malloc0 (len);
  gsize i;

  for (i = 0; i < len; i++)
    p[i] = i * 11 + k;
  p[0] = 0x80;
  p[1] = pt;
  GST_WRITE_UINT16_BE (p + 2, seq);
  GST_WRITE_UINT32_BE (p + 4, 3000 * k);
  GST_WRITE_UINT32_BE (p + 8, ssrc);
  if (fm >= 0) {
    p[0] |= 0x10;
    GST_WRITE_UINT16_BE (p + 12, 0xBEDE);
    GST_WRITE_UINT16_BE (p + 14, 1);
    p[16] = 0x30;
    p[17] = fm;
    p[18] = p[19] = 0;
    off = 20;
  }
  p[off] = nal;
  *len_out = len;
  return gst_buffer_new_wrapped (p, len);
}

/* The priority of the packets rtp_packet makes, written out here apart
 * from bpf/priority.h. */
static gint
expected_priority (gint fm, guint8 nal, gboolean h264)
{
  static const gint nri_prio[4] = { 0, 5, 6, 7 };

  if (fm >= 0)
    return (fm & 0x20) ? 7 : (fm & 0x10) ? 0 : 6 - MIN (fm & 7, 6);
  return h264 ? nri_prio[(nal >> 5) & 3] : 7;
}

typedef struct
{
  int fd;
  gint port;
  gint limit;
  gint last_seq[2];             /* per SSRC, -1: none */
  guint received, expected;
} Rx;

/* Receives what @rx must have got of @want (@len bytes), with sequence
 * number @seq (-1: unchanged). */
static void
rx_check (Rx * rx, const guint8 * want, gsize len, gint seq)
{
  guint8 buf[2048];
  gsize n = recv_one (rx->fd, buf, sizeof (buf));

  fail_unless_equals_int (n, len);
  if (seq >= 0)
    fail_unless_equals_int (GST_READ_UINT16_BE (buf + 2), seq);
  /* everything else byte for byte */
  fail_unless (memcmp (buf + 4, want + 4, len - 4) == 0);
  fail_unless (memcmp (buf, want, 2) == 0);
  if (seq < 0)
    fail_unless (memcmp (buf + 2, want + 2, 2) == 0);
  rx->received++;
}

static void
rx_expect_nothing (Rx * rx)
{
  struct timeval tv = {.tv_usec = 100000 };
  guint8 buf[2048];

  setsockopt (rx->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (rx->fd, buf, sizeof (buf)), 0);
}

/*
 * Userspace mode with H.264 caps: subscribers at limits 0, 5, 6, 7 (and
 * one changed mid-stream) get exactly the packets with priority >= their
 * limit, each SSRC's sequence numbers contiguous, everything else of the
 * packet unchanged; packets that are not RTP reach everyone unchanged.
 */
static void
run_userspace_priority (gboolean rewrite, gboolean framemarking)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  static const gint limits[N_RX] = { 0, 5, 6, 7, 0 };
  static const guint8 nals[6] = { 0x65, 0x01, 0x41, 0x01, 0x21, 0x41 };
  static const gint fms[6] = { 0x20, 0x10, 0x80, 0x81, 0x82, 0x83 };
  Rx rx[N_RX];
  guint16 seq[2] = { 65520, 7 };
  guint n_b = 0;
  GString *clients = g_string_new (NULL);
  guint i, k;

  for (i = 0; i < N_RX; i++) {
    rx[i].fd = open_receiver (&rx[i].port);
    rx[i].limit = limits[i];
    rx[i].last_seq[0] = rx[i].last_seq[1] = -1;
    rx[i].received = rx[i].expected = 0;
    g_string_append_printf (clients, "%s127.0.0.1:%d@%d", i ? "," : "",
        rx[i].port, limits[i]);
  }
  g_object_set (sink, "clients", clients->str, "rewrite-seq", rewrite, NULL);
  g_string_free (clients, TRUE);
  gst_harness_set_src_caps_str (h, framemarking ?
      "application/x-rtp,media=video,encoding-name=VP9,payload=98,"
      "clock-rate=90000,extmap-3=" "urn:ietf:params:rtp-hdrext:framemarking"
      : "application/x-rtp,media=video,encoding-name=H264,payload=96,"
      "clock-rate=90000");
  gst_harness_play (h);

  for (k = 0; k < 120; k++) {
    gboolean rtp = k % 9 != 8;
    gint fm = framemarking ? fms[k % 6] : -1;
    guint b = k % 3 == 2;
    /* each SSRC through all six, so that both start with a key frame:
     * H.264 subscribers wait for one (bpf/switch.h) */
    guint8 nal = nals[(b && rtp ? n_b++ : k) % 6];
    gint prio = rtp ? expected_priority (fm, nal, !framemarking) : 7;
    GstBuffer *buf;
    GstMapInfo map;
    gsize len;
    guint8 *copy;

    if (k == 60) {
      gboolean ok = FALSE;

      /* the last subscriber: 0 -> 6 from the next packet on */
      g_signal_emit_by_name (sink, "set-priority-limit", "127.0.0.1",
          rx[4].port, 6, &ok);
      fail_unless (ok);
      rx[4].limit = 6;
    }
    if (rtp) {
      buf = rtp_packet (framemarking ? 98 : 96, seq[b]++,
          b ? 0xbbbb0002 : 0xaaaa0001, nal, fm, k, &len);
    } else {
      len = 50;
      buf = gst_buffer_new_wrapped (g_strnfill (len, 'x'), len);
    }
    gst_buffer_map (buf, &map, GST_MAP_READ);
    copy = g_memdup2 (map.data, len);
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

    for (i = 0; i < N_RX; i++) {
      gint out;

      if (prio < rx[i].limit)
        continue;
      rx[i].expected++;
      if (!rtp || !rewrite) {
        rx_check (&rx[i], copy, len, -1);
        continue;
      }
      /* contiguous per SSRC: the first one as sent, then +1 each */
      out = rx[i].last_seq[b] < 0 ? GST_READ_UINT16_BE (copy + 2) :
          (rx[i].last_seq[b] + 1) & 0xffff;
      rx_check (&rx[i], copy, len, out);
      rx[i].last_seq[b] = out;
    }
    g_free (copy);
  }
  for (i = 0; i < N_RX; i++) {
    GstStructure *s = NULL;
    guint64 dropped = 0, packets = 0;

    rx_expect_nothing (&rx[i]);
    g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", rx[i].port, &s);
    fail_unless (gst_structure_get_uint64 (s, "priority-dropped", &dropped));
    fail_unless (gst_structure_get_uint64 (s, "user-packets", &packets));
    fail_unless_equals_int (packets, rx[i].expected);
    fail_unless_equals_int (dropped, 120 - rx[i].expected);
    gst_structure_free (s);
    GST_INFO ("limit %d: %u of 120", limits[i], rx[i].received);
    close (rx[i].fd);
  }
  /* the limits made a difference */
  fail_unless (rx[0].received == 120 && rx[3].received < rx[2].received
      && rx[2].received < rx[1].received && rx[1].received < 120);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_START_TEST (test_userspace_priority_h264)
{
  run_userspace_priority (TRUE, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_userspace_priority_no_rewrite)
{
  run_userspace_priority (FALSE, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_userspace_priority_framemarking)
{
  run_userspace_priority (TRUE, TRUE);
}

GST_END_TEST;

/* Without caps naming H.264 nothing is dropped: the same packets all
 * have priority 7; an explicit framemarking-id works without caps. */
GST_START_TEST (test_userspace_priority_needs_caps)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  Rx rx = { 0 };
  gchar *clients;
  gsize len;
  GstBuffer *buf;
  GstMapInfo map;
  guint8 *copy;

  rx.fd = open_receiver (&rx.port);
  clients = g_strdup_printf ("127.0.0.1:%d@7", rx.port);
  g_object_set (sink, "clients", clients, NULL);
  g_free (clients);
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  gst_harness_play (h);

  buf = rtp_packet (96, 1, 1, 0x01, -1, 0, &len);       /* NRI 0 */
  gst_buffer_map (buf, &map, GST_MAP_READ);
  copy = g_memdup2 (map.data, len);
  gst_buffer_unmap (buf, &map);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  rx_check (&rx, copy, len, -1);
  g_free (copy);

  g_object_set (sink, "framemarking-id", 3, NULL);
  buf = rtp_packet (96, 2, 1, 0x65, 0x10, 1, &len);     /* D: priority 0 */
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  rx_expect_nothing (&rx);
  close (rx.fd);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A subscriber added mid-stream of an H.264 SSRC gets nothing of it until
 * a key frame starts (a new timestamp and priority 7; bpf/switch.h), then
 * what its limit lets through, numbered from the key frame's own sequence
 * number on; an SSRC of another codec (audio) starts at once; what it was
 * held back is counted apart from priority drops. */
GST_START_TEST (test_userspace_late_join_waits_for_key_frame)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  /* k, payload type, SSRC, NAL, timestamp; the subscriber comes after
   * the third */
  static const struct
  {
    guint8 pt;
    guint32 ssrc;
    guint8 nal;
    guint32 ts;
    gboolean sent;
  } pkts[] = {
    {96, 0xa, 0x65, 0, FALSE},  /* key frame, before the join */
    {96, 0xa, 0x41, 3000, FALSE},
    {96, 0xa, 0x41, 6000, FALSE},
    {96, 0xa, 0x41, 9000, FALSE},       /* joined: a P frame, held */
    {0, 0xb, 0x00, 160, TRUE},  /* audio: at once */
    {96, 0xa, 0x65, 9000, FALSE},       /* priority 7 inside a P frame */
    {96, 0xa, 0x65, 12000, TRUE},       /* key frame start */
    {96, 0xa, 0x65, 12000, TRUE},       /* its second packet */
    {96, 0xa, 0x01, 15000, FALSE},      /* priority 0: below the limit */
    {96, 0xa, 0x41, 18000, TRUE},       /* seq one after the key frame's */
  };
  Rx rx = { 0 };
  GstStructure *st = NULL;
  guint64 held = 0, dropped = 0;
  gint last = -1;
  gchar *clients;
  guint k;

  rx.fd = open_receiver (&rx.port);
  gst_harness_set_src_caps_str (h, "application/x-rtp,media=video,"
      "encoding-name=H264,payload=96,clock-rate=90000");
  gst_harness_play (h);
  for (k = 0; k < G_N_ELEMENTS (pkts); k++) {
    gsize len;
    GstBuffer *buf = rtp_packet (pkts[k].pt, 100 + k, pkts[k].ssrc,
        pkts[k].nal, -1, k, &len);
    GstMapInfo map;
    guint8 *copy;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    GST_WRITE_UINT32_BE (map.data + 4, pkts[k].ts);
    copy = g_memdup2 (map.data, len);
    gst_buffer_unmap (buf, &map);
    if (k == 3) {
      clients = g_strdup_printf ("127.0.0.1:%d@5", rx.port);
      g_object_set (sink, "clients", clients, NULL);
      g_free (clients);
    }
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    if (pkts[k].sent) {
      gint seq = pkts[k].ssrc == 0xb ? -1 : last < 0 ? 100 + (gint) k :
          (last + 1) & 0xffff;

      rx_check (&rx, copy, len, seq);
      if (pkts[k].ssrc == 0xa)
        last = seq;
    } else if (k >= 3) {
      rx_expect_nothing (&rx);
    }
    g_free (copy);
  }
  fail_unless_equals_int (last, 100 + 9 - 1);   /* after one drop */
  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", rx.port, &st);
  fail_unless (gst_structure_get_uint64 (st, "keyframe-held", &held));
  fail_unless (gst_structure_get_uint64 (st, "priority-dropped", &dropped));
  fail_unless_equals_int (held, 2);
  fail_unless_equals_int (dropped, 1);
  gst_structure_free (st);
  close (rx.fd);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* keyframe-cache (ebpfrelay-kfburst): a subscriber at limit 5 that joins
 * in the middle of a GOP gets that GOP's packets from its key frame start
 * (but the one below its limit) as a burst, numbered to end just before
 * its first live packet, with timestamps retimed in order before the live
 * one's, then the live packets: one contiguous run; counted. */
GST_START_TEST (test_userspace_keyframe_burst)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace keyframe-cache=true"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  static const struct
  {
    guint8 nal;
    guint32 ts;
    gint out;                   /* its number at the subscriber, -1: none */
  } pkts[] = {
    {0x65, 0, 101},             /* key frame start: the burst's first */
    {0x65, 0, 102},             /* its second packet */
    {0x41, 3000, 103},
    {0x01, 6000, -1},           /* priority 0: below the limit */
    {0x41, 9000, 104},          /* the burst's last */
    {0x41, 12000, 105},         /* joined: the first live packet */
    {0x01, 15000, -1},          /* dropped live */
    {0x41, 18000, 106},
  };
  guint8 *copies[G_N_ELEMENTS (pkts)];
  gsize lens[G_N_ELEMENTS (pkts)];
  GstStructure *st = NULL;
  guint64 bpk = 0, bursts = 0;
  guint32 prev_ts = 0;
  gboolean pending = TRUE, on = FALSE;
  gint port, fd = open_receiver (&port);
  gchar *clients;
  guint k;

  gst_harness_set_src_caps_str (h, "application/x-rtp,media=video,"
      "encoding-name=H264,payload=96,clock-rate=90000");
  gst_harness_play (h);
  for (k = 0; k < G_N_ELEMENTS (pkts); k++) {
    GstBuffer *buf = rtp_packet (96, 100 + k, 0xa, pkts[k].nal, -1, k,
        &lens[k]);
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    GST_WRITE_UINT32_BE (map.data + 4, pkts[k].ts);
    copies[k] = g_memdup2 (map.data, lens[k]);
    gst_buffer_unmap (buf, &map);
    if (k == 5) {
      clients = g_strdup_printf ("127.0.0.1:%d@5", port);
      g_object_set (sink, "clients", clients, NULL);
      g_free (clients);
    }
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  for (k = 0; k < G_N_ELEMENTS (pkts); k++) {
    guint8 buf[2048];
    gsize n;
    guint32 ts;

    if (pkts[k].out < 0)
      continue;
    n = recv_one (fd, buf, sizeof (buf));
    fail_unless_equals_int (n, lens[k]);
    fail_unless_equals_int (GST_READ_UINT16_BE (buf + 2), pkts[k].out);
    ts = GST_READ_UINT32_BE (buf + 4);
    if (k < 5) {
      /* the burst: retimed, frames in order, before the live one */
      fail_unless ((gint32) (ts - 12000) < 0, "burst ts %u", ts);
      if (k > 0)
        fail_unless (k == 1 ? ts == prev_ts : (gint32) (ts - prev_ts) > 0,
            "burst packet %u ts %u after %u", k, ts, prev_ts);
    } else {
      fail_unless_equals_int (ts, pkts[k].ts);
    }
    prev_ts = ts;
    /* everything else byte for byte */
    fail_unless (memcmp (buf, copies[k], 2) == 0);
    fail_unless (memcmp (buf + 8, copies[k] + 8, n - 8) == 0);
  }
  rx_expect_nothing (&(Rx) {.fd = fd });
  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", port, &st);
  fail_unless (gst_structure_get_uint64 (st, "keyframe-burst-packets", &bpk));
  fail_unless (gst_structure_get_boolean (st, "keyframe-burst-pending",
          &pending));
  fail_unless_equals_int (bpk, 4);
  fail_if (pending, "still pending once the burst and the live are out");
  gst_structure_free (st);
  g_object_get (sink, "stats", &st, NULL);
  fail_unless (gst_structure_get_boolean (st, "keyframe-cache", &on));
  fail_unless (gst_structure_get_uint64 (st, "keyframe-bursts", &bursts));
  fail_unless (on);
  fail_unless_equals_int (bursts, 1);
  gst_structure_free (st);
  for (k = 0; k < G_N_ELEMENTS (pkts); k++)
    g_free (copies[k]);
  close (fd);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;


/* The publisher lock's properties: defaults (any sender, no latch,
 * 5000 ms), what is set is kept, a bad sources entry fails the start
 * naming sources. */
GST_START_TEST (test_sources_properties)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  gchar *sources;
  gboolean latch;
  guint timeout;

  g_object_get (sink, "sources", &sources, "source-latch", &latch,
      "source-timeout", &timeout, NULL);
  fail_unless (sources == NULL);
  fail_if (latch);
  fail_unless_equals_int (timeout, 5000);
  g_object_set (sink, "sources", "10.0.0.1,10.0.0.2:6000",
      "source-latch", TRUE, "source-timeout", 250, NULL);
  g_object_get (sink, "sources", &sources, "source-latch", &latch,
      "source-timeout", &timeout, NULL);
  fail_unless_equals_string (sources, "10.0.0.1,10.0.0.2:6000");
  fail_unless (latch);
  fail_unless_equals_int (timeout, 250);
  g_free (sources);
  gst_object_unref (sink);

  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace sources=10.0.0.1:70000", "sources entry "
      "'10.0.0.1:70000': the port is not 1-65535");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace sources=no-such-host.invalid", "sources entry "
      "'no-such-host.invalid': host 'no-such-host.invalid' is not an IPv4");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace sources=10.0.0.1,,10.0.0.2", "has an empty entry");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace sources=10.0.0.1:", "sources entry '10.0.0.1:'");
  /* IPv6: in brackets, as in clients */
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace sources=fd00::1", "sources entry 'fd00::1': an IPv6 "
      "address goes in brackets");
  assert_start_error ("udpsrc address=127.0.0.1 port=@A@ ! ebpfrelaysink "
      "mode=userspace sources=[fd00::zz]:5004", "sources entry "
      "'[fd00::zz]:5004': host '[fd00::zz]' is not an IPv4 address");
}

GST_END_TEST;

/* A buffer from @host:@port (its GstNetAddressMeta), @text as payload. */
static GstBuffer *
from_sender (const gchar * host, guint16 port, const gchar * text)
{
  GstBuffer *b = gst_buffer_new_memdup (text, strlen (text));
  GInetAddress *ia = g_inet_address_new_from_string (host);
  GSocketAddress *sa = g_inet_socket_address_new (ia, port);

  gst_buffer_add_net_address_meta (b, sa);
  g_object_unref (sa);
  g_object_unref (ia);
  return b;
}

static guint64
stat_u64 (GstElement * sink, const gchar * name)
{
  GstStructure *s;
  guint64 v = G_MAXUINT64;

  g_object_get (sink, "stats", &s, NULL);
  fail_unless (gst_structure_get_uint64 (s, name, &v), "no %s", name);
  gst_structure_free (s);
  return v;
}

/* Receives exactly the texts of @want on @fd, then nothing for 200 ms. */
static void
expect_texts (int fd, const gchar ** want)
{
  guint8 buf[256];
  struct timeval tv = {.tv_usec = 200000 };

  for (; *want; want++) {
    gsize n = recv_one (fd, buf, sizeof (buf) - 1);

    buf[n] = '\0';
    fail_unless_equals_string ((gchar *) buf, *want);
  }
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (fd, buf, sizeof (buf)), 0);
  tv.tv_sec = 2;
  tv.tv_usec = 0;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
}

/* Userspace mode: sources lets through only the listed senders (a host:
 * any port); buffers without a sender address are refused too. */
GST_START_TEST (test_userspace_sources)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace sources=10.0.0.1:6000,10.0.0.3"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  const gchar *want[] = { "a1", "c1", "a2", NULL };
  gint pa;
  int a = open_receiver (&pa);

  gst_harness_set_src_caps_str (h, "application/x-rtp");
  g_signal_emit_by_name (sink, "add", "127.0.0.1", pa);
  gst_harness_play (h);
  gst_harness_push (h, from_sender ("10.0.0.1", 6000, "a1"));
  gst_harness_push (h, from_sender ("10.0.0.1", 6001, "a-other-port"));
  gst_harness_push (h, from_sender ("10.0.0.2", 6000, "b1"));
  gst_harness_push (h, from_sender ("10.0.0.3", 40000, "c1"));
  gst_harness_push (h, gst_buffer_new_memdup ("nobody", 6));
  gst_harness_push (h, from_sender ("10.0.0.1", 6000, "a2"));
  expect_texts (a, want);
  fail_unless_equals_int (stat_u64 (sink, "rejected-source"), 3);
  fail_unless_equals_int (stat_u64 (sink, "rejected-no-sender"), 1);
  close (a);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Userspace mode, source-latch: the first sender holds the lock while it
 * sends; after source-timeout of its silence the next sender takes it. */
GST_START_TEST (test_userspace_source_latch)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace source-latch=true source-timeout=300"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  const gchar *want1[] = { "a1", "a2", NULL }, *want2[] = { "b3", NULL };
  GstStructure *s;
  gint pa;
  int a = open_receiver (&pa);

  gst_harness_set_src_caps_str (h, "application/x-rtp");
  g_signal_emit_by_name (sink, "add", "127.0.0.1", pa);
  gst_harness_play (h);
  gst_harness_push (h, from_sender ("10.0.0.1", 6000, "a1"));
  gst_harness_push (h, from_sender ("10.0.0.2", 6000, "b1"));
  g_usleep (150 * 1000);
  gst_harness_push (h, from_sender ("10.0.0.1", 6000, "a2"));
  g_usleep (150 * 1000);
  gst_harness_push (h, from_sender ("10.0.0.2", 6000, "b2"));
  expect_texts (a, want1);
  g_object_get (sink, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "source-locked"),
      "10.0.0.1:6000");
  gst_structure_free (s);
  g_usleep (400 * 1000);
  gst_harness_push (h, from_sender ("10.0.0.2", 6000, "b3"));
  gst_harness_push (h, from_sender ("10.0.0.1", 6000, "a3"));
  expect_texts (a, want2);
  g_object_get (sink, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "source-locked"),
      "10.0.0.2:6000");
  gst_structure_free (s);
  fail_unless_equals_int (stat_u64 (sink, "rejected-source"), 3);
  close (a);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Userspace mode, IPv6 senders: sources takes [v6] and [v6]:port as
 * clients does; a v4-mapped sender (a dual-stack socket's view of an IPv4
 * one) is the IPv4 host; the latch locks onto an IPv6 sender and hands
 * over to an IPv4 one after its silence. */
GST_START_TEST (test_userspace_sources_ipv6)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace source-latch=true source-timeout=300 "
          "sources=[fd00::1]:6000,[fd00::3],10.0.0.4"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  const gchar *want1[] = { "a1", "a2", NULL }, *want2[] = { "d1", NULL };
  GstStructure *s;
  gint pa;
  int a = open_receiver (&pa);

  gst_harness_set_src_caps_str (h, "application/x-rtp");
  g_signal_emit_by_name (sink, "add", "127.0.0.1", pa);
  gst_harness_play (h);
  gst_harness_push (h, from_sender ("fd00::1", 6001, "a-other-port"));
  gst_harness_push (h, from_sender ("fd00::2", 6000, "b-unlisted"));
  gst_harness_push (h, from_sender ("fd00::1", 6000, "a1"));
  /* listed, but A holds the latch */
  gst_harness_push (h, from_sender ("fd00::3", 40000, "c-latched-out"));
  gst_harness_push (h, from_sender ("::ffff:10.0.0.4", 7, "d-latched-out"));
  gst_harness_push (h, from_sender ("fd00::1", 6000, "a2"));
  expect_texts (a, want1);
  g_object_get (sink, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "source-locked"),
      "[fd00::1]:6000");
  gst_structure_free (s);
  g_usleep (400 * 1000);
  /* A silent: the v4 host, from a dual-stack socket, takes it over */
  gst_harness_push (h, from_sender ("::ffff:10.0.0.4", 7, "d1"));
  gst_harness_push (h, from_sender ("fd00::1", 6000, "a3"));
  expect_texts (a, want2);
  g_object_get (sink, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "source-locked"),
      "10.0.0.4:7");
  gst_structure_free (s);
  fail_unless_equals_int (stat_u64 (sink, "rejected-source"), 5);
  fail_unless_equals_int (stat_u64 (sink, "rejected-no-sender"), 0);
  close (a);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A UDP socket bound to @addr (a 127/8 address) with a kernel-chosen
 * port, 2 s timeout. */
static int
open_at_addr (const gchar * addr)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  inet_pton (AF_INET, addr, &a.sin_addr);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return fd;
}

/* The feedback plane follows sources (userspace mode, loopback addresses
 * 127.0.0.2 allowed, 127.0.0.3 not): an SR from the other host is not
 * sent down (rtcp-rejected-source), the allowed sender's is; the relay's
 * RR goes to the allowed sender only. */
GST_START_TEST (test_rtcp_follows_sources)
{
  gint relay_rtcp = check_free_port (1), m1, r1;
  int media = open_receiver (&m1), down = open_receiver (&r1);
  int good = open_at_addr ("127.0.0.2"), bad = open_at_addr ("127.0.0.3");
  guint8 sr[28] = { 0x80, 200, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44 };
  guint8 rtp[20] = { 0x80, 96, 0x00, 0x01, 0, 0, 0, 0, 0x11, 0x22, 0x33,
    0x44
  };
  struct sockaddr_in to = {.sin_family = AF_INET };
  struct timeval tv = {.tv_usec = 300000 };
  guint8 buf[256];
  gchar *desc;
  GstHarness *h;
  GstElement *sink;
  gint64 end;
  gboolean rr = FALSE;

  desc = g_strdup_printf ("ebpfrelaysink port=%d rtcp-port=%d mode=userspace "
      "sources=127.0.0.2 clients=127.0.0.1:%d/%d", check_free_port (1),
      relay_rtcp, m1, r1);
  h = gst_harness_new_parse (desc);
  g_free (desc);
  sink = gst_harness_find_element (h, "ebpfrelaysink");
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  gst_harness_play (h);
  /* media: the other host's refused, the allowed sender's forwarded */
  {
    GstBuffer *b = gst_buffer_new_memdup (rtp, sizeof (rtp));
    GInetAddress *ia = g_inet_address_new_from_string ("127.0.0.3");
    GSocketAddress *sa = g_inet_socket_address_new (ia, 7000);

    gst_buffer_add_net_address_meta (b, sa);
    gst_harness_push (h, b);
    g_object_unref (sa);
    g_object_unref (ia);
    b = gst_buffer_new_memdup (rtp, sizeof (rtp));
    ia = g_inet_address_new_from_string ("127.0.0.2");
    sa = g_inet_socket_address_new (ia, 7000);
    gst_buffer_add_net_address_meta (b, sa);
    gst_harness_push (h, b);
    g_object_unref (sa);
    g_object_unref (ia);
  }
  fail_unless_equals_int (recv_one (media, buf, sizeof (buf)), sizeof (rtp));
  setsockopt (media, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (media, buf, sizeof (buf)), 0);

  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to.sin_port = htons (relay_rtcp);
  fail_unless_equals_int (sendto (bad, sr, sizeof (sr), 0,
          (struct sockaddr *) &to, sizeof (to)), sizeof (sr));
  setsockopt (down, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (down, buf, sizeof (buf)), 0);
  fail_unless_equals_int (stat_u64 (sink, "rtcp-rejected-source"), 1);
  fail_unless_equals_int (sendto (good, sr, sizeof (sr), 0,
          (struct sockaddr *) &to, sizeof (to)), sizeof (sr));
  tv.tv_sec = 2;
  tv.tv_usec = 0;
  setsockopt (down, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (down, buf, sizeof (buf)), sizeof (sr));
  fail_unless_equals_int (buf[1], 200);

  /* the relay's RR (about every second) to the allowed sender */
  end = g_get_monotonic_time () + 4 * G_USEC_PER_SEC;
  while (!rr && g_get_monotonic_time () < end) {
    gsize n = recv_one (good, buf, sizeof (buf));

    rr = n >= 8 && buf[1] == 201;
  }
  fail_unless (rr, "no RR at the allowed sender");
  tv.tv_sec = 0;
  tv.tv_usec = 100000;
  setsockopt (bad, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless_equals_int (recv_one (bad, buf, sizeof (buf)), 0);

  close (media);
  close (down);
  close (good);
  close (bad);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Userspace mode: a running subscriber's raised limit comes into force
 * at the next frame start (the frame in progress ends at the old limit),
 * a lowered one at the next key frame start; get-stats shows the limit in
 * force and the one pending meanwhile; its numbers stay contiguous. */
static void
check_limits (GstElement * sink, gint port, gint in_force, gint pending)
{
  GstStructure *st = NULL;
  gint f = -2, p = -2;

  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", port, &st);
  fail_unless (st != NULL);
  fail_unless (gst_structure_get_int (st, "limit-in-force", &f));
  fail_unless (gst_structure_get_int (st, "limit-pending", &p));
  fail_unless_equals_int (f, in_force);
  fail_unless_equals_int (p, pending);
  gst_structure_free (st);
}

GST_START_TEST (test_userspace_switch_at_boundaries)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  /* NAL, timestamp, the limit asked for before the packet (-1: none),
   * sent; then the stats: limit in force and pending after it */
  static const struct
  {
    guint8 nal;
    guint32 ts;
    gint set;
    gboolean sent;
    gint in_force, pending;
  } pkts[] = {
    {0x65, 0, -1, TRUE, 0, -1}, /* key frame: running at 0 */
    {0x41, 3000, -1, TRUE, 0, -1},
    {0x01, 3000, 6, TRUE, 0, 6},        /* raised mid-frame: still 0 */
    {0x21, 3000, -1, TRUE, 0, 6},
    {0x21, 6000, -1, FALSE, 6, -1},     /* next frame: 6 in force */
    {0x41, 6000, -1, TRUE, 6, -1},
    {0x01, 9000, 0, FALSE, 6, 0},       /* lowered: waits */
    {0x41, 12000, -1, TRUE, 6, 0},
    {0x01, 12000, -1, FALSE, 6, 0},
    {0x09, 15000, -1, FALSE, 6, 0},     /* key frame's delimiter (NRI 0) */
    {0x67, 15000, -1, TRUE, 0, -1},     /* its SPS: 0 in force */
    {0x01, 15000, -1, TRUE, 0, -1},
    {0x41, 18000, 7, FALSE, 7, -1},     /* raised before a frame start:
                                         * in force at it */
    {0x65, 21000, 0, TRUE, 0, -1},      /* lowered before a key frame */
    {0x41, 24000, -1, TRUE, 0, -1},
    {0x01, 24000, 6, TRUE, 0, 6},
    {0x01, 24000, 0, TRUE, 0, -1},      /* taken back: nothing switched */
    {0x01, 27000, -1, TRUE, 0, -1},
  };
  Rx rx = { 0 };
  gint last = -1;
  gboolean ok = FALSE;
  gchar *clients;
  guint k;

  rx.fd = open_receiver (&rx.port);
  gst_harness_set_src_caps_str (h, "application/x-rtp,media=video,"
      "encoding-name=H264,payload=96,clock-rate=90000");
  gst_harness_play (h);
  clients = g_strdup_printf ("127.0.0.1:%d", rx.port);
  g_object_set (sink, "clients", clients, NULL);
  g_free (clients);
  check_limits (sink, rx.port, -1, -1);
  for (k = 0; k < G_N_ELEMENTS (pkts); k++) {
    gsize len;
    GstBuffer *buf = rtp_packet (96, 500 + k, 0xa, pkts[k].nal, -1, k, &len);
    GstMapInfo map;
    guint8 *copy;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    GST_WRITE_UINT32_BE (map.data + 4, pkts[k].ts);
    copy = g_memdup2 (map.data, len);
    gst_buffer_unmap (buf, &map);
    if (pkts[k].set >= 0) {
      g_signal_emit_by_name (sink, "set-priority-limit", "127.0.0.1",
          rx.port, pkts[k].set, &ok);
      fail_unless (ok);
    }
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    if (pkts[k].sent) {
      gint seq = last < 0 ? 500 : (last + 1) & 0xffff;

      rx_check (&rx, copy, len, seq);
      last = seq;
    } else {
      rx_expect_nothing (&rx);
    }
    check_limits (sink, rx.port, pkts[k].in_force, pkts[k].pending);
    g_free (copy);
  }
  close (rx.fd);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
ebpfrelaysink_suite (void)
{
  Suite *s = suite_create ("ebpfrelaysink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_signals);
  tcase_add_test (tc, test_bad_add_is_refused);
  tcase_add_test (tc, test_refused_values);
  tcase_add_test (tc, test_refused_values_running);
  tcase_add_test (tc, test_param_ranges);
  tcase_add_test (tc, test_rtcp_destination);
  tcase_add_test (tc, test_rtcp_ipv6);
  tcase_add_test (tc, test_bad_settings_fail_start);
  tcase_add_test (tc, test_rtx_map);
  tcase_add_test (tc, test_loop_refused_at_runtime);
  tcase_add_test (tc, test_userspace_forwarding);
  tcase_add_test (tc, test_sources_properties);
  tcase_add_test (tc, test_userspace_sources);
  tcase_add_test (tc, test_userspace_sources_ipv6);
  tcase_add_test (tc, test_userspace_source_latch);
  tcase_add_test (tc, test_rtcp_follows_sources);
  tcase_add_test (tc, test_userspace_source_port);
  tcase_add_test (tc, test_userspace_ipv6_mixed);
  tcase_add_test (tc, test_userspace_ipv6_stream);
  tcase_add_test (tc, test_priority_limit_property);
  tcase_add_test (tc, test_bad_priority_limit_fails_start);
  tcase_add_test (tc, test_rtcp_settings);
  tcase_add_test (tc, test_userspace_priority_h264);
  tcase_add_test (tc, test_userspace_priority_no_rewrite);
  tcase_add_test (tc, test_userspace_priority_framemarking);
  tcase_add_test (tc, test_userspace_priority_needs_caps);
  tcase_add_test (tc, test_userspace_late_join_waits_for_key_frame);
  tcase_add_test (tc, test_any_upstream_userspace);
  tcase_add_test (tc, test_userspace_switch_at_boundaries);
  tcase_add_test (tc, test_userspace_keyframe_burst);
  return s;
}

GST_CHECK_MAIN (ebpfrelaysink);
