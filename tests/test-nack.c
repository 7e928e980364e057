/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-nack: the decision per NACKed number (gst-plugin/ebpfrelay-nack.c)
 * against a cache and a subscriber's seqlog: a limit-6 subscriber's
 * numbers give back its own bytes (the original, renumbered), each at
 * most once per RTT, again after it; numbers before its start, evicted
 * originals and (without the rewrite) dropped packets are not sent; a
 * NACK naming every number of the window sends no more than the
 * subscriber was sent.
 */
#include <string.h>

#include "ebpfrelay-nack.h"

#define SSRC 0xcafe0001
#define MS 1000

static gsize
packet (guint8 * b, guint16 seq, guint8 prio)
{
  memset (b, 0, 100);
  b[0] = 0x80;
  b[1] = 96;
  b[2] = seq >> 8;
  b[3] = seq;
  b[8] = SSRC >> 24;
  b[9] = (SSRC >> 16) & 0xff;
  b[10] = (SSRC >> 8) & 0xff;
  b[11] = SSRC & 0xff;
  b[12] = prio;
  b[13] = seq & 0xff;
  return 60 + (seq % 7);
}

typedef struct
{
  EbrCache *cache;
  struct seqlog log;
  guint32 dropped;
  guint16 num[65536];           /* original -> the subscriber's number */
  gboolean sent[65536];
} Fixture;

/* originals 65500 .. 65500+299 (across the wrap); every third frame of 3
 * packets is priority 0, dropped at limit 6; the subscriber starts at the
 * 10th */
static void
fill (Fixture * f, gboolean rewrite)
{
  guint i;

  memset (f, 0, sizeof (*f));
  f->cache = ebr_cache_new (512, 0, 512, 4);
  for (i = 0; i < 300; i++) {
    guint16 o = (guint16) (65500 + i);
    guint8 prio = (i / 3) % 3 == 2 ? 0 : 6;
    guint8 b[100];
    gsize len = packet (b, o, prio);

    g_assert_true (ebr_cache_put (f->cache, SSRC, o, prio, b, len, 0));
    if (i < 10)
      continue;
    if (prio < 6) {
      f->dropped++;
      seqlog_note (&f->log, o, 1);
    } else {
      f->sent[o] = TRUE;
      f->num[o] = rewrite ? (guint16) (o - f->dropped) : o;
      seqlog_note (&f->log, o, 0);
    }
  }
}

static void
test_resend (void)
{
  static Fixture f;
  EbrNack *n = ebr_nack_new ();
  guint8 out[EBR_NACK_MAX_PACKET], want[100];
  gsize len;
  guint i, resent = 0;
  EbrNackStats st;
  int v = 1;

  fill (&f, TRUE);
  for (i = 10; i < 300; i++) {
    guint16 o = (guint16) (65500 + i);
    gsize wlen;

    if (!f.sent[o])
      continue;
    g_assert_cmpint (ebr_nack_decide (n, &v, SSRC, f.num[o], &f.log,
            f.dropped, TRUE, f.cache, 20 * MS, 1000 * MS, out, &len), ==,
        EBR_NACK_RESEND);
    wlen = packet (want, o, (i / 3) % 3 == 2 ? 0 : 6);
    want[2] = f.num[o] >> 8;
    want[3] = f.num[o] & 0xff;
    g_assert_cmpmem (out, len, want, wlen);
    resent++;
    /* again within the RTT: no; after it: yes */
    g_assert_cmpint (ebr_nack_decide (n, &v, SSRC, f.num[o], &f.log,
            f.dropped, TRUE, f.cache, 20 * MS, 1019 * MS, out, &len), ==,
        EBR_NACK_REPEAT);
    g_assert_cmpint (ebr_nack_decide (n, &v, SSRC, f.num[o], &f.log,
            f.dropped, TRUE, f.cache, 20 * MS, 1020 * MS, out, &len), ==,
        EBR_NACK_RESEND);
  }
  /* before its start */
  g_assert_cmpint (ebr_nack_decide (n, &v, SSRC,
          (guint16) (65500 + 5), &f.log, f.dropped, TRUE, f.cache,
          20 * MS, 2000 * MS, out, &len), ==, EBR_NACK_NOT_SENT);
  /* after the last number it was sent: not yet */
  g_assert_cmpint (ebr_nack_decide (n, &v, SSRC,
          (guint16) (f.num[(guint16) (65500 + 299)] + 1), &f.log, f.dropped,
          TRUE, f.cache, 20 * MS, 2000 * MS, out, &len), ==, EBR_NACK_NOT_YET);
  g_assert_cmpint (ebr_nack_decide (n, &v, SSRC,
          f.num[(guint16) (65500 + 299)], &f.log, f.dropped,
          TRUE, f.cache, 20 * MS, 2000 * MS, out, &len), ==, EBR_NACK_RESEND);
  /* the newest originals dropped for it: still not yet */
  for (i = 300; i < 303; i++) {
    guint8 b[100];
    guint16 o = (guint16) (65500 + i);
    gsize l = packet (b, o, 0);

    ebr_cache_put (f.cache, SSRC, o, 0, b, l, 0);
    f.dropped++;
    seqlog_note (&f.log, o, 1);
  }
  g_assert_cmpint (ebr_nack_decide (n, &v, SSRC,
          (guint16) (f.num[(guint16) (65500 + 299)] + 1), &f.log, f.dropped,
          TRUE, f.cache, 20 * MS, 3000 * MS, out, &len), ==, EBR_NACK_NOT_YET);
  ebr_nack_get_stats (n, &v, &st);
  g_assert_cmpuint (st.resent, ==, 2 * resent + 1);
  g_assert_cmpuint (st.repeats, ==, resent);
  g_assert_cmpuint (st.not_sent, ==, 1);
  g_assert_cmpuint (st.not_yet, ==, 2);
  g_assert_cmpuint (st.nacked, ==, 3 * resent + 4);
  /* another subscriber's record is its own */
  {
    int w = 2;
    ebr_nack_get_stats (n, &w, &st);
    g_assert_cmpuint (st.nacked, ==, 0);
  }
  ebr_nack_forget (n, &v);
  ebr_nack_get_stats (n, &v, &st);
  g_assert_cmpuint (st.nacked, ==, 0);
  ebr_nack_free (n);
  ebr_cache_free (f.cache);
}

static void
test_not_rewritten_and_evicted (void)
{
  static Fixture f;
  EbrNack *n = ebr_nack_new ();
  guint8 out[EBR_NACK_MAX_PACKET];
  gsize len;
  guint i;
  int v = 1;

  fill (&f, FALSE);
  for (i = 10; i < 300; i++) {
    guint16 o = (guint16) (65500 + i);

    g_assert_cmpint (ebr_nack_decide (n, &v, SSRC, o, &f.log, f.dropped,
            FALSE, f.cache, 0, 0, out, &len), ==,
        f.sent[o] ? EBR_NACK_RESEND : EBR_NACK_NOT_SENT);
  }
  /* evict: the cache keeps 512; 600 more originals */
  for (i = 300; i < 900; i++) {
    guint8 b[100];
    guint16 o = (guint16) (65500 + i);
    gsize l = packet (b, o, 6);

    ebr_cache_put (f.cache, SSRC, o, 6, b, l, 0);
    seqlog_note (&f.log, o, 0);
  }
  g_assert_cmpint (ebr_nack_decide (n, &v, SSRC, (guint16) (65500 + 12),
          &f.log, f.dropped, FALSE, f.cache, 0, 0, out, &len), ==,
      EBR_NACK_NOT_CACHED);
  /* an SSRC the cache never had */
  g_assert_cmpint (ebr_nack_decide (n, &v, SSRC + 1, 5, &f.log, f.dropped,
          FALSE, f.cache, 0, 0, out, &len), ==, EBR_NACK_NOT_CACHED);
  ebr_nack_free (n);
  ebr_cache_free (f.cache);
}

/* A NACK of all 65536 numbers, ten times within an RTT: at most what the
 * subscriber was sent, once. */
static void
test_storm (void)
{
  static Fixture f;
  EbrNack *n = ebr_nack_new ();
  guint8 out[EBR_NACK_MAX_PACKET];
  gsize len;
  guint i, k, resent = 0, sent = 0;
  int v = 1;

  fill (&f, TRUE);
  for (i = 0; i < 65536; i++)
    sent += f.sent[i];
  for (k = 0; k < 10; k++)
    for (i = 0; i < 65536; i++)
      resent += ebr_nack_decide (n, &v, SSRC, (guint16) i, &f.log,
          f.dropped, TRUE, f.cache, 50 * MS, k * MS, out, &len)
          == EBR_NACK_RESEND;
  g_assert_cmpuint (resent, ==, sent);
  ebr_nack_free (n);
  ebr_cache_free (f.cache);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nack/resend", test_resend);
  g_test_add_func ("/nack/not-rewritten-evicted", test_not_rewritten_and_evicted);
  g_test_add_func ("/nack/storm", test_storm);
  return g_test_run ();
}
