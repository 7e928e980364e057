/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cache: the packet cache (gst-plugin/ebpfrelay-cache.c): lookups by
 * sequence number across a wrap, reordering, a restart, growth while the
 * oldest packet is younger than the minimum age and not past the maximum,
 * the SSRC limit, and the memory figures.
 */
#include <string.h>

#include "ebpfrelay-cache.h"

static gsize
make_packet (guint8 * buf, guint32 ssrc, guint16 seq, gsize len)
{
  gsize i;

  memset (buf, 0, len);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[8] = ssrc >> 24;
  buf[9] = ssrc >> 16;
  buf[10] = ssrc >> 8;
  buf[11] = ssrc;
  for (i = 12; i < len; i++)
    buf[i] = (guint8) (seq + i);
  return len;
}

static void
assert_cached (EbrCache * c, guint32 ssrc, guint16 seq, gsize len)
{
  guint8 want[1500];
  const EbrCachePacket *p = ebr_cache_get (c, ssrc, seq);

  g_assert_nonnull (p);
  make_packet (want, ssrc, seq, len);
  g_assert_cmpmem (p->data, p->len, want, len);
  g_assert_cmpuint ((guint16) p->ext_seq, ==, seq);
}

static void
put (EbrCache * c, guint32 ssrc, guint16 seq, gsize len, gint64 now)
{
  guint8 buf[1500];

  make_packet (buf, ssrc, seq, len);
  g_assert_true (ebr_cache_put (c, ssrc, seq, 7, buf, len, now));
}

static void
test_wrap (void)
{
  EbrCache *c = ebr_cache_new (64, 0, 64, 4);
  guint i;

  /* 65500 .. 65535, 0 .. 27: 64 packets across the wrap */
  for (i = 0; i < 64; i++)
    put (c, 1, (guint16) (65500 + i), 100 + i, 0);
  for (i = 0; i < 64; i++)
    assert_cached (c, 1, (guint16) (65500 + i), 100 + i);
  g_assert_cmpuint (ebr_cache_capacity (c, 1), ==, 64);
  /* one more: the oldest goes (min_age 0: no growth) */
  put (c, 1, (guint16) (65500 + 64), 50, 0);
  g_assert_null (ebr_cache_get (c, 1, 65500));
  assert_cached (c, 1, 65501, 101);
  assert_cached (c, 1, (guint16) (65500 + 64), 50);
  /* never seen, other SSRC */
  g_assert_null (ebr_cache_get (c, 1, 30000));
  g_assert_null (ebr_cache_get (c, 2, 65501));
  ebr_cache_free (c);
}

static void
test_reorder_gap (void)
{
  EbrCache *c = ebr_cache_new (64, 0, 64, 4);

  put (c, 1, 10, 40, 0);
  put (c, 1, 13, 43, 0);        /* 11 and 12 late */
  g_assert_null (ebr_cache_get (c, 1, 11));
  put (c, 1, 12, 42, 0);
  put (c, 1, 11, 41, 0);
  assert_cached (c, 1, 10, 40);
  assert_cached (c, 1, 11, 41);
  assert_cached (c, 1, 12, 42);
  assert_cached (c, 1, 13, 43);
  /* a gap of 20: the slots between are not "cached" (stale numbers) */
  put (c, 1, 33, 60, 0);
  g_assert_null (ebr_cache_get (c, 1, 20));
  assert_cached (c, 1, 13, 43);
  /* 70 behind the newest: older than the ring, a restart */
  put (c, 1, (guint16) (33 - 70), 30, 0);
  g_assert_null (ebr_cache_get (c, 1, 33));
  assert_cached (c, 1, (guint16) (33 - 70), 30);
  ebr_cache_free (c);
}

static void
test_restart (void)
{
  EbrCache *c = ebr_cache_new (32, 0, 32, 4);
  EbrCacheStats st;

  put (c, 1, 100, 30, 0);
  put (c, 1, 101, 30, 0);
  put (c, 1, 40000, 30, 0);     /* a jump: restart */
  ebr_cache_get_stats (c, &st);
  g_assert_cmpuint (st.restarts, ==, 1);
  g_assert_cmpuint (st.packets, ==, 1);
  g_assert_null (ebr_cache_get (c, 1, 100));
  assert_cached (c, 1, 40000, 30);
  ebr_cache_free (c);
}

/* A restart at a lower number (a sender starting again at 0 after 59441):
 * the stream goes on from there, one restart, not one per packet. */
static void
test_restart_lower (void)
{
  EbrCache *c = ebr_cache_new (32, 0, 32, 4);
  EbrCacheStats st;
  guint16 newest = 0;
  guint i;

  for (i = 0; i < 5; i++)
    put (c, 1, (guint16) (59437 + i), 30, 0);
  for (i = 0; i < 10; i++)
    put (c, 1, (guint16) i, 30, 0);
  ebr_cache_get_stats (c, &st);
  g_assert_cmpuint (st.restarts, ==, 1);
  g_assert_cmpuint (st.packets, ==, 10);
  g_assert_true (ebr_cache_newest (c, 1, &newest));
  g_assert_cmpuint (newest, ==, 9);
  for (i = 0; i < 10; i++)
    assert_cached (c, 1, (guint16) i, 30);
  ebr_cache_free (c);
}

static void
one_stream (const EbrCacheStreamStats * st, gpointer user_data)
{
  if (st->ssrc == 7)
    *(EbrCacheStreamStats *) user_data = *st;
}

static void
test_grow (void)
{
  /* 16 packets or 1 s, at most 64: 100 packets in 0.5 s keep the last 64 */
  EbrCache *c = ebr_cache_new (16, G_USEC_PER_SEC, 64, 4);
  guint i;
  EbrCacheStats st;

  for (i = 0; i < 100; i++)
    put (c, 7, (guint16) i, 200, i * 5000);
  g_assert_cmpuint (ebr_cache_capacity (c, 7), ==, 64);
  for (i = 36; i < 100; i++)
    assert_cached (c, 7, (guint16) i, 200);
  g_assert_null (ebr_cache_get (c, 7, 35));
  ebr_cache_get_stats (c, &st);
  g_assert_cmpuint (st.packets, ==, 64);
  g_assert_cmpuint (st.bytes, ==, 64 * 200);
  g_assert_cmpuint (st.hits, ==, 64);
  g_assert_cmpuint (st.lookups, ==, 65);
  {
    EbrCacheStreamStats one = { 0 };

    ebr_cache_foreach (c, one_stream, &one);
    g_assert_cmpuint (one.ssrc, ==, 7);
    g_assert_cmpuint (one.capacity, ==, 64);
    g_assert_cmpuint (one.packets, ==, 64);
    g_assert_cmpuint (one.bytes, ==, 64 * 200);
    g_assert_cmpuint (one.hits, ==, 64);
    g_assert_cmpuint (one.lookups, ==, 65);
  }

  /* a slow stream (1 packet per 100 ms) keeps its ring at 16: the packet
   * overwritten is 1.6 s old */
  for (i = 0; i < 40; i++)
    put (c, 8, (guint16) i, 100, (gint64) i * 100000);
  g_assert_cmpuint (ebr_cache_capacity (c, 8), ==, 16);
  ebr_cache_free (c);
}

static void
test_limits (void)
{
  EbrCache *c = ebr_cache_new (16, 0, 16, 2);
  guint8 buf[20];
  EbrCacheStats st;

  put (c, 1, 1, 20, 0);
  put (c, 2, 1, 20, 0);
  make_packet (buf, 3, 1, 20);
  g_assert_false (ebr_cache_put (c, 3, 1, 7, buf, 20, 0));
  g_assert_false (ebr_cache_put (c, 1, 2, 7, buf, 11, 0));
  ebr_cache_get_stats (c, &st);
  g_assert_cmpuint (st.not_cached, ==, 2);
  g_assert_cmpuint (st.n_ssrcs, ==, 2);
  ebr_cache_remove (c, 1);
  g_assert_true (ebr_cache_put (c, 3, 1, 7, buf, 20, 0));
  ebr_cache_get_stats (c, &st);
  g_assert_cmpuint (st.packets, ==, 2);
  g_assert_cmpuint (st.bytes, ==, 40);
  ebr_cache_clear (c);
  ebr_cache_get_stats (c, &st);
  g_assert_cmpuint (st.packets, ==, 0);
  g_assert_cmpuint (st.bytes, ==, 0);
  ebr_cache_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cache/wrap", test_wrap);
  g_test_add_func ("/cache/reorder-gap", test_reorder_gap);
  g_test_add_func ("/cache/restart", test_restart);
  g_test_add_func ("/cache/restart-lower", test_restart_lower);
  g_test_add_func ("/cache/grow", test_grow);
  g_test_add_func ("/cache/limits", test_limits);
  return g_test_run ();
}
