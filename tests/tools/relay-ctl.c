/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * relay-ctl: runs a pipeline holding an ebpfrelaysink named "relay" and
 * drives it from stdin, one command a line, for tests that change the
 * subscribers while the stream runs.
 *
 *   relay-ctl 'udpsrc port=5004 ! ebpfrelaysink name=relay mode=kernel'
 *
 * Once the pipeline is set to PLAYING (the relay has started: its kernel
 * path is attached) it prints "ready". Commands:
 *   add HOST PORT        emit "add"
 *   remove HOST PORT     emit "remove"
 *   clear                emit "clear"
 *   stats                print the "stats" property: "stats <structure>"
 *   get-stats HOST PORT  print "get-stats <structure>" (from "get-stats")
 *   set NAME VALUE       set property NAME of the relay (from a string)
 *   set-priority-limit HOST PORT L
 *                        emit "set-priority-limit"; fails when it returns FALSE
 *   wait-ms N            sleep N ms before reading the next command
 *   quit                 stop the pipeline and exit 0 (so does end of input)
 * and prints "ok" after each. The element's client-added/client-removed
 * signals print "client-added HOST PORT" / "client-removed HOST PORT".
 * A malformed or unknown command prints a message on stderr and exits 1; so does an
 * ERROR message on the bus (printed on stderr).
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  GstElement *pipeline;
  GstElement *relay;
  GMainLoop *loop;
  gint exit_code;
} RelayCtl;

static GMutex out_lock;

static void
say (const gchar * fmt, ...)
{
  va_list ap;

  g_mutex_lock (&out_lock);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
  g_mutex_unlock (&out_lock);
}

static void
finish (RelayCtl * ctl, gint code)
{
  if (code > ctl->exit_code)
    ctl->exit_code = code;
  g_main_loop_quit (ctl->loop);
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  RelayCtl *ctl = user_data;
  GError *err = NULL;
  gchar *dbg = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("relay-ctl: error from %s: %s\n%s\n",
          GST_OBJECT_NAME (msg->src), err->message, dbg ? dbg : "");
      g_clear_error (&err);
      g_free (dbg);
      finish (ctl, 1);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      g_printerr ("relay-ctl: warning from %s: %s\n%s\n",
          GST_OBJECT_NAME (msg->src), err->message, dbg ? dbg : "");
      g_clear_error (&err);
      g_free (dbg);
      break;
    case GST_MESSAGE_EOS:
      g_printerr ("relay-ctl: end of stream\n");
      finish (ctl, 0);
      break;
    default:
      break;
  }
  return TRUE;
}

static void
on_client_added (GstElement * relay, const gchar * host, gint port,
    gpointer user_data)
{
  say ("client-added %s %d", host, port);
}

static void
on_client_removed (GstElement * relay, const gchar * host, gint port,
    gpointer user_data)
{
  say ("client-removed %s %d", host, port);
}

static gboolean
has_signal (GstElement * e, const gchar * name)
{
  return g_signal_lookup (name, G_OBJECT_TYPE (e)) != 0;
}

static gboolean
parse_host_port (gchar ** argv, gint argc, const gchar ** host, gint * port)
{
  gchar *end;
  glong p;

  if (argc != 3)
    return FALSE;
  p = strtol (argv[2], &end, 10);
  if (*end || p < 0 || p > 65535)
    return FALSE;
  *host = argv[1];
  *port = (gint) p;
  return TRUE;
}

/* Runs one command line; FALSE on a malformed or failed command. */
static gboolean
run_command (RelayCtl * ctl, const gchar * line, gboolean * quit)
{
  gchar **argv = g_strsplit_set (line, " \t", -1);
  gchar **args;
  gint argc = 0, i, port;
  const gchar *host;
  gboolean ok = TRUE;

  /* g_strsplit_set keeps empty tokens for repeated blanks: drop them. */
  args = g_new0 (gchar *, g_strv_length (argv) + 1);
  for (i = 0; argv[i]; i++)
    if (*argv[i])
      args[argc++] = argv[i];

  if (argc == 0) {
    g_free (args);
    g_strfreev (argv);
    return TRUE;
  }

  if (!strcmp (args[0], "add") || !strcmp (args[0], "remove")) {
    if (!parse_host_port (args, argc, &host, &port)) {
      g_printerr ("relay-ctl: usage: %s HOST PORT\n", args[0]);
      ok = FALSE;
    } else if (!has_signal (ctl->relay, args[0])) {
      g_printerr ("relay-ctl: element has no '%s' signal\n", args[0]);
      ok = FALSE;
    } else {
      g_signal_emit_by_name (ctl->relay, args[0], host, port);
    }
  } else if (!strcmp (args[0], "clear") && argc == 1) {
    if (!has_signal (ctl->relay, "clear")) {
      g_printerr ("relay-ctl: element has no 'clear' signal\n");
      ok = FALSE;
    } else {
      g_signal_emit_by_name (ctl->relay, "clear");
    }
  } else if (!strcmp (args[0], "stats") && argc == 1) {
    GstStructure *s = NULL;
    gchar *str;

    if (!g_object_class_find_property (G_OBJECT_GET_CLASS (ctl->relay),
            "stats")) {
      g_printerr ("relay-ctl: element has no 'stats' property\n");
      ok = FALSE;
    } else {
      g_object_get (ctl->relay, "stats", &s, NULL);
      str = s ? gst_structure_to_string (s) : g_strdup ("(null)");
      say ("stats %s", str);
      g_free (str);
      if (s)
        gst_structure_free (s);
    }
  } else if (!strcmp (args[0], "get-stats")) {
    GstStructure *s = NULL;
    gchar *str;

    if (!parse_host_port (args, argc, &host, &port)) {
      g_printerr ("relay-ctl: usage: get-stats HOST PORT\n");
      ok = FALSE;
    } else if (!has_signal (ctl->relay, "get-stats")) {
      g_printerr ("relay-ctl: element has no 'get-stats' signal\n");
      ok = FALSE;
    } else {
      g_signal_emit_by_name (ctl->relay, "get-stats", host, port, &s);
      str = s ? gst_structure_to_string (s) : g_strdup ("(null)");
      say ("get-stats %s", str);
      g_free (str);
      if (s)
        gst_structure_free (s);
    }
  } else if (!strcmp (args[0], "set") && argc == 3) {
    if (!g_object_class_find_property (G_OBJECT_GET_CLASS (ctl->relay),
            args[1])) {
      g_printerr ("relay-ctl: element has no '%s' property\n", args[1]);
      ok = FALSE;
    } else {
      gst_util_set_object_arg (G_OBJECT (ctl->relay), args[1], args[2]);
    }
  } else if (!strcmp (args[0], "set-priority-limit")) {
    gboolean done = FALSE;
    gchar *end = NULL;
    glong limit = argc == 4 ? strtol (args[3], &end, 10) : -1;

    if (argc != 4 || *end || !parse_host_port (args, 3, &host, &port)) {
      g_printerr ("relay-ctl: usage: set-priority-limit HOST PORT LIMIT\n");
      ok = FALSE;
    } else if (!has_signal (ctl->relay, "set-priority-limit")) {
      g_printerr ("relay-ctl: element has no 'set-priority-limit' signal\n");
      ok = FALSE;
    } else {
      g_signal_emit_by_name (ctl->relay, "set-priority-limit", host, port,
          (gint) limit, &done);
      if (!done) {
        g_printerr ("relay-ctl: set-priority-limit %s %d %ld refused\n",
            host, port, limit);
        ok = FALSE;
      }
    }
  } else if (!strcmp (args[0], "wait-ms") && argc == 2) {
    gchar *end;
    glong ms = strtol (args[1], &end, 10);

    if (*end || ms < 0) {
      g_printerr ("relay-ctl: usage: wait-ms N\n");
      ok = FALSE;
    } else {
      g_usleep ((gulong) ms * 1000);
    }
  } else if (!strcmp (args[0], "quit") && argc == 1) {
    *quit = TRUE;
  } else {
    g_printerr ("relay-ctl: unknown command: %s\n", line);
    ok = FALSE;
  }

  if (ok)
    say ("ok");
  g_free (args);
  g_strfreev (argv);
  return ok;
}

typedef struct
{
  RelayCtl *ctl;
  gint code;
} Done;

static gboolean
done_in_main (gpointer data)
{
  Done *d = data;

  finish (d->ctl, d->code);
  g_free (d);
  return G_SOURCE_REMOVE;
}

/* Reads stdin in its own thread, so wait-ms and blocking reads never hold
 * up the bus; the element's action signals are thread-safe. */
static gpointer
reader (gpointer data)
{
  RelayCtl *ctl = data;
  gchar line[1024];
  gboolean quit = FALSE;
  Done *d = g_new0 (Done, 1);

  d->ctl = ctl;
  while (!quit && fgets (line, sizeof (line), stdin)) {
    g_strstrip (line);
    if (!run_command (ctl, line, &quit)) {
      d->code = 1;
      break;
    }
  }
  g_idle_add (done_in_main, d);
  return NULL;
}

int
main (int argc, char **argv)
{
  RelayCtl ctl = { 0 };
  GError *err = NULL;
  GstStateChangeReturn ret;
  GstBus *bus;
  GThread *thread;
  gchar *desc;

  gst_init (&argc, &argv);
  if (argc < 2) {
    g_printerr ("usage: relay-ctl PIPELINE (with an ebpfrelaysink "
        "name=relay)\n");
    return 2;
  }
  desc = g_strjoinv (" ", argv + 1);
  ctl.pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!ctl.pipeline) {
    g_printerr ("relay-ctl: bad pipeline: %s\n", err->message);
    return 1;
  }
  if (err) {
    /* A recoverable parse error (e.g. a missing property): still fatal
     * for a test. */
    g_printerr ("relay-ctl: pipeline: %s\n", err->message);
    return 1;
  }
  ctl.relay = gst_bin_get_by_name (GST_BIN (ctl.pipeline), "relay");
  if (!ctl.relay) {
    g_printerr ("relay-ctl: no element named 'relay' in the pipeline\n");
    return 1;
  }
  if (has_signal (ctl.relay, "client-added"))
    g_signal_connect (ctl.relay, "client-added", G_CALLBACK (on_client_added),
        NULL);
  if (has_signal (ctl.relay, "client-removed"))
    g_signal_connect (ctl.relay, "client-removed",
        G_CALLBACK (on_client_removed), NULL);

  ctl.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (ctl.pipeline);
  gst_bus_add_watch (bus, on_bus, &ctl);
  gst_object_unref (bus);

  ret = gst_element_set_state (ctl.pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg;

    /* The reason is on the bus. */
    bus = gst_element_get_bus (ctl.pipeline);
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      on_bus (bus, msg, &ctl);
      gst_message_unref (msg);
    }
    gst_object_unref (bus);
    g_printerr ("relay-ctl: the pipeline did not start\n");
    gst_element_set_state (ctl.pipeline, GST_STATE_NULL);
    return 1;
  }
  say ("ready");

  thread = g_thread_new ("relay-ctl-stdin", reader, &ctl);
  g_main_loop_run (ctl.loop);

  gst_element_set_state (ctl.pipeline, GST_STATE_NULL);
  /* The reader may still block on stdin (an error ended the loop): the
   * process exit ends it. */
  g_thread_unref (thread);
  gst_object_unref (ctl.relay);
  gst_object_unref (ctl.pipeline);
  g_main_loop_unref (ctl.loop);
  return ctl.exit_code;
}
