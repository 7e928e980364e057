/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* H.264 SPS rewriting (ebpfrelay-sps.h). The parser reads the RBSP (the
 * NAL unit without its emulation prevention bytes) syntax element by
 * syntax element and, while rewriting, writes each element back as it was
 * read (Exp-Golomb codes are canonical, so a value written back is the
 * same bits), until the VUI's bitstream restriction, which it writes anew;
 * then the RBSP trailing bits and the emulation prevention bytes. */
#include <string.h>
#include "ebpfrelay-sps.h"

#define NAL_SPS 7
#define NAL_STAP_A 24
#define NAL_FU_A 28
/* An SPS is small: a few tens of bytes, a few hundred with scaling lists.
 * Larger input is refused, so every size below fits in 32 bits. */
#define SPS_MAX_BYTES 4096

/* --- RBSP --------------------------------------------------------------- */

/* Removes emulation prevention bytes (00 00 03 -> 00 00). FALSE if @in
 * holds a forbidden 00 00 0x (x < 3) sequence. @out has room for @len. */
static gboolean
unescape (const guint8 * in, gsize len, guint8 * out, gsize * out_len)
{
  guint zeros = 0;
  gsize i, n = 0;

  for (i = 0; i < len; i++) {
    if (zeros >= 2 && in[i] < 3)
      return FALSE;
    if (zeros >= 2 && in[i] == 3) {
      zeros = 0;
      continue;
    }
    zeros = in[i] == 0 ? zeros + 1 : 0;
    out[n++] = in[i];
  }
  *out_len = n;
  return TRUE;
}

/* Appends @rbsp to @out with emulation prevention bytes. */
static void
escape (const guint8 * rbsp, gsize len, GByteArray * out)
{
  static const guint8 epb = 3;
  guint zeros = 0;
  gsize i;

  for (i = 0; i < len; i++) {
    if (zeros >= 2 && rbsp[i] <= 3) {
      g_byte_array_append (out, &epb, 1);
      zeros = 0;
    }
    g_byte_array_append (out, &rbsp[i], 1);
    zeros = rbsp[i] == 0 ? zeros + 1 : 0;
  }
  /* (an RBSP ends with its stop bit: its last byte is never 0) */
}

/* --- bits ----------------------------------------------------------------- */

typedef struct
{
  const guint8 *d;
  gsize bits;                   /* size in bits */
  gsize pos;                    /* read position in bits */
  gboolean err;                 /* read past the end or a bad value */
  /* the writer: NULL while only parsing */
  GByteArray *w;
  guint8 acc;                   /* bits not yet a whole byte */
  guint nacc;
} Bits;

static guint32
rd (Bits * b, guint n)
{
  guint32 v = 0;

  if (b->err || n > b->bits - b->pos) {
    b->err = TRUE;
    return 0;
  }
  while (n--) {
    v = (v << 1) | ((b->d[b->pos >> 3] >> (7 - (b->pos & 7))) & 1);
    b->pos++;
  }
  return v;
}

static void
wr (Bits * b, guint32 v, guint n)
{
  if (!b->w)
    return;
  while (n--) {
    b->acc = (b->acc << 1) | ((v >> n) & 1);
    if (++b->nacc == 8) {
      g_byte_array_append (b->w, &b->acc, 1);
      b->acc = 0;
      b->nacc = 0;
    }
  }
}

/* ue(v): values up to 2^32 - 2 (31 leading zeros at most). */
static guint32
rd_ue (Bits * b)
{
  guint zeros = 0;

  while (!b->err && rd (b, 1) == 0) {
    if (++zeros > 31) {
      b->err = TRUE;
      return 0;
    }
  }
  if (b->err)
    return 0;
  if (zeros == 0)
    return 0;
  return (guint32) (((guint64) 1 << zeros) - 1 + rd (b, zeros));
}

static void
wr_ue (Bits * b, guint32 v)
{
  guint64 code = (guint64) v + 1;
  guint len = 0;

  while ((code >> (len + 1)) != 0)
    len++;
  wr (b, 0, len);
  /* len + 1 <= 32 bits */
  wr (b, (guint32) code, len + 1);
}

/* Read and copy to the writer. */
static guint32
cp (Bits * b, guint n)
{
  guint32 v = rd (b, n);

  if (!b->err)
    wr (b, v, n);
  return v;
}

static guint32
cp_ue (Bits * b)
{
  guint32 v = rd_ue (b);

  if (!b->err)
    wr_ue (b, v);
  return v;
}

/* se(v) is ue(v) mapped; copying the ue copies it. The value is not
 * needed anywhere. */
#define cp_se(b) ((void) cp_ue (b))

/* Copies a ue(v) and fails when it exceeds @max. */
static guint32
cp_ue_max (Bits * b, guint32 max)
{
  guint32 v = cp_ue (b);

  if (v > max)
    b->err = TRUE;
  return v;
}

/* --- syntax --------------------------------------------------------------- */

/* 7.3.2.1.1.1 scaling_list() */
static void
scaling_list (Bits * b, guint size)
{
  gint last = 8, next = 8;
  guint j;

  for (j = 0; j < size && !b->err; j++) {
    if (next != 0) {
      guint32 u = cp_ue (b);
      /* se(v): 2k-1 -> k, 2k -> -k */
      gint64 delta = (u & 1) ? ((gint64) u + 1) / 2 : -((gint64) u / 2);

      if (delta < -128 || delta > 127) {
        b->err = TRUE;
        return;
      }
      next = (gint) ((last + delta + 256) % 256);
    }
    last = next == 0 ? last : next;
  }
}

/* E.1.2 hrd_parameters() */
static void
hrd_parameters (Bits * b)
{
  guint32 cpb_cnt = cp_ue_max (b, 31), i;

  cp (b, 4);                    /* bit_rate_scale */
  cp (b, 4);                    /* cpb_size_scale */
  for (i = 0; i <= cpb_cnt && !b->err; i++) {
    cp_ue (b);                  /* bit_rate_value_minus1 */
    cp_ue (b);                  /* cpb_size_value_minus1 */
    cp (b, 1);                  /* cbr_flag */
  }
  cp (b, 5);                    /* initial_cpb_removal_delay_length_minus1 */
  cp (b, 5);                    /* cpb_removal_delay_length_minus1 */
  cp (b, 5);                    /* dpb_output_delay_length_minus1 */
  cp (b, 5);                    /* time_offset_length */
}

/* Writes a bitstream restriction with no reordering; the other fields
 * as given (their inferred values when the SPS had none, E.2.1). */
static void
write_restriction (Bits * b, guint mvob, guint32 bytes_denom,
    guint32 bits_denom, guint32 mv_h, guint32 mv_v, guint32 dec_buffering)
{
  wr (b, 1, 1);                 /* bitstream_restriction_flag */
  wr (b, mvob, 1);              /* motion_vectors_over_pic_boundaries_flag */
  wr_ue (b, bytes_denom);
  wr_ue (b, bits_denom);
  wr_ue (b, mv_h);
  wr_ue (b, mv_v);
  wr_ue (b, 0);                 /* max_num_reorder_frames */
  wr_ue (b, dec_buffering);
}

/* Parses (and, with b->w, rewrites) the SPS RBSP in @b. FALSE on a
 * malformed SPS; *@already when it declares no reordering and the minimal
 * buffering already. */
static gboolean
sps_rbsp (Bits * b, EbpfRelaySpsInfo * info, gboolean * already)
{
  guint32 profile, chroma = 1, poc_type, n, i, num_ref;

  memset (info, 0, sizeof (*info));
  *already = FALSE;
  profile = cp (b, 8);
  cp (b, 8);                    /* constraint_set0..5_flag, reserved_zero_2bits */
  info->level_idc = cp (b, 8);
  info->profile_idc = profile;
  info->sps_id = cp_ue_max (b, 31);
  switch (profile) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      chroma = cp_ue_max (b, 3);
      if (chroma == 3)
        cp (b, 1);              /* separate_colour_plane_flag */
      cp_ue_max (b, 6);         /* bit_depth_luma_minus8 */
      cp_ue_max (b, 6);         /* bit_depth_chroma_minus8 */
      cp (b, 1);                /* qpprime_y_zero_transform_bypass_flag */
      if (cp (b, 1)) {          /* seq_scaling_matrix_present_flag */
        n = chroma != 3 ? 8 : 12;
        for (i = 0; i < n && !b->err; i++)
          if (cp (b, 1))        /* seq_scaling_list_present_flag[i] */
            scaling_list (b, i < 6 ? 16 : 64);
      }
      break;
    default:
      break;
  }
  cp_ue_max (b, 12);            /* log2_max_frame_num_minus4 */
  poc_type = cp_ue_max (b, 2);
  if (poc_type == 0) {
    cp_ue_max (b, 12);          /* log2_max_pic_order_cnt_lsb_minus4 */
  } else if (poc_type == 1) {
    cp (b, 1);                  /* delta_pic_order_always_zero_flag */
    cp_se (b);                  /* offset_for_non_ref_pic */
    cp_se (b);                  /* offset_for_top_to_bottom_field */
    n = cp_ue_max (b, 255);     /* num_ref_frames_in_pic_order_cnt_cycle */
    for (i = 0; i < n && !b->err; i++)
      cp_se (b);                /* offset_for_ref_frame[i] */
  }
  num_ref = cp_ue_max (b, 16);  /* max_num_ref_frames */
  info->max_num_ref_frames = num_ref;
  cp (b, 1);                    /* gaps_in_frame_num_value_allowed_flag */
  info->width_mbs = cp_ue_max (b, 1 << 16) + 1;
  info->height_map_units = cp_ue_max (b, 1 << 16) + 1;
  if (!cp (b, 1))               /* frame_mbs_only_flag */
    cp (b, 1);                  /* mb_adaptive_frame_field_flag */
  cp (b, 1);                    /* direct_8x8_inference_flag */
  if (cp (b, 1)) {              /* frame_cropping_flag */
    for (i = 0; i < 4; i++)
      cp_ue (b);
  }
  if (b->err)
    return FALSE;

  /* vui_parameters_present_flag */
  info->vui = rd (b, 1);
  wr (b, 1, 1);
  if (info->vui) {
    gboolean nal_hrd, vcl_hrd;

    if (cp (b, 1)) {            /* aspect_ratio_info_present_flag */
      if (cp (b, 8) == 255) {   /* aspect_ratio_idc: Extended_SAR */
        cp (b, 16);
        cp (b, 16);
      }
    }
    if (cp (b, 1))              /* overscan_info_present_flag */
      cp (b, 1);
    if (cp (b, 1)) {            /* video_signal_type_present_flag */
      cp (b, 3);                /* video_format */
      cp (b, 1);                /* video_full_range_flag */
      if (cp (b, 1)) {          /* colour_description_present_flag */
        cp (b, 8);
        cp (b, 8);
        cp (b, 8);
      }
    }
    if (cp (b, 1)) {            /* chroma_loc_info_present_flag */
      cp_ue_max (b, 5);
      cp_ue_max (b, 5);
    }
    if (cp (b, 1)) {            /* timing_info_present_flag */
      cp (b, 32);               /* num_units_in_tick */
      cp (b, 32);               /* time_scale */
      cp (b, 1);                /* fixed_frame_rate_flag */
    }
    nal_hrd = cp (b, 1);
    if (nal_hrd)
      hrd_parameters (b);
    vcl_hrd = cp (b, 1);
    if (vcl_hrd)
      hrd_parameters (b);
    if (nal_hrd || vcl_hrd)
      cp (b, 1);                /* low_delay_hrd_flag */
    cp (b, 1);                  /* pic_struct_present_flag */
    info->bitstream_restriction = rd (b, 1);
    if (b->err)
      return FALSE;
    if (info->bitstream_restriction) {
      guint mvob = rd (b, 1);
      guint32 bytes_denom = rd_ue (b), bits_denom = rd_ue (b);
      guint32 mv_h = rd_ue (b), mv_v = rd_ue (b);

      info->max_num_reorder_frames = rd_ue (b);
      info->max_dec_frame_buffering = rd_ue (b);
      if (b->err || bytes_denom > 16 || bits_denom > 16 || mv_h > 16
          || mv_v > 16 || info->max_num_reorder_frames > 16
          || info->max_dec_frame_buffering > 16)
        return FALSE;
      *already = info->max_num_reorder_frames == 0
          && info->max_dec_frame_buffering == num_ref;
      write_restriction (b, mvob, bytes_denom, bits_denom, mv_h, mv_v, num_ref);
    } else {
      write_restriction (b, 1, 2, 1, 15, 15, num_ref);
    }
  } else {
    /* a VUI of nothing but the bitstream restriction */
    wr (b, 0, 1);               /* aspect_ratio_info_present_flag */
    wr (b, 0, 1);               /* overscan_info_present_flag */
    wr (b, 0, 1);               /* video_signal_type_present_flag */
    wr (b, 0, 1);               /* chroma_loc_info_present_flag */
    wr (b, 0, 1);               /* timing_info_present_flag */
    wr (b, 0, 1);               /* nal_hrd_parameters_present_flag */
    wr (b, 0, 1);               /* vcl_hrd_parameters_present_flag */
    wr (b, 0, 1);               /* pic_struct_present_flag */
    write_restriction (b, 1, 2, 1, 15, 15, num_ref);
  }
  if (b->err)
    return FALSE;

  /* rbsp_trailing_bits: the stop bit, zeros to the byte's end (and any
   * number of zero bytes after it, cabac_zero_words-like padding). */
  if (rd (b, 1) != 1 || b->err)
    return FALSE;
  while (b->pos < b->bits)
    if (rd (b, 1) != 0)
      return FALSE;
  wr (b, 1, 1);
  while (b->nacc != 0)
    wr (b, 0, 1);
  return TRUE;
}

gboolean
ebpf_relay_sps_parse (const guint8 * nal, gsize len, EbpfRelaySpsInfo * info)
{
  guint8 rbsp[SPS_MAX_BYTES];
  gboolean already;
  gsize n;
  Bits b = { 0 };

  if (!nal || len < 2 || len > SPS_MAX_BYTES || (nal[0] & 0x1f) != NAL_SPS
      || (nal[0] & 0x80))
    return FALSE;
  if (!unescape (nal + 1, len - 1, rbsp, &n))
    return FALSE;
  b.d = rbsp;
  b.bits = n * 8;
  return sps_rbsp (&b, info, &already);
}

EbpfRelaySpsResult
ebpf_relay_sps_rewrite (const guint8 * nal, gsize len, guint8 ** out,
    gsize * out_len)
{
  guint8 rbsp[SPS_MAX_BYTES];
  EbpfRelaySpsInfo info;
  GByteArray *w, *o;
  gboolean already, ok;
  gsize n;
  Bits b = { 0 };

  if (!nal || len < 2 || len > SPS_MAX_BYTES || (nal[0] & 0x1f) != NAL_SPS
      || (nal[0] & 0x80))
    return EBPF_RELAY_SPS_INVALID;
  if (!unescape (nal + 1, len - 1, rbsp, &n))
    return EBPF_RELAY_SPS_INVALID;
  b.d = rbsp;
  b.bits = n * 8;
  w = b.w = g_byte_array_sized_new (n + 8);
  ok = sps_rbsp (&b, &info, &already);
  if (!ok || already) {
    g_byte_array_unref (w);
    return ok ? EBPF_RELAY_SPS_UNCHANGED : EBPF_RELAY_SPS_INVALID;
  }
  o = g_byte_array_sized_new (w->len + w->len / 2 + 2);
  g_byte_array_append (o, nal, 1);
  escape (w->data, w->len, o);
  g_byte_array_unref (w);
  *out_len = o->len;
  *out = g_byte_array_free (o, FALSE);
  return EBPF_RELAY_SPS_REWRITTEN;
}

/* --- slices and payloads ---------------------------------------------------- */

gint
ebpf_relay_h264_slice_type (const guint8 * nal, gsize len)
{
  guint8 rbsp[16];
  guint32 t;
  gsize n;
  Bits b = { 0 };
  guint type;

  if (!nal || len < 2)
    return -1;
  type = nal[0] & 0x1f;
  if (type != 1 && type != 5)
    return -1;
  /* first_mb_in_slice and slice_type are in the first few bytes; a
   * forbidden sequence there is a broken slice: unknown */
  if (!unescape (nal + 1, MIN (len - 1, sizeof (rbsp)), rbsp, &n))
    return -1;
  b.d = rbsp;
  b.bits = n * 8;
  rd_ue (&b);                   /* first_mb_in_slice */
  t = rd_ue (&b);
  if (b.err || t > 9)
    return -1;
  return (gint) t;
}

static gboolean
is_b (gint slice_type)
{
  return slice_type == 1 || slice_type == 6;
}

gboolean
ebpf_relay_h264_payload_has_b_slice (const guint8 * p, gsize len)
{
  gsize off;

  if (!p || len < 1)
    return FALSE;
  switch (p[0] & 0x1f) {
    case 1:
    case 5:
      return is_b (ebpf_relay_h264_slice_type (p, len));
    case NAL_STAP_A:
      for (off = 1; off + 2 <= len;) {
        gsize sz = ((gsize) p[off] << 8) | p[off + 1];

        off += 2;
        if (sz == 0 || sz > len - off)
          return FALSE;
        if (is_b (ebpf_relay_h264_slice_type (p + off, sz)))
          return TRUE;
        off += sz;
      }
      return FALSE;
    case NAL_FU_A:{
      guint8 hdr[16];
      gsize n;

      if (len < 3 || !(p[1] & 0x80))    /* S bit: the first fragment */
        return FALSE;
      /* the NAL unit's header from the FU indicator and header */
      n = MIN (len - 1, sizeof (hdr));
      memcpy (hdr, p + 1, n);
      hdr[0] = (p[0] & 0xe0) | (p[1] & 0x1f);
      return is_b (ebpf_relay_h264_slice_type (hdr, n));
    }
    default:
      return FALSE;
  }
}

gboolean
ebpf_relay_h264_payload_has_sps (const guint8 * p, gsize len)
{
  gsize off;

  if (!p || len < 1)
    return FALSE;
  if ((p[0] & 0x1f) == NAL_SPS)
    return TRUE;
  if ((p[0] & 0x1f) != NAL_STAP_A)
    return FALSE;
  for (off = 1; off + 2 <= len;) {
    gsize sz = ((gsize) p[off] << 8) | p[off + 1];

    off += 2;
    if (sz == 0 || sz > len - off)
      return FALSE;
    if ((p[off] & 0x1f) == NAL_SPS)
      return TRUE;
    off += sz;
  }
  return FALSE;
}

gboolean
ebpf_relay_h264_payload_rewrite_sps (const guint8 * p, gsize len,
    guint8 ** out, gsize * out_len)
{
  GByteArray *o;
  gboolean changed = FALSE;
  gsize off;

  if (!p || len < 1)
    return FALSE;
  if ((p[0] & 0x1f) == NAL_SPS)
    return ebpf_relay_sps_rewrite (p, len, out, out_len) ==
        EBPF_RELAY_SPS_REWRITTEN;
  if ((p[0] & 0x1f) != NAL_STAP_A)
    return FALSE;
  o = g_byte_array_sized_new (len + 16);
  g_byte_array_append (o, p, 1);
  for (off = 1; off < len;) {
    gsize sz, nsz;
    guint8 *nal = NULL, szb[2];

    if (off + 2 > len)
      goto malformed;
    sz = ((gsize) p[off] << 8) | p[off + 1];
    off += 2;
    if (sz == 0 || sz > len - off)
      goto malformed;
    if ((p[off] & 0x1f) == NAL_SPS
        && ebpf_relay_sps_rewrite (p + off, sz, &nal, &nsz) ==
        EBPF_RELAY_SPS_REWRITTEN && nsz <= 0xffff) {
      changed = TRUE;
    } else {
      g_clear_pointer (&nal, g_free);
      nsz = sz;
    }
    szb[0] = nsz >> 8;
    szb[1] = nsz & 0xff;
    g_byte_array_append (o, szb, 2);
    g_byte_array_append (o, nal ? nal : p + off, nsz);
    g_free (nal);
    off += sz;
  }
  if (!changed)
    goto malformed;
  *out_len = o->len;
  *out = g_byte_array_free (o, FALSE);
  return TRUE;

malformed:
  g_byte_array_unref (o);
  return FALSE;
}

gboolean
ebpf_relay_sps_rtp_rewrite (const guint8 * rtp, gsize len, gsize payload_off,
    guint8 ** out, gsize * out_len)
{
  gsize end = len, plen;
  guint8 *payload, *o;

  if (!rtp || len < 12 || payload_off < 12 || payload_off >= len)
    return FALSE;
  if (rtp[0] & 0x20) {          /* padding: its size in the last byte */
    if (rtp[len - 1] == 0 || rtp[len - 1] > len - payload_off)
      return FALSE;
    end = len - rtp[len - 1];
  }
  if (end <= payload_off)
    return FALSE;
  if (!ebpf_relay_h264_payload_rewrite_sps (rtp + payload_off,
          end - payload_off, &payload, &plen))
    return FALSE;
  o = g_malloc (payload_off + plen);
  memcpy (o, rtp, payload_off);
  o[0] &= ~0x20;
  memcpy (o + payload_off, payload, plen);
  g_free (payload);
  *out = o;
  *out_len = payload_off + plen;
  return TRUE;
}

/* --- the guard ------------------------------------------------------------------ */

void
ebpf_relay_sps_guard_init (EbpfRelaySpsGuard * g)
{
  g->b_max = -1;
  g->watched = 7;
  g->have_sps = FALSE;
  g->sps_ts = 0;
  g->sps_rewrite = FALSE;
}

gboolean
ebpf_relay_sps_guard_sps (EbpfRelaySpsGuard * g, guint limit, guint32 ts)
{
  if (g->have_sps && g->sps_ts == ts)
    return g->sps_rewrite;
  g->sps_rewrite = limit >= g->watched && (gint) limit > g->b_max;
  g->have_sps = TRUE;
  g->sps_ts = ts;
  if (limit < g->watched)
    g->watched = limit;
  return g->sps_rewrite;
}

void
ebpf_relay_sps_guard_b_slice (EbpfRelaySpsGuard * g, guint priority)
{
  if ((gint) priority > g->b_max)
    g->b_max = (gint) priority;
}

/* --- the guards of a viewer ----------------------------------------------------- */

struct _EbpfRelaySpsGuards
{
  GHashTable *by_ssrc;          /* ssrc -> EbpfRelaySpsGuard */
  guint max_ssrcs;
};

EbpfRelaySpsGuards *
ebpf_relay_sps_guards_new (guint max_ssrcs)
{
  EbpfRelaySpsGuards *gs = g_new0 (EbpfRelaySpsGuards, 1);

  gs->by_ssrc = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  gs->max_ssrcs = MAX (max_ssrcs, 1);
  return gs;
}

void
ebpf_relay_sps_guards_free (EbpfRelaySpsGuards * gs)
{
  if (!gs)
    return;
  g_hash_table_destroy (gs->by_ssrc);
  g_free (gs);
}

void
ebpf_relay_sps_guards_reset (EbpfRelaySpsGuards * gs)
{
  g_hash_table_remove_all (gs->by_ssrc);
}

EbpfRelaySpsPacket
ebpf_relay_sps_guards_datagram (EbpfRelaySpsGuards * gs, const guint8 * data,
    gsize n, gsize skip, guint32 ssrc, guint32 ts, guint priority,
    gsize payload_off, EbpfRelaySpsLimitFunc limit_func, gpointer user_data,
    guint * limit_used, guint8 ** out, gsize * out_len)
{
  const guint8 *rtp = data + skip;
  const guint8 *payload;
  gsize len, payload_len, rtp_len;
  EbpfRelaySpsGuard *g;
  guint8 *rtp_out, *o;
  guint limit;

  if (skip >= n || payload_off >= n - skip)
    return EBPF_RELAY_SPS_PACKET_OTHER;
  len = n - skip;
  payload = rtp + payload_off;
  payload_len = len - payload_off;
  g = g_hash_table_lookup (gs->by_ssrc, GUINT_TO_POINTER (ssrc));
  if (!g) {
    if (g_hash_table_size (gs->by_ssrc) >= gs->max_ssrcs)
      g_hash_table_remove_all (gs->by_ssrc);
    g = g_new (EbpfRelaySpsGuard, 1);
    ebpf_relay_sps_guard_init (g);
    g_hash_table_insert (gs->by_ssrc, GUINT_TO_POINTER (ssrc), g);
  }
  if (ebpf_relay_h264_payload_has_b_slice (payload, payload_len)) {
    ebpf_relay_sps_guard_b_slice (g, priority);
    return EBPF_RELAY_SPS_PACKET_OTHER;
  }
  if (!ebpf_relay_h264_payload_has_sps (payload, payload_len))
    return EBPF_RELAY_SPS_PACKET_OTHER;
  limit = limit_func (ssrc, user_data);
  *limit_used = limit;
  if (!ebpf_relay_sps_guard_sps (g, limit, ts)
      || !ebpf_relay_sps_rtp_rewrite (rtp, len, payload_off, &rtp_out,
          &rtp_len))
    return EBPF_RELAY_SPS_PACKET_KEPT;
  o = g_malloc (skip + rtp_len);
  memcpy (o, data, skip);
  memcpy (o + skip, rtp_out, rtp_len);
  g_free (rtp_out);
  *out = o;
  *out_len = skip + rtp_len;
  return EBPF_RELAY_SPS_PACKET_REWRITTEN;
}
