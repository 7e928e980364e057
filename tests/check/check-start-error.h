/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-start-error.h: what the element tests check about a setting that
 * must fail: the pipeline does not start, and its error names the value.
 * Include once, from a test's source file. */
#ifndef __CHECK_START_ERROR_H__
#define __CHECK_START_ERROR_H__

#include <string.h>
#include <gst/check/gstcheck.h>

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

#endif /* __CHECK_START_ERROR_H__ */
