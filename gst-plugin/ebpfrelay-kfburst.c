/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-kfburst: late joiners' key-frame bursts (ebpfrelay-kfburst.h
 * says what and why, and which lock protects it).
 */
#include <string.h>

#include "ebpfrelay-kfburst.h"
#include "ebpfrelay-send.h"

/* The pacer's period while a burst is pending, and while none is. */
#define TICK_US (2 * G_TIME_SPAN_MILLISECOND)
#define IDLE_US (200 * G_TIME_SPAN_MILLISECOND)

typedef enum
{
  SSRC_NEW = 0,                 /* no live copy of it handled yet */
  SSRC_WAIT,                    /* a miss: waits for a key frame */
  SSRC_LIVE,                    /* its burst is out (or queued) */
} SsrcState;

/* A live copy for the joiner: its bytes with the joiner's number. */
typedef struct
{
  guint8 *data;
  gsize len;
  guint32 ssrc;
  guint16 orig;                 /* the original's number */
  gint seq;                     /* the joiner's (-1: not rewritten) */
  gboolean video;
} KfItem;

/* One joiner's burst (RelayClient.kf). */
typedef struct
{
  gint64 since;                 /* joined (first seen here) */
  gint64 last;                  /* tokens counted up to */
  gdouble tokens;               /* bytes that may go now */
  GQueue burst;                 /* EbrKfPacket*: the burst, first */
  GQueue queue;                 /* KfItem*: the live copies */
  GHashTable *ssrcs;            /* ssrc -> GINT_TO_POINTER (SsrcState) */
  gboolean any_live;
  gboolean primed;              /* a burst packet went out (ARP started) */
} KfSub;

/* Kernel mode, the joiner's next hop not resolved yet: after the burst's
 * first packet (which makes the kernel ask for the MAC address) the rest
 * waits for the resolution, at most this long after the join. Sent into
 * an unresolved neighbour, a burst overflows the kernel's queue of
 * packets waiting for it, which drops the oldest: the key frame. */
#define RELAY_KFBURST_NEIGH_WAIT_US (300 * G_TIME_SPAN_MILLISECOND)

struct _RelayKfBurst
{
  GMutex *lock;                 /* the owner's: everything below */
  RelayClients *clients;
  RelaySender *sender;

  /* properties */
  gboolean enabled;
  guint cache_size;
  guint rate;                   /* bits/s */

  /* running */
  EbrKfCache *cache;            /* NULL: off */
  guint8 codec_by_pt[PRIO_N_PT];
  guint8 fm_id;
  GThread *thread;
  GCond cond;
  gboolean stopping;

  /* counters (since start) */
  guint64 bursts, misses, queue_drops, burst_packets, burst_bytes;
};

static void
item_free (gpointer p)
{
  KfItem *it = p;

  g_free (it->data);
  g_free (it);
}

static void
sub_free (gpointer p)
{
  KfSub *s = p;

  g_queue_clear_full (&s->burst, ebr_kfpacket_free);
  g_queue_clear_full (&s->queue, item_free);
  g_hash_table_destroy (s->ssrcs);
  g_free (s);
}

/* Counts a burst packet sent to @c in its per-SSRC burst counts
 * (RelayClient.kf_sent), which its SRs include: the payload octets as the
 * sender counts them (one classifier, bpf/priority.h). */
static void
count_sent (RelayKfBurst * kb, RelayClient * c, const guint8 * data, gsize len)
{
  guint8 buf[PRIO_BUF_LEN] = { 0 };
  guint32 n = MIN (len, PRIO_BUF_LEN);
  struct prio_vp8_state vp8 = { 0 };
  struct prio_info info;
  RelayBurstSent *sent;

  memcpy (buf, data, n);
  prio_classify (buf, n, len, kb->codec_by_pt, kb->fm_id, &vp8, &info);
  if (!prio_is_rtp (&info))
    return;
  if (!c->kf_sent)
    c->kf_sent = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  sent = g_hash_table_lookup (c->kf_sent, GUINT_TO_POINTER (info.ssrc));
  if (!sent) {
    sent = g_new0 (RelayBurstSent, 1);
    g_hash_table_insert (c->kf_sent, GUINT_TO_POINTER (info.ssrc), sent);
  }
  sent->packets++;
  sent->octets += sw_payload_octets (len, info.payload_off,
      (data[0] & 0x20) ? data[len - 1] : 0);
}

static KfSub *
get_sub (RelayClient * c, gint64 now)
{
  KfSub *s = c->kf;

  if (s)
    return s;
  s = g_new0 (KfSub, 1);
  s->since = s->last = now;
  g_queue_init (&s->burst);
  g_queue_init (&s->queue);
  s->ssrcs = g_hash_table_new (NULL, NULL);
  c->kf = s;
  c->kf_free = sub_free;
  return s;
}

RelayKfBurst *
relay_kfburst_new (GMutex * lock, RelayClients * clients,
    struct _RelaySender *sender)
{
  RelayKfBurst *kb = g_new0 (RelayKfBurst, 1);

  kb->lock = lock;
  kb->clients = clients;
  kb->sender = sender;
  kb->cache_size = EBR_KFCACHE_DEFAULT_PACKETS;
  kb->rate = RELAY_KFBURST_DEFAULT_RATE;
  g_cond_init (&kb->cond);
  return kb;
}

void
relay_kfburst_free (RelayKfBurst * kb)
{
  relay_kfburst_stop (kb);
  g_cond_clear (&kb->cond);
  g_free (kb);
}

void
relay_kfburst_install_properties (GObjectClass * klass, guint first_id)
{
  g_object_class_install_property (klass,
      first_id + RELAY_KFBURST_PROP_CACHE,
      g_param_spec_boolean ("keyframe-cache", "Key-frame cache",
          "Keep, per video SSRC, the packets since its last key frame start "
          "and start each subscriber that joins while running with them "
          "(a burst, in its own numbering, paced at keyframe-burst-rate), "
          "then its live packets: a picture at once also from senders that "
          "cannot answer a key-frame request. Needs the originals: refused "
          "with pass-original=false in kernel mode", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass,
      first_id + RELAY_KFBURST_PROP_CACHE_SIZE,
      g_param_spec_uint ("keyframe-cache-size", "Key-frame cache size",
          "Packets the key-frame cache keeps per video SSRC (rounded up to "
          "a power of two; memory: this many times the largest packet). A "
          "joiner whose GOP is longer waits for the next key frame, counted "
          "in keyframe-cache-misses", EBR_KFCACHE_MIN_PACKETS,
          EBR_KFCACHE_MAX_PACKETS, EBR_KFCACHE_DEFAULT_PACKETS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass,
      first_id + RELAY_KFBURST_PROP_RATE,
      g_param_spec_uint ("keyframe-burst-rate", "Key-frame burst rate",
          "Bits per second at which a joiner's key-frame burst and the live "
          "packets queued behind it are sent (so that the viewer's socket "
          "buffer does not overflow)", RELAY_KFBURST_MIN_RATE,
          RELAY_KFBURST_MAX_RATE, RELAY_KFBURST_DEFAULT_RATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

void
relay_kfburst_set_property (RelayKfBurst * kb, guint id, const GValue * value)
{
  switch (id) {
    case RELAY_KFBURST_PROP_CACHE:
      kb->enabled = g_value_get_boolean (value);
      break;
    case RELAY_KFBURST_PROP_CACHE_SIZE:
      kb->cache_size = g_value_get_uint (value);
      break;
    case RELAY_KFBURST_PROP_RATE:
      kb->rate = g_value_get_uint (value);
      break;
  }
}

void
relay_kfburst_get_property (RelayKfBurst * kb, guint id, GValue * value)
{
  switch (id) {
    case RELAY_KFBURST_PROP_CACHE:
      g_value_set_boolean (value, kb->enabled);
      break;
    case RELAY_KFBURST_PROP_CACHE_SIZE:
      g_value_set_uint (value, kb->cache_size);
      break;
    case RELAY_KFBURST_PROP_RATE:
      g_value_set_uint (value, kb->rate);
      break;
  }
}

void
relay_kfburst_set_priority (RelayKfBurst * kb,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id)
{
  memcpy (kb->codec_by_pt, codec_by_pt, sizeof (kb->codec_by_pt));
  kb->fm_id = fm_id;
  if (kb->cache)
    ebr_kfcache_set_priority (kb->cache, codec_by_pt, fm_id);
}

void
relay_kfburst_put (RelayKfBurst * kb, const guint8 * data, gsize len,
    gint64 now)
{
  if (kb->cache)
    ebr_kfcache_put (kb->cache, data, len, now);
}

gboolean
relay_kfburst_divert (RelayKfBurst * kb, RelayClient * c,
    const guint8 * data, gsize len, gint seq)
{
  KfSub *s;
  KfItem *it;

  if (!c->kf_hold || !kb || !kb->cache)
    return FALSE;
  s = get_sub (c, g_get_monotonic_time ());
  if (g_queue_get_length (&s->queue) >= RELAY_KFBURST_MAX_QUEUE) {
    item_free (g_queue_pop_head (&s->queue));
    kb->queue_drops++;
  }
  it = g_new0 (KfItem, 1);
  it->data = g_memdup2 (data, len);
  it->len = len;
  it->seq = -1;
  if (len >= 12 && (data[0] & 0xc0) == 0x80) {
    it->ssrc = GST_READ_UINT32_BE (data + 8);
    it->orig = GST_READ_UINT16_BE (data + 2);
    it->video = ebr_kfcache_is_video (kb->cache, data[1] & 0x7f);
    if (seq >= 0) {
      it->seq = seq;
      it->data[2] = seq >> 8;
      it->data[3] = seq & 0xff;
    }
  }
  g_queue_push_tail (&s->queue, it);
  /* the pacer may be idle: its first copy starts it */
  if (g_queue_get_length (&s->queue) == 1)
    g_cond_signal (&kb->cond);
  return TRUE;
}

/* --- the pacer -------------------------------------------------------------- */

/* Whether @len bytes may go now; takes them. A packet larger than what
 * the bucket holds goes once the bucket is full. */
static gboolean
take (KfSub * s, gsize len, gdouble cap)
{
  if (s->tokens < len && s->tokens < cap)
    return FALSE;
  s->tokens -= len;
  return TRUE;
}

/* Sends what @c's burst may send now. TRUE when it is done: its queue
 * and burst are out and every video SSRC it got has started. */
static gboolean
pace (RelayKfBurst * kb, RelayClient * c, gint64 now)
{
  KfSub *s = get_sub (c, now);
  gdouble cap = MAX (kb->rate / 8.0 / 50.0, 1500.0);    /* 20 ms */
  GHashTableIter hi;
  gpointer v;

  s->tokens = MIN (s->tokens + (now - s->last) * (kb->rate / 8e6), cap);
  s->last = now;
  for (;;) {
    EbrKfPacket *b = g_queue_peek_head (&s->burst);
    KfItem *it;
    SsrcState st;

    if (b) {
      /* (c->route is NO_NEIGH only in kernel mode, refreshed every 20 ms
       * by relay_clients_check while it is) */
      if (s->primed && c->route == RELAY_ROUTE_NO_NEIGH
          && now - s->since < RELAY_KFBURST_NEIGH_WAIT_US)
        break;
      if (!take (s, b->len, cap))
        break;
      s->primed = TRUE;
      if (relay_sender_send_one (kb->sender, c, b->data, b->len)) {
        c->kf_burst_packets++;
        c->kf_burst_bytes += b->len;
        kb->burst_packets++;
        kb->burst_bytes += b->len;
        count_sent (kb, c, b->data, b->len);
      } else {
        c->user_errors++;
      }
      ebr_kfpacket_free (g_queue_pop_head (&s->burst));
      continue;
    }
    it = g_queue_peek_head (&s->queue);
    if (!it)
      break;
    if (it->video) {
      st = GPOINTER_TO_INT (g_hash_table_lookup (s->ssrcs,
              GUINT_TO_POINTER (it->ssrc)));
      if (st == SSRC_NEW) {
        GPtrArray *out = g_ptr_array_new ();
        EbrKfCacheResult r = ebr_kfcache_burst (kb->cache, it->ssrc,
            it->orig, it->seq, c->limit, kb->rate,
            GST_READ_UINT32_BE (it->data + 4), out);

        if (r == EBR_KFCACHE_NOT_YET
            && now - s->since < RELAY_KFBURST_CATCH_UP_US) {
          g_ptr_array_free (out, TRUE);
          break;                /* the cache catches up */
        }
        if (r == EBR_KFCACHE_READY) {
          for (guint i = 0; i < out->len; i++)
            g_queue_push_tail (&s->burst, out->pdata[i]);
          st = SSRC_LIVE;
          kb->bursts++;
        } else {
          st = SSRC_WAIT;
          kb->misses++;
        }
        g_ptr_array_free (out, TRUE);
        g_hash_table_insert (s->ssrcs, GUINT_TO_POINTER (it->ssrc),
            GINT_TO_POINTER (st));
        if (st == SSRC_LIVE) {
          s->any_live = TRUE;
          continue;             /* the burst goes first */
        }
      }
      if (st == SSRC_WAIT) {
        gint key = ebr_kfcache_is_key_start (kb->cache, it->ssrc, it->orig);

        if (key < 0)
          break;
        if (key == 0) {
          /* as a WAITING subscriber: nothing before a key frame */
          c->user_held++;
          item_free (g_queue_pop_head (&s->queue));
          continue;
        }
        g_hash_table_insert (s->ssrcs, GUINT_TO_POINTER (it->ssrc),
            GINT_TO_POINTER (SSRC_LIVE));
        s->any_live = TRUE;
      }
    }
    if (!take (s, it->len, cap))
      break;
    if (relay_sender_send_one (kb->sender, c, it->data, it->len)) {
      c->user_packets++;
      c->user_bytes += it->len;
    } else {
      c->user_errors++;
    }
    item_free (g_queue_pop_head (&s->queue));
  }

  if (!g_queue_is_empty (&s->burst) || !g_queue_is_empty (&s->queue))
    return FALSE;
  g_hash_table_iter_init (&hi, s->ssrcs);
  while (g_hash_table_iter_next (&hi, NULL, &v))
    if (GPOINTER_TO_INT (v) != SSRC_LIVE)
      return FALSE;
  return s->any_live || now - s->since >= RELAY_KFBURST_NO_VIDEO_US;
}

/* @c's burst is out: from now on it is served as any subscriber. */
static void
finish (RelayKfBurst * kb, RelayClient * c, gint64 now)
{
  RelayClients *t = kb->clients;

  c->kf_hold = FALSE;
  if (c->kf_free)
    c->kf_free (c->kf);
  c->kf = NULL;
  c->kf_free = NULL;
  if (!t->kernel)
    return;
  /* what the kernel left to userspace for it so far goes now, in order,
   * before the kernel takes over */
  relay_kernel_poll (t->kernel);
  relay_kernel_set_burst (t->kernel, c->slot, FALSE);
  relay_clients_program (t, c, now);
}

static gpointer
pacer_thread (gpointer data)
{
  RelayKfBurst *kb = data;

  g_mutex_lock (kb->lock);
  while (!kb->stopping) {
    RelayClients *t = kb->clients;
    gint64 now = g_get_monotonic_time ();
    gboolean busy = FALSE;

    for (guint i = 0; i < t->n_slots; i++) {
      RelayClient *c = t->slots[i];

      if (!c || !c->kf_hold)
        continue;
      if (pace (kb, c, now))
        finish (kb, c, now);
      else
        busy = TRUE;
    }
    g_cond_wait_until (&kb->cond, kb->lock,
        g_get_monotonic_time () + (busy ? TICK_US : IDLE_US));
  }
  g_mutex_unlock (kb->lock);
  return NULL;
}

gboolean
relay_kfburst_start (RelayKfBurst * kb, gboolean originals, GError ** error)
{
  if (!kb->enabled)
    return TRUE;
  if (!originals) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "keyframe-cache=true needs the stream's original packets, which "
        "the kernel consumes with pass-original=false: set "
        "pass-original=true (or mode=userspace), or keyframe-cache=false");
    return FALSE;
  }
  kb->cache = ebr_kfcache_new (kb->cache_size);
  ebr_kfcache_set_priority (kb->cache, kb->codec_by_pt, kb->fm_id);
  kb->bursts = kb->misses = kb->queue_drops = 0;
  kb->burst_packets = kb->burst_bytes = 0;
  kb->stopping = FALSE;
  kb->clients->kf_joins = TRUE;
  kb->thread = g_thread_new ("ebpfrelay-kfburst", pacer_thread, kb);
  return TRUE;
}

void
relay_kfburst_stop (RelayKfBurst * kb)
{
  GThread *thread;
  RelayClients *t = kb->clients;

  g_mutex_lock (kb->lock);
  thread = g_steal_pointer (&kb->thread);
  kb->stopping = TRUE;
  g_cond_broadcast (&kb->cond);
  g_mutex_unlock (kb->lock);
  if (thread)
    g_thread_join (thread);
  g_mutex_lock (kb->lock);
  t->kf_joins = FALSE;
  for (guint i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);

    c->kf_hold = FALSE;
    if (c->kf_free)
      c->kf_free (c->kf);
    c->kf = NULL;
    c->kf_free = NULL;
  }
  g_clear_pointer (&kb->cache, ebr_kfcache_free);
  g_mutex_unlock (kb->lock);
}

/* --- statistics ------------------------------------------------------------- */

void
relay_kfburst_add_client_stats (RelayKfBurst * kb, GstStructure * s,
    RelayClient * c)
{
  gst_structure_set (s,
      "keyframe-burst-pending", G_TYPE_BOOLEAN, c->kf_hold,
      "keyframe-burst-packets", G_TYPE_UINT64, c->kf_burst_packets,
      "keyframe-burst-bytes", G_TYPE_UINT64, c->kf_burst_bytes, NULL);
}

static void
add_stream (const EbrKfCacheStreamStats * ss, gpointer user_data)
{
  GstStructure *s = gst_structure_new ("keyframe-cache-stream",
      "ssrc", G_TYPE_UINT, ss->ssrc,
      "has-keyframe", G_TYPE_BOOLEAN, ss->have_key,
      "packets", G_TYPE_UINT, ss->packets,
      "bytes", G_TYPE_UINT64, ss->bytes, NULL);
  GValue v = G_VALUE_INIT;

  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, s);
  gst_value_array_append_and_take_value (user_data, &v);
}

void
relay_kfburst_add_stats (RelayKfBurst * kb, GstStructure * s)
{
  GValue streams = G_VALUE_INIT;
  EbrKfCacheStats st = { 0 };

  if (kb->cache)
    ebr_kfcache_get_stats (kb->cache, &st);
  gst_structure_set (s,
      "keyframe-cache", G_TYPE_BOOLEAN, kb->cache != NULL,
      "keyframe-cache-ssrcs", G_TYPE_UINT, st.n_ssrcs,
      "keyframe-cache-packets", G_TYPE_UINT64, st.packets,
      "keyframe-cache-bytes", G_TYPE_UINT64, st.bytes,
      "keyframe-cache-overflows", G_TYPE_UINT64, st.overflows,
      "keyframe-cache-misses", G_TYPE_UINT64, kb->misses,
      "keyframe-bursts", G_TYPE_UINT64, kb->bursts,
      "keyframe-burst-packets", G_TYPE_UINT64, kb->burst_packets,
      "keyframe-burst-bytes", G_TYPE_UINT64, kb->burst_bytes,
      "keyframe-burst-queue-drops", G_TYPE_UINT64, kb->queue_drops, NULL);
  /* per video SSRC: the GOP it holds now */
  g_value_init (&streams, GST_TYPE_ARRAY);
  if (kb->cache)
    ebr_kfcache_foreach (kb->cache, add_stream, &streams);
  gst_structure_take_value (s, "keyframe-cache-streams", &streams);
}
