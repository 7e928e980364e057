/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* relay_metrics_render (gst-plugin/ebpfrelay-metrics.h) on crafted stats
 * structures: every figure is the structure's, under its Prometheus name
 * and labels, in base units (RTT and jitter in seconds); label values
 * escaped; 64-bit counters exact; what is not known (no receiver report,
 * RTT -1) gives no sample; a family without samples no header; the
 * Prometheus text and the OpenMetrics form. */
#include <string.h>
#include <gst/gst.h>

#include "ebpfrelay-metrics.h"

static GstStructure *
client (const gchar * host, gint port, gboolean report, gdouble rtt_ms)
{
  return gst_structure_new ("application/x-ebpfrelaysink-client-stats",
      "host", G_TYPE_STRING, host, "port", G_TYPE_INT, port,
      "path", G_TYPE_STRING, "kernel", "priority-limit", G_TYPE_INT, 6,
      "priority-dropped", G_TYPE_UINT64, (guint64) 41,
      "keyframe-held", G_TYPE_UINT64, (guint64) 0,
      "kernel-packets", G_TYPE_UINT64, (G_GUINT64_CONSTANT (1) << 60) + 1,
      "kernel-bytes", G_TYPE_UINT64, (guint64) 123456,
      "user-packets", G_TYPE_UINT64, (guint64) 7,
      "user-bytes", G_TYPE_UINT64, (guint64) 700,
      "user-errors", G_TYPE_UINT64, (guint64) 2,
      "rtcp-sent", G_TYPE_UINT64, (guint64) 3,
      "rtcp-received", G_TYPE_UINT64, (guint64) 4,
      "pli-received", G_TYPE_UINT64, (guint64) 1,
      "fir-received", G_TYPE_UINT64, (guint64) 0,
      "nack-received", G_TYPE_UINT64, (guint64) 9,
      "nack-resent", G_TYPE_UINT64, (guint64) 8,
      "rtx-sent", G_TYPE_UINT64, (guint64) 5,
      "nack-not-cached", G_TYPE_UINT64, (guint64) 1,
      "rtcp-has-report", G_TYPE_BOOLEAN, report,
      "rtcp-fraction-lost", G_TYPE_DOUBLE, 0.25,
      "rtcp-packets-lost", G_TYPE_INT, -3,
      "rtcp-jitter", G_TYPE_UINT, 270,
      "rtcp-jitter-ms", G_TYPE_DOUBLE, 3.0,
      "rtt-ms", G_TYPE_DOUBLE, rtt_ms, NULL);
}

static GstStructure *
stats (void)
{
  GstStructure *s = gst_structure_new ("application/x-ebpfrelaysink-stats",
      "mode", G_TYPE_STRING, "kernel", "port", G_TYPE_INT, 5004,
      "buffers-in", G_TYPE_UINT64, (guint64) 1000,
      "kernel-matched", G_TYPE_UINT64, (guint64) 1001,
      "kernel-clone-errors", G_TYPE_UINT64, (guint64) 2,
      "kernel-priority-7", G_TYPE_UINT64, (guint64) 300,
      "kernel-priority-0", G_TYPE_UINT64, (guint64) 100,
      "control-subscribers", G_TYPE_UINT, 2,
      "control-refused-token", G_TYPE_UINT64, (guint64) 6, NULL);
  GValue arr = G_VALUE_INIT, v = G_VALUE_INIT;

  g_value_init (&arr, GST_TYPE_ARRAY);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, client ("10.0.0.2", 6000, TRUE, 12.5));
  gst_value_array_append_and_take_value (&arr, &v);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, client ("we\"ird\\host", 6001, FALSE, -1));
  gst_value_array_append_and_take_value (&arr, &v);
  gst_structure_take_value (s, "clients", &arr);
  return s;
}

#define A "stream_port=\"5004\",subscriber_address=\"10.0.0.2\",subscriber_port=\"6000\""
#define B "stream_port=\"5004\",subscriber_address=\"we\\\"ird\\\\host\",subscriber_port=\"6001\""

static void
has_line (const gchar * text, const gchar * line)
{
  gchar *l = g_strdup_printf ("\n%s\n", line);

  if (!strstr (text, l))
    g_error ("no line '%s' in:\n%s", line, text);
  g_free (l);
}

static void
no_text (const gchar * text, const gchar * what)
{
  if (strstr (text, what))
    g_error ("'%s' should not be in:\n%s", what, text);
}

static void
test_prometheus (void)
{
  GstStructure *s = stats ();
  gchar *t = relay_metrics_render (s, FALSE);

  has_line (t, "# TYPE ebpfrelay_buffers_in_total counter");
  has_line (t, "ebpfrelay_buffers_in_total{stream_port=\"5004\"} 1000");
  has_line (t, "ebpfrelay_kernel_matched_packets_total{stream_port=\"5004\"} 1001");
  has_line (t, "ebpfrelay_kernel_clone_errors_total{stream_port=\"5004\"} 2");
  has_line (t, "ebpfrelay_kernel_priority_packets_total{stream_port=\"5004\","
      "priority=\"7\"} 300");
  has_line (t, "ebpfrelay_kernel_priority_packets_total{stream_port=\"5004\","
      "priority=\"0\"} 100");
  has_line (t, "ebpfrelay_control_subscribers{stream_port=\"5004\"} 2");
  has_line (t, "ebpfrelay_control_refused_total{stream_port=\"5004\","
      "reason=\"token\"} 6");
  has_line (t, "ebpfrelay_kernel_forwarding{stream_port=\"5004\"} 1");
  has_line (t, "ebpfrelay_subscribers{stream_port=\"5004\"} 2");
  /* 2^60 + 1: exact, not through a double */
  has_line (t, "ebpfrelay_subscriber_packets_total{" A ",path=\"kernel\"} "
      "1152921504606846977");
  has_line (t, "ebpfrelay_subscriber_packets_total{" A ",path=\"userspace\"} 7");
  has_line (t, "ebpfrelay_subscriber_bytes_total{" A ",path=\"kernel\"} 123456");
  has_line (t, "ebpfrelay_subscriber_bytes_total{" A ",path=\"userspace\"} 700");
  has_line (t, "ebpfrelay_subscriber_send_errors_total{" A ",path=\"userspace\"} 2");
  has_line (t, "ebpfrelay_subscriber_priority_dropped_packets_total{" A "} 41");
  has_line (t, "ebpfrelay_subscriber_priority_limit{" A "} 6");
  has_line (t, "ebpfrelay_subscriber_path{" A ",path=\"kernel\"} 1");
  has_line (t, "ebpfrelay_subscriber_path{" A ",path=\"userspace\"} 0");
  has_line (t, "ebpfrelay_subscriber_rtt_seconds{" A "} 0.0125");
  has_line (t, "ebpfrelay_subscriber_fraction_lost{" A "} 0.25");
  has_line (t, "ebpfrelay_subscriber_packets_lost{" A "} -3");
  has_line (t, "ebpfrelay_subscriber_jitter_seconds{" A "} 0.003");
  has_line (t, "ebpfrelay_subscriber_jitter_rtp_timestamp_units{" A "} 270");
  has_line (t, "ebpfrelay_subscriber_nacks_received_total{" A "} 9");
  has_line (t, "ebpfrelay_subscriber_retransmitted_packets_total{" A "} 8");
  has_line (t, "ebpfrelay_subscriber_rtx_packets_total{" A "} 5");
  has_line (t, "ebpfrelay_subscriber_nack_unanswered_total{" A
      ",reason=\"not-cached\"} 1");
  /* the second: escaped, and without a report no RTT, loss or jitter */
  has_line (t, "ebpfrelay_subscriber_priority_dropped_packets_total{" B "} 41");
  no_text (t, "ebpfrelay_subscriber_rtt_seconds{" B);
  no_text (t, "ebpfrelay_subscriber_fraction_lost{" B);
  no_text (t, "ebpfrelay_subscriber_jitter_seconds{" B);
  /* nothing known of it: no header */
  no_text (t, "ebpfrelay_kernel_lost_events");
  no_text (t, "# EOF");
  g_assert_nonnull (strstr (t, "\nprocess_cpu_seconds_total "));
  has_line (t, "# TYPE process_cpu_seconds_total counter");
  g_assert_nonnull (strstr (t, "\nprocess_resident_memory_bytes "));
  g_free (t);
  gst_structure_free (s);
}

static void
test_openmetrics (void)
{
  GstStructure *s = stats ();
  gchar *t = relay_metrics_render (s, TRUE);

  /* a counter's family has no _total, its samples do */
  has_line (t, "# TYPE ebpfrelay_subscriber_packets counter");
  has_line (t, "ebpfrelay_subscriber_packets_total{" A ",path=\"userspace\"} 7");
  has_line (t, "# TYPE ebpfrelay_subscriber_rtt_seconds gauge");
  no_text (t, "# TYPE ebpfrelay_subscriber_packets_total");
  has_line (t, "# TYPE process_cpu_seconds counter");
  g_assert_true (g_str_has_suffix (t, "\n# EOF\n"));
  g_free (t);
  gst_structure_free (s);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/prometheus", test_prometheus);
  g_test_add_func ("/metrics/openmetrics", test_openmetrics);
  return g_test_run ();
}
