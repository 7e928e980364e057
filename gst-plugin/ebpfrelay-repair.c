/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loss repair of ebpfrelaysink: see ebpfrelay-repair.h.
 */
#include "ebpfrelay-repair.h"

#include <errno.h>

#include "ebpfrelay-nack.h"
#include "ebpfrelay-rtx.h"

struct _RelayRepair
{
  RelaySender *sender;
  gint nack_cache;              /* property */
  GstStructure *rtx_map;        /* property rtx-payload-type-map, or NULL */

  EbrCache *cache;              /* NULL: off */
  EbrNack *nack;
  guint8 *out;                  /* EBR_NACK_MAX_PACKET */
  EbrRtx *rtx;                  /* while started */
  guint8 *rtx_out;              /* EBR_NACK_MAX_PACKET + EBR_RTX_OVERHEAD */
  guint64 no_record;            /* NACKs of an SSRC the subscriber lacks */
  guint64 send_errors;
};

RelayRepair *
relay_repair_new (RelaySender * sender)
{
  RelayRepair *r = g_new0 (RelayRepair, 1);

  r->sender = sender;
  r->nack_cache = RELAY_REPAIR_DEFAULT_NACK_CACHE;
  return r;
}

void
relay_repair_free (RelayRepair * r)
{
  relay_repair_stop (r);
  g_clear_pointer (&r->rtx_map, gst_structure_free);
  g_free (r);
}

void
relay_repair_install_property (GObjectClass * klass, guint id)
{
  g_object_class_install_property (klass, id,
      g_param_spec_int ("nack-cache", "NACK cache",
          "Packets kept per SSRC to answer subscribers' NACKs (RFC 4585 "
          "generic NACK) from the relay: at least this many, or 1 s of the "
          "stream if that is more, at most 8192. -1 = 1024 where the relay "
          "sees the originals (userspace mode, pass-original=true), off "
          "where it does not (pass-original=false); 0 = off, NACKs are only "
          "counted. An explicit size with pass-original=false fails to "
          "start", -1, EBR_CACHE_MAX_PACKETS,
          RELAY_REPAIR_DEFAULT_NACK_CACHE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

void
relay_repair_install_rtx_property (GObjectClass * klass, guint id)
{
  g_object_class_install_property (klass, id,
      g_param_spec_boxed ("rtx-payload-type-map", "RTX payload type map",
          "Answer NACKs as RFC 4588 RTX (SSRC multiplexing): map of media "
          "payload types to their RTX payload types, as rtprtxsend's and "
          "rtprtxreceive's payload-type-map, e.g. "
          "\"application/x-rtp-pt-map, 96=(uint)97\". A NACKed packet of a "
          "mapped payload type goes out on an RTX SSRC of the relay's own "
          "per subscriber and media SSRC, with its own sequence numbers and "
          "the subscriber's number as OSN; other payload types are resent "
          "as they are, on their own SSRC. NULL (default): no RTX. A bad map "
          "fails start", GST_TYPE_STRUCTURE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

void
relay_repair_set_rtx_map (RelayRepair * r, const GValue * value)
{
  const GstStructure *s = gst_value_get_structure (value);

  g_clear_pointer (&r->rtx_map, gst_structure_free);
  if (s)
    r->rtx_map = gst_structure_copy (s);
}

void
relay_repair_get_rtx_map (RelayRepair * r, GValue * value)
{
  gst_value_set_structure (value, r->rtx_map);
}

void
relay_repair_set_property (RelayRepair * r, const GValue * value)
{
  r->nack_cache = g_value_get_int (value);
}

void
relay_repair_get_property (RelayRepair * r, GValue * value)
{
  g_value_set_int (value, r->nack_cache);
}

gboolean
relay_repair_start (RelayRepair * r, gboolean originals, GError ** error)
{
  guint packets;

  relay_repair_stop (r);
  r->rtx = ebr_rtx_new ();
  if (!ebr_rtx_set_map (r->rtx, r->rtx_map, error)) {
    g_clear_pointer (&r->rtx, ebr_rtx_free);
    return FALSE;
  }
  if (r->nack_cache == 0)
    return TRUE;
  if (!originals) {
    if (r->nack_cache < 0)
      return TRUE;
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "nack-cache=%d needs the original packets, but pass-original=false "
        "lets the kernel consume them: set pass-original=true, or "
        "nack-cache=-1 or 0", r->nack_cache);
    return FALSE;
  }
  packets = r->nack_cache < 0 ? EBR_CACHE_DEFAULT_PACKETS : r->nack_cache;
  r->cache = ebr_cache_new (packets,
      EBR_CACHE_DEFAULT_AGE_MS * G_TIME_SPAN_MILLISECOND,
      EBR_CACHE_MAX_PACKETS, EBR_CACHE_DEFAULT_SSRCS);
  r->nack = ebr_nack_new ();
  r->out = g_malloc (EBR_NACK_MAX_PACKET);
  r->rtx_out = g_malloc (EBR_NACK_MAX_PACKET + EBR_RTX_OVERHEAD);
  r->no_record = r->send_errors = 0;
  return TRUE;
}

void
relay_repair_stop (RelayRepair * r)
{
  g_clear_pointer (&r->cache, ebr_cache_free);
  g_clear_pointer (&r->nack, ebr_nack_free);
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->rtx_out, g_free);
  g_clear_pointer (&r->rtx, ebr_rtx_free);
}

gboolean
relay_repair_active (RelayRepair * r)
{
  return r->cache != NULL;
}

void
relay_repair_put (RelayRepair * r, const guint8 * data, gsize len, gint64 now)
{
  if (!r->cache || len < 12)
    return;
  /* priority 0: the cache does not classify (the subscriber's record
   * says what it was sent) */
  ebr_cache_put (r->cache, GST_READ_UINT32_BE (data + 8),
      GST_READ_UINT16_BE (data + 2), 0, data, len, now);
}

static gboolean
is_media_ssrc (guint32 ssrc, gpointer user_data)
{
  guint16 seq;

  return ebr_cache_newest (user_data, ssrc, &seq);
}

gboolean
relay_repair_nack (RelayRepair * r, RelayClient * c, guint32 ssrc,
    guint16 seq, gint64 rtt, gint64 now)
{
  struct seqlog log;
  guint32 dropped;
  gboolean rewrite;
  gsize len;

  if (!r->cache)
    return FALSE;
  if (!relay_sender_ssrc_log (r->sender, c, ssrc, &log, &dropped, &rewrite)) {
    r->no_record++;
    return FALSE;
  }
  switch (ebr_nack_decide (r->nack, c, ssrc, seq, &log, dropped, rewrite,
          r->cache, rtt, now, r->out, &len)) {
    case EBR_NACK_RESEND:{
      const guint8 *pkt = r->out;
      gsize rtx_len = ebr_rtx_enabled (r->rtx) ? ebr_rtx_build (r->rtx, c,
          r->out, len, is_media_ssrc, r->cache, r->rtx_out) : 0;

      if (rtx_len) {
        pkt = r->rtx_out;
        len = rtx_len;
      }
      if (!relay_sender_send_one (r->sender, c, pkt, len))
        r->send_errors++;
      return FALSE;
    }
    case EBR_NACK_NOT_CACHED:
    case EBR_NACK_UNKNOWN:
      return TRUE;
    default:
      return FALSE;
  }
}

void
relay_repair_client_removed (RelayRepair * r, RelayClient * c)
{
  if (r->nack)
    ebr_nack_forget (r->nack, c);
  if (r->rtx)
    ebr_rtx_forget (r->rtx, c);
}

void
relay_repair_add_client_stats (RelayRepair * r, GstStructure * s,
    RelayClient * c)
{
  EbrNackStats st = { 0 };

  if (r->nack)
    ebr_nack_get_stats (r->nack, c, &st);
  gst_structure_set (s,
      "nack-resent", G_TYPE_UINT64, st.resent,
      "nack-repeats", G_TYPE_UINT64, st.repeats,
      "nack-not-cached", G_TYPE_UINT64, st.not_cached + st.unknown,
      "nack-not-sent", G_TYPE_UINT64, st.not_sent,
      "nack-not-yet", G_TYPE_UINT64, st.not_yet,
      "rtx-sent", G_TYPE_UINT64, r->rtx ? ebr_rtx_sent (r->rtx, c) : 0, NULL);
}

static void
add_stream (const EbrCacheStreamStats * st, gpointer user_data)
{
  GValue v = G_VALUE_INIT;
  GstStructure *s = gst_structure_new ("nack-cache-stream",
      "ssrc", G_TYPE_UINT, st->ssrc,
      "capacity", G_TYPE_UINT, st->capacity,
      "packets", G_TYPE_UINT, st->packets,
      "bytes", G_TYPE_UINT64, st->bytes,
      "lookups", G_TYPE_UINT64, st->lookups,
      "hits", G_TYPE_UINT64, st->hits,
      "hit-rate", G_TYPE_DOUBLE,
      st->lookups ? (gdouble) st->hits / st->lookups : 0.0, NULL);

  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, s);
  gst_value_array_append_and_take_value (user_data, &v);
}

void
relay_repair_add_stats (RelayRepair * r, GstStructure * s)
{
  GValue streams = G_VALUE_INIT;

  EbrCacheStats st = { 0 };

  if (r->cache)
    ebr_cache_get_stats (r->cache, &st);
  gst_structure_set (s,
      "nack-cache-active", G_TYPE_BOOLEAN, r->cache != NULL,
      "nack-cache-ssrcs", G_TYPE_UINT, st.n_ssrcs,
      "nack-cache-packets", G_TYPE_UINT64, st.packets,
      "nack-cache-bytes", G_TYPE_UINT64, st.bytes,
      "nack-cache-lookups", G_TYPE_UINT64, st.lookups,
      "nack-cache-hits", G_TYPE_UINT64, st.hits,
      "nack-no-record", G_TYPE_UINT64, r->no_record,
      "nack-send-errors", G_TYPE_UINT64, r->send_errors,
      "rtx-active", G_TYPE_BOOLEAN, r->cache && ebr_rtx_enabled (r->rtx),
      NULL);
  /* per SSRC: ring size, what it holds, hit rate */
  g_value_init (&streams, GST_TYPE_ARRAY);
  if (r->cache)
    ebr_cache_foreach (r->cache, add_stream, &streams);
  gst_structure_take_value (s, "nack-cache-streams", &streams);
}
