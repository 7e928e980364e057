/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-kfcache: the key-frame cache (gst-plugin/ebpfrelay-kfcache.c): the
 * GOP since the last key frame start (bpf/switch.h's rule: a frame start
 * of priority 7, or behind leading priority-0 packets such as x264's
 * access unit delimiter), the burst's numbering (contiguous, ending just
 * before the joiner's first live number, packets below its limit left
 * out, across a sequence number wrap), its retimed timestamps, not yet /
 * miss (no key frame, a GOP longer than the ring, a newer key frame before
 * the first live packet), key frame starts for a joiner that missed, and
 * non-video payload types left alone.
 */
#include <string.h>

#include "ebpfrelay-kfcache.h"

#define PT_H264 96
#define PT_AUDIO 0
#define SSRC 0x1234

typedef struct
{
  EbrKfCache *kc;
  guint16 seq;                  /* next original number */
} Stream;

static void
put (Stream * st, guint8 pt, guint8 nal, guint32 ts)
{
  guint8 p[64];
  guint i;

  memset (p, 0, sizeof (p));
  p[0] = 0x80;
  p[1] = pt;
  p[2] = st->seq >> 8;
  p[3] = st->seq & 0xff;
  p[4] = ts >> 24;
  p[5] = ts >> 16;
  p[6] = ts >> 8;
  p[7] = ts;
  p[8] = SSRC >> 24;
  p[9] = (SSRC >> 16) & 0xff;
  p[10] = (SSRC >> 8) & 0xff;
  p[11] = SSRC & 0xff;
  p[12] = nal;
  for (i = 13; i < sizeof (p); i++)
    p[i] = (guint8) (st->seq * 7 + i);
  ebr_kfcache_put (st->kc, p, sizeof (p), 0);
  st->seq++;
}

static Stream *
stream_new (guint size, guint16 first_seq)
{
  static const guint8 codec[PRIO_N_PT] = {[PT_H264] = PRIO_CODEC_H264 };
  Stream *st = g_new0 (Stream, 1);

  st->kc = ebr_kfcache_new (size);
  ebr_kfcache_set_priority (st->kc, codec, 0);
  st->seq = first_seq;
  return st;
}

static void
stream_free (Stream * st)
{
  ebr_kfcache_free (st->kc);
  g_free (st);
}

static guint16
seq_of (EbrKfPacket * k)
{
  return (k->data[2] << 8) | k->data[3];
}

static guint32
ts_of (EbrKfPacket * k)
{
  return ((guint32) k->data[4] << 24) | (k->data[5] << 16) |
      (k->data[6] << 8) | k->data[7];
}

/* A GOP across the wrap: AUD (NRI 0), SPS/IDR (NRI 3), P frames (NRI 2)
 * with a non-reference slice (NRI 0) in each; the joiner at limit 0 gets
 * every packet from the SPS on, at limit 6 the reference ones, numbered
 * to end just before its first live number, payload byte for byte. */
static void
test_burst_numbering (void)
{
  Stream *st = stream_new (256, 65530);
  GPtrArray *out = g_ptr_array_new_with_free_func (ebr_kfpacket_free);
  guint16 key, first_live;
  guint i;

  put (st, PT_H264, 0x41, 0);   /* the end of an earlier GOP */
  put (st, PT_H264, 0x09, 3000);        /* AUD: leads the key frame */
  key = st->seq;
  put (st, PT_H264, 0x67, 3000);        /* SPS: the key frame start */
  put (st, PT_H264, 0x65, 3000);
  put (st, PT_H264, 0x65, 3000);
  for (i = 0; i < 4; i++) {
    put (st, PT_H264, 0x41, 6000 + 3000 * i);
    put (st, PT_H264, 0x01, 6000 + 3000 * i);
  }
  first_live = st->seq;
  g_assert_cmpint (ebr_kfcache_is_key_start (st->kc, SSRC, key), ==, 1);
  g_assert_cmpint (ebr_kfcache_is_key_start (st->kc, SSRC, key - 1), ==, 0);
  g_assert_cmpint (ebr_kfcache_is_key_start (st->kc, SSRC, first_live), ==, -1);

  /* limit 0, numbers not rewritten, timestamps kept (rate 0) */
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, first_live, -1, 0, 0, 0,
          out), ==, EBR_KFCACHE_READY);
  g_assert_cmpuint (out->len, ==, 11);
  for (i = 0; i < out->len; i++) {
    g_assert_cmpuint (seq_of (out->pdata[i]), ==, (guint16) (key + i));
    g_assert_cmpuint (((EbrKfPacket *) out->pdata[i])->len, ==, 64);
    g_assert_cmpuint (((EbrKfPacket *) out->pdata[i])->data[13], ==,
        (guint8) ((guint16) (key + i) * 7 + 13));
  }
  g_assert_cmpuint (ts_of (out->pdata[0]), ==, 3000);
  g_ptr_array_set_size (out, 0);

  /* limit 6: the SPS, two IDR packets, four P frames; the joiner's first
   * live number 500: the burst is 493..499 */
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, first_live, 500, 6,
          16000000, 99000, out), ==, EBR_KFCACHE_READY);
  g_assert_cmpuint (out->len, ==, 7);
  for (i = 0; i < out->len; i++) {
    EbrKfPacket *k = out->pdata[i];

    g_assert_cmpuint (seq_of (k), ==, 493 + i);
    g_assert_cmpuint (k->data[12] & 0x60, !=, 0);
  }
  /* retimed: frames in order, distinct, the last before the live one */
  g_assert_cmpuint (ts_of (out->pdata[0]), ==, ts_of (out->pdata[2]));
  for (i = 3; i < out->len; i++)
    g_assert_cmpint ((gint32) (ts_of (out->pdata[i]) -
            ts_of (out->pdata[i - 1])), >, 0);
  g_assert_cmpint ((gint32) (99000 - ts_of (out->pdata[out->len - 1])), >, 0);
  g_ptr_array_set_size (out, 0);

  /* a joiner whose first live packet is the key frame start: nothing */
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, key, 7, 0, 0, 0, out),
      ==, EBR_KFCACHE_READY);
  g_assert_cmpuint (out->len, ==, 0);

  /* the first live packet not seen yet (the cache lags): later */
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, first_live + 2, 7, 0, 0,
          0, out), ==, EBR_KFCACHE_NOT_YET);
  /* an SSRC it never saw: later too */
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC + 1, 5, 7, 0, 0, 0, out),
      ==, EBR_KFCACHE_NOT_YET);

  /* a new key frame: the GOP starts again there; a joiner whose first
   * live packet was before it misses (that GOP is not kept whole) */
  key = st->seq;
  put (st, PT_H264, 0x65, 30000);
  put (st, PT_H264, 0x41, 33000);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, first_live - 1, 9, 0, 0,
          0, out), ==, EBR_KFCACHE_MISS);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, st->seq, 9, 0, 0, 0,
          out), ==, EBR_KFCACHE_READY);
  g_assert_cmpuint (out->len, ==, 2);
  g_assert_cmpuint (seq_of (out->pdata[0]), ==, 7);
  g_assert_cmpuint (seq_of (out->pdata[1]), ==, 8);
  g_ptr_array_unref (out);
  stream_free (st);
}

/* No key frame seen: a miss; a GOP longer than the ring: a miss, counted;
 * the next key frame starts a good GOP again. Audio is not cached. */
static void
test_miss (void)
{
  Stream *st = stream_new (64, 100);
  GPtrArray *out = g_ptr_array_new_with_free_func (ebr_kfpacket_free);
  EbrKfCacheStats stats;
  guint i;

  /* its first packet, a P frame (the first packet starts a frame, but
   * priority 6 is no key frame) */
  put (st, PT_H264, 0x41, 0);
  put (st, PT_H264, 0x41, 3000);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, st->seq, 0, 0, 0, 0,
          out), ==, EBR_KFCACHE_MISS);

  put (st, PT_H264, 0x65, 6000);
  for (i = 0; i < 70; i++)
    put (st, PT_H264, 0x41, 9000 + 3000 * i);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, st->seq, 0, 0, 0, 0,
          out), ==, EBR_KFCACHE_MISS);
  ebr_kfcache_get_stats (st->kc, &stats);
  g_assert_cmpuint (stats.overflows, ==, 1);
  g_assert_cmpuint (stats.key_frames, ==, 1);

  put (st, PT_H264, 0x65, 900000);
  put (st, PT_H264, 0x41, 903000);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, st->seq, 1000, 0, 0, 0,
          out), ==, EBR_KFCACHE_READY);
  g_assert_cmpuint (out->len, ==, 2);
  ebr_kfcache_get_stats (st->kc, &stats);
  g_assert_cmpuint (stats.n_ssrcs, ==, 1);
  g_assert_cmpuint (stats.packets, ==, 2);
  g_assert_cmpuint (stats.bytes, ==, 128);

  /* audio (payload type 0) is not video: not cached, no SSRC for it */
  st->seq = 1;
  {
    guint8 p[64] = { 0x80, PT_AUDIO };

    p[8] = 9;
    ebr_kfcache_put (st->kc, p, sizeof (p), 0);
  }
  ebr_kfcache_get_stats (st->kc, &stats);
  g_assert_cmpuint (stats.n_ssrcs, ==, 1);
  g_assert_false (ebr_kfcache_is_video (st->kc, PT_AUDIO));
  g_assert_true (ebr_kfcache_is_video (st->kc, PT_H264));
  g_ptr_array_unref (out);
  stream_free (st);
}

/* A packet of the GOP never reached the cache (the socket dropped it under
 * load while the kernel forwarded it): no burst with a hole, a miss; at
 * the next key frame a whole GOP again. */
static void
test_hole (void)
{
  Stream *st = stream_new (256, 500);
  GPtrArray *out = g_ptr_array_new_with_free_func (ebr_kfpacket_free);

  put (st, PT_H264, 0x09, 3000);        /* AUD */
  put (st, PT_H264, 0x67, 3000);        /* SPS: the key frame start */
  st->seq++;                    /* the PPS is missing */
  put (st, PT_H264, 0x65, 3000);
  put (st, PT_H264, 0x41, 6000);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, st->seq, 1000, 0, 0, 0,
          out), ==, EBR_KFCACHE_MISS);
  g_assert_cmpuint (out->len, ==, 0);
  put (st, PT_H264, 0x67, 9000);
  put (st, PT_H264, 0x65, 9000);
  put (st, PT_H264, 0x41, 12000);
  g_assert_cmpint (ebr_kfcache_burst (st->kc, SSRC, st->seq, 1000, 0, 0, 0,
          out), ==, EBR_KFCACHE_READY);
  g_assert_cmpuint (out->len, ==, 3);
  g_ptr_array_unref (out);
  stream_free (st);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kfcache/burst-numbering", test_burst_numbering);
  g_test_add_func ("/kfcache/miss", test_miss);
  g_test_add_func ("/kfcache/hole", test_hole);
  return g_test_run ();
}
