/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-anyup.h: "any upstream" (issue 13 item 1) for the element tests:
 * appsrc ! ebpfrelaysink with no port set, to two receivers on 127.0.0.1;
 * every buffer (pushed one by one or as buffer lists) must reach both,
 * once, from the port the relay bound. Include once, after
 * check-start-error.h. */
#ifndef __CHECK_ANYUP_H__
#define __CHECK_ANYUP_H__

#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gst/check/gstcheck.h>

/* A UDP socket on 127.0.0.1 with a kernel-chosen port, a 2 s timeout. */
static int
anyup_receiver (gint * port)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  struct timeval tv = {.tv_sec = 2 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0), big = 4 << 20;

  fail_unless (fd >= 0);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof (big));
  *port = ntohs (a.sin_port);
  return fd;
}

/* Buffer @i: @len bytes (at least 8), "anyup" + its number. */
static GstBuffer *
anyup_buffer (guint i, gsize len)
{
  guint8 *d = g_malloc0 (len);

  memcpy (d, "anyup", 5);
  d[5] = i >> 8;
  d[6] = i & 0xff;
  return gst_buffer_new_wrapped (d, len);
}

/*
 * "appsrc ! ebpfrelaysink name=relay @props clients=<two receivers>", no
 * port: pushes @n buffers of @len bytes (in lists of 4 with @lists), checks
 * that the relay bound a port (readable in port while running), that each
 * receiver gets every buffer exactly once, in order, byte for byte, from
 * that port, and that nothing else comes. Returns the relay's stats (free
 * them) taken before it stops; *@warning gets the first WARNING's text
 * (or NULL).
 */
static GstStructure *
anyup_deliver (const gchar * props, guint n, gsize len, gboolean lists,
    gchar ** warning)
{
  gint pa, pb, port = 0;
  int fds[2] = { anyup_receiver (&pa), anyup_receiver (&pb) };
  gchar *desc = g_strdup_printf ("appsrc name=src is-live=true format=time "
      "caps=application/x-rtp ! ebpfrelaysink name=relay %s rtcp-port=0 "
      "clients=127.0.0.1:%d,127.0.0.1:%d", props, pa, pb);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *src, *relay;
  GstBus *bus;
  GstMessage *m;
  GstStructure *stats;
  GstFlowReturn ret;
  guint8 *buf = g_malloc (len + 16);
  guint i, k;

  fail_unless (p != NULL, "%s", desc);
  src = gst_bin_get_by_name (GST_BIN (p), "src");
  relay = gst_bin_get_by_name (GST_BIN (p), "relay");
  bus = gst_element_get_bus (p);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE, "%s did not start", desc);
  fail_unless (gst_element_get_state (p, NULL, NULL, 5 * GST_SECOND) !=
      GST_STATE_CHANGE_FAILURE);
  g_object_get (relay, "port", &port, NULL);
  fail_unless (port > 0, "no port bound");

  for (i = 0; i < n;) {
    if (lists) {
      GstBufferList *l = gst_buffer_list_new ();

      for (k = 0; k < 4 && i < n; k++, i++)
        gst_buffer_list_add (l, anyup_buffer (i, len));
      g_signal_emit_by_name (src, "push-buffer-list", l, &ret);
      gst_buffer_list_unref (l);
    } else {
      GstBuffer *b = anyup_buffer (i++, len);

      g_signal_emit_by_name (src, "push-buffer", b, &ret);
      gst_buffer_unref (b);
    }
    fail_unless_equals_int (ret, GST_FLOW_OK);
  }

  for (k = 0; k < 2; k++) {
    struct sockaddr_in from;
    socklen_t fl = sizeof (from);
    struct timeval tv = {.tv_usec = 300000 };

    for (i = 0; i < n; i++) {
      ssize_t r = recvfrom (fds[k], buf, len + 16, 0,
          (struct sockaddr *) &from, &fl);

      fail_unless (r == (ssize_t) len, "receiver %u: buffer %u: got %d "
          "bytes, want %" G_GSIZE_FORMAT, k, i, (int) r, len);
      fail_unless (memcmp (buf, "anyup", 5) == 0 && buf[5] == (i >> 8) &&
          buf[6] == (i & 0xff), "receiver %u: buffer %u out of order or "
          "twice", k, i);
      fail_unless_equals_int (ntohs (from.sin_port), port);
    }
    setsockopt (fds[k], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    fail_unless (recv (fds[k], buf, len + 16, 0) < 0, "receiver %u: more "
        "than %u datagrams", k, n);
  }

  g_object_get (relay, "stats", &stats, NULL);
  *warning = NULL;
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (m, &err, NULL);
    if (!*warning)
      *warning = g_strdup (err->message);
    g_clear_error (&err);
    gst_message_unref (m);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (relay);
  gst_object_unref (p);
  close (fds[0]);
  close (fds[1]);
  g_free (buf);
  g_free (desc);
  return stats;
}

/* The guint64 @field of @s. */
static guint64
anyup_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = G_MAXUINT64;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s", field);
  return v;
}

#endif
