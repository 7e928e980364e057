/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-sps: ebpfrelay-sps.c (compiled into the target) on arbitrary
 * bytes, taken as an SPS NAL unit, an RTP H.264 payload and an RTP packet.
 * Invariants: nothing is read past the input (fuzz_guarded); whatever is
 * reported rewritten parses as an SPS with max_num_reorder_frames 0, has
 * no start code inside, and rewriting it again leaves it unchanged. */
#include <stdio.h>
#include "ebpfrelay-sps.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  EbpfRelaySpsInfo info;
  guint8 *in, *out = NULL, *again = NULL;
  gsize out_len = 0, again_len = 0, i;

  in = fuzz_guarded (data, size);
  if (!in)
    return 0;
  if (ebpf_relay_sps_rewrite (in, size, &out, &out_len) ==
      EBPF_RELAY_SPS_REWRITTEN) {
    FUZZ_CHECK (ebpf_relay_sps_parse (out, out_len, &info));
    FUZZ_CHECK (info.bitstream_restriction);
    FUZZ_CHECK (info.max_num_reorder_frames == 0);
    for (i = 0; i + 2 < out_len; i++)
      FUZZ_CHECK (!(out[i] == 0 && out[i + 1] == 0 && out[i + 2] < 3));
    FUZZ_CHECK (ebpf_relay_sps_rewrite (out, out_len, &again, &again_len) ==
        EBPF_RELAY_SPS_UNCHANGED);
    g_free (out);
    out = NULL;
  }
  ebpf_relay_sps_parse (in, size, &info);
  ebpf_relay_h264_slice_type (in, size);
  ebpf_relay_h264_payload_has_b_slice (in, size);
  ebpf_relay_h264_payload_has_sps (in, size);
  if (ebpf_relay_h264_payload_rewrite_sps (in, size, &out, &out_len)) {
    FUZZ_CHECK (ebpf_relay_h264_payload_has_sps (out, out_len));
    g_free (out);
  }
  if (size > 12 && ebpf_relay_sps_rtp_rewrite (in, size, 12 + (in[0] & 0x0f)
          * 4, &out, &out_len)) {
    FUZZ_CHECK (out_len > 12 && !(out[0] & 0x20));
    g_free (out);
  }
  return 0;
}
