/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-kfcache: the packets since the last key frame start of each
 * video SSRC (ebpfrelay-kfcache.h says what and why).
 */
#include <string.h>

#include "ebpfrelay-kfcache.h"
#include "ebpfrelay-cache.h"
#include "switch.h"

#define GST_READ_UINT32_BE(p) \
  (((guint32) (p)[0] << 24) | ((guint32) (p)[1] << 16) | \
   ((guint32) (p)[2] << 8) | (p)[3])
#define GST_WRITE_UINT32_BE(p, v) G_STMT_START { \
    guint32 v_ = (v); (p)[0] = v_ >> 24; (p)[1] = v_ >> 16; \
    (p)[2] = v_ >> 8; (p)[3] = v_; } G_STMT_END

/* Key frame starts remembered per SSRC (ebr_kfcache_is_key_start). */
#define KF_KEYS 4

typedef struct
{
  struct sw_ssrc frames;        /* bpf/switch.h */
  struct prio_vp8_state vp8;
  gboolean have_newest;
  guint16 newest;               /* the newest number seen */
  guint n_keys;                 /* valid entries of keys, newest first */
  guint16 keys[KF_KEYS];
  guint gop_packets;            /* since keys[0] (0: none or overflowed) */
  guint64 gop_bytes;
  gboolean overflowed;          /* this GOP outgrew the ring */
} KfStream;

struct _EbrKfCache
{
  EbrCache *cache;
  guint size;                   /* ring size per SSRC */
  guint8 codec_by_pt[PRIO_N_PT];
  guint8 fm_id;
  GHashTable *streams;          /* GUINT_TO_POINTER (ssrc) -> KfStream */
  guint64 key_frames, overflows;
};

EbrKfCache *
ebr_kfcache_new (guint max_packets)
{
  EbrKfCache *kc = g_new0 (EbrKfCache, 1);
  guint size = EBR_KFCACHE_MIN_PACKETS;

  max_packets = CLAMP (max_packets, EBR_KFCACHE_MIN_PACKETS,
      EBR_KFCACHE_MAX_PACKETS);
  while (size < max_packets)
    size <<= 1;
  kc->size = size;
  /* a fixed ring: min = max, never grown by age */
  kc->cache = ebr_cache_new (size, 0, size, EBR_KFCACHE_MAX_SSRCS);
  kc->streams = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return kc;
}

void
ebr_kfcache_free (EbrKfCache * kc)
{
  if (!kc)
    return;
  ebr_cache_free (kc->cache);
  g_hash_table_destroy (kc->streams);
  g_free (kc);
}

void
ebr_kfcache_set_priority (EbrKfCache * kc,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id)
{
  memcpy (kc->codec_by_pt, codec_by_pt, sizeof (kc->codec_by_pt));
  kc->fm_id = fm_id;
}

gboolean
ebr_kfcache_is_video (EbrKfCache * kc, guint8 pt)
{
  return sw_is_video (kc->codec_by_pt, pt);
}

void
ebr_kfcache_put (EbrKfCache * kc, const guint8 * data, gsize len, gint64 now)
{
  guint8 buf[PRIO_BUF_LEN] = { 0 };
  guint32 n = MIN (len, PRIO_BUF_LEN), ssrc;
  struct prio_info info;
  KfStream *st;
  int frame;

  if (len < 12 || !sw_is_video (kc->codec_by_pt, data[1] & 0x7f))
    return;
  ssrc = ((guint32) data[8] << 24) | (data[9] << 16) | (data[10] << 8) |
      data[11];
  st = g_hash_table_lookup (kc->streams, GUINT_TO_POINTER (ssrc));
  if (!st) {
    if (g_hash_table_size (kc->streams) >= EBR_KFCACHE_MAX_SSRCS)
      return;
    st = g_new0 (KfStream, 1);
    g_hash_table_insert (kc->streams, GUINT_TO_POINTER (ssrc), st);
  }
  /* the classifier reads a PRIO_BUF_LEN-byte copy, as in the kernel */
  memcpy (buf, data, n);
  prio_classify (buf, n, len, kc->codec_by_pt, kc->fm_id, &st->vp8, &info);
  if (!prio_is_rtp (&info))
    return;
  frame = sw_frame (&st->frames, info.ts, info.priority);
  if (frame & SW_KEY_START) {
    memmove (st->keys + 1, st->keys, (KF_KEYS - 1) * sizeof (st->keys[0]));
    st->keys[0] = info.seq;
    st->n_keys = MIN (st->n_keys + 1, KF_KEYS);
    st->gop_packets = 0;
    st->gop_bytes = 0;
    st->overflowed = FALSE;
    kc->key_frames++;
  }
  if (!st->have_newest || (gint16) (info.seq - st->newest) > 0)
    st->newest = info.seq;
  st->have_newest = TRUE;
  ebr_cache_put (kc->cache, ssrc, info.seq, info.priority, data, len, now);
  if (st->n_keys && !st->overflowed) {
    if (st->gop_packets + 1 > kc->size) {
      st->overflowed = TRUE;
      st->gop_packets = 0;
      st->gop_bytes = 0;
      kc->overflows++;
    } else {
      st->gop_packets++;
      st->gop_bytes += len;
    }
  }
}

void
ebr_kfpacket_free (gpointer p)
{
  EbrKfPacket *k = p;

  g_free (k->data);
  g_free (k);
}

/* The burst's RTP timestamps (ebpfrelay-kfcache.h): frame f of n gets
 * @live_ts - (n - f) x step, step the burst's sending time (@bytes at
 * @rate bits/s) in 90 kHz units (RFC 6184 and RFC 7741 fix video's clock
 * rate at 90 kHz) over n, at least 1. */
static void
retime (GPtrArray * pkts, guint64 bytes, guint rate, guint32 live_ts)
{
  guint n = 0, f = 0, i;
  guint32 prev = 0, step, ts;

  for (i = 0; i < pkts->len; i++) {
    EbrKfPacket *k = pkts->pdata[i];

    ts = GST_READ_UINT32_BE (k->data + 4);
    if (i == 0 || ts != prev)
      n++;
    prev = ts;
  }
  if (!n || !rate)
    return;
  step = MAX (1, (guint32) (bytes * 8 * 90000 / rate / n));
  for (i = 0; i < pkts->len; i++) {
    EbrKfPacket *k = pkts->pdata[i];

    ts = GST_READ_UINT32_BE (k->data + 4);
    if (i > 0 && ts != prev)
      f++;
    prev = ts;
    GST_WRITE_UINT32_BE (k->data + 4, live_ts - (n - f) * step);
  }
}

EbrKfCacheResult
ebr_kfcache_burst (EbrKfCache * kc, guint32 ssrc, guint16 first_live,
    gint first_out, guint8 limit, guint rate, guint32 live_ts, GPtrArray * out)
{
  GPtrArray *burst;
  guint64 bytes = 0;
  KfStream *st = g_hash_table_lookup (kc->streams, GUINT_TO_POINTER (ssrc));
  guint16 key, span, seq, out_seq;
  GPtrArray *pkts;
  guint i;

  if (!st || !st->have_newest)
    return EBR_KFCACHE_NOT_YET;
  /* the packet before the first live one not seen yet */
  if ((gint16) ((guint16) (first_live - 1) - st->newest) > 0)
    return EBR_KFCACHE_NOT_YET;
  if (!st->n_keys)
    return EBR_KFCACHE_MISS;
  /* the newest key frame start at or before first_live */
  for (i = 0; i < st->n_keys; i++)
    if ((gint16) (first_live - st->keys[i]) >= 0)
      break;
  /* only the current GOP is in the ring (a GOP before it may be partly
   * overwritten); a newer one started before first_live came: miss */
  if (i != 0)
    return EBR_KFCACHE_MISS;
  key = st->keys[0];
  span = first_live - key;
  if (span == 0)
    return EBR_KFCACHE_READY;   /* the live packets start at a key frame */
  if (st->overflowed || span > kc->size)
    return EBR_KFCACHE_MISS;

  pkts = g_ptr_array_new ();
  for (seq = key; seq != first_live; seq++) {
    const EbrCachePacket *p = ebr_cache_get (kc->cache, ssrc, seq);

    /* A hole: the packet never reached the cache (lost upstream, or
     * dropped by the socket under load while the kernel forwarded it):
     * the GOP is not whole, and a burst without its key frame start or
     * with a hole in its pictures is worse than waiting (burst packets
     * cannot be NACKed). */
    if (!p) {
      g_ptr_array_free (pkts, TRUE);
      return EBR_KFCACHE_MISS;
    }
    if (p->priority < limit)
      continue;
    g_ptr_array_add (pkts, (gpointer) p->data);
    g_ptr_array_add (pkts, GSIZE_TO_POINTER (p->len));
  }
  out_seq = (guint16) (first_out - pkts->len / 2);
  burst = g_ptr_array_new ();
  for (i = 0; i < pkts->len; i += 2) {
    EbrKfPacket *k = g_new (EbrKfPacket, 1);

    k->len = GPOINTER_TO_SIZE (pkts->pdata[i + 1]);
    k->data = g_memdup2 (pkts->pdata[i], k->len);
    bytes += k->len;
    if (first_out >= 0) {
      k->data[2] = out_seq >> 8;
      k->data[3] = out_seq & 0xff;
      out_seq++;
    }
    g_ptr_array_add (burst, k);
  }
  g_ptr_array_free (pkts, TRUE);
  if (rate)
    retime (burst, bytes, rate, live_ts);
  for (i = 0; i < burst->len; i++)
    g_ptr_array_add (out, burst->pdata[i]);
  g_ptr_array_free (burst, TRUE);
  return EBR_KFCACHE_READY;
}

gint
ebr_kfcache_is_key_start (EbrKfCache * kc, guint32 ssrc, guint16 seq)
{
  KfStream *st = g_hash_table_lookup (kc->streams, GUINT_TO_POINTER (ssrc));
  guint i;

  if (!st || !st->have_newest || (gint16) (seq - st->newest) > 0)
    return -1;
  for (i = 0; i < st->n_keys; i++)
    if (st->keys[i] == seq)
      return 1;
  return 0;
}

void
ebr_kfcache_get_stats (EbrKfCache * kc, EbrKfCacheStats * stats)
{
  GHashTableIter it;
  gpointer v;

  memset (stats, 0, sizeof (*stats));
  stats->n_ssrcs = g_hash_table_size (kc->streams);
  stats->key_frames = kc->key_frames;
  stats->overflows = kc->overflows;
  g_hash_table_iter_init (&it, kc->streams);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    KfStream *st = v;

    stats->packets += st->gop_packets;
    stats->bytes += st->gop_bytes;
  }
}

void
ebr_kfcache_foreach (EbrKfCache * kc, EbrKfCacheStreamFunc func,
    gpointer user_data)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, kc->streams);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    KfStream *st = v;
    EbrKfCacheStreamStats s = {
      .ssrc = GPOINTER_TO_UINT (k),
      .have_key = st->n_keys > 0 && !st->overflowed,
      .packets = st->gop_packets,
      .bytes = st->gop_bytes,
    };

    func (&s, user_data);
  }
}
