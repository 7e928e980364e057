/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-sps: gst-plugin/ebpfrelay-sps.c, the H.264 SPS rewrite that makes a
 * limited viewer's decoder output each picture without reorder delay.
 * - x264's SPSs (x264enc of this machine: Main, High, High 4:4:4, with and
 *   without B frames, with emulation prevention bytes in their timing
 *   info): rewritten to bitstream_restriction_flag=1,
 *   max_num_reorder_frames=0, max_dec_frame_buffering=max_num_ref_frames;
 *   every other field as before; the bytes before the bitstream
 *   restriction unchanged (emulation prevention bytes too); no forbidden
 *   00 00 0x in the output; rewriting the result again: unchanged;
 * - SPSs without VUI (Baseline; High with scaling lists, POC type 1,
 *   field coding, cropping): a VUI with only the restriction added;
 * - STAP-A holding SPS and PPS: the SPS rewritten, sizes right, the PPS
 *   as it was; SPS and B slice detection in single NAL, STAP-A, FU-A;
 * - malformed input: every truncation, every single-bit flip, random
 *   bytes, wrong NAL type, forbidden bit, a forbidden 00 00 01 inside:
 *   no crash, and anything reported rewritten parses with no reordering;
 * - the guard (when rewriting is safe): limit 7 from the start, a lower
 *   limit after it was watched, never at or below a B slice's priority;
 * - a viewer's guards: one per SSRC, the limit asked only for an SPS, the
 *   bytes before the RTP packet kept, the table starting over when full,
 *   offsets past the end refused.
 */
#include <string.h>
#include <glib.h>

#include "ebpfrelay-sps.h"

typedef struct
{
  const gchar *name;
  const gchar *hex;
  gboolean vui;
  guint reorder;                /* as the encoder declared it */
} Sample;

/* From x264enc (GStreamer 1.22, Debian) of videotestsrc, byte-stream. */
static const Sample x264[] = {
  {"x264 main bframes=2 640x360",
      "674d401eeca05017fcb80b5060606a50000003001000000303c8f162d960", TRUE, 2},
  {"x264 high bframes=2 640x360",
      "6764001eacd940a02ff97016a0c0c0d4a0000003002000000791e2c5b2c0", TRUE, 2},
  {"x264 high bframes=0 640x360",
      "6764001eacb201405ff2e02d418181a940000003004000000f23c58b92", TRUE, 0},
  {"x264 baseline 640x360",
      "6742c01ed900a02ff97016a0c0c0d4a0000003002000000791e2c5c9", TRUE, 0},
  {"x264 high444 bframes=2 320x240",
      "67f4000d90d9b28283f602d41818190000030001000003003c8f142996", TRUE, 2},
  {"x264 high444 zerolatency 320x240",
      "67f4000d90d9640507ec05a8303032000003000200000300791e285490", TRUE, 0},
};

/* Built by hand (bit by bit): no VUI. */
static const Sample novui[] = {
  {"baseline 320x240 poc 2, no VUI", "6742c01eda0507e4", FALSE, 0},
  {"high, scaling lists, poc 1, fields, cropping, no VUI",
      "676400284b69249249249240a49249249249249249249249249249249249249"
        "249249249284b298a02802d7e54", FALSE, 0},
};

static guint8 *
unhex (const gchar * hex, gsize * len)
{
  gsize n = strlen (hex) / 2, i;
  guint8 *b = g_malloc (n);

  for (i = 0; i < n; i++)
    b[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4)
        | g_ascii_xdigit_value (hex[2 * i + 1]);
  *len = n;
  return b;
}

static void
assert_no_start_code (const guint8 * b, gsize len)
{
  gsize i;

  for (i = 0; i + 2 < len; i++)
    g_assert_false (b[i] == 0 && b[i + 1] == 0 && b[i + 2] < 3);
  g_assert_cmpuint (b[len - 1], !=, 0);
}

/* The SPS's fields other than the restriction, equal. */
static void
assert_same_fields (const EbpfRelaySpsInfo * a, const EbpfRelaySpsInfo * b)
{
  g_assert_cmpuint (a->profile_idc, ==, b->profile_idc);
  g_assert_cmpuint (a->level_idc, ==, b->level_idc);
  g_assert_cmpuint (a->sps_id, ==, b->sps_id);
  g_assert_cmpuint (a->max_num_ref_frames, ==, b->max_num_ref_frames);
  g_assert_cmpuint (a->width_mbs, ==, b->width_mbs);
  g_assert_cmpuint (a->height_map_units, ==, b->height_map_units);
}

static void
check_sample (const Sample * s)
{
  EbpfRelaySpsInfo before, after;
  guint8 *in, *out = NULL, *again = NULL;
  gsize len, out_len = 0, again_len = 0;

  g_test_message ("%s", s->name);
  in = unhex (s->hex, &len);
  g_assert_true (ebpf_relay_sps_parse (in, len, &before));
  g_assert_cmpint (before.vui, ==, s->vui);
  if (s->vui) {
    g_assert_true (before.bitstream_restriction);
    g_assert_cmpuint (before.max_num_reorder_frames, ==, s->reorder);
    /* x264 without B frames declares it already: left as it is */
    if (s->reorder == 0
        && before.max_dec_frame_buffering == before.max_num_ref_frames) {
      g_assert_cmpint (ebpf_relay_sps_rewrite (in, len, &out, &out_len), ==,
          EBPF_RELAY_SPS_UNCHANGED);
      g_assert_null (out);
      g_free (in);
      return;
    }
  }
  g_assert_cmpint (ebpf_relay_sps_rewrite (in, len, &out, &out_len), ==,
      EBPF_RELAY_SPS_REWRITTEN);
  g_assert_nonnull (out);
  g_assert_cmpuint (out[0], ==, in[0]);
  assert_no_start_code (out, out_len);
  g_assert_true (ebpf_relay_sps_parse (out, out_len, &after));
  assert_same_fields (&before, &after);
  g_assert_true (after.vui);
  g_assert_true (after.bitstream_restriction);
  g_assert_cmpuint (after.max_num_reorder_frames, ==, 0);
  g_assert_cmpuint (after.max_dec_frame_buffering, ==,
      before.max_num_ref_frames);
  if (s->vui) {
    /* everything before the restriction (its last 3..4 bytes) is copied,
     * emulation prevention bytes included */
    g_assert_cmpuint (out_len, >=, len - 3);
    g_assert_cmpmem (out, len - 4, in, len - 4);
  } else {
    /* the SPS without its stop bit, then the new VUI */
    g_assert_cmpuint (out_len, >, len);
  }
  /* idempotent */
  g_assert_cmpint (ebpf_relay_sps_rewrite (out, out_len, &again,
          &again_len), ==, EBPF_RELAY_SPS_UNCHANGED);
  g_assert_null (again);
  g_free (out);
  g_free (in);
}

static void
test_x264 (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (x264); i++)
    check_sample (&x264[i]);
}

static void
test_no_vui (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (novui); i++)
    check_sample (&novui[i]);
}

/* x264 high444's timing info holds 00 00 03 twice: kept, and the output
 * has as many emulation prevention bytes as the input. */
static void
test_emulation_prevention (void)
{
  guint8 *in, *out;
  gsize len, out_len, i;
  guint in_epb = 0, out_epb = 0;

  in = unhex (x264[4].hex, &len);
  g_assert_cmpint (ebpf_relay_sps_rewrite (in, len, &out, &out_len), ==,
      EBPF_RELAY_SPS_REWRITTEN);
  for (i = 0; i + 2 < len; i++)
    in_epb += in[i] == 0 && in[i + 1] == 0 && in[i + 2] == 3;
  for (i = 0; i + 2 < out_len; i++)
    out_epb += out[i] == 0 && out[i + 1] == 0 && out[i + 2] == 3;
  g_assert_cmpuint (in_epb, ==, 2);
  g_assert_cmpuint (out_epb, ==, in_epb);
  g_free (out);
  g_free (in);
}

/* Anything the rewrite accepts comes out as an SPS without reordering. */
static void
check_any (const guint8 * b, gsize len)
{
  EbpfRelaySpsInfo info;
  guint8 *out = NULL;
  gsize out_len = 0;
  EbpfRelaySpsResult r = ebpf_relay_sps_rewrite (b, len, &out, &out_len);

  if (r == EBPF_RELAY_SPS_REWRITTEN) {
    g_assert_true (ebpf_relay_sps_parse (out, out_len, &info));
    g_assert_true (info.bitstream_restriction);
    g_assert_cmpuint (info.max_num_reorder_frames, ==, 0);
    assert_no_start_code (out, out_len);
    g_free (out);
  } else {
    g_assert_null (out);
  }
  ebpf_relay_h264_payload_has_b_slice (b, len);
  ebpf_relay_h264_payload_has_sps (b, len);
  ebpf_relay_h264_slice_type (b, len);
  if (ebpf_relay_h264_payload_rewrite_sps (b, len, &out, &out_len))
    g_free (out);
}

static void
test_malformed (void)
{
  guint8 *in, *out = NULL, junk[64];
  gsize len, n, i, bit, m;
  guint invalid = 0;
  GRand *r = g_rand_new_with_seed (12);

  in = unhex (x264[1].hex, &len);
  /* every truncation: never read past the end; all but a handful (a cut
   * that happens to end in what reads as trailing bits) refused */
  for (n = 0; n < len; n++) {
    check_any (in, n);
    invalid += ebpf_relay_sps_rewrite (in, n, &out, &m) ==
        EBPF_RELAY_SPS_INVALID ? 1 : 0;
    if (out)
      g_clear_pointer (&out, g_free);
  }
  g_assert_cmpuint (invalid, >=, len - 2);
  /* every single-bit flip */
  for (bit = 0; bit < len * 8; bit++) {
    guint8 *c = g_memdup2 (in, len);

    c[bit / 8] ^= 1 << (bit % 8);
    check_any (c, len);
    g_free (c);
  }
  /* random bytes behind an SPS header */
  for (i = 0; i < 20000; i++) {
    n = g_rand_int_range (r, 1, sizeof (junk));
    for (bit = 0; bit < n; bit++)
      junk[bit] = g_rand_int_range (r, 0, 256);
    if (i & 1)
      junk[0] = 0x67;
    check_any (junk, n);
  }
  /* not an SPS, forbidden bit, a start code inside */
  {
    guint8 *c = g_memdup2 (in, len);

    c[0] = 0x68;
    g_assert_cmpint (ebpf_relay_sps_rewrite (c, len, &out, &m), ==,
        EBPF_RELAY_SPS_INVALID);
    c[0] = 0xe7;
    g_assert_cmpint (ebpf_relay_sps_rewrite (c, len, &out, &m), ==,
        EBPF_RELAY_SPS_INVALID);
    c[0] = 0x67;
    c[5] = 0;
    c[6] = 0;
    c[7] = 1;
    g_assert_cmpint (ebpf_relay_sps_rewrite (c, len, &out, &m), ==,
        EBPF_RELAY_SPS_INVALID);
    g_free (c);
  }
  g_assert_cmpint (ebpf_relay_sps_rewrite (NULL, 0, &out, &m), ==,
      EBPF_RELAY_SPS_INVALID);
  g_assert_null (out);
  g_rand_free (r);
  g_free (in);
}

static void
test_stap_a (void)
{
  static const guint8 pps[] = { 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0 };
  EbpfRelaySpsInfo info;
  guint8 *sps, *out, *single;
  gsize sps_len, out_len, single_len, off;
  GByteArray *p = g_byte_array_new ();
  guint8 hdr = 0x78, sz[2];

  sps = unhex (x264[0].hex, &sps_len);
  g_byte_array_append (p, &hdr, 1);
  sz[0] = 0;
  sz[1] = sps_len;
  g_byte_array_append (p, sz, 2);
  g_byte_array_append (p, sps, sps_len);
  sz[1] = sizeof (pps);
  g_byte_array_append (p, sz, 2);
  g_byte_array_append (p, pps, sizeof (pps));

  g_assert_true (ebpf_relay_h264_payload_has_sps (p->data, p->len));
  g_assert_false (ebpf_relay_h264_payload_has_sps (pps, sizeof (pps)));
  g_assert_true (ebpf_relay_h264_payload_rewrite_sps (p->data, p->len, &out,
          &out_len));
  g_assert_cmpuint (out[0], ==, 0x78);
  off = 1;
  g_assert_true (ebpf_relay_h264_payload_rewrite_sps (sps, sps_len, &single,
          &single_len));
  g_assert_cmpuint ((out[off] << 8) | out[off + 1], ==, single_len);
  g_assert_cmpmem (out + off + 2, single_len, single, single_len);
  g_assert_true (ebpf_relay_sps_parse (out + off + 2, single_len, &info));
  g_assert_cmpuint (info.max_num_reorder_frames, ==, 0);
  off += 2 + single_len;
  g_assert_cmpuint ((out[off] << 8) | out[off + 1], ==, sizeof (pps));
  g_assert_cmpmem (out + off + 2, sizeof (pps), pps, sizeof (pps));
  g_assert_cmpuint (off + 2 + sizeof (pps), ==, out_len);
  g_free (out);
  g_free (single);

  /* a size running past the end: nothing rewritten */
  p->data[2] = 0xff;
  g_assert_false (ebpf_relay_h264_payload_rewrite_sps (p->data, p->len, &out,
          &out_len));
  /* a PPS alone: nothing to rewrite */
  g_assert_false (ebpf_relay_h264_payload_rewrite_sps (pps, sizeof (pps),
          &out, &out_len));
  g_byte_array_unref (p);
  g_free (sps);
}

static void
test_slices (void)
{
  /* first_mb_in_slice 0 ('1'), slice_type ue: B 1 ('010'), P 5
   * ('00110'), I 7 ('0001000'), B 6 ('00111') */
  static const guint8 b_slice[] = { 0x01, 0xa0, 0x00, 0x10 };
  static const guint8 b6_slice[] = { 0x01, 0x9c, 0x10 };
  static const guint8 p_slice[] = { 0x41, 0x98, 0x10 };
  static const guint8 idr[] = { 0x65, 0x88, 0x10 };
  static const guint8 fu_b_start[] = { 0x1c, 0x81, 0xa0, 0x00 };
  static const guint8 fu_b_middle[] = { 0x1c, 0x01, 0xa0, 0x00 };
  static const guint8 fu_p_start[] = { 0x5c, 0x81, 0x98, 0x10 };
  static const guint8 stap_b[] = { 0x18, 0x00, 0x02, 0x09, 0xf0,
    0x00, 0x04, 0x01, 0xa0, 0x00, 0x10
  };

  g_assert_cmpint (ebpf_relay_h264_slice_type (b_slice, sizeof (b_slice)), ==,
      1);
  g_assert_cmpint (ebpf_relay_h264_slice_type (b6_slice, sizeof (b6_slice)),
      ==, 6);
  g_assert_cmpint (ebpf_relay_h264_slice_type (p_slice, sizeof (p_slice)), ==,
      5);
  g_assert_cmpint (ebpf_relay_h264_slice_type (idr, sizeof (idr)), ==, 7);
  g_assert_cmpint (ebpf_relay_h264_slice_type (b_slice, 1), ==, -1);
  g_assert_true (ebpf_relay_h264_payload_has_b_slice (b_slice,
          sizeof (b_slice)));
  g_assert_true (ebpf_relay_h264_payload_has_b_slice (b6_slice,
          sizeof (b6_slice)));
  g_assert_false (ebpf_relay_h264_payload_has_b_slice (p_slice,
          sizeof (p_slice)));
  g_assert_false (ebpf_relay_h264_payload_has_b_slice (idr, sizeof (idr)));
  g_assert_true (ebpf_relay_h264_payload_has_b_slice (fu_b_start,
          sizeof (fu_b_start)));
  g_assert_false (ebpf_relay_h264_payload_has_b_slice (fu_b_middle,
          sizeof (fu_b_middle)));
  g_assert_false (ebpf_relay_h264_payload_has_b_slice (fu_p_start,
          sizeof (fu_p_start)));
  g_assert_true (ebpf_relay_h264_payload_has_b_slice (stap_b, sizeof (stap_b)));
  g_assert_false (ebpf_relay_h264_payload_has_b_slice (stap_b, 8));
}

static void
test_guard (void)
{
  EbpfRelaySpsGuard g;

  ebpf_relay_sps_guard_init (&g);
  /* limit 7 from the start */
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 7, 3000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 7, 6000));
  /* lowered to 6: the first SPS at 6 as it was (not watched yet), the
   * next one rewritten if no B slice passed in between */
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 6, 9000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 6, 12000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 7, 15000));
  /* a B slice of priority 6 (x264's B-pyramid references): not at 6
   * any more, still at 7 */
  ebpf_relay_sps_guard_b_slice (&g, 6);
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 6, 18000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 7, 21000));
  /* lowered to 0: as it was, also later (non-reference B slices) */
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 0, 24000));
  ebpf_relay_sps_guard_b_slice (&g, 0);
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 0, 27000));
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 5, 30000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 7, 33000));
  /* a B slice of priority 7: never again */
  ebpf_relay_sps_guard_b_slice (&g, 7);
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 7, 36000));

  /* a viewer starting at a lower limit: original SPSs until it watched,
   * also the second SPS of the same access unit (same timestamp) */
  ebpf_relay_sps_guard_init (&g);
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 1, 90000));
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 1, 90000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 1, 42000));
  g_assert_true (ebpf_relay_sps_guard_sps (&g, 3, 45000));
  g_assert_false (ebpf_relay_sps_guard_sps (&g, 0, 48000));
}

static guint limit_calls;

static guint
fixed_limit (guint32 ssrc, gpointer user_data)
{
  limit_calls++;
  return GPOINTER_TO_UINT (user_data);
}

/* An RTP packet (12-byte header, SSRC @ssrc) after @skip bytes of 0xee,
 * with @payload. */
static guint8 *
datagram (gsize skip, guint32 ssrc, const guint8 * payload, gsize plen,
    gsize * n)
{
  guint8 *d = g_malloc0 (skip + 12 + plen);

  memset (d, 0xee, skip);
  d[skip] = 0x80;
  d[skip + 1] = 96;
  d[skip + 8] = ssrc >> 24;
  d[skip + 9] = ssrc >> 16;
  d[skip + 10] = ssrc >> 8;
  d[skip + 11] = ssrc;
  memcpy (d + skip + 12, payload, plen);
  *n = skip + 12 + plen;
  return d;
}

static void
test_guards (void)
{
  static const guint8 b_slice[] = { 0x01, 0xa0, 0x00, 0x10 };
  static const guint8 p_slice[] = { 0x41, 0x98, 0x10 };
  EbpfRelaySpsGuards *gs = ebpf_relay_sps_guards_new (2);
  guint8 *sps, *d, *out = NULL;
  gsize sps_len, n, out_len = 0;
  guint used = 99;
  EbpfRelaySpsInfo info;

  sps = unhex (x264[0].hex, &sps_len);
  limit_calls = 0;
  /* no SPS: no limit asked, nothing rewritten */
  d = datagram (0, 1, p_slice, sizeof (p_slice), &n);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 3000, 6,
          12, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_OTHER);
  g_assert_cmpuint (limit_calls, ==, 0);
  g_assert_null (out);
  g_free (d);

  /* an SPS at limit 7 after 3 bytes of something: rewritten, the 3
   * bytes kept in front */
  d = datagram (3, 1, sps, sps_len, &n);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 3, 1, 6000, 7,
          12, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_REWRITTEN);
  g_assert_cmpuint (limit_calls, ==, 1);
  g_assert_cmpuint (used, ==, 7);
  g_assert_nonnull (out);
  g_assert_cmpmem (out, 3 + 12, d, 3 + 12);
  g_assert_true (ebpf_relay_sps_parse (out + 15, out_len - 15, &info));
  g_assert_true (info.bitstream_restriction);
  g_assert_cmpuint (info.max_num_reorder_frames, ==, 0);
  g_clear_pointer (&out, g_free);
  g_free (d);

  /* a B slice of priority 7 on SSRC 1: its SPSs as they are from now on;
   * SSRC 2's still rewritten (a guard per SSRC) */
  d = datagram (0, 1, b_slice, sizeof (b_slice), &n);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 9000, 7,
          12, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_OTHER);
  g_free (d);
  d = datagram (0, 1, sps, sps_len, &n);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 12000, 7,
          12, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_KEPT);
  g_assert_null (out);
  g_free (d);
  d = datagram (0, 2, sps, sps_len, &n);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 2, 12000, 7,
          12, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_REWRITTEN);
  g_clear_pointer (&out, g_free);
  g_free (d);

  /* a third SSRC with room for two: the table starts over, SSRC 1's B
   * slice is forgotten */
  d = datagram (0, 3, p_slice, sizeof (p_slice), &n);
  ebpf_relay_sps_guards_datagram (gs, d, n, 0, 3, 15000, 6, 12, fixed_limit,
      GUINT_TO_POINTER (7), &used, &out, &out_len);
  g_free (d);
  d = datagram (0, 1, sps, sps_len, &n);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 18000, 7,
          12, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_REWRITTEN);
  g_clear_pointer (&out, g_free);

  /* reset: SSRC 1 starts over; at limit 6 (not watched yet): as it is */
  ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 21000, 7, 12, fixed_limit,
      GUINT_TO_POINTER (7), &used, &out, &out_len);
  g_clear_pointer (&out, g_free);
  ebpf_relay_sps_guards_reset (gs);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 24000, 7,
          12, fixed_limit, GUINT_TO_POINTER (6), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_KEPT);
  g_assert_cmpuint (used, ==, 6);

  /* a payload offset at or past the end, a skip past the end: nothing */
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, 0, 1, 27000, 7,
          n, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_OTHER);
  g_assert_cmpint (ebpf_relay_sps_guards_datagram (gs, d, n, n, 1, 27000, 7,
          0, fixed_limit, GUINT_TO_POINTER (7), &used, &out, &out_len), ==,
      EBPF_RELAY_SPS_PACKET_OTHER);
  g_assert_null (out);
  g_free (d);
  g_free (sps);
  ebpf_relay_sps_guards_free (gs);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sps/x264", test_x264);
  g_test_add_func ("/sps/no-vui", test_no_vui);
  g_test_add_func ("/sps/emulation-prevention", test_emulation_prevention);
  g_test_add_func ("/sps/malformed", test_malformed);
  g_test_add_func ("/sps/stap-a", test_stap_a);
  g_test_add_func ("/sps/slices", test_slices);
  g_test_add_func ("/sps/guard", test_guard);
  g_test_add_func ("/sps/guards", test_guards);
  return g_test_run ();
}
