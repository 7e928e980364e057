/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtp-prio: a known RTP stream with every priority, and the check of what
 * a relay subscriber received of it, for the end-to-end tests. Classifies
 * with bpf/priority.h, the code the relay uses.
 *
 *   rtp-prio gen FILE COUNT SIZE
 *       COUNT datagrams of SIZE bytes (SIZE >= 40) end to end, for
 *       `filesrc blocksize=SIZE ! udpsink`: H.264 (payload type 96) on
 *       SSRC 0xaaaa0001 with NAL NRI 3, 2, 0, 0, 2, 1, ... (sequence
 *       numbers wrap), frame-marked packets (RFC 9626, one-byte extension
 *       id 3) of payload type 98 on SSRC 0xbbbb0002 with I, D and TID 0-2,
 *       and every eleventh datagram not RTP. Each carries its index.
 *
 *   rtp-prio check SENT RECEIVED SIZE LIMIT [LIMIT2 | --from | --until]
 *       RECEIVED (what a subscriber got, end to end) must be exactly the
 *       datagrams of SENT whose priority is at least LIMIT, in order, each
 *       RTP one with its sequence number lowered by the packets of its
 *       SSRC dropped before it (contiguous per SSRC), all else unchanged.
 *       With LIMIT2: LIMIT up to some datagram, LIMIT2 from it on. With
 *       --from: the subscriber was added at some datagram after the
 *       first, --until: removed before the last. Prints on stderr
 *         received=R expected=E dropped=D [at=N]
 *       (N: the first datagram under LIMIT2, the first one after the
 *       subscriber was added, or the first after it was removed) and on
 *       stdout D, the number of datagrams not sent to it for their
 *       priority while it was there. Exit 0 when it matches, 1 when not,
 *       2 on usage errors.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priority.h"
#include "switch.h"
#include "tool-util.h"

#define PT_H264 96
#define PT_FM 98
#define FM_ID 3
#define SSRC_A 0xaaaa0001u
#define SSRC_B 0xbbbb0002u

static void
usage (void)
{
  fprintf (stderr, "usage: rtp-prio gen FILE COUNT SIZE\n"
      "       rtp-prio check SENT RECEIVED SIZE LIMIT [LIMIT2]\n");
  exit (2);
}

static void
make (uint8_t * p, size_t size, uint32_t i, uint16_t seq[2])
{
  static const uint8_t nal[8] = { 0x65, 0x41, 0x01, 0x01, 0x41, 0x21, 0x41,
    0x01
  };
  static const uint8_t fm[5] = { 0xa0, 0x90, 0x80, 0x81, 0x82 };
  size_t off, k;

  for (k = 0; k < size; k++)
    p[k] = (uint8_t) (k * 31 + i * 7);
  if (i % 11 == 10) {
    memcpy (p, "\0not RTP", 8);
    tool_put32 (p + 8, i);
    return;
  }
  if (i % 4 == 3) {
    tool_rtp_header (p, 0x90, PT_FM, seq[1]++, 90 * i, SSRC_B);
    tool_put16 (p + 12, 0xBEDE);
    tool_put16 (p + 14, 1);
    p[16] = FM_ID << 4;
    p[17] = fm[(i / 4) % 5];
    p[18] = p[19] = 0;
    off = 20;
  } else {
    tool_rtp_header (p, 0x80, PT_H264, seq[0]++, 90 * i, SSRC_A);
    off = 12;
    p[off++] = nal[i % 8];
  }
  tool_put32 (p + off, i);
}

static uint8_t *
read_file (const char *path, size_t * len)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0, r;

  if (!f) {
    fprintf (stderr, "rtp-prio: %s: %s\n", path, strerror (errno));
    exit (2);
  }
  do {
    if (n == cap) {
      cap = cap ? 2 * cap : 1 << 16;
      buf = realloc (buf, cap);
      if (!buf)
        exit (2);
    }
    r = fread (buf + n, 1, cap - n, f);
    n += r;
  } while (r > 0);
  fclose (f);
  *len = n;
  return buf;
}

static struct prio_info
classify (const uint8_t * p, size_t size)
{
  uint8_t buf[PRIO_BUF_LEN] = { 0 }, codec[PRIO_N_PT] = { 0 };
  uint32_t n = size < PRIO_BUF_LEN ? size : PRIO_BUF_LEN;
  struct prio_info info;

  codec[PT_H264] = PRIO_CODEC_H264;
  memcpy (buf, p, n);
  prio_classify (buf, n, size, codec, FM_ID, NULL, &info);
  return info;
}

enum mode
{ ONE_LIMIT, TWO_LIMITS, FROM, UNTIL };

/* What a subscriber there for datagrams [@start, @end), with @l1 before
 * datagram @split and @l2 from it on, gets: compared with @rx (@n_rx
 * datagrams). The relay's rules (bpf/priority.h, bpf/switch.h): frames
 * are followed from the stream's first datagram; the subscriber gets
 * nothing of the H.264 SSRC until a key frame starts (held back, neither
 * sent nor dropped), the other SSRC and the rest at once. Returns the
 * number of datagrams that match, from the first; *expected, *dropped:
 * the model's counts. */
static size_t
compare (const uint8_t * sent, size_t start, size_t end, const uint8_t * rx,
    size_t n_rx, size_t size, unsigned l1, unsigned l2, size_t split,
    size_t * expected, size_t * dropped)
{
  uint8_t codec[PRIO_N_PT] = { 0 };
  struct sw_ssrc frames[2] = { 0 };
  struct sw_sub subs[2];
  int have_sub[2] = { 0, 0 };
  uint32_t drops[2] = { 0, 0 };
  uint8_t want[65536];
  size_t i, got = 0, ok = 0;
  int good = 1;

  codec[PT_H264] = PRIO_CODEC_H264;
  *expected = *dropped = 0;
  for (i = 0; i < end; i++) {
    const uint8_t *p = sent + i * size;
    struct prio_info info = classify (p, size);
    int b = info.ssrc == SSRC_B, rtp = prio_is_rtp (&info), frame = 0;
    unsigned limit = i < split ? l1 : l2;

    if (rtp)
      frame = sw_frame (&frames[b], info.ts, info.priority);
    if (i < start)
      continue;
    if (rtp) {
      if (!have_sub[b]) {
        sw_sub_init (&subs[b], codec, info.pt, limit);
        have_sub[b] = 1;
      }
      switch (sw_decide (&subs[b], frame, info.priority, limit)) {
        case SW_HOLD:
          continue;
        case SW_DROP:
          (*dropped)++;
          drops[b]++;
          continue;
        default:
          break;
      }
    } else if (prio_drops (&info, limit)) {
      (*dropped)++;
      continue;
    }
    (*expected)++;
    memcpy (want, p, size);
    if (rtp)
      tool_put16 (want + 2, prio_out_seq (info.seq, drops[b]));
    if (good && got < n_rx && !memcmp (rx + got * size, want, size))
      ok++;
    else
      good = 0;
    got++;
  }
  return ok;
}

static int
check (int argc, char **argv)
{
  size_t size = tool_num ("SIZE", argv[4], 40, 65000), sent_len, rx_len,
      count, n_rx;
  unsigned l1 = tool_num ("LIMIT", argv[5], 0, PRIO_MAX), l2 = l1;
  enum mode mode = ONE_LIMIT;
  uint8_t *sent, *rx;
  size_t at = 0, start, end, split, expected = 0, dropped = 0, best = 0, k,
      ok, i;
  int last[2] = { -1, -1 }, contiguous = 1;

  if (argc == 7 && !strcmp (argv[6], "--from"))
    mode = FROM;
  else if (argc == 7 && !strcmp (argv[6], "--until"))
    mode = UNTIL;
  else if (argc == 7) {
    mode = TWO_LIMITS;
    l2 = tool_num ("LIMIT2", argv[6], 0, PRIO_MAX);
  }
  sent = read_file (argv[2], &sent_len);
  rx = read_file (argv[3], &rx_len);
  if (sent_len % size || rx_len % size) {
    fprintf (stderr, "rtp-prio: %s or %s is not made of %zu-byte "
        "datagrams\n", argv[2], argv[3], size);
    return 1;
  }
  count = sent_len / size;
  n_rx = rx_len / size;

  /* Contiguous per SSRC, whatever the model says. */
  for (i = 0; i < n_rx; i++) {
    struct prio_info info = classify (rx + i * size, size);
    int b = info.ssrc == SSRC_B;

    if (!prio_is_rtp (&info))
      continue;
    if (last[b] >= 0 && info.seq != ((last[b] + 1) & 0xffff)) {
      fprintf (stderr, "rtp-prio: %s: datagram %zu: SSRC %08x seq %u "
          "after %d\n", argv[3], i, info.ssrc, info.seq, last[b]);
      contiguous = 0;
    }
    last[b] = info.seq;
  }

  /* The datagram where the limit changed or the subscriber came or went:
   * the one that makes the whole file match (or, to report, the one that
   * matches longest). */
  for (k = mode == ONE_LIMIT ? 0 : 1; k < (mode == ONE_LIMIT ? 1 : count);
      k++) {
    start = mode == FROM ? k : 0;
    end = mode == UNTIL ? k : count;
    split = mode == TWO_LIMITS ? k : 0;
    ok = compare (sent, start, end, rx, n_rx, size, l1, l2, split,
        &expected, &dropped);
    if (ok > best || k <= 1) {
      best = ok;
      at = k;
    }
    if (ok == expected && n_rx == expected) {
      at = k;
      break;
    }
  }
  start = mode == FROM ? at : 0;
  end = mode == UNTIL ? at : count;
  split = mode == TWO_LIMITS ? at : 0;
  ok = compare (sent, start, end, rx, n_rx, size, l1, l2, split, &expected,
      &dropped);
  fprintf (stderr, "%s: received=%zu expected=%zu dropped=%zu", argv[3],
      n_rx, expected, dropped);
  if (mode != ONE_LIMIT)
    fprintf (stderr, " at=%zu", at);
  if (ok != expected || n_rx != expected)
    fprintf (stderr, " first-difference=%zu", ok);
  fputc ('\n', stderr);
  printf ("%zu\n", dropped);
  free (sent);
  free (rx);
  return ok == expected && n_rx == expected && contiguous ? 0 : 1;
}

int
main (int argc, char **argv)
{
  if (argc == 5 && !strcmp (argv[1], "gen")) {
    size_t count = tool_num ("COUNT", argv[3], 1, 1000000);
    size_t size = tool_num ("SIZE", argv[4], 40, 65000), i;
    uint16_t seq[2] = { 65300, 10 };
    uint8_t *p = malloc (size);
    FILE *f = fopen (argv[2], "wb");

    if (!f || !p) {
      fprintf (stderr, "rtp-prio: %s: %s\n", argv[2], strerror (errno));
      return 2;
    }
    for (i = 0; i < count; i++) {
      make (p, size, i, seq);
      if (fwrite (p, 1, size, f) != size)
        return 2;
    }
    free (p);
    return fclose (f) ? 2 : 0;
  }
  if ((argc == 6 || argc == 7) && !strcmp (argv[1], "check"))
    return check (argc, argv);
  usage ();
  return 2;
}
