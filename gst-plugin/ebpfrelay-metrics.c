/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelaysink's Prometheus endpoint: see ebpfrelay-metrics.h.
 */
#include "ebpfrelay-metrics.h"

#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <libsoup/soup.h>

G_DEFINE_QUARK (relay - metrics - error - quark, relay_metrics_error);

#define METRICS_BACKLOG 128

struct _RelayMetrics
{
  RelayWatch *watch;
  GSocketService *service;      /* accepts, and hands each to the server */
  SoupServer *server;
  RelayWatchStatsFunc stats;
  gpointer user_data;
  /* while being made in the watch thread */
  GInetAddress *address;
  guint port;
  GError *error;
};

/* --- rendering ------------------------------------------------------------- */

typedef enum
{
  FAM_COUNTER,
  FAM_GAUGE,
} FamilyType;

/* One sample of a family: the statistics field it comes from, and an
 * extra label (NULL: none). */
typedef struct
{
  const gchar *field;
  const gchar *label;
  const gchar *value;
} Sample;

/* A family of metrics: its name (counters without _total, which the
 * samples get), what it is, and up to 8 samples per relay or subscriber.
 * @scale divides the field (1000: ms into seconds; 0: 1); @only_if: a boolean field
 * that must be TRUE for the samples to exist; @nonneg: negative values
 * mean "not known" and give no sample. */
typedef struct
{
  const gchar *name;
  FamilyType type;
  const gchar *help;
  Sample samples[8];
  gdouble scale;
  const gchar *only_if;
  gboolean nonneg;
} Family;

#define S1(f) {{f, NULL, NULL}}

static const Family relay_families[] = {
  {"ebpfrelay_buffers_in", FAM_COUNTER,
        "Buffers the relay's pipeline received (the originals passed up)",
      S1 ("buffers-in")},
  {"ebpfrelay_kernel_matched_packets", FAM_COUNTER,
        "Packets to the stream's port the kernel program saw",
      S1 ("kernel-matched")},
  {"ebpfrelay_kernel_passed_packets", FAM_COUNTER,
        "Originals the kernel program passed up to userspace",
      S1 ("kernel-passed")},
  {"ebpfrelay_kernel_consumed_packets", FAM_COUNTER,
        "Originals the kernel consumed (pass-original=false)",
      S1 ("kernel-consumed")},
  {"ebpfrelay_kernel_clone_errors", FAM_COUNTER,
        "Copies the kernel failed to make or send (bpf_clone_redirect errors)",
      S1 ("kernel-clone-errors")},
  {"ebpfrelay_kernel_events", FAM_COUNTER,
      "Packets the kernel handed to userspace to send", S1 ("kernel-events")},
  {"ebpfrelay_kernel_event_errors", FAM_COUNTER,
        "Packets the kernel could not hand to userspace",
      S1 ("kernel-event-errors")},
  {"ebpfrelay_kernel_lost_events", FAM_COUNTER,
      "Kernel events userspace lost (ring full)", S1 ("lost-events")},
  {"ebpfrelay_kernel_fragmented_packets", FAM_COUNTER,
      "IP fragments the kernel saw", S1 ("kernel-fragmented")},
  {"ebpfrelay_fragments_unsent", FAM_COUNTER,
      "Fragmented packets userspace could not send", S1 ("fragments-unsent")},
  {"ebpfrelay_kernel_priority_packets", FAM_COUNTER,
        "Packets the kernel classified, per priority (0-7)",
        {{"kernel-priority-0", "priority", "0"},
            {"kernel-priority-1", "priority", "1"},
            {"kernel-priority-2", "priority", "2"},
            {"kernel-priority-3", "priority", "3"},
            {"kernel-priority-4", "priority", "4"},
            {"kernel-priority-5", "priority", "5"},
            {"kernel-priority-6", "priority", "6"},
          {"kernel-priority-7", "priority", "7"}}},
  {"ebpfrelay_kernel_rule_packets", FAM_COUNTER,
        "Packets the kernel classified, per rule that gave the priority",
        {{"kernel-rule-not-rtp", "rule", "not-rtp"},
            {"kernel-rule-framemarking", "rule", "framemarking"},
            {"kernel-rule-h264", "rule", "h264"},
            {"kernel-rule-vp8", "rule", "vp8"},
          {"kernel-rule-default", "rule", "default"}}},
  {"ebpfrelay_control_subscribers", FAM_GAUGE,
      "Subscribers of the subscription channel", S1 ("control-subscribers")},
  {"ebpfrelay_control_accepted", FAM_COUNTER,
      "Subscriptions the channel accepted", S1 ("control-accepted")},
  {"ebpfrelay_control_refreshed", FAM_COUNTER,
      "Subscription refreshes", S1 ("control-refreshed")},
  {"ebpfrelay_control_refused", FAM_COUNTER,
        "Subscriptions refused, per reason",
        {{"control-refused-token", "reason", "token"},
            {"control-refused-full", "reason", "full"},
            {"control-refused-cookie", "reason", "cookie"},
          {"control-refused-relay", "reason", "relay"}}},
  {"ebpfrelay_control_challenges", FAM_COUNTER,
      "Cookie challenges sent", S1 ("control-challenges")},
  {"ebpfrelay_control_malformed", FAM_COUNTER,
      "Malformed subscription packets", S1 ("control-malformed")},
  {"ebpfrelay_control_expired", FAM_COUNTER,
      "Subscribers removed for not refreshing", S1 ("control-expired")},
  {"ebpfrelay_control_unsubscribed", FAM_COUNTER,
      "Subscribers that unsubscribed", S1 ("control-unsubscribed")},
  {"ebpfrelay_rtcp_sender_packets", FAM_COUNTER,
      "RTCP packets from the sender", S1 ("rtcp-sender-packets")},
  {"ebpfrelay_rtcp_malformed", FAM_COUNTER,
      "Malformed RTCP packets", S1 ("rtcp-malformed")},
  {"ebpfrelay_rtcp_unattributed", FAM_COUNTER,
      "RTCP packets from no known subscriber", S1 ("rtcp-unknown")},
  {"ebpfrelay_keyframe_requests_sent", FAM_COUNTER,
        "Key frame requests (PLI/FIR) sent to the sender",
      S1 ("keyframe-requests-sent")},
  {"ebpfrelay_keyframe_requests_suppressed", FAM_COUNTER,
        "Key frame requests of subscribers not forwarded (throttled)",
      S1 ("keyframe-requests-suppressed")},
  {"ebpfrelay_nack_cache_packets", FAM_GAUGE,
      "Packets in the NACK cache", S1 ("nack-cache-packets")},
  {"ebpfrelay_nack_cache_bytes", FAM_GAUGE,
      "Bytes in the NACK cache", S1 ("nack-cache-bytes")},
};

static const Family client_families[] = {
  {"ebpfrelay_subscriber_packets", FAM_COUNTER,
        "Packets sent to the subscriber, by who sent them (path)",
        {{"kernel-packets", "path", "kernel"},
          {"user-packets", "path", "userspace"}}},
  {"ebpfrelay_subscriber_bytes", FAM_COUNTER,
        "UDP payload bytes sent to the subscriber, by who sent them (path)",
        {{"kernel-bytes", "path", "kernel"},
          {"user-bytes", "path", "userspace"}}},
  {"ebpfrelay_subscriber_send_errors", FAM_COUNTER,
        "Sends to the subscriber that failed in userspace",
      {{"user-errors", "path", "userspace"}}},
  {"ebpfrelay_subscriber_priority_dropped_packets", FAM_COUNTER,
        "Packets not sent to the subscriber: priority below its limit",
      S1 ("priority-dropped")},
  {"ebpfrelay_subscriber_keyframe_held_packets", FAM_COUNTER,
        "Packets held back from the subscriber until a key frame",
      S1 ("keyframe-held")},
  {"ebpfrelay_subscriber_priority_limit", FAM_GAUGE,
        "The subscriber's priority limit (gets priority >= limit)",
      S1 ("priority-limit")},
  {"ebpfrelay_subscriber_rtcp_sent", FAM_COUNTER,
      "Sender RTCP compounds sent to the subscriber", S1 ("rtcp-sent")},
  {"ebpfrelay_subscriber_rtcp_received", FAM_COUNTER,
      "RTCP packets from the subscriber", S1 ("rtcp-received")},
  {"ebpfrelay_subscriber_rtt_seconds", FAM_GAUGE,
        "Round-trip time from the subscriber's last receiver report",
      S1 ("rtt-ms"), 1000, NULL, TRUE},
  {"ebpfrelay_subscriber_fraction_lost", FAM_GAUGE,
        "Fraction lost (0-1) in the subscriber's last receiver report",
      S1 ("rtcp-fraction-lost"), 1, "rtcp-has-report"},
  {"ebpfrelay_subscriber_packets_lost", FAM_GAUGE,
        "Cumulative packets lost in the subscriber's last receiver report",
      S1 ("rtcp-packets-lost"), 1, "rtcp-has-report"},
  {"ebpfrelay_subscriber_jitter_seconds", FAM_GAUGE,
        "Interarrival jitter in the subscriber's last receiver report, with "
        "the clock rate of the stream's caps",
      S1 ("rtcp-jitter-ms"), 1000, "rtcp-has-report", TRUE},
  {"ebpfrelay_subscriber_jitter_rtp_timestamp_units", FAM_GAUGE,
        "Interarrival jitter in the subscriber's last receiver report, in "
        "RTP timestamp units (RFC 3550 6.4.1)",
      S1 ("rtcp-jitter"), 1, "rtcp-has-report"},
  {"ebpfrelay_subscriber_plis_received", FAM_COUNTER,
      "PLIs from the subscriber", S1 ("pli-received")},
  {"ebpfrelay_subscriber_firs_received", FAM_COUNTER,
      "FIRs from the subscriber", S1 ("fir-received")},
  {"ebpfrelay_subscriber_nacks_received", FAM_COUNTER,
      "NACKs from the subscriber", S1 ("nack-received")},
  {"ebpfrelay_subscriber_retransmitted_packets", FAM_COUNTER,
      "Packets resent to the subscriber for its NACKs", S1 ("nack-resent")},
  {"ebpfrelay_subscriber_rtx_packets", FAM_COUNTER,
      "RFC 4588 RTX packets sent to the subscriber", S1 ("rtx-sent")},
  {"ebpfrelay_subscriber_nack_unanswered", FAM_COUNTER,
        "NACKed packets not resent, per reason",
        {{"nack-not-cached", "reason", "not-cached"},
            {"nack-repeats", "reason", "repeat"},
            {"nack-not-sent", "reason", "not-sent"},
          {"nack-not-yet", "reason", "not-yet"}}},
};

static void
append_escaped (GString * out, const gchar * v)
{
  for (; *v; v++) {
    if (*v == '\\' || *v == '"')
      g_string_append_c (out, '\\');
    if (*v == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *v);
  }
}

/* The value of @field as a double; FALSE when there is none. */
static gboolean
field_value (const GstStructure * s, const gchar * field, gdouble * out)
{
  const GValue *v = gst_structure_get_value (s, field);

  if (!v)
    return FALSE;
  switch (G_VALUE_TYPE (v)) {
    case G_TYPE_UINT64:
      *out = (gdouble) g_value_get_uint64 (v);
      return TRUE;
    case G_TYPE_INT64:
      *out = (gdouble) g_value_get_int64 (v);
      return TRUE;
    case G_TYPE_UINT:
      *out = g_value_get_uint (v);
      return TRUE;
    case G_TYPE_INT:
      *out = g_value_get_int (v);
      return TRUE;
    case G_TYPE_DOUBLE:
      *out = g_value_get_double (v);
      return TRUE;
    case G_TYPE_BOOLEAN:
      *out = g_value_get_boolean (v);
      return TRUE;
    default:
      return FALSE;
  }
}

/* @d in the fewest digits that read back as @d (g_ascii_dtostr always
 * writes 17: 0.012500000000000001) */
static void
append_double (GString * out, gdouble d)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof (buf), "%.15g", d);
  if (g_ascii_strtod (buf, NULL) != d)
    g_ascii_formatd (buf, sizeof (buf), "%.17g", d);
  g_string_append (out, buf);
}

static void
append_number (GString * out, const GstStructure * s, const gchar * field,
    gdouble divisor)
{
  const GValue *v = gst_structure_get_value (s, field);
  gdouble d;

  /* integers exactly, beyond 2^53 too */
  if (divisor == 1 && v && G_VALUE_HOLDS_UINT64 (v)) {
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_value_get_uint64 (v));
    return;
  }
  field_value (s, field, &d);
  append_double (out, d / divisor);
}

static void
family_header (GString * out, const Family * f, gboolean openmetrics)
{
  const gchar *suffix = f->type == FAM_COUNTER && !openmetrics ? "_total" : "";

  g_string_append_printf (out, "# HELP %s%s %s\n# TYPE %s%s %s\n", f->name,
      suffix, f->help, f->name, suffix,
      f->type == FAM_COUNTER ? "counter" : "gauge");
}

/* The samples of @f from @s, labelled with @labels ("a=\"b\",...") */
static void
family_samples (GString * out, const Family * f, const GstStructure * s,
    const gchar * labels)
{
  gboolean cond;
  gdouble d;

  if (f->only_if && (!gst_structure_get_boolean (s, f->only_if, &cond)
          || !cond))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (f->samples) && f->samples[i].field; i++) {
    const Sample *smp = &f->samples[i];

    if (!field_value (s, smp->field, &d) || (f->nonneg && d < 0))
      continue;
    g_string_append_printf (out, "%s%s{%s", f->name,
        f->type == FAM_COUNTER ? "_total" : "", labels);
    if (smp->label)
      g_string_append_printf (out, ",%s=\"%s\"", smp->label, smp->value);
    g_string_append (out, "} ");
    append_number (out, s, smp->field, f->scale ? f->scale : 1);
    g_string_append_c (out, '\n');
  }
}

static gchar *
client_labels (const gchar * relay_labels, const GstStructure * c)
{
  GString *l = g_string_new (relay_labels);
  gint port = 0;

  g_string_append (l, ",subscriber_address=\"");
  append_escaped (l, gst_structure_get_string (c, "host") ? : "");
  gst_structure_get_int (c, "port", &port);
  g_string_append_printf (l, "\",subscriber_port=\"%d\"", port);
  return g_string_free (l, FALSE);
}

/* CPU seconds (user + system) and resident bytes of this process, from
 * /proc/self/stat (proc(5): fields 14, 15 and 24). */
static gboolean
process_stat (gdouble * cpu, gdouble * rss)
{
  gchar *text = NULL, *p;
  gchar **f;
  gboolean ok = FALSE;

  if (!g_file_get_contents ("/proc/self/stat", &text, NULL, NULL))
    return FALSE;
  /* the command name (field 2) may hold spaces: start after its ')' */
  p = strrchr (text, ')');
  if (p) {
    f = g_strsplit (p + 2, " ", 0);
    /* f[0] is field 3 */
    if (g_strv_length (f) > 21) {
      *cpu = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL))
          / sysconf (_SC_CLK_TCK);
      *rss = g_ascii_strtod (f[21], NULL) * sysconf (_SC_PAGESIZE);
      ok = TRUE;
    }
    g_strfreev (f);
  }
  g_free (text);
  return ok;
}

gchar *
relay_metrics_render (const GstStructure * stats, gboolean openmetrics)
{
  GString *out = g_string_new (NULL), *samples = g_string_new (NULL);
  const GValue *clients = gst_structure_get_value (stats, "clients");
  guint n = clients ? gst_value_array_get_size (clients) : 0;
  gchar **labels = g_new0 (gchar *, n + 1);
  gchar *relay_labels;
  gint port = 0;
  gdouble cpu, rss;
  const gchar *mode = gst_structure_get_string (stats, "mode");

  gst_structure_get_int (stats, "port", &port);
  relay_labels = g_strdup_printf ("stream_port=\"%d\"", port);
  for (guint i = 0; i < n; i++)
    labels[i] = client_labels (relay_labels,
        gst_value_get_structure (gst_value_array_get_value (clients, i)));

  g_string_append (out, "# HELP ebpfrelay_kernel_forwarding Whether the "
      "kernel forwards (1) or userspace does (0)\n"
      "# TYPE ebpfrelay_kernel_forwarding gauge\n");
  g_string_append_printf (out, "ebpfrelay_kernel_forwarding{%s} %d\n",
      relay_labels, g_strcmp0 (mode, "kernel") == 0);
  g_string_append (out, "# HELP ebpfrelay_subscribers Subscribers in the "
      "table\n# TYPE ebpfrelay_subscribers gauge\n");
  g_string_append_printf (out, "ebpfrelay_subscribers{%s} %u\n", relay_labels,
      n);
  /* (a family without samples, e.g. the kernel's in userspace mode, is
   * left out) */
  for (guint i = 0; i < G_N_ELEMENTS (relay_families); i++) {
    g_string_truncate (samples, 0);
    family_samples (samples, &relay_families[i], stats, relay_labels);
    if (samples->len) {
      family_header (out, &relay_families[i], openmetrics);
      g_string_append_len (out, samples->str, samples->len);
    }
  }

  /* which path serves each subscriber now: one series per path, 1 for the
   * one in use (a state set, so that a change does not start a series) */
  if (n)
    g_string_append (out, "# HELP ebpfrelay_subscriber_path Who serves the "
        "subscriber now: 1 for its path, 0 for the other\n"
        "# TYPE ebpfrelay_subscriber_path gauge\n");
  for (guint i = 0; i < n; i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (clients, i));
    gboolean k = g_strcmp0 (gst_structure_get_string (c, "path"),
        "kernel") == 0;

    g_string_append_printf (out, "ebpfrelay_subscriber_path{%s,path=\"kernel\"}"
        " %d\nebpfrelay_subscriber_path{%s,path=\"userspace\"} %d\n",
        labels[i], k, labels[i], !k);
  }
  for (guint f = 0; f < G_N_ELEMENTS (client_families); f++) {
    g_string_truncate (samples, 0);
    for (guint i = 0; i < n; i++)
      family_samples (samples, &client_families[f],
          gst_value_get_structure (gst_value_array_get_value (clients, i)),
          labels[i]);
    if (samples->len) {
      family_header (out, &client_families[f], openmetrics);
      g_string_append_len (out, samples->str, samples->len);
    }
  }

  if (process_stat (&cpu, &rss)) {
    const gchar *cpu_family = openmetrics ? "process_cpu_seconds" :
        "process_cpu_seconds_total";

    g_string_append_printf (out, "# HELP %s Total user and system CPU time "
        "spent in seconds\n# TYPE %s counter\nprocess_cpu_seconds_total ",
        cpu_family, cpu_family);
    append_double (out, cpu);
    g_string_append (out, "\n# HELP process_resident_memory_bytes "
        "Resident memory size in bytes\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes ");
    append_double (out, rss);
    g_string_append_c (out, '\n');
  }
  if (openmetrics)
    g_string_append (out, "# EOF\n");
  g_string_free (samples, TRUE);
  g_strfreev (labels);
  g_free (relay_labels);
  return g_string_free (out, FALSE);
}

/* --- serving --------------------------------------------------------------- */

static void
handle (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  RelayMetrics *m = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *accept;
  gboolean om;
  GstStructure *s;
  gchar *body;

  /* One request per connection: libsoup 3.2 keeps the socket of a
   * kept-alive connection the client closes (an fd per scrape). */
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  if (g_strcmp0 (path, "/metrics") != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (g_strcmp0 (method, SOUP_METHOD_GET) != 0) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET");
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  accept = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Accept");
  om = accept && strstr (accept, "application/openmetrics-text") != NULL;
  s = m->stats (m->user_data);
  body = relay_metrics_render (s, om);
  gst_structure_free (s);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, om ?
      "application/openmetrics-text; version=1.0.0; charset=utf-8" :
      "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE, body,
      strlen (body));
}

/* In the watch thread: its context is the thread default, where the
 * server's listening and connection sources go. */
/* A connection GIO accepted, for libsoup to serve. (The connections are
 * accepted here rather than by soup_server_listen: libsoup 3.2's own
 * listener keeps a reference to each accepted GSocket, a leak per scrape.) */
static gboolean
on_incoming (GSocketService * service, GSocketConnection * conn,
    GObject * source, gpointer user_data)
{
  RelayMetrics *m = user_data;
  GSocketAddress *local = g_socket_connection_get_local_address (conn, NULL);
  GSocketAddress *remote = g_socket_connection_get_remote_address (conn, NULL);
  GError *err = NULL;

  if (!local || !remote
      || !soup_server_accept_iostream (m->server, G_IO_STREAM (conn), local,
          remote, &err)) {
    GST_DEBUG ("metrics: connection not served: %s",
        err ? err->message : "no address");
    g_clear_error (&err);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  }
  g_clear_object (&local);
  g_clear_object (&remote);
  return TRUE;
}

/* In the watch thread: its context is the thread default, where the
 * service's and the connections' sources go. */
static gboolean
start_server (gpointer user_data)
{
  RelayMetrics *m = user_data;
  GSocketAddress *sa = g_inet_socket_address_new (m->address, m->port);

  m->service = g_socket_service_new ();
  /* a backlog that a burst of connections does not overflow (GIO's
   * default is 10: SYNs dropped, clients waiting for their
   * retransmission) */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (m->service),
      METRICS_BACKLOG);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (m->service), sa,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, NULL,
          &m->error)) {
    g_clear_object (&m->service);
  } else {
    m->server = soup_server_new ("server-header", "gst-ebpf-relay ", NULL);
    soup_server_add_handler (m->server, NULL, handle, m, NULL);
    g_signal_connect (m->service, "incoming", G_CALLBACK (on_incoming), m);
    g_socket_service_start (m->service);
  }
  g_object_unref (sa);
  return G_SOURCE_REMOVE;
}

static gboolean
stop_server (gpointer user_data)
{
  RelayMetrics *m = user_data;

  if (m->service) {
    g_socket_service_stop (m->service);
    g_socket_listener_close (G_SOCKET_LISTENER (m->service));
    g_clear_object (&m->service);
  }
  if (m->server) {
    soup_server_disconnect (m->server);
    g_clear_object (&m->server);
  }
  return G_SOURCE_REMOVE;
}

RelayMetrics *
relay_metrics_new (RelayWatch * watch, const gchar * address, guint port,
    RelayWatchStatsFunc stats, gpointer user_data, GError ** error)
{
  GInetAddress *ia = address ? g_inet_address_new_from_string (address) : NULL;
  RelayMetrics *m;

  if (!ia) {
    g_set_error (error, RELAY_METRICS_ERROR, RELAY_METRICS_ERROR_ADDRESS,
        "metrics-address '%s' is not an IP address",
        address ? address : "(null)");
    return NULL;
  }
  m = g_new0 (RelayMetrics, 1);
  m->watch = watch;
  m->stats = stats;
  m->user_data = user_data;
  m->address = ia;
  m->port = port;
  relay_watch_call (watch, start_server, m);
  if (!m->server) {
    g_set_error (error, RELAY_METRICS_ERROR, RELAY_METRICS_ERROR_LISTEN,
        "cannot listen on metrics-address %s, metrics-port %u: %s", address,
        port, m->error->message);
    g_clear_error (&m->error);
    g_object_unref (m->address);
    g_free (m);
    return NULL;
  }
  return m;
}

void
relay_metrics_free (RelayMetrics * m)
{
  if (!m)
    return;
  relay_watch_call (m->watch, stop_server, m);
  g_object_unref (m->address);
  g_free (m);
}
