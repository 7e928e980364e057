/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtp-switch: records an RTP stream, and checks what a subscriber whose
 * limit was switched while running received of it (e2e-switch.sh), with
 * the relay's classifier (bpf/priority.h) and frame rules (bpf/switch.h).
 *
 *   rtp-switch rec PORT FILE
 *       Receives on 0.0.0.0:PORT until SIGINT/SIGTERM, appending each
 *       datagram to FILE as a 4-byte big-endian length and its bytes.
 *
 *   rtp-switch check SENT RECEIVED LIMIT...
 *       SENT: what the sender sent (H.264, payload type 96, one SSRC),
 *       RECEIVED: what the subscriber got, both recorded by rec; LIMITs:
 *       the limits it was switched between. RECEIVED must be a
 *       subsequence of SENT, each packet byte for byte but for its
 *       sequence number, which must be the original's lowered by the
 *       packets dropped for it since it started (contiguous); it starts
 *       at a key frame start (nothing held before it counted); and some
 *       sequence of limits in force, each one of LIMITs, changed only
 *       upwards at a frame start (a new timestamp) and only downwards at
 *       a key frame start, must give exactly its packets: got when the
 *       priority is at least the limit in force, dropped when below.
 *       Checked as an automaton over the set of limits that can be in
 *       force at each packet; a packet where the set becomes empty is a
 *       switch at a wrong place. Prints
 *         sent=S received=R dropped=D held=H frames=F key-frames=K
 *         reordered=O
 *       on stdout. Exit 0 when it holds, 1 when not, 2 on usage/I/O errors.
 *
 *   rtp-switch h264 RECEIVED OUT
 *       The H.264 in RECEIVED (RFC 6184: single NAL units, STAP-A, FU-A),
 *       in sequence number order, as an Annex B byte stream into OUT, for
 *       a stock decoder (ffmpeg) to decode; prints "pictures=N" (slices
 *       with first_mb_in_slice 0: the pictures it is given).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "priority.h"
#include "switch.h"
#include "tool-util.h"

#define PT_H264 96
#define MAX_PKT 65536
#define WINDOW 256              /* how far out of order a copy may come */

typedef struct
{
  uint8_t *data;
  size_t len;
} Pkt;

static int
cmd_rec (unsigned long port, const char *path)
{
  struct sockaddr_in a = {.sin_family = AF_INET };
  int fd = socket (AF_INET, SOCK_DGRAM, 0), rcvbuf = 8 << 20;
  FILE *f = fopen (path, "wb");
  static uint8_t buf[MAX_PKT];

  if (fd < 0 || !f) {
    fprintf (stderr, "rtp-switch: %s\n", strerror (errno));
    return 2;
  }
  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof (rcvbuf)))
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
  a.sin_port = htons (port);
  if (bind (fd, (struct sockaddr *) &a, sizeof (a))) {
    fprintf (stderr, "rtp-switch: bind %lu: %s\n", port, strerror (errno));
    return 2;
  }
  tool_catch_stop ();
  while (!tool_stop) {
    ssize_t n = recv (fd, buf, sizeof (buf), 0);
    uint8_t hdr[4];

    if (n < 0) {
      if (errno == EINTR)
        continue;
      fprintf (stderr, "rtp-switch: recv: %s\n", strerror (errno));
      return 2;
    }
    tool_put32 (hdr, (uint32_t) n);
    if (fwrite (hdr, 4, 1, f) != 1 || fwrite (buf, 1, n, f) != (size_t) n)
      return 2;
  }
  return fclose (f) ? 2 : 0;
}

static Pkt *
read_records (const char *path, size_t *n_out)
{
  FILE *f = fopen (path, "rb");
  Pkt *p = NULL;
  size_t n = 0, cap = 0;
  uint8_t hdr[4];

  if (!f) {
    fprintf (stderr, "rtp-switch: %s: %s\n", path, strerror (errno));
    exit (2);
  }
  while (fread (hdr, 4, 1, f) == 1) {
    size_t len = (size_t) hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];

    if (n == cap) {
      cap = cap ? 2 * cap : 4096;
      p = realloc (p, cap * sizeof (Pkt));
    }
    p[n].data = malloc (len ? len : 1);
    p[n].len = len;
    if (!p || !p[n].data || fread (p[n].data, 1, len, f) != len) {
      fprintf (stderr, "rtp-switch: %s: truncated\n", path);
      exit (2);
    }
    n++;
  }
  fclose (f);
  *n_out = n;
  return p;
}

static struct prio_info
classify (const Pkt * p)
{
  uint8_t buf[PRIO_BUF_LEN] = { 0 }, codec[PRIO_N_PT] = { 0 };
  uint32_t n = p->len < PRIO_BUF_LEN ? p->len : PRIO_BUF_LEN;
  struct prio_info info;

  codec[PT_H264] = PRIO_CODEC_H264;
  memcpy (buf, p->data, n);
  prio_classify (buf, n, p->len, codec, 0, NULL, &info);
  return info;
}

/* @r is @s but (maybe) for its sequence number. */
static int
same_packet (const Pkt * s, const Pkt * r)
{
  return s->len == r->len && s->len >= 12 && !memcmp (s->data, r->data, 2)
      && !memcmp (s->data + 4, r->data + 4, s->len - 4);
}

static void
print_set (unsigned set)
{
  int l;

  fprintf (stderr, "{");
  for (l = 0; l <= PRIO_MAX; l++)
    if (set & (1u << l))
      fprintf (stderr, " %d", l);
  fprintf (stderr, " }");
}

static int
cmd_check (const char *sent_path, const char *rx_path, int n_limits,
    char **limits)
{
  size_t n_sent, n_rx, i, j = 0, m = 0, dropped = 0, held = 0, got = 0,
      frames = 0, keys = 0, reordered = 0;
  Pkt *sent = read_records (sent_path, &n_sent);
  Pkt *rx = read_records (rx_path, &n_rx);
  uint8_t *used = calloc (n_rx + 1, 1);
  struct sw_ssrc fr = { 0 };
  unsigned allowed = 0, set = 0;
  uint32_t ssrc = 0, drops = 0;
  int started = 0, k, bad = 0;

  for (k = 0; k < n_limits; k++)
    allowed |= 1u << tool_num ("LIMIT", limits[k], 0, PRIO_MAX);
  for (i = 0; i < n_sent && bad < 5; i++) {
    struct prio_info info = classify (&sent[i]);
    unsigned up = 0, down = 0, fits;
    int frame, l, recvd;

    if (!prio_is_rtp (&info) || info.pt != PT_H264) {
      fprintf (stderr, "rtp-switch: sent %zu is not H.264 RTP\n", i);
      return 1;
    }
    if (!ssrc)
      ssrc = info.ssrc;
    if (info.ssrc != ssrc) {
      fprintf (stderr, "rtp-switch: sent %zu: a second SSRC\n", i);
      return 1;
    }
    frame = sw_frame (&fr, info.ts, info.priority);
    frames += !!(frame & SW_FRAME_START);
    keys += !!(frame & SW_KEY_START);
    /* the relay decides in the order the sender sent (the caller makes
     * sure), but may deliver out of order (a subscriber's copies sent by
     * userspace before its slot moved to the kernel): look around */
    while (j < n_rx && used[j])
      j++;
    recvd = 0;
    for (m = j; m < n_rx && m < j + WINDOW; m++)
      if (!used[m] && same_packet (&sent[i], &rx[m])) {
        recvd = 1;
        used[m] = 1;
        reordered += m != j;
        break;
      }
    if (!started) {
      if (!recvd) {
        held++;
        continue;
      }
      if (!(frame & SW_KEY_START)) {
        fprintf (stderr, "rtp-switch: its first packet (sent %zu) starts "
            "no key frame\n", i);
        return 1;
      }
      started = 1;
      set = allowed;
    }
    /* where the limit in force may move at this packet */
    for (l = 0; l <= PRIO_MAX; l++)
      if (set & (1u << l)) {
        up |= allowed & ~((2u << l) - 1);       /* above l */
        down |= allowed & ((1u << l) - 1);      /* below l */
      }
    if (frame & SW_FRAME_START)
      set |= up;
    if (frame & SW_KEY_START)
      set |= down;
    fits = recvd ? allowed & ((2u << info.priority) - 1) :
        allowed & ~((2u << info.priority) - 1);
    if (!(set & fits)) {
      fprintf (stderr, "rtp-switch: sent %zu (seq %u ts %u priority %u%s%s) "
          "%s, but the limit in force can only be ", i, info.seq, info.ts,
          info.priority, frame & SW_FRAME_START ? ", frame start" : "",
          frame & SW_KEY_START ? ", key frame start" : "",
          recvd ? "received" : "not received");
      print_set (set);
      fprintf (stderr, "\n");
      bad++;
      set = fits;               /* go on, to report more */
    } else
      set &= fits;
    if (!recvd) {
      dropped++;
      drops++;
      continue;
    }
    {
      uint16_t want = prio_out_seq (info.seq, drops),
          seq = rx[m].data[2] << 8 | rx[m].data[3];

      if (seq != want) {
        fprintf (stderr, "rtp-switch: received %zu (sent %zu): seq %u, "
            "want %u\n", m, i, seq, want);
        bad++;
      }
    }
    got++;
  }
  if (!bad && got != n_rx) {
    fprintf (stderr, "rtp-switch: %zu received packets match no sent one "
        "(%zu received in all)\n", n_rx - got, n_rx);
    bad++;
  }
  printf ("sent=%zu received=%zu dropped=%zu held=%zu frames=%zu "
      "key-frames=%zu reordered=%zu\n", n_sent, got, dropped, held, frames,
      keys, reordered);
  return bad ? 1 : 0;
}

static void
put_nal (FILE * f, const uint8_t * nal, size_t len, size_t *pictures)
{
  static const uint8_t sc[4] = { 0, 0, 0, 1 };
  uint8_t type = nal[0] & 0x1f;

  if ((type == 1 || type == 5) && len > 1 && (nal[1] & 0x80))
    (*pictures)++;
  fwrite (sc, 1, 4, f);
  fwrite (nal, 1, len, f);
}

typedef struct
{
  uint32_t ext;                 /* extended sequence number */
  size_t i;
} SeqIdx;

static int
by_seq (const void *a, const void *b)
{
  const SeqIdx *x = a, *y = b;
  return (x->ext > y->ext) - (x->ext < y->ext);
}

static int
cmd_h264 (const char *rx_path, const char *out_path)
{
  size_t n, i, pictures = 0;
  Pkt *rx = read_records (rx_path, &n);
  FILE *f = fopen (out_path, "wb");
  SeqIdx *order = calloc (n + 1, sizeof (SeqIdx));
  uint32_t ext = 0x80000000u;
  int fu = 0;

  if (!f || !order)
    return 2;
  /* sequence number order, unwrapped from the first */
  for (i = 0; i < n; i++) {
    uint16_t seq = rx[i].len >= 4 ? rx[i].data[2] << 8 | rx[i].data[3] : 0;

    ext = i == 0 ? ext | seq : ext + (int16_t) (seq - (uint16_t) ext);
    order[i].ext = ext;
    order[i].i = i;
  }
  qsort (order, n, sizeof (SeqIdx), by_seq);
  for (i = 0; i < n; i++) {
    const uint8_t *d = rx[order[i].i].data;
    size_t len = rx[order[i].i].len, off, k;

    if (len < 13)
      continue;
    off = 12 + 4 * (d[0] & 0x0f);
    if (d[0] & 0x10) {
      if (off + 4 > len)
        continue;
      off += 4 + 4 * (d[off + 2] << 8 | d[off + 3]);
    }
    if (d[0] & 0x20)
      len -= d[len - 1];
    if (off >= len)
      continue;
    switch (d[off] & 0x1f) {
      case 24:                 /* STAP-A */
        for (k = off + 1; k + 2 <= len;) {
          size_t nl = d[k] << 8 | d[k + 1];

          if (k + 2 + nl > len || nl == 0)
            break;
          put_nal (f, d + k + 2, nl, &pictures);
          k += 2 + nl;
        }
        fu = 0;
        break;
      case 28:                 /* FU-A */
        if (off + 2 > len)
          break;
        if (d[off + 1] & 0x80) {
          uint8_t hdr = (d[off] & 0xe0) | (d[off + 1] & 0x1f);
          static const uint8_t sc[4] = { 0, 0, 0, 1 };
          uint8_t type = hdr & 0x1f;

          if ((type == 1 || type == 5) && off + 2 < len
              && (d[off + 2] & 0x80))
            pictures++;
          fwrite (sc, 1, 4, f);
          fwrite (&hdr, 1, 1, f);
          fu = 1;
        }
        if (fu)
          fwrite (d + off + 2, 1, len - off - 2, f);
        if (d[off + 1] & 0x40)
          fu = 0;
        break;
      default:
        put_nal (f, d + off, len - off, &pictures);
        fu = 0;
    }
  }
  printf ("pictures=%zu\n", pictures);
  return fclose (f) ? 2 : 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && !strcmp (argv[1], "h264"))
    return cmd_h264 (argv[2], argv[3]);
  if (argc == 4 && !strcmp (argv[1], "rec"))
    return cmd_rec (tool_num ("PORT", argv[2], 1, 65535), argv[3]);
  if (argc >= 5 && !strcmp (argv[1], "check"))
    return cmd_check (argv[2], argv[3], argc - 4, argv + 4);
  fprintf (stderr, "usage: rtp-switch rec PORT FILE\n"
      "       rtp-switch check SENT RECEIVED LIMIT...\n"
      "       rtp-switch h264 RECEIVED OUT\n");
  return 2;
}
