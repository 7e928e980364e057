/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelaysink's multiudpsink surface (issue 13 items 2 and 5): the
 * properties with multiudpsink's names, types and defaults; the behaviours
 * GStreamer's own udpsink tests assert (buffers and buffer lists pushed
 * with no port set, client add/remove, qos-dscp with a given socket, the
 * buffer memory layout, empty buffers), each checked on the datagrams a
 * receiver on loopback gets; signals compared with what a real
 * multiudpsink emits for the same calls; qos-dscp and ttl read back with
 * IP_RECVTOS / IP_RECVTTL. Every test runs in mode=userspace and
 * mode=auto (in a private network namespace when root, so that auto's
 * BPF stays there; without root auto falls back to userspace).
 * ebpfrelaysink-udp-kernel.c builds this file with RELAY_UDP_KERNEL:
 * mode=kernel, and the kernel's own copies captured on a veth. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include "check-start-error.h"

#ifdef RELAY_UDP_KERNEL
static const gchar *modes[] = { "kernel" };

/* the veth pair of main(): ebru0 10.202.0.1, its peer ebru1; 10.202.0.2
 * is nobody's, with a permanent neighbour entry (ebru1's MAC) so that the
 * kernel path serves it; what reaches ebru1 is captured there */
#define FAR_HOST "10.202.0.2"
#else
static const gchar *modes[] = { "userspace", "auto" };
#endif

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* --- receivers ------------------------------------------------------------ */

/* A UDP socket on 127.0.0.1 with a kernel-chosen port, TOS and TTL of
 * what it receives reported, a @ms timeout. */
static int
receiver (gint * port, guint ms)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  socklen_t len = sizeof (a);
  struct timeval tv = {.tv_sec = ms / 1000,.tv_usec = (ms % 1000) * 1000 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0), one = 1;

  fail_unless (fd >= 0);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof (one));
  setsockopt (fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof (one));
  *port = ntohs (a.sin_port);
  return fd;
}

typedef struct
{
  gssize len;                   /* -1: nothing came */
  guint8 data[2048];
  gint tos, ttl;                /* -1: not reported */
  guint16 from_port;
} Datagram;

static Datagram
receive (int fd)
{
  Datagram d = {.len = -1,.tos = -1,.ttl = -1 };
  struct sockaddr_in from;
  struct iovec iov = { d.data, sizeof (d.data) };
  union
  {
    struct cmsghdr h;
    guint8 buf[256];
  } ctl;
  struct msghdr m = { 0 };
  struct cmsghdr *c;

  m.msg_name = &from;
  m.msg_namelen = sizeof (from);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.buf;
  m.msg_controllen = sizeof (ctl.buf);
  d.len = recvmsg (fd, &m, 0);
  if (d.len < 0)
    return d;
  d.from_port = ntohs (from.sin_port);
  for (c = CMSG_FIRSTHDR (&m); c; c = CMSG_NXTHDR (&m, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
      d.tos = *(guint8 *) CMSG_DATA (c);
    else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
      d.ttl = *(int *) CMSG_DATA (c);
  }
  return d;
}

/* How many datagrams @fd gets before it is quiet for its timeout. */
static guint
count_datagrams (int fd)
{
  guint n = 0;

  while (receive (fd).len >= 0)
    n++;
  return n;
}

/* --- the element under test --------------------------------------------- */

typedef struct
{
  GstElement *sink;
  GstPad *src;
} Relay;

/* ebpfrelaysink in @mode with @props ("name=value ..."), fed by a bare
 * pad (not a udpsrc: no port, buffers as an application pushes them). */
static Relay
relay_new (const gchar * mode, const gchar * props)
{
  Relay r;
  gchar **kv = g_strsplit (props ? props : "", " ", -1);

  r.sink = gst_check_setup_element ("ebpfrelaysink");
  gst_util_set_object_arg (G_OBJECT (r.sink), "mode", mode);
  g_object_set (r.sink, "rtcp-port", 0, NULL);
  for (guint i = 0; kv[i]; i++) {
    gchar **p = g_strsplit (kv[i], "=", 2);

    if (p[0] && p[1])
      gst_util_set_object_arg (G_OBJECT (r.sink), p[0], p[1]);
    g_strfreev (p);
  }
  g_strfreev (kv);
  r.src = gst_check_setup_src_pad_by_name (r.sink, &src_template, "sink");
  return r;
}

static void
relay_play (Relay * r)
{
  GstSegment seg;

  fail_unless (gst_element_set_state (r->sink, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  gst_pad_set_active (r->src, TRUE);
  fail_unless (gst_pad_push_event (r->src,
          gst_event_new_stream_start ("mus")));
  fail_unless (gst_pad_push_event (r->src,
          gst_event_new_caps (gst_caps_new_empty_simple
              ("application/x-rtp"))));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_pad_push_event (r->src, gst_event_new_segment (&seg)));
}

static void
relay_free (Relay * r)
{
  gst_element_set_state (r->sink, GST_STATE_NULL);
  gst_check_teardown_src_pad (r->sink);
  gst_check_teardown_element (r->sink);
}

static guint64
u64_prop (GstElement * e, const gchar * name)
{
  guint64 v = 0;

  g_object_get (e, name, &v, NULL);
  return v;
}

static guint64
stat_u64 (GstElement * sink, const gchar * host, gint port,
    const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = G_MAXUINT64;

  g_signal_emit_by_name (sink, "get-stats", host, port, &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, field, &v), "%s:%d: no %s in %"
      GST_PTR_FORMAT, host, port, field, s);
  gst_structure_free (s);
  return v;
}

/* A buffer of @n memories of @each bytes: memory k filled with 'a' + k
 * (an RTP header and a payload in separate memories, as a payloader
 * makes them). */
static GstBuffer *
multi_memory_buffer (guint n, gsize each)
{
  GstBuffer *b = gst_buffer_new ();

  for (guint k = 0; k < n; k++) {
    GstMemory *m = gst_allocator_alloc (NULL, each, NULL);
    GstMapInfo map;

    gst_memory_map (m, &map, GST_MAP_WRITE);
    memset (map.data, 'a' + k, each);
    if (k == 0 && each >= 2)
      map.data[1] = 96;         /* not RTCP (RFC 5761) */
    gst_memory_unmap (m, &map);
    gst_buffer_append_memory (b, m);
  }
  return b;
}

/* --- 1. names, types, defaults ---------------------------------------- */

static const gchar *mudp_props[] = {
  "send-duplicates", "qos-dscp", "ttl", "ttl-mc", "loop", "buffer-size",
  "bind-address", "bind-port", "socket", "socket-v6", "used-socket",
  "used-socket-v6", "close-socket", "force-ipv4", "auto-multicast",
  "multicast-iface", "bytes-to-serve", "bytes-served", "clients",
};

/* Every multiudpsink property of the list has our element's name,
 * type, readability and default; the signals have the same signatures;
 * sync differs (documented: docs/multiudpsink.md). */
GST_START_TEST (test_defaults_are_multiudpsink_defaults)
{
  GstElement *ours = gst_element_factory_make ("ebpfrelaysink", NULL);
  GstElement *theirs = gst_element_factory_make ("multiudpsink", NULL);
  const gchar *signals[] = { "add", "remove", "clear", "get-stats",
    "client-added", "client-removed"
  };
  gboolean sync = TRUE;

  fail_unless (ours != NULL);
  fail_unless (theirs != NULL, "multiudpsink missing: nothing to compare");
  for (guint i = 0; i < G_N_ELEMENTS (mudp_props); i++) {
    GParamSpec *a = g_object_class_find_property (G_OBJECT_GET_CLASS (ours),
        mudp_props[i]);
    GParamSpec *b = g_object_class_find_property (G_OBJECT_GET_CLASS (theirs),
        mudp_props[i]);
    GValue va = G_VALUE_INIT, vb = G_VALUE_INIT;

    fail_unless (a != NULL, "no property %s", mudp_props[i]);
    fail_unless (b != NULL, "multiudpsink has no %s", mudp_props[i]);
    fail_unless_equals_string (g_type_name (a->value_type),
        g_type_name (b->value_type));
    fail_unless_equals_int (a->flags & (G_PARAM_READABLE | G_PARAM_WRITABLE),
        b->flags & (G_PARAM_READABLE | G_PARAM_WRITABLE));
    fail_unless (g_param_values_cmp (a, g_param_spec_get_default_value (a),
            g_param_spec_get_default_value (b)) == 0, "%s: another default",
        mudp_props[i]);
    /* and the values an element holds at first */
    g_value_init (&va, a->value_type);
    g_value_init (&vb, b->value_type);
    g_object_get_property (G_OBJECT (ours), mudp_props[i], &va);
    g_object_get_property (G_OBJECT (theirs), mudp_props[i], &vb);
    if (G_VALUE_HOLDS_STRING (&va)) {
      fail_unless_equals_string (g_value_get_string (&va) ?
          g_value_get_string (&va) : "", g_value_get_string (&vb) ?
          g_value_get_string (&vb) : "");
    } else {
      fail_unless (g_param_values_cmp (a, &va, &vb) == 0, "%s: another "
          "initial value", mudp_props[i]);
    }
    if (G_IS_PARAM_SPEC_INT (a)) {
      fail_unless_equals_int (G_PARAM_SPEC_INT (a)->minimum,
          G_PARAM_SPEC_INT (b)->minimum);
      fail_unless_equals_int (G_PARAM_SPEC_INT (a)->maximum,
          G_PARAM_SPEC_INT (b)->maximum);
    }
    g_value_unset (&va);
    g_value_unset (&vb);
  }
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++) {
    GSignalQuery qa, qb;

    g_signal_query (g_signal_lookup (signals[i], G_OBJECT_TYPE (ours)), &qa);
    g_signal_query (g_signal_lookup (signals[i], G_OBJECT_TYPE (theirs)),
        &qb);
    fail_unless (qa.signal_id != 0, "no signal %s", signals[i]);
    fail_unless_equals_int (qa.n_params, qb.n_params);
    fail_unless (qa.return_type == qb.return_type, "%s", signals[i]);
    for (guint k = 0; k < qa.n_params; k++)
      fail_unless (qa.param_types[k] == qb.param_types[k], "%s", signals[i]);
  }
  /* the one default that differs, on purpose */
  g_object_get (ours, "sync", &sync, NULL);
  fail_if (sync);
  gst_object_unref (ours);
  gst_object_unref (theirs);
}

GST_END_TEST;

/* --- 2. buffers and buffer lists, no port configured ------------------ */

/* udpsink's test_udpsink / test_udpsink_bufferlist: no port set, buffers
 * of two memories (a 12-byte header, a 1024-byte payload), one by one and
 * as a list: pushing succeeds, each arrives as one datagram of 1036
 * bytes with its memories in order, from the port the relay bound;
 * bytes-to-serve and bytes-served count them. With no client at all the
 * pushes succeed too and nothing is counted (as multiudpsink). */
static void
push_no_port (const gchar * mode, gboolean list)
{
  gint pa, port = 0;
  int a = receiver (&pa, 2000);
  Relay r = relay_new (mode, NULL);
  GstFlowReturn ret;
  Datagram d;

  relay_play (&r);
  g_object_get (r.sink, "port", &port, NULL);
  fail_unless (port > 0, "%s: no port bound", mode);
  /* nobody yet */
  fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (2, 64)),
      GST_FLOW_OK);
  fail_unless_equals_int (u64_prop (r.sink, "bytes-to-serve"), 0);

  g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
  if (list) {
    GstBufferList *l = gst_buffer_list_new ();
    GstBuffer *h = multi_memory_buffer (1, 12);

    gst_buffer_list_add (l, gst_buffer_append (h,
            multi_memory_buffer (1, 1024)));
    gst_buffer_list_add (l, gst_buffer_append (multi_memory_buffer (1, 12),
            multi_memory_buffer (1, 1024)));
    ret = gst_pad_push_list (r.src, l);
  } else {
    ret = gst_pad_push (r.src, gst_buffer_append (multi_memory_buffer (1,
                12), multi_memory_buffer (1, 1024)));
    if (ret == GST_FLOW_OK)
      ret = gst_pad_push (r.src, gst_buffer_append (multi_memory_buffer (1,
                  12), multi_memory_buffer (1, 1024)));
  }
  fail_unless_equals_int (ret, GST_FLOW_OK);
  for (guint i = 0; i < 2; i++) {
    d = receive (a);
    fail_unless_equals_int (d.len, 12 + 1024);
    /* memory layout: the header's bytes, then the payload's */
    fail_unless_equals_int (d.data[0], 'a');
    fail_unless_equals_int (d.data[11], 'a');
    /* (byte 13: the payload memory's second byte, 96) */
    for (guint k = 14; k < 12 + 1024; k++)
      fail_unless (d.data[k] == 'a', "%s: byte %u", mode, k);
    fail_unless_equals_int (d.from_port, port);
  }
  fail_unless_equals_int (u64_prop (r.sink, "bytes-to-serve"), 2 * 1036);
  fail_unless_equals_int (u64_prop (r.sink, "bytes-served"), 2 * 1036);
  fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa, "bytes-sent"),
      2 * 1036);
  fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa,
          "packets-sent"), 2);
  relay_free (&r);
  close (a);
}

GST_START_TEST (test_push_no_port)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    push_no_port (modes[m], FALSE);
}

GST_END_TEST;

GST_START_TEST (test_push_list_no_port)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    push_no_port (modes[m], TRUE);
}

GST_END_TEST;

/* A buffer of three memories of different sizes arrives as one datagram,
 * the memories' bytes in order. */
GST_START_TEST (test_memory_layout)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    gint pa;
    int a = receiver (&pa, 2000);
    Relay r = relay_new (modes[m], NULL);
    GstBuffer *b = multi_memory_buffer (1, 12);
    Datagram d;

    b = gst_buffer_append (b, multi_memory_buffer (1, 5));
    b = gst_buffer_append (b, multi_memory_buffer (1, 300));
    /* b, c: the 2nd and 3rd memory's fill */
    gst_buffer_memset (b, 12, 'b', 5);
    gst_buffer_memset (b, 17, 'c', 300);
    fail_unless_equals_int (gst_buffer_n_memory (b), 3);
    g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
    relay_play (&r);
    fail_unless_equals_int (gst_pad_push (r.src, b), GST_FLOW_OK);
    d = receive (a);
    fail_unless_equals_int (d.len, 317);
    fail_unless (d.data[0] == 'a' && d.data[11] == 'a' && d.data[12] == 'b'
        && d.data[16] == 'b' && d.data[17] == 'c' && d.data[316] == 'c',
        "%s: memories out of order", modes[m]);
    relay_free (&r);
    close (a);
  }
}

GST_END_TEST;

/* --- 3. empty buffers -------------------------------------------------- */

/* The datagrams a real multiudpsink sends a receiver for @buf. */
static guint
multiudpsink_sends (GstBuffer * buf)
{
  gint pa;
  int a = receiver (&pa, 300);
  GstElement *s = gst_check_setup_element ("multiudpsink");
  GstPad *src;
  GstSegment seg;
  guint n;

  g_object_set (s, "sync", FALSE, NULL);
  g_signal_emit_by_name (s, "add", "127.0.0.1", pa);
  src = gst_check_setup_src_pad_by_name (s, &src_template, "sink");
  gst_element_set_state (s, GST_STATE_PLAYING);
  gst_pad_set_active (src, TRUE);
  gst_pad_push_event (src, gst_event_new_stream_start ("mudp"));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_pad_push_event (src, gst_event_new_segment (&seg));
  fail_unless_equals_int (gst_pad_push (src, buf), GST_FLOW_OK);
  n = count_datagrams (a);
  gst_element_set_state (s, GST_STATE_NULL);
  gst_check_teardown_src_pad (s);
  gst_check_teardown_element (s);
  close (a);
  return n;
}

/* A buffer with no memory, and one whose only memory holds no byte: the
 * pushes succeed; as multiudpsink, nothing is sent for the first and an
 * empty datagram for the second (checked against a real multiudpsink),
 * no byte is counted, and the next buffer arrives after it. */
GST_START_TEST (test_empty_buffers)
{
  GstBuffer *zero = gst_buffer_new ();

  gst_buffer_append_memory (zero, gst_allocator_alloc (NULL, 0, NULL));
  fail_unless_equals_int (multiudpsink_sends (gst_buffer_new ()), 0);
  fail_unless_equals_int (multiudpsink_sends (zero), 1);

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    gint pa;
    int a = receiver (&pa, 300);
    Relay r = relay_new (modes[m], NULL);
    GstBuffer *empty_mem = gst_buffer_new ();
    Datagram d;

    gst_buffer_append_memory (empty_mem, gst_allocator_alloc (NULL, 0, NULL));
    g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
    relay_play (&r);
    fail_unless_equals_int (gst_pad_push (r.src, gst_buffer_new ()),
        GST_FLOW_OK);
    fail_unless_equals_int (gst_pad_push (r.src, empty_mem), GST_FLOW_OK);
    fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                40)), GST_FLOW_OK);
    d = receive (a);
    fail_unless_equals_int (d.len, 0);
    d = receive (a);
    fail_unless_equals_int (d.len, 40);
    fail_unless_equals_int (count_datagrams (a), 0);
    fail_unless_equals_int (u64_prop (r.sink, "bytes-to-serve"), 40);
    fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa,
            "packets-sent"), 2);
    fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa,
            "bytes-sent"), 40);
    relay_free (&r);
    close (a);
  }
}

GST_END_TEST;

/* --- 4. clients: add, remove, signals ---------------------------------- */

static void
log_signal (GstElement * e, const gchar * host, gint port, GString * log)
{
  g_string_append_printf (log, "%s:%d ", host, port);
}

static void
log_added (GstElement * e, const gchar * host, gint port, GString * log)
{
  g_string_append (log, "+");
  log_signal (e, host, port, log);
}

static void
log_removed (GstElement * e, const gchar * host, gint port, GString * log)
{
  GstStructure *s = NULL;
  guint64 t = 0;

  g_string_append (log, "-");
  log_signal (e, host, port, log);
  /* as multiudpsink's, get-stats answers in the handler, with the time
   * it went */
  g_signal_emit_by_name (e, "get-stats", host, port, &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "disconnect-time", &t));
  fail_unless (t > 0, "no disconnect-time in the client-removed handler");
  gst_structure_free (s);
}

/* The calls of udpsink's test_udpsink_client_add_remove, and clear and
 * clients changes, on @e; returns the signals it emitted, step by
 * step. */
static gchar *
add_remove_log (GstElement * e)
{
  GString *log = g_string_new (NULL);

  /* (the clients property is not compared: multiudpsink lists the newest
   * first and misses a comma after a repeated last one; ours lists them
   * in the order added: checked in ebpfrelaysink.c) */
#define STEP() g_string_append (log, "| ")

  g_signal_connect (e, "client-added", G_CALLBACK (log_added), log);
  g_signal_connect (e, "client-removed", G_CALLBACK (log_removed), log);
  g_signal_emit_by_name (e, "remove", "127.0.0.1", 5004);       /* unknown */
  STEP ();
  g_signal_emit_by_name (e, "add", "127.0.0.1", 5554);
  g_signal_emit_by_name (e, "add", "127.0.0.1", 5554);
  STEP ();
  g_signal_emit_by_name (e, "remove", "127.0.0.1", 5554);
  STEP ();
  g_signal_emit_by_name (e, "remove", "127.0.0.1", 5555);       /* other port */
  STEP ();
  g_signal_emit_by_name (e, "remove", "127.0.0.1", 5554);
  STEP ();
  g_signal_emit_by_name (e, "add", "127.0.0.1", 5554);
  g_signal_emit_by_name (e, "add", "127.0.0.1", 5555);
  g_signal_emit_by_name (e, "add", "10.2.0.1", 5554);
  STEP ();
  g_signal_emit_by_name (e, "remove", "127.0.0.1", 5554);
  STEP ();
  g_signal_emit_by_name (e, "clear");
  STEP ();
  g_object_set (e, "clients", "127.0.0.1:5554,10.2.0.1:5554,127.0.0.1:5554",
      NULL);
  STEP ();
  g_object_set (e, "clients", "10.2.0.1:5554", NULL);
  STEP ();
  g_signal_handlers_disconnect_by_data (e, log);
#undef STEP
  return g_string_free (log, FALSE);
}

/* Signals, call for call, exactly as a multiudpsink's. */
GST_START_TEST (test_client_add_remove_as_multiudpsink)
{
  GstElement *theirs = gst_element_factory_make ("multiudpsink", NULL);
  gchar *want, *got;

  fail_unless (theirs != NULL, "multiudpsink missing: nothing to compare");
  want = add_remove_log (theirs);
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    GstElement *ours = gst_element_factory_make ("ebpfrelaysink", NULL);

    gst_util_set_object_arg (G_OBJECT (ours), "mode", modes[m]);
    got = add_remove_log (ours);
    fail_unless_equals_string (got, want);
    g_free (got);
    gst_object_unref (ours);
  }
  /* (something was compared) */
  fail_unless (strstr (want, "+127.0.0.1:5554") != NULL, "%s", want);
  fail_unless (strstr (want, "-127.0.0.1:5554") != NULL, "%s", want);
  g_free (want);
  gst_object_unref (theirs);
}

GST_END_TEST;

/* While PLAYING: a client added twice gets every buffer twice
 * (send-duplicates, the default), once with send-duplicates=false; a
 * remove takes one add back; get-stats counts each copy; connect-time is
 * when it was added. */
GST_START_TEST (test_send_duplicates)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    gint pa, pb;
    int a = receiver (&pa, 300), b = receiver (&pb, 300);
    Relay r = relay_new (modes[m], NULL);
    guint64 before = (guint64) g_get_real_time () * 1000, t;

    g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
    g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
    g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pb);
    relay_play (&r);
    fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                100)), GST_FLOW_OK);
    fail_unless_equals_int (count_datagrams (a), 2);
    fail_unless_equals_int (count_datagrams (b), 1);
    fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa,
            "packets-sent"), 2);
    fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa,
            "bytes-sent"), 200);
    t = stat_u64 (r.sink, "127.0.0.1", pa, "connect-time");
    fail_unless (t >= before && t <= (guint64) g_get_real_time () * 1000,
        "connect-time %" G_GUINT64_FORMAT " not when added", t);
    fail_unless_equals_int (stat_u64 (r.sink, "127.0.0.1", pa,
            "disconnect-time"), 0);
    fail_unless_equals_int (u64_prop (r.sink, "bytes-served"), 300);
    fail_unless_equals_int (u64_prop (r.sink, "bytes-to-serve"), 100);

    g_object_set (r.sink, "send-duplicates", FALSE, NULL);
    fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                100)), GST_FLOW_OK);
    fail_unless_equals_int (count_datagrams (a), 1);
    fail_unless_equals_int (count_datagrams (b), 1);

    g_object_set (r.sink, "send-duplicates", TRUE, NULL);
    g_signal_emit_by_name (r.sink, "remove", "127.0.0.1", pa);
    fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                100)), GST_FLOW_OK);
    fail_unless_equals_int (count_datagrams (a), 1);
    fail_unless_equals_int (u64_prop (r.sink, "bytes-served"), 700);
    /* stopped: what was served stays readable */
    gst_element_set_state (r.sink, GST_STATE_NULL);
    fail_unless_equals_int (u64_prop (r.sink, "bytes-served"), 700);
    relay_free (&r);
    close (a);
    close (b);
  }
}

GST_END_TEST;

/* --- 5. qos-dscp, ttl, sockets ------------------------------------------ */

/* udpsink's test_udpsink_dscp: a socket given, qos-dscp set in READY to
 * 0 and 63; then, PLAYING, what the receiver gets carries the DSCP
 * (IP_RECVTOS) and the unicast ttl (IP_RECVTTL) and comes from the given
 * socket's port; qos-dscp changed while PLAYING applies to the next
 * buffer; used-socket is the socket given; close-socket=false leaves it
 * open after stop, true (the default) closes it. */
GST_START_TEST (test_dscp_with_socket)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    for (guint close_it = 0; close_it < 2; close_it++) {
      GError *err = NULL;
      GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4,
          G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
      GInetAddress *any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
      GSocketAddress *sa = g_inet_socket_address_new (any, 0);
      GSocketAddress *local;
      GSocket *used = NULL;
      gint pa, sport, port = 0;
      int a = receiver (&pa, 2000);
      Relay r = relay_new (modes[m], NULL);
      Datagram d;

      fail_unless (sock != NULL, "%s", err ? err->message : "");
      fail_unless (g_socket_bind (sock, sa, TRUE, NULL));
      local = g_socket_get_local_address (sock, NULL);
      sport = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
      g_object_unref (local);
      g_object_unref (sa);
      g_object_unref (any);

      g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
      g_object_set (r.sink, "socket", sock, "close-socket", (gboolean)
          close_it, "ttl", 9, NULL);
      fail_unless (gst_element_set_state (r.sink, GST_STATE_READY) ==
          GST_STATE_CHANGE_SUCCESS);
      g_object_set (r.sink, "qos-dscp", 0, NULL);
      g_object_set (r.sink, "qos-dscp", 63, NULL);
      relay_play (&r);
      g_object_get (r.sink, "used-socket", &used, "port", &port, NULL);
      fail_unless (used == sock, "%s: used-socket is not the socket given",
          modes[m]);
      g_clear_object (&used);
      /* without a udpsrc, the socket given is the stream's */
      fail_unless_equals_int (port, sport);

      fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                  50)), GST_FLOW_OK);
      d = receive (a);
      fail_unless_equals_int (d.len, 50);
      fail_unless_equals_int (d.tos >> 2, 63);
      fail_unless_equals_int (d.ttl, 9);
      fail_unless_equals_int (d.from_port, sport);

      g_object_set (r.sink, "qos-dscp", 10, "ttl", 33, NULL);
      fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                  50)), GST_FLOW_OK);
      d = receive (a);
      fail_unless_equals_int (d.len, 50);
      fail_unless_equals_int (d.tos >> 2, 10);
      fail_unless_equals_int (d.ttl, 33);

      relay_free (&r);
      fail_unless_equals_int (g_socket_is_closed (sock), close_it);
      g_object_unref (sock);
      close (a);
    }
  }
}

GST_END_TEST;

/* Without a socket given: qos-dscp and ttl reach the copies from the
 * stream's socket too; used-socket is that socket (the same port);
 * bind-port binds it. */
GST_START_TEST (test_dscp_own_socket)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    gint pa, port = 0, bport = check_free_port (2);
    int a = receiver (&pa, 2000);
    gchar *props = g_strdup_printf ("qos-dscp=46 ttl=17 bind-port=%d", bport);
    Relay r = relay_new (modes[m], props);
    GSocket *used = NULL;
    GSocketAddress *local;
    Datagram d;

    g_signal_emit_by_name (r.sink, "add", "127.0.0.1", pa);
    relay_play (&r);
    g_object_get (r.sink, "used-socket", &used, "port", &port, NULL);
    fail_unless_equals_int (port, bport);
    fail_unless (used != NULL);
    local = g_socket_get_local_address (used, NULL);
    fail_unless_equals_int (g_inet_socket_address_get_port
        (G_INET_SOCKET_ADDRESS (local)), bport);
    g_object_unref (local);
    g_object_unref (used);
    fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1,
                50)), GST_FLOW_OK);
    d = receive (a);
    fail_unless_equals_int (d.len, 50);
    fail_unless_equals_int (d.tos >> 2, 46);
    fail_unless_equals_int (d.ttl, 17);
    fail_unless_equals_int (d.from_port, bport);
    relay_free (&r);
    g_free (props);
    close (a);
  }
}

GST_END_TEST;

/* A bind-address that is no IPv4 address fails the start, naming it. */
GST_START_TEST (test_bad_bind_address)
{
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    gchar *desc = g_strdup_printf ("appsrc ! ebpfrelaysink mode=%s "
        "rtcp-port=0 bind-address=no.such.host.invalid", modes[m]);

    assert_start_error (desc, "no.such.host.invalid");
    g_free (desc);
  }
}

GST_END_TEST;

#ifdef RELAY_UDP_KERNEL
/* --- the kernel's copies, captured on the veth ------------------------ */

/* A packet socket on ebru1: every IPv4 packet arriving there. */
static int
capture_open (void)
{
  struct sockaddr_ll ll = {.sll_family = AF_PACKET };
  struct timeval tv = {.tv_usec = 500000 };
  int fd = socket (AF_PACKET, SOCK_DGRAM, htons (ETH_P_IP));

  fail_unless (fd >= 0, "packet socket: %s", g_strerror (errno));
  ll.sll_protocol = htons (ETH_P_IP);
  ll.sll_ifindex = if_nametoindex ("ebru1");
  fail_unless (ll.sll_ifindex > 0);
  fail_unless (bind (fd, (struct sockaddr *) &ll, sizeof (ll)) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return fd;
}

/* The next UDP datagram to FAR_HOST:@dport on the capture: its TOS (-1:
 * none came) and payload length. */
static gint
capture_next (int fd, guint16 dport, gsize * len)
{
  guint8 p[2048];

  for (;;) {
    ssize_t n = recv (fd, p, sizeof (p), 0);
    guint ihl;

    if (n < 0)
      return -1;
    ihl = (p[0] & 0xf) * 4;
    if (n < (ssize_t) ihl + 8 || p[9] != IPPROTO_UDP
        || memcmp (p + 16, (guint8[]) {
            10, 202, 0, 2}, 4) != 0 || ((p[ihl + 2] << 8) | p[ihl + 3]) != dport)
      continue;
    *len = n - ihl - 8;
    return p[1];
  }
}

/* Kernel mode: a client the kernel serves (path kernel) gets copies
 * carrying qos-dscp (the loopback socket's TOS, which the kernel's copies
 * keep); added twice it moves to userspace, which sends both copies
 * (send-duplicates), and back to the kernel once removed once. */
static void
record_sent (GstElement * e, const gchar * host, gint port, guint64 * sent)
{
  GstStructure *s = NULL;

  g_signal_emit_by_name (e, "get-stats", host, port, &s);
  fail_unless (gst_structure_get_uint64 (s, "packets-sent", sent));
  gst_structure_free (s);
}

GST_START_TEST (test_kernel_copies)
{
  guint64 removed_sent = 0;
  int cap = capture_open ();
  Relay r = relay_new ("kernel", "qos-dscp=34");
  GstStructure *s = NULL;
  gsize len = 0;
  guint n;

  g_signal_emit_by_name (r.sink, "add", FAR_HOST, 6000);
  relay_play (&r);
  /* wait for its slot to be the kernel's */
  for (n = 0; n < 100; n++) {
    g_signal_emit_by_name (r.sink, "get-stats", FAR_HOST, 6000, &s);
    if (g_strcmp0 (gst_structure_get_string (s, "path"), "kernel") == 0)
      break;
    gst_structure_free (s);
    s = NULL;
    g_usleep (20000);
  }
  fail_unless (s != NULL, "the kernel never served " FAR_HOST);
  gst_structure_free (s);

  fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1, 80)),
      GST_FLOW_OK);
  fail_unless_equals_int (capture_next (cap, 6000, &len) >> 2, 34);
  fail_unless_equals_int (len, 80);
  fail_unless (capture_next (cap, 6000, &len) < 0, "a second copy");
  fail_unless_equals_int (stat_u64 (r.sink, FAR_HOST, 6000,
          "kernel-packets"), 1);

  /* added twice: both copies, from userspace */
  g_signal_emit_by_name (r.sink, "add", FAR_HOST, 6000);
  fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1, 80)),
      GST_FLOW_OK);
  for (n = 0; capture_next (cap, 6000, &len) >= 0; n++)
    fail_unless_equals_int (len, 80);
  fail_unless_equals_int (n, 2);
  fail_unless_equals_int (stat_u64 (r.sink, FAR_HOST, 6000, "packets-sent"),
      3);
  fail_unless_equals_int (u64_prop (r.sink, "bytes-served"), 240);

  /* removed once: the kernel's again, one copy */
  g_signal_emit_by_name (r.sink, "remove", FAR_HOST, 6000);
  for (n = 0; n < 100; n++) {
    g_signal_emit_by_name (r.sink, "get-stats", FAR_HOST, 6000, &s);
    if (g_strcmp0 (gst_structure_get_string (s, "path"), "kernel") == 0)
      break;
    gst_structure_free (s);
    s = NULL;
    g_usleep (20000);
  }
  fail_unless (s != NULL, "not back in the kernel after the remove");
  gst_structure_free (s);
  fail_unless_equals_int (gst_pad_push (r.src, multi_memory_buffer (1, 80)),
      GST_FLOW_OK);
  fail_unless (capture_next (cap, 6000, &len) >= 0);
  fail_unless (capture_next (cap, 6000, &len) < 0, "a second copy");
  fail_unless_equals_int (stat_u64 (r.sink, FAR_HOST, 6000,
          "kernel-packets"), 2);

  /* removed: its get-stats in the handler has the kernel's counts of the
   * slot that went, and bytes-served keeps them */
  g_signal_connect (r.sink, "client-removed", G_CALLBACK (record_sent),
      &removed_sent);
  g_signal_emit_by_name (r.sink, "remove", FAR_HOST, 6000);
  fail_unless_equals_int (removed_sent, 4);
  fail_unless_equals_int (u64_prop (r.sink, "bytes-served"), 320);
  relay_free (&r);
  close (cap);
}

GST_END_TEST;

/* --- relayed packets: the kernel writes qos-dscp and ttl into them ------ */

/* @ifname's MAC address (SIOCGIFHWADDR: /sys shows the namespace it was
 * mounted in, not ours). */
static void
if_mac (const gchar * ifname, guint8 mac[6])
{
  struct ifreq ifr = { 0 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  fail_unless (fd >= 0);
  g_strlcpy (ifr.ifr_name, ifname, sizeof (ifr.ifr_name));
  fail_unless (ioctl (fd, SIOCGIFHWADDR, &ifr) == 0, "%s: %s", ifname,
      g_strerror (errno));
  memcpy (mac, ifr.ifr_hwaddr.sa_data, 6);
  close (fd);
}

static guint32
csum_add (guint32 sum, const guint8 * p, gsize n)
{
  for (gsize i = 0; i + 1 < n; i += 2)
    sum += (p[i] << 8) | p[i + 1];
  if (n & 1)
    sum += p[n - 1] << 8;
  return sum;
}

static guint16
csum_fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/* A sender's UDP datagram of @payload bytes (not RTP: priority 7) from
 * 10.202.0.9:7000 to ebru0's 10.202.0.1:@dport, with @tos and @ttl,
 * sent as a frame out of ebru1: it arrives on ebru0, through the TC
 * ingress hook where the relay's program sits, as a relayed packet does. */
static void
inject (guint16 dport, guint8 tos, guint8 ttl, gsize payload)
{
  struct sockaddr_ll ll = {.sll_family = AF_PACKET,.sll_halen = 6 };
  guint8 f[1514] = { 0 }, *ip = f + 14, *udp = ip + 20, pseudo[12];
  gsize udp_len = 8 + payload, n = 14 + 20 + udp_len;
  int fd = socket (AF_PACKET, SOCK_RAW, 0);
  guint32 sum;

  fail_unless (fd >= 0, "packet socket: %s", g_strerror (errno));
  fail_unless (n <= sizeof (f));
  if_mac ("ebru0", f);
  if_mac ("ebru1", f + 6);
  f[12] = 0x08;
  ip[0] = 0x45;
  ip[1] = tos;
  ip[2] = (20 + udp_len) >> 8;
  ip[3] = (20 + udp_len) & 0xff;
  ip[4] = 0x12;
  ip[8] = ttl;
  ip[9] = IPPROTO_UDP;
  memcpy (ip + 12, (guint8[]) {
      10, 202, 0, 9}, 4);
  memcpy (ip + 16, (guint8[]) {
      10, 202, 0, 1}, 4);
  sum = csum_fold (csum_add (0, ip, 20));
  ip[10] = sum >> 8;
  ip[11] = sum & 0xff;
  udp[0] = 7000 >> 8;
  udp[1] = 7000 & 0xff;
  udp[2] = dport >> 8;
  udp[3] = dport & 0xff;
  udp[4] = udp_len >> 8;
  udp[5] = udp_len & 0xff;
  for (gsize i = 0; i < payload; i++)
    udp[8 + i] = i == 0 ? 0 : i * 7 + 1;
  memcpy (pseudo, ip + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = IPPROTO_UDP;
  pseudo[10] = udp_len >> 8;
  pseudo[11] = udp_len & 0xff;
  sum = csum_fold (csum_add (csum_add (0, pseudo, 12), udp, udp_len));
  if (sum == 0)
    sum = 0xffff;
  udp[6] = sum >> 8;
  udp[7] = sum & 0xff;
  ll.sll_ifindex = if_nametoindex ("ebru1");
  memcpy (ll.sll_addr, f, 6);
  fail_unless (sendto (fd, f, n, 0, (struct sockaddr *) &ll,
          sizeof (ll)) == (ssize_t) n, "inject: %s", g_strerror (errno));
  close (fd);
}

/* Waits until the kernel serves @host:@port (get-stats' path). */
static void
wait_kernel_path (GstElement * relay, const gchar * host, gint port)
{
  GstStructure *s = NULL;

  for (guint n = 0; n < 150; n++) {
    g_signal_emit_by_name (relay, "get-stats", host, port, &s);
    if (s && g_strcmp0 (gst_structure_get_string (s, "path"), "kernel") == 0)
      break;
    if (s)
      gst_structure_free (s);
    s = NULL;
    g_usleep (20000);
  }
  fail_unless (s != NULL, "the kernel never served %s:%d", host, port);
  gst_structure_free (s);
}

/* The copies of one injected datagram (TOS @tos, TTL 200): one to
 * FAR_HOST:6010 with @want_tos and @want_ttl, one to the group
 * 239.1.2.3:6011 with @want_tos and @want_ttl_mc, nothing else to either
 * (read until the capture is quiet). */
static void
check_relayed (int cap, guint16 port, guint8 tos, gint want_tos,
    gint want_ttl, gint want_ttl_mc)
{
  guint n_far = 0, n_group = 0;
  guint8 p[2048];
  ssize_t n;

  inject (port, tos, 200, 60);
  while ((n = recv (cap, p, sizeof (p), 0)) >= 0) {
    guint ihl = (p[0] & 0xf) * 4, dport;
    gboolean group;

    if (n < (ssize_t) ihl + 8 || p[9] != IPPROTO_UDP)
      continue;
    dport = (p[ihl + 2] << 8) | p[ihl + 3];
    group = memcmp (p + 16, (guint8[]) {
        239, 1, 2, 3}, 4) == 0;
    if (!(group && dport == 6011) && !(memcmp (p + 16, (guint8[]) {
                10, 202, 0, 2}, 4) == 0 && dport == 6010))
      continue;
    fail_unless_equals_int (n - ihl - 8, 60);
    fail_unless_equals_int (p[1], want_tos);
    fail_unless_equals_int (p[8], group ? want_ttl_mc : want_ttl);
    if (group)
      n_group++;
    else
      n_far++;
  }
  fail_unless_equals_int (n_far, 1);
  fail_unless_equals_int (n_group, 1);
}

/* udpsrc ! ebpfrelaysink mode=kernel: the kernel's copies of a relayed
 * packet carry qos-dscp with the packet's own ECN bits, ttl (unicast) and
 * ttl-mc (a group); with qos-dscp -1 the TOS the packet came with, the
 * TTL still multiudpsink's (ttl's default 64, not the 200 it came with);
 * changes while PLAYING reach the next packet. */
GST_START_TEST (test_kernel_relayed_dscp_ttl)
{
  gint port = check_free_port (1);
  gchar *desc = g_strdup_printf ("udpsrc port=%d ! ebpfrelaysink name=relay "
      "mode=kernel interfaces=ebru0 rtcp-port=0 qos-dscp=34 ttl=21 "
      "ttl-mc=3 clients=" FAR_HOST ":6010,239.1.2.3:6011", port);
  GstElement *p = gst_parse_launch (desc, NULL), *relay;
  int cap = capture_open ();

  fail_unless (p != NULL, "%s", desc);
  relay = gst_bin_get_by_name (GST_BIN (p), "relay");
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_kernel_path (relay, FAR_HOST, 6010);
  wait_kernel_path (relay, "239.1.2.3", 6011);

  /* ECT(1) in, DSCP 34 written over it */
  check_relayed (cap, port, 0x01, 34 << 2 | 1, 21, 3);
  /* (sent by the kernel, not by userspace) */
  fail_unless_equals_int (stat_u64 (relay, FAR_HOST, 6010, "kernel-packets"),
      1);
  /* changed while PLAYING: -1 keeps the sender's TOS (DSCP 46, ECN 10) */
  g_object_set (relay, "qos-dscp", -1, "ttl", 64, "ttl-mc", 7, NULL);
  check_relayed (cap, port, 0xba, 0xba, 64, 7);
  g_object_set (relay, "qos-dscp", 0, NULL);
  check_relayed (cap, port, 0xbb, 0x03, 64, 7);
  /* every copy of the three, unicast and group, the kernel's */
  fail_unless_equals_int (stat_u64 (relay, FAR_HOST, 6010, "kernel-packets"),
      3);
  fail_unless_equals_int (stat_u64 (relay, "239.1.2.3", 6011,
          "kernel-packets"), 3);

  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (relay);
  gst_object_unref (p);
  g_free (desc);
  close (cap);
}

GST_END_TEST;

/* IPv6 on the veth (main: fd02::1 on ebru0, fd02::2 a permanent
 * neighbour behind ebru1): set up by main; the IPv6 test fails without. */
static gboolean have_v6;

/* As inject, over IPv6: from fd02::9 to fd02::1, traffic class @tc, hop
 * limit @hops, a flow label. */
static void
inject6 (guint16 dport, guint8 tc, guint8 hops, gsize payload)
{
  struct sockaddr_ll ll = {.sll_family = AF_PACKET,.sll_halen = 6 };
  guint8 f[1514] = { 0 }, *ip6 = f + 14, *udp = ip6 + 40, pseudo[40];
  gsize udp_len = 8 + payload, n = 14 + 40 + udp_len;
  int fd = socket (AF_PACKET, SOCK_RAW, 0);
  guint32 sum;

  fail_unless (fd >= 0, "packet socket: %s", g_strerror (errno));
  fail_unless (n <= sizeof (f));
  if_mac ("ebru0", f);
  if_mac ("ebru1", f + 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  ip6[0] = 0x60 | tc >> 4;
  ip6[1] = (tc & 0x0f) << 4 | 0x03;     /* flow label 0x3b1e5 */
  ip6[2] = 0xb1;
  ip6[3] = 0xe5;
  ip6[4] = udp_len >> 8;
  ip6[5] = udp_len & 0xff;
  ip6[6] = IPPROTO_UDP;
  ip6[7] = hops;
  ip6[8] = 0xfd;
  ip6[9] = 0x02;
  ip6[23] = 9;
  ip6[24] = 0xfd;
  ip6[25] = 0x02;
  ip6[39] = 1;
  udp[0] = 7000 >> 8;
  udp[1] = 7000 & 0xff;
  udp[2] = dport >> 8;
  udp[3] = dport & 0xff;
  udp[4] = udp_len >> 8;
  udp[5] = udp_len & 0xff;
  for (gsize i = 0; i < payload; i++)
    udp[8 + i] = i == 0 ? 0 : i * 7 + 1;
  memset (pseudo, 0, sizeof (pseudo));
  memcpy (pseudo, ip6 + 8, 32);
  pseudo[34] = udp_len >> 8;
  pseudo[35] = udp_len & 0xff;
  pseudo[39] = IPPROTO_UDP;
  sum = csum_fold (csum_add (csum_add (0, pseudo, 40), udp, udp_len));
  if (sum == 0)
    sum = 0xffff;
  udp[6] = sum >> 8;
  udp[7] = sum & 0xff;
  ll.sll_ifindex = if_nametoindex ("ebru1");
  memcpy (ll.sll_addr, f, 6);
  fail_unless (sendto (fd, f, n, 0, (struct sockaddr *) &ll,
          sizeof (ll)) == (ssize_t) n, "inject6: %s", g_strerror (errno));
  close (fd);
}

/* udpsrc address=:: ! ebpfrelaysink mode=kernel, an IPv6 subscriber: the
 * kernel's copies of an IPv6 datagram carry qos-dscp in the traffic
 * class (ECN kept, flow label kept) and ttl as hop limit; -1 keeps the
 * class. */
GST_START_TEST (test_kernel_relayed_dscp_ttl6)
{
  gint port = check_free_port (1);
  gchar *desc;
  GstElement *p, *relay;
  struct sockaddr_ll ll = {.sll_family = AF_PACKET };
  struct timeval tv = {.tv_usec = 500000 };
  int cap;

  /* (the namespace is the test's own: IPv6 there is not optional) */
  fail_unless (have_v6, "no IPv6 address or neighbour in the test's "
      "namespace");
  cap = socket (AF_PACKET, SOCK_DGRAM, htons (ETH_P_IPV6));
  fail_unless (cap >= 0);
  ll.sll_protocol = htons (ETH_P_IPV6);
  ll.sll_ifindex = if_nametoindex ("ebru1");
  fail_unless (bind (cap, (struct sockaddr *) &ll, sizeof (ll)) == 0);
  setsockopt (cap, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  desc = g_strdup_printf ("udpsrc address=:: port=%d ! ebpfrelaysink "
      "name=relay mode=kernel interfaces=ebru0 rtcp-port=0 qos-dscp=12 "
      "ttl=33 clients=[fd02::2]:6012", port);
  p = gst_parse_launch (desc, NULL);
  fail_unless (p != NULL, "%s", desc);
  relay = gst_bin_get_by_name (GST_BIN (p), "relay");
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_kernel_path (relay, "fd02::2", 6012);

  for (guint round = 0; round < 2; round++) {
    /* DSCP 46, ECN 01 in; round 1: qos-dscp -1 */
    guint8 tc_in = 0xb9, want = round ? 0xb9 : (12 << 2 | 1), b[2048];
    guint got = 0;
    ssize_t n;

    inject6 (port, tc_in, 200, 40);
    while ((n = recv (cap, b, sizeof (b), 0)) >= 0) {
      guint8 tc = (b[0] & 0x0f) << 4 | b[1] >> 4;

      if (n < 48 || b[6] != IPPROTO_UDP || b[24] != 0xfd || b[39] != 2
          || ((b[42] << 8) | b[43]) != 6012)
        continue;
      fail_unless_equals_int (n, 48 + 40);
      fail_unless_equals_int (tc, want);
      fail_unless_equals_int (b[7], 33);
      /* the flow label as it came */
      fail_unless_equals_int (b[1] & 0x0f, 0x03);
      fail_unless_equals_int (b[2], 0xb1);
      fail_unless_equals_int (b[3], 0xe5);
      got++;
    }
    fail_unless_equals_int (got, 1);
    g_object_set (relay, "qos-dscp", -1, NULL);
  }
  fail_unless_equals_int (stat_u64 (relay, "fd02::2", 6012,
          "kernel-packets"), 2);

  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (relay);
  gst_object_unref (p);
  g_free (desc);
  close (cap);
}

GST_END_TEST;
#endif

static Suite *
ebpfrelaysink_udp_suite (void)
{
  Suite *s = suite_create ("ebpfrelaysink-udp");
  TCase *tc = tcase_create ("udp");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_defaults_are_multiudpsink_defaults);
  tcase_add_test (tc, test_push_no_port);
  tcase_add_test (tc, test_push_list_no_port);
  tcase_add_test (tc, test_memory_layout);
  tcase_add_test (tc, test_empty_buffers);
  tcase_add_test (tc, test_client_add_remove_as_multiudpsink);
  tcase_add_test (tc, test_send_duplicates);
  tcase_add_test (tc, test_dscp_with_socket);
  tcase_add_test (tc, test_dscp_own_socket);
  tcase_add_test (tc, test_bad_bind_address);
#ifdef RELAY_UDP_KERNEL
  tcase_add_test (tc, test_kernel_copies);
  tcase_add_test (tc, test_kernel_relayed_dscp_ttl);
  tcase_add_test (tc, test_kernel_relayed_dscp_ttl6);
#endif
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;

#ifdef RELAY_UDP_KERNEL
  if (geteuid () != 0) {
    g_print ("SKIP: needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)\n");
    return 77;
  }
  /* A private namespace: the veth pair and what is attached to it go away
   * with this process, whatever happens. */
  if (unshare (CLONE_NEWNET) != 0
      || system ("ip link set lo up && "
          "ip link add ebru0 type veth peer name ebru1 && "
          "ip addr add 10.202.0.1/24 dev ebru0 && "
          "ip link set ebru0 up && ip link set ebru1 up && "
          "ip neigh replace 10.202.0.2 lladdr "
          "$(ip -o link show ebru1 | sed 's/.*link.ether \\([^ ]*\\).*/\\1/') "
          "dev ebru0 nud permanent && "
          "ip route add 224.0.0.0/4 dev ebru0")
      != 0) {
    g_print ("SKIP: cannot make a private network namespace with veth\n");
    return 77;
  }
  have_v6 = system ("ip -6 addr add fd02::1/64 dev ebru0 nodad && "
      "ip -6 neigh replace fd02::2 lladdr "
      "$(ip -o link show ebru1 | sed 's/.*link.ether \\([^ ]*\\).*/\\1/') "
      "dev ebru0 nud permanent") == 0;
#else
  /* as root, mode=auto loads BPF: keep it in a namespace of its own */
  if (geteuid () == 0 && (unshare (CLONE_NEWNET) != 0
          || system ("ip link set lo up") != 0)) {
    g_print ("SKIP: cannot make a private network namespace\n");
    return 77;
  }
#endif
  gst_check_init (&argc, &argv);
  s = ebpfrelaysink_udp_suite ();
  return gst_check_run_suite (s, "ebpfrelaysink-udp", __FILE__);
}
