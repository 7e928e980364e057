/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-rtcp-viewer: a viewer's datagram through ebr_rtcp_parse_feedback
 * and the attribution path (ebr_rtcp_viewer_handle) of an EbrRtcp with a
 * few registered viewers, then what the caller does with what it parsed
 * (throttle, PLI/FIR built for the sender).
 * Input: byte 0 picks the source address and port, the rest is the
 * datagram. */
#include <stdio.h>
#include <arpa/inet.h>
#include "ebpfrelay-rtcp.h"
#include "fuzz-util.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static const guint8 sr_seed[] = {
  0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44,      /* SR, SSRC 0x11223344 */
  0xe9, 0x00, 0x00, 0x01, 0x12, 0x34, 0x00, 0x00,       /* NTP */
  0, 0, 0x10, 0, 0, 0, 0, 10, 0, 0, 0x10, 0     /* RTP, packets, octets */
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  setenv ("G_SLICE", "always-malloc", 1);
  gst_init (NULL, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static const struct
  {
    const char *addr;
    guint16 port;
  } from[] = {
    {"10.0.0.1", 6001}, {"10.0.0.1", 6003}, {"10.0.0.1", 40000},
    {"10.0.0.2", 7000}, {"10.0.0.2", 50000}, {"10.0.0.3", 5001},
    {"10.0.0.9", 6001}, {"10.0.0.1", 6000},
  };
  EbrRtcpFeedback fb;
  EbrRtcpViewerStats vs;
  EbrRtcpStats st;
  GstBuffer *sr;
  EbrRtcp *r;
  const guint8 *d;
  guint8 sel;
  gsize len;
  gint id;
  guint i;

  if (size < 1 || size - 1 > FUZZ_MAX_LEN)
    return 0;
  sel = data[0];
  d = fuzz_guarded (data + 1, size - 1);
  len = size - 1;
  if (!d)
    return 0;

  /* the stateless parser alone */
  ebr_rtcp_feedback_init (&fb);
  if (!ebr_rtcp_parse_feedback (d, len, &fb))
    FUZZ_CHECK (fb.blocks->len == 0 && fb.keyframes->len == 0
        && fb.nacks->len == 0 && !fb.has_sender_ssrc);

  /* viewers: two at one address (6000, 6002), one at .2, one at .3 */
  r = ebr_rtcp_new (0xabcdef01, (sel & 0x80) ? "relay@fuzz" : NULL,
      500 * GST_MSECOND);
  ebr_rtcp_viewer_add (r, 0, inet_addr ("10.0.0.1"), 6000);
  ebr_rtcp_viewer_add (r, 1, inet_addr ("10.0.0.1"), 6002);
  ebr_rtcp_viewer_add (r, 2, inet_addr ("10.0.0.2"), 7000);
  ebr_rtcp_viewer_add (r, 3, inet_addr ("10.0.0.3"), 5000);
  if (sel & 0x40)
    ebr_rtcp_viewer_bind (r, 1, 0x01020304);
  sr = gst_buffer_new_memdup (sr_seed, sizeof (sr_seed));
  ebr_rtcp_sender_rtcp (r, sr, GST_SECOND);
  gst_buffer_unref (sr);

  /* twice: the second sees the binding the first made */
  for (int round = 0; round < 2; round++) {
    guint sel_i = (sel + round * 3) % G_N_ELEMENTS (from);

    id = ebr_rtcp_viewer_handle (r, d, len, inet_addr (from[sel_i].addr),
        from[sel_i].port, 2 * GST_SECOND + round * GST_MSECOND, &fb);
    FUZZ_CHECK (id >= -1 && id <= 3);
    for (i = 0; i < fb.keyframes->len; i++) {
      EbrRtcpKeyframeRequest *k = &g_array_index (fb.keyframes,
          EbrRtcpKeyframeRequest, i);
      GstBuffer *req;

      if (!ebr_rtcp_keyframe_should_send (r, k->media_ssrc,
              2 * GST_SECOND + round * GST_MSECOND))
        continue;
      req = k->kind == EBR_RTCP_KEYFRAME_FIR ?
          ebr_rtcp_build_fir (r, k->media_ssrc) :
          ebr_rtcp_build_pli (r, k->media_ssrc);
      FUZZ_CHECK (req != NULL);
      FUZZ_CHECK (gst_buffer_get_size (req) <= EBR_RTCP_MTU);
      gst_buffer_unref (req);
    }
    if (id >= 0) {
      FUZZ_CHECK (ebr_rtcp_viewer_get_stats (r, id, &vs));
      for (i = 0; i < fb.blocks->len; i++) {
        EbrRtcpViewerReport rep;

        ebr_rtcp_viewer_get_report (r, id,
            g_array_index (fb.blocks, EbrRtcpReportBlock, i).ssrc, &rep);
      }
    }
  }
  ebr_rtcp_get_stats (r, &st);
  ebr_rtcp_feedback_clear (&fb);
  ebr_rtcp_free (r);
  return 0;
}
