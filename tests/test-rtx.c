/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-rtx: RFC 4588 packets built from what a subscriber would have
 * received (OSN, SSRC, numbering, header, payload) and the map's checks.
 */
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <string.h>

#include "ebpfrelay-rtx.h"

#define MEDIA_SSRC 0x11223344u

/* An RTP packet of PT @pt, number @seq: 2 CSRCs, a one-byte header
 * extension, @plen payload bytes (i * 7 + seq), @pad padding bytes. */
static gsize
make_packet (guint8 * p, guint pt, guint16 seq, gboolean marker, guint plen,
    guint pad)
{
  gsize n = 0;

  p[0] = 0x80 | (pad ? 0x20 : 0) | 0x10 | 2;
  p[1] = (marker ? 0x80 : 0) | pt;
  GST_WRITE_UINT16_BE (p + 2, seq);
  GST_WRITE_UINT32_BE (p + 4, 90000u + seq * 3000u);
  GST_WRITE_UINT32_BE (p + 8, MEDIA_SSRC);
  GST_WRITE_UINT32_BE (p + 12, 0xaaaa0001u);
  GST_WRITE_UINT32_BE (p + 16, 0xaaaa0002u);
  n = 20;
  /* one-byte extension header, one word: id 1, len 1, 0x5a 0x11, pad */
  GST_WRITE_UINT16_BE (p + n, 0xbede);
  GST_WRITE_UINT16_BE (p + n + 2, 1);
  p[n + 4] = 0x11;
  p[n + 5] = 0x5a;
  p[n + 6] = 0x11;
  p[n + 7] = 0;
  n += 8;
  for (guint i = 0; i < plen; i++)
    p[n + i] = (guint8) (i * 7 + seq);
  n += plen;
  for (guint i = 0; i < pad; i++)
    p[n + i] = i + 1 == pad ? pad : 0;
  return n + pad;
}

static EbrRtx *
new_rtx (const gchar * map)
{
  EbrRtx *x = ebr_rtx_new ();
  GstStructure *s = gst_structure_from_string (map, NULL);
  GError *err = NULL;

  g_assert_nonnull (s);
  g_assert_true (ebr_rtx_set_map (x, s, &err));
  g_assert_no_error (err);
  gst_structure_free (s);
  return x;
}

static gboolean
odd_is_media (guint32 ssrc, gpointer user_data)
{
  (*(guint *) user_data)++;
  return (ssrc & 1) != 0;
}

static void
test_build (void)
{
  EbrRtx *x = new_rtx ("application/x-rtp-pt-map, 96=(uint)97, 8=(int)9");
  guint8 in[1500], out[1500 + EBR_RTX_OVERHEAD];
  guint32 rtx_ssrc = 0, s2;
  guint16 first = 0, next;
  guint64 sent;
  gint viewer_a, viewer_b;
  guint calls = 0;

  g_assert_true (ebr_rtx_enabled (x));
  g_assert_cmpint (ebr_rtx_pt_of (x, 96), ==, 97);
  g_assert_cmpint (ebr_rtx_pt_of (x, 8), ==, 9);
  g_assert_cmpint (ebr_rtx_pt_of (x, 97), ==, -1);
  g_assert_false (ebr_rtx_stream (x, &viewer_a, MEDIA_SSRC, NULL, NULL,
          NULL));

  for (guint k = 0; k < 40; k++) {
    /* the subscriber's numbers NACKed, out of order, across the wrap */
    guint16 osn = (guint16) (65530 + (k * 7) % 40);
    guint plen = 100 + k, pad = k % 3 == 0 ? 4 : 0;
    gsize len = make_packet (in, 96, osn, k & 1, plen, pad);
    gsize olen = ebr_rtx_build (x, &viewer_a, in, len, odd_is_media, &calls,
        out);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    GstBuffer *b;
    guint8 *pl;

    g_assert_cmpuint (olen, ==, len - pad + EBR_RTX_OVERHEAD);
    b = gst_buffer_new_memdup (out, olen);
    g_assert_true (gst_rtp_buffer_map (b, GST_MAP_READ, &rtp));
    g_assert_cmpuint (gst_rtp_buffer_get_payload_type (&rtp), ==, 97);
    g_assert_false (gst_rtp_buffer_get_padding (&rtp));
    g_assert_cmpuint (gst_rtp_buffer_get_marker (&rtp), ==, k & 1);
    g_assert_cmpuint (gst_rtp_buffer_get_timestamp (&rtp), ==,
        90000u + osn * 3000u);
    g_assert_cmpuint (gst_rtp_buffer_get_csrc_count (&rtp), ==, 2);
    g_assert_cmpuint (gst_rtp_buffer_get_csrc (&rtp, 1), ==, 0xaaaa0002u);
    {
      gpointer ext;
      guint ext_size;

      g_assert_true (gst_rtp_buffer_get_extension_onebyte_header (&rtp, 1,
              0, &ext, &ext_size));
      g_assert_cmpuint (ext_size, ==, 2);
      g_assert_cmpmem (ext, 2, "\x5a\x11", 2);
    }
    if (k == 0) {
      rtx_ssrc = gst_rtp_buffer_get_ssrc (&rtp);
      first = gst_rtp_buffer_get_seq (&rtp);
      g_assert_cmpuint (rtx_ssrc, !=, MEDIA_SSRC);
      /* a media SSRC is never taken: every odd one was refused */
      g_assert_cmpuint (rtx_ssrc & 1, ==, 0);
      g_assert_cmpuint (calls, >, 0);
    }
    /* one SSRC, numbers contiguous from the first */
    g_assert_cmpuint (gst_rtp_buffer_get_ssrc (&rtp), ==, rtx_ssrc);
    g_assert_cmpuint (gst_rtp_buffer_get_seq (&rtp), ==,
        (guint16) (first + k));
    /* payload: OSN, then the original payload without its padding */
    g_assert_cmpuint (gst_rtp_buffer_get_payload_len (&rtp), ==,
        plen + EBR_RTX_OVERHEAD);
    pl = gst_rtp_buffer_get_payload (&rtp);
    g_assert_cmpuint (GST_READ_UINT16_BE (pl), ==, osn);
    g_assert_cmpmem (pl + 2, plen, in + 28, plen);
    gst_rtp_buffer_unmap (&rtp);
    gst_buffer_unref (b);
  }
  g_assert_true (ebr_rtx_stream (x, &viewer_a, MEDIA_SSRC, &s2, &next,
          &sent));
  g_assert_cmpuint (s2, ==, rtx_ssrc);
  g_assert_cmpuint (next, ==, (guint16) (first + 40));
  g_assert_cmpuint (sent, ==, 40);
  g_assert_cmpuint (ebr_rtx_sent (x, &viewer_a), ==, 40);

  /* another subscriber: a stream of its own */
  g_assert_cmpuint (ebr_rtx_build (x, &viewer_b, in, make_packet (in, 96, 5,
              FALSE, 10, 0), NULL, NULL, out), >, 0);
  g_assert_true (ebr_rtx_stream (x, &viewer_b, MEDIA_SSRC, &s2, NULL,
          &sent));
  g_assert_cmpuint (sent, ==, 1);
  g_assert_cmpuint (ebr_rtx_sent (x, &viewer_a), ==, 40);

  /* an unmapped PT, a broken packet: nothing built, nothing counted */
  g_assert_cmpuint (ebr_rtx_build (x, &viewer_a, in, make_packet (in, 100, 5,
              FALSE, 10, 0), NULL, NULL, out), ==, 0);
  g_assert_cmpuint (ebr_rtx_build (x, &viewer_a, in, 11, NULL, NULL, out),
      ==, 0);
  g_assert_cmpuint (ebr_rtx_sent (x, &viewer_a), ==, 40);

  /* stable: the same RTX SSRC later on */
  g_assert_cmpuint (ebr_rtx_build (x, &viewer_a, in, make_packet (in, 96, 7,
              FALSE, 10, 0), NULL, NULL, out), >, 0);
  g_assert_cmpuint (GST_READ_UINT32_BE (out + 8), ==, rtx_ssrc);
  g_assert_cmpuint (GST_READ_UINT16_BE (out + 2), ==, (guint16) (first + 40));

  ebr_rtx_forget (x, &viewer_a);
  g_assert_false (ebr_rtx_stream (x, &viewer_a, MEDIA_SSRC, NULL, NULL,
          NULL));
  g_assert_cmpuint (ebr_rtx_sent (x, &viewer_a), ==, 0);
  ebr_rtx_free (x);
}

static gboolean
is_taken (guint32 ssrc, gpointer user_data)
{
  return ssrc == *(guint32 *) user_data;
}

static void
test_redraw (void)
{
  EbrRtx *x = new_rtx ("application/x-rtp-pt-map, 96=(uint)97");
  guint8 in[200], out[200 + EBR_RTX_OVERHEAD];
  gsize len = make_packet (in, 96, 1, FALSE, 20, 0);
  guint32 first, now;
  guint16 seq;
  gint v;

  g_assert_cmpuint (ebr_rtx_build (x, &v, in, len, NULL, NULL, out), >, 0);
  first = GST_READ_UINT32_BE (out + 8);
  seq = GST_READ_UINT16_BE (out + 2);
  /* the stream now has a media SSRC equal to the RTX SSRC */
  g_assert_cmpuint (ebr_rtx_build (x, &v, in, len, is_taken, &first, out), >,
      0);
  now = GST_READ_UINT32_BE (out + 8);
  g_assert_cmpuint (now, !=, first);
  g_assert_cmpuint (now, !=, MEDIA_SSRC);
  /* the numbering goes on */
  g_assert_cmpuint (GST_READ_UINT16_BE (out + 2), ==, (guint16) (seq + 1));
  ebr_rtx_free (x);
}

static void
test_map (void)
{
  const gchar *bad[] = {
    "application/x-rtp-pt-map, 96=(uint)96",
    "application/x-rtp-pt-map, 96=(uint)97, 97=(uint)98",
    "application/x-rtp-pt-map, 96=(uint)97, 98=(uint)97",
    "application/x-rtp-pt-map, 128=(uint)97",
    "application/x-rtp-pt-map, x96=(uint)97",
    "application/x-rtp-pt-map, 96=(uint)200",
    "application/x-rtp-pt-map, 96=(string)a",
  };
  EbrRtx *x = new_rtx ("application/x-rtp-pt-map, 96=(uint)97");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstStructure *s = gst_structure_from_string (bad[i], NULL);
    GError *err = NULL;

    g_assert_nonnull (s);
    g_assert_false (ebr_rtx_set_map (x, s, &err));
    g_assert_nonnull (err);
    g_assert_nonnull (strstr (err->message, "rtx-payload-type-map"));
    g_clear_error (&err);
    gst_structure_free (s);
    /* the old map stays */
    g_assert_cmpint (ebr_rtx_pt_of (x, 96), ==, 97);
  }
  g_assert_true (ebr_rtx_set_map (x, NULL, NULL));
  g_assert_false (ebr_rtx_enabled (x));
  g_assert_cmpint (ebr_rtx_pt_of (x, 96), ==, -1);
  ebr_rtx_free (x);
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtx/build", test_build);
  g_test_add_func ("/rtx/redraw", test_redraw);
  g_test_add_func ("/rtx/map", test_map);
  return g_test_run ();
}
