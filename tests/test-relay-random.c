/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-relay-random: 200,000 random packets, valid and malformed, through
 * the relay's TC program (bpf/relay.bpf.c) with BPF_PROG_TEST_RUN, to 8
 * kernel slots with random priority limits (payload type 96 H.264, 97
 * VP8, others "other"). For every packet: the original comes back
 * unchanged (run ()), each slot gets at most one copy, and every copy is
 * a consistent rewrite: the original's bytes but for the slot's MAC and
 * IP addresses and UDP ports, the IP checksum (valid), the RTP sequence
 * number, and a UDP checksum that is 0 when the original had none and
 * otherwise leaves the same residue as the original's (valid stays
 * valid, a bad one is not made good or half updated). Valid packets of
 * payload type 100 reach every slot, with their own sequence numbers.
 * Malformations: truncation, UDP length off, IP options, fragments, other
 * protocols and ports, no UDP checksum, a bad UDP checksum, VLAN, IPv6,
 * ARP, random bytes (IP header checksums valid again), a bad IP header
 * checksum and a destination that is not the relay's (transit): these
 * two reach nobody (no copy, no event). Needs root; exits 77 (skip)
 * without.
 */
#include "relay-bpf-harness.h"

#define N_PACKETS 200000
#define N_SUBS 8
#define OTHER_SSRC 0x0bad0001

static __u64 rnd_state = 0x9e3779b97f4a7c15ull;

static __u32
rnd (void)
{
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (__u32) (rnd_state >> 16);
}

static int n_checked_copies, n_full_fanout;

/* The copy @f of @pkt for slot @s is a consistent rewrite. */
static void
check_copy (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len, int expect_seq)
{
  int ihl = (pkt[ETH_HLEN] & 0x0f) * 4;
  size_t udp_off = ETH_HLEN + ihl, i;
  const __u8 *ip = f->data + ETH_HLEN, *udp = f->data + udp_off;
  __u16 ocsum = pkt[udp_off + 6] << 8 | pkt[udp_off + 7];
  size_t udp_len = len - udp_off;

  if (f->len != len) {
    fail ("copy of %zu bytes for a packet of %zu", f->len, len);
    return;
  }
  if (memcmp (f->data, s->dmac, 6) || memcmp (f->data + 6, s->smac, 6))
    fail ("copy: wrong MAC addresses");
  if (memcmp (ip + 12, &s->saddr, 4) || memcmp (ip + 16, &s->daddr, 4))
    fail ("copy: wrong IP addresses");
  if (memcmp (udp, &s->sport, 2) || memcmp (udp + 2, &s->dport, 2))
    fail ("copy: wrong UDP ports");
  for (i = 12; i < len; i++) {
    int field = (i >= ETH_HLEN + 10 && i < ETH_HLEN + 12)
        || (i >= ETH_HLEN + 12 && i < ETH_HLEN + 20)
        || (i >= udp_off && i < udp_off + 4)
        || (i >= udp_off + 6 && i < udp_off + 8)
        || (i >= udp_off + 10 && i < udp_off + 12);
    if (!field && f->data[i] != pkt[i]) {
      fail ("copy: byte %zu is %02x, the original's %02x", i, f->data[i],
          pkt[i]);
      break;
    }
  }
  if (!ip_csum_ok (ip, ihl))
    fail ("copy: bad IP header checksum");
  if (ocsum == 0) {
    if (udp[6] || udp[7])
      fail ("copy: a UDP checksum where the original had none");
  } else if (udp_sum (ip, udp, udp_len) != udp_sum (pkt + ETH_HLEN,
          pkt + udp_off, udp_len)) {
    fail ("copy: UDP checksum residue %04x, the original's %04x",
        udp_sum (ip, udp, udp_len), udp_sum (pkt + ETH_HLEN, pkt + udp_off,
            udp_len));
  }
  if (expect_seq >= 0 && (udp[10] << 8 | udp[11]) != expect_seq)
    fail ("copy: RTP seq %u, want %d", udp[10] << 8 | udp[11], expect_seq);
  n_checked_copies++;
}

int
main (void)
{
  static __u8 data[MAX_PKT], pkt[MAX_PKT];
  __u16 seqs[4] = { 100, 2000, 30000, 65500 };
  const __u32 ssrcs[4] = { 0x11111111, 0x22222222, 0x33333333, OTHER_SSRC };
  int err, p, i, failed_packets = 0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  err = harness_setup ("relay-random");
  if (err)
    return err;
  begin_case ("random packets");
  set_prio_config (0, 1);
  for (i = 0; i < N_SUBS; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    sub.limit = i == 0 ? 0 : rnd () % 8;
    set_slot (i, &sub);
  }
  set_n_slots (N_SUBS);

  for (p = 0; p < N_PACKETS && failed_packets < 10; p++) {
    struct spec s = { 0 };
    int which = rnd () % 4, mutate = rnd () % 2 ? (int) (rnd () % 16) : -1;
    int clean, expect_all, refuse = 0;
    size_t len;
    __u8 pt = which == 3 ? 100 : (rnd () % 2 ? 96 : 97);

    /* OTHER_SSRC's packets stay valid (a mutation could make one H.264
     * and dropped, which moves that slot's sequence offset) */
    if (which == 3 && mutate != 6)
      mutate = -1;

    s.payload = 12 + rnd () % 1200;
    for (i = 0; i < s.payload; i++)
      data[i] = rnd ();
    data[0] = 0x80;
    data[1] = pt | (rnd () % 8 == 0 ? 0x80 : 0);
    tool_put16 (data + 2, seqs[which]++);
    tool_put32 (data + 8, ssrcs[which]);
    s.data = data;
    switch (mutate) {
      case 0:
        s.cut = rnd () % (s.payload + 8);
        break;
      case 1:
        s.udp_len_delta = (int) (rnd () % 64) - 32;
        break;
      case 2:
        s.ihl = 6 + rnd () % 10;
        break;
      case 3:
        s.frag = (rnd () % 2 ? 0x2000 : 0) | (rnd () % 0x2000);
        break;
      case 4:
        s.proto = rnd () % 2 ? IPPROTO_TCP : IPPROTO_ICMP;
        break;
      case 5:
        s.dport = PORT + 1 + rnd () % 100;
        break;
      case 6:
        s.no_udp_csum = 1;
        break;
      case 7:
        s.kind = K_VLAN;
        break;
      case 8:
        s.kind = rnd () % 2 ? K_IPV6 : K_ARP;
        break;
      case 9:
        data[0] = rnd ();       /* not RTP version 2, maybe */
        break;
      case 10:
        s.payload = rnd () % 12;        /* too short for RTP */
        break;
      case 11:
        data[0] = 0x90 | (rnd () % 16); /* extension, CSRCs */
        break;
      default:
        break;
    }
    len = build (pkt, &s);
    if (mutate == 12 && len > ETH_HLEN + 28) {
      /* random bytes in the UDP payload after the checksum: it is bad */
      for (i = 0; i < 4; i++)
        pkt[ETH_HLEN + 28 + rnd () % (len - ETH_HLEN - 28)] ^= 1 + rnd () % 255;
    } else if (mutate == 13 && len > ETH_HLEN + 20) {
      /* random bytes in the IPv4 header, its checksum made valid again */
      __u8 *ip = pkt + ETH_HLEN;
      ip[rnd () % 10] ^= 1 << (rnd () % 8);
      ip[10] = ip[11] = 0;
      if ((ip[0] & 0x0f) >= 5 && (size_t) (ip[0] & 0x0f) * 4 <= len - ETH_HLEN)
        tool_put16 (ip + 10, ~fold (sum_bytes (0, ip, (ip[0] & 0x0f) * 4)));
    } else if (mutate == 14 && len > ETH_HLEN + 20) {
      /* a bad IPv4 header checksum: nobody gets it */
      pkt[ETH_HLEN + 10 + rnd () % 2] ^= 1 + rnd () % 255;
      refuse = 1;
    } else if (mutate == 15 && len > ETH_HLEN + 20) {
      /* to another host (transit), checksum valid: nobody gets it */
      __u8 *ip = pkt + ETH_HLEN;
      tool_put32 (ip + 16, 0xc6330000 | (rnd () & 0xffff));
      ip[10] = ip[11] = 0;
      tool_put16 (ip + 10, ~fold (sum_bytes (0, ip, 20)));
      refuse = 1;
    }
    clean = mutate < 0 || mutate == 6;
    expect_all = clean && pt == 100;

    n_frames = 0;
    n_evs = 0;
    may_refuse = 1;
    run (pkt, len);
    may_refuse = 0;
    if (refused) {
      refused = 0;
      continue;
    }
    if (n_frames > N_SUBS)
      fail ("packet %d: %d copies for %d slots", p, n_frames, N_SUBS);
    if (refuse && (n_frames || n_evs))
      fail ("packet %d: not for this host or a bad IP checksum, but %d "
          "copies and %d events", p, n_frames, n_evs);
    {
      int seen[N_SUBS] = { 0 };

      for (i = 0; i < n_frames && i < MAX_FRAMES; i++) {
        const struct frame *f = &frames[i];
        __u16 dport = f->len >= 42 ? (f->data[36] << 8) | f->data[37] : 0;
        int j = dport - 20000;

        if (f->data[12] != 0x08 || f->data[13] != 0x00 || j < 0
            || j >= N_SUBS) {
          fail ("packet %d: a copy to port %u", p, dport);
          continue;
        }
        if (seen[j]++)
          fail ("packet %d: slot %d got two copies", p, j);
        check_copy (f, &slots[j], pkt, len,
            expect_all ? (int) (seqs[3] - 1) : -1);
      }
      if (expect_all) {
        if (n_frames != N_SUBS)
          fail ("packet %d: a valid packet of payload type 100 reached %d "
              "of %d slots", p, n_frames, N_SUBS);
        else
          n_full_fanout++;
      }
    }
    if (case_failed) {
      failed_packets++;
      printf ("relay-random: packet %d (mutation %d, %zu bytes) failed\n",
          p, mutate, len);
      case_failed = 0;
      n_failed++;
    }
  }
  printf ("relay-random: %d packets, %d copies checked, %d full fan-outs, "
      "%d failed packets\n", p, n_checked_copies, n_full_fanout,
      failed_packets);
  if (n_full_fanout < N_PACKETS / 20)
    fail ("only %d valid packets of payload type 100 reached every slot",
        n_full_fanout);
  end_case ();
  return harness_teardown ();
}
