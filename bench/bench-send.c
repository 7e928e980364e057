/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-send: paced UDP sender for the benchmarks. Each datagram carries a
 * sequence number and its send time (bench-record.h).
 *
 *   bench-send HOST PORT [--rate PPS] [--duration S] [--count N]
 *              [--size BYTES] [--rtp] [--pt N] [--ssrc N] [--sport PORT]
 *              [--first-seq S] [--connect]
 *
 * Sends --count datagrams (default: rate x duration) of --size bytes
 * (default 1200) to HOST:PORT (HOST an IPv4 or IPv6 address) at --rate per second (default 2000), on an
 * absolute schedule: after a late wake-up it sends what is due at once
 * rather than drift, and reports the rate it really achieved. It stops
 * after --duration + 2 s whatever happens. --rtp puts a 12-byte RTP header
 * (version 2, payload type --pt, default 96, 90 kHz timestamps from the
 * send time) before the record: mock RTP with no codec. Sequence numbers
 * start at --first-seq (default 0; a warm-up beyond the receivers' range is
 * not counted by them). --connect: the socket is connected to HOST:PORT
 * and sends with send() (its route looked up once, cached in the socket)
 * instead of sendto() on an unconnected socket, as GStreamer's udpsink
 * and ffmpeg send by default (a route look-up per datagram, which costs
 * IPv6 more than IPv4).
 *
 * Prints one line on stdout (cpu_ns: its own user + system time, which
 * includes the softirq work the kernel did in its context):
 *   sent=N errors=E seconds=T rate=PPS late_max_us=L cpu_ns=C
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench-record.h"
#include "tool-util.h"

static void
usage (void)
{
  fprintf (stderr, "usage: bench-send HOST PORT [--rate PPS] [--duration S] "
      "[--count N] [--size BYTES] [--rtp] [--pt N] [--ssrc N] "
      "[--sport PORT] [--first-seq S] [--connect]\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  double rate = 2000, duration = -1, count_arg = -1;
  size_t size = 1200;
  int rtp = 0, pt = 96, sport = 0;
  uint32_t ssrc = 0x45425242;
  ToolAddr dst;
  uint8_t buf[65536];
  uint64_t count, i = 0, first_seq = 0, errors = 0, t0, t_end_hard, late_max = 0;
  double period_ns;
  int fd, a, connected = 0;

  if (argc < 3)
    usage ();
  if (tool_addr (&dst, argv[1], (int) tool_num ("PORT", argv[2], 1,
              65535))) {
    fprintf (stderr, "bench-send: '%s' is not an IPv4 or IPv6 address\n",
        argv[1]);
    return 2;
  }
  for (a = 3; a < argc; a++) {
    const char *o = argv[a];
    if (!strcmp (o, "--rtp")) {
      rtp = 1;
      continue;
    }
    if (!strcmp (o, "--connect")) {
      connected = 1;
      continue;
    }
    if (a + 1 >= argc)
      usage ();
    if (!strcmp (o, "--rate"))
      rate = tool_real ("--rate", argv[++a], 1, 10e6);
    else if (!strcmp (o, "--duration"))
      duration = tool_real ("--duration", argv[++a], 0.001, 3600);
    else if (!strcmp (o, "--count"))
      count_arg = tool_num ("--count", argv[++a], 1, 10000000000ll);
    else if (!strcmp (o, "--size"))
      size = (size_t) tool_num ("--size", argv[++a], 0, 65000);
    else if (!strcmp (o, "--pt"))
      pt = (int) tool_num ("--pt", argv[++a], 0, 127);
    else if (!strcmp (o, "--ssrc"))
      ssrc = (uint32_t) tool_num ("--ssrc", argv[++a], 0, 4294967295ll);
    else if (!strcmp (o, "--first-seq"))
      first_seq = (uint64_t) tool_num ("--first-seq", argv[++a], 0,
          1000000000000000000ll);
    else if (!strcmp (o, "--sport"))
      sport = (int) tool_num ("--sport", argv[++a], 0, 65535);
    else
      usage ();
  }
  if (duration < 0 && count_arg < 0)
    duration = 5;
  if (count_arg < 0)
    count_arg = rate * duration;
  count = (uint64_t) count_arg;
  if (duration < 0)
    duration = count / rate;
  if (size < (size_t) BENCH_REC_LEN + (rtp ? BENCH_RTP_LEN : 0))
    size = BENCH_REC_LEN + (rtp ? BENCH_RTP_LEN : 0);

  fd = socket (dst.u.sa.sa_family, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror ("bench-send: socket");
    return 1;
  }
  if (sport) {
    ToolAddr src;

    tool_addr_any (&src, &dst, sport);
    if (bind (fd, &src.u.sa, src.len) < 0) {
      perror ("bench-send: bind");
      return 1;
    }
  }
  {
    int sz = 4 << 20;
    setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof (sz));
  }
  if (connected && connect (fd, &dst.u.sa, dst.len) < 0) {
    perror ("bench-send: connect");
    return 1;
  }
  /* Wake-ups as exact as the kernel can make them. */
  prctl (PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  tool_catch_stop ();

  memset (buf, 0, sizeof (buf));
  for (size_t k = 0; k < size; k++)
    buf[k] = (uint8_t) (k * 7);
  {
    uint8_t *rec = buf + (rtp ? BENCH_RTP_LEN : 0);
    tool_put32 (rec, BENCH_MAGIC);
    tool_put32 (rec + 4, rtp ? BENCH_FLAG_RTP : 0);
  }
  if (rtp) {
    buf[0] = 0x80;
    buf[1] = (uint8_t) pt;
    tool_put32 (buf + 8, ssrc);
  }

  period_ns = 1e9 / rate;
  t0 = tool_mono_ns ();
  t_end_hard = t0 + (uint64_t) ((duration + 2) * 1e9);
  while (i < count && !tool_stop) {
    uint64_t now = tool_mono_ns ();
    uint64_t due = t0 + (uint64_t) (i * period_ns);

    if (now >= t_end_hard)
      break;
    if (due > now) {
      struct timespec ts = {.tv_sec = due / 1000000000ull,.tv_nsec =
            due % 1000000000ull
      };
      clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      continue;
    }
    if (now - due > late_max)
      late_max = now - due;
    {
      uint8_t *rec = buf + (rtp ? BENCH_RTP_LEN : 0);
      uint64_t tx = tool_clock_ns (CLOCK_REALTIME);
      ssize_t r;

      bench_put64 (rec + 8, first_seq + i);
      bench_put64 (rec + 16, tx);
      if (rtp) {
        buf[1] = (uint8_t) pt | 0x80;   /* marker: every datagram a "frame" */
        buf[2] = (uint8_t) ((first_seq + i) >> 8);
        buf[3] = (uint8_t) (first_seq + i);
        tool_put32 (buf + 4, (uint32_t) (tx / 100000 * 9));  /* 90 kHz */
      }
      r = connected ? send (fd, buf, size, 0) :
          sendto (fd, buf, size, 0, &dst.u.sa, dst.len);
      if (r < 0) {
        if (errno == EINTR)
          continue;
        errors++;
        /* The same sequence number again at the next turn. */
        if (errors > count + 1000)
          break;
        continue;
      }
    }
    i++;
  }
  {
    double secs = (tool_mono_ns () - t0) / 1e9;
    /* The achieved rate is over the sending interval: (n-1) periods. */
    double achieved = i > 1 ? (i - 1) / (secs > 0 ? secs : 1) : 0;
    struct rusage ru;

    getrusage (RUSAGE_SELF, &ru);
    printf ("sent=%llu errors=%llu seconds=%.3f rate=%.0f late_max_us=%.0f "
        "cpu_ns=%llu\n", (unsigned long long) i, (unsigned long long) errors,
        secs, achieved, late_max / 1e3,
        (unsigned long long) ((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
            1000000000ull + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) *
            1000ull));
  }
  close (fd);
  return 0;
}
