/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-server: the server case of bench/run.sh (issue 13, bench): a
 * process that makes its own RTP stream (mock: no encoder, appsrc) and
 * fans it out through a sink.
 *
 *   bench-server --sink "ebpfrelaysink mode=kernel clients=..." \
 *                [--rate R] [--seconds S] [--size BYTES]
 *
 * Builds `appsrc ! SINK` (appsrc is-live, caps application/x-rtp with
 * payload 96, no codec: priority 7, never dropped), and pushes R buffers a
 * second for S seconds, paced to absolute deadlines: each a 12-byte RTP
 * header (PT 96, sequence number, RTP timestamp at 90 kHz, one SSRC) then
 * the bench record (bench-record.h) with CLOCK_REALTIME taken just before
 * the push, so bench-recv's delay is push -> the subscriber socket's
 * receive timestamp. Prints, after the last buffer and 0.3 s to drain:
 *   sent=N seconds=T cpu_ns=C utime_ns=U stime_ns=S ksoftirqd_ns=K
 * cpu_ns: the process's on-CPU time over the sending window, every
 * thread (/proc/self/task/x/schedstat; exact); utime/stime: getrusage
 * (their split is tick-sampled); ksoftirqd_ns: the ksoftirqd/N threads'
 * on-CPU time over the window (softirq work the kernel deferred out of
 * the sending process; machine-wide, so others' too). This kernel has no
 * IRQ_TIME_ACCOUNTING: softirq work done in the process's context (the
 * TC program on lo, the clones' transmit, the veth receive it triggers)
 * is in its cpu_ns.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <gst/gst.h>

#include "bench-record.h"
#include "tool-util.h"

static unsigned long long
schedstat_sum (const char *dir)
{
  unsigned long long sum = 0, v;
  DIR *d = opendir (dir);
  struct dirent *e;
  char path[512];

  while (d && (e = readdir (d))) {
    FILE *f;

    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof (path), "%s/%s/schedstat", dir, e->d_name);
    f = fopen (path, "r");
    if (f && fscanf (f, "%llu", &v) == 1)
      sum += v;
    if (f)
      fclose (f);
  }
  if (d)
    closedir (d);
  return sum;
}

/* On-CPU ns of every ksoftirqd/N thread. */
static unsigned long long
ksoftirqd_ns (void)
{
  unsigned long long sum = 0, v;
  DIR *d = opendir ("/proc");
  struct dirent *e;
  char path[300], comm[64];

  while (d && (e = readdir (d))) {
    FILE *f;

    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    snprintf (path, sizeof (path), "/proc/%s/comm", e->d_name);
    f = fopen (path, "r");
    if (!f)
      continue;
    if (!fgets (comm, sizeof (comm), f) || strncmp (comm, "ksoftirqd/", 10)) {
      fclose (f);
      continue;
    }
    fclose (f);
    snprintf (path, sizeof (path), "/proc/%s/schedstat", e->d_name);
    f = fopen (path, "r");
    if (f && fscanf (f, "%llu", &v) == 1)
      sum += v;
    if (f)
      fclose (f);
  }
  if (d)
    closedir (d);
  return sum;
}

static unsigned long long
tv_ns (struct timeval tv)
{
  return (unsigned long long) tv.tv_sec * 1000000000ull + tv.tv_usec * 1000ull;
}

int
main (int argc, char **argv)
{
  const char *sink = NULL;
  double rate = 2000, seconds = 3;
  size_t size = 1200;
  GstElement *p, *src;
  GError *err = NULL;
  gchar *desc;
  unsigned long long cpu0, cpu1, ks0, ks1, n, i;
  struct rusage r0, r1;
  uint64_t t0, next, t_end;
  int a;

  gst_init (&argc, &argv);
  for (a = 1; a + 1 < argc; a += 2) {
    if (!strcmp (argv[a], "--sink"))
      sink = argv[a + 1];
    else if (!strcmp (argv[a], "--rate"))
      rate = tool_real ("--rate", argv[a + 1], 1, 1e6);
    else if (!strcmp (argv[a], "--seconds"))
      seconds = tool_real ("--seconds", argv[a + 1], 0.1, 600);
    else if (!strcmp (argv[a], "--size"))
      size = (size_t) tool_num ("--size", argv[a + 1],
          BENCH_RTP_LEN + BENCH_REC_LEN, 65000);
    else
      break;
  }
  if (!sink || a < argc) {
    fprintf (stderr, "usage: bench-server --sink SINK-DESCRIPTION "
        "[--rate R] [--seconds S] [--size BYTES]\n");
    return 2;
  }
  desc = g_strdup_printf ("appsrc name=src is-live=true format=time "
      "caps=application/x-rtp,media=application,payload=96,"
      "clock-rate=90000 ! %s", sink);
  p = gst_parse_launch (desc, &err);
  if (!p) {
    fprintf (stderr, "bench-server: %s\n", err->message);
    return 2;
  }
  src = gst_bin_get_by_name (GST_BIN (p), "src");
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE
      || gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND) ==
      GST_STATE_CHANGE_FAILURE) {
    fprintf (stderr, "bench-server: the pipeline did not start: %s\n", desc);
    return 1;
  }
  printf ("playing\n");
  fflush (stdout);
  prctl (PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  g_usleep (300000);            /* the sink's threads settle */

  n = (unsigned long long) (rate * seconds);
  cpu0 = schedstat_sum ("/proc/self/task");
  ks0 = ksoftirqd_ns ();
  getrusage (RUSAGE_SELF, &r0);
  t0 = next = tool_clock_ns (CLOCK_MONOTONIC);
  for (i = 0; i < n; i++) {
    struct timespec ts;
    GstFlowReturn ret;
    GstBuffer *b;
    GstMapInfo m;

    ts.tv_sec = next / 1000000000ull;
    ts.tv_nsec = next % 1000000000ull;
    clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    b = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_map (b, &m, GST_MAP_WRITE);
    memset (m.data, 0, size);
    m.data[0] = 0x80;
    m.data[1] = 96;
    m.data[2] = (guint8) (i >> 8);
    m.data[3] = (guint8) i;
    tool_put32 (m.data + 4, (uint32_t) (i * 90000 / rate));
    tool_put32 (m.data + 8, 0x5eed);
    tool_put32 (m.data + BENCH_RTP_LEN, BENCH_MAGIC);
    tool_put32 (m.data + BENCH_RTP_LEN + 4, BENCH_FLAG_RTP);
    bench_put64 (m.data + BENCH_RTP_LEN + 8, i);
    bench_put64 (m.data + BENCH_RTP_LEN + 16,
        tool_clock_ns (CLOCK_REALTIME));
    gst_buffer_unmap (b, &m);
    g_signal_emit_by_name (src, "push-buffer", b, &ret);
    gst_buffer_unref (b);
    if (ret != GST_FLOW_OK) {
      fprintf (stderr, "bench-server: push-buffer: %s\n",
          gst_flow_get_name (ret));
      break;
    }
    next = t0 + (uint64_t) ((i + 1) * 1e9 / rate);
  }
  t_end = tool_clock_ns (CLOCK_MONOTONIC);
  g_usleep (300000);            /* events and copies still in flight */
  cpu1 = schedstat_sum ("/proc/self/task");
  ks1 = ksoftirqd_ns ();
  getrusage (RUSAGE_SELF, &r1);
  printf ("sent=%llu seconds=%.3f cpu_ns=%llu utime_ns=%llu stime_ns=%llu "
      "ksoftirqd_ns=%llu\n", i, (t_end - t0) / 1e9, cpu1 - cpu0,
      tv_ns (r1.ru_utime) - tv_ns (r0.ru_utime),
      tv_ns (r1.ru_stime) - tv_ns (r0.ru_stime), ks1 - ks0);
  {
    GstElement *relay = gst_bin_get_by_name (GST_BIN (p), "relay");
    GstStructure *s = NULL;

    if (relay && g_object_class_find_property (G_OBJECT_GET_CLASS (relay),
            "stats"))
      g_object_get (relay, "stats", &s, NULL);
    if (s) {
      guint64 ls = 0, kl = 0, lu = 0;

      gst_structure_get_uint64 (s, "local-sent", &ls);
      gst_structure_get_uint64 (s, "kernel-local", &kl);
      gst_structure_get_uint64 (s, "local-userspace", &lu);
      printf ("relay local-sent=%" G_GUINT64_FORMAT " kernel-local=%"
          G_GUINT64_FORMAT " local-userspace=%" G_GUINT64_FORMAT "\n", ls,
          kl, lu);
      gst_structure_free (s);
    }
    g_clear_object (&relay);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (p);
  g_free (desc);
  return 0;
}
