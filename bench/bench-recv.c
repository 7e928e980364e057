/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-recv: the benchmarks' receiver, and the merge of what several
 * receivers saw.
 *
 *   bench-recv recv --ports LIST --max-seq N --out FILE
 *                   [--idle-ms MS] [--timeout S] [--bind ADDR]
 *                   [--nack HOST:PORT --nack-sport-offset OFF]
 *       One UDP socket per port of LIST ("6000-6249,7000"), all in one
 *       epoll, read with recvmmsg. For every datagram carrying a bench
 *       record (bench-record.h): delay = the socket's kernel receive
 *       timestamp (SO_TIMESTAMPNS) - the send time in the record (both
 *       CLOCK_REALTIME, same host); sequence numbers >= N are counted as
 *       out of range. Stops on SIGINT/SIGTERM, IDLE_MS (default 3000)
 *       after the last datagram, or after --timeout S (default 600).
 *       Writes FILE: one summary line, one "P port unique" line per port,
 *       then the delay histogram ("H lower_ns count" for non-empty bins).
 *       --bind: the sockets' address, IPv4 (default 0.0.0.0) or IPv6
 *       (:: receives IPv6 and IPv4-mapped datagrams); --nack HOST may be
 *       IPv6, in brackets, of --bind's family.
 *
 *       --nack: each port repairs its loss as a viewer's RTP stack does:
 *       a gap in the record sequence (RTP records, --rtp) is NACKed at
 *       once (RFC 4585 generic NACK after an empty RR, one compound per
 *       port and round, numbers mapped to RTP's 16 bits), from a socket
 *       bound to the port + OFF (the RTCP port the relay's clients entry
 *       names, so the relay attributes it), to HOST:PORT (the relay's RTCP
 *       port); a number still missing is NACKed again every 20 ms, at most
 *       5 times. A NACKed number that arrives later is "recovered": it is
 *       kept out of the delay histogram (what stays there is the fast
 *       path's delay) and its delay goes to a histogram of its own ("R
 *       lower_ns count"). The summary adds nacks= (NACK packets),
 *       nacked= (numbers NACKed), recovered=, gave_up= (NACKed 5 times,
 *       never came).
 *
 *   bench-recv merge --sent N [--cdf FILE] RECV-FILE...
 *       Adds the files up. N is what the sender sent (per port). Prints
 *         ports=K expected=E received=R unique=U lost=L loss_pct=X dup=D
 *         p50_us=.. p99_us=.. max_us=.. worst_port_lost=W notstamp=Z
 *         oor=O other=X recv_cpu_ns=C
 *       and, from --nack receivers, nacks= nacked= recovered= gave_up=
 *       rec_p50_us= rec_p99_us= (the recovered numbers' delays)
 *       and with --cdf writes "delay_us cumulative_fraction" lines.
 *
 * Histogram: 100 ns bins below 10 ms, 100 us bins from 10 ms to 10 s, one
 * bin above; a percentile is reported as the upper edge of its bin, the
 * maximum exactly.
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench-record.h"
#include "tool-util.h"

#define FINE_NS 100ull
#define FINE_BINS 100000ull     /* up to 10 ms */
#define COARSE_NS 100000ull
#define COARSE_BINS 99900ull    /* 10 ms .. 10 s */
#define NBINS (FINE_BINS + COARSE_BINS + 1)
#define BATCH 64
#define MAX_PORTS 4096

static uint64_t hist[NBINS];
static uint64_t hist_rec[NBINS];   /* --nack: the recovered numbers */

static unsigned
bin_of (uint64_t ns)
{
  if (ns < FINE_BINS * FINE_NS)
    return ns / FINE_NS;
  ns -= FINE_BINS * FINE_NS;
  if (ns / COARSE_NS < COARSE_BINS)
    return FINE_BINS + ns / COARSE_NS;
  return NBINS - 1;
}

static uint64_t
bin_lower (unsigned b)
{
  if (b < FINE_BINS)
    return b * FINE_NS;
  return FINE_BINS * FINE_NS + (uint64_t) (b - FINE_BINS) * COARSE_NS;
}

static uint64_t
bin_upper (unsigned b)
{
  if (b < FINE_BINS)
    return (b + 1) * FINE_NS;
  if (b == NBINS - 1)
    return UINT64_MAX;
  return bin_lower (b) + COARSE_NS;
}

static void
usage (void)
{
  fprintf (stderr,
      "usage: bench-recv recv --ports LIST --max-seq N --out FILE "
      "[--idle-ms MS] [--timeout S] [--bind ADDR]\n"
      "       bench-recv merge --sent N [--cdf FILE] RECV-FILE...\n");
  exit (2);
}

#define NACK_RETRY_MS 20
#define NACK_TRIES 5
#define NACK_PENDING_MAX 4096

typedef struct
{
  uint64_t seq;                 /* record number */
  uint64_t next_ms;             /* when to NACK it (again) */
  unsigned tries;
} Missing;

typedef struct
{
  int fd;
  int port;
  uint8_t *seen;                /* bitmap of max_seq bits */
  uint64_t unique;
  /* --nack */
  int nack_fd;
  uint8_t *nacked;              /* bitmap: NACKed at least once */
  int have_hi;
  uint64_t hi;                  /* highest record number seen */
  uint32_t media_ssrc;
  uint16_t rtp_delta;           /* RTP seq - record number (16 bits) */
  Missing *missing;
  unsigned n_missing;
} Port;

static uint64_t nack_packets, nacked_numbers, recovered, gave_up;

static int
bit_get (const uint8_t * map, uint64_t i)
{
  return map[i / 8] & (1u << (i % 8));
}

static void
bit_set (uint8_t * map, uint64_t i)
{
  map[i / 8] |= 1u << (i % 8);
}

static int
cmp_u16 (const void *a, const void *b)
{
  return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

/* One compound for @p: an RR without report blocks, then a generic NACK
 * of the missing numbers due by @now (each sent, tries counted), PID +
 * BLP packed. Numbers given up on or seen leave the list. */
static void
send_nacks (Port * p, const ToolAddr * to, uint64_t now)
{
  uint8_t pkt[1400];
  uint16_t pids[NACK_PENDING_MAX];
  unsigned n = 0, keep = 0, k, fci = 0;
  size_t off;

  for (k = 0; k < p->n_missing; k++) {
    Missing *m = &p->missing[k];

    if (bit_get (p->seen, m->seq))
      continue;                 /* came */
    if (m->next_ms <= now) {
      if (m->tries == NACK_TRIES) {
        gave_up++;
        continue;
      }
      if (!m->tries)
        nacked_numbers++;
      m->tries++;
      m->next_ms = now + NACK_RETRY_MS;
      bit_set (p->nacked, m->seq);
      pids[n++] = (uint16_t) (m->seq + p->rtp_delta);
    }
    p->missing[keep++] = *m;
  }
  p->n_missing = keep;
  if (!n)
    return;
  qsort (pids, n, sizeof (pids[0]), cmp_u16);
  /* RR: V=2 RC=0 PT=201 length 1, our SSRC */
  pkt[0] = 0x80;
  pkt[1] = 201;
  tool_put16 (pkt + 2, 1);
  tool_put32 (pkt + 4, 0x4e41434bu ^ (uint32_t) p->port);
  /* RTPFB FMT=1 */
  off = 8;
  for (k = 0; k < n && fci < (sizeof (pkt) - off - 12) / 4; fci++) {
    uint16_t pid = pids[k++], blp = 0;

    while (k < n && (uint16_t) (pids[k] - pid) >= 1 &&
        (uint16_t) (pids[k] - pid) <= 16) {
      blp |= 1u << ((uint16_t) (pids[k] - pid) - 1);
      k++;
    }
    tool_put16 (pkt + off + 12 + fci * 4, pid);
    tool_put16 (pkt + off + 14 + fci * 4, blp);
  }
  pkt[off] = 0x81;
  pkt[off + 1] = 205;
  tool_put16 (pkt + off + 2, 2 + fci);
  tool_put32 (pkt + off + 4, 0x4e41434bu ^ (uint32_t) p->port);
  tool_put32 (pkt + off + 8, p->media_ssrc);
  off += 12 + fci * 4;
  if (sendto (p->nack_fd, pkt, off, 0, &to->u.sa, to->len) == (ssize_t) off)
    nack_packets++;
}

/* A record number arrived at @p (RTP header at @d): learns the stream,
 * lists the numbers it skipped. */
static void
track_gaps (Port * p, const uint8_t * d, uint64_t seq, uint64_t now)
{
  if (!p->have_hi) {
    p->have_hi = 1;
    p->hi = seq;
    p->media_ssrc = bench_get32 (d + 8);
    p->rtp_delta = (uint16_t) (((uint16_t) (d[2] << 8 | d[3])) -
        (uint16_t) seq);
    return;
  }
  for (uint64_t m = p->hi + 1; m < seq; m++) {
    if (p->n_missing == NACK_PENDING_MAX)
      break;
    p->missing[p->n_missing].seq = m;
    p->missing[p->n_missing].next_ms = now;
    p->missing[p->n_missing].tries = 0;
    p->n_missing++;
  }
  if (seq > p->hi)
    p->hi = seq;
}

static int
parse_ports (const char *list, int *out)
{
  char *copy = strdup (list), *save = NULL, *tok;
  int n = 0;

  for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",",
          &save)) {
    char *dash = strchr (tok, '-');
    unsigned long a, b;
    if (dash) {
      *dash = '\0';
      a = tool_num ("port", tok, 1, 65535);
      b = tool_num ("port", dash + 1, a, 65535);
    } else {
      a = b = tool_num ("port", tok, 1, 65535);
    }
    for (unsigned long p = a; p <= b; p++) {
      if (n == MAX_PORTS) {
        fprintf (stderr, "bench-recv: more than %d ports\n", MAX_PORTS);
        exit (2);
      }
      out[n++] = (int) p;
    }
  }
  free (copy);
  return n;
}

static int
do_recv (int argc, char **argv)
{
  const char *ports_arg = NULL, *out = NULL, *bind_addr = "0.0.0.0";
  const char *nack_arg = NULL;
  ToolAddr nack_to;
  unsigned long long max_seq = 0, idle_ms = 3000, timeout_s = 600;
  unsigned long long nack_offset = 0;
  static int port_list[MAX_PORTS];
  Port *ports;
  int nports, ep, a;
  uint64_t received = 0, dup = 0, oor = 0, notstamp = 0, neg = 0, other = 0,
      max_ns = 0, t_start, t_last = 0;
  static uint8_t bufs[BATCH][2048];
  static char ctl[BATCH][CMSG_SPACE (sizeof (struct timespec))];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  FILE *f;

  for (a = 0; a < argc; a++) {
    if (a + 1 >= argc)
      usage ();
    if (!strcmp (argv[a], "--ports"))
      ports_arg = argv[++a];
    else if (!strcmp (argv[a], "--max-seq"))
      max_seq = tool_num ("--max-seq", argv[++a], 1, 1ll << 34);
    else if (!strcmp (argv[a], "--out"))
      out = argv[++a];
    else if (!strcmp (argv[a], "--idle-ms"))
      idle_ms = tool_num ("--idle-ms", argv[++a], 1, 3600000);
    else if (!strcmp (argv[a], "--timeout"))
      timeout_s = tool_num ("--timeout", argv[++a], 1, 86400);
    else if (!strcmp (argv[a], "--bind"))
      bind_addr = argv[++a];
    else if (!strcmp (argv[a], "--nack"))
      nack_arg = argv[++a];
    else if (!strcmp (argv[a], "--nack-sport-offset"))
      nack_offset = tool_num ("--nack-sport-offset", argv[++a], 1, 65534);
    else
      usage ();
  }
  if (!ports_arg || !out || !max_seq)
    usage ();
  if (nack_arg) {
    char host[64];
    const char *colon = strrchr (nack_arg, ':');

    if (!colon || colon - nack_arg >= (long) sizeof (host) || !nack_offset)
      usage ();
    memcpy (host, nack_arg, colon - nack_arg);
    host[colon - nack_arg] = '\0';
    /* [IPv6]:port */
    if (host[0] == '[' && colon > nack_arg + 1 && colon[-1] == ']') {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
    if (tool_addr (&nack_to, host, (int) tool_num ("--nack port", colon + 1,
                1, 65535)))
      usage ();
  }
  nports = parse_ports (ports_arg, port_list);
  if ((double) nports * (max_seq / 8 + 1) > 1024.0 * 1024 * 1024) {
    fprintf (stderr, "bench-recv: %d ports x %llu sequence numbers: too "
        "much memory for the bitmaps\n", nports, max_seq);
    return 2;
  }
  ports = calloc (nports, sizeof (*ports));
  ep = epoll_create1 (0);
  for (int k = 0; k < nports; k++) {
    ToolAddr sin;
    int on = 1, sz = 2 << 20;
    struct epoll_event ev = {.events = EPOLLIN,.data.u32 = k };

    if (tool_addr (&sin, bind_addr, port_list[k])) {
      fprintf (stderr, "bench-recv: --bind '%s' is not an IPv4 or IPv6 "
          "address\n", bind_addr);
      return 2;
    }
    ports[k].port = port_list[k];
    ports[k].seen = calloc (max_seq / 8 + 1, 1);
    ports[k].fd = socket (sin.u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (ports[k].fd < 0 || !ports[k].seen) {
      perror ("bench-recv: socket");
      return 1;
    }
    setsockopt (ports[k].fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof (on));
    setsockopt (ports[k].fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof (on));
    /* Root: past rmem_max, so a descheduled receiver loses nothing. */
    if (setsockopt (ports[k].fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
            sizeof (sz)) < 0)
      setsockopt (ports[k].fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof (sz));
    if (bind (ports[k].fd, &sin.u.sa, sin.len) < 0) {
      fprintf (stderr, "bench-recv: bind %s:%d: %s\n", bind_addr,
          port_list[k], strerror (errno));
      return 1;
    }
    epoll_ctl (ep, EPOLL_CTL_ADD, ports[k].fd, &ev);
    ports[k].nack_fd = -1;
    if (nack_arg) {
      ToolAddr ns = sin;

      if (port_list[k] + nack_offset > 65535) {
        fprintf (stderr, "bench-recv: port %d + %llu is past 65535\n",
            port_list[k], nack_offset);
        return 2;
      }
      tool_addr_set_port (&ns, port_list[k] + nack_offset);
      ports[k].nack_fd = socket (ns.u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      ports[k].nacked = calloc (max_seq / 8 + 1, 1);
      ports[k].missing = calloc (NACK_PENDING_MAX, sizeof (Missing));
      if (ports[k].nack_fd < 0 || !ports[k].nacked || !ports[k].missing ||
          bind (ports[k].nack_fd, &ns.u.sa, ns.len) < 0) {
        fprintf (stderr, "bench-recv: NACK socket %s:%llu: %s\n", bind_addr,
            port_list[k] + nack_offset, strerror (errno));
        return 1;
      }
    }
  }
  for (int m = 0; m < BATCH; m++) {
    iov[m].iov_base = bufs[m];
    iov[m].iov_len = sizeof (bufs[m]);
  }
  tool_catch_stop ();
  /* Ready: the sockets are bound (the script waits for this line). */
  fprintf (stderr, "bench-recv: %d ports bound\n", nports);

  t_start = tool_mono_ms ();
  while (!tool_stop) {
    struct epoll_event evs[64];
    uint64_t now = tool_mono_ms ();
    int n;

    if (now - t_start > timeout_s * 1000)
      break;
    if (t_last && now - t_last > idle_ms)
      break;
    n = epoll_wait (ep, evs, 64, nack_arg ? 5 : 100);
    for (int e = 0; e < n; e++) {
      Port *p = &ports[evs[e].data.u32];
      int got;
      do {
        for (int m = 0; m < BATCH; m++) {
          memset (&msgs[m].msg_hdr, 0, sizeof (msgs[m].msg_hdr));
          msgs[m].msg_hdr.msg_iov = &iov[m];
          msgs[m].msg_hdr.msg_iovlen = 1;
          msgs[m].msg_hdr.msg_control = ctl[m];
          msgs[m].msg_hdr.msg_controllen = sizeof (ctl[m]);
        }
        got = recvmmsg (p->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        for (int m = 0; m < got; m++) {
          const uint8_t *d = bufs[m];
          size_t len = msgs[m].msg_len;
          struct cmsghdr *c;
          struct timespec rx = { 0, 0 };
          int off = bench_find_record (d, len);
          uint64_t seq, tx, rx_ns;

          received++;
          if (off < 0) {
            other++;
            continue;
          }
          for (c = CMSG_FIRSTHDR (&msgs[m].msg_hdr); c;
              c = CMSG_NXTHDR (&msgs[m].msg_hdr, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS)
              memcpy (&rx, CMSG_DATA (c), sizeof (rx));
          if (rx.tv_sec == 0) {
            clock_gettime (CLOCK_REALTIME, &rx);
            notstamp++;
          }
          rx_ns = (uint64_t) rx.tv_sec * 1000000000ull + rx.tv_nsec;
          seq = bench_get64 (d + off + 8);
          tx = bench_get64 (d + off + 16);
          if (seq >= max_seq) {
            oor++;
            continue;
          }
          if (p->seen[seq / 8] & (1u << (seq % 8))) {
            dup++;
            continue;
          }
          p->seen[seq / 8] |= 1u << (seq % 8);
          p->unique++;
          if (rx_ns < tx) {
            neg++;
            rx_ns = tx;
          }
          if (nack_arg && off == BENCH_RTP_LEN) {
            if (bit_get (p->nacked, seq)) {
              recovered++;
              hist_rec[bin_of (rx_ns - tx)]++;
              continue;
            }
            track_gaps (p, d, seq, now);
          }
          hist[bin_of (rx_ns - tx)]++;
          if (rx_ns - tx > max_ns)
            max_ns = rx_ns - tx;
        }
      } while (got == BATCH);
    }
    if (n > 0)
      t_last = tool_mono_ms ();
    if (nack_arg) {
      now = tool_mono_ms ();
      for (int k = 0; k < nports; k++)
        if (ports[k].n_missing)
          send_nacks (&ports[k], &nack_to, now);
    }
  }

  f = fopen (out, "w");
  if (!f) {
    perror (out);
    return 1;
  }
  {
    uint64_t unique = 0;
    struct rusage ru;

    getrusage (RUSAGE_SELF, &ru);
    for (int k = 0; k < nports; k++)
      unique += ports[k].unique;
    fprintf (f, "S ports=%d received=%llu unique=%llu dup=%llu oor=%llu "
        "other=%llu notstamp=%llu neg=%llu max_ns=%llu cpu_ns=%llu "
        "nacks=%llu nacked=%llu recovered=%llu gave_up=%llu\n", nports,
        (unsigned long long) received, (unsigned long long) unique,
        (unsigned long long) dup, (unsigned long long) oor,
        (unsigned long long) other, (unsigned long long) notstamp,
        (unsigned long long) neg, (unsigned long long) max_ns,
        (unsigned long long) ((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
            1000000000ull + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) *
            1000ull), (unsigned long long) nack_packets,
        (unsigned long long) nacked_numbers, (unsigned long long) recovered,
        (unsigned long long) gave_up);
  }
  for (int k = 0; k < nports; k++)
    fprintf (f, "P %d %llu\n", ports[k].port,
        (unsigned long long) ports[k].unique);
  for (unsigned b = 0; b < NBINS; b++)
    if (hist[b])
      fprintf (f, "H %llu %llu\n", (unsigned long long) bin_lower (b),
          (unsigned long long) hist[b]);
  for (unsigned b = 0; b < NBINS; b++)
    if (hist_rec[b])
      fprintf (f, "R %llu %llu\n", (unsigned long long) bin_lower (b),
          (unsigned long long) hist_rec[b]);
  fclose (f);
  return 0;
}

static unsigned long long
field (const char *line, const char *name)
{
  const char *p = strstr (line, name);
  return p ? strtoull (p + strlen (name), NULL, 10) : 0;
}

static int
do_merge (int argc, char **argv)
{
  unsigned long long sent = 0, ports = 0, received = 0, unique = 0, dup = 0,
      notstamp = 0, oor = 0, other = 0, max_ns = 0, total = 0, worst = 0, cpu = 0,
      nacks = 0, nacked = 0, rec = 0, gave = 0, total_rec = 0;
  int have_nack = 0;
  const char *cdf = NULL;
  int a, have_sent = 0;
  char line[512];

  for (a = 0; a < argc && argv[a][0] == '-'; a++) {
    if (a + 1 >= argc)
      usage ();
    if (!strcmp (argv[a], "--sent")) {
      sent = tool_num ("--sent", argv[++a], 0, 1ll << 40);
      have_sent = 1;
    } else if (!strcmp (argv[a], "--cdf"))
      cdf = argv[++a];
    else
      usage ();
  }
  if (!have_sent)
    usage ();
  for (; a < argc; a++) {
    FILE *f = fopen (argv[a], "r");
    if (!f) {
      perror (argv[a]);
      return 1;
    }
    while (fgets (line, sizeof (line), f)) {
      if (line[0] == 'S') {
        ports += field (line, "ports=");
        received += field (line, "received=");
        unique += field (line, "unique=");
        dup += field (line, "dup=");
        oor += field (line, "oor=");
        other += field (line, "other=");
        notstamp += field (line, "notstamp=");
        cpu += field (line, "cpu_ns=");
        if (strstr (line, "nacks=")) {
          nacks += field (line, "nacks=");
          nacked += field (line, "nacked=");
          rec += field (line, "recovered=");
          gave += field (line, "gave_up=");
        }
        if (field (line, "max_ns=") > max_ns)
          max_ns = field (line, "max_ns=");
      } else if (line[0] == 'P') {
        unsigned long long u = 0;
        int port;
        if (sscanf (line, "P %d %llu", &port, &u) == 2 && sent > u
            && sent - u > worst)
          worst = sent - u;
      } else if (line[0] == 'H') {
        unsigned long long lo, c;
        if (sscanf (line, "H %llu %llu", &lo, &c) == 2) {
          hist[bin_of (lo)] += c;
          total += c;
        }
      } else if (line[0] == 'R') {
        unsigned long long lo, c;
        if (sscanf (line, "R %llu %llu", &lo, &c) == 2) {
          hist_rec[bin_of (lo)] += c;
          total_rec += c;
        }
      }
    }
    fclose (f);
  }
  {
    unsigned long long expected = sent * ports;
    unsigned long long lost = expected > unique ? expected - unique : 0;
    double p50 = 0, p99 = 0, acc = 0;
    int have50 = 0, have99 = 0;

    for (unsigned b = 0; b < NBINS && total; b++) {
      acc += hist[b];
      if (!have50 && acc >= 0.50 * total) {
        p50 = bin_upper (b) > max_ns ? max_ns : bin_upper (b);
        have50 = 1;
      }
      if (!have99 && acc >= 0.99 * total) {
        p99 = bin_upper (b) > max_ns ? max_ns : bin_upper (b);
        have99 = 1;
      }
    }
    printf ("ports=%llu expected=%llu received=%llu unique=%llu lost=%llu "
        "loss_pct=%.4f dup=%llu p50_us=%.1f p99_us=%.1f max_us=%.1f "
        "worst_port_lost=%llu notstamp=%llu oor=%llu other=%llu "
        "recv_cpu_ns=%llu", ports,
        expected, received, unique, lost,
        expected ? 100.0 * lost / expected : 0.0, dup, p50 / 1e3, p99 / 1e3,
        max_ns / 1e3, worst, notstamp, oor, other, cpu);
    have_nack = nacks || nacked || total_rec;
    if (have_nack) {
      double r50 = 0, r99 = 0, racc = 0;
      int h50 = 0, h99 = 0;

      for (unsigned b = 0; b < NBINS && total_rec; b++) {
        racc += hist_rec[b];
        if (!h50 && racc >= 0.50 * total_rec) {
          r50 = bin_upper (b);
          h50 = 1;
        }
        if (!h99 && racc >= 0.99 * total_rec) {
          r99 = bin_upper (b);
          h99 = 1;
        }
      }
      printf (" nacks=%llu nacked=%llu recovered=%llu gave_up=%llu "
          "rec_p50_us=%.1f rec_p99_us=%.1f", nacks, nacked, rec, gave,
          r50 / 1e3, r99 / 1e3);
    }
    printf ("\n");
    if (cdf) {
      FILE *f = fopen (cdf, "w");
      if (!f) {
        perror (cdf);
        return 1;
      }
      acc = 0;
      for (unsigned b = 0; b < NBINS && total; b++) {
        if (!hist[b])
          continue;
        acc += hist[b];
        fprintf (f, "%.1f %.6f\n", (bin_upper (b) > max_ns ? max_ns :
                bin_upper (b)) / 1e3, acc / total);
      }
      fclose (f);
    }
  }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    usage ();
  if (!strcmp (argv[1], "recv"))
    return do_recv (argc - 2, argv + 2);
  if (!strcmp (argv[1], "merge"))
    return do_merge (argc - 2, argv + 2);
  usage ();
  return 2;
}
