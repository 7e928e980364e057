/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What ebpfrelaysink and ebpfprioritysrc tell those who watch them
 * (issue 15): stats-interval's element messages and notify::stats, the
 * messages of subscriber changes, the metrics-port endpoint (GET /metrics
 * only, its values those of get-stats, served from the element's own
 * thread: this test never runs the default main context), and the errors
 * of bad metrics settings. No privilege needed (mode=userspace). */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "check-start-error.h"

/* A TCP port nobody listens on now (bound to 0, read back, closed). */
static gint
free_tcp_port (void)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gint port;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  port = ntohs (a.sin_port);
  close (fd);
  return port;
}

/* Sends @request to 127.0.0.1:@port and returns the whole answer. */
static gchar *
http (gint port, const gchar * request)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;
  GError *err = NULL;
  GString *out = g_string_new (NULL);
  gchar buf[4096];
  gssize n;

  g_socket_client_set_timeout (client, 5);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      &err);
  fail_unless (conn != NULL, "connect to %d: %s", port,
      err ? err->message : "");
  fail_unless (g_output_stream_write_all (g_io_stream_get_output_stream
          (G_IO_STREAM (conn)), request, strlen (request), NULL, NULL, NULL));
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM
                  (conn)), buf, sizeof (buf), NULL, NULL)) > 0)
    g_string_append_len (out, buf, n);
  g_object_unref (conn);
  g_object_unref (client);
  return g_string_free (out, FALSE);
}

/* The value of the sample line starting with @prefix in @text, or -1. */
static gdouble
sample (const gchar * text, const gchar * prefix)
{
  const gchar *p = text;

  while ((p = strstr (p, prefix))) {
    if (p == text || p[-1] == '\n')
      return g_ascii_strtod (p + strlen (prefix), NULL);
    p++;
  }
  return -1;
}

static void
count_notify (GObject * obj, GParamSpec * pspec, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

/* Pops the element messages named @name within @timeout; returns how
 * many, the last one in *@last (if not NULL). */
static guint
pop_named (GstBus * bus, const gchar * name, GstClockTime timeout,
    GstStructure ** last)
{
  GstClockTime end = gst_util_get_timestamp () + timeout;
  guint n = 0;

  for (;;) {
    GstClockTime now = gst_util_get_timestamp ();
    GstMessage *m;

    if (now >= end)
      break;
    m = gst_bus_timed_pop_filtered (bus, end - now, GST_MESSAGE_ELEMENT);
    if (!m)
      break;
    if (gst_message_has_name (m, name)) {
      n++;
      if (last) {
        if (*last)
          gst_structure_free (*last);
        *last = gst_structure_copy (gst_message_get_structure (m));
      }
    }
    gst_message_unref (m);
  }
  return n;
}

/* stats-interval=200: about five stats messages a second, each the whole
 * stats structure with one structure per subscriber; notify::stats with
 * each. 0 (the default): none. */
GST_START_TEST (test_stats_interval)
{
  for (guint interval = 0; interval <= 200; interval += 200) {
    gchar *desc = g_strdup_printf ("ebpfrelaysink port=%d rtcp-port=0 "
        "mode=userspace clients=127.0.0.1:%d,127.0.0.1:%d stats-interval=%u",
        check_free_port (2), check_free_port (2), check_free_port (2),
        interval);
    GstHarness *h = gst_harness_new_parse (desc);
    GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
    GstBus *bus = gst_bus_new ();
    GstStructure *last = NULL;
    const GValue *clients;
    gint notified = 0;
    guint n;

    gst_element_set_bus (sink, bus);
    g_signal_connect (sink, "notify::stats", G_CALLBACK (count_notify),
        &notified);
    gst_harness_set_src_caps_str (h, "application/x-rtp");
    gst_harness_play (h);
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_wrapped (g_strdup ("x"), 1)), GST_FLOW_OK);
    n = pop_named (bus, "application/x-ebpfrelaysink-stats", GST_SECOND,
        &last);
    if (interval == 0) {
      fail_unless_equals_int (n, 0);
      fail_unless_equals_int (g_atomic_int_get (&notified), 0);
    } else {
      /* 5 due; a loaded machine may be late */
      fail_unless (n >= 3 && n <= 6, "%u stats messages in 1 s", n);
      fail_unless (g_atomic_int_get (&notified) >= 3);
      fail_unless_equals_string (gst_structure_get_string (last, "mode"),
          "userspace");
      clients = gst_structure_get_value (last, "clients");
      fail_unless (clients != NULL);
      fail_unless_equals_int (gst_value_array_get_size (clients), 2);
      fail_unless (gst_structure_has_name (gst_value_get_structure
              (gst_value_array_get_value (clients, 0)),
              "application/x-ebpfrelaysink-client-stats"));
      {
        guint64 p = 0;

        fail_unless (gst_structure_get_uint64 (gst_value_get_structure
                (gst_value_array_get_value (clients, 1)), "user-packets",
                &p));
        fail_unless_equals_int (p, 1);
      }
      gst_structure_free (last);
    }
    gst_harness_teardown (h);
    gst_element_set_bus (sink, NULL);
    gst_object_unref (sink);
    gst_object_unref (bus);
    g_free (desc);
  }
}

GST_END_TEST;

/* A subscriber's state (added, removed) and limit changes are posted as
 * ebpfrelaysink-client-changed, from the watch thread, also without a
 * stats-interval. */
GST_START_TEST (test_change_messages)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink "
          "port=@A@ rtcp-port=0 mode=userspace"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  GstBus *bus = gst_bus_new ();
  gint pc = check_free_port (2);
  gboolean ok = FALSE;
  const gchar *want[][2] = { {"state", "added"}, {"limit", "added"},
  {"state", "removed"}
  };

  gst_element_set_bus (sink, bus);
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  gst_harness_play (h);
  g_signal_emit_by_name (sink, "add", "127.0.0.1", pc);
  g_signal_emit_by_name (sink, "set-priority-limit", "127.0.0.1", pc, 5, &ok);
  fail_unless (ok);
  g_signal_emit_by_name (sink, "remove", "127.0.0.1", pc);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 2 * GST_SECOND,
        GST_MESSAGE_ELEMENT);
    const GstStructure *s;
    gint port = 0, limit = -1;

    fail_unless (m != NULL, "no message %u", i);
    s = gst_message_get_structure (m);
    fail_unless (gst_structure_has_name (s, "ebpfrelaysink-client-changed"));
    fail_unless_equals_string (gst_structure_get_string (s, "change"),
        want[i][0]);
    fail_unless_equals_string (gst_structure_get_string (s, "state"),
        want[i][1]);
    fail_unless_equals_string (gst_structure_get_string (s, "host"),
        "127.0.0.1");
    fail_unless (gst_structure_get_int (s, "port", &port));
    fail_unless_equals_int (port, pc);
    fail_unless_equals_string (gst_structure_get_string (s, "path"),
        "userspace");
    fail_unless (gst_structure_get_int (s, "priority-limit", &limit));
    fail_unless_equals_int (limit, i == 0 ? 0 : 5);
    gst_message_unref (m);
  }
  gst_harness_teardown (h);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (sink);
  gst_object_unref (bus);
}

GST_END_TEST;

/* The endpoint: GET /metrics gives the values of get-stats (nothing moves
 * in between here: exactly); other paths 404, other methods 405; served
 * while nobody runs the default main context. */
GST_START_TEST (test_metrics_endpoint)
{
  gint mport = free_tcp_port (), pc = check_free_port (2);
  gchar *desc = g_strdup_printf ("ebpfrelaysink port=%d rtcp-port=0 "
      "mode=userspace clients=127.0.0.1:%d@3 metrics-port=%d",
      check_free_port (2), pc, mport);
  GstHarness *h = gst_harness_new_parse (desc);
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  GstStructure *s = NULL;
  guint64 up = 0, ub = 0;
  gchar *text, *prefix;
  gint sport;

  gst_harness_set_src_caps_str (h, "application/x-rtp");
  gst_harness_play (h);
  for (guint i = 0; i < 7; i++)
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_wrapped (g_strdup ("payload"), 7)), GST_FLOW_OK);
  g_signal_emit_by_name (sink, "get-stats", "127.0.0.1", pc, &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "user-packets", &up));
  fail_unless (gst_structure_get_uint64 (s, "user-bytes", &ub));
  fail_unless_equals_int (up, 7);
  g_object_get (sink, "port", &sport, NULL);

  text = http (mport, "GET /metrics HTTP/1.0\r\n\r\n");
  fail_unless (g_str_has_prefix (text, "HTTP/1.0 200"), "%s", text);
  fail_unless (strstr (text, "text/plain; version=0.0.4") != NULL);
  prefix = g_strdup_printf ("ebpfrelay_subscriber_packets_total{stream_port="
      "\"%d\",subscriber_address=\"127.0.0.1\",subscriber_port=\"%d\","
      "path=\"userspace\"} ", sport, pc);
  fail_unless_equals_int ((gint) sample (text, prefix), (gint) up);
  g_free (prefix);
  prefix = g_strdup_printf ("ebpfrelay_subscriber_bytes_total{stream_port="
      "\"%d\",subscriber_address=\"127.0.0.1\",subscriber_port=\"%d\","
      "path=\"userspace\"} ", sport, pc);
  fail_unless_equals_int ((gint) sample (text, prefix), (gint) ub);
  g_free (prefix);
  prefix = g_strdup_printf ("ebpfrelay_subscriber_priority_limit{stream_port="
      "\"%d\",subscriber_address=\"127.0.0.1\",subscriber_port=\"%d\"} ",
      sport, pc);
  fail_unless_equals_int ((gint) sample (text, prefix), 3);
  g_free (prefix);
  fail_unless (sample (text, "process_cpu_seconds_total ") >= 0);
  fail_unless (strstr (text, "# EOF") == NULL);
  g_free (text);

  /* what Prometheus asks for */
  text = http (mport, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close"
      "\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;"
      "version=0.0.4;q=0.5\r\n\r\n");
  fail_unless (strstr (text, "application/openmetrics-text") != NULL);
  fail_unless (g_str_has_suffix (text, "# EOF\n"), "%s", text);
  fail_unless (strstr (text, "# TYPE ebpfrelay_subscriber_packets counter")
      != NULL);
  g_free (text);

  text = http (mport, "GET /other HTTP/1.0\r\n\r\n");
  fail_unless (g_str_has_prefix (text, "HTTP/1.0 404"), "%s", text);
  g_free (text);
  text = http (mport, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  fail_unless (g_str_has_prefix (text, "HTTP/1.0 405"), "%s", text);
  g_free (text);
  text = http (mport, "DELETE /metrics HTTP/1.0\r\n\r\n");
  fail_unless (g_str_has_prefix (text, "HTTP/1.0 405"), "%s", text);
  g_free (text);

  gst_structure_free (s);
  gst_harness_teardown (h);
  gst_object_unref (sink);
  g_free (desc);

  /* stopped: nobody listens there any more */
  {
    GSocketClient *client = g_socket_client_new ();
    GSocketConnection *conn = g_socket_client_connect_to_host (client,
        "127.0.0.1", mport, NULL, NULL);

    fail_unless (conn == NULL);
    g_object_unref (client);
  }
}

GST_END_TEST;

/* Bad metrics settings fail the start and name the property. */
GST_START_TEST (test_metrics_bad_settings)
{
  gint mport = free_tcp_port ();
  gchar *p;
  struct sockaddr_in a = {.sin_family = AF_INET };
  int fd;

  p = g_strdup_printf ("udpsrc port=@A@ ! ebpfrelaysink mode=userspace "
      "metrics-port=%d metrics-address=not-an-ip", mport);
  assert_start_error (p, "metrics-address 'not-an-ip' is not an IP address");
  g_free (p);
  p = g_strdup_printf ("udpsrc port=@A@ ! ebpfrelaysink mode=userspace "
      "metrics-port=%d metrics-address=10.0.0.300", mport);
  assert_start_error (p, "metrics-address");
  g_free (p);
  /* an address of no interface here */
  p = g_strdup_printf ("udpsrc port=@A@ ! ebpfrelaysink mode=userspace "
      "metrics-port=%d metrics-address=192.0.2.1", mport);
  assert_start_error (p, "metrics-port");
  g_free (p);

  /* a port in use */
  fd = socket (AF_INET, SOCK_STREAM, 0);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  a.sin_port = htons (mport);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (listen (fd, 1) == 0);
  p = g_strdup_printf ("udpsrc port=@A@ ! ebpfrelaysink mode=userspace "
      "metrics-port=%d", mport);
  assert_start_error (p, "metrics-port");
  g_free (p);
  close (fd);
}

GST_END_TEST;

/* ebpfprioritysrc: its stats at stats-interval, a limit change posted. */
GST_START_TEST (test_prioritysrc_stats_interval)
{
  gchar *desc = g_strdup_printf ("ebpfprioritysrc address=127.0.0.1 port=%d "
      "mode=userspace stats-interval=200 ! fakesink", check_free_port (2));
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline),
      "ebpfprioritysrc0");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstStructure *last = NULL;
  gint notified = 0;
  guint n, limit = 0;

  fail_unless (src != NULL);
  g_signal_connect (src, "notify::stats", G_CALLBACK (count_notify),
      &notified);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  n = pop_named (bus, "application/x-ebpfprioritysrc-stats", GST_SECOND,
      &last);
  fail_unless (n >= 3 && n <= 6, "%u stats messages in 1 s", n);
  fail_unless (g_atomic_int_get (&notified) >= 3);
  fail_unless_equals_string (gst_structure_get_string (last, "mode"),
      "userspace");
  gst_structure_free (last);
  last = NULL;
  g_object_set (src, "priority-limit", 6, NULL);
  n = pop_named (bus, "ebpfprioritysrc-limit-changed", GST_SECOND / 2, &last);
  fail_unless_equals_int (n, 1);
  fail_unless (gst_structure_get_uint (last, "priority-limit", &limit));
  fail_unless_equals_int (limit, 6);
  gst_structure_free (last);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

static Suite *
ebpfrelaysink_metrics_suite (void)
{
  Suite *s = suite_create ("ebpfrelaysink-metrics");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_stats_interval);
  tcase_add_test (tc, test_change_messages);
  tcase_add_test (tc, test_metrics_endpoint);
  tcase_add_test (tc, test_metrics_bad_settings);
  tcase_add_test (tc, test_prioritysrc_stats_interval);
  return s;
}

GST_CHECK_MAIN (ebpfrelaysink_metrics);
