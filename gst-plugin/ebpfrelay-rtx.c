/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RFC 4588 retransmissions of ebpfrelaysink: see ebpfrelay-rtx.h.
 */
#include "ebpfrelay-rtx.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <stdlib.h>

typedef struct
{
  guint32 ssrc;                 /* the RTX stream's */
  guint16 next_seq;
  guint64 sent;
} RtxStream;

typedef struct
{
  GHashTable *streams;          /* media SSRC -> RtxStream */
  guint64 sent;
} RtxViewer;

struct _EbrRtx
{
  gint pt_map[128];             /* media PT -> RTX PT, -1 none */
  gboolean enabled;
  GHashTable *viewers;          /* viewer -> RtxViewer */
};

static void
viewer_free (gpointer p)
{
  RtxViewer *v = p;

  g_hash_table_destroy (v->streams);
  g_free (v);
}

EbrRtx *
ebr_rtx_new (void)
{
  EbrRtx *x = g_new0 (EbrRtx, 1);

  for (guint i = 0; i < G_N_ELEMENTS (x->pt_map); i++)
    x->pt_map[i] = -1;
  x->viewers = g_hash_table_new_full (NULL, NULL, NULL, viewer_free);
  return x;
}

void
ebr_rtx_free (EbrRtx * x)
{
  g_hash_table_destroy (x->viewers);
  g_free (x);
}

static gboolean
parse_pt (const gchar * s, gint * pt)
{
  gchar *end;
  glong v;

  if (!g_ascii_isdigit (s[0]))
    return FALSE;
  v = strtol (s, &end, 10);
  if (*end != '\0' || v < 0 || v > 127)
    return FALSE;
  *pt = v;
  return TRUE;
}

gboolean
ebr_rtx_set_map (EbrRtx * x, const GstStructure * map, GError ** error)
{
  gint pts[128];
  const gchar *name = NULL;
  gboolean any = FALSE;
  gint n;

  for (guint i = 0; i < G_N_ELEMENTS (pts); i++)
    pts[i] = -1;
  n = map ? gst_structure_n_fields (map) : 0;
  for (gint i = 0; i < n; i++) {
    const GValue *v;
    gint media, rtx;

    name = gst_structure_nth_field_name (map, i);
    v = gst_structure_get_value (map, name);

    if (!parse_pt (name, &media))
      goto bad_media;
    if (G_VALUE_HOLDS_UINT (v) && g_value_get_uint (v) <= 127)
      rtx = g_value_get_uint (v);
    else if (G_VALUE_HOLDS_INT (v) && g_value_get_int (v) >= 0
        && g_value_get_int (v) <= 127)
      rtx = g_value_get_int (v);
    else
      goto bad_rtx;
    pts[media] = rtx;
    any = TRUE;
  }
  for (gint m = 0; m < 128; m++) {
    if (pts[m] < 0)
      continue;
    if (pts[pts[m]] >= 0 || pts[m] == m)
      goto rtx_is_media;
    for (gint o = m + 1; o < 128; o++)
      if (pts[o] == pts[m])
        goto rtx_twice;
  }
  memcpy (x->pt_map, pts, sizeof (pts));
  x->enabled = any;
  return TRUE;

  /* ERRORS */
bad_media:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "rtx-payload-type-map: field \"%s\" is no payload type 0..127 (write "
      "e.g. \"application/x-rtp-pt-map, 96=(uint)97\": media PT = RTX PT)",
      name);
  return FALSE;
bad_rtx:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "rtx-payload-type-map: the RTX payload type of media payload type "
      "%s is no integer 0..127 (write e.g. \"application/x-rtp-pt-map, "
      "96=(uint)97\")", name);
  return FALSE;
rtx_is_media:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "rtx-payload-type-map: RTX payload types must differ from the media "
      "payload types of the map");
  return FALSE;
rtx_twice:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "rtx-payload-type-map: two media payload types have the same RTX "
      "payload type");
  return FALSE;
}

gboolean
ebr_rtx_enabled (EbrRtx * x)
{
  return x->enabled;
}

gint
ebr_rtx_pt_of (EbrRtx * x, guint pt)
{
  return pt < 128 ? x->pt_map[pt] : -1;
}

static gboolean
ssrc_taken (RtxViewer * v, guint32 ssrc, guint32 media_ssrc,
    EbrRtxIsMedia is_media, gpointer user_data)
{
  GHashTableIter it;
  gpointer key, val;

  if (ssrc == media_ssrc || (is_media && is_media (ssrc, user_data)))
    return TRUE;
  g_hash_table_iter_init (&it, v->streams);
  while (g_hash_table_iter_next (&it, &key, &val))
    if (GPOINTER_TO_UINT (key) == ssrc || ((RtxStream *) val)->ssrc == ssrc)
      return TRUE;
  return FALSE;
}

static RtxStream *
stream_for (EbrRtx * x, gconstpointer viewer, guint32 media_ssrc,
    EbrRtxIsMedia is_media, gpointer user_data)
{
  RtxViewer *v = g_hash_table_lookup (x->viewers, viewer);
  RtxStream *st;

  if (!v) {
    v = g_new0 (RtxViewer, 1);
    v->streams = g_hash_table_new_full (NULL, NULL, NULL, g_free);
    g_hash_table_insert (x->viewers, (gpointer) viewer, v);
  }
  st = g_hash_table_lookup (v->streams, GUINT_TO_POINTER (media_ssrc));
  if (st && !(is_media && is_media (st->ssrc, user_data)))
    return st;
  if (!st) {
    st = g_new0 (RtxStream, 1);
    st->next_seq = g_random_int_range (0, 65536);
  } else {
    /* a media SSRC appeared that is this RTX SSRC: draw another */
    g_hash_table_steal (v->streams, GUINT_TO_POINTER (media_ssrc));
  }
  do
    st->ssrc = g_random_int ();
  while (ssrc_taken (v, st->ssrc, media_ssrc, is_media, user_data));
  g_hash_table_insert (v->streams, GUINT_TO_POINTER (media_ssrc), st);
  return st;
}

gsize
ebr_rtx_build (EbrRtx * x, gconstpointer viewer, const guint8 * pkt,
    gsize len, EbrRtxIsMedia is_media, gpointer user_data, guint8 * out)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstBuffer *in, *ob;
  guint hdr, plen;
  guint16 osn;
  guint32 ssrc;
  gint rtx_pt;
  RtxStream *st;
  gsize out_len;

  in = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, (gpointer) pkt,
      len, 0, len, NULL, NULL);
  if (!gst_rtp_buffer_map (in, GST_MAP_READ, &rtp)) {
    gst_buffer_unref (in);
    return 0;
  }
  rtx_pt = ebr_rtx_pt_of (x, gst_rtp_buffer_get_payload_type (&rtp));
  hdr = gst_rtp_buffer_get_header_len (&rtp);
  plen = gst_rtp_buffer_get_payload_len (&rtp);
  osn = gst_rtp_buffer_get_seq (&rtp);
  ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  if (rtx_pt >= 0) {
    /* header with CSRCs and extensions as they are, OSN, payload without
     * the padding */
    memcpy (out, pkt, hdr);
    GST_WRITE_UINT16_BE (out + hdr, osn);
    memcpy (out + hdr + EBR_RTX_OVERHEAD, gst_rtp_buffer_get_payload (&rtp),
        plen);
  }
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (in);
  if (rtx_pt < 0)
    return 0;

  out_len = hdr + EBR_RTX_OVERHEAD + plen;
  st = stream_for (x, viewer, ssrc, is_media, user_data);
  /* the padding went with the original payload: no padding bit, or the
   * mapping would read the OSN's payload as a padding count */
  out[0] &= ~0x20;
  ob = gst_buffer_new_wrapped_full (0, out, out_len, 0, out_len, NULL, NULL);
  if (!gst_rtp_buffer_map (ob, GST_MAP_WRITE, &rtp)) {
    gst_buffer_unref (ob);
    return 0;
  }
  gst_rtp_buffer_set_payload_type (&rtp, rtx_pt);
  gst_rtp_buffer_set_seq (&rtp, st->next_seq);
  gst_rtp_buffer_set_ssrc (&rtp, st->ssrc);
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (ob);
  st->next_seq++;
  st->sent++;
  ((RtxViewer *) g_hash_table_lookup (x->viewers, viewer))->sent++;
  return out_len;
}

gboolean
ebr_rtx_stream (EbrRtx * x, gconstpointer viewer, guint32 ssrc,
    guint32 * rtx_ssrc, guint16 * next_seq, guint64 * sent)
{
  RtxViewer *v = g_hash_table_lookup (x->viewers, viewer);
  RtxStream *st = v ? g_hash_table_lookup (v->streams,
      GUINT_TO_POINTER (ssrc)) : NULL;

  if (!st)
    return FALSE;
  if (rtx_ssrc)
    *rtx_ssrc = st->ssrc;
  if (next_seq)
    *next_seq = st->next_seq;
  if (sent)
    *sent = st->sent;
  return TRUE;
}

guint64
ebr_rtx_sent (EbrRtx * x, gconstpointer viewer)
{
  RtxViewer *v = g_hash_table_lookup (x->viewers, viewer);

  return v ? v->sent : 0;
}

void
ebr_rtx_forget (EbrRtx * x, gconstpointer viewer)
{
  g_hash_table_remove (x->viewers, viewer);
}
