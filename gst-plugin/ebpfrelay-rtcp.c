/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay's feedback plane: see ebpfrelay-rtcp.h for what it owns, its
 * locking rule and how viewers' RTCP is attributed.
 */
#include "ebpfrelay-rtcp.h"

#include <string.h>

#define RTP_SEQ_MOD (1u << 16)
/* RFC 3550 A.1 */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

typedef struct
{
  guint32 ssrc;
  gboolean seq_init;
  guint16 max_seq;
  guint32 cycles;
  guint32 base_seq;
  guint32 bad_seq;
  guint64 received;
  guint64 expected_prior;
  guint64 received_prior;
  guint64 bad;
  /* A.8, scaled by 16 */
  guint32 jitter;
  guint32 transit;
  gboolean has_transit;
  /* the sender's last SR */
  gboolean has_sr;
  guint32 lsr;
  GstClockTime sr_time;
} Source;

typedef struct
{
  guint32 ssrc;
  guint32 ntp_mid;
  GstClockTime time;
  gboolean used;
} SrRecord;

typedef struct
{
  GstClockTime last;
  gboolean sent;
  guint8 fir_seq;
  gboolean fir_sent;
} Throttle;

typedef struct
{
  guint id;
  RelayAddr addr;               /* its host (the port is in port) */
  guint16 port;
  guint16 rtcp_port;            /* 0: none */
  gboolean bound;
  guint32 ssrc;
  EbrRtcpViewerStats stats;
  GArray *reports;              /* EbrRtcpViewerReport */
} Viewer;

struct _EbrRtcp
{
  guint32 ssrc;
  gchar *cname;
  GstClockTime keyframe_interval;
  GHashTable *sources;          /* ssrc -> Source */
  GHashTable *throttles;        /* media ssrc -> Throttle */
  GHashTable *viewers;          /* id -> Viewer */
  SrRecord srs[EBR_RTCP_SR_HISTORY];
  guint sr_next;
  EbrRtcpStats stats;
};

gboolean
ebr_rtcp_is_rtcp (const guint8 * data, gsize len)
{
  return len >= 8 && (data[0] & 0xc0) == 0x80 && data[1] >= 192
      && data[1] <= 223;
}

/* A read-only GstBuffer over @data, no copy. */
static GstBuffer *
wrap (const guint8 * data, gsize len)
{
  return gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      (gpointer) data, len, 0, len, NULL, NULL);
}

/* --- parsing a viewer's compound ------------------------------------------------- */

void
ebr_rtcp_feedback_init (EbrRtcpFeedback * fb)
{
  memset (fb, 0, sizeof (*fb));
  fb->blocks = g_array_new (FALSE, FALSE, sizeof (EbrRtcpReportBlock));
  fb->keyframes = g_array_new (FALSE, FALSE, sizeof (EbrRtcpKeyframeRequest));
  fb->nacks = g_array_new (FALSE, FALSE, sizeof (EbrRtcpNack));
}

void
ebr_rtcp_feedback_clear (EbrRtcpFeedback * fb)
{
  g_clear_pointer (&fb->blocks, g_array_unref);
  g_clear_pointer (&fb->keyframes, g_array_unref);
  g_clear_pointer (&fb->nacks, g_array_unref);
}

static void
feedback_reset (EbrRtcpFeedback * fb)
{
  fb->has_sender_ssrc = FALSE;
  fb->sender_ssrc = 0;
  fb->ignored = 0;
  g_array_set_size (fb->blocks, 0);
  g_array_set_size (fb->keyframes, 0);
  g_array_set_size (fb->nacks, 0);
}

static void
feedback_sender (EbrRtcpFeedback * fb, guint32 ssrc)
{
  if (!fb->has_sender_ssrc) {
    fb->has_sender_ssrc = TRUE;
    fb->sender_ssrc = ssrc;
  }
}

static void
parse_blocks (GstRTCPPacket * p, EbrRtcpFeedback * fb)
{
  guint i, n = gst_rtcp_packet_get_rb_count (p);

  for (i = 0; i < n; i++) {
    EbrRtcpReportBlock b = { 0 };

    gst_rtcp_packet_get_rb (p, i, &b.ssrc, &b.fraction_lost,
        &b.cumulative_lost, &b.ext_highest_seq, &b.jitter, &b.lsr, &b.dlsr);
    g_array_append_val (fb->blocks, b);
  }
}

static void
parse_psfb (GstRTCPPacket * p, EbrRtcpFeedback * fb)
{
  guint8 *fci = gst_rtcp_packet_fb_get_fci (p);
  guint words = gst_rtcp_packet_fb_get_fci_length (p);
  guint i;

  feedback_sender (fb, gst_rtcp_packet_fb_get_sender_ssrc (p));
  switch (gst_rtcp_packet_fb_get_type (p)) {
    case GST_RTCP_PSFB_TYPE_PLI:{
      EbrRtcpKeyframeRequest k = {
        .media_ssrc = gst_rtcp_packet_fb_get_media_ssrc (p),
        .kind = EBR_RTCP_KEYFRAME_PLI
      };
      g_array_append_val (fb->keyframes, k);
      break;
    }
    case GST_RTCP_PSFB_TYPE_FIR:
      /* FCI entries of 8 bytes: SSRC, seq nr, 3 reserved; the header's
       * media SSRC is unused (0). */
      for (i = 0; fci && i + 2 <= words; i += 2) {
        EbrRtcpKeyframeRequest k = {
          .media_ssrc = GST_READ_UINT32_BE (fci + 4 * i),
          .kind = EBR_RTCP_KEYFRAME_FIR,
          .fir_seq = fci[4 * i + 4]
        };
        g_array_append_val (fb->keyframes, k);
      }
      break;
    default:
      fb->ignored++;
      break;
  }
}

static void
parse_rtpfb (GstRTCPPacket * p, EbrRtcpFeedback * fb)
{
  guint8 *fci = gst_rtcp_packet_fb_get_fci (p);
  guint words = gst_rtcp_packet_fb_get_fci_length (p);
  guint32 media = gst_rtcp_packet_fb_get_media_ssrc (p);
  guint i, bit;

  feedback_sender (fb, gst_rtcp_packet_fb_get_sender_ssrc (p));
  if (gst_rtcp_packet_fb_get_type (p) != GST_RTCP_RTPFB_TYPE_NACK) {
    fb->ignored++;
    return;
  }
  for (i = 0; fci && i < words; i++) {
    guint16 pid = GST_READ_UINT16_BE (fci + 4 * i);
    guint16 blp = GST_READ_UINT16_BE (fci + 4 * i + 2);
    EbrRtcpNack n = {.media_ssrc = media,.seq = pid };

    g_array_append_val (fb->nacks, n);
    for (bit = 0; bit < 16; bit++) {
      if (blp & (1u << bit)) {
        n.seq = (guint16) (pid + bit + 1);
        g_array_append_val (fb->nacks, n);
      }
    }
  }
}

/* What gst_rtcp_buffer_validate_data_reduced lets through but
 * GstRTCPBuffer's accessors cannot take: a compound is used only when its
 * iteration reaches the end of the datagram (it stops early at a packet it
 * cannot read, e.g. an APP shorter than its name, and what follows was
 * never looked at), and when every SR and RR holds its sender info and the
 * report blocks its count announces, and every RTPFB/PSFB its two SSRCs.
 * gst_rtcp_packet_sr_get_sender_info/_set_sender_info, _get_rb and
 * _fb_get_*_ssrc do not check the packet's length: on a shorter packet
 * they read (and for the SR counts, write) the next packet's bytes, or
 * past the end of the buffer. (Found by tests/fuzz/fuzz-rtcp-sender.) */
static gboolean
compound_ok (GstRTCPBuffer * rtcp, gsize size)
{
  GstRTCPPacket p;
  gboolean more;
  gsize end = 0;

  for (more = gst_rtcp_buffer_get_first_packet (rtcp, &p); more;
      more = gst_rtcp_packet_move_to_next (&p)) {
    guint words = gst_rtcp_packet_get_length (&p), min;

    switch (gst_rtcp_packet_get_type (&p)) {
      case GST_RTCP_TYPE_SR:
        min = 6 + 6 * gst_rtcp_packet_get_rb_count (&p);
        break;
      case GST_RTCP_TYPE_RR:
        min = 1 + 6 * gst_rtcp_packet_get_rb_count (&p);
        break;
      case GST_RTCP_TYPE_RTPFB:
      case GST_RTCP_TYPE_PSFB:
        min = 2;
        break;
      default:
        min = 0;
        break;
    }
    if (words < min)
      return FALSE;
    end = p.offset + 4 * ((gsize) words + 1);
  }
  return end == size;
}

gboolean
ebr_rtcp_parse_feedback (const guint8 * data, gsize len, EbrRtcpFeedback * fb)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  GstBuffer *buf;
  gboolean more;

  feedback_reset (fb);
  if (len < 4 || len > G_MAXUINT
      || !gst_rtcp_buffer_validate_data_reduced ((guint8 *) data, len))
    return FALSE;

  buf = wrap (data, len);
  gst_rtcp_buffer_map (buf, GST_MAP_READ, &rtcp);
  if (!compound_ok (&rtcp, len)) {
    gst_rtcp_buffer_unmap (&rtcp);
    gst_buffer_unref (buf);
    return FALSE;
  }
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &p); more;
      more = gst_rtcp_packet_move_to_next (&p)) {
    switch (gst_rtcp_packet_get_type (&p)) {
      case GST_RTCP_TYPE_RR:
        feedback_sender (fb, gst_rtcp_packet_rr_get_ssrc (&p));
        parse_blocks (&p, fb);
        break;
      case GST_RTCP_TYPE_SR:{
        guint32 ssrc;

        gst_rtcp_packet_sr_get_sender_info (&p, &ssrc, NULL, NULL, NULL, NULL);
        feedback_sender (fb, ssrc);
        parse_blocks (&p, fb);
        break;
      }
      case GST_RTCP_TYPE_PSFB:
        parse_psfb (&p, fb);
        break;
      case GST_RTCP_TYPE_RTPFB:
        parse_rtpfb (&p, fb);
        break;
      default:
        fb->ignored++;
        break;
    }
  }
  gst_rtcp_buffer_unmap (&rtcp);
  gst_buffer_unref (buf);
  return TRUE;
}

/* --- sender reports, down ------------------------------------------------------ */

GstBuffer *
ebr_rtcp_rewrite_sr (GstBuffer * compound, EbrRtcpSentFunc sent,
    gpointer user_data)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  GstMapInfo map;
  GstBuffer *copy;
  gboolean valid, more;

  if (!gst_buffer_map (compound, &map, GST_MAP_READ))
    return NULL;
  valid = map.size >= 4 && map.size <= G_MAXUINT
      && gst_rtcp_buffer_validate_data_reduced (map.data, map.size);
  copy = valid ? gst_buffer_new_memdup (map.data, map.size) : NULL;
  gst_buffer_unmap (compound, &map);
  if (!copy)
    return NULL;

  gst_rtcp_buffer_map (copy, GST_MAP_READWRITE, &rtcp);
  if (!compound_ok (&rtcp, gst_buffer_get_size (copy))) {
    gst_rtcp_buffer_unmap (&rtcp);
    gst_buffer_unref (copy);
    return NULL;
  }
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &p); more;
      more = gst_rtcp_packet_move_to_next (&p)) {
    guint32 ssrc, rtptime, packets, octets;
    guint64 ntptime;

    if (gst_rtcp_packet_get_type (&p) != GST_RTCP_TYPE_SR)
      continue;
    gst_rtcp_packet_sr_get_sender_info (&p, &ssrc, &ntptime, &rtptime,
        &packets, &octets);
    if (sent (ssrc, &packets, &octets, user_data))
      gst_rtcp_packet_sr_set_sender_info (&p, ssrc, ntptime, rtptime,
          packets, octets);
  }
  /* unmap of a writable map sets the size to the map's, which is the size
   * of the copy: nothing was added or removed */
  gst_rtcp_buffer_unmap (&rtcp);
  return copy;
}

/* --- the relay's state ---------------------------------------------------------- */

static void
viewer_free (gpointer data)
{
  Viewer *v = data;

  g_array_unref (v->reports);
  g_free (v);
}

EbrRtcp *
ebr_rtcp_new (guint32 relay_ssrc, const gchar * cname,
    GstClockTime keyframe_interval)
{
  EbrRtcp *r = g_new0 (EbrRtcp, 1);

  r->ssrc = relay_ssrc;
  r->cname = g_strdup (cname);
  r->keyframe_interval = keyframe_interval;
  r->sources = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  r->throttles = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  r->viewers = g_hash_table_new_full (NULL, NULL, NULL, viewer_free);
  return r;
}

void
ebr_rtcp_free (EbrRtcp * r)
{
  if (!r)
    return;
  g_hash_table_unref (r->sources);
  g_hash_table_unref (r->throttles);
  g_hash_table_unref (r->viewers);
  g_free (r->cname);
  g_free (r);
}

void
ebr_rtcp_get_stats (EbrRtcp * r, EbrRtcpStats * stats)
{
  *stats = r->stats;
}

static Source *
source_get (EbrRtcp * r, guint32 ssrc)
{
  Source *s = g_hash_table_lookup (r->sources, GUINT_TO_POINTER (ssrc));

  if (!s) {
    s = g_new0 (Source, 1);
    s->ssrc = ssrc;
    g_hash_table_insert (r->sources, GUINT_TO_POINTER (ssrc), s);
  }
  return s;
}

/* RFC 3550 A.1 init_seq */
static void
source_init_seq (Source * s, guint16 seq)
{
  s->seq_init = TRUE;
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = RTP_SEQ_MOD + 1;
  s->cycles = 0;
  s->received = 0;
  s->received_prior = 0;
  s->expected_prior = 0;
}

/* RFC 3550 A.1 update_seq, without probation. */
static gboolean
source_update_seq (Source * s, guint16 seq)
{
  guint16 udelta = seq - s->max_seq;

  if (!s->seq_init) {
    source_init_seq (s, seq);
  } else if (udelta < MAX_DROPOUT) {
    if (seq < s->max_seq)
      s->cycles += RTP_SEQ_MOD;
    s->max_seq = seq;
  } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
    if (seq == s->bad_seq) {
      /* two in sequence after a jump: the sender restarted */
      source_init_seq (s, seq);
      s->has_transit = FALSE;
    } else {
      s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
      s->bad++;
      return FALSE;
    }
  }
  /* else: duplicate or reordered, counted (A.1) */
  s->received++;
  return TRUE;
}

gboolean
ebr_rtcp_source_update (EbrRtcp * r, GstBuffer * rtp, guint32 clock_rate,
    GstClockTime arrival)
{
  GstRTPBuffer b = GST_RTP_BUFFER_INIT;
  guint32 ssrc, ts;
  guint16 seq;
  Source *s;

  if (!gst_rtp_buffer_map (rtp, GST_MAP_READ, &b))
    return FALSE;
  ssrc = gst_rtp_buffer_get_ssrc (&b);
  seq = gst_rtp_buffer_get_seq (&b);
  ts = gst_rtp_buffer_get_timestamp (&b);
  gst_rtp_buffer_unmap (&b);

  s = source_get (r, ssrc);
  if (!source_update_seq (s, seq))
    return FALSE;

  if (clock_rate > 0 && GST_CLOCK_TIME_IS_VALID (arrival)) {
    /* A.8: arrival in RTP timestamp units; only differences matter, so
     * the wrap of the 32-bit value is harmless */
    guint32 arr = (guint32) gst_util_uint64_scale (arrival, clock_rate,
        GST_SECOND);
    guint32 transit = arr - ts;

    if (s->has_transit) {
      gint32 d = (gint32) (transit - s->transit);

      if (d < 0)
        d = -d;
      s->jitter += (guint32) d - ((s->jitter + 8) >> 4);
    }
    s->transit = transit;
    s->has_transit = TRUE;
  }
  return TRUE;
}

void
ebr_rtcp_source_set (EbrRtcp * r, guint32 ssrc, guint16 base_seq,
    guint32 cycles, guint16 max_seq, guint64 received, guint32 jitter)
{
  Source *s = source_get (r, ssrc);

  if (!s->seq_init || s->base_seq != base_seq)
    source_init_seq (s, base_seq);
  s->cycles = cycles;
  s->max_seq = max_seq;
  s->received = received;
  s->jitter = jitter << 4;
}

static guint64
source_expected (const Source * s)
{
  return (guint64) s->cycles + s->max_seq - s->base_seq + 1;
}

gboolean
ebr_rtcp_source_get_stats (EbrRtcp * r, guint32 ssrc,
    EbrRtcpSourceStats * stats)
{
  Source *s = g_hash_table_lookup (r->sources, GUINT_TO_POINTER (ssrc));

  memset (stats, 0, sizeof (*stats));
  if (!s)
    return FALSE;
  stats->ssrc = ssrc;
  stats->has_sr = s->has_sr;
  stats->lsr = s->lsr;
  stats->bad = s->bad;
  if (!s->seq_init)
    return TRUE;
  stats->base_seq = s->base_seq;
  stats->cycles = s->cycles;
  stats->ext_highest_seq = s->cycles + s->max_seq;
  stats->received = s->received;
  stats->expected = source_expected (s);
  stats->lost = (gint64) stats->expected - (gint64) s->received;
  stats->jitter = s->jitter >> 4;
  return TRUE;
}

guint
ebr_rtcp_sender_rtcp (EbrRtcp * r, GstBuffer * compound, GstClockTime now)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  gboolean more;
  guint n = 0;

  if (!gst_rtcp_buffer_map (compound, GST_MAP_READ, &rtcp))
    return 0;
  if (!compound_ok (&rtcp, gst_buffer_get_size (compound))) {
    gst_rtcp_buffer_unmap (&rtcp);
    return 0;
  }
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &p); more;
      more = gst_rtcp_packet_move_to_next (&p)) {
    guint32 ssrc;
    guint64 ntp;
    SrRecord *rec;
    Source *s;

    if (gst_rtcp_packet_get_type (&p) != GST_RTCP_TYPE_SR)
      continue;
    gst_rtcp_packet_sr_get_sender_info (&p, &ssrc, &ntp, NULL, NULL, NULL);
    s = source_get (r, ssrc);
    s->has_sr = TRUE;
    s->lsr = (guint32) (ntp >> 16);
    s->sr_time = now;
    rec = &r->srs[r->sr_next];
    r->sr_next = (r->sr_next + 1) % EBR_RTCP_SR_HISTORY;
    rec->used = TRUE;
    rec->ssrc = ssrc;
    rec->ntp_mid = s->lsr;
    rec->time = now;
    n++;
  }
  gst_rtcp_buffer_unmap (&rtcp);
  r->stats.srs_forwarded += n;
  return n;
}

gboolean
ebr_rtcp_rtt (EbrRtcp * r, guint32 ssrc, guint32 lsr, guint32 dlsr,
    GstClockTime now, GstClockTime * rtt)
{
  GstClockTime delay;
  guint i;

  if (lsr == 0)
    return FALSE;
  /* newest first: the same NTP value cannot come twice from one SSRC
   * unless its clock stands still */
  for (i = 1; i <= EBR_RTCP_SR_HISTORY; i++) {
    SrRecord *rec = &r->srs[(r->sr_next + EBR_RTCP_SR_HISTORY - i)
        % EBR_RTCP_SR_HISTORY];

    if (!rec->used || rec->ssrc != ssrc || rec->ntp_mid != lsr)
      continue;
    delay = gst_util_uint64_scale (dlsr, GST_SECOND, 65536);
    if (now < rec->time + delay)
      *rtt = 0;
    else
      *rtt = now - rec->time - delay;
    return TRUE;
  }
  return FALSE;
}

/* Starts a compound in @rtcp: RR with the relay's SSRC; blocks added by
 * the caller. */
static gboolean
begin_rr (EbrRtcp * r, GstRTCPBuffer * rtcp, GstRTCPPacket * p)
{
  if (!gst_rtcp_buffer_add_packet (rtcp, GST_RTCP_TYPE_RR, p))
    return FALSE;
  gst_rtcp_packet_rr_set_ssrc (p, r->ssrc);
  return TRUE;
}

static gboolean
add_sdes (EbrRtcp * r, GstRTCPBuffer * rtcp)
{
  GstRTCPPacket p;

  if (!r->cname)
    return TRUE;
  return gst_rtcp_buffer_add_packet (rtcp, GST_RTCP_TYPE_SDES, &p)
      && gst_rtcp_packet_sdes_add_item (&p, r->ssrc)
      && gst_rtcp_packet_sdes_add_entry (&p, GST_RTCP_SDES_CNAME,
      MIN (strlen (r->cname), 255), (const guint8 *) r->cname);
}

static GstBuffer *
finish (GstRTCPBuffer * rtcp, GstBuffer * buf, gboolean ok)
{
  gst_rtcp_buffer_unmap (rtcp);
  if (!ok) {
    gst_buffer_unref (buf);
    return NULL;
  }
  return buf;
}

static gint
source_cmp (gconstpointer a, gconstpointer b)
{
  guint32 x = (*(Source **) a)->ssrc, y = (*(Source **) b)->ssrc;

  return x < y ? -1 : x > y;
}

GstBuffer *
ebr_rtcp_build_rr (EbrRtcp * r, GstClockTime now)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  GstBuffer *buf;
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  gboolean ok;
  guint i;

  g_hash_table_iter_init (&it, r->sources);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Source *) value)->seq_init)
      g_ptr_array_add (list, value);
  if (list->len == 0) {
    g_ptr_array_unref (list);
    return NULL;
  }
  /* a stable order, whatever the hash table's */
  g_ptr_array_sort (list, source_cmp);

  buf = gst_rtcp_buffer_new (EBR_RTCP_MTU);
  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  ok = begin_rr (r, &rtcp, &p);
  for (i = 0; ok && i < MIN (list->len, GST_RTCP_MAX_RB_COUNT); i++) {
    Source *s = g_ptr_array_index (list, i);
    guint64 expected = source_expected (s);
    gint64 lost = (gint64) expected - (gint64) s->received;
    gint64 exp_int = expected - s->expected_prior;
    gint64 lost_int = exp_int - (gint64) (s->received - s->received_prior);
    guint8 fraction = 0;
    guint32 dlsr = 0;

    /* A.3 */
    if (exp_int > 0 && lost_int > 0)
      fraction = (lost_int << 8) / exp_int;
    s->expected_prior = expected;
    s->received_prior = s->received;
    lost = CLAMP (lost, -0x800000, 0x7fffff);
    if (s->has_sr && GST_CLOCK_TIME_IS_VALID (now) && now >= s->sr_time)
      dlsr = (guint32) MIN (gst_util_uint64_scale (now - s->sr_time, 65536,
              GST_SECOND), G_MAXUINT32);
    ok = gst_rtcp_packet_add_rb (&p, s->ssrc, fraction, (gint32) lost,
        s->cycles + s->max_seq, s->jitter >> 4, s->has_sr ? s->lsr : 0,
        s->has_sr ? dlsr : 0);
  }
  g_ptr_array_unref (list);
  ok = ok && add_sdes (r, &rtcp);
  return finish (&rtcp, buf, ok);
}

/* --- key-frame requests, up --------------------------------------------------- */

static Throttle *
throttle_get (EbrRtcp * r, guint32 ssrc)
{
  Throttle *t = g_hash_table_lookup (r->throttles, GUINT_TO_POINTER (ssrc));

  if (!t) {
    t = g_new0 (Throttle, 1);
    g_hash_table_insert (r->throttles, GUINT_TO_POINTER (ssrc), t);
  }
  return t;
}

gboolean
ebr_rtcp_keyframe_should_send (EbrRtcp * r, guint32 media_ssrc,
    GstClockTime now)
{
  Throttle *t = throttle_get (r, media_ssrc);

  if (t->sent && now < t->last + r->keyframe_interval) {
    r->stats.keyframe_suppressed++;
    return FALSE;
  }
  t->sent = TRUE;
  t->last = now;
  r->stats.keyframe_sent++;
  return TRUE;
}

static GstBuffer *
build_psfb (EbrRtcp * r, guint32 media_ssrc, gboolean fir)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  GstBuffer *buf = gst_rtcp_buffer_new (EBR_RTCP_MTU);
  gboolean ok;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  ok = begin_rr (r, &rtcp, &p) && add_sdes (r, &rtcp)
      && gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p);
  if (ok) {
    gst_rtcp_packet_fb_set_type (&p, fir ? GST_RTCP_PSFB_TYPE_FIR :
        GST_RTCP_PSFB_TYPE_PLI);
    gst_rtcp_packet_fb_set_sender_ssrc (&p, r->ssrc);
    gst_rtcp_packet_fb_set_media_ssrc (&p, fir ? 0 : media_ssrc);
  }
  if (ok && fir) {
    Throttle *t = throttle_get (r, media_ssrc);
    guint8 *fci;

    ok = gst_rtcp_packet_fb_set_fci_length (&p, 2);
    if (ok) {
      if (t->fir_sent)
        t->fir_seq++;
      t->fir_sent = TRUE;
      fci = gst_rtcp_packet_fb_get_fci (&p);
      GST_WRITE_UINT32_BE (fci, media_ssrc);
      fci[4] = t->fir_seq;
      fci[5] = fci[6] = fci[7] = 0;
    }
  }
  return finish (&rtcp, buf, ok);
}

GstBuffer *
ebr_rtcp_build_pli (EbrRtcp * r, guint32 media_ssrc)
{
  return build_psfb (r, media_ssrc, FALSE);
}

GstBuffer *
ebr_rtcp_build_fir (EbrRtcp * r, guint32 media_ssrc)
{
  return build_psfb (r, media_ssrc, TRUE);
}

/* --- viewers ----------------------------------------------------------------- */

void
ebr_rtcp_viewer_add (EbrRtcp * r, guint id, guint32 addr, guint16 port)
{
  RelayAddr a = { 0 };

  a.v4.sin_family = AF_INET;
  a.v4.sin_addr.s_addr = addr;
  ebr_rtcp_viewer_add_addr (r, id, &a, port);
}

void
ebr_rtcp_viewer_add_addr (EbrRtcp * r, guint id, const RelayAddr * addr,
    guint16 port)
{
  Viewer *v = g_new0 (Viewer, 1);

  v->id = id;
  v->addr = *addr;
  v->port = port;
  v->rtcp_port = port < 65535 ? port + 1 : 0;
  v->reports = g_array_new (FALSE, FALSE, sizeof (EbrRtcpViewerReport));
  g_hash_table_replace (r->viewers, GUINT_TO_POINTER (id), v);
}

void
ebr_rtcp_viewer_remove (EbrRtcp * r, guint id)
{
  g_hash_table_remove (r->viewers, GUINT_TO_POINTER (id));
}

gboolean
ebr_rtcp_viewer_set_rtcp_port (EbrRtcp * r, guint id, guint16 rtcp_port)
{
  Viewer *v = g_hash_table_lookup (r->viewers, GUINT_TO_POINTER (id));

  if (!v)
    return FALSE;
  v->rtcp_port = rtcp_port;
  return TRUE;
}

static void
viewer_bind (Viewer * v, guint32 ssrc)
{
  v->bound = TRUE;
  v->ssrc = ssrc;
}

gboolean
ebr_rtcp_viewer_bind (EbrRtcp * r, guint id, guint32 ssrc)
{
  Viewer *v = g_hash_table_lookup (r->viewers, GUINT_TO_POINTER (id));

  if (!v)
    return FALSE;
  viewer_bind (v, ssrc);
  return TRUE;
}

/* The rule of ebpfrelay-rtcp.h, "Who sent a viewer's RTCP". */
static Viewer *
attribute (EbrRtcp * r, const RelayAddr * addr, guint16 port, guint32 ssrc)
{
  Viewer *by_port = NULL, *only = NULL, *only_unbound = NULL;
  guint at_addr = 0, unbound_at_addr = 0, n_by_port = 0;
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, r->viewers);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Viewer *v = value;

    if (!relay_addr_same_host (&v->addr, addr))
      continue;
    if (v->bound && v->ssrc == ssrc)
      return v;
    if (v->rtcp_port != 0 && v->rtcp_port == port) {
      by_port = v;
      n_by_port++;
    }
    at_addr++;
    only = v;
    if (!v->bound) {
      unbound_at_addr++;
      only_unbound = v;
    }
  }
  if (n_by_port == 1)
    return by_port;
  if (at_addr == 1)
    return only;
  if (unbound_at_addr == 1)
    return only_unbound;
  return NULL;
}

static EbrRtcpViewerReport *
viewer_report (Viewer * v, guint32 media_ssrc, gboolean create)
{
  EbrRtcpViewerReport rep = { {0} };
  guint i;

  for (i = 0; i < v->reports->len; i++) {
    EbrRtcpViewerReport *x = &g_array_index (v->reports,
        EbrRtcpViewerReport, i);

    if (x->block.ssrc == media_ssrc)
      return x;
  }
  if (!create)
    return NULL;
  rep.block.ssrc = media_ssrc;
  rep.rtt = GST_CLOCK_TIME_NONE;
  g_array_append_val (v->reports, rep);
  return &g_array_index (v->reports, EbrRtcpViewerReport, v->reports->len - 1);
}

gint
ebr_rtcp_viewer_handle (EbrRtcp * r, const guint8 * data, gsize len,
    guint32 addr, guint16 port, GstClockTime now, EbrRtcpFeedback * fb)
{
  RelayAddr a = { 0 };

  a.v4.sin_family = AF_INET;
  a.v4.sin_addr.s_addr = addr;
  a.v4.sin_port = htons (port);
  return ebr_rtcp_viewer_handle_addr (r, data, len, &a, now, fb);
}

gint
ebr_rtcp_viewer_handle_addr (EbrRtcp * r, const guint8 * data, gsize len,
    const RelayAddr * from, GstClockTime now, EbrRtcpFeedback * fb)
{
  guint16 port = relay_addr_port (from);
  Viewer *v;
  guint i;

  if (!ebr_rtcp_parse_feedback (data, len, fb)) {
    r->stats.invalid++;
    return -1;
  }
  v = fb->has_sender_ssrc ? attribute (r, from, port, fb->sender_ssrc) : NULL;
  if (!v) {
    r->stats.unattributed++;
    return -1;
  }
  viewer_bind (v, fb->sender_ssrc);
  v->stats.rtcp_packets++;
  v->stats.ignored += fb->ignored;
  v->stats.nacks += fb->nacks->len;
  for (i = 0; i < fb->blocks->len; i++) {
    EbrRtcpReportBlock *b = &g_array_index (fb->blocks, EbrRtcpReportBlock, i);
    EbrRtcpViewerReport *rep = viewer_report (v, b->ssrc, TRUE);
    GstClockTime rtt;

    rep->block = *b;
    rep->received = now;
    /* an RR without a (known) LSR keeps the last RTT */
    if (ebr_rtcp_rtt (r, b->ssrc, b->lsr, b->dlsr, now, &rtt))
      rep->rtt = rtt;
    v->stats.report_blocks++;
  }
  for (i = 0; i < fb->keyframes->len; i++) {
    if (g_array_index (fb->keyframes, EbrRtcpKeyframeRequest, i).kind ==
        EBR_RTCP_KEYFRAME_FIR)
      v->stats.firs++;
    else
      v->stats.plis++;
  }
  return (gint) v->id;
}

gboolean
ebr_rtcp_viewer_get_stats (EbrRtcp * r, guint id, EbrRtcpViewerStats * stats)
{
  Viewer *v = g_hash_table_lookup (r->viewers, GUINT_TO_POINTER (id));

  memset (stats, 0, sizeof (*stats));
  if (!v)
    return FALSE;
  *stats = v->stats;
  stats->bound = v->bound;
  stats->ssrc = v->ssrc;
  stats->n_reports = v->reports->len;
  return TRUE;
}

gboolean
ebr_rtcp_viewer_get_report (EbrRtcp * r, guint id, guint32 media_ssrc,
    EbrRtcpViewerReport * report)
{
  Viewer *v = g_hash_table_lookup (r->viewers, GUINT_TO_POINTER (id));
  EbrRtcpViewerReport *rep = v ? viewer_report (v, media_ssrc, FALSE) : NULL;

  if (!rep)
    return FALSE;
  *report = *rep;
  return TRUE;
}
