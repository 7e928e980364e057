/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtpframemarking element tests: for crafted H.264, VP8, fixed-priority and
 * flag-only packets, with and without other header extensions, every
 * written byte, and the invariant the element exists for: the priority the
 * relay reads back (prio_classify() of bpf/priority.h over the tagged
 * packet, with the same extension id) is the priority the element meant,
 * and for H.264 and VP8 the one the relay gives the untagged packet. Then
 * real x264enc/vp8enc pipelines. */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>

#include "priority.h"

#define URI "urn:ietf:params:rtp-hdrext:framemarking"
#define PT 96
#define H264_CAPS "application/x-rtp,media=video,clock-rate=90000," \
  "encoding-name=H264,payload=96"
#define VP8_CAPS "application/x-rtp,media=video,clock-rate=90000," \
  "encoding-name=VP8,payload=96"

static guint16 next_seq = 1000;

static GstBuffer *
make_rtp (guint32 ssrc, guint32 ts, gboolean marker, const guint8 * payload,
    guint len)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (len, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_payload_type (&rtp, PT);
  gst_rtp_buffer_set_seq (&rtp, next_seq++);
  gst_rtp_buffer_set_timestamp (&rtp, ts);
  gst_rtp_buffer_set_ssrc (&rtp, ssrc);
  gst_rtp_buffer_set_marker (&rtp, marker);
  if (len)
    memcpy (gst_rtp_buffer_get_payload (&rtp), payload, len);
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

#define RTP(ssrc, ts, marker, ...) G_STMT_START {                       \
    const guint8 _p[] = { __VA_ARGS__ };                                \
    pkt = make_rtp (ssrc, ts, marker, _p, sizeof (_p));                 \
  } G_STMT_END

/* The relay's view of @buf (bpf/priority.h): @codec for payload type PT,
 * frame marking id @fm_id (0: ignore the extension). */
static guint8
classify (GstBuffer * buf, guint8 codec, guint fm_id,
    struct prio_vp8_state *vp8, guint8 * rule)
{
  guint8 b[PRIO_BUF_LEN], table[PRIO_N_PT] = { 0 };
  gsize size = gst_buffer_get_size (buf);
  gsize n = gst_buffer_extract (buf, 0, b, MIN (size, PRIO_BUF_LEN));
  struct prio_info info;

  table[PT] = codec;
  prio_classify (b, n, size, table, fm_id, vp8, &info);
  if (rule)
    *rule = info.rule;
  return info.priority;
}

static void
add_onebyte (GstBuffer * buf, guint8 id, const guint8 * data, guint len)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp));
  fail_unless (gst_rtp_buffer_add_extension_onebyte_header (&rtp, id, data,
          len));
  gst_rtp_buffer_unmap (&rtp);
}

static void
add_twobytes (GstBuffer * buf, guint8 appbits, guint8 id, const guint8 * data,
    guint len)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp));
  fail_unless (gst_rtp_buffer_add_extension_twobytes_header (&rtp, appbits,
          id, data, len));
  gst_rtp_buffer_unmap (&rtp);
}

/* Replaces @buf's extension block by @profile and @data (@len, a multiple
 * of 4), as another sender might have written it. */
static void
set_raw_extension (GstBuffer * buf, guint16 profile, const guint8 * data,
    guint len)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gpointer p;

  fail_unless (len % 4 == 0);
  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp));
  fail_unless (gst_rtp_buffer_set_extension_data (&rtp, profile, len / 4));
  gst_rtp_buffer_get_extension_data (&rtp, NULL, &p, NULL);
  memcpy (p, data, len);
  gst_rtp_buffer_unmap (&rtp);
}

typedef struct
{
  guint8 pt, cc;
  guint16 seq;
  guint32 ts, ssrc;
  gboolean marker;
  GBytes *payload;
} Snapshot;

static void
snapshot (GstBuffer * buf, Snapshot * s)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
  s->pt = gst_rtp_buffer_get_payload_type (&rtp);
  s->cc = gst_rtp_buffer_get_csrc_count (&rtp);
  s->seq = gst_rtp_buffer_get_seq (&rtp);
  s->ts = gst_rtp_buffer_get_timestamp (&rtp);
  s->ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  s->marker = gst_rtp_buffer_get_marker (&rtp);
  s->payload = gst_rtp_buffer_get_payload_len (&rtp) ?
      gst_rtp_buffer_get_payload_bytes (&rtp) : g_bytes_new (NULL, 0);
  gst_rtp_buffer_unmap (&rtp);
}

/* The extension block of @buf: profile, bytes and length. */
static guint8 *
get_block (GstBuffer * buf, guint16 * profile, guint * len)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gpointer data;
  guint words;
  guint8 *copy;

  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
  fail_unless (gst_rtp_buffer_get_extension_data (&rtp, profile, &data,
          &words), "no header extension");
  copy = g_memdup2 (data, words * 4);
  *len = words * 4;
  gst_rtp_buffer_unmap (&rtp);
  return copy;
}

/*
 * Pushes @in and checks what comes out: header fields and payload as they
 * were; the frame marking element @fm_id first in the extension block,
 * once, holding @fm (@fm_len bytes); the relay reads priority @prio from it.
 * Returns the output packet.
 */
static GstBuffer *
push_and_check (GstHarness * h, GstBuffer * in, guint fm_id,
    const guint8 * fm, guint fm_len, guint8 prio)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  Snapshot a, b;
  GstBuffer *out;
  guint16 profile;
  guint len;
  guint8 *block, rule;
  gpointer data;

  snapshot (in, &a);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  snapshot (out, &b);
  fail_unless_equals_int (a.pt, b.pt);
  fail_unless_equals_int (a.cc, b.cc);
  fail_unless_equals_int (a.seq, b.seq);
  fail_unless_equals_uint64 (a.ts, b.ts);
  fail_unless_equals_uint64 (a.ssrc, b.ssrc);
  fail_unless_equals_int (a.marker, b.marker);
  fail_unless (g_bytes_equal (a.payload, b.payload), "payload changed");
  g_bytes_unref (a.payload);
  g_bytes_unref (b.payload);

  block = get_block (out, &profile, &len);
  GST_MEMDUMP ("extension block", block, len);
  if (profile == 0xBEDE) {
    fail_unless (fm_id <= 14);
    fail_unless (len >= 1 + fm_len);
    fail_unless_equals_int (block[0], (fm_id << 4) | (fm_len - 1));
    fail_unless (memcmp (block + 1, fm, fm_len) == 0,
        "frame marking %02x, expected %02x", block[1], fm[0]);
  } else {
    fail_unless_equals_int (profile & 0xfff0, 0x1000);
    fail_unless (len >= 2 + fm_len);
    fail_unless_equals_int (block[0], fm_id);
    fail_unless_equals_int (block[1], fm_len);
    fail_unless (memcmp (block + 2, fm, fm_len) == 0,
        "frame marking %02x, expected %02x", block[2], fm[0]);
  }
  g_free (block);

  /* once */
  fail_unless (gst_rtp_buffer_map (out, GST_MAP_READ, &rtp));
  if (profile == 0xBEDE)
    fail_if (gst_rtp_buffer_get_extension_onebyte_header (&rtp, fm_id, 1,
            &data, NULL));
  else
    fail_if (gst_rtp_buffer_get_extension_twobytes_header (&rtp, NULL, fm_id,
            1, &data, NULL));
  gst_rtp_buffer_unmap (&rtp);

  /* what the relay reads: the contract, rule 1 */
  fail_unless_equals_int (prio_from_framemarking (fm[0]), prio);
  fail_unless_equals_int (classify (out, PRIO_CODEC_OTHER, fm_id, NULL, &rule),
      prio);
  fail_unless_equals_int (rule, PRIO_RULE_FRAMEMARKING);
  fail_unless_equals_int (classify (out, PRIO_CODEC_H264, fm_id, NULL, NULL),
      prio);
  return out;
}

/* @pkt through @h; expects frame marking bytes ... and priority @prio. */
#define CHECK(h, id, prio, ...) G_STMT_START {                          \
    const guint8 _fm[] = { __VA_ARGS__ };                               \
    gst_buffer_unref (push_and_check (h, pkt, id, _fm, sizeof (_fm),    \
            prio));                                                     \
  } G_STMT_END

/* Same, and the relay gives the untagged packet the same priority
 * (H.264 NRI, rule 2 of the contract). */
#define CHECK_H264(h, prio, ...) G_STMT_START {                         \
    fail_unless_equals_int (classify (pkt, PRIO_CODEC_H264, 0, NULL,    \
            NULL), prio);                                               \
    CHECK (h, 1, prio, __VA_ARGS__);                                    \
  } G_STMT_END

static GstHarness *
harness (const gchar * caps, const gchar * props)
{
  gchar *desc = g_strdup_printf ("rtpframemarking %s", props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);

  g_free (desc);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

static guint64
stat (GstHarness * h, const gchar * name)
{
  GstElement *e = gst_harness_find_element (h, "rtpframemarking");
  GstStructure *s;
  guint64 v = G_MAXUINT64;

  g_object_get (e, "stats", &s, NULL);
  fail_unless (gst_structure_get_uint64 (s, name, &v));
  gst_structure_free (s);
  gst_object_unref (e);
  return v;
}

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("rtpframemarking", NULL);
  guint id;
  gint prio;
  GstStructure *s;

  fail_unless (e != NULL);
  g_object_get (e, "framemarking-id", &id, "priority", &prio, "stats", &s,
      NULL);
  fail_unless_equals_int (id, 1);
  fail_unless_equals_int (prio, -1);
  fail_unless (gst_structure_has_field (s, "tagged"));
  fail_unless (gst_structure_has_field (s, "passed"));
  gst_structure_free (s);
  g_object_set (e, "framemarking-id", 255, "priority", 7, NULL);
  g_object_get (e, "framemarking-id", &id, "priority", &prio, NULL);
  fail_unless_equals_int (id, 255);
  fail_unless_equals_int (prio, 7);
  gst_object_unref (e);
}

GST_END_TEST;

/* Single NAL units, one per frame (S=E=1): NRI 3 -> I, 2 -> TID 0 (short
 * form), 0 -> D, 1 -> TID 1, which turns the stream to the long form. */
GST_START_TEST (test_h264_nri)
{
  GstHarness *h = harness (H264_CAPS, NULL);
  GstBuffer *pkt;

  RTP (1, 0, TRUE, 0x61, 0xe0, 0x00);   /* NRI 3, non-IDR slice */
  CHECK_H264 (h, 7, 0xE0);
  RTP (1, 3000, TRUE, 0x41, 0x9a, 0x00);        /* NRI 2 */
  CHECK_H264 (h, 6, 0xC0);
  RTP (1, 6000, TRUE, 0x01, 0x9e, 0x00);        /* NRI 0 */
  CHECK_H264 (h, 0, 0xD0);
  RTP (1, 9000, TRUE, 0x21, 0x9a, 0x00);        /* NRI 1: TID 1, long form */
  CHECK_H264 (h, 5, 0xC1, 0x00);
  /* from now on this SSRC is scalable: long form, also for TID 0 */
  RTP (1, 12000, TRUE, 0x41, 0x9a, 0x00);
  CHECK_H264 (h, 6, 0xC0, 0x00);
  RTP (1, 15000, TRUE, 0x61, 0x9a, 0x00);
  CHECK_H264 (h, 7, 0xE0, 0x00);
  /* another SSRC is not */
  RTP (2, 0, TRUE, 0x41, 0x9a, 0x00);
  CHECK_H264 (h, 6, 0xC0);
  fail_unless_equals_uint64 (stat (h, "tagged"), 7);
  fail_unless_equals_uint64 (stat (h, "passed"), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* IDR, alone, in FU-A fragments and in a STAP-A: the I bit. S on a frame's
 * first packet, E on the marker packet. */
GST_START_TEST (test_h264_idr_fua_stapa)
{
  GstHarness *h = harness (H264_CAPS, NULL);
  GstBuffer *pkt;

  RTP (1, 0, TRUE, 0x65, 0x88, 0x84);   /* IDR, NRI 3 */
  CHECK_H264 (h, 7, 0xE0);

  /* FU-A of an IDR (indicator NRI 3, header type 5): start, middle, end */
  RTP (1, 3000, FALSE, 0x7c, 0x85, 0x88, 0x84);
  CHECK_H264 (h, 7, 0xA0);
  RTP (1, 3000, FALSE, 0x7c, 0x05, 0x11, 0x22);
  CHECK_H264 (h, 7, 0x20);
  RTP (1, 3000, TRUE, 0x7c, 0x45, 0x33, 0x44);
  CHECK_H264 (h, 7, 0x60);

  /* FU-A of a P slice (NRI 2) and of a B slice (NRI 0) */
  RTP (1, 6000, FALSE, 0x5c, 0x81, 0x9a, 0x00);
  CHECK_H264 (h, 6, 0x80);
  RTP (1, 6000, FALSE, 0x5c, 0x01, 0x11, 0x22);
  CHECK_H264 (h, 6, 0x00);
  RTP (1, 6000, TRUE, 0x5c, 0x41, 0x33, 0x44);
  CHECK_H264 (h, 6, 0x40);
  RTP (1, 9000, FALSE, 0x1c, 0x81, 0x9e, 0x00);
  CHECK_H264 (h, 0, 0x90);
  RTP (1, 9000, TRUE, 0x1c, 0x41, 0x33, 0x44);
  CHECK_H264 (h, 0, 0x50);

  /* STAP-A (NRI 3): SPS, PPS, IDR slice */
  RTP (1, 12000, TRUE, 0x78,
      0x00, 0x04, 0x67, 0x42, 0xc0, 0x1e,
      0x00, 0x02, 0x68, 0xce, 0x00, 0x03, 0x65, 0x88, 0x84);
  CHECK_H264 (h, 7, 0xE0);
  /* STAP-A (NRI 2) of two P slices */
  RTP (1, 15000, TRUE, 0x58, 0x00, 0x02, 0x41, 0x9a, 0x00, 0x02, 0x41, 0x9b);
  CHECK_H264 (h, 6, 0xC0);
  /* a truncated STAP-A is still marked by its NRI */
  RTP (1, 18000, TRUE, 0x58, 0x00, 0x09, 0x41, 0x9a);
  CHECK_H264 (h, 6, 0xC0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* An IDR whose NRI is below 3 (encoders do not do that, H.264 allows it):
 * RFC 9626 requires I=1 for it, which the relay reads as 7. The one case
 * where the tagged packet's priority is above the untagged one's. */
GST_START_TEST (test_h264_idr_low_nri)
{
  GstHarness *h = harness (H264_CAPS, NULL);
  GstBuffer *pkt;

  RTP (1, 0, TRUE, 0x45, 0x88, 0x84);   /* IDR, NRI 2 */
  fail_unless_equals_int (classify (pkt, PRIO_CODEC_H264, 0, NULL, NULL), 6);
  CHECK (h, 1, 7, 0xE0);
  RTP (1, 3000, FALSE, 0x3c, 0x85, 0x88); /* FU-A start, NRI 1 */
  CHECK (h, 1, 7, 0xA0);
  RTP (1, 6000, TRUE, 0x58, 0x00, 0x02, 0x41, 0x9a, 0x00, 0x02, 0x45, 0x88);
  CHECK (h, 1, 7, 0xE0);        /* STAP-A NRI 2 with an IDR */
  gst_harness_teardown (h);
}

GST_END_TEST;

/* VP8 (RFC 7741 descriptor): key frame on the first packet -> I for the
 * whole frame; N -> D; temporal layers -> long form with TID, B from Y and
 * TL0PICIDX. Tagged and untagged, the relay gives the same priority. */
GST_START_TEST (test_vp8)
{
  GstHarness *h = harness (VP8_CAPS, NULL);
  struct prio_vp8_state vp8a = { 0 }, vp8b = { 0 };
  GstBuffer *pkt;

#define CHECK_VP8(state, prio, ...) G_STMT_START {                      \
    fail_unless_equals_int (classify (pkt, PRIO_CODEC_VP8, 0, &state,   \
            NULL), prio);                                               \
    CHECK (h, 1, prio, __VA_ARGS__);                                    \
  } G_STMT_END

  /* key frame in three packets: only the first shows it */
  RTP (1, 0, FALSE, 0x10, 0x50, 0x2a, 0x01);    /* S, PID 0; P=0: key */
  CHECK_VP8 (vp8a, 7, 0xA0);
  RTP (1, 0, FALSE, 0x00, 0x01, 0x02, 0x03);
  CHECK_VP8 (vp8a, 7, 0x20);
  RTP (1, 0, TRUE, 0x00, 0x01, 0x02, 0x03);
  CHECK_VP8 (vp8a, 7, 0x60);
  /* inter frame, two packets */
  RTP (1, 3000, FALSE, 0x10, 0x51, 0x2a, 0x01); /* P=1 */
  CHECK_VP8 (vp8a, 6, 0x80);
  RTP (1, 3000, TRUE, 0x00, 0x00, 0x02, 0x03);
  CHECK_VP8 (vp8a, 6, 0x40);
  /* non-reference frame */
  RTP (1, 6000, TRUE, 0x30, 0x51, 0x2a, 0x01);  /* N, S */
  CHECK_VP8 (vp8a, 0, 0xD0);
  /* a packet of a frame whose start was lost */
  RTP (1, 9000, TRUE, 0x00, 0x50, 0x2a, 0x01);
  CHECK_VP8 (vp8a, 6, 0x40);

  /* temporal layers: X, I (15-bit picture id), L, T; TID 2, Y */
  RTP (2, 0, TRUE, 0x90, 0xe0, 0x80, 0x05, 0x17, 0xa0, 0x51, 0x2a);
  CHECK_VP8 (vp8b, 4, 0xCA, 0x00, 0x17);
  /* key frame on TID 0 */
  RTP (2, 3000, TRUE, 0x90, 0x60, 0x18, 0x00, 0x50, 0x2a);
  CHECK_VP8 (vp8b, 7, 0xE0, 0x00, 0x18);
  /* TID 1, non-reference, no TL0PICIDX */
  RTP (2, 6000, TRUE, 0xb0, 0x20, 0x40, 0x51, 0x2a);
  CHECK_VP8 (vp8b, 0, 0xD1, 0x00);
  /* TID 1 in two packets, 7-bit picture id, no Y */
  RTP (2, 9000, FALSE, 0x90, 0xa0, 0x12, 0x40, 0x51, 0x2a);
  CHECK_VP8 (vp8b, 5, 0x81, 0x00);
  RTP (2, 9000, TRUE, 0x80, 0xa0, 0x12, 0x40, 0x00, 0x2a);
  CHECK_VP8 (vp8b, 5, 0x41, 0x00);
#undef CHECK_VP8
  gst_harness_teardown (h);
}

GST_END_TEST;

/* priority=0..7: the same value on every packet of any stream; not video:
 * every packet is a whole frame (S=E=1). */
GST_START_TEST (test_fixed_priority)
{
  GstHarness *h = harness ("application/x-rtp,media=text,clock-rate=1000,"
      "encoding-name=T140,payload=96", NULL);
  GstElement *e = gst_harness_find_element (h, "rtpframemarking");
  GstBuffer *pkt;
  gint p;

  for (p = 0; p <= 7; p++) {
    g_object_set (e, "priority", p, NULL);
    /* a new SSRC each: the long form sticks to an SSRC */
    RTP (100 + p, 0, FALSE, 'h', 'i');
    if (p == 7)
      CHECK (h, 1, 7, 0xE0);
    else if (p == 0)
      CHECK (h, 1, 0, 0xD0);
    else if (p == 6)
      CHECK (h, 1, 6, 0xC0);
    else
      CHECK (h, 1, p, 0xC0 | (6 - p), 0x00);
  }
  gst_object_unref (e);
  gst_harness_teardown (h);

  /* it overrides what the codec says, and changes while playing */
  h = harness (H264_CAPS, "priority=2");
  e = gst_harness_find_element (h, "rtpframemarking");
  RTP (1, 0, TRUE, 0x65, 0x88, 0x84);   /* IDR: would be 7 */
  CHECK (h, 1, 2, 0xC4, 0x00);
  g_object_set (e, "priority", -1, NULL);
  RTP (1, 3000, TRUE, 0x65, 0x88, 0x84);
  CHECK_H264 (h, 7, 0xE0, 0x00);
  gst_object_unref (e);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Other codecs: buffer flags; audio: whole frames, marker or not. */
GST_START_TEST (test_buffer_flags)
{
  GstHarness *h = harness ("application/x-rtp,media=video,clock-rate=90000,"
      "encoding-name=VP9,payload=96", NULL);
  GstBuffer *pkt;

  RTP (1, 0, FALSE, 0x01, 0x02);
  CHECK (h, 1, 7, 0xA0);
  RTP (1, 0, TRUE, 0x01, 0x02);
  CHECK (h, 1, 7, 0x60);
  RTP (1, 3000, TRUE, 0x01, 0x02);
  GST_BUFFER_FLAG_SET (pkt, GST_BUFFER_FLAG_DELTA_UNIT);
  CHECK (h, 1, 6, 0xC0);
  RTP (1, 6000, TRUE, 0x01, 0x02);
  GST_BUFFER_FLAG_SET (pkt, GST_BUFFER_FLAG_DELTA_UNIT);
  GST_BUFFER_FLAG_SET (pkt, GST_BUFFER_FLAG_DROPPABLE);
  CHECK (h, 1, 0, 0xD0);
  gst_harness_teardown (h);

  h = harness ("application/x-rtp,media=audio,clock-rate=48000,"
      "encoding-name=OPUS,payload=96", NULL);
  RTP (1, 0, TRUE, 0xfc, 0xff, 0xfe);
  CHECK (h, 1, 7, 0xE0);
  RTP (1, 960, FALSE, 0xfc, 0xff, 0xfe);
  CHECK (h, 1, 7, 0xE0);
  gst_harness_teardown (h);

  /* H.264 caps, but an empty payload: flags too */
  h = harness (H264_CAPS, NULL);
  pkt = make_rtp (1, 0, TRUE, NULL, 0);
  GST_BUFFER_FLAG_SET (pkt, GST_BUFFER_FLAG_DELTA_UNIT);
  CHECK (h, 1, 6, 0xC0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Other one-byte elements stay, after the frame marking element; an old
 * frame marking element with the same id goes. */
GST_START_TEST (test_existing_onebyte)
{
  GstHarness *h = harness (H264_CAPS, NULL);
  const guint8 a[] = { 0xaa, 0xbb }, b[] = { 1, 2, 3, 4 }, old[] = { 0xff,
    0xff, 0xff
  };
  GstBuffer *pkt, *out;
  guint8 *block;
  guint16 profile;
  guint len;

  RTP (1, 0, TRUE, 0x41, 0x9a);
  add_onebyte (pkt, 3, a, 2);
  add_onebyte (pkt, 5, b, 4);
  fail_unless_equals_int (classify (pkt, PRIO_CODEC_H264, 0, NULL, NULL), 6);
  out = push_and_check (h, pkt, 1, (const guint8[]) {
      0xC0}, 1, 6);
  block = get_block (out, &profile, &len);
  {
    const guint8 expect[] = { 0x10, 0xC0, 0x31, 0xaa, 0xbb, 0x53, 1, 2, 3, 4,
      0, 0
    };
    fail_unless_equals_int (profile, 0xBEDE);
    fail_unless_equals_int (len, sizeof (expect));
    fail_unless (memcmp (block, expect, len) == 0);
  }
  g_free (block);
  gst_buffer_unref (out);

  /* an old frame marking element (long form, I and D set), between others
   * and after padding */
  RTP (1, 3000, TRUE, 0x01, 0x9e);
  {
    const guint8 raw[] = { 0x31, 0xaa, 0xbb, 0x00, 0x12, 0xff, 0xff, 0xff,
      0x53, 1, 2, 3, 4, 0, 0, 0
    };
    set_raw_extension (pkt, 0xBEDE, raw, sizeof (raw));
  }
  fail_unless_equals_int (classify (pkt, PRIO_CODEC_H264, 1, NULL, NULL), 7);
  out = push_and_check (h, pkt, 1, (const guint8[]) {
      0xD0}, 1, 0);
  block = get_block (out, &profile, &len);
  {
    const guint8 expect[] = { 0x10, 0xD0, 0x31, 0xaa, 0xbb, 0x53, 1, 2, 3, 4,
      0, 0
    };
    fail_unless_equals_int (profile, 0xBEDE);
    fail_unless_equals_int (len, sizeof (expect));
    fail_unless (memcmp (block, expect, len) == 0);
  }
  g_free (block);
  gst_buffer_unref (out);

  /* only the old element: the block shrinks */
  RTP (1, 6000, TRUE, 0x61, 0x9a);
  add_onebyte (pkt, 1, old, 3);
  add_onebyte (pkt, 1, old, 3);
  out = push_and_check (h, pkt, 1, (const guint8[]) {
      0xE0}, 1, 7);
  block = get_block (out, &profile, &len);
  fail_unless_equals_int (len, 4);
  fail_unless_equals_int (block[0], 0x10);
  fail_unless_equals_int (block[1], 0xE0);
  fail_unless_equals_int (block[2], 0);
  g_free (block);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Two-byte blocks stay two-byte (appbits kept), elements of length 0 too. */
GST_START_TEST (test_existing_twobyte)
{
  GstHarness *h = harness (H264_CAPS, NULL);
  guint8 big[20], *block;
  GstBuffer *pkt, *out;
  guint16 profile;
  guint len, i;

  for (i = 0; i < sizeof (big); i++)
    big[i] = i + 1;
  RTP (1, 0, TRUE, 0x41, 0x9a);
  add_twobytes (pkt, 2, 20, big, 0);
  add_twobytes (pkt, 2, 7, big, 20);
  out = push_and_check (h, pkt, 1, (const guint8[]) {
      0xC0}, 1, 6);
  block = get_block (out, &profile, &len);
  fail_unless_equals_int (profile, 0x1002);
  fail_unless_equals_int (len, 28);
  {
    const guint8 head[] = { 0x01, 0x01, 0xC0, 20, 0, 7, 20 };
    fail_unless (memcmp (block, head, sizeof (head)) == 0);
    fail_unless (memcmp (block + sizeof (head), big, 20) == 0);
    fail_unless_equals_int (block[27], 0);
  }
  g_free (block);
  gst_buffer_unref (out);

  /* zero-length elements ending a block, then an old frame marking one */
  RTP (1, 3000, TRUE, 0x21, 0x9a);
  {
    const guint8 raw[] = { 0x01, 0x03, 0x20, 0x00, 0x00, 30, 0, 31, 0, 0, 0,
      0
    };
    set_raw_extension (pkt, 0x1000, raw, sizeof (raw));
  }
  out = push_and_check (h, pkt, 1, (const guint8[]) {
      0xC1, 0x00}, 2, 5);
  block = get_block (out, &profile, &len);
  {
    const guint8 expect[] = { 0x01, 0x02, 0xC1, 0x00, 30, 0, 31, 0 };
    fail_unless_equals_int (profile, 0x1000);
    fail_unless_equals_int (len, sizeof (expect));
    fail_unless (memcmp (block, expect, len) == 0);
  }
  g_free (block);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Ids 1-14: one-byte form; 15-255: two-byte form, also converting a
 * one-byte block. Caps say which. */
GST_START_TEST (test_ids)
{
  const guint ids[] = { 1, 14, 15, 100, 255 };
  const guint8 a[] = { 0xaa, 0xbb }, b[] = { 1, 2, 3, 4 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    gchar *props = g_strdup_printf ("framemarking-id=%u", ids[i]);
    gchar field[16];
    GstHarness *h = harness (H264_CAPS, props);
    GstBuffer *pkt, *out;
    GstCaps *caps;
    guint16 profile;
    guint len;
    guint8 *block, rule;

    RTP (1, 0, TRUE, 0x61, 0x9a);
    out = push_and_check (h, pkt, ids[i], (const guint8[]) {
        0xE0}, 1, 7);
    block = get_block (out, &profile, &len);
    fail_unless_equals_int (profile, ids[i] <= 14 ? 0xBEDE : 0x1000);
    fail_unless_equals_int (len, 4);
    g_free (block);
    /* a relay told another id does not see it: the NRI decides */
    fail_unless_equals_int (classify (out, PRIO_CODEC_H264, ids[i] == 1 ? 2 :
            1, NULL, &rule), 7);
    fail_unless_equals_int (rule, PRIO_RULE_H264);
    gst_buffer_unref (out);

    caps = gst_pad_get_current_caps (h->sinkpad);
    g_snprintf (field, sizeof (field), "extmap-%u", ids[i]);
    fail_unless_equals_string (gst_structure_get_string
        (gst_caps_get_structure (caps, 0), field), URI);
    gst_caps_unref (caps);

    /* with one-byte elements already there */
    RTP (1, 3000, TRUE, 0x41, 0x9a);
    add_onebyte (pkt, 3, a, 2);
    add_onebyte (pkt, 5, b, 4);
    out = push_and_check (h, pkt, ids[i], (const guint8[]) {
        0xC0}, 1, 6);
    block = get_block (out, &profile, &len);
    if (ids[i] <= 14) {
      const guint8 expect[] = { ids[i] << 4, 0xC0, 0x31, 0xaa, 0xbb, 0x53, 1,
        2, 3, 4, 0, 0
      };
      fail_unless_equals_int (profile, 0xBEDE);
      fail_unless_equals_int (len, sizeof (expect));
      fail_unless (memcmp (block, expect, len) == 0);
    } else {
      const guint8 expect[] = { ids[i], 1, 0xC0, 3, 2, 0xaa, 0xbb, 5, 4, 1, 2,
        3, 4, 0, 0, 0
      };
      fail_unless_equals_int (profile, 0x1000);
      fail_unless_equals_int (len, sizeof (expect));
      fail_unless (memcmp (block, expect, len) == 0);
    }
    g_free (block);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (props);
  }
}

GST_END_TEST;

static void
push_untouched (GstHarness * h, GstBuffer * in)
{
  GstBuffer *out;
  GBytes *before, *after;
  gsize size;
  gpointer data;

  gst_buffer_extract_dup (in, 0, -1, &data, &size);
  before = g_bytes_new_take (data, size);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  gst_buffer_extract_dup (out, 0, -1, &data, &size);
  after = g_bytes_new_take (data, size);
  fail_unless (g_bytes_equal (before, after), "buffer was changed");
  g_bytes_unref (before);
  g_bytes_unref (after);
  gst_buffer_unref (out);
}

/* Not RTP, malformed, or a header extension that is not RFC 8285: out as
 * they came in, counted. */
GST_START_TEST (test_passthrough)
{
  GstHarness *h = harness (H264_CAPS, NULL);
  GstBuffer *pkt;

  push_untouched (h, gst_buffer_new_memdup ("hello", 5));
  {
    /* RTCP receiver report */
    const guint8 rr[] = { 0x80, 201, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78 };
    push_untouched (h, gst_buffer_new_memdup (rr, sizeof (rr)));
  }
  {
    /* RTP version 1 */
    const guint8 v1[] = { 0x40, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x41 };
    push_untouched (h, gst_buffer_new_memdup (v1, sizeof (v1)));
  }
  /* a one-byte element running past its block */
  RTP (1, 0, TRUE, 0x41, 0x9a);
  {
    const guint8 raw[] = { 0x1f, 0x00, 0x00, 0x00 };
    set_raw_extension (pkt, 0xBEDE, raw, sizeof (raw));
  }
  push_untouched (h, pkt);
  /* id 15 stops a one-byte block */
  RTP (1, 0, TRUE, 0x41, 0x9a);
  {
    const guint8 raw[] = { 0x20, 0x01, 0xf0, 0x55 };
    set_raw_extension (pkt, 0xBEDE, raw, sizeof (raw));
  }
  push_untouched (h, pkt);
  /* another extension profile: warned about once */
  RTP (1, 0, TRUE, 0x41, 0x9a);
  {
    const guint8 raw[] = { 1, 2, 3, 4 };
    set_raw_extension (pkt, 0xABCD, raw, sizeof (raw));
  }
  push_untouched (h, pkt);
  fail_unless_equals_uint64 (stat (h, "passed"), 6);
  fail_unless_equals_uint64 (stat (h, "tagged"), 0);

  RTP (1, 3000, TRUE, 0x41, 0x9a);
  CHECK_H264 (h, 6, 0xC0);
  fail_unless_equals_uint64 (stat (h, "passed"), 6);
  fail_unless_equals_uint64 (stat (h, "tagged"), 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps)
{
  GstHarness *h;
  GstCaps *caps;
  GstStructure *s;
  GstBuffer *pkt;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;

  /* other caps fields and extmaps stay */
  h = harness (H264_CAPS ",extmap-3=urn:ietf:params:rtp-hdrext:ntp-64", NULL);
  RTP (1, 0, TRUE, 0x41, 0x9a);
  CHECK_H264 (h, 6, 0xC0);
  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "extmap-1"), URI);
  fail_unless_equals_string (gst_structure_get_string (s, "extmap-3"),
      "urn:ietf:params:rtp-hdrext:ntp-64");
  fail_unless_equals_string (gst_structure_get_string (s, "encoding-name"),
      "H264");
  gst_caps_unref (caps);
  gst_harness_teardown (h);

  /* an upstream frame marking extmap with our id is fine */
  h = harness (H264_CAPS ",extmap-1=" URI, NULL);
  RTP (1, 0, TRUE, 0x41, 0x9a);
  CHECK_H264 (h, 6, 0xC0);
  gst_harness_teardown (h);

  /* our id taken by another extension: an error that says what to do */
  h = gst_harness_new ("rtpframemarking");
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, H264_CAPS
      ",extmap-1=urn:ietf:params:rtp-hdrext:ntp-64");
  RTP (1, 0, TRUE, 0x41, 0x9a);
  fail_unless_equals_int (gst_harness_push (h, pkt), GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  GST_INFO ("error: %s", err->message);
  fail_unless (strstr (err->message, "framemarking-id") != NULL);
  fail_unless (strstr (err->message, "ntp-64") != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* --- real encoders ------------------------------------------------------- */

typedef struct
{
  guint packets, frames, seen[PRIO_MAX + 1];
  guint inherited;              /* I on a packet that does not start a frame */
  guint b_slices;               /* H.264: packets of non-reference slices */
  guint32 ssrc, last_ts;
  gboolean have_last, last_marker;
} PipelineResult;

/* Runs @desc (ending in rtpframemarking) to EOS; for every packet, checks
 * that the relay reads from the frame marking element the priority that
 * it gives the untagged payload (@codec), and that S and E follow the
 * frames. */
static void
run_pipeline (const gchar * desc, guint8 codec, PipelineResult * r)
{
  GstHarness *h = gst_harness_new_parse (desc);
  struct prio_vp8_state vp8 = { 0 };
  GstBuffer *buf;

  memset (r, 0, sizeof (*r));
  gst_harness_play (h);
  while (gst_harness_pull_until_eos (h, &buf) && buf) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    guint8 rule, tagged, untagged, fm;
    gboolean marker, start;
    gpointer data;
    guint size;
    guint32 ts;

    fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
    fail_unless (gst_rtp_buffer_get_extension_onebyte_header (&rtp, 1, 0,
            &data, &size));
    fm = ((guint8 *) data)[0];
    if (codec == PRIO_CODEC_H264) {
      const guint8 *pl = gst_rtp_buffer_get_payload (&rtp);
      guint type = pl[0] & 0x1f;

      if (type == 28)
        type = pl[1] & 0x1f;
      r->b_slices += type == 1 && (pl[0] & 0x60) == 0;
    }
    ts = gst_rtp_buffer_get_timestamp (&rtp);
    marker = gst_rtp_buffer_get_marker (&rtp);
    gst_rtp_buffer_unmap (&rtp);

    tagged = classify (buf, codec, 1, NULL, &rule);
    fail_unless_equals_int (rule, PRIO_RULE_FRAMEMARKING);
    untagged = classify (buf, codec, 0, &vp8, &rule);
    fail_unless_equals_int (rule, codec == PRIO_CODEC_H264 ?
        PRIO_RULE_H264 : PRIO_RULE_VP8);
    fail_unless_equals_int (tagged, untagged);
    r->seen[tagged]++;
    r->inherited += (fm & 0x20) && !(fm & 0x80);

    start = !r->have_last || ts != r->last_ts || r->last_marker;
    fail_unless_equals_int (! !(fm & 0x80), start);
    fail_unless_equals_int (! !(fm & 0x40), marker);
    r->frames += start;
    r->have_last = TRUE;
    r->last_ts = ts;
    r->last_marker = marker;
    r->packets++;
    gst_buffer_unref (buf);
  }
  GST_INFO ("%u packets, %u frames; priority 7: %u (%u inherited), 6: %u, "
      "0: %u (%u B slices)", r->packets, r->frames, r->seen[7], r->inherited,
      r->seen[6], r->seen[0], r->b_slices);
  gst_harness_teardown (h);
}

GST_START_TEST (test_x264_pipeline)
{
  PipelineResult r;

  /* aud=false: the access unit delimiters (NRI 0) would hide missing B
   * frames. rtpframemarking must not make rtph264pay ask for constrained
   * baseline, which has none. */
  run_pipeline ("videotestsrc num-buffers=30 pattern=ball "
      "! video/x-raw,format=I420,width=320,height=240,framerate=30/1 "
      "! x264enc bframes=2 b-adapt=false tune=zerolatency key-int-max=15 "
      "aud=false ! rtph264pay mtu=600 ! rtpframemarking", PRIO_CODEC_H264,
      &r);
  fail_unless (r.packets > 30);
  fail_unless_equals_int (r.frames, 30);
  fail_unless (r.seen[7] > 0, "no packet of priority 7");
  fail_unless (r.seen[6] > 0, "no packet of priority 6");
  fail_unless (r.seen[0] > 0, "no packet of priority 0");
  fail_unless (r.b_slices > 0, "no B slices (constrained baseline?)");
}

GST_END_TEST;

GST_START_TEST (test_vp8_pipeline)
{
  PipelineResult r;

  run_pipeline ("videotestsrc num-buffers=20 pattern=ball "
      "! video/x-raw,width=320,height=240,framerate=30/1 "
      "! vp8enc deadline=1 keyframe-max-dist=10 "
      "! rtpvp8pay mtu=200 ! rtpframemarking", PRIO_CODEC_VP8, &r);
  fail_unless_equals_int (r.frames, 20);
  fail_unless (r.packets > 20);
  fail_unless (r.inherited > 0, "no key frame over several packets");
  fail_unless (r.seen[6] > 0);
}

GST_END_TEST;

static gboolean
have (const gchar * factory)
{
  GstElementFactory *f = gst_element_factory_find (factory);

  if (!f) {
    g_print ("SKIP: %s is not installed; its pipeline test does not run\n",
        factory);
    return FALSE;
  }
  gst_object_unref (f);
  return TRUE;
}

static Suite *
rtpframemarking_suite (void)
{
  Suite *s = suite_create ("rtpframemarking");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_h264_nri);
  tcase_add_test (tc, test_h264_idr_fua_stapa);
  tcase_add_test (tc, test_h264_idr_low_nri);
  tcase_add_test (tc, test_vp8);
  tcase_add_test (tc, test_fixed_priority);
  tcase_add_test (tc, test_buffer_flags);
  tcase_add_test (tc, test_existing_onebyte);
  tcase_add_test (tc, test_existing_twobyte);
  tcase_add_test (tc, test_ids);
  tcase_add_test (tc, test_passthrough);
  tcase_add_test (tc, test_caps);
  if (have ("x264enc") && have ("rtph264pay"))
    tcase_add_test (tc, test_x264_pipeline);
  if (have ("vp8enc") && have ("rtpvp8pay"))
    tcase_add_test (tc, test_vp8_pipeline);
  return s;
}

GST_CHECK_MAIN (rtpframemarking);
