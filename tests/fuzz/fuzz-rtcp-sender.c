/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-rtcp-sender: the sender's compound as ebpfrelay-feedback handles it
 * (validated, then ebr_rtcp_sender_rtcp and ebr_rtcp_rewrite_sr per
 * viewer). Invariants of the rewrite: the copy has the input's length,
 * every byte outside the packet and octet counts of the SRs is identical,
 * and the counts of an SR whose SSRC the callback knows are its answer. */
#include <stdio.h>
#include "ebpfrelay-rtcp.h"
#include "fuzz-util.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  setenv ("G_SLICE", "always-malloc", 1);
  gst_init (NULL, NULL);
  return 0;
}

/* knows the SSRCs with an odd low byte */
static gboolean
sent (guint32 ssrc, guint32 * packets, guint32 * octets, gpointer user_data)
{
  if (!(ssrc & 1))
    return FALSE;
  *packets = ssrc ^ 0x5a5a5a5a;
  *octets = ~ssrc;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  guint8 *d = fuzz_guarded (data, size);
  guint8 *counts;
  GstBuffer *in, *out;
  GstMapInfo map;
  EbrRtcp *r;
  gsize off;
  guint srs = 0, n;

  if (!d)
    return 0;
  /* ebpfrelay-feedback's handle_rtcp: only valid RTCP gets further */
  if (size < 8 || !gst_rtcp_buffer_validate_data_reduced (d, size))
    return 0;

  /* which bytes may change: the counts (bytes 20..27) of each SR long
   * enough to hold them, walked by the header lengths alone */
  counts = calloc (1, size);
  for (off = 0; off + 4 <= size;) {
    gsize plen = 4 * ((gsize) GST_READ_UINT16_BE (d + off + 2) + 1);

    if (off + plen > size)
      break;
    if (d[off + 1] == GST_RTCP_TYPE_SR && plen >= 28) {
      memset (counts + off + 20, 1, 8);
      srs++;
    }
    off += plen;
  }

  in = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, d, size, 0,
      size, NULL, NULL);
  r = ebr_rtcp_new (0xabcdef01, NULL, 500 * GST_MSECOND);
  n = ebr_rtcp_sender_rtcp (r, in, GST_SECOND);
  FUZZ_CHECK (n <= size / 4);

  out = ebr_rtcp_rewrite_sr (in, sent, NULL);
  /* NULL: a compound GstRTCPBuffer cannot read whole (ebpfrelay-rtcp.c,
   * compound_ok), from which no SR was taken either */
  if (!out) {
    FUZZ_CHECK (n == 0);
    gst_buffer_unref (in);
    ebr_rtcp_free (r);
    free (counts);
    return 0;
  }
  FUZZ_CHECK (gst_buffer_get_size (out) == size);
  gst_buffer_map (out, &map, GST_MAP_READ);
  for (off = 0; off < size; off++)
    if (!counts[off] && map.data[off] != d[off]) {
      fprintf (stderr, "byte %zu changed: %02x -> %02x\n", off, d[off],
          map.data[off]);
      FUZZ_CHECK (!"a byte outside the SR counts changed");
    }
  for (off = 0; off + 4 <= size;) {
    gsize plen = 4 * ((gsize) GST_READ_UINT16_BE (d + off + 2) + 1);
    guint32 ssrc;

    if (off + plen > size)
      break;
    if (d[off + 1] == GST_RTCP_TYPE_SR && plen >= 28) {
      ssrc = GST_READ_UINT32_BE (d + off + 4);
      if (ssrc & 1) {
        FUZZ_CHECK (GST_READ_UINT32_BE (map.data + off + 20)
            == (ssrc ^ 0x5a5a5a5a));
        FUZZ_CHECK (GST_READ_UINT32_BE (map.data + off + 24) == ~ssrc);
      }
    }
    off += plen;
  }
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);

  /* the RR built from what the SRs left */
  out = ebr_rtcp_build_rr (r, 2 * GST_SECOND);
  if (out)
    gst_buffer_unref (out);
  gst_buffer_unref (in);
  ebr_rtcp_free (r);
  free (counts);
  (void) srs;
  return 0;
}
