/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-cache: per-SSRC rings of recent original RTP packets
 * (ebpfrelay-cache.h says what and why).
 */
#include <string.h>

#include "ebpfrelay-cache.h"

/* RFC 3550 A.1: a jump further ahead than this is a restart. */
#define CACHE_MAX_DROPOUT 3000
/* Extended sequence numbers start one cycle up, so that a reordered packet
 * from before the first one (across a wrap) still has one. */
#define CACHE_FIRST_CYCLE 0x10000u

typedef struct
{
  guint32 ext_seq;
  gboolean valid;
  guint8 priority;
  guint16 len;
  guint16 cap;
  gint64 arrival;
  guint8 *data;
} CacheSlot;

typedef struct
{
  CacheSlot *ring;
  guint size;                   /* a power of two */
  guint32 newest;               /* extended */
  gboolean have;
  guint held;
  guint64 bytes, lookups, hits;
} CacheStream;

struct _EbrCache
{
  guint min_packets, max_packets, max_ssrcs;
  gint64 min_age;
  GHashTable *streams;          /* GUINT_TO_POINTER (ssrc) -> CacheStream */
  EbrCacheStats stats;
  EbrCachePacket out;
};

static guint
round_pow2 (guint n)
{
  guint p = 16;

  while (p < n && p < EBR_CACHE_RING_MAX)
    p <<= 1;
  return p;
}

static void
stream_free_data (EbrCache * cache, CacheStream * s)
{
  guint i;

  for (i = 0; i < s->size; i++) {
    cache->stats.bytes -= s->ring[i].cap;
    g_free (s->ring[i].data);
  }
  cache->stats.packets -= s->held;
  g_free (s->ring);
}

static void
stream_free (gpointer data)
{
  g_free (data);
}

EbrCache *
ebr_cache_new (guint min_packets, gint64 min_age_us, guint max_packets,
    guint max_ssrcs)
{
  EbrCache *cache = g_new0 (EbrCache, 1);

  cache->max_packets = round_pow2 (MIN (max_packets, EBR_CACHE_RING_MAX));
  cache->min_packets = MIN (round_pow2 (min_packets), cache->max_packets);
  if (cache->max_packets < cache->min_packets)
    cache->max_packets = cache->min_packets;
  cache->min_age = min_age_us;
  cache->max_ssrcs = MAX (max_ssrcs, 1);
  cache->streams = g_hash_table_new_full (NULL, NULL, NULL, stream_free);
  return cache;
}

void
ebr_cache_clear (EbrCache * cache)
{
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, cache->streams);
  while (g_hash_table_iter_next (&it, NULL, &v))
    stream_free_data (cache, v);
  g_hash_table_remove_all (cache->streams);
}

void
ebr_cache_free (EbrCache * cache)
{
  if (!cache)
    return;
  ebr_cache_clear (cache);
  g_hash_table_unref (cache->streams);
  g_free (cache);
}

void
ebr_cache_remove (EbrCache * cache, guint32 ssrc)
{
  CacheStream *s = g_hash_table_lookup (cache->streams,
      GUINT_TO_POINTER (ssrc));

  if (!s)
    return;
  stream_free_data (cache, s);
  g_hash_table_remove (cache->streams, GUINT_TO_POINTER (ssrc));
}

static void
stream_reset (EbrCache * cache, CacheStream * s)
{
  guint i;

  for (i = 0; i < s->size; i++)
    s->ring[i].valid = FALSE;
  cache->stats.packets -= s->held;
  s->held = 0;
  s->have = FALSE;
}

/* Doubles @s's ring: every packet keeps its extended number, so each goes
 * to its slot in the larger ring (two old slots never meet in one). */
static void
stream_grow (CacheStream * s)
{
  guint size = s->size * 2, i;
  CacheSlot *ring = g_new0 (CacheSlot, size);

  for (i = 0; i < s->size; i++) {
    CacheSlot *o = &s->ring[i];
    CacheSlot *n;

    if (o->valid) {
      n = &ring[o->ext_seq & (size - 1)];
    } else {
      /* keep the allocation: the slot of the same index is free */
      n = &ring[i];
    }
    *n = *o;
  }
  g_free (s->ring);
  s->ring = ring;
  s->size = size;
}

gboolean
ebr_cache_put (EbrCache * cache, guint32 ssrc, guint16 seq, guint8 priority,
    const guint8 * data, gsize len, gint64 now)
{
  CacheStream *s;
  CacheSlot *slot;
  guint32 ext;

  if (len < 12 || len > G_MAXUINT16) {
    cache->stats.not_cached++;
    return FALSE;
  }
  s = g_hash_table_lookup (cache->streams, GUINT_TO_POINTER (ssrc));
  if (!s) {
    if (g_hash_table_size (cache->streams) >= cache->max_ssrcs) {
      cache->stats.not_cached++;
      return FALSE;
    }
    s = g_new0 (CacheStream, 1);
    s->size = cache->min_packets;
    s->ring = g_new0 (CacheSlot, s->size);
    g_hash_table_insert (cache->streams, GUINT_TO_POINTER (ssrc), s);
  }

  if (!s->have) {
    ext = CACHE_FIRST_CYCLE | seq;
    s->newest = ext;
    s->have = TRUE;
  } else {
    guint16 ahead = (guint16) (seq - (guint16) s->newest);
    guint behind = 0x10000u - ahead;

    if (ahead < CACHE_MAX_DROPOUT) {
      ext = s->newest + ahead;
    } else if (behind < s->size && behind <= s->newest) {
      ext = s->newest - behind;
    } else {
      /* a restart (or a packet too old to be kept): start again here */
      cache->stats.restarts++;
      stream_reset (cache, s);
      ext = CACHE_FIRST_CYCLE | seq;
      s->have = TRUE;
      /* the numbering starts again here, also below the old newest */
      s->newest = ext;
    }
    if (ext > s->newest)
      s->newest = ext;
  }

  slot = &s->ring[ext & (s->size - 1)];
  while (slot->valid && slot->ext_seq < ext && s->size < cache->max_packets
      && now - slot->arrival < cache->min_age) {
    stream_grow (s);
    slot = &s->ring[ext & (s->size - 1)];
  }
  if (slot->valid && slot->ext_seq > ext)
    return FALSE;               /* its slot holds a newer packet already */
  if (slot->valid && slot->ext_seq == ext && slot->len == len
      && memcmp (slot->data, data, len) == 0)
    return TRUE;                /* a duplicate */

  if (slot->cap < len) {
    cache->stats.bytes += len - slot->cap;
    s->bytes += len - slot->cap;
    slot->data = g_realloc (slot->data, len);
    slot->cap = len;
  }
  memcpy (slot->data, data, len);
  slot->len = len;
  if (!slot->valid) {
    s->held++;
    cache->stats.packets++;
  }
  slot->valid = TRUE;
  slot->ext_seq = ext;
  slot->priority = priority;
  slot->arrival = now;
  cache->stats.puts++;
  return TRUE;
}

const EbrCachePacket *
ebr_cache_get (EbrCache * cache, guint32 ssrc, guint16 seq)
{
  CacheStream *s = g_hash_table_lookup (cache->streams,
      GUINT_TO_POINTER (ssrc));
  CacheSlot *slot;
  guint32 ext;

  cache->stats.lookups++;
  if (!s || !s->have)
    return NULL;
  s->lookups++;
  ext = s->newest - (guint16) ((guint16) s->newest - seq);
  slot = &s->ring[ext & (s->size - 1)];
  if (!slot->valid || slot->ext_seq != ext)
    return NULL;
  cache->stats.hits++;
  s->hits++;
  cache->out.data = slot->data;
  cache->out.len = slot->len;
  cache->out.ext_seq = slot->ext_seq;
  cache->out.priority = slot->priority;
  cache->out.arrival = slot->arrival;
  return &cache->out;
}

gboolean
ebr_cache_newest (EbrCache * cache, guint32 ssrc, guint16 * seq)
{
  CacheStream *s = g_hash_table_lookup (cache->streams,
      GUINT_TO_POINTER (ssrc));

  if (!s || !s->have)
    return FALSE;
  *seq = (guint16) s->newest;
  return TRUE;
}

guint
ebr_cache_capacity (EbrCache * cache, guint32 ssrc)
{
  CacheStream *s = g_hash_table_lookup (cache->streams,
      GUINT_TO_POINTER (ssrc));

  return s ? s->size : 0;
}

void
ebr_cache_get_stats (EbrCache * cache, EbrCacheStats * stats)
{
  *stats = cache->stats;
  stats->n_ssrcs = g_hash_table_size (cache->streams);
}

void
ebr_cache_foreach (EbrCache * cache, EbrCacheStreamFunc func,
    gpointer user_data)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, cache->streams);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    CacheStream *s = v;
    EbrCacheStreamStats st = { GPOINTER_TO_UINT (k), s->size, s->held,
      s->bytes, s->lookups, s->hits
    };

    func (&st, user_data);
  }
}
