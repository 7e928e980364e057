/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelaysink element tests that need no privilege: properties, signals,
 * state changes, the error for each bad setting, and the userspace path on
 * loopback. */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

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

/* Runs @pipeline_str to PLAYING and returns the error message it posts
 * (the state change must fail). */
static gchar *
expect_start_error (const gchar * pipeline_str)
{
  GstElement *pipeline = gst_parse_launch (pipeline_str, NULL);
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *text;
  GstStateChangeReturn ret;

  fail_unless (pipeline != NULL, "cannot parse %s", pipeline_str);
  bus = gst_element_get_bus (pipeline);
  ret = gst_element_set_state (pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message for %s", pipeline_str);
  gst_message_parse_error (msg, &err, &debug);
  text = g_strdup_printf ("%s | %s", err->message, GST_STR_NULL (debug));
  GST_INFO ("%s -> %s", pipeline_str, text);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return text;
}

#define assert_start_error(pipeline, needle) G_STMT_START {             \
    gchar *_t = expect_start_error (pipeline);                          \
    fail_unless (strstr (_t, needle) != NULL,                           \
        "error '%s' does not name '%s'", _t, needle);                   \
    g_free (_t);                                                        \
  } G_STMT_END

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
  /* duplicates are merged: a subscriber gets each packet once */
  fail_unless_equals_string (clients, "10.0.0.1:5000,10.0.0.2:6000");
  fail_unless_equals_int (port, 5004);
  fail_unless_equals_int (mode, 2);
  fail_unless_equals_string (ifaces, "veth0,veth1");
  g_free (clients);
  g_free (ifaces);

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
  fail_unless_equals_int (added, 2);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "10.0.0.1:5000,10.0.0.2:5000");
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
  g_signal_emit_by_name (sink, "get-stats", "10.9.9.9", 1, &s);
  fail_unless (s == NULL);

  /* added twice: the first remove only uncounts it */
  g_signal_emit_by_name (sink, "remove", "10.0.0.1", 5000);
  fail_unless_equals_int (removed, 0);
  g_signal_emit_by_name (sink, "remove", "10.0.0.1", 5000);
  fail_unless_equals_int (removed, 1);
  g_signal_emit_by_name (sink, "remove", "10.0.0.1", 5000);     /* unknown */
  fail_unless_equals_int (removed, 1);

  g_signal_emit_by_name (sink, "add", "10.0.0.3", 5000);
  g_signal_emit_by_name (sink, "clear");
  fail_unless_equals_int (removed, 3);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "");
  g_free (clients);

  /* clients property replaces the set: only the difference is signalled */
  g_object_set (sink, "clients", "10.0.0.1:1,10.0.0.2:2", NULL);
  fail_unless_equals_int (added, 5);
  g_object_set (sink, "clients", "10.0.0.2:2,10.0.0.3:3", NULL);
  fail_unless_equals_int (added, 6);
  fail_unless_equals_int (removed, 4);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_bad_add_is_refused)
{
  GstElement *sink = gst_element_factory_make ("ebpfrelaysink", NULL);
  gchar *clients;

  g_signal_emit_by_name (sink, "add", "10.0.0.1", 70000);
  g_signal_emit_by_name (sink, "add", "not a host name", 5000);
  g_signal_emit_by_name (sink, "add", "::1", 5000);
  g_object_get (sink, "clients", &clients, NULL);
  fail_unless_equals_string (clients, "");
  g_free (clients);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_bad_settings_fail_start)
{
  assert_start_error ("udpsrc address=127.0.0.1 port=47900 ! ebpfrelaysink "
      "mode=userspace clients=nonsense", "nonsense");
  assert_start_error ("udpsrc address=127.0.0.1 port=47900 ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:70000", "70000");
  assert_start_error ("udpsrc address=127.0.0.1 port=47900 ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:", "127.0.0.1:");
  assert_start_error ("udpsrc address=127.0.0.1 port=47900 ! ebpfrelaysink "
      "mode=userspace clients=no.such.host.invalid:5000",
      "no.such.host.invalid");
  assert_start_error ("udpsrc address=127.0.0.1 port=47900 ! ebpfrelaysink "
      "mode=userspace clients=[::1]:5000", "::1");
  assert_start_error ("udpsrc address=127.0.0.1 port=47900 ! ebpfrelaysink "
      "mode=userspace interfaces=nosuchif0", "nosuchif0");
  assert_start_error ("fakesrc ! ebpfrelaysink mode=userspace", "port");
  /* the relay's own listening address: a forwarding loop */
  assert_start_error ("udpsrc address=127.0.0.1 port=47911 ! ebpfrelaysink "
      "mode=userspace clients=127.0.0.1:47911", "127.0.0.1:47911");
  assert_start_error ("fakesrc ! ebpfrelaysink port=47912 mode=userspace "
      "clients=127.0.0.1:47912", "loop");
}

GST_END_TEST;

GST_START_TEST (test_loop_refused_at_runtime)
{
  GstHarness *h = gst_harness_new_parse ("ebpfrelaysink port=47913 "
      "mode=userspace");
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  gchar *clients;

  gst_harness_play (h);
  g_signal_emit_by_name (sink, "add", "127.0.0.1", 47913);
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
  GstHarness *h = gst_harness_new_parse ("ebpfrelaysink port=47914 "
      "mode=userspace");
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

/* Copies leave from the stream's port when upstream is a udpsrc. */
GST_START_TEST (test_userspace_source_port)
{
  gint pr, port = 47915;
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

static Suite *
ebpfrelaysink_suite (void)
{
  Suite *s = suite_create ("ebpfrelaysink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_signals);
  tcase_add_test (tc, test_bad_add_is_refused);
  tcase_add_test (tc, test_bad_settings_fail_start);
  tcase_add_test (tc, test_loop_refused_at_runtime);
  tcase_add_test (tc, test_userspace_forwarding);
  tcase_add_test (tc, test_userspace_source_port);
  return s;
}

GST_CHECK_MAIN (ebpfrelaysink);
