/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launch-stats: gst-launch-1.0 -e for a pipeline description, which also
 * prints the "stats" property of every element that has one when the
 * pipeline ends, so that examples and tests can read the elements' own
 * counters (ebpfrelaysink, ebpfprioritysrc, rtpframemarking) of a
 * gst-launch-style pipeline.
 *
 *   launch-stats PIPELINE-DESCRIPTION...
 *
 * Sets the pipeline to PLAYING and prints "playing" once it is. SIGINT or
 * SIGTERM sends EOS (as gst-launch-1.0 -e); SIGUSR1 prints the stats at
 * once. On EOS (or an error, or 10 s after the EOS was sent without it
 * arriving) it prints, for each element with a "stats" property holding a
 * GstStructure, one line
 *   stats ELEMENT-NAME STRUCTURE
 * then stops the pipeline. WARNING and ERROR messages are printed as
 * gst-launch-1.0 prints them ("WARNING: from element PATH: text"); element
 * messages as "message ELEMENT-NAME STRUCTURE". Exit 0 after EOS, 1 after an
 * error, 2 for a bad pipeline description.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <stdio.h>

typedef struct
{
  GstElement *pipeline;
  GMainLoop *loop;
  gint exit_code;
  gboolean eos_sent;
  gboolean playing;
} Launch;

static void
print_stats_of (const GValue * item, gpointer user_data)
{
  GstElement *e = g_value_get_object (item);
  GParamSpec *pspec;
  GstStructure *s = NULL;
  gchar *str;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "stats");
  if (!pspec || !(pspec->flags & G_PARAM_READABLE) ||
      !g_type_is_a (pspec->value_type, GST_TYPE_STRUCTURE))
    return;
  g_object_get (e, "stats", &s, NULL);
  str = s ? gst_structure_to_string (s) : g_strdup ("(null)");
  g_print ("stats %s %s\n", GST_OBJECT_NAME (e), str);
  g_free (str);
  if (s)
    gst_structure_free (s);
}

static void
print_stats (Launch * l)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (l->pipeline));

  while (gst_iterator_foreach (it, print_stats_of, NULL) ==
      GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  gst_iterator_free (it);
  fflush (stdout);
}

static void
finish (Launch * l, gint code)
{
  print_stats (l);
  if (code > l->exit_code)
    l->exit_code = code;
  g_main_loop_quit (l->loop);
}

static gboolean
on_eos_timeout (gpointer user_data)
{
  Launch *l = user_data;

  g_printerr ("launch-stats: no EOS 10 s after it was sent; stopping\n");
  finish (l, 0);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_signal (gpointer user_data)
{
  Launch *l = user_data;

  if (l->eos_sent)
    return G_SOURCE_CONTINUE;
  l->eos_sent = TRUE;
  g_print ("interrupt: sending EOS\n");
  fflush (stdout);
  gst_element_send_event (l->pipeline, gst_event_new_eos ());
  g_timeout_add_seconds (10, on_eos_timeout, l);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_usr1 (gpointer user_data)
{
  print_stats (user_data);
  return G_SOURCE_CONTINUE;
}

static void
print_message (GstMessage * msg, const gchar * kind)
{
  GError *err = NULL;
  gchar *dbg = NULL, *path = gst_object_get_path_string (msg->src);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, &dbg);
  else
    gst_message_parse_warning (msg, &err, &dbg);
  g_printerr ("%s: from element %s: %s\n", kind, path, err->message);
  if (dbg)
    g_printerr ("Additional debug info:\n%s\n", dbg);
  g_clear_error (&err);
  g_free (dbg);
  g_free (path);
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Launch *l = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      print_message (msg, "ERROR");
      finish (l, 1);
      break;
    case GST_MESSAGE_WARNING:
      print_message (msg, "WARNING");
      break;
    case GST_MESSAGE_EOS:
      g_print ("eos\n");
      finish (l, 0);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      gchar *str = s ? gst_structure_to_string (s) : g_strdup ("(null)");

      g_print ("message %s %s\n", GST_OBJECT_NAME (msg->src), str);
      fflush (stdout);
      g_free (str);
      break;
    }
    case GST_MESSAGE_STATE_CHANGED:
      if (!l->playing && msg->src == GST_OBJECT (l->pipeline)) {
        GstState state;

        gst_message_parse_state_changed (msg, NULL, &state, NULL);
        if (state == GST_STATE_PLAYING) {
          l->playing = TRUE;
          g_print ("playing\n");
          fflush (stdout);
        }
      }
      break;
    default:
      break;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Launch l = { 0 };
  GError *err = NULL;
  GstBus *bus;
  gchar *desc;

  gst_init (&argc, &argv);
  if (argc < 2) {
    g_printerr ("usage: launch-stats PIPELINE-DESCRIPTION...\n");
    return 2;
  }
  desc = g_strjoinv (" ", argv + 1);
  l.pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!l.pipeline || err) {
    g_printerr ("launch-stats: bad pipeline: %s\n",
        err ? err->message : "unknown");
    return 2;
  }
  if (!GST_IS_BIN (l.pipeline)) {
    GstElement *bin = gst_pipeline_new (NULL);

    gst_bin_add (GST_BIN (bin), l.pipeline);
    l.pipeline = bin;
  }

  l.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (l.pipeline);
  gst_bus_add_watch (bus, on_bus, &l);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_stop_signal, &l);
  g_unix_signal_add (SIGTERM, on_stop_signal, &l);
  g_unix_signal_add (SIGUSR1, on_usr1, &l);

  if (gst_element_set_state (l.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg;

    bus = gst_element_get_bus (l.pipeline);
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      print_message (msg, "ERROR");
      gst_message_unref (msg);
    }
    gst_object_unref (bus);
    g_printerr ("launch-stats: the pipeline did not start\n");
    gst_element_set_state (l.pipeline, GST_STATE_NULL);
    return 1;
  }
  g_main_loop_run (l.loop);

  gst_element_set_state (l.pipeline, GST_STATE_NULL);
  gst_object_unref (l.pipeline);
  g_main_loop_unref (l.loop);
  return l.exit_code;
}
