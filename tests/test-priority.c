/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-priority: the priority contract (bpf/priority.h) on crafted RTP
 * packets, table-driven, through both paths that use it:
 *  - userspace: prio_classify on a PRIO_BUF_LEN-byte copy, as
 *    ebpfrelaysink's userspace mode does;
 *  - kernel: relay.bpf.c's relay_ingress (BPF_PROG_TEST_RUN) with KERNEL
 *    slots 0-7 of limits 0-7 and USERSPACE slots 8-15 of limits 0-7. The
 *    program's priority is the set of slots that got the packet (a copy on
 *    lo, an entry in the event), its rule the classification counter that
 *    moved; sequence numbers and checksums of the copies are checked too.
 * Both must give the table's priority and rule, and each other's. The
 * kernel slots are started on the cases' SSRCs first (a key frame start:
 * bpf/switch.h's gate, tested in test-relay-bpf, would hold a video SSRC's
 * packets otherwise); switch.h's functions are tested here in userspace.
 *
 * Payload type 96 is H.264, 97 VP8, anything else "other"
 * (set_prio_config). The userspace half runs without privilege; the
 * kernel half needs root: without it the test exits 77 (skip) once the
 * userspace half passed.
 */
#include "relay-bpf-harness.h"

#define MAX_CASE_PKTS 4
#define MAX_SSRCS 8

struct pkt
{
  const char *hex;              /* UDP payload; blanks and '|' ignored */
  int fill;                     /* then this many 0x5a bytes */
  __u8 prio;
  __u8 rule;
  int rtcp;                     /* RTCP (switch.h sw_is_rtcp): the kernel
                                 * passes it up, forwards it to nobody */
};

struct prio_case
{
  const char *name;
  __u8 fm_id;
  struct pkt pkts[MAX_CASE_PKTS];
};

#define NOT_RTP PRIO_RULE_NOT_RTP
#define FM PRIO_RULE_FRAMEMARKING
#define H264 PRIO_RULE_H264
#define VP8 PRIO_RULE_VP8
#define DEFAULT PRIO_RULE_DEFAULT

/* RTP fixed headers: V=2, seq 1, ts 100, SSRC 0x11111111. */
#define H264_HDR "80 60 0001 00000064 11111111 "
#define VP8_HDR "80 61 0001 00000064 11111111 "
#define OTHER_HDR "80 62 0001 00000064 11111111 "
/* with the extension bit */
#define H264_XHDR "90 60 0001 00000064 11111111 "
#define VP8_HDR_SEQ(seq, ts) "80 61 " seq " " ts " 11111111 "

static const struct prio_case cases[] = {
  /* H.264: NRI of the first payload byte */
  {"H.264 IDR, NRI 3", 0, {{H264_HDR "65 88 84 00", 20, 7, H264}}},
  {"H.264 NRI 2", 0, {{H264_HDR "41 9a 02", 20, 6, H264}}},
  {"H.264 NRI 1", 0, {{H264_HDR "21 9a 02", 20, 5, H264}}},
  {"H.264 NRI 0 (B slice)", 0, {{H264_HDR "01 9e 02", 20, 0, H264}}},
  {"H.264 SPS with marker bit", 0, {{"80 e0 0001 00000064 11111111 67 42",
              10, 7, H264}}},
  {"H.264 FU-A start, NRI 3", 0, {{H264_HDR "7c 85 88", 20, 7, H264}}},
  {"H.264 FU-A middle, NRI 2", 0, {{H264_HDR "5c 01 9a", 20, 6, H264}}},
  {"H.264 FU-A end, NRI 0", 0, {{H264_HDR "1c 41 9e", 20, 0, H264}}},
  {"H.264 STAP-A, NRI 3", 0, {{H264_HDR "78 0004 67420029 0002 68ce",
              0, 7, H264}}},
  {"H.264 STAP-A, NRI 0", 0, {{H264_HDR "18 0002 0601 0002 0602", 0, 0,
              H264}}},
  {"H.264 with two CSRCs", 0, {{"82 60 0001 00000064 11111111 22222222 "
              "33333333 41 9a", 10, 6, H264}}},
  {"H.264 with padding", 0, {{"a0 60 0001 00000064 11111111 01 9e 00 03",
              0, 0, H264}}},
  {"H.264, payload only padding", 0, {{"a0 60 0001 00000064 11111111 "
              "00 00 03", 0, 7, DEFAULT}}},
  {"H.264, no payload", 0, {{H264_HDR, 0, 7, DEFAULT}}},
  {"H.264, 1400 bytes", 0, {{H264_HDR "41", 1387, 6, H264}}},
  {"H.264, padding byte beyond the copied bytes", 0, {{"a0 60 0001 "
              "00000064 11111111 41", 200, 6, H264}}},

  /* not RTP, or malformed: 7, never dropped */
  {"not RTP (text)", 0, {{"68 65 6c 6c 6f 20 77 6f 72 6c 64 21 0a", 0, 7,
              NOT_RTP}}},
  {"RTP version 1", 0, {{"40 60 0001 00000064 11111111 01", 10, 7,
              NOT_RTP}}},
  {"RTCP sender report (PT 200)", 0, {{"80 c8 0006 11111111 00000000 "
              "00000000 00000000 00000000 00000000", 0, 7, NOT_RTP, 1}}},
  {"truncated RTP header (11 bytes)", 0, {{"80 60 0001 00000064 111111",
              0, 7, NOT_RTP}}},
  {"empty datagram", 0, {{"", 0, 7, NOT_RTP}}},
  {"CSRCs beyond the packet", 0, {{"8f 60 0001 00000064 11111111 01", 10, 7,
              NOT_RTP}}},
  {"extension header beyond the packet", 3, {{H264_XHDR "be de", 0, 7,
              NOT_RTP}}},
  {"extension length beyond the packet", 3, {{H264_XHDR "bede 0004 "
              "30 20 00 00", 0, 7, NOT_RTP}}},
  {"padding count beyond the packet", 0, {{"a0 60 0001 00000064 11111111 "
              "01 20", 0, 7, NOT_RTP}}},

  /* RFC 9626 frame marking, one-byte form (RFC 8285, profile 0xBEDE) */
  {"frame marking I over H.264 NRI 0", 3, {{H264_XHDR "bede 0001 30 20 00 00"
              " 01 9e", 0, 7, FM}}},
  {"frame marking D", 3, {{H264_XHDR "bede 0001 30 10 00 00 65 88", 0, 0,
              FM}}},
  {"frame marking TID 0", 3, {{H264_XHDR "bede 0001 30 80 00 00 01", 0, 6,
              FM}}},
  {"frame marking TID 2", 3, {{H264_XHDR "bede 0001 30 82 00 00 01", 0, 4,
              FM}}},
  {"frame marking TID 7", 3, {{H264_XHDR "bede 0001 30 87 00 00 01", 0, 0,
              FM}}},
  {"frame marking, I and D", 3, {{H264_XHDR "bede 0001 30 30 00 00 01", 0,
              7, FM}}},
  {"frame marking, long form (3 bytes)", 3, {{H264_XHDR "bede 0001 32 a2 05"
              " 10 01", 0, 7, FM}}},
  {"frame marking after padding", 3, {{H264_XHDR "bede 0002 00 00 00 30 "
              "82 00 00 00 65", 0, 4, FM}}},
  {"frame marking after another element", 3, {{H264_XHDR "bede 0002 "
              "12 aa bb cc 30 10 00 00 65", 0, 0, FM}}},
  {"frame marking on another codec", 3, {{"90 62 0001 00000064 11111111 "
              "bede 0001 30 10 00 00 ff", 0, 0, FM}}},
  {"frame marking on audio (PT 0)", 3, {{"90 00 0001 00000064 11111111 "
              "bede 0001 30 82 00 00 ff", 10, 4, FM}}},
  {"frame marking, other id configured", 4, {{H264_XHDR "bede 0001 "
              "30 20 00 00 01 9e", 0, 0, H264}}},
  {"frame marking, no id configured", 0, {{H264_XHDR "bede 0001 30 20 00 00"
              " 01", 0, 0, H264}}},
  {"frame marking after id 15 (stop)", 3, {{H264_XHDR "bede 0001 f0 30 20 00"
              " 41", 0, 6, H264}}},
  {"one-byte form, id > 14 configured", 200, {{H264_XHDR "bede 0001 "
              "30 20 00 00 41", 0, 6, H264}}},
  {"frame marking element beyond the block", 3, {{H264_XHDR "bede 0001 "
              "00 00 00 31 20 00 41", 0, 7, NOT_RTP}}},
  {"16 padding bytes, then frame marking (not looked at)", 3,
      {{H264_XHDR "bede 0005 00000000 00000000 00000000 00000000 30 20 00 00"
              " 41", 0, 6, H264}}},
  {"frame marking beyond the copied bytes", 3, {{"9f 60 0001 00000064 "
              "11111111 " "00000001 00000002 00000003 00000004 00000005 "
              "00000006 00000007 00000008 00000009 0000000a 0000000b "
              "0000000c 0000000d 0000000e 0000000f " "bede 000e "
              "1f 0102030405060708090a0b0c0d0e0f10 "
              "1f 0102030405060708090a0b0c0d0e0f10 "
              "1f 0102030405060708090a0b0c0d0e0f10 " "30 20 00 00 00 41",
          10, 7, DEFAULT}}},

  /* frame marking, two-byte form (profile 0x100X) */
  {"two-byte form, id 3", 3, {{H264_XHDR "1000 0001 03 01 20 00 01", 0, 7,
              FM}}},
  {"two-byte form, id 200", 200, {{H264_XHDR "1000 0001 c8 01 82 00 01", 0,
              4, FM}}},
  {"two-byte form, appbits set", 200, {{H264_XHDR "100f 0001 c8 01 10 00 65",
              0, 0, FM}}},
  {"two-byte form after padding and an empty element", 200,
      {{H264_XHDR "1000 0002 00 05 00 00 c8 01 80 00 65", 0, 6, FM}}},
  {"two-byte form, empty frame marking element", 200, {{H264_XHDR
              "1000 0001 c8 00 00 00 65", 0, 7, NOT_RTP}}},
  {"two-byte form, length beyond the block", 200, {{H264_XHDR
              "1000 0001 c8 04 20 00 65", 0, 7, NOT_RTP}}},
  {"other extension profile", 3, {{H264_XHDR "abcd 0001 30 20 00 00 01", 0,
              0, H264}}},

  /* VP8 (RFC 7741): descriptor, then the VP8 payload header (P bit 0) */
  {"VP8 key frame", 0, {{VP8_HDR "10 00 9d 01 2a", 20, 7, VP8}}},
  {"VP8 interframe", 0, {{VP8_HDR "10 01 00 00", 20, 6, VP8}}},
  {"VP8 non-reference interframe (N)", 0, {{VP8_HDR "30 01", 20, 0, VP8}}},
  {"VP8 X, T: TID 2", 0, {{VP8_HDR "90 20 80 01", 20, 4, VP8}}},
  {"VP8 X, I (15 bits), T: TID 1", 0, {{VP8_HDR "90 a0 80 01 40 01", 20, 5,
              VP8}}},
  {"VP8 X, I (7 bits), L, T, K: TID 3", 0, {{VP8_HDR "90 f0 05 07 c0 01",
              20, 3, VP8}}},
  {"VP8 X, K only", 0, {{VP8_HDR "90 10 1f 01", 20, 6, VP8}}},
  {"VP8 X, I, L, no T: key frame", 0, {{VP8_HDR "90 c0 05 07 00", 20, 7,
              VP8}}},
  {"VP8 N with TID", 0, {{VP8_HDR "b0 20 40 01", 20, 0, VP8}}},
  {"VP8, X but no extension byte", 0, {{VP8_HDR "90", 0, 7, DEFAULT}}},
  {"VP8 start, no payload header", 0, {{VP8_HDR "10", 0, 7, DEFAULT}}},
  {"VP8 key frame continuation inherits 7", 0, {
          {VP8_HDR_SEQ ("0001", "00000064") "10 00 9d", 30, 7, VP8},
          {VP8_HDR_SEQ ("0002", "00000064") "00 aa bb", 30, 7, VP8},
          {VP8_HDR_SEQ ("0003", "00000064") "01 aa bb", 30, 7, VP8},
          {VP8_HDR_SEQ ("0004", "000000c8") "00 aa bb", 30, 6, VP8}}},
  {"VP8 non-reference continuation inherits 0", 0, {
          {VP8_HDR_SEQ ("0001", "00000064") "30 01", 30, 0, VP8},
          {VP8_HDR_SEQ ("0002", "00000064") "00 aa", 30, 0, VP8},
          {VP8_HDR_SEQ ("0003", "000000c8") "10 01", 30, 6, VP8},
          {VP8_HDR_SEQ ("0004", "000000c8") "00 aa", 30, 6, VP8}}},
  {"VP8 continuation, frame start not seen", 0, {
          {VP8_HDR_SEQ ("0002", "00000064") "00 aa bb", 30, 6, VP8},
          {VP8_HDR_SEQ ("0003", "00000064") "20 aa bb", 30, 0, VP8},
          {VP8_HDR_SEQ ("0004", "00000064") "80 20 c0 aa", 30, 3, VP8}}},
  {"VP8 key frame, other SSRC's continuation", 0, {
          {VP8_HDR_SEQ ("0001", "00000064") "10 00 9d", 30, 7, VP8},
          {"80 61 0002 00000064 22222222 00 aa", 30, 6, VP8},
          {VP8_HDR_SEQ ("0002", "00000064") "00 aa", 30, 7, VP8}}},

  /* other codecs */
  {"other payload type", 0, {{OTHER_HDR "00 00 00", 100, 7, DEFAULT}}},
  {"PCMU audio (PT 0)", 0, {{"80 00 0001 00000064 11111111", 160, 7,
              DEFAULT}}},
};

static int us_failed;

static size_t
parse_hex (const char *hex, int fill, __u8 * out, size_t size)
{
  size_t n = 0;
  int hi = -1;

  for (; *hex; hex++) {
    int v;

    if (*hex == ' ' || *hex == '|')
      continue;
    v = (*hex >= '0' && *hex <= '9') ? *hex - '0' :
        (*hex >= 'a' && *hex <= 'f') ? *hex - 'a' + 10 : -1;
    if (v < 0 || n >= size) {
      fprintf (stderr, "bad test hex at '%s'\n", hex);
      exit (1);
    }
    if (hi < 0) {
      hi = v;
    } else {
      out[n++] = hi << 4 | v;
      hi = -1;
    }
  }
  if (hi >= 0 || n + fill > size) {
    fprintf (stderr, "bad test hex (odd digits or too long)\n");
    exit (1);
  }
  memset (out + n, 0x5a, fill);
  return n + fill;
}

/* ---- userspace: what ebpfrelaysink's userspace mode does ---------------- */

struct us_state
{
  __u32 ssrc[MAX_SSRCS];
  struct prio_vp8_state vp8[MAX_SSRCS];
  int n;
};

static void
us_classify (struct us_state *st, const __u8 * payload, size_t len,
    __u8 fm_id, struct prio_info *info)
{
  __u8 buf[PRIO_BUF_LEN] = { 0 }, codec[PRIO_N_PT] = { 0 };
  __u32 n = len < PRIO_BUF_LEN ? len : PRIO_BUF_LEN, ssrc;
  struct prio_vp8_state *vp8 = NULL;
  int i;

  codec[96] = PRIO_CODEC_H264;
  codec[97] = PRIO_CODEC_VP8;
  memcpy (buf, payload, n);
  if (prio_wants_vp8_state (buf, n, codec, &ssrc)) {
    for (i = 0; i < st->n && st->ssrc[i] != ssrc; i++);
    if (i == st->n && st->n < MAX_SSRCS)
      st->ssrc[st->n++] = ssrc;
    if (i < st->n)
      vp8 = &st->vp8[i];
  }
  prio_classify (buf, n, len, codec, fm_id, vp8, info);
}

static void
run_userspace (void)
{
  size_t c, p;

  for (c = 0; c < sizeof (cases) / sizeof (cases[0]); c++) {
    struct us_state st = { 0 };

    for (p = 0; p < MAX_CASE_PKTS && cases[c].pkts[p].hex; p++) {
      const struct pkt *k = &cases[c].pkts[p];
      __u8 payload[MAX_PKT];
      size_t len = parse_hex (k->hex, k->fill, payload, sizeof (payload));
      struct prio_info info;

      us_classify (&st, payload, len, cases[c].fm_id, &info);
      if (info.priority != k->prio || info.rule != k->rule) {
        fprintf (stderr, "FAIL [%s] packet %zu, userspace: priority %u rule "
            "%u, want %u rule %u\n", cases[c].name, p + 1, info.priority,
            info.rule, k->prio, k->rule);
        us_failed++;
      }
    }
  }
  printf ("priority: userspace: %zu cases, %d failed\n",
      sizeof (cases) / sizeof (cases[0]), us_failed);
}

/* ---- kernel ------------------------------------------------------------- */

#define N_LIMITS (PRIO_MAX + 1)

/* Packets dropped so far per slot and SSRC, as the kernel must count. */
struct drops
{
  __u32 ssrc[MAX_SSRCS];
  __u32 n[2 * N_LIMITS][MAX_SSRCS];
  int n_ssrcs;
};

static __u32 *
drops_of (struct drops *d, __u32 slot, __u32 ssrc)
{
  int i;

  for (i = 0; i < d->n_ssrcs && d->ssrc[i] != ssrc; i++);
  if (i == d->n_ssrcs && d->n_ssrcs < MAX_SSRCS)
    d->ssrc[d->n_ssrcs++] = ssrc;
  return &d->n[slot][i < MAX_SSRCS ? i : 0];
}

static void
set_limit_slots (void)
{
  __u32 i;

  for (i = 0; i < 2 * N_LIMITS; i++) {
    struct relay_sub s = lo_slot (i, 0);

    s.limit = i % N_LIMITS;
    s.seq_flag = s.limit > 0;
    s.gen = 1;
    if (i >= N_LIMITS)
      s.state = RELAY_SUB_USERSPACE;
    set_slot (i, &s);
  }
  set_n_slots (2 * N_LIMITS);
}

static void
run_kernel_case (const struct prio_case *pc)
{
  struct drops d = { 0 };
  size_t p;

  begin_case (pc->name);
  set_prio_config (pc->fm_id, 1);
  set_limit_slots ();
  /* Every slot runs on the cases' SSRCs (switch.h: a slot waits for a key
   * frame of an H.264 or VP8 SSRC; test-relay-bpf tests that): what a
   * packet reaches is then its priority alone. */
  prime_key_frame (0x11111111, 0);
  prime_key_frame (0x22222222, 0);
  for (p = 0; p < MAX_CASE_PKTS && pc->pkts[p].hex; p++) {
    const struct pkt *k = &pc->pkts[p];
    __u8 payload[MAX_PKT], pkt[MAX_PKT + 64];
    struct spec s = { 0 };
    size_t plen = parse_hex (k->hex, k->fill, payload, sizeof (payload)),
        len;
    __u64 rules[PRIO_N_RULES], prios[N_LIMITS];
    int got_rule = -1, got_prio = -1, rtp, i;
    unsigned got_k = 0, got_u = 0, want = 0;
    __u32 slot;

    for (i = 0; i < PRIO_N_RULES; i++)
      rules[i] = read_stat (RELAY_STAT_RULE_0 + i);
    for (i = 0; i < N_LIMITS; i++)
      prios[i] = read_stat (RELAY_STAT_PRIO_0 + i);
    s.payload = plen;
    s.data = payload;
    len = build (pkt, &s);
    n_frames = 0;
    n_evs = 0;
    if (sw_is_rtcp (payload, plen) != k->rtcp)
      fail ("packet %zu: sw_is_rtcp %d, want %d", p + 1,
          sw_is_rtcp (payload, plen), k->rtcp);
    if (k->rtcp) {
      __u64 before = read_stat (RELAY_STAT_RTCP);

      run (pkt, len);
      if (read_stat (RELAY_STAT_RTCP) != before + 1 || n_frames || n_evs)
        fail ("packet %zu, RTCP: counted %llu, %d copies, %d events, want "
            "1, none", p + 1,
            (unsigned long long) (read_stat (RELAY_STAT_RTCP) - before),
            n_frames, n_evs);
      continue;
    }
    run (pkt, len);

    for (i = 0; i < PRIO_N_RULES; i++)
      if (read_stat (RELAY_STAT_RULE_0 + i) != rules[i])
        got_rule = got_rule < 0 ? i : 99;
    for (i = 0; i < N_LIMITS; i++)
      if (read_stat (RELAY_STAT_PRIO_0 + i) != prios[i])
        got_prio = got_prio < 0 ? i : 99;
    if (got_rule != k->rule || got_prio != k->prio)
      fail ("packet %zu, kernel counters: priority %d rule %d, want %u "
          "rule %u", p + 1, got_prio, got_rule, k->prio, k->rule);

    /* Who got it, with which sequence number. */
    rtp = k->rule != NOT_RTP;
    for (i = 0; i < n_frames && i < MAX_FRAMES; i++) {
      __u16 dport = (frames[i].data[36] << 8) | frames[i].data[37];

      slot = dport - 20000;
      if (slot >= N_LIMITS) {
        fail ("copy to port %u", dport);
        continue;
      }
      if (got_k & (1u << slot))
        fail ("slot %u got two copies", slot);
      got_k |= 1u << slot;
      check_frame_seq (&frames[i], &slots[slot], pkt, len, rtp ?
          prio_out_seq (payload[2] << 8 | payload[3],
              *drops_of (&d, slot, payload[8] << 24 | payload[9] << 16 |
                  payload[10] << 8 | payload[11])) : -1);
    }
    if (n_evs != 1) {
      fail ("packet %zu: %d events, want 1", p + 1, n_evs);
    } else {
      if (evs[0].hdr.flags != (rtp ? RELAY_EVENT_SEQ : 0))
        fail ("packet %zu: event flags %#x", p + 1, evs[0].hdr.flags);
      for (i = 0; i < evs[0].hdr.n_entries; i++) {
        const struct relay_event_entry *e = &evs[0].entries[i];
        __u32 *dr;

        if (e->slot < N_LIMITS || e->slot >= 2 * N_LIMITS) {
          fail ("event names slot %u", e->slot);
          continue;
        }
        got_u |= 1u << (e->slot - N_LIMITS);
        dr = drops_of (&d, e->slot, payload[8] << 24 | payload[9] << 16 |
            payload[10] << 8 | payload[11]);
        if (rtp && e->seq != prio_out_seq (payload[2] << 8 | payload[3],
                *dr))
          fail ("packet %zu, slot %u: event seq %u, want %u", p + 1,
              e->slot, e->seq, prio_out_seq (payload[2] << 8 | payload[3],
                  *dr));
      }
    }
    for (i = 0; i <= k->prio; i++)
      want |= 1u << i;
    if (got_k != want || got_u != want)
      fail ("packet %zu (priority %u): limits served by the kernel %#x, "
          "by userspace %#x, want %#x", p + 1, k->prio, got_k, got_u, want);
    /* The model of what was dropped, for the next packets' seqs. */
    if (rtp)
      for (slot = 0; slot < 2 * N_LIMITS; slot++)
        if (k->prio < slot % N_LIMITS)
          (*drops_of (&d, slot, payload[8] << 24 | payload[9] << 16 |
                  payload[10] << 8 | payload[11]))++;
  }
  for (p = 0; p < 2 * N_LIMITS; p++) {
    struct relay_counters c = read_counters (p);
    __u64 want = 0;
    size_t q;

    for (q = 0; q < MAX_CASE_PKTS && pc->pkts[q].hex; q++)
      want += pc->pkts[q].prio < p % N_LIMITS;
    if (c.prio_dropped != want)
      fail ("slot %zu: prio_dropped %llu, want %llu", p,
          (unsigned long long) c.prio_dropped, (unsigned long long) want);
  }
  end_case ();
}

int
main (void)
{
  size_t c;
  int err;

  setvbuf (stdout, NULL, _IOLBF, 0);
  run_userspace ();
  if (geteuid () != 0) {
    printf ("priority: SKIP: the kernel half needs root\n");
    return us_failed ? 1 : SKIP;
  }
  err = harness_setup ("priority");
  if (err)
    return us_failed ? 1 : err;
  for (c = 0; c < sizeof (cases) / sizeof (cases[0]); c++)
    run_kernel_case (&cases[c]);
  printf ("priority: kernel: %d passed, %d failed\n", n_passed, n_failed);
  err = harness_teardown ();
  return us_failed ? 1 : err;
}
