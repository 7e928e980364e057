/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-start-error.h: what the element tests check about a setting that
 * must fail: the pipeline does not start, and its error names the value.
 * Include once, from a test's source file. */
#ifndef __CHECK_START_ERROR_H__
#define __CHECK_START_ERROR_H__

#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gst/check/gstcheck.h>

/* A UDP port the kernel chose (bind to port 0, read back), with the @n - 1
 * ports after it free as well (bound once to check); all closed again
 * before it returns, for the element under test to bind. Outside fixed
 * ranges, so parallel tests and others' ephemeral ports do not collide. */
static G_GNUC_UNUSED gint
check_free_port (guint n)
{
  for (guint attempt = 0; attempt < 200; attempt++) {
    int fds[8];
    guint i, got = 0;
    gint base = -1;
    gboolean ok = TRUE;

    fail_unless (n >= 1 && n <= G_N_ELEMENTS (fds));
    for (i = 0; i < n && ok; i++) {
      struct sockaddr_in a = {.sin_family = AF_INET };
      socklen_t len = sizeof (a);

      a.sin_addr.s_addr = htonl (INADDR_ANY);
      a.sin_port = htons (i == 0 ? 0 : base + i);
      fds[got] = socket (AF_INET, SOCK_DGRAM, 0);
      fail_unless (fds[got] >= 0);
      ok = (i > 0 && base + i > 65535) ? FALSE
          : bind (fds[got], (struct sockaddr *) &a, sizeof (a)) == 0;
      if (ok && i == 0) {
        fail_unless (getsockname (fds[got], (struct sockaddr *) &a,
                &len) == 0);
        base = ntohs (a.sin_port);
      }
      got++;
    }
    for (i = 0; i < got; i++)
      close (fds[i]);
    if (ok)
      return base;
  }
  fail ("no %u free consecutive UDP ports", n);
  return -1;
}

/* @tmpl with every "@X@" (X a capital letter) replaced by a port of
 * check_free_port (2) (the stream's port and its default RTCP port
 * + 1 free): the same letter, the same port; "@X+1@" the port after it.
 * The string stays valid for the next 15 calls. */
static G_GNUC_UNUSED const gchar *
check_ports (const gchar * tmpl)
{
  static gchar *ring[16];
  static guint next;
  gint ports[26] = { 0 };
  GString *out = g_string_new (NULL);
  const gchar *p = tmpl;

  while (*p) {
    if (p[0] == '@' && g_ascii_isupper (p[1])
        && (p[2] == '@' || (p[2] == '+' && p[3] == '1' && p[4] == '@'))) {
      gint k = p[1] - 'A';

      if (!ports[k])
        ports[k] = check_free_port (2);
      g_string_append_printf (out, "%d", ports[k] + (p[2] == '+'));
      p += p[2] == '@' ? 3 : 5;
    } else {
      g_string_append_c (out, *p++);
    }
  }
  g_free (ring[next]);
  ring[next] = g_string_free (out, FALSE);
  p = ring[next];
  next = (next + 1) % G_N_ELEMENTS (ring);
  return p;
}

/* Runs @pipeline_str to PLAYING and returns the error message it posts
 * (the state change must fail). */
static G_GNUC_UNUSED gchar *
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

/* (@pipeline's "@X@" are free ports, check_ports) */
#define assert_start_error(pipeline, needle) G_STMT_START {             \
    gchar *_t = expect_start_error (check_ports (pipeline));            \
    fail_unless (strstr (_t, needle) != NULL,                           \
        "error '%s' does not name '%s'", _t, needle);                   \
    g_free (_t);                                                        \
  } G_STMT_END

#endif /* __CHECK_START_ERROR_H__ */
