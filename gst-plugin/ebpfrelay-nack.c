/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-nack: the decision for each number a NACK names
 * (ebpfrelay-nack.h).
 */
#include <string.h>

#include "ebpfrelay-nack.h"

typedef struct
{
  guint32 ext;                  /* extended original sequence number + 1 */
  gint64 when;
} Resend;

typedef struct
{
  guint32 ssrc;
  Resend recent[EBR_NACK_RECENT];
} ViewerSsrc;

typedef struct
{
  EbrNackStats stats;
  GPtrArray *ssrcs;             /* ViewerSsrc */
} Viewer;

struct _EbrNack
{
  GHashTable *viewers;          /* gconstpointer -> Viewer */
};

static void
viewer_free (gpointer data)
{
  Viewer *v = data;

  g_ptr_array_unref (v->ssrcs);
  g_free (v);
}

EbrNack *
ebr_nack_new (void)
{
  EbrNack *n = g_new0 (EbrNack, 1);

  n->viewers = g_hash_table_new_full (NULL, NULL, NULL, viewer_free);
  return n;
}

void
ebr_nack_free (EbrNack * n)
{
  if (!n)
    return;
  g_hash_table_unref (n->viewers);
  g_free (n);
}

static Viewer *
viewer_get (EbrNack * n, gconstpointer viewer)
{
  Viewer *v = g_hash_table_lookup (n->viewers, viewer);

  if (!v) {
    v = g_new0 (Viewer, 1);
    v->ssrcs = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (n->viewers, (gpointer) viewer, v);
  }
  return v;
}

static ViewerSsrc *
viewer_ssrc (Viewer * v, guint32 ssrc)
{
  ViewerSsrc *vs;
  guint i;

  for (i = 0; i < v->ssrcs->len; i++) {
    vs = g_ptr_array_index (v->ssrcs, i);
    if (vs->ssrc == ssrc)
      return vs;
  }
  vs = g_new0 (ViewerSsrc, 1);
  vs->ssrc = ssrc;
  g_ptr_array_add (v->ssrcs, vs);
  return vs;
}

EbrNackVerdict
ebr_nack_decide (EbrNack * n, gconstpointer viewer, guint32 ssrc, guint16 s,
    const struct seqlog *log, guint32 dropped, gboolean rewrite,
    EbrCache * cache, gint64 rtt, gint64 now, guint8 * out, gsize * out_len)
{
  Viewer *v = viewer_get (n, viewer);
  const EbrCachePacket *p;
  ViewerSsrc *vs;
  Resend *r;
  guint16 newest, orig;

  v->stats.nacked++;
  if (!ebr_cache_newest (cache, ssrc, &newest)) {
    v->stats.not_cached++;
    return EBR_NACK_NOT_CACHED;
  }
  /* newest - dropped: the subscriber's number of the last original it was
   * sent (the originals after that one, up to the newest, were dropped
   * for it, each lowering the difference by one) */
  if ((gint16) (s - (guint16) (rewrite ? newest - dropped : newest)) > 0) {
    v->stats.not_yet++;
    return EBR_NACK_NOT_YET;
  }
  switch (seqlog_map (log, dropped, newest, s, rewrite ? 1 : 0, &orig)) {
    case 1:
      break;
    case 0:
      v->stats.not_sent++;
      return EBR_NACK_NOT_SENT;
    default:
      v->stats.unknown++;
      return EBR_NACK_UNKNOWN;
  }
  p = ebr_cache_get (cache, ssrc, orig);
  if (!p) {
    v->stats.not_cached++;
    return EBR_NACK_NOT_CACHED;
  }
  if (rtt <= 0)
    rtt = EBR_NACK_DEFAULT_RTT;
  if (rtt < EBR_NACK_MIN_RTT)
    rtt = EBR_NACK_MIN_RTT;
  vs = viewer_ssrc (v, ssrc);
  r = &vs->recent[p->ext_seq & (EBR_NACK_RECENT - 1)];
  if (r->ext == p->ext_seq + 1 && now - r->when < rtt) {
    v->stats.repeats++;
    return EBR_NACK_REPEAT;
  }
  r->ext = p->ext_seq + 1;
  r->when = now;
  memcpy (out, p->data, p->len);
  out[2] = s >> 8;
  out[3] = s & 0xff;
  *out_len = p->len;
  v->stats.resent++;
  return EBR_NACK_RESEND;
}

void
ebr_nack_forget (EbrNack * n, gconstpointer viewer)
{
  g_hash_table_remove (n->viewers, viewer);
}

void
ebr_nack_get_stats (EbrNack * n, gconstpointer viewer, EbrNackStats * stats)
{
  Viewer *v = g_hash_table_lookup (n->viewers, viewer);

  if (v)
    *stats = v->stats;
  else
    memset (stats, 0, sizeof (*stats));
}
