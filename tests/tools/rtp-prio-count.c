/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtp-prio-count: receives RTP on a UDP port and counts the datagrams per
 * priority, classified with bpf/priority.h (the relay's own code), for the
 * end-to-end tests: what a subscriber at limit L should get is the sum of
 * the counts of priorities >= L.
 *
 *   rtp-prio-count [-p PT] [-f FM_ID] [-i IDLE_MS] [-w WAIT_S] PORT
 *
 *   -p PT       payload type that is H.264 (default 96; -1: none)
 *   -f FM_ID    RFC 9626 frame marking extension id (default 1; 0: none)
 *   -i IDLE_MS  stop once no datagram came for IDLE_MS after the first
 *               (default 2000)
 *   -w WAIT_S   stop after WAIT_S seconds in all (default 60)
 *
 * Binds [::]:PORT, IPv6 and IPv4 (0.0.0.0:PORT where the host has no
 * IPv6), prints "ready" on stderr, receives with recvmmsg until
 * idle (or SIGINT/SIGTERM, or WAIT_S), then prints one line on stdout:
 *   packets=N bytes=B not-rtp=X p0=.. p7=.. ge0=.. ge7=..
 * (pK: datagrams of priority K; geK: of priority >= K). Exit 0, or 1 when
 * it received nothing, 2 on usage or socket errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "priority.h"
#include "tool-util.h"

#define BATCH 64
#define MAX_DGRAM 65536

static void
usage (void)
{
  fprintf (stderr, "usage: rtp-prio-count [-p PT] [-f FM_ID] [-i IDLE_MS] "
      "[-w WAIT_S] PORT\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  long pt = 96, fm_id = 1, idle_ms = 2000, wait_s = 60, port;
  uint8_t codec[PRIO_N_PT] = { 0 };
  uint64_t count[PRIO_MAX + 1] = { 0 }, packets = 0, bytes = 0, not_rtp = 0,
      ge;
  struct prio_vp8_state vp8 = { 0 };
  static uint8_t bufs[BATCH][MAX_DGRAM];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  ToolAddr addr;
  int64_t start, last = 0;
  int opt, fd, i, one = 1, rcvbuf = 4 << 20;

  while ((opt = getopt (argc, argv, "p:f:i:w:")) != -1) {
    switch (opt) {
      case 'p':
        pt = tool_num ("-p", optarg, -1, PRIO_N_PT - 1);
        break;
      case 'f':
        fm_id = tool_num ("-f", optarg, 0, 255);
        break;
      case 'i':
        idle_ms = tool_num ("-i", optarg, 1, 3600000);
        break;
      case 'w':
        wait_s = tool_num ("-w", optarg, 1, 86400);
        break;
      default:
        usage ();
    }
  }
  if (optind != argc - 1)
    usage ();
  port = tool_num ("PORT", argv[optind], 1, 65535);
  if (pt >= 0)
    codec[pt] = PRIO_CODEC_H264;

  tool_catch_stop ();

  /* dual stack: a v6 socket with V6ONLY off takes both families */
  tool_addr (&addr, "::", (int) port);
  fd = socket (AF_INET6, SOCK_DGRAM, 0);
  if (fd >= 0) {
    int off = 0;
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof (off));
  } else {
    tool_addr (&addr, "0.0.0.0", (int) port);
    fd = socket (AF_INET, SOCK_DGRAM, 0);
  }
  if (fd < 0) {
    perror ("rtp-prio-count: socket");
    return 2;
  }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  /* Best effort: a large buffer, so a descheduled receiver loses nothing. */
  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof (rcvbuf)))
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
  if (bind (fd, &addr.u.sa, addr.len)) {
    fprintf (stderr, "rtp-prio-count: bind port %ld: %s\n", port,
        strerror (errno));
    return 2;
  }
  fprintf (stderr, "ready\n");

  for (i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = MAX_DGRAM;
  }
  start = (int64_t) tool_mono_ms ();
  while (!tool_stop) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    int64_t t = (int64_t) tool_mono_ms (), deadline = start + wait_s * 1000;
    int n, timeout;

    if (packets && last + idle_ms < deadline)
      deadline = last + idle_ms;
    if (t >= deadline)
      break;
    timeout = (int) (deadline - t);
    if (timeout > 200)
      timeout = 200;            /* to see signals */
    n = poll (&pfd, 1, timeout);
    if (n < 0 && errno != EINTR) {
      perror ("rtp-prio-count: poll");
      return 2;
    }
    if (n <= 0)
      continue;
    memset (msgs, 0, sizeof (msgs));
    for (i = 0; i < BATCH; i++) {
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    n = recvmmsg (fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR)
        continue;
      perror ("rtp-prio-count: recvmmsg");
      return 2;
    }
    last = (int64_t) tool_mono_ms ();
    for (i = 0; i < n; i++) {
      uint32_t len = msgs[i].msg_len, ssrc;
      struct prio_info info;

      /* One SSRC's VP8 state is enough here: H.264 needs none. */
      (void) prio_wants_vp8_state (bufs[i], len, codec, &ssrc);
      prio_classify (bufs[i], len < PRIO_BUF_LEN ? len : PRIO_BUF_LEN, len,
          codec, (uint8_t) fm_id, &vp8, &info);
      count[info.priority & PRIO_MAX]++;
      if (!prio_is_rtp (&info))
        not_rtp++;
      packets++;
      bytes += len;
    }
  }
  close (fd);

  printf ("packets=%llu bytes=%llu not-rtp=%llu", (unsigned long long) packets,
      (unsigned long long) bytes, (unsigned long long) not_rtp);
  for (i = 0; i <= PRIO_MAX; i++)
    printf (" p%d=%llu", i, (unsigned long long) count[i]);
  for (i = 0; i <= PRIO_MAX; i++) {
    int k;

    for (ge = 0, k = i; k <= PRIO_MAX; k++)
      ge += count[k];
    printf (" ge%d=%llu", i, (unsigned long long) ge);
  }
  printf ("\n");
  return packets ? 0 : 1;
}
