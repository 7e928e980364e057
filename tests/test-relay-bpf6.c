/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-relay-bpf6: bpf/relay.bpf.c's IPv6 path on crafted frames
 * (relay-bpf-harness): a UDP/IPv6 packet without extension headers is
 * forwarded by the kernel to its KERNEL IPv6 slots (MACs, 32 bytes of
 * addresses, ports and RTP sequence number rewritten, the UDP checksum
 * verified over the IPv6 pseudo header after each rewrite, never 0, the
 * flow label as received, the traffic class's DSCP and the hop limit as
 * config's RELAY_IP_* say), a slot of the other family is
 * named in the event (no translation, both ways); extension headers and
 * first fragments go to userspace for every slot, later fragments are
 * not touched, a truncated packet is passed and counted, a UDP checksum
 * of 0 is refused, a destination not in local_addrs6 passed on, the
 * publisher lock with IPv6 senders (listed ones forwarded, the others
 * dropped and counted; the latch and its handover). Needs root (77
 * without).
 */
#include "relay-bpf-harness.h"

static void
expect_stat (const char *what, __u32 idx, __u64 want)
{
  __u64 got = read_stat (idx);

  if (got != want)
    fail ("stat %s = %llu, want %llu", what, (unsigned long long) got,
        (unsigned long long) want);
}

/* The UDP destination port of a copy on lo (IPv4 or IPv6). */
static __u16
frame_dport (const struct frame *f)
{
  size_t off = f->data[12] == 0x86 ? ETH_HLEN + 40 : ETH_HLEN + 20;

  return f->len >= off + 4 ? (f->data[off + 2] << 8) | f->data[off + 3] : 0;
}

/* Exactly one copy per KERNEL slot of family @family among [0, n_slots),
 * each right (check_frame6 / check_frame), none for another; @seq per
 * slot (NULL: the packet's own). */
static void
check_copies (int family, const __u8 * pkt, size_t len, const int *seq)
{
  static unsigned char seen[RELAY_MAX_SUBS];
  int want = 0, i;
  __u32 j;

  memset (seen, 0, sizeof (seen));
  for (j = 0; j < n_slots; j++)
    want += served (j) && slots[j].family == family;
  if (n_frames != want)
    fail ("%d copies on lo, want %d", n_frames, want);
  for (i = 0; i < n_frames && i < MAX_FRAMES; i++) {
    const struct frame *f = &frames[i];

    for (j = 0; j < n_slots; j++)
      if (served (j) && ntohs (slots[j].dport) == frame_dport (f))
        break;
    if (j == n_slots || slots[j].family != family) {
      fail ("copy to port %u matches no served slot of the family",
          frame_dport (f));
      continue;
    }
    if (seen[j]++)
      fail ("slot %u got more than one copy", j);
    if (family == RELAY_FAMILY_V6)
      check_frame6 (f, &slots[j], pkt, len, seq ? seq[j] : -1);
    else
      check_frame_seq (f, &slots[j], pkt, len, seq ? seq[j] : -1);
  }
}

static void
set_slots (const struct relay_sub *s, __u32 n)
{
  for (__u32 i = 0; i < n; i++)
    set_slot (i, &s[i]);
  set_n_slots (n);
}

/* 0-4 KERNEL IPv6 (0 delivers to [::1]:20000), 5 USERSPACE IPv6, 6 KERNEL
 * IPv4: the other family. */
static void
mixed_slots (void)
{
  struct relay_sub s[7];

  for (int i = 0; i < 5; i++)
    s[i] = lo_slot6 (i, i == 0);
  s[5] = lo_slot6 (5, 0);
  s[5].state = RELAY_SUB_USERSPACE;
  s[6] = lo_slot (6, 0);
  set_slots (s, 7);
}

static void
case_forward (void)
{
  struct spec sp = {.kind = K_IPV6,.payload = 321 };
  struct relay_event_entry want[2] = { {.slot = 5}, {.slot = 6} };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &sp);
  int fd;

  begin_case ("v6: KERNEL v6 slots get rewritten copies; USERSPACE and "
      "the v4 slot in the event");
  mixed_slots ();
  fd = udp6_socket (20000);
  run (pkt, len);
  check_copies (RELAY_FAMILY_V6, pkt, len, NULL);
  if (n_evs != 1)
    fail ("%d events, want 1", n_evs);
  else
    check_event (&evs[0], 0, want, 2, 62, 321, pkt, len);
  check_stats (1, 0, 1, 0);
  expect_stat ("ipv6", RELAY_STAT_IPV6, 1);
  for (__u32 i = 0; i < 7; i++) {
    struct relay_counters c = read_counters (i);
    __u64 p = i < 5;

    if (c.packets != p || c.bytes != p * 321)
      fail ("sub_stats[%u] = %llu packets, want %llu", i,
          (unsigned long long) c.packets, (unsigned long long) p);
  }
  /* the stack takes the copy: its checksum is right for it too */
  if (fd >= 0) {
    check_udp_rx (fd, 20000, pkt + 62, 321);
    close (fd);
  }
  end_case ();

  begin_case ("v6: one slot, only the destination differs");
  {
    struct relay_sub s = lo_slot6 (0, 1);

    memcpy (s.saddr6, orig_daddr6, 16);
    s.sport = htons (PORT);
    set_slots (&s, 1);
  }
  fd = udp6_socket (20000);
  run (pkt, len);
  check_copies (RELAY_FAMILY_V6, pkt, len, NULL);
  if (n_evs)
    fail ("%d events, want none", n_evs);
  if (fd >= 0) {
    check_udp_rx (fd, 20000, pkt + 62, 321);
    close (fd);
  }
  end_case ();

  begin_case ("v6: 300 KERNEL slots, checksums right after each rewrite");
  {
    static struct relay_sub s[300];

    for (int i = 0; i < 300; i++)
      s[i] = lo_slot6 (i, 0);
    set_slots (s, 300);
  }
  run (pkt, len);
  check_copies (RELAY_FAMILY_V6, pkt, len, NULL);
  if (n_evs)
    fail ("%d events, want none", n_evs);
  end_case ();
}

/* A v4 stream is not translated: a v4 packet to a KERNEL v6 slot goes to
 * userspace (which sends it from its v6 socket); the v4 slot gets it. */
static void
case_v4_to_v6_slot (void)
{
  struct spec sp = {.payload = 200 };
  struct relay_event_entry want[1] = { {.slot = 1} };
  struct relay_sub s[2];
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &sp);

  begin_case ("v4 packet: the KERNEL v6 slot in the event, the v4 slot "
      "from the kernel");
  s[0] = lo_slot (0, 0);
  s[1] = lo_slot6 (1, 0);
  set_slots (s, 2);
  run (pkt, len);
  check_copies (RELAY_FAMILY_V4, pkt, len, NULL);
  if (n_evs != 1)
    fail ("%d events, want 1", n_evs);
  else
    check_event (&evs[0], 0, want, 1, 42, 200, pkt, len);
  check_stats (1, 0, 1, 0);
  expect_stat ("ipv6", RELAY_STAT_IPV6, 0);
  end_case ();
}

/* RTP over IPv6 with rewrite-seq: after a drop for the limit the slot's
 * next copy has the sequence number lowered, the checksum updated. */
static void
case_seq (void)
{
  __u8 rtp[40], pkt[MAX_PKT];
  struct spec sp = {.kind = K_IPV6,.payload = sizeof (rtp),.data = rtp };
  struct relay_sub s[2];
  int seq[2];
  size_t len;
  int fd;

  begin_case ("v6: RTP sequence numbers rewritten after a priority drop");
  s[0] = lo_slot6 (0, 0);
  s[1] = lo_slot6 (1, 1);
  s[1].limit = PRIO_MAX;
  set_slots (s, 2);
  set_prio_config (0, 1);
  prime_key_frame (0x66660001, 1000);   /* seq 0, a key frame: RUNNING */

  memset (rtp, 0x5a, sizeof (rtp));
  /* seq 1, a new frame, non-reference P slice (NRI 0): below limit 7 */
  tool_rtp_header (rtp, 0x80, 96, 1, 4000, 0x66660001);
  rtp[12] = 0x01;
  len = build (pkt, &sp);
  run (pkt, len);
  seq[0] = 1;
  seq[1] = -1;
  if (n_frames != 1)
    fail ("P slice: %d copies, want 1 (slot 0)", n_frames);
  else
    check_frame6 (&frames[0], &slots[0], pkt, len, 1);
  if (read_counters (1).prio_dropped != 1)
    fail ("slot 1: prio_dropped %llu, want 1",
        (unsigned long long) read_counters (1).prio_dropped);

  /* seq 2, a key frame: slot 1 gets it as 1 */
  n_frames = 0;
  tool_rtp_header (rtp, 0x80, 96, 2, 7000, 0x66660001);
  rtp[12] = 0x65;
  len = build (pkt, &sp);
  fd = udp6_socket (20001);
  run (pkt, len);
  seq[0] = 2;
  seq[1] = 1;
  check_copies (RELAY_FAMILY_V6, pkt, len, seq);
  if (fd >= 0) {
    __u8 p[sizeof (rtp)];

    memcpy (p, rtp, sizeof (p));
    tool_put16 (p + 2, 1);
    check_udp_rx (fd, 20001, p, sizeof (p));
    close (fd);
  }
  {
    struct relay_ssrc_state e;

    if (!read_ssrc_state (1, slots[1].gen, 0x66660001, &e))
      fail ("slot 1: no sub_ssrcs entry");
    else if (e.dropped != 1)
      fail ("slot 1: dropped %u, want 1", e.dropped);
  }
  end_case ();
}

/* Extension headers: userspace sends to every slot (as for IPv4
 * options); counted in passed. */
static void
case_ext (void)
{
  struct spec sp = {.kind = K_IPV6,.payload = 100,.ext6 = 2 };
  struct relay_event_entry want[7];
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &sp);

  begin_case ("v6 with extension headers: userspace sends to every slot");
  mixed_slots ();
  for (int i = 0; i < 7; i++)
    want[i].slot = i;
  run (pkt, len);
  if (n_frames)
    fail ("%d copies on lo, want none", n_frames);
  if (n_evs != 1)
    fail ("%d events, want 1", n_evs);
  else
    check_event (&evs[0], 0, want, 7, 14 + 40 + 16 + 8, 100, pkt, len);
  check_stats (1, 1, 1, 0);
  end_case ();
}

/* A first fragment: userspace sends the datagram the socket reassembles
 * to every slot (RELAY_EVENT_FRAGMENT), and it goes up even with
 * consume; later fragments are not touched. */
static void
case_fragments (void)
{
  struct spec first = {.kind = K_IPV6,.payload = 120,.frag6 = 0x0001,
    .udp_len_delta = 800
  };
  struct spec later = {.kind = K_IPV6,.payload = 120,.frag6 = 0x0079 };
  struct spec bad = {.kind = K_IPV6,.payload = 120,.frag6 = 0x0001 };
  struct relay_event_entry want[7];
  struct frame out;
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &first);
  int v;

  begin_case ("v6 first fragment, consume: to userspace, passed up");
  mixed_slots ();
  config.consume = 1;
  write_config ();
  for (int i = 0; i < 7; i++)
    want[i].slot = i;
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_UNSPEC)
    fail ("verdict %d, want TC_ACT_UNSPEC", v);
  if (out.len != len || memcmp (out.data, pkt, len))
    fail ("the fragment changed");
  if (n_frames)
    fail ("%d copies on lo, want none", n_frames);
  if (n_evs != 1)
    fail ("%d events, want 1", n_evs);
  else {
    check_event (&evs[0], RELAY_EVENT_FRAGMENT, want, 7, 14 + 40 + 8 + 8,
        120 + 800, pkt, len);
    if (evs[0].hdr.frag_avail != 120)
      fail ("frag_avail %u, want 120", evs[0].hdr.frag_avail);
  }
  expect_stat ("fragmented", RELAY_STAT_FRAGMENTED, 1);
  expect_stat ("frag_user", RELAY_STAT_FRAG_USER, 1);
  expect_stat ("passed", RELAY_STAT_PASSED, 1);
  expect_stat ("consumed", RELAY_STAT_CONSUMED, 0);
  end_case ();

  begin_case ("v6 later fragment: not touched");
  mixed_slots ();
  len = build (pkt, &later);
  run (pkt, len);
  if (n_frames || n_evs)
    fail ("%d copies, %d events, want none", n_frames, n_evs);
  check_stats (0, 0, 0, 0);
  expect_stat ("ipv6", RELAY_STAT_IPV6, 0);
  end_case ();

  begin_case ("v6 first fragment holding the whole datagram: passed");
  mixed_slots ();
  len = build (pkt, &bad);
  run (pkt, len);
  if (n_frames || n_evs)
    fail ("%d copies, %d events, want none", n_frames, n_evs);
  check_stats (1, 1, 0, 0);
  end_case ();
}

/* Packets the kernel does not forward: nothing sent, nothing half
 * rewritten (run: the packet back unchanged), each counted. */
static void
case_refused (void)
{
  static const __u8 other6[16] = { 0xfd, [14] = 0x99, [15] = 1 };
  struct spec trunc = {.kind = K_IPV6,.payload = 60,.udp_len_delta = 1 };
  struct spec short_udp = {.kind = K_IPV6,.payload = 60,.udp_len_delta =
        -61
  };
  struct spec cut = {.kind = K_IPV6,.payload = 60,.cut = 30 };
  struct spec hdr_cut = {.kind = K_IPV6,.payload = 60,.len = 14 + 40 + 4 };
  struct spec zero = {.kind = K_IPV6,.payload = 60,.no_udp_csum = 1 };
  struct spec transit = {.kind = K_IPV6,.payload = 60,.daddr6 = other6 };
  struct spec tcp = {.kind = K_IPV6,.payload = 60,.proto = IPPROTO_TCP };
  struct spec other_port = {.kind = K_IPV6,.payload = 60,.dport = PORT + 1 };
  struct {
    const char *name;
    const struct spec *sp;
    __u32 stat;                 /* counted there (with matched), or
                                 * RELAY_STAT_MAX: not matched */
  } cases[] = {
    {"v6 UDP length beyond the payload: passed", &trunc, RELAY_STAT_PASSED},
    {"v6 UDP length below 8: passed", &short_udp, RELAY_STAT_PASSED},
    {"v6 payload length beyond the frame: passed", &cut, RELAY_STAT_PASSED},
    {"v6 cut inside the UDP header: not matched", &hdr_cut, RELAY_STAT_MAX},
    {"v6 UDP checksum 0: refused", &zero, RELAY_STAT_BAD_CSUM},
    {"v6 not to a local address: passed on", &transit, RELAY_STAT_NOT_LOCAL},
    {"v6 TCP to the port: not matched", &tcp, RELAY_STAT_MAX},
    {"v6 UDP to another port: not matched", &other_port, RELAY_STAT_MAX},
  };

  for (size_t k = 0; k < sizeof (cases) / sizeof (cases[0]); k++) {
    __u8 pkt[MAX_PKT];
    size_t len = build (pkt, cases[k].sp);

    begin_case (cases[k].name);
    mixed_slots ();
    run (pkt, len);
    if (n_frames || n_evs)
      fail ("%d copies, %d events, want none", n_frames, n_evs);
    for (__u32 i = 0; i < 7; i++)
      if (read_counters (i).packets)
        fail ("slot %u counted a packet", i);
    if (cases[k].stat == RELAY_STAT_MAX) {
      expect_stat ("matched", RELAY_STAT_MATCHED, 0);
    } else {
      expect_stat ("matched", RELAY_STAT_MATCHED, 1);
      expect_stat ("ipv6", RELAY_STAT_IPV6, 1);
      expect_stat ("the case's", cases[k].stat, 1);
    }
    end_case ();
  }
}

/* @pkt (an IPv6 frame without extension headers, as built) from another
 * sender: source address @saddr6, source port @sport; the UDP checksum
 * again. */
static void
readdress6 (__u8 * pkt, size_t len, const __u8 saddr6[16], __u16 sport)
{
  __u8 *ip6 = pkt + ETH_HLEN, *udp = ip6 + 40;
  __u16 c;

  memcpy (ip6 + 8, saddr6, 16);
  tool_put16 (udp, sport);
  tool_put16 (udp + 6, 0);
  c = ~udp6_sum (ip6, udp, len - ETH_HLEN - 40);
  tool_put16 (udp + 6, c ? c : 0xffff);
}

/* @pkt is forwarded as without a lock: a copy per KERNEL v6 slot of
 * mixed_slots, the event for the others. */
static void
lock_forwarded (const char *what, const __u8 * pkt, size_t len)
{
  n_frames = 0;
  n_evs = 0;
  run (pkt, len);
  if (n_frames != 5 || n_evs != 1)
    fail ("%s: %d copies, %d events, want 5 and 1", what, n_frames, n_evs);
  else
    check_copies (RELAY_FAMILY_V6, pkt, len, NULL);
}

/* @pkt is dropped: nothing for anyone, not for the socket either. */
static void
lock_refused (const char *what, const __u8 * pkt, size_t len)
{
  n_frames = 0;
  n_evs = 0;
  run_expect (pkt, len, TC_ACT_SHOT);
  if (n_frames || n_evs)
    fail ("%s: %d copies, %d events, want none", what, n_frames, n_evs);
}

/* The publisher lock takes IPv6 senders (relay.h: one 16-byte key, IPv4
 * v4-mapped), the same rule as IPv4's (test-relay-bpf case_sources). */
static void
case_lock (void)
{
  static const __u8 other6[16] = { 0xfd,[15] = 3 };     /* fd00::3 */
  static const __u8 mapped6[16] = {[10] = 0xff,[11] = 0xff, 10, 1, 0, 1 };
  struct spec sp = {.kind = K_IPV6,.payload = 60 };
  __u8 pkt[MAX_PKT], other[MAX_PKT];
  size_t len = build (pkt, &sp);
  struct relay_latch l;
  int fd;

  begin_case ("v6 sources: the listed v6 senders publish, the others are "
      "dropped");
  mixed_slots ();
  fd = udp6_socket (20000);
  config.src_flags = RELAY_SRC_LIST;
  write_config ();
  add_source6 (orig_saddr6, ORIG_SPORT);
  add_source (ORIG_SADDR, 0);   /* 10.1.0.1: not fd00::1, nor fd00::3 */
  lock_forwarded ("listed [fd00::1]:6000", pkt, len);
  if (fd >= 0)
    check_udp_rx (fd, 20000, pkt + 62, 60);
  memcpy (other, pkt, len);
  readdress6 (other, len, orig_saddr6, ORIG_SPORT + 1);
  lock_refused ("listed host, other port", other, len);
  readdress6 (other, len, other6, ORIG_SPORT);
  lock_refused ("unlisted [fd00::3]:6000", other, len);
  /* ::ffff:10.1.0.1 in an IPv6 header has the v4 entry's key: it is
   * that sender, as in userspace (relay_addr_from_native folds a
   * v4-mapped sender into IPv4) */
  readdress6 (other, len, mapped6, ORIG_SPORT);
  lock_forwarded ("v4-mapped form of a listed v4 host", other, len);
  expect_stat ("rejected_source", RELAY_STAT_REJECTED_SOURCE, 2);
  if (fd >= 0)
    close (fd);
  end_case ();

  begin_case ("v6 sources, a host entry: any port of it");
  mixed_slots ();
  config.src_flags = RELAY_SRC_LIST;
  write_config ();
  add_source6 (other6, 0);
  lock_refused ("unlisted [fd00::1]:6000", pkt, len);
  memcpy (other, pkt, len);
  readdress6 (other, len, other6, 40000);
  lock_forwarded ("[fd00::3]:40000", other, len);
  expect_stat ("rejected_source", RELAY_STAT_REJECTED_SOURCE, 1);
  end_case ();

  begin_case ("v6 latch: the first v6 sender, another after the timeout");
  mixed_slots ();
  config.src_flags = RELAY_SRC_LATCH;
  config.src_timeout_ms = 300;
  write_config ();
  memcpy (other, pkt, len);
  readdress6 (other, len, other6, 7000);
  lock_forwarded ("first sender", pkt, len);
  l = read_latch ();
  if (!latch_is6 (&l, orig_saddr6) || l.port != htons (ORIG_SPORT))
    fail ("latched %08x..%08x:%u, want [fd00::1]:6000", ntohl (l.addr[0]),
        ntohl (l.addr[3]), ntohs (l.port));
  lock_refused ("second sender", other, len);
  usleep (150 * 1000);
  lock_forwarded ("first sender again", pkt, len);
  usleep (150 * 1000);
  lock_refused ("second sender, first silent 150 ms", other, len);
  usleep (400 * 1000);
  lock_forwarded ("second sender after 400 ms of silence", other, len);
  l = read_latch ();
  if (!latch_is6 (&l, other6) || l.port != htons (7000))
    fail ("latched %08x..%08x:%u, want [fd00::3]:7000", ntohl (l.addr[0]),
        ntohl (l.addr[3]), ntohs (l.port));
  lock_refused ("first sender after the handover", pkt, len);
  expect_stat ("rejected_source", RELAY_STAT_REJECTED_SOURCE, 3);
  expect_stat ("source_latched", RELAY_STAT_SOURCE_LATCHED, 2);
  end_case ();

  begin_case ("latch across families: a v6 sender waits for a v4 one's "
      "silence");
  mixed_slots ();
  config.src_flags = RELAY_SRC_LATCH;
  config.src_timeout_ms = 0;    /* never handed over */
  write_config ();
  {
    struct spec sp4 = {.payload = 60 };
    __u8 pkt4[MAX_PKT];
    size_t len4 = build (pkt4, &sp4);

    n_frames = n_evs = 0;
    run (pkt4, len4);
    if (n_frames != 1)
      fail ("v4 first sender: %d copies, want 1 (the v4 KERNEL slot)",
          n_frames);
  }
  l = read_latch ();
  if (!latch_is4 (&l, ORIG_SADDR))
    fail ("the v4 sender did not take the latch");
  lock_refused ("v6 sender, v4 latched", pkt, len);
  expect_stat ("rejected_source", RELAY_STAT_REJECTED_SOURCE, 1);
  expect_stat ("source_latched", RELAY_STAT_SOURCE_LATCHED, 1);
  end_case ();

  begin_case ("v6 sources and latch: only a listed v6 sender takes it");
  mixed_slots ();
  config.src_flags = RELAY_SRC_LIST | RELAY_SRC_LATCH;
  config.src_timeout_ms = 0;
  write_config ();
  add_source6 (orig_saddr6, 0);
  memcpy (other, pkt, len);
  readdress6 (other, len, other6, 7000);
  lock_refused ("unlisted first", other, len);
  l = read_latch ();
  if (l.addr[0] | l.addr[1] | l.addr[2] | l.addr[3])
    fail ("an unlisted sender took the latch");
  lock_forwarded ("listed", pkt, len);
  readdress6 (other, len, orig_saddr6, ORIG_SPORT + 1);
  lock_refused ("listed host, other port, latched", other, len);
  end_case ();
}

/* consume: the last kernel copy is the packet itself. */
static void
case_consume (void)
{
  struct spec sp = {.kind = K_IPV6,.payload = 250 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &sp);
  static struct frame out;
  struct relay_sub s[3];
  int v;

  begin_case ("v6 consume: the last kernel copy is the packet (redirect)");
  for (int i = 0; i < 3; i++)
    s[i] = lo_slot6 (i, 0);
  set_slots (s, 3);
  config.consume = 1;
  write_config ();
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_REDIRECT)
    fail ("verdict %d, want TC_ACT_REDIRECT", v);
  if (n_frames != 2)
    fail ("%d clones on lo, want 2", n_frames);
  else {
    check_frame6 (&frames[0], &slots[0], pkt, len, -1);
    check_frame6 (&frames[1], &slots[1], pkt, len, -1);
  }
  check_frame6 (&out, &slots[2], pkt, len, -1);
  expect_stat ("consumed", RELAY_STAT_CONSUMED, 1);
  if (n_evs)
    fail ("%d events, want none", n_evs);
  end_case ();
}

/* qos-dscp and ttl (config's RELAY_IP_*): the copies' traffic class
 * carries the DSCP with the packet's ECN bits, the flow label stays, the
 * hop limit is ttl (ttl-mc to a group, ff00::/8); the UDP checksum still
 * verifies (check_frame6: the pseudo header covers neither field);
 * without RELAY_IP_DSCP the class is as it came. */
static void
check_copies6_ip (__u8 tc, __u8 hops, __u8 hops_mc)
{
  for (int i = 0; i < n_frames && i < MAX_FRAMES; i++) {
    const __u8 *ip6 = frames[i].data + ETH_HLEN;
    int group = ip6[24] == 0xff;
    __u8 got_tc = (ip6[0] & 0x0f) << 4 | ip6[1] >> 4;

    if (frames[i].len < ETH_HLEN + 48)
      continue;
    if ((ip6[0] >> 4) != 6 || (ip6[1] & 0x0f) != 0x0a || ip6[3] != 0x42)
      fail ("v6 copy %d: version or flow label changed", i);
    if (got_tc != tc || ip6[7] != (group ? hops_mc : hops))
      fail ("v6 copy %d: traffic class %#x hop limit %u, want %#x %u", i,
          got_tc, ip6[7], tc, group ? hops_mc : hops);
  }
}

static void
case_ip_fields (void)
{
  /* DSCP 46, ECN 01; hop limit 100 */
  struct spec sp = {.kind = K_IPV6,.payload = 200,.tos = 0xb9,.ttl = 100 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &sp);
  struct relay_sub s[4];
  int fd;

  for (int i = 0; i < 4; i++)
    s[i] = lo_slot6 (i, i == 0);
  /* slot 2: a group, ff0e::1:2 */
  memset (s[2].daddr6, 0, 16);
  ((__u8 *) s[2].daddr6)[0] = 0xff;
  ((__u8 *) s[2].daddr6)[1] = 0x0e;
  ((__u8 *) s[2].daddr6)[13] = 1;
  ((__u8 *) s[2].daddr6)[15] = 2;

  begin_case ("v6: qos-dscp 8, ttl 7, ttl-mc 2 in the traffic class (ECN "
      "kept) and hop limit");
  config.ip_flags = RELAY_IP_DSCP | RELAY_IP_TTL;
  config.dscp = 8;
  config.ttl = 7;
  config.ttl_mc = 2;
  set_slots (s, 4);
  fd = udp6_socket (20000);
  run (pkt, len);
  check_copies (RELAY_FAMILY_V6, pkt, len, NULL);
  check_copies6_ip (8 << 2 | 1, 7, 2);
  check_stats (1, 0, 0, 0);
  if (fd >= 0) {
    check_udp_rx (fd, 20000, pkt + 62, 200);
    close (fd);
  }
  end_case ();

  begin_case ("v6: qos-dscp -1 keeps the traffic class; ttl written");
  config.ip_flags = RELAY_IP_TTL;
  config.ttl = 64;
  config.ttl_mc = 1;
  set_slots (s, 4);
  run (pkt, len);
  check_copies (RELAY_FAMILY_V6, pkt, len, NULL);
  check_copies6_ip (0xb9, 64, 1);
  end_case ();
}

int
main (void)
{
  int err = harness_setup ("relay-bpf6");

  if (err)
    return err;
  case_forward ();
  case_v4_to_v6_slot ();
  case_seq ();
  case_ext ();
  case_fragments ();
  case_refused ();
  case_lock ();
  case_consume ();
  case_ip_fields ();
  printf ("relay-bpf6: %d passed, %d failed, %d not run\n", n_passed,
      n_failed, n_not_run);
  return harness_teardown ();
}
