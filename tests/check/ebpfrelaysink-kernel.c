/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelaysink tests that load BPF: attach and detach on state changes,
 * two relays side by side, and the error for an unusable interface. Runs in
 * a private network namespace with its own veth pair; exits 77 (skipped)
 * without root. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "ebpfrelay-bpf.h"
#include "check-start-error.h"
#include "check-anyup.h"

static guint
tcx_progs (const gchar * ifname)
{
  int ifindex = if_nametoindex (ifname);
  __u32 n;

  fail_unless (ifindex > 0, "no %s", ifname);
  if (ebr_bpf_tcx_query (ifindex, EBR_BPF_TCX_INGRESS, NULL, 0, &n) != 0)
    return 0;
  return n;
}

static GstElement *
play (const gchar * tmpl)
{
  /* (its "@X@" are free ports, check_ports) */
  const gchar *desc = check_ports (tmpl);
  GstElement *p = gst_parse_launch (desc, NULL);

  fail_unless (p != NULL);
  /* live: the sink prerolls only with data, so do not wait for PLAYING;
   * the kernel side is set up in NULL -> READY */
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE, "%s did not start", desc);
  return p;
}

static GstStructure *
relay_stats (GstElement * pipeline)
{
  GstElement *relay = gst_bin_get_by_name (GST_BIN (pipeline), "relay");
  GstStructure *s;

  g_object_get (relay, "stats", &s, NULL);
  gst_object_unref (relay);
  return s;
}

GST_START_TEST (test_attach_detach)
{
  GstElement *p;
  GstStructure *s;

  fail_unless_equals_int (tcx_progs ("ebrk0"), 0);
  p = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay mode=kernel "
      "clients=10.201.0.2:6000");
  fail_unless_equals_int (tcx_progs ("ebrk0"), 1);
  fail_unless_equals_int (tcx_progs ("ebrk1"), 1);
  s = relay_stats (p);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), "kernel");
  fail_unless (strstr (gst_structure_get_string (s, "interfaces"),
          "ebrk0 (tcx)") != NULL);
  gst_structure_free (s);

  /* READY -> NULL detaches; NULL -> READY attaches again */
  gst_element_set_state (p, GST_STATE_NULL);
  fail_unless_equals_int (tcx_progs ("ebrk0"), 0);
  gst_element_set_state (p, GST_STATE_READY);
  fail_unless_equals_int (tcx_progs ("ebrk0"), 1);

  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  fail_unless_equals_int (tcx_progs ("ebrk0"), 0);
  fail_unless_equals_int (tcx_progs ("ebrk1"), 0);
}

GST_END_TEST;

GST_START_TEST (test_interfaces_property)
{
  GstElement *p = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay "
      "mode=kernel interfaces=ebrk1");

  fail_unless_equals_int (tcx_progs ("ebrk0"), 0);
  fail_unless_equals_int (tcx_progs ("ebrk1"), 1);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  fail_unless_equals_int (tcx_progs ("ebrk1"), 0);
}

GST_END_TEST;

GST_START_TEST (test_two_relays)
{
  GstElement *a = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay "
      "mode=kernel");
  GstElement *b = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay "
      "mode=kernel");

  fail_unless_equals_int (tcx_progs ("ebrk0"), 2);
  gst_element_set_state (a, GST_STATE_NULL);
  fail_unless_equals_int (tcx_progs ("ebrk0"), 1);
  gst_element_set_state (b, GST_STATE_NULL);
  fail_unless_equals_int (tcx_progs ("ebrk0"), 0);
  gst_object_unref (a);
  gst_object_unref (b);
}

GST_END_TEST;

/* The packet cache needs the originals: with pass-original=false an
 * explicit nack-cache fails start naming both properties; the default is
 * then off, and on with pass-original=true. */
GST_START_TEST (test_nack_cache_needs_originals)
{
  gchar *t = expect_start_error (check_ports ("udpsrc port=@A@ ! "
          "ebpfrelaysink mode=kernel pass-original=false nack-cache=512"));
  GstElement *p;
  GstStructure *s;
  gboolean active = TRUE;

  fail_unless (strstr (t, "nack-cache") && strstr (t, "pass-original"),
      "error '%s' does not name both properties", t);
  g_free (t);

  p = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay mode=kernel "
      "pass-original=false");
  s = relay_stats (p);
  fail_unless (gst_structure_get_boolean (s, "nack-cache-active", &active));
  fail_if (active, "a cache without the originals");
  gst_structure_free (s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

  p = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay mode=kernel");
  s = relay_stats (p);
  fail_unless (gst_structure_get_boolean (s, "nack-cache-active", &active));
  fail_unless (active, "no cache with pass-original=true");
  gst_structure_free (s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

GST_END_TEST;

/* The key-frame cache needs the originals too: keyframe-cache=true with
 * pass-original=false fails start naming both properties; with
 * pass-original=true it runs. */
GST_START_TEST (test_keyframe_cache_needs_originals)
{
  gchar *t = expect_start_error (check_ports ("udpsrc port=@A@ ! "
          "ebpfrelaysink mode=kernel pass-original=false keyframe-cache=true"));
  GstElement *p;
  GstStructure *s;
  gboolean on = FALSE;

  fail_unless (strstr (t, "keyframe-cache") && strstr (t, "pass-original"),
      "error '%s' does not name both properties", t);
  g_free (t);

  p = play ("udpsrc port=@A@ ! ebpfrelaysink name=relay mode=kernel "
      "keyframe-cache=true");
  s = relay_stats (p);
  fail_unless (gst_structure_get_boolean (s, "keyframe-cache", &on));
  fail_unless (on, "no key-frame cache with pass-original=true");
  gst_structure_free (s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

GST_END_TEST;

GST_START_TEST (test_kernel_mode_errors)
{
  GstElement *p = gst_parse_launch (check_ports ("udpsrc port=@A@ ! "
          "ebpfrelaysink mode=kernel interfaces=nosuchif1"), NULL);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;
  GError *err = NULL;

  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  m = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  gst_message_parse_error (m, &err, NULL);
  fail_unless (strstr (err->message, "nosuchif1") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}

GST_END_TEST;

/* Any upstream in kernel mode (auto and kernel): the program sits on lo
 * only, each buffer goes there once (local-sent = kernel-local), the
 * subscribers at 127.0.0.1 (this host: USERSPACE slots) get every buffer
 * through the kernel's events; lists too. Detached at stop. */
GST_START_TEST (test_any_upstream_kernel)
{
  const gchar *modes[] = { "mode=auto", "mode=kernel" };
  gchar *w = NULL;

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    for (guint lists = 0; lists < 2; lists++) {
      GstStructure *s = anyup_deliver (modes[m], 30, 200, lists, &w);
      const GValue *clients;

      fail_unless_equals_string (gst_structure_get_string (s, "mode"),
          "kernel");
      fail_unless_equals_string (gst_structure_get_string (s, "interfaces"),
          "lo (tcx)");
      fail_unless_equals_int (anyup_u64 (s, "local-sent"), 30);
      fail_unless_equals_int (anyup_u64 (s, "kernel-local"), 30);
      fail_unless_equals_int (anyup_u64 (s, "local-userspace"), 0);
      fail_unless_equals_int (anyup_u64 (s, "kernel-events"), 30);
      clients = gst_structure_get_value (s, "clients");
      fail_unless_equals_int (gst_value_array_get_size (clients), 2);
      for (guint i = 0; i < 2; i++) {
        const GstStructure *c =
            gst_value_get_structure (gst_value_array_get_value (clients, i));

        fail_unless_equals_int (anyup_u64 (c, "user-packets"), 30);
        fail_unless_equals_int (anyup_u64 (c, "kernel-packets"), 0);
      }
      fail_unless (w == NULL, "warning: %s", w);
      gst_structure_free (s);
      fail_unless_equals_int (tcx_progs ("lo"), 0);
    }
  }
}

GST_END_TEST;

/* A buffer larger than the egress MTU (veth: 1500) is not cloned: the
 * kernel leaves it to userspace for every slot (kernel-local-mtu); one
 * too large for the kernel's event is sent from userspace at once, with
 * one warning. Both arrive whole. */
GST_START_TEST (test_any_upstream_large)
{
  gchar *w = NULL;
  GstStructure *s = anyup_deliver ("mode=kernel", 3, 4000, FALSE, &w);

  fail_unless_equals_int (anyup_u64 (s, "local-sent"), 3);
  fail_unless_equals_int (anyup_u64 (s, "kernel-local-mtu"), 3);
  fail_unless (w == NULL, "warning: %s", w);
  gst_structure_free (s);

  s = anyup_deliver ("mode=kernel", 2, 61000, FALSE, &w);
  fail_unless_equals_int (anyup_u64 (s, "local-sent"), 0);
  fail_unless_equals_int (anyup_u64 (s, "local-userspace"), 2);
  fail_unless (w != NULL && strstr (w, "61000 bytes") != NULL,
      "no warning for a buffer userspace sent: %s", GST_STR_NULL (w));
  g_free (w);
  gst_structure_free (s);
}

GST_END_TEST;

/* udpsrc ! queue ! ebpfrelaysink (and through a tee): the udpsrc is
 * found through the chain, the ingress path stays (the veths, not lo). */
GST_START_TEST (test_udpsrc_through_queue)
{
  const gchar *descs[] = {
    "udpsrc port=@A@ ! queue ! ebpfrelaysink name=relay mode=kernel",
    "udpsrc port=@A@ ! tee ! queue ! capsfilter ! identity ! "
        "ebpfrelaysink name=relay mode=kernel",
  };

  for (guint i = 0; i < G_N_ELEMENTS (descs); i++) {
    GstElement *p = play (descs[i]);
    GstStructure *s = relay_stats (p);
    gboolean local = TRUE;

    fail_unless_equals_int (tcx_progs ("ebrk0"), 1);
    fail_unless_equals_int (tcx_progs ("lo"), 0);
    fail_unless (gst_structure_get_boolean (s, "local", &local));
    fail_if (local, "%s: taken for a local stream", descs[i]);
    gst_structure_free (s);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (p);
  }
}

GST_END_TEST;

/* Kernel mode, buffers that did not come through the TC hook (here: a
 * harness, no sender address): sent once to the kernel on lo
 * (ebpfrelay-local, which superseded the userspace fallback with its
 * warning), delivered, no warning (before: counted in buffers-in and sent
 * to nobody). With sources set, such a buffer has no sender that may
 * publish: refused. */
GST_START_TEST (test_unhooked_buffers_sent)
{
  GstHarness *h = gst_harness_new_parse (check_ports ("ebpfrelaysink "
          "port=@A@ rtcp-port=0 mode=kernel"));
  GstElement *sink = gst_harness_find_element (h, "ebpfrelaysink");
  GstBus *bus = gst_bus_new ();
  struct sockaddr_in a = {.sin_family = AF_INET };
  struct timeval tv = {.tv_sec = 2 };
  socklen_t alen = sizeof (a);
  GstStructure *s;
  GstMessage *m;
  guint8 buf[64];
  guint64 v = 0;
  int fd = socket (AF_INET, SOCK_DGRAM, 0), i, warnings = 0;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &alen) == 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  gst_element_set_bus (sink, bus);
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  g_signal_emit_by_name (sink, "add", "127.0.0.1", ntohs (a.sin_port));
  gst_harness_play (h);
  for (i = 0; i < 5; i++) {
    gchar msg[16];

    g_snprintf (msg, sizeof (msg), "unhooked %d", i);
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_memdup (msg, strlen (msg))), GST_FLOW_OK);
  }
  for (i = 0; i < 5; i++) {
    gchar want[16];
    ssize_t n = recv (fd, buf, sizeof (buf) - 1, 0);

    g_snprintf (want, sizeof (want), "unhooked %d", i);
    fail_unless (n > 0, "buffer %d not received", i);
    buf[n] = '\0';
    fail_unless_equals_string ((gchar *) buf, want);
  }
  g_object_get (sink, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), "kernel");
  fail_unless (gst_structure_get_uint64 (s, "local-sent", &v));
  fail_unless_equals_int (v, 5);
  gst_structure_free (s);
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (m, &err, NULL);
    if (strstr (err->message, "did not come through the kernel hook"))
      warnings++;
    g_error_free (err);
    gst_message_unref (m);
  }
  fail_unless_equals_int (warnings, 0);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_harness_teardown (h);

  /* sources set: refused, nothing sent */
  h = gst_harness_new_parse (check_ports ("ebpfrelaysink port=@A@ "
          "rtcp-port=0 mode=kernel sources=10.201.0.1"));
  sink = gst_harness_find_element (h, "ebpfrelaysink");
  gst_harness_set_src_caps_str (h, "application/x-rtp");
  g_signal_emit_by_name (sink, "add", "127.0.0.1", ntohs (a.sin_port));
  gst_harness_play (h);
  gst_harness_push (h, gst_buffer_new_memdup ("refused", 7));
  tv.tv_sec = 0;
  tv.tv_usec = 300000;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  fail_unless (recv (fd, buf, sizeof (buf), 0) < 0, "a refused buffer sent");
  g_object_get (sink, "stats", &s, NULL);
  fail_unless (gst_structure_get_uint64 (s, "rejected-no-sender", &v));
  fail_unless_equals_int (v, 1);
  gst_structure_free (s);
  gst_object_unref (sink);
  gst_harness_teardown (h);
  close (fd);
}

GST_END_TEST;

static Suite *
ebpfrelaysink_kernel_suite (void)
{
  Suite *s = suite_create ("ebpfrelaysink-kernel");
  TCase *tc = tcase_create ("kernel");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_attach_detach);
  tcase_add_test (tc, test_interfaces_property);
  tcase_add_test (tc, test_two_relays);
  tcase_add_test (tc, test_kernel_mode_errors);
  tcase_add_test (tc, test_nack_cache_needs_originals);
  tcase_add_test (tc, test_any_upstream_kernel);
  tcase_add_test (tc, test_any_upstream_large);
  tcase_add_test (tc, test_udpsrc_through_queue);
  tcase_add_test (tc, test_keyframe_cache_needs_originals);
  tcase_add_test (tc, test_unhooked_buffers_sent);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;

  if (geteuid () != 0) {
    g_print ("SKIP: needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)\n");
    return 77;
  }
  /* A private namespace: the veth pair and anything attached to it go away
   * with this process, whatever happens. */
  if (unshare (CLONE_NEWNET) != 0
      || system ("ip link set lo up && "
          "ip link add ebrk0 type veth peer name ebrk1 && "
          "ip addr add 10.201.0.1/24 dev ebrk0 && "
          "ip addr add 10.201.0.3/24 dev ebrk1 && "
          "ip link set ebrk0 up && ip link set ebrk1 up") != 0) {
    g_print ("SKIP: cannot make a private network namespace with veth\n");
    return 77;
  }
  /* check forks each test by default; keep them in this namespace anyway */
  gst_check_init (&argc, &argv);
  s = ebpfrelaysink_kernel_suite ();
  return gst_check_run_suite (s, "ebpfrelaysink-kernel", __FILE__);
}
