/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-rtpframemarking
 * @title: rtpframemarking
 * @see_also: ebpfrelaysink, rtph264pay, rtpvp8pay
 *
 * Writes the RFC 9626 frame marking RTP header extension
 * (`urn:ietf:params:rtp-hdrext:framemarking`) into every RTP packet, so that
 * a relay can tell a packet's priority from the RTP header alone, whatever
 * the codec, and for streams that are not video at all. The relay
 * (`ebpfrelaysink`, in the kernel and in userspace) reads it first (rule 1 of
 * the priority contract, `bpf/priority.h`): I=1 is priority 7, else D=1 is
 * priority 0, else 6 - TID; a subscriber with priority limit L receives the
 * packets of priority >= L.
 *
 * The priority of a packet is #GstRtpFrameMarking:priority when that is
 * 0-7 (text, audio, any stream whose packets all matter alike). By default
 * (-1) it is derived from each packet, by the codec that the caps name in
 * `encoding-name`:
 *
 * * `H264`: the NRI of the first payload byte (single NAL unit, FU-A,
 *   STAP-A): 3 -> 7, 2 -> 6, 1 -> 5, 0 -> 0, the priority the relay gives the
 *   packet without the extension. A packet of an IDR picture (NAL type 5,
 *   also fragmented or aggregated) is marked independent (I), priority 7,
 *   whatever its NRI (encoders give IDRs NRI 3 anyway).
 * * `VP8`: a key frame is independent (I), priority 7, for all the frame's
 *   packets (only the first shows it); a non-reference frame (N bit) is
 *   discardable (D), priority 0; otherwise 6 - TID (TID 0 without temporal
 *   layers).
 * * anything else: the buffer flags: DROPPABLE -> 0, DELTA_UNIT -> 6,
 *   neither -> 7.
 *
 * Priority p is written as I=1 for p = 7, D=1 for p = 0, else TID = 6 - p.
 * While TID is 0 and the stream is not scalable, in the RFC's short form
 * (one byte: S E I D 0000). The first packet that needs a TID, or of a VP8
 * stream with temporal layers (T bit), switches that SSRC to the long form
 * for good: S E I D B TID, LID 0, and TL0PICIDX where VP8 gives it (B from
 * VP8's Y bit). S marks the first packet of a frame (the VP8 start of
 * partition 0; otherwise a new RTP timestamp, or the previous packet had the
 * marker bit), E the packet with the marker bit. Streams that are not video
 * (by `media` and `encoding-name`) send whole frames: S=E=1 on every packet.
 *
 * Packets with other RFC 8285 header extensions keep them. The frame marking
 * element goes first, where a relay that reads only a packet's first bytes
 * finds it; an element with the same id is replaced; a one-byte block
 * becomes a two-byte block when #GstRtpFrameMarking:framemarking-id is above
 * 14. Buffers that are not RTP, or whose header extension is not RFC 8285,
 * pass untouched and are counted in #GstRtpFrameMarking:stats.
 *
 * The source caps gain `extmap-<id>=urn:ietf:params:rtp-hdrext:framemarking`;
 * an id that upstream caps give to another extension is an error. Where
 * downstream accepts any caps (`udpsink`), so does the sink pad: upstream
 * negotiates as without this element (an RTP peer without
 * `profile-level-id` would make rtph264pay prefer constrained baseline, and
 * x264enc drop its B frames).
 *
 * ## Examples
 * |[
 * gst-launch-1.0 videotestsrc ! x264enc bframes=2 b-adapt=false tune=zerolatency ! rtph264pay ! rtpframemarking ! udpsink host=10.200.1.2 port=5004
 * ]| H.264 with three priorities: IDR pictures 7, P pictures 6, B pictures
 * 0 (and 0 for what has NRI 0 besides: access unit delimiters, SEI).
 * |[
 * gst-launch-1.0 videotestsrc ! vp8enc deadline=1 ! rtpvp8pay ! rtpframemarking framemarking-id=3 ! udpsink host=10.200.1.2 port=5004
 * ]| VP8 with extension id 3: key frames 7, other frames 6.
 * |[
 * gst-launch-1.0 audiotestsrc ! opusenc ! rtpopuspay ! rtpframemarking priority=7 ! udpsink host=10.200.1.2 port=5006
 * ]| Audio, every packet priority 7: no subscriber drops it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/rtp/gstrtpbuffer.h>

#include "gstrtpframemarking.h"
#include "gstebpfrelayelements.h"
#include "priority.h"

GST_DEBUG_CATEGORY_STATIC (gst_rtp_frame_marking_debug);
#define GST_CAT_DEFAULT gst_rtp_frame_marking_debug

#define DEFAULT_FRAMEMARKING_ID 1
#define DEFAULT_PRIORITY -1

/* RFC 8285: ids 1-14 in the one-byte form (15 is reserved there), 1-255 in
 * the two-byte form, whose profile's low 4 bits are "appbits". */
#define ONE_BYTE_MAX_ID 14
#define PROFILE_ONE_BYTE 0xBEDE
#define PROFILE_TWO_BYTE 0x1000
#define IS_TWO_BYTE(profile) (((profile) & 0xfff0) == PROFILE_TWO_BYTE)

/* RFC 9626, first byte of both forms */
#define FM_S 0x80
#define FM_E 0x40
#define FM_I 0x20
#define FM_D 0x10
#define FM_B 0x08

/* Per-SSRC state kept for this many streams; beyond, it starts over. */
#define MAX_SSRCS 64

enum
{
  PROP_0,
  PROP_FRAMEMARKING_ID,
  PROP_PRIORITY,
  PROP_STATS,
};

typedef struct
{
  guint32 last_ts;
  gboolean have_last;
  gboolean last_marker;
  gboolean scalable;            /* long form from now on */
  struct prio_vp8_state vp8;    /* the contract's VP8 frame inheritance */
} SsrcState;

/* An RFC 8285 element of the packet's extension block, kept on rewrite */
typedef struct
{
  guint8 id;
  guint8 len;
  guint off;                    /* of its data in ext_copy */
} ExtElem;

/* Temporal layer fields of a VP8 payload descriptor (RFC 7741) */
typedef struct
{
  gboolean has_tid;
  guint8 tid;
  gboolean y;
  gboolean has_tl0;
  guint8 tl0;
} LayerInfo;

struct _GstRtpFrameMarking
{
  GstBaseTransform parent;

  /* properties and counters, under the object lock */
  guint fm_id;
  gint priority;
  guint64 tagged;
  guint64 passed;

  /* streaming thread */
  guint8 codec_by_pt[PRIO_N_PT];
  gboolean video;
  gboolean warned_foreign;
  GHashTable *ssrcs;            /* SSRC -> SsrcState */
  GByteArray *ext_copy;         /* the packet's extension block */
  GArray *elems;                /* of ExtElem */
  GByteArray *block;            /* the block written back */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));

#define gst_rtp_frame_marking_parent_class parent_class
G_DEFINE_TYPE (GstRtpFrameMarking, gst_rtp_frame_marking,
    GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (rtpframemarking, "rtpframemarking",
    GST_RANK_NONE, GST_TYPE_RTP_FRAME_MARKING,
    ebpf_relay_element_init (plugin));

static void gst_rtp_frame_marking_finalize (GObject * object);
static void gst_rtp_frame_marking_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_rtp_frame_marking_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_rtp_frame_marking_start (GstBaseTransform * trans);
static GstCaps *gst_rtp_frame_marking_transform_caps (GstBaseTransform *
    trans, GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean gst_rtp_frame_marking_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_rtp_frame_marking_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_rtp_frame_marking_transform_ip (GstBaseTransform *
    trans, GstBuffer * buf);

static void
gst_rtp_frame_marking_class_init (GstRtpFrameMarkingClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_rtp_frame_marking_set_property;
  gobject_class->get_property = gst_rtp_frame_marking_get_property;
  gobject_class->finalize = gst_rtp_frame_marking_finalize;

  g_object_class_install_property (gobject_class, PROP_FRAMEMARKING_ID,
      g_param_spec_uint ("framemarking-id", "Frame marking extension id",
          "RTP header extension id of the frame marking element, as "
          "negotiated (SDP a=extmap) and as the relay is told: 1-14 use the "
          "RFC 8285 one-byte form, 15-255 the two-byte form", 1, 255,
          DEFAULT_FRAMEMARKING_ID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PRIORITY,
      g_param_spec_int ("priority", "Priority",
          "Priority 0-7 written into every packet (7: never dropped), or -1 "
          "to derive it per packet (H.264 NRI and IDR, VP8 key frame, N bit "
          "and temporal layer, otherwise the buffer flags)", -1, PRIO_MAX,
          DEFAULT_PRIORITY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRtpFrameMarking:stats:
   *
   * `tagged`: packets that left with the frame marking element; `passed`:
   * buffers that left untouched (not RTP, malformed, or a header extension
   * that is not RFC 8285). Both count from the last start.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Packets tagged and buffers passed untouched", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "RTP frame marking", "Filter/Network/RTP",
      "Writes the RFC 9626 frame marking RTP header extension (priority as "
      "I/D/TID bits, from the H.264 NRI, VP8 frame type or a fixed value) so "
      "that a relay can drop by priority. Example: gst-launch-1.0 "
      "videotestsrc ! x264enc ! rtph264pay ! rtpframemarking ! udpsink "
      "host=10.0.0.2 port=5004", "gst-ebpf-relay developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_rtp_frame_marking_start);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_rtp_frame_marking_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_rtp_frame_marking_set_caps);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_rtp_frame_marking_query);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_rtp_frame_marking_transform_ip);

  GST_DEBUG_CATEGORY_INIT (gst_rtp_frame_marking_debug, "rtpframemarking", 0,
      "RTP frame marking header extension writer");
}

static void
gst_rtp_frame_marking_init (GstRtpFrameMarking * self)
{
  self->fm_id = DEFAULT_FRAMEMARKING_ID;
  self->priority = DEFAULT_PRIORITY;
  self->ssrcs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->ext_copy = g_byte_array_new ();
  self->elems = g_array_new (FALSE, FALSE, sizeof (ExtElem));
  self->block = g_byte_array_new ();
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_rtp_frame_marking_finalize (GObject * object)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (object);

  g_hash_table_destroy (self->ssrcs);
  g_byte_array_unref (self->ext_copy);
  g_array_unref (self->elems);
  g_byte_array_unref (self->block);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static gboolean
gst_rtp_frame_marking_start (GstBaseTransform * trans)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (trans);

  g_hash_table_remove_all (self->ssrcs);
  self->warned_foreign = FALSE;
  GST_OBJECT_LOCK (self);
  self->tagged = self->passed = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* --- caps ---------------------------------------------------------------- */

static guint
get_fm_id (GstRtpFrameMarking * self)
{
  guint id;

  GST_OBJECT_LOCK (self);
  id = self->fm_id;
  GST_OBJECT_UNLOCK (self);
  return id;
}

/* The URI of an extmap-N caps field: a string, or (direction, URI,
 * attributes) as GstRTPHeaderExtension writes it. */
static const gchar *
extmap_uri (const GValue * v)
{
  if (G_VALUE_HOLDS_STRING (v))
    return g_value_get_string (v);
  if (GST_VALUE_HOLDS_ARRAY (v) && gst_value_array_get_size (v) >= 2) {
    const GValue *u = gst_value_array_get_value (v, 1);

    if (G_VALUE_HOLDS_STRING (u))
      return g_value_get_string (u);
  }
  return NULL;
}

static GstCaps *
gst_rtp_frame_marking_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (trans);
  GstCaps *res;
  gchar field[16];
  guint i;

  g_snprintf (field, sizeof (field), "extmap-%u", get_fm_id (self));
  res = gst_caps_copy (caps);
  for (i = 0; i < gst_caps_get_size (res); i++) {
    GstStructure *s = gst_caps_get_structure (res, i);

    if (direction == GST_PAD_SINK)
      gst_structure_set (s, field, G_TYPE_STRING, GST_RTP_FRAME_MARKING_URI,
          NULL);
    else
      gst_structure_remove_field (s, field);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (res);
    res = tmp;
  }
  GST_LOG_OBJECT (self, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

/* Payloaders read "application/x-rtp" without their SDP fields as the
 * RFC defaults: rtph264pay then prefers constrained baseline, and x264enc
 * drops its B frames (the priority 0 packets). Where downstream takes
 * anything (udpsink), the sink pad says so too, so that upstream negotiates
 * as it would without this element. */
static gboolean
gst_rtp_frame_marking_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query)
{
  if (direction == GST_PAD_SINK && GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *peer, *filter, *res;

    peer = gst_pad_peer_query_caps (GST_BASE_TRANSFORM_SRC_PAD (trans), NULL);
    if (peer && gst_caps_is_any (peer)) {
      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *tmpl = gst_pad_get_pad_template_caps (trans->sinkpad);

        res = gst_caps_intersect_full (filter, tmpl, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (tmpl);
      } else {
        res = gst_caps_new_any ();
      }
      gst_query_set_caps_result (query, res);
      gst_caps_unref (res);
      gst_caps_unref (peer);
      return TRUE;
    }
    if (peer)
      gst_caps_unref (peer);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
}

static gboolean
gst_rtp_frame_marking_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (trans);
  GstStructure *s = gst_caps_get_structure (incaps, 0);
  guint8 table[PRIO_N_PT];
  const gchar *enc, *media, *uri = NULL;
  const GValue *v;
  gchar field[16];
  guint fm_id = get_fm_id (self);
  guint8 codec = PRIO_CODEC_OTHER;
  gboolean video;
  gint pt;

  g_snprintf (field, sizeof (field), "extmap-%u", fm_id);
  v = gst_structure_get_value (s, field);
  if (v && g_strcmp0 (uri = extmap_uri (v), GST_RTP_FRAME_MARKING_URI) != 0)
    goto id_in_use;

  enc = gst_structure_get_string (s, "encoding-name");
  media = gst_structure_get_string (s, "media");
  if (enc && g_ascii_strcasecmp (enc, "H264") == 0)
    codec = PRIO_CODEC_H264;
  else if (enc && g_ascii_strcasecmp (enc, "VP8") == 0)
    codec = PRIO_CODEC_VP8;
  /* The codec applies to the caps' payload type; without one, to all. */
  if (gst_structure_get_int (s, "payload", &pt) && pt >= 0 && pt < PRIO_N_PT) {
    memset (table, PRIO_CODEC_OTHER, sizeof (table));
    table[pt] = codec;
  } else {
    memset (table, codec, sizeof (table));
  }
  video = codec != PRIO_CODEC_OTHER ||
      (media && g_ascii_strcasecmp (media, "video") == 0);

  /* Caps also change within a stream (rtph264pay's sprop-parameter-sets):
   * keep the per-SSRC state unless the stream is another one. */
  if (memcmp (table, self->codec_by_pt, sizeof (table)) != 0 ||
      video != self->video)
    g_hash_table_remove_all (self->ssrcs);
  memcpy (self->codec_by_pt, table, sizeof (table));
  self->video = video;
  GST_DEBUG_OBJECT (self, "codec %u, video %d, extension id %u", codec, video,
      fm_id);
  return TRUE;

  /* ERRORS */
id_in_use:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("RTP header extension id %u is already used upstream for '%s'; set "
            "framemarking-id to a free id (1-14, or 15-255 for the two-byte "
            "form)", fm_id, uri ? uri : "another extension"),
        ("caps: %" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
}

/* --- reading the packet -------------------------------------------------- */

/* Copies the packet's RFC 8285 elements, except a frame marking element with
 * @fm_id, into ext_copy and elems; *profile: 0 when there is no extension.
 * FALSE when the packet must be left alone: a header extension that is not
 * RFC 8285, or a malformed block. */
static gboolean
copy_extension (GstRtpFrameMarking * self, GstRTPBuffer * rtp, guint fm_id,
    guint16 * profile)
{
  guint16 bits;
  gpointer ptr;
  const guint8 *d;
  guint words, len, off = 0;
  gboolean two_byte;

  g_byte_array_set_size (self->ext_copy, 0);
  g_array_set_size (self->elems, 0);
  *profile = 0;
  if (!gst_rtp_buffer_get_extension_data (rtp, &bits, &ptr, &words))
    return TRUE;
  two_byte = IS_TWO_BYTE (bits);
  if (bits != PROFILE_ONE_BYTE && !two_byte)
    goto foreign;
  *profile = bits;
  len = words * 4;
  g_byte_array_append (self->ext_copy, ptr, len);
  d = self->ext_copy->data;
  while (off < len) {
    ExtElem e;

    if (d[off] == 0) {          /* padding, in both forms */
      off++;
      continue;
    }
    if (!two_byte) {
      /* id 15 ends the block for receivers (RFC 8285); what follows it
       * could not be kept as it is: leave the packet alone */
      if ((d[off] >> 4) == 15)
        return FALSE;
      e.id = d[off] >> 4;
      e.len = (d[off] & 0x0f) + 1;
      off++;
    } else {
      if (off + 1 >= len)
        return FALSE;
      e.id = d[off];
      e.len = d[off + 1];
      off += 2;
    }
    if (off + e.len > len)
      return FALSE;
    e.off = off;
    off += e.len;
    if (e.id != fm_id)
      g_array_append_val (self->elems, e);
  }
  return TRUE;

foreign:
  if (!self->warned_foreign) {
    self->warned_foreign = TRUE;
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Packets carry an RTP header extension that is not RFC 8285 "
            "(profile 0x%04x) and leave without frame marking; remove that "
            "extension upstream to mark them", bits), (NULL));
  }
  return FALSE;
}

/* An IDR picture's NAL unit: alone, fragmented (FU-A/B: type in the FU
 * header) or among the units of a STAP-A/B. */
static gboolean
h264_has_idr (const guint8 * p, guint len)
{
  guint off;

  if (len < 1)
    return FALSE;
  switch (p[0] & 0x1f) {
    case 5:
      return TRUE;
    case 28:                   /* FU-A */
    case 29:                   /* FU-B */
      return len >= 2 && (p[1] & 0x1f) == 5;
    case 24:                   /* STAP-A */
    case 25:                   /* STAP-B: 16-bit DON first */
      off = (p[0] & 0x1f) == 24 ? 1 : 3;
      while (off + 2 < len) {
        guint size = GST_READ_UINT16_BE (p + off);

        off += 2;
        if (size == 0 || off + size > len)
          return FALSE;
        if ((p[off] & 0x1f) == 5)
          return TRUE;
        off += size;
      }
      return FALSE;
    default:
      return FALSE;
  }
}

/* TID, Y and TL0PICIDX of a VP8 payload descriptor (RFC 7741), for the long
 * form; the priority itself comes from prio_classify(). */
static void
vp8_layer_info (const guint8 * p, guint len, LayerInfo * l)
{
  guint8 ext;
  guint off = 2;

  if (len < 2 || !(p[0] & 0x80))
    return;
  ext = p[1];
  if (ext & 0x80) {             /* I: 7- or 15-bit picture id */
    if (off >= len)
      return;
    off += (p[off] & 0x80) ? 2 : 1;
  }
  if (ext & 0x40) {             /* L: TL0PICIDX */
    if (off >= len)
      return;
    l->has_tl0 = TRUE;
    l->tl0 = p[off++];
  }
  if (ext & 0x20) {             /* T: TID|Y|KEYIDX */
    if (off >= len) {
      l->has_tl0 = FALSE;
      return;
    }
    l->has_tid = TRUE;
    l->tid = p[off] >> 6;
    l->y = (p[off] >> 5) & 1;
  }
}

static SsrcState *
get_ssrc_state (GstRtpFrameMarking * self, guint32 ssrc)
{
  SsrcState *st = g_hash_table_lookup (self->ssrcs, GUINT_TO_POINTER (ssrc));

  if (!st) {
    if (g_hash_table_size (self->ssrcs) >= MAX_SSRCS)
      g_hash_table_remove_all (self->ssrcs);
    st = g_new0 (SsrcState, 1);
    g_hash_table_insert (self->ssrcs, GUINT_TO_POINTER (ssrc), st);
  }
  return st;
}

/* --- writing ------------------------------------------------------------- */

/* The frame marking element for priority @p (RFC 9626 section 3); returns
 * its length: 1 (short form), 2 or 3 (long form, TL0PICIDX omitted or not). */
static guint
encode_framemarking (guint8 * fm, guint p, gboolean start, gboolean end,
    const LayerInfo * l, gboolean * scalable)
{
  guint8 tid;

  fm[0] = (start ? FM_S : 0) | (end ? FM_E : 0);
  if (p >= PRIO_MAX) {
    fm[0] |= FM_I;
    tid = l->has_tid ? l->tid : 0;
  } else if (p == 0) {
    fm[0] |= FM_D;
    tid = l->has_tid ? l->tid : 0;
  } else {
    tid = 6 - p;                /* prio_from_framemarking() gives p back */
  }
  if (tid != 0 || l->has_tid)
    *scalable = TRUE;
  if (!*scalable)
    return 1;
  fm[0] |= tid;
  if (tid != 0 && l->has_tid && l->y)
    fm[0] |= FM_B;
  fm[1] = 0;                    /* LID: no spatial or quality layers */
  if (!l->has_tl0)
    return 2;
  fm[2] = l->tl0;
  return 3;
}

static guint
put_element (guint8 * out, gboolean two_byte, guint8 id, const guint8 * data,
    guint len)
{
  if (two_byte) {
    out[0] = id;
    out[1] = len;
    memcpy (out + 2, data, len);
    return 2 + len;
  }
  out[0] = (id << 4) | (len - 1);
  memcpy (out + 1, data, len);
  return 1 + len;
}

/* Writes @fm as element @fm_id into @buf, first, followed by the elements
 * copy_extension() kept. */
static gboolean
write_extension (GstRtpFrameMarking * self, GstBuffer * buf, guint fm_id,
    guint16 profile, const guint8 * fm, guint fm_len)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean two_byte = fm_id > ONE_BYTE_MAX_ID || IS_TWO_BYTE (profile);
  guint8 appbits = IS_TWO_BYTE (profile) ? (profile & 0x0f) : 0;
  gpointer data;
  guint size, i;
  gboolean ok = TRUE;

  if (profile == 0) {
    /* no extension yet: the API adds the block and the element */
    if (!gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp))
      return FALSE;
    if (two_byte)
      ok = gst_rtp_buffer_add_extension_twobytes_header (&rtp, 0, fm_id, fm,
          fm_len);
    else
      ok = gst_rtp_buffer_add_extension_onebyte_header (&rtp, fm_id, fm,
          fm_len);
    gst_rtp_buffer_unmap (&rtp);
    return ok;
  }

  /* Other elements are there: the block is composed here, because frame
   * marking goes first and the API only appends (and, in the two-byte form,
   * finds the end wrongly after a zero-length element ending the block). */
  g_byte_array_set_size (self->block, 4 + fm_len + 2 * self->elems->len +
      self->ext_copy->len + 3);
  size = put_element (self->block->data, two_byte, fm_id, fm, fm_len);
  for (i = 0; i < self->elems->len; i++) {
    ExtElem *e = &g_array_index (self->elems, ExtElem, i);

    size += put_element (self->block->data + size, two_byte, e->id,
        self->ext_copy->data + e->off, e->len);
  }
  while (size % 4)
    self->block->data[size++] = 0;
  if (size / 4 > G_MAXUINT16)
    return FALSE;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp))
    return FALSE;
  gst_rtp_buffer_set_extension_data (&rtp,
      two_byte ? (PROFILE_TWO_BYTE | appbits) : PROFILE_ONE_BYTE, size / 4);
  gst_rtp_buffer_get_extension_data (&rtp, NULL, &data, NULL);
  memcpy (data, self->block->data, size);
  gst_rtp_buffer_unmap (&rtp);
  return TRUE;
}

/* --- per packet ---------------------------------------------------------- */

static GstFlowReturn
gst_rtp_frame_marking_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (trans);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint8 b[PRIO_BUF_LEN], fm[3];
  struct prio_info info = { 0 };
  LayerInfo layer = { 0 };
  const guint8 *payload;
  guint fm_id, plen, n, fm_len;
  guint32 ssrc, ts;
  gboolean marker, start, end, idr = FALSE;
  guint16 profile;
  SsrcState *st;
  gint fixed, p;

  GST_OBJECT_LOCK (self);
  fm_id = self->fm_id;
  fixed = self->priority;
  GST_OBJECT_UNLOCK (self);

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    goto pass;
  if (!copy_extension (self, &rtp, fm_id, &profile)) {
    gst_rtp_buffer_unmap (&rtp);
    goto pass;
  }
  ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  marker = gst_rtp_buffer_get_marker (&rtp);
  plen = gst_rtp_buffer_get_payload_len (&rtp);
  payload = plen ? gst_rtp_buffer_get_payload (&rtp) : NULL;
  if (!payload)
    plen = 0;
  st = get_ssrc_state (self, ssrc);

  /* The contract classifies the packet as if it had no CSRCs, extension or
   * padding (fm_id 0: an old frame marking element is not looked at), so
   * that a long header cannot push the payload out of its window. */
  if (self->codec_by_pt[gst_rtp_buffer_get_payload_type (&rtp)] !=
      PRIO_CODEC_OTHER) {
    gst_buffer_extract (buf, 0, b, 12);
    b[0] = 0x80;
    n = MIN (plen, PRIO_BUF_LEN - 12);
    if (n)
      memcpy (b + 12, payload, n);
    prio_classify (b, 12 + n, 12 + plen, self->codec_by_pt, 0, &st->vp8, &info);
    if (info.rule == PRIO_RULE_H264)
      idr = h264_has_idr (payload, plen);
    else if (info.rule == PRIO_RULE_VP8 && fixed < 0)
      vp8_layer_info (payload, plen, &layer);
  }
  gst_rtp_buffer_unmap (&rtp);

  if (fixed >= 0)
    p = fixed;
  else if (info.rule == PRIO_RULE_H264 || info.rule == PRIO_RULE_VP8)
    p = idr ? PRIO_MAX : info.priority;
  else if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DROPPABLE))
    p = 0;
  else if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    p = 6;
  else
    p = PRIO_MAX;

  if (!self->video) {
    start = end = TRUE;
  } else {
    if (info.rule == PRIO_RULE_VP8)
      start = info.vp8_frame_start;
    else
      start = !st->have_last || ts != st->last_ts || st->last_marker;
    end = marker;
  }
  st->have_last = TRUE;
  st->last_ts = ts;
  st->last_marker = marker;

  fm_len = encode_framemarking (fm, p, start, end, &layer, &st->scalable);
  if (!write_extension (self, buf, fm_id, profile, fm, fm_len)) {
    GST_WARNING_OBJECT (self, "cannot write the extension into %"
        GST_PTR_FORMAT, buf);
    goto pass;
  }
  GST_LOG_OBJECT (self, "ssrc %08x ts %u: priority %d, %02x (%u bytes)", ssrc,
      ts, p, fm[0], fm_len);
  GST_OBJECT_LOCK (self);
  self->tagged++;
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;

pass:
  GST_LOG_OBJECT (self, "passing %" GST_PTR_FORMAT " untouched", buf);
  GST_OBJECT_LOCK (self);
  self->passed++;
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;
}

/* --- properties ---------------------------------------------------------- */

static void
gst_rtp_frame_marking_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (object);

  switch (prop_id) {
    case PROP_FRAMEMARKING_ID:
      GST_OBJECT_LOCK (self);
      self->fm_id = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
      break;
    case PROP_PRIORITY:
      GST_OBJECT_LOCK (self);
      self->priority = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_rtp_frame_marking_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRtpFrameMarking *self = GST_RTP_FRAME_MARKING (object);

  switch (prop_id) {
    case PROP_FRAMEMARKING_ID:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->fm_id);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PRIORITY:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->priority);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      GST_OBJECT_LOCK (self);
      g_value_take_boxed (value,
          gst_structure_new ("application/x-rtpframemarking-stats",
              "tagged", G_TYPE_UINT64, self->tagged,
              "passed", G_TYPE_UINT64, self->passed, NULL));
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
