/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-classify: bpf/priority.h and bpf/switch.h, compiled for userspace
 * as ebpfrelaysink's userspace path does, on arbitrary packets.
 * Input: byte 0 = the frame-marking extension id (low 4 bits) and which
 * codec table; byte 1 = the subscriber's limit (low 3 bits); then one or
 * more packets, each a 2-byte big-endian length and its bytes (a sequence
 * of packets exercises the VP8 and switching state).
 * Invariants: priority 0..7, rule < PRIO_N_RULES, payload_off <= the
 * packet's length for RTP, the header fields as in the packet, the payload
 * octet count <= the packet's length, a SW_HOLD only for a waiting
 * subscriber, a SW_DROP only below the limit. RTCP on the media port
 * (sw_is_rtcp) is passed up before classification, as in
 * ebpfrelay-send.c. */
#include <stdio.h>
#include <stdint.h>
#include "priority.h"
#include "switch.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define MAX_SSRCS 4

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  __u8 codec[PRIO_N_PT] = { 0 }, fm_id, limit;
  __u32 ssrcs[MAX_SSRCS];
  struct prio_vp8_state vp8[MAX_SSRCS];
  struct sw_ssrc frames[MAX_SSRCS];
  struct sw_sub subs[MAX_SSRCS];
  __u32 sw_ssrcs[MAX_SSRCS];
  int n_ssrcs = 0, n_sw = 0;
  size_t off = 2;

  if (size < 2)
    return 0;
  fm_id = data[0] & 0x0f;
  if (data[0] & 0x10) {
    codec[96] = PRIO_CODEC_H264;
    codec[97] = PRIO_CODEC_VP8;
  } else if (data[0] & 0x20) {
    for (int i = 0; i < PRIO_N_PT; i++)
      codec[i] = i % 3;
  }
  limit = data[1] & 7;
  memset (vp8, 0, sizeof (vp8));
  memset (frames, 0, sizeof (frames));

  while (off + 2 <= size) {
    size_t len = ((size_t) data[off] << 8 | data[off + 1]);
    __u8 buf[PRIO_BUF_LEN] = { 0 };
    const __u8 *pkt;
    struct prio_vp8_state *st = NULL;
    struct prio_info info;
    __u32 n, ssrc, pad;
    __u8 prio;
    int i;

    off += 2;
    if (len > size - off)
      len = size - off;
    pkt = fuzz_guarded (data + off, len);
    off += len;
    if (!pkt)
      continue;
    n = len < PRIO_BUF_LEN ? len : PRIO_BUF_LEN;
    memcpy (buf, pkt, n);
    if (sw_is_rtcp (buf, n))
      continue;

    if (prio_wants_vp8_state (buf, n, (data[0] & 0x40) ? NULL : codec, &ssrc)) {
      for (i = 0; i < n_ssrcs && ssrcs[i] != ssrc; i++);
      if (i == n_ssrcs && n_ssrcs < MAX_SSRCS)
        ssrcs[n_ssrcs++] = ssrc;
      if (i < n_ssrcs)
        st = &vp8[i];
    }
    prio = prio_classify (buf, n, len, (data[0] & 0x40) ? NULL : codec,
        fm_id, st, &info);
    FUZZ_CHECK (prio <= PRIO_MAX);
    FUZZ_CHECK (info.priority == prio);
    FUZZ_CHECK (info.rule < PRIO_N_RULES);
    if (!prio_is_rtp (&info)) {
      FUZZ_CHECK (prio == PRIO_MAX);
      FUZZ_CHECK (!prio_drops (&info, limit));
      continue;
    }
    FUZZ_CHECK (len >= 12);
    FUZZ_CHECK (info.payload_off >= 12);
    FUZZ_CHECK (info.payload_off <= len);
    FUZZ_CHECK (info.pt == (pkt[1] & 0x7f));
    FUZZ_CHECK (info.seq == (pkt[2] << 8 | pkt[3]));
    FUZZ_CHECK (info.ssrc == ((__u32) pkt[8] << 24 | pkt[9] << 16
            | pkt[10] << 8 | pkt[11]));
    pad = (pkt[0] & 0x20) ? pkt[len - 1] : 0;
    FUZZ_CHECK (sw_payload_octets (len, info.payload_off, pad) <= len);
    FUZZ_CHECK (prio_out_seq (info.seq, 0) == info.seq);

    /* the switch, as the relay runs it for one subscriber */
    for (i = 0; i < n_sw && sw_ssrcs[i] != info.ssrc; i++);
    if (i == n_sw) {
      if (n_sw == MAX_SSRCS)
        continue;
      sw_ssrcs[n_sw++] = info.ssrc;
      sw_sub_init (&subs[i], codec, info.pt, limit);
    }
    {
      int frame = sw_frame (&frames[i], info.ts, prio);
      int v = sw_decide (&subs[i], frame, prio, limit);

      FUZZ_CHECK (v == SW_SEND || v == SW_DROP || v == SW_HOLD);
      if (v == SW_HOLD)
        FUZZ_CHECK (subs[i].state == SW_WAITING);
      if (v == SW_DROP)
        FUZZ_CHECK (prio < limit);
      FUZZ_CHECK (subs[i].state == SW_RUNNING || subs[i].state == SW_WAITING);
    }
  }
  return 0;
}
