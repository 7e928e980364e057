/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-relay-bpf: runs crafted packets through the relay's TC program
 * (bpf/relay.bpf.c) with BPF_PROG_TEST_RUN and checks that the original
 * always comes back unchanged with TC_ACT_UNSPEC, that the copies the
 * kernel sends carry the subscriber's headers and valid checksums, and
 * the events and counters; then streams of RTP packets to slots with
 * priority limits: each slot gets exactly the packets its limit lets
 * through, with sequence numbers contiguous per SSRC (kernel copies and
 * userspace events alike), packets that are not RTP untouched, checksums
 * right after the rewrite, limits changed mid-stream, a reused slot
 * starting clean, and a full SSRC table sending instead of dropping; the
 * key frame gate (bpf/switch.h) for late joiners, per-SSRC SR counts
 * (packets, payload octets) and RTCP multiplexed on the port; only
 * datagrams for this host (local_addrs) with a valid IPv4 header checksum
 * are forwarded, and only from the senders that may publish (sources, the
 * latch and its handover); qos-dscp and ttl (config's RELAY_IP_*) in the
 * copies' TOS (ECN bits kept) and TTL, ttl_mc to a group, the IP header
 * checksum right, a copy with TTL 0 left to userspace.
 *
 * Copies go to lo of a private network namespace, where an AF_PACKET
 * socket reads them and UDP sockets receive them. Needs root (CAP_BPF,
 * CAP_NET_ADMIN, CAP_SYS_ADMIN for the namespace); exits 77 (skip)
 * without it.
 */
#include "relay-bpf-harness.h"

/* ---- cases -------------------------------------------------------------- */

/* Runs @pkt (a 100-byte payload) that no slot gets: matched, nothing
 * forwarded, no copy, no event. */
static void
run_unserved (const __u8 * pkt, size_t len)
{
  run (pkt, len);
  check_stats (1, 0, 0, 0);
  check_sub_stats (100);
  check_frames (pkt, len);
  check_user_event (pkt, len);
}

static void
case_no_subscribers (void)
{
  struct spec s = {.payload = 100 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);
  __u32 i;

  begin_case ("no subscribers");
  run_unserved (pkt, len);
  end_case ();

  begin_case ("only empty slots");
  set_n_slots (16);
  run_unserved (pkt, len);
  end_case ();

  begin_case ("slots beyond n_slots ignored");
  for (i = 0; i < 4; i++) {
    struct relay_sub sub = lo_slot (i, 0);
    set_slot (i + 4, &sub);
  }
  set_n_slots (4);
  run_unserved (pkt, len);
  end_case ();
}

struct fwd_case
{
  const char *name;
  int n;                        /* slots, every 5th delivered to a UDP socket */
  int payload;
  int no_udp_csum;
  __u16 frag;
  int bad_ifindex_slot;         /* >= 0: this slot's interface does not exist */
  int user_slot;                /* >= 0: this slot is USERSPACE */
};

static void
case_forward (const struct fwd_case *fc)
{
  struct spec s = {.payload = fc->payload,.no_udp_csum = fc->no_udp_csum,
    .frag = fc->frag
  };
  int fds[64], n_fds = 0, i, clone_errors = 0;
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);

  begin_case (fc->name);
  for (i = 0; i < fc->n; i++) {
    int deliver = i % 5 == 0;
    struct relay_sub sub = lo_slot (i, deliver);

    if (i == fc->bad_ifindex_slot) {
      sub.ifindex = 0x7fff0000;
      clone_errors++;
      deliver = 0;
    }
    if (i == fc->user_slot) {
      sub.state = RELAY_SUB_USERSPACE;
      deliver = 0;
    }
    set_slot (i, &sub);
    if (deliver && n_fds < 64)
      fds[n_fds++] = udp_socket (20000 + i);
    else if (deliver)
      fail ("too many sockets");
  }
  set_n_slots (fc->n);
  run (pkt, len);
  check_stats (1, 0, fc->user_slot >= 0, clone_errors);
  check_sub_stats (fc->payload);
  check_frames (pkt, len);
  check_user_event (pkt, len);
  n_fds = 0;
  for (i = 0; i < fc->n; i++)
    if (i % 5 == 0 && i != fc->bad_ifindex_slot && i != fc->user_slot) {
      if (fds[n_fds] >= 0) {
        check_udp_rx (fds[n_fds], 20000 + i, pkt + 42, fc->payload);
        close (fds[n_fds]);
      }
      n_fds++;
    }
  end_case ();
}

/* Many slots, mixed: EMPTY, USERSPACE and KERNEL in turn. */
static void
case_many (const char *name, __u32 n_cfg)
{
  struct spec s = {.payload = 200 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);
  __u32 i;

  begin_case (name);
  for (i = 0; i < 1000; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    sub.state = i % 3 == 0 ? RELAY_SUB_EMPTY :
        i % 3 == 1 ? RELAY_SUB_USERSPACE : RELAY_SUB_KERNEL;
    set_slot (i, &sub);
  }
  set_n_slots (n_cfg);
  run (pkt, len);
  n_slots = RELAY_MAX_SUBS;     /* what the program clamps n_cfg to */
  if (n_cfg < n_slots)
    n_slots = n_cfg;
  check_stats (1, 0, 1, 0);
  check_sub_stats (200);
  check_frames (pkt, len);
  check_user_event (pkt, len);
  end_case ();
}

static void
case_userspace_only (void)
{
  struct spec s = {.payload = 77 };
  struct relay_sub sub = lo_slot (0, 0);
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);

  begin_case ("one USERSPACE slot");
  sub.state = RELAY_SUB_USERSPACE;
  set_slot (67, &sub);
  set_n_slots (100);
  run (pkt, len);
  check_stats (1, 0, 1, 0);
  check_sub_stats (77);
  check_frames (pkt, len);
  check_user_event (pkt, len);
  end_case ();
}

struct pass_case
{
  const char *name;
  struct spec spec;
  int matched, passed, event_all;
  int may_refuse;               /* IPv4 frame shorter than an IP header */
};

/* Packets the kernel must not forward: unchanged, nothing sent, only the
 * counters (and, for IP options, the event for everyone) move. */
static void
case_pass (const struct pass_case *pc)
{
  struct relay_sub k = lo_slot (0, 0), u = lo_slot (1, 0);
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &pc->spec);

  begin_case (pc->name);
  u.state = RELAY_SUB_USERSPACE;
  set_slot (0, &k);
  set_slot (1, &u);
  set_n_slots (2);
  may_refuse = pc->may_refuse;
  run (pkt, len);
  may_refuse = 0;
  if (refused)
    goto out;
  check_stats (pc->matched, pc->passed, pc->event_all, 0);
  {
    /* a first fragment to the port is counted as such */
    __u64 want = pc->matched && (pc->spec.frag & 0x2000)
        && !(pc->spec.frag & 0x1fff);

    if (read_stat (RELAY_STAT_FRAGMENTED) != want)
      fail ("fragmented = %llu, want %llu",
          (unsigned long long) read_stat (RELAY_STAT_FRAGMENTED),
          (unsigned long long) want);
  }
  n_slots = 0;                  /* no slot may see anything */
  check_sub_stats (0);
  check_frames (pkt, len);
  if (n_evs != pc->event_all) {
    fail ("%d events, want %d", n_evs, pc->event_all);
  } else if (pc->event_all) {
    /* userspace sends to every slot, the KERNEL one too */
    struct relay_event_entry both[2] = { {.slot = 0}, {.slot = 1} };
    int ihl = pc->spec.ihl ? pc->spec.ihl : 5;

    check_event (&evs[0], 0, both, 2, ETH_HLEN + ihl * 4 + 8,
        pc->spec.payload, pkt, len);
  }
out:
  end_case ();
}

static const struct pass_case pass_cases[] = {
  {"ethernet header only",.spec = {.payload = 50,.len = 14},.may_refuse = 1},
  {"cut inside the IP header",.spec = {.payload = 50,.len = 24},
      .may_refuse = 1},
  {"ethernet header only, ARP type",.spec = {.kind = K_ARP,.len = 14}},
  {"IP header longer than the frame",.spec = {.payload = 4,.ihl_field = 15}},
  {"cut after the IP header",.spec = {.payload = 50,.len = 34}},
  {"cut inside the UDP header",.spec = {.payload = 50,.len = 38}},
  {"cut after the UDP header",.spec = {.payload = 50,.len = 42}, 1, 1},
  {"payload shorter than UDP length",.spec = {.payload = 50,.cut = 1}, 1, 1},
  {"UDP length below 8",.spec = {.payload = 50,.udp_len_delta = -51}, 1, 1},
  {"UDP length beyond IP payload",.spec = {.payload = 50,.udp_len_delta = 1},
      1, 1},
  {"IP options",.spec = {.payload = 50,.ihl = 6}, 1, 1, 1},
  {"IP options, payload cut",.spec = {.payload = 50,.ihl = 6,.cut = 3}, 1, 1},
  {"IP options, cut inside UDP header",.spec = {.payload = 50,.ihl = 6,
          .len = 14 + 24 + 4}},
  {"IHL below 5",.spec = {.payload = 50,.ihl_field = 4}},
  {"first fragment (MF)",.spec = {.payload = 50,.frag = 0x2000}, 1, 1},
  {"middle fragment (MF, offset)",.spec = {.payload = 50,.frag = 0x2010}},
  {"last fragment (offset)",.spec = {.payload = 50,.frag = 0x0010}},
  {"TCP to the port",.spec = {.payload = 50,.proto = IPPROTO_TCP}},
  {"ICMP",.spec = {.payload = 50,.proto = IPPROTO_ICMP}},
  {"UDP to another port",.spec = {.payload = 50,.dport = PORT + 1}},
  {"VLAN-tagged UDP/IPv4 to the port",.spec = {.kind = K_VLAN,.payload = 50}},
  {"ARP",.spec = {.kind = K_ARP}},
};

static const struct fwd_case fwd_cases[] = {
  {"one KERNEL slot", 1, 100, 0, 0, -1, -1},
  {"KERNEL slots, UDP checksum",.n = 12,.payload = 333,.bad_ifindex_slot =
        -1,.user_slot = -1},
  {"KERNEL slots, no UDP checksum",.n = 12,.payload = 333,.no_udp_csum =
        1,.bad_ifindex_slot = -1,.user_slot = -1},
  {"KERNEL slots, 1-byte payload",.n = 6,.payload = 1,.bad_ifindex_slot =
        -1,.user_slot = -1},
  {"KERNEL slots, empty payload",.n = 6,.payload = 0,.bad_ifindex_slot =
        -1,.user_slot = -1},
  {"KERNEL slots, DF set",.n = 6,.payload = 100,.frag = 0x4000,
      .bad_ifindex_slot = -1,.user_slot = -1},
  {"KERNEL slots, one interface gone",.n = 11,.payload = 100,
      .bad_ifindex_slot = 3,.user_slot = -1},
  {"KERNEL and USERSPACE slots",.n = 11,.payload = 100,.bad_ifindex_slot =
        -1,.user_slot = 7},
};

/* ---- priority limits and sequence numbers ------------------------------ */

#define N_STREAM_SLOTS 12       /* 0-7 KERNEL, limits 0-7; 8-11 USERSPACE */
static const __u8 user_limits[4] = { 0, 5, 6, 7 };

/* What a stream case expects: per slot and SSRC the packets dropped so
 * far, the last sequence number sent (-1: none yet), whether the slot runs
 * (the SSRCs are H.264: a slot waits for a key frame start), the packets
 * and payload octets sent; per SSRC the last timestamp (-1: none). */
struct stream
{
  const char *name;
  int no_udp_csum;
  int rewrite;
  __u16 next_seq[2];
  __u32 dropped[N_STREAM_SLOTS][2];
  int last[N_STREAM_SLOTS][2];
  int running[N_STREAM_SLOTS][2];
  __u32 sent_pkts[N_STREAM_SLOTS][2], sent_octets[N_STREAM_SLOTS][2];
  long long last_ts[2];
  int lead[2];                  /* only priority 0 in the SSRC's frame yet */
  /* the limit in force per slot and SSRC (DESIGN.md, "Join and switch":
   * a raise at the next frame start, a lowering at the next key frame
   * start); decisions made at a limit in force other than the requested
   * one (the case proves that switches waited) */
  int force[N_STREAM_SLOTS][2];
  __u64 deferred;
  /* the same packets through bpf/switch.h as userspace runs it
   * (ebpfrelaysink mode=userspace): its decisions must be the kernel's */
  struct sw_ssrc u_frames[2];
  struct sw_sub u_subs[N_STREAM_SLOTS][2];
  int u_init[N_STREAM_SLOTS][2];
  __u64 got[N_STREAM_SLOTS], not_got[N_STREAM_SLOTS], held[N_STREAM_SLOTS];
  int fds[N_STREAM_SLOTS];
};

/* Packet @k of the stream: H.264 on two SSRCs (A, B: every third packet),
 * a frame (timestamp) per three packets; A with NRI 3, 0, 2, 0, 1, 2 in
 * turn, B with 3, 2, 0, 1 per frame; every seventh packet not RTP. */
static size_t
stream_payload (struct stream *st, int k, __u8 * p)
{
  static const __u8 nal[6] = { 0x65, 0x01, 0x41, 0x01, 0x21, 0x41 };
  static const __u8 nal_b[4] = { 0x65, 0x41, 0x01, 0x21 };
  int b = k % 3 == 2, i;
  size_t len = 100 + k % 5;

  for (i = 0; i < (int) len; i++)
    p[i] = i * 13 + k;
  if (k % 7 == 6) {
    p[0] = 0x01;                /* version 0: not RTP */
    return len;
  }
  tool_rtp_header (p, 0x80, 96, st->next_seq[b]++, 3000 * (k / 3),
      b ? 0xbbbb0002 : 0xaaaa0001);
  p[12] = b ? nal_b[(k / 3) % 4] : nal[k % 6];
  return len;
}

static void
stream_slots (void)
{
  __u32 i;

  for (i = 0; i < N_STREAM_SLOTS; i++) {
    struct relay_sub s = lo_slot (i, i < 8);

    s.limit = i < 8 ? i : user_limits[i - 8];
    s.seq_flag = s.limit > 0;
    s.gen = 7;
    if (i >= 8)
      s.state = RELAY_SUB_USERSPACE;
    set_slot (i, &s);
  }
  set_n_slots (N_STREAM_SLOTS);
}

/* As userspace (relay_kernel_set_limit) does it: seq_flag before the
 * limit, one write each. */
static void
stream_set_limit (__u32 slot, __u8 limit)
{
  struct relay_sub s = slots[slot];

  if (limit && !s.seq_flag) {
    s.seq_flag = 1;
    set_slot (slot, &s);
  }
  s.limit = limit;
  set_slot (slot, &s);
}

/* Runs one packet and checks, for every slot, that it got the packet
 * exactly when the packet's priority reaches its limit, with the
 * sequence number that keeps its stream of that SSRC contiguous. */
static void
stream_step (struct stream *st, int k)
{
  __u8 payload[MAX_PKT], pkt[MAX_PKT + 64], codec[PRIO_N_PT] = { 0 };
  struct spec sp = {.no_udp_csum = st->no_udp_csum };
  struct prio_info info;
  int seq_on, b, i, key_start = 0, frame_start = 0, u_frame = 0;
  size_t len;
  __u32 slot;

  sp.payload = stream_payload (st, k, payload);
  sp.data = payload;
  len = build (pkt, &sp);
  codec[96] = PRIO_CODEC_H264;
  prio_classify (payload, sp.payload, sp.payload, codec, 0, NULL, &info);
  seq_on = st->rewrite && prio_is_rtp (&info);
  b = info.ssrc == 0xbbbb0002;
  if (prio_is_rtp (&info)) {
    u_frame = sw_frame (&st->u_frames[b], info.ts, info.priority);
    /* a key frame starts at a frame's first priority-7 packet behind
     * nothing but priority 0 */
    frame_start = st->last_ts[b] != (long long) info.ts;
    if (frame_start)
      st->lead[b] = 1;
    key_start = info.priority == 7 && st->lead[b];
    if (info.priority)
      st->lead[b] = 0;
    st->last_ts[b] = info.ts;
  }

  n_frames = 0;
  n_evs = 0;
  run (pkt, len);
  if (n_evs > 1)
    fail ("packet %d: %d events", k, n_evs);
  if (n_evs && evs[0].hdr.flags != (seq_on ? RELAY_EVENT_SEQ : 0))
    fail ("packet %d: event flags %#x", k, evs[0].hdr.flags);

  for (slot = 0; slot < N_STREAM_SLOTS; slot++) {
    int want = !prio_drops (&info, slots[slot].limit), got = 0, seq = -1,
        held = 0;
    __u16 out = prio_out_seq (info.seq, st->dropped[slot][b]);

    int req = slots[slot].limit, u = -1;

    /* the gate: a key frame start (NRI 3) starts a slot, at the limit
     * requested then; a running slot's limit changes at a boundary */
    if (prio_is_rtp (&info) && !st->running[slot][b]) {
      if (key_start) {
        st->running[slot][b] = 1;
        st->force[slot][b] = req;
      } else
        want = 0, held = 1;
    } else if (prio_is_rtp (&info)) {
      if ((req > st->force[slot][b] && frame_start)
          || (req < st->force[slot][b] && key_start))
        st->force[slot][b] = req;
    }
    if (prio_is_rtp (&info) && !held) {
      want = info.priority >= st->force[slot][b];
      if (st->force[slot][b] != req)
        st->deferred++;
    }
    if (prio_is_rtp (&info)) {
      if (!st->u_init[slot][b]) {
        sw_sub_init (&st->u_subs[slot][b], codec, info.pt, req);
        st->u_init[slot][b] = 1;
      }
      u = sw_decide (&st->u_subs[slot][b], u_frame, info.priority, req);
      if (u != (held ? SW_HOLD : want ? SW_SEND : SW_DROP))
        fail ("packet %d, slot %u: switch.h decides %d, the model %s", k,
            slot, u, held ? "hold" : want ? "send" : "drop");
    }

    if (slots[slot].state == RELAY_SUB_KERNEL) {
      for (i = 0; i < n_frames && i < MAX_FRAMES; i++)
        if (((frames[i].data[36] << 8) | frames[i].data[37]) ==
            ntohs (slots[slot].dport)) {
          got++;
          check_frame_seq (&frames[i], &slots[slot], pkt, len,
              seq_on ? out : -1);
          seq = frames[i].data[44] << 8 | frames[i].data[45];
        }
    } else {
      for (i = 0; n_evs && i < evs[0].hdr.n_entries; i++)
        if (evs[0].entries[i].slot == slot) {
          got++;
          seq = seq_on ? evs[0].entries[i].seq : info.seq;
          if (seq_on && seq != out)
            fail ("packet %d, slot %u: event seq %d, want %u", k, slot, seq,
                out);
        }
    }
    if (got != want) {
      fail ("packet %d (priority %u), slot %u (limit %u, in force %d): %d "
          "copies, want %d", k, info.priority, slot, slots[slot].limit,
          st->force[slot][b], got, want);
      continue;
    }
    if (held) {
      st->held[slot]++;
      continue;
    }
    if (!want) {
      st->not_got[slot]++;
      if (seq_on)
        st->dropped[slot][b]++;
      continue;
    }
    st->got[slot]++;
    if (prio_is_rtp (&info)) {
      st->sent_pkts[slot][b]++;
      st->sent_octets[slot][b] += sp.payload - 12;
    }
    if (!seq_on)
      continue;
    /* contiguous, whatever the model says */
    if (st->last[slot][b] >= 0 && seq != ((st->last[slot][b] + 1) & 0xffff))
      fail ("packet %d, slot %u, SSRC %c: seq %d after %d", k, slot,
          b ? 'B' : 'A', seq, st->last[slot][b]);
    st->last[slot][b] = seq;
  }
}

/* The kernel's counters, and the datagrams the UDP sockets took (the
 * stack verified their checksums). */
static void
stream_end (struct stream *st)
{
  __u32 slot;

  for (slot = 0; slot < N_STREAM_SLOTS; slot++) {
    struct relay_counters c = read_counters (slot);
    __u64 sent = slots[slot].state == RELAY_SUB_KERNEL ? st->got[slot] : 0;

    int b;

    if (c.prio_dropped != st->not_got[slot] || c.packets != sent
        || c.held != st->held[slot])
      fail ("slot %u: kernel counters sent %llu, dropped %llu, held %llu; "
          "want %llu, %llu, %llu", slot, (unsigned long long) c.packets,
          (unsigned long long) c.prio_dropped, (unsigned long long) c.held,
          (unsigned long long) sent, (unsigned long long) st->not_got[slot],
          (unsigned long long) st->held[slot]);
    for (b = 0; b < 2; b++) {
      struct relay_ssrc_state e;
      __u32 ssrc = b ? 0xbbbb0002 : 0xaaaa0001;

      if (!read_ssrc_state (slot, slots[slot].gen, ssrc, &e)) {
        fail ("slot %u: no state for SSRC %c", slot, b ? 'B' : 'A');
        continue;
      }
      if (e.packets != st->sent_pkts[slot][b]
          || e.octets != st->sent_octets[slot][b]
          || e.dropped != (st->rewrite ? st->dropped[slot][b] : 0)
          || e.sw.state != (st->running[slot][b] ? SW_RUNNING : SW_WAITING)
          || (st->running[slot][b] && e.sw.limit != st->force[slot][b]))
        fail ("slot %u, SSRC %c: %u packets %u octets %u dropped state %u "
            "in force %u, want %u, %u, %u, %u, %d", slot, b ? 'B' : 'A',
            e.packets, e.octets, e.dropped, e.sw.state, e.sw.limit,
            st->sent_pkts[slot][b], st->sent_octets[slot][b],
            st->rewrite ? st->dropped[slot][b] : 0,
            st->running[slot][b] ? SW_RUNNING : SW_WAITING,
            st->force[slot][b]);
    }
    if (st->fds[slot] >= 0) {
      __u64 n = 0;
      __u8 buf[MAX_PKT];
      struct pollfd p = {.fd = st->fds[slot],.events = POLLIN };

      while (poll (&p, 1, n < st->got[slot] ? 1000 : 0) == 1
          && recv (st->fds[slot], buf, sizeof (buf), 0) > 0)
        n++;
      if (n != st->got[slot])
        fail ("slot %u: its socket received %llu datagrams, want %llu",
            slot, (unsigned long long) n, (unsigned long long) st->got[slot]);
      close (st->fds[slot]);
    }
  }
  if (read_stat (RELAY_STAT_SEQ_FULL) || read_stat (RELAY_STAT_CLONE_ERRORS))
    fail ("seq_full or clone errors counted");
}

static void
stream_begin (struct stream *st)
{
  __u32 slot;

  begin_case (st->name);
  set_prio_config (0, st->rewrite);
  stream_slots ();
  st->next_seq[0] = 65530;      /* wraps */
  st->next_seq[1] = 100;
  st->last_ts[0] = st->last_ts[1] = -1;
  for (slot = 0; slot < N_STREAM_SLOTS; slot++) {
    st->last[slot][0] = st->last[slot][1] = -1;
    st->fds[slot] = slots[slot].state == RELAY_SUB_KERNEL ?
        udp_socket (20000 + slot) : -1;
  }
}

static void
case_stream (const char *name, int no_udp_csum, int rewrite)
{
  struct stream st = {.name = name,.no_udp_csum = no_udp_csum,
    .rewrite = rewrite
  };
  int k;

  stream_begin (&st);
  for (k = 0; k < 84; k++)
    stream_step (&st, k);
  stream_end (&st);            /* with rewrite off: nothing counted dropped */
  end_case ();
}

/* Limits change between two packets: from the next packet on. */
static void
case_stream_limit_change (void)
{
  struct stream st = {.name = "limits changed mid-stream",.rewrite = 1 };
  int k;

  stream_begin (&st);
  for (k = 0; k < 100; k++) {
    if (k == 40) {
      stream_set_limit (0, 6);  /* 0 -> 6 */
      stream_set_limit (6, 0);  /* 6 -> 0: offsets stay */
      stream_set_limit (9, 7);  /* USERSPACE 5 -> 7 */
    }
    if (k == 70) {
      stream_set_limit (0, 1);
      stream_set_limit (6, 7);
      stream_set_limit (9, 0);
    }
    stream_step (&st, k);
  }
  stream_end (&st);
  /* packets 40 and 70 are mid-frame: some decisions waited */
  if (st.deferred == 0)
    fail ("no decision at a limit other than the requested one");
  end_case ();
}

/* Limits toggled at random between packets (mid-frame mostly; A has a key
 * frame every second frame, B every fourth): every slot's limit in force
 * follows its requests at boundaries only, as the model and switch.h in
 * userspace say, and its sequence numbers stay contiguous (stream_step). */
static void
case_stream_toggles (void)
{
  struct stream st = {.name = "limits toggled at random",.rewrite = 1 };
  unsigned int seed = 12;
  int k;
  __u32 slot;

  stream_begin (&st);
  for (k = 0; k < 252; k++) {
    for (slot = 0; slot < N_STREAM_SLOTS; slot++)
      if (rand_r (&seed) % 3 == 0)
        stream_set_limit (slot, rand_r (&seed) % 2 ?
            (slot % 4 == 0 ? 0 : slot % 8) : (slot % 4 == 1 ? 1 : 7));
    stream_step (&st, k);
  }
  stream_end (&st);
  if (st.deferred == 0)
    fail ("no decision at a limit other than the requested one");
  end_case ();
}

/* A slot assigned anew (another gen) starts with no sequence offsets. */
static void
case_slot_reuse (void)
{
  struct stream st = {.name = "reused slot starts clean",.rewrite = 1 };
  struct relay_sub s;
  int k;

  stream_begin (&st);
  for (k = 0; k < 13; k++)
    stream_step (&st, k);
  if (st.dropped[7][0] == 0)
    fail ("slot 7 dropped nothing: the case proves nothing");
  /* slot 7 emptied and assigned again, as relay_kernel_set_slot does */
  s = slots[7];
  s.state = RELAY_SUB_EMPTY;
  set_slot (7, &s);
  s.gen++;
  s.limit = 0;
  s.seq_flag = 0;
  set_slot (7, &s);
  s.state = RELAY_SUB_KERNEL;
  set_slot (7, &s);
  st.dropped[7][0] = st.dropped[7][1] = 0;
  st.last[7][0] = st.last[7][1] = -1;
  st.running[7][0] = st.running[7][1] = 0;
  st.u_init[7][0] = st.u_init[7][1] = 0;
  st.sent_pkts[7][0] = st.sent_pkts[7][1] = 0;
  st.sent_octets[7][0] = st.sent_octets[7][1] = 0;
  /* (its counters are zeroed by userspace; here they go on) */
  for (; k < 30; k++)
    stream_step (&st, k);
  if (!st.held[7])
    fail ("the reused slot waited for no key frame: the case proves less");
  {
    struct relay_ssrc_state e;

    if (read_ssrc_state (7, s.gen - 1, 0xaaaa0001, &e))
      fail ("the old assignment's state is still there");
    if (!read_ssrc_state (7, s.gen, 0xaaaa0001, &e) || e.packets !=
        st.sent_pkts[7][0] || e.dropped != st.dropped[7][0])
      fail ("the new assignment's state for SSRC A is not its own");
  }
  end_case ();
  for (k = 0; k < N_STREAM_SLOTS; k++)
    if (st.fds[k] >= 0)
      close (st.fds[k]);
}

/* No room in the slot's SSRC table: the packet is sent after all,
 * unrewritten (so that sequence numbers stay right), and counted. */
static void
case_seq_state_full (void)
{
  struct spec sp = {.payload = 40 };
  struct relay_sub s = lo_slot (0, 0);
  struct relay_sub_ssrcs t;
  __u8 payload[40] = { 0x80, 96, 0, 5, 0, 0, 0, 9, 1, 2, 3, 4, 0x01 };
  __u8 pkt[MAX_PKT];
  struct relay_counters c;
  struct relay_ssrc_state e;
  __u32 key = 0;
  size_t len;
  int i;

  begin_case ("SSRC table full: sent unrewritten, not dropped");
  set_prio_config (0, 1);
  s.gen = 3;
  memset (&t, 0, sizeof (t));
  for (i = 0; i < RELAY_SSRCS_PER_SUB; i++) {
    t.e[i].id = RELAY_SSRC_VALID | RELAY_SSRC_ID (3, 0x5000 + i);
    t.e[i].dropped = 2;
  }
  if (bpf_map_update_elem (sub_ssrcs_fd, &key, &t, BPF_ANY))
    fail ("filling sub_ssrcs: %s", strerror (errno));
  s.limit = 7;
  s.seq_flag = 1;
  set_slot (0, &s);
  set_n_slots (1);
  sp.data = payload;
  len = build (pkt, &sp);
  n_frames = 0;
  run (pkt, len);
  if (n_frames != 1)
    fail ("%d copies, want 1", n_frames);
  else
    check_frame (&frames[0], &slots[0], pkt, len);
  c = read_counters (0);
  if (c.prio_dropped != 0 || c.packets != 1)
    fail ("counters: %llu sent, %llu dropped",
        (unsigned long long) c.packets, (unsigned long long) c.prio_dropped);
  if (read_stat (RELAY_STAT_SEQ_FULL) != 1)
    fail ("seq_full not counted");
  if (read_ssrc_state (0, 3, 0x01020304, &e))
    fail ("an entry was claimed in a full table");

  /* an entry of another assignment (gen) is free: claimed, clean */
  t.e[2].id = RELAY_SSRC_VALID | RELAY_SSRC_ID (2, 0x01020304);
  t.e[2].packets = 50;
  if (bpf_map_update_elem (sub_ssrcs_fd, &key, &t, BPF_ANY))
    fail ("sub_ssrcs: %s", strerror (errno));
  run (pkt, len);
  if (read_stat (RELAY_STAT_SEQ_FULL) != 1)
    fail ("seq_full counted with a stale entry free");
  /* (the packet continues the frame the first one started: the H.264
   * SSRC's new entry waits, the packet is held, not dropped) */
  if (!read_ssrc_state (0, 3, 0x01020304, &e) || e.dropped != 0
      || e.packets != 0 || e.octets != 0 || e.sw.state != SW_WAITING)
    fail ("the stale entry not claimed clean: dropped %u packets %u "
        "octets %u state %u", e.dropped, e.packets, e.octets, e.sw.state);
  if (read_counters (0).held != 1 || n_frames != 1)
    fail ("the packet not held (held %llu, %d copies)",
        (unsigned long long) read_counters (0).held, n_frames);
  end_case ();
}

/* Slots that share a next hop (same MACs, same source address) differ
 * only in the destination port: the program skips the MAC and address
 * stores between them, and every copy must still be right. */
static void
case_same_next_hop (void)
{
  struct spec s = {.payload = 120 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);
  struct relay_sub first = lo_slot (0, 0);
  __u32 i;

  begin_case ("slots sharing a next hop (MAC and address stores skipped)");
  for (i = 0; i < 6; i++) {
    struct relay_sub sub = first;

    /* the middle two change the next hop, then it comes back */
    if (i == 2 || i == 3)
      sub = lo_slot (i, 0);
    sub.dport = htons (21000 + i);
    set_slot (i, &sub);
  }
  set_n_slots (6);
  run (pkt, len);
  check_stats (1, 0, 0, 0);
  check_sub_stats (120);
  check_frames (pkt, len);
  end_case ();
}

/* config.consume (pass-original=false): the packet is used up. With only
 * kernel slots the last copy is the packet itself (TC_ACT_REDIRECT to the
 * last slot's interface, with that slot's headers); with a USERSPACE slot
 * the event needs the original bytes: every kernel slot gets a clone, the
 * event carries the packet as it came, and the verdict is TC_ACT_SHOT. */
static void
case_consume (void)
{
  struct spec s = {.payload = 300 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);
  static struct frame out;
  int fd, i, v;

  begin_case ("consume: the last kernel copy is the packet (redirect)");
  config.consume = 1;
  for (i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, i == 0);

    set_slot (i, &sub);
  }
  set_n_slots (3);
  fd = udp_socket (20000);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_REDIRECT)
    fail ("verdict %d, want %d (TC_ACT_REDIRECT)", v, TC_ACT_REDIRECT);
  if (n_frames != 2)
    fail ("%d clones on lo, want 2 (slots 0 and 1)", n_frames);
  else {
    check_frame (&frames[0], &slots[0], pkt, len);
    check_frame (&frames[1], &slots[1], pkt, len);
  }
  check_frame (&out, &slots[2], pkt, len);
  check_sub_stats (300);
  if (read_stat (RELAY_STAT_CONSUMED) != 1)
    fail ("consumed = %llu, want 1",
        (unsigned long long) read_stat (RELAY_STAT_CONSUMED));
  if (n_evs)
    fail ("%d events, want none", n_evs);
  if (fd >= 0) {
    check_udp_rx (fd, 20000, pkt + 42, 300);
    close (fd);
  }
  end_case ();

  begin_case ("consume: one kernel slot, no clone at all");
  config.consume = 1;
  {
    struct relay_sub sub = lo_slot (0, 0);

    set_slot (0, &sub);
  }
  set_n_slots (1);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_REDIRECT)
    fail ("verdict %d, want %d (TC_ACT_REDIRECT)", v, TC_ACT_REDIRECT);
  if (n_frames != 0)
    fail ("%d clones on lo, want 0", n_frames);
  check_frame (&out, &slots[0], pkt, len);
  check_sub_stats (300);
  end_case ();

  begin_case ("consume with a USERSPACE slot: clones, event, TC_ACT_SHOT");
  config.consume = 1;
  for (i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    if (i == 1)
      sub.state = RELAY_SUB_USERSPACE;
    set_slot (i, &sub);
  }
  set_n_slots (3);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_SHOT)
    fail ("verdict %d, want %d (TC_ACT_SHOT)", v, TC_ACT_SHOT);
  if (out.len != len || memcmp (out.data, pkt, len))
    fail ("the packet left the program changed");
  check_stats (1, 0, 1, 0);
  check_sub_stats (300);
  check_frames (pkt, len);
  check_user_event (pkt, len);
  if (read_stat (RELAY_STAT_CONSUMED) != 1)
    fail ("consumed not counted");
  end_case ();

  begin_case ("consume, no subscribers: TC_ACT_SHOT");
  config.consume = 1;
  set_n_slots (0);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_SHOT)
    fail ("verdict %d, want %d (TC_ACT_SHOT)", v, TC_ACT_SHOT);
  check_stats (1, 0, 0, 0);
  if (n_frames || n_evs)
    fail ("%d copies, %d events, want none", n_frames, n_evs);
  end_case ();

  begin_case ("consume, all slots dropped by priority: TC_ACT_SHOT");
  {
    /* H.264, NRI 0: priority 0; limit 1 drops it */
    __u8 rtp[20] = { 0x80, 96, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 9, 0x01 };
    struct spec r = {.payload = sizeof (rtp),.data = rtp };
    struct relay_sub sub = lo_slot (0, 0);

    len = build (pkt, &r);
    set_prio_config (0, 1);
    config.consume = 1;
    write_config ();
    sub.limit = 1;
    sub.seq_flag = 1;
    set_slot (0, &sub);
    set_n_slots (1);
    prime_key_frame (9, 0);     /* the slot runs: not held, dropped */
    v = run_verdict (pkt, len, &out);
    if (v != TC_ACT_SHOT)
      fail ("verdict %d, want %d (TC_ACT_SHOT)", v, TC_ACT_SHOT);
    if (n_frames != 0 || n_evs != 0)
      fail ("%d copies, %d events, want none", n_frames, n_evs);
    if (read_counters (0).prio_dropped != 1)
      fail ("prio_dropped not counted");
  }
  end_case ();
}

/* config.local_sport (ebpfrelay-local: the element's own buffers on lo):
 * a packet from another source port is not the program's (passed, not
 * copied); the element's own are consumed whatever config.consume says;
 * one longer than config.local_mtu goes to userspace for every slot. */
static void
case_local (void)
{
  struct spec s = {.payload = 300 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);
  static struct frame out;
  int i, v;

  begin_case ("local: another source port is not ours");
  config.local_sport = htons (ORIG_SPORT + 1);
  for (i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    set_slot (i, &sub);
  }
  set_n_slots (3);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_UNSPEC)
    fail ("verdict %d, want %d (TC_ACT_UNSPEC)", v, TC_ACT_UNSPEC);
  if (n_frames || n_evs || read_stat (RELAY_STAT_LOCAL))
    fail ("%d copies, %d events, local %llu: want none", n_frames, n_evs,
        (unsigned long long) read_stat (RELAY_STAT_LOCAL));
  end_case ();

  begin_case ("local: our own buffer is copied and consumed");
  config.local_sport = htons (ORIG_SPORT);
  for (i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    set_slot (i, &sub);
  }
  set_n_slots (3);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_REDIRECT)
    fail ("verdict %d, want %d (TC_ACT_REDIRECT)", v, TC_ACT_REDIRECT);
  if (n_frames != 2)
    fail ("%d clones on lo, want 2", n_frames);
  else {
    check_frame (&frames[0], &slots[0], pkt, len);
    check_frame (&frames[1], &slots[1], pkt, len);
  }
  check_frame (&out, &slots[2], pkt, len);
  if (read_stat (RELAY_STAT_LOCAL) != 1 || read_stat (RELAY_STAT_LOCAL_MTU))
    fail ("local %llu, local-mtu %llu: want 1, 0",
        (unsigned long long) read_stat (RELAY_STAT_LOCAL),
        (unsigned long long) read_stat (RELAY_STAT_LOCAL_MTU));
  end_case ();

  begin_case ("local: longer than local_mtu, userspace sends every copy");
  config.local_sport = htons (ORIG_SPORT);
  config.local_mtu = 300;       /* the datagram is 328 bytes */
  for (i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    set_slot (i, &sub);
  }
  set_n_slots (3);
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_SHOT)
    fail ("verdict %d, want %d (TC_ACT_SHOT)", v, TC_ACT_SHOT);
  if (n_frames != 0)
    fail ("%d clones, want none", n_frames);
  if (n_evs != 1 || evs[0].hdr.n_entries != 3)
    fail ("%d events (%u entries), want one naming the 3 slots", n_evs,
        n_evs ? evs[0].hdr.n_entries : 0);
  if (read_stat (RELAY_STAT_LOCAL_MTU) != 1)
    fail ("local-mtu not counted");
  end_case ();
}

/* Splits the IPv4/UDP datagram @pkt (no IP options) into two IP fragments
 * at UDP-segment offset @at (a multiple of 8), each with its own header and
 * checksum. */
static void
split_fragments (const __u8 * pkt, size_t len, size_t at, struct frame *f1,
    struct frame *f2)
{
  const size_t hl = ETH_HLEN + 20;
  __u8 *ip;

  memcpy (f1->data, pkt, hl + at);
  f1->len = hl + at;
  ip = f1->data + ETH_HLEN;
  tool_put16 (ip + 2, 20 + at);
  tool_put16 (ip + 6, 0x2000);  /* MF, offset 0 */
  tool_put16 (ip + 10, 0);
  tool_put16 (ip + 10, ~fold (sum_bytes (0, ip, 20)));

  memcpy (f2->data, pkt, hl);
  memcpy (f2->data + hl, pkt + hl + at, len - hl - at);
  f2->len = len - at;
  ip = f2->data + ETH_HLEN;
  tool_put16 (ip + 2, 20 + len - hl - at);
  tool_put16 (ip + 6, at / 8);  /* last: no MF */
  tool_put16 (ip + 10, 0);
  tool_put16 (ip + 10, ~fold (sum_bytes (0, ip, 20)));
}

/* The frame of @frames whose source MAC is @s's. */
static const struct frame *
frame_of (const struct relay_sub *s, int from, int to)
{
  int i;

  for (i = from; i < to && i < MAX_FRAMES; i++)
    if (!memcmp (frames[i].data + 6, s->smac, 6))
      return &frames[i];
  return NULL;
}

/* A datagram larger than the MTU comes as two IP fragments. The first
 * (UDP header, RTP header) is classified and rewritten like a packet; the
 * second goes to exactly the slots that got the first, with their MACs and
 * IP addresses. Reassembled, each copy is the datagram with the slot's
 * headers and a valid UDP checksum; the one delivered to a local socket
 * arrives whole. A slot whose limit drops the datagram gets neither, a
 * later fragment without its first goes nowhere, and the state is gone
 * after the last fragment. With @user_slot, slot 3 is USERSPACE: the first
 * fragment's event names it (RELAY_EVENT_FRAGMENT, with the payload bytes
 * present), and both fragments go up even with consume, for the socket to
 * get the datagram that userspace then sends. */
static void
case_fragments (int consume, int user_slot)
{
  /* RTP, H.264 NAL NRI 0 (priority 0) */
  static __u8 data[1000];
  struct spec sp = {.payload = sizeof (data),.data = data };
  static __u8 pkt[MAX_PKT];
  static struct frame f1, f2, out;
  size_t len, at = 600, plen = sizeof (data);
  int i, fd, v1, v2;
  struct relay_frag_key fkey;
  struct relay_frag fval;

  memset (data, 0x5a, sizeof (data));
  data[0] = 0x80;
  data[1] = 96;
  data[2] = 0;
  data[3] = 7;                  /* seq 7 */
  data[12] = 0x01;              /* NAL type 1, NRI 0 */
  len = build (pkt, &sp);
  split_fragments (pkt, len, at, &f1, &f2);

  begin_case (user_slot ? (consume ?
          "fragmented datagram, consume, a USERSPACE slot: passed up" :
          "fragmented datagram, a USERSPACE slot: event") :
      consume ? "fragmented datagram, consume" :
      "fragmented datagram: both fragments to the same slots");
  set_prio_config (0, 1);
  config.consume = consume;
  write_config ();
  for (i = 0; i < 5; i++) {
    struct relay_sub sub = lo_slot (i, i == 0);

    if (i == 3 && user_slot)
      sub.state = RELAY_SUB_USERSPACE;
    else if (i == 3)
      sub.state = RELAY_SUB_EMPTY;
    if (i == 4)
      sub.limit = 1;            /* drops priority 0 */
    set_slot (i, &sub);
  }
  set_n_slots (5);
  prime_key_frame (0x5a5a5a5a, 0);      /* the slots run: not held */
  fd = consume ? -1 : udp_socket (20000);
  v1 = run_verdict (f1.data, f1.len, &out);
  if (out.len != f1.len || (!consume && memcmp (out.data, f1.data, f1.len)))
    fail ("first fragment left the program changed");
  v2 = run_verdict (f2.data, f2.len, &out);
  /* with a USERSPACE slot, consume does not apply to this datagram */
  if (user_slot)
    consume = 0;
  if (!consume && (out.len != f2.len || memcmp (out.data, f2.data, f2.len)))
    fail ("second fragment left the program changed");
  if (consume && (v1 != TC_ACT_REDIRECT || v2 != TC_ACT_REDIRECT))
    fail ("verdicts %d, %d, want TC_ACT_REDIRECT", v1, v2);
  if (!consume && (v1 != TC_ACT_UNSPEC || v2 != TC_ACT_UNSPEC))
    fail ("verdicts %d, %d, want TC_ACT_UNSPEC", v1, v2);

  /* slots 0-2 got both fragments (with consume, the last copy of each is
   * the packet the program returned, not a frame on lo) */
  if (n_frames != (consume ? 4 : 6))
    fail ("%d fragments on lo, want %d", n_frames, consume ? 4 : 6);
  for (i = 0; i < 3 && !case_failed; i++) {
    const struct frame *a, *b;
    __u8 whole[MAX_PKT];
    const __u8 *ip;

    if (consume && i == 2) {
      /* the returned packet is slot 2's second fragment */
      if (memcmp (out.data + 6, slots[2].smac, 6))
        fail ("the returned packet is not slot 2's copy");
      continue;
    }
    a = frame_of (&slots[i], 0, n_frames);
    b = a ? frame_of (&slots[i], (int) (a - frames) + 1, n_frames) : NULL;
    if (!a || !b) {
      fail ("slot %d: %s fragment missing", i, a ? "second" : "first");
      break;
    }
    /* reassemble: copy's headers from the first, data from both */
    memcpy (whole, a->data, a->len);
    memcpy (whole + a->len, b->data + ETH_HLEN + 20, b->len - ETH_HLEN - 20);
    ip = whole + ETH_HLEN;
    if (!ip_csum_ok (a->data + ETH_HLEN, 20)
        || !ip_csum_ok (b->data + ETH_HLEN, 20))
      fail ("slot %d: bad IP header checksum in a fragment", i);
    if (memcmp (b->data + ETH_HLEN + 12, ip + 12, 8))
      fail ("slot %d: the fragments' addresses differ", i);
    if (memcmp (b->data + ETH_HLEN + 4, pkt + ETH_HLEN + 4, 2))
      fail ("slot %d: IP identification changed", i);
    if (udp_sum (ip, ip + 20, 8 + plen) != 0xffff)
      fail ("slot %d: UDP checksum of the reassembled copy is wrong", i);
    if (memcmp (ip + 20 + 2, &slots[i].dport, 2))
      fail ("slot %d: UDP destination port not rewritten", i);
    if (memcmp (ip + 28, data, plen))
      fail ("slot %d: payload differs", i);
  }
  if (read_stat (RELAY_STAT_FRAGMENTED) != 1)
    fail ("fragmented = %llu, want 1",
        (unsigned long long) read_stat (RELAY_STAT_FRAGMENTED));
  if (read_stat (RELAY_STAT_FRAG_USER) != (__u64) user_slot)
    fail ("frag_user = %llu, want %d",
        (unsigned long long) read_stat (RELAY_STAT_FRAG_USER), user_slot);
  if (n_evs != user_slot) {
    fail ("%d events, want %d", n_evs, user_slot);
  } else if (user_slot) {
    const struct ev_rec *e = &evs[0];

    if (e->hdr.flags != (RELAY_EVENT_FRAGMENT | RELAY_EVENT_SEQ))
      fail ("event flags %#x", e->hdr.flags);
    if (e->hdr.n_entries != 1 || e->entries[0].slot != 3
        || e->entries[0].seq != 7)
      fail ("event entries: %u, slot %u seq %u", e->hdr.n_entries,
          e->entries[0].slot, e->entries[0].seq);
    if (e->hdr.payload_len != plen || e->hdr.frag_avail != at - 8)
      fail ("event payload_len %u frag_avail %u, want %zu, %zu",
          e->hdr.payload_len, e->hdr.frag_avail, plen, at - 8);
    if (e->pkt_len < f1.len || memcmp (e->pkt, f1.data, f1.len))
      fail ("the event does not carry the first fragment as it came");
  }
  for (i = 0; i < 5; i++) {
    struct relay_counters c = read_counters (i);
    __u64 want = i < 3;

    if (c.packets != want || c.bytes != want * plen)
      fail ("slot %d: %llu packets %llu bytes, want %llu datagram", i,
          (unsigned long long) c.packets, (unsigned long long) c.bytes,
          (unsigned long long) want);
  }
  if (read_counters (4).prio_dropped != 1)
    fail ("slot 4: the datagram not counted as dropped");
  memset (&fkey, 0, sizeof (fkey));
  memcpy (&fkey.saddr, pkt + ETH_HLEN + 12, 4);
  memcpy (&fkey.daddr, pkt + ETH_HLEN + 16, 4);
  memcpy (&fkey.id, pkt + ETH_HLEN + 4, 2);
  if (bpf_map_lookup_elem (bpf_map__fd (skel->maps.frags), &fkey, &fval) == 0)
    fail ("the datagram's state is left after its last fragment");
  if (fd >= 0) {
    /* slot 0's copy went up lo's stack: reassembled there */
    check_udp_rx (fd, 20000, data, plen);
    close (fd);
  }

  /* a later fragment without a first one: ours or not, nothing says */
  n_frames = 0;
  v2 = run_verdict (f2.data, f2.len, &out);
  if (v2 != TC_ACT_UNSPEC || n_frames)
    fail ("lone later fragment: verdict %d, %d copies", v2, n_frames);
  end_case ();
}

/* ---- the key frame gate, per-SSRC counts, RTCP-mux --------------------- */

#define V1 0x11110001           /* H.264 (PT 96) */
#define V2 0x22220002           /* VP8 (PT 97) */
#define AU 0x33330003           /* other (PT 0): audio */

/* An RTP packet of @n bytes into @p (payload bytes after the 12-byte
 * header: @first, then a pattern). */
static size_t
rtp_pkt (__u8 * p, __u8 pt, __u16 seq, __u32 ts, __u32 ssrc, __u8 first,
    int n)
{
  int i;

  for (i = 12; i < n; i++)
    p[i] = i * 5 + seq;
  tool_rtp_header (p, 0x80, pt, seq, ts, ssrc);
  p[12] = first;
  return n;
}

/* What slot @i got of the last run: its RTP sequence number (a kernel copy
 * on lo, or an entry of the event), -1 when nothing, -2 when more than
 * one. */
static int
got_seq (__u32 i)
{
  int j, seq = -1;

  if (slots[i].state == RELAY_SUB_KERNEL) {
    for (j = 0; j < n_frames && j < MAX_FRAMES; j++)
      if (((frames[j].data[36] << 8) | frames[j].data[37]) ==
          ntohs (slots[i].dport))
        seq = seq == -1 ? (frames[j].data[44] << 8 | frames[j].data[45]) : -2;
  } else {
    for (j = 0; n_evs && j < evs[0].hdr.n_entries; j++)
      if (evs[0].entries[j].slot == i)
        seq = seq == -1 ? evs[0].entries[j].seq : -2;
  }
  return seq;
}

#define N_GATE 4
/* Runs the @n-byte RTP payload @rtp; every slot [0, N_GATE) must get
 * exactly want[slot] (-1: nothing, else that sequence number). */
static void
gate_step (const char *what, const __u8 * rtp, size_t n,
    const int want[N_GATE])
{
  struct spec sp = {.payload = n,.data = rtp };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &sp);
  __u32 i;

  n_frames = 0;
  n_evs = 0;
  run (pkt, len);
  for (i = 0; i < N_GATE; i++) {
    int got = got_seq (i);

    if (got != want[i])
      fail ("%s: slot %u got seq %d, want %d (-1: nothing)", what, i, got,
          want[i]);
  }
  for (i = 0; i < (__u32) n_frames && i < MAX_FRAMES; i++) {
    __u32 s = ((frames[i].data[36] << 8) | frames[i].data[37]) - 20000;

    if (s < N_GATE)
      check_frame_seq (&frames[i], &slots[s], pkt, len, got_seq (s));
  }
}

static void
check_ssrc (__u32 slot, __u32 ssrc, int present, __u32 packets,
    __u32 octets, __u32 dropped, __u8 state)
{
  struct relay_ssrc_state e;
  int found = read_ssrc_state (slot, slots[slot].gen, ssrc, &e);

  if (found != present)
    fail ("slot %u, SSRC %08x: state %s, want %s", slot, ssrc,
        found ? "present" : "absent", present ? "present" : "absent");
  else if (found && (e.packets != packets || e.octets != octets
          || e.dropped != dropped || e.sw.state != state))
    fail ("slot %u, SSRC %08x: %u packets %u octets %u dropped state %u, "
        "want %u, %u, %u, %u", slot, ssrc, e.packets, e.octets, e.dropped,
        e.sw.state, packets, octets, dropped, state);
}

static void
check_held (__u32 slot, __u64 held, __u64 dropped)
{
  struct relay_counters c = read_counters (slot);

  if (c.held != held || c.prio_dropped != dropped)
    fail ("slot %u: held %llu, prio_dropped %llu; want %llu, %llu", slot,
        (unsigned long long) c.held, (unsigned long long) c.prio_dropped,
        (unsigned long long) held, (unsigned long long) dropped);
}

/* Slots 0 (KERNEL, limit 0) present from the start; slots 1 (KERNEL,
 * limit 6), 2 (USERSPACE, limit 0) and 3 (USERSPACE, limit 6) join
 * mid-stream, during a key frame of V1. */
static void
case_gate (void)
{
  __u8 p[MAX_PKT];
  __u32 i;
  size_t n;

  begin_case ("late joiners wait for a key frame start; audio at once");
  set_prio_config (0, 1);
  {
    struct relay_sub s = lo_slot (0, 0);

    s.gen = 1;
    set_slot (0, &s);
  }
  set_n_slots (N_GATE);

  /* V1's key frame starts (ts 100), only slot 0 there */
  n = rtp_pkt (p, 96, 1000, 100, V1, 0x7c, 60);  /* FU-A, NRI 3 */
  gate_step ("V1 key frame start, before the joiners", p, n,
      (int[N_GATE]) { 1000, -1, -1, -1 });
  n = rtp_pkt (p, 0, 499, 8000, AU, 0xff, 172);
  gate_step ("audio, before the joiners", p, n,
      (int[N_GATE]) { 499, -1, -1, -1 });
  for (i = 1; i < N_GATE; i++) {
    struct relay_sub s = lo_slot (i, 0);

    s.gen = 5;
    s.limit = i % 2 ? 6 : 0;
    s.seq_flag = s.limit > 0;
    if (i >= 2)
      s.state = RELAY_SUB_USERSPACE;
    set_slot (i, &s);
  }
  /* the key frame goes on (same timestamp): no start for the joiners */
  n = rtp_pkt (p, 96, 1001, 100, V1, 0x7c, 70);
  gate_step ("V1 key frame continued", p, n,
      (int[N_GATE]) { 1001, -1, -1, -1 });
  /* audio starts at once, mid-"frame" (same timestamp as before: no frame
   * start) */
  n = rtp_pkt (p, 0, 500, 8000, AU, 0xff, 172);
  gate_step ("audio, joiners' first packet", p, n,
      (int[N_GATE]) { 500, 500, 500, 500 });
  n = rtp_pkt (p, 0, 501, 8000, AU, 0xff, 172);
  gate_step ("audio, same timestamp", p, n,
      (int[N_GATE]) { 501, 501, 501, 501 });
  /* a new V1 frame, priority 6: a frame start, not a key frame start */
  n = rtp_pkt (p, 96, 1002, 200, V1, 0x41, 80);
  gate_step ("V1 P frame start (NRI 2)", p, n,
      (int[N_GATE]) { 1002, -1, -1, -1 });
  /* priority 0 dropped for slot 0? no: limit 0 gets all */
  n = rtp_pkt (p, 96, 1003, 300, V1, 0x01, 80);
  gate_step ("V1 B frame (NRI 0)", p, n,
      (int[N_GATE]) { 1003, -1, -1, -1 });
  /* a second video SSRC (VP8) in the same slots: its own gate. Key frame
   * start: S=1, PID 0, P=0. */
  n = rtp_pkt (p, 97, 40, 9000, V2, 0x10, 90);
  p[13] = 0x00;
  gate_step ("V2 key frame start (VP8)", p, n,
      (int[N_GATE]) { 40, 40, 40, 40 });
  /* V1 still waits; a key frame start with NRI 3, new timestamp: starts,
   * the first packet keeps its number (nothing was dropped before) */
  n = rtp_pkt (p, 96, 1004, 400, V1, 0x65, 100);
  gate_step ("V1 key frame start", p, n,
      (int[N_GATE]) { 1004, 1004, 1004, 1004 });
  /* NRI 0: dropped for limit 6 */
  n = rtp_pkt (p, 96, 1005, 500, V1, 0x01, 100);
  gate_step ("V1 NRI 0 after the start", p, n,
      (int[N_GATE]) { 1005, -1, 1005, -1 });
  n = rtp_pkt (p, 96, 1006, 600, V1, 0x41, 100);
  gate_step ("V1 NRI 2: contiguous after the drop", p, n,
      (int[N_GATE]) { 1006, 1005, 1006, 1005 });
  /* V2: a non-reference frame, dropped for limit 6 (VP8 N bit) */
  n = rtp_pkt (p, 97, 41, 9100, V2, 0x30, 90);
  p[13] = 0x01;
  gate_step ("V2 non-reference", p, n, (int[N_GATE]) { 41, -1, 41, -1 });
  n = rtp_pkt (p, 97, 42, 9200, V2, 0x10, 90);
  p[13] = 0x01;
  gate_step ("V2 interframe: contiguous", p, n,
      (int[N_GATE]) { 42, 41, 42, 41 });

  /* slot 0: V1 7 packets (payload 48+58+68+68+88+88+88 octets), no drop;
   * joiners: V1 3 (88 each) or 2 sent after 4 held; audio 2 x 160 */
  check_ssrc (0, V1, 1, 7, 48 + 58 + 68 + 68 + 88 + 88 + 88, 0, SW_RUNNING);
  check_ssrc (1, V1, 1, 2, 88 + 88, 1, SW_RUNNING);
  check_ssrc (2, V1, 1, 3, 3 * 88, 0, SW_RUNNING);
  check_ssrc (3, V1, 1, 2, 88 + 88, 1, SW_RUNNING);
  check_ssrc (0, AU, 1, 3, 480, 0, SW_RUNNING);
  check_ssrc (3, AU, 1, 2, 320, 0, SW_RUNNING);
  check_ssrc (0, V2, 1, 3, 3 * 78, 0, SW_RUNNING);
  check_ssrc (1, V2, 1, 2, 2 * 78, 1, SW_RUNNING);
  check_ssrc (2, V2, 1, 3, 3 * 78, 0, SW_RUNNING);
  check_held (0, 0, 0);
  check_held (1, 3, 2);
  check_held (2, 3, 0);
  check_held (3, 3, 2);
  if (read_stat (RELAY_STAT_SEQ_FULL))
    fail ("seq_full counted");
  end_case ();

  begin_case ("a joiner waits through frames until a key frame; slot reuse "
      "waits again");
  set_prio_config (0, 1);
  {
    struct relay_sub s = lo_slot (0, 0);

    s.gen = 9;
    set_slot (0, &s);
    set_slot (1, &s);           /* (same port; slot 1 empty below) */
    s.state = RELAY_SUB_EMPTY;
    set_slot (1, &s);
  }
  set_n_slots (2);
  /* first packet seen of the SSRC, priority 6: a frame start, no key */
  n = rtp_pkt (p, 96, 7, 10, V1, 0x41, 40);
  gate_step ("first packet, NRI 2", p, n,
      (int[N_GATE]) { -1, -1, -1, -1 });
  check_ssrc (0, V1, 1, 0, 0, 0, SW_WAITING);
  n = rtp_pkt (p, 96, 8, 10, V1, 0x65, 40);
  gate_step ("NRI 3 in the same frame", p, n,
      (int[N_GATE]) { -1, -1, -1, -1 });
  n = rtp_pkt (p, 96, 9, 20, V1, 0x65, 40);
  gate_step ("key frame start", p, n, (int[N_GATE]) { 9, -1, -1, -1 });
  n = rtp_pkt (p, 96, 10, 20, V1, 0x01, 40);
  gate_step ("key frame continued, NRI 0", p, n,
      (int[N_GATE]) { 10, -1, -1, -1 });
  check_ssrc (0, V1, 1, 2, 56, 0, SW_RUNNING);
  check_held (0, 2, 0);
  /* slot 1 joins; x264's access units: delimiter (NRI 0), SPS (NRI 3),
   * ...: a key frame starts at the SPS, behind the discardable delimiter;
   * a P frame's delimiter then NRI 2 then NRI 3: no start */
  {
    struct relay_sub s = slots[0];

    s.dport = htons (20001);
    s.gen = 4;
    set_slot (1, &s);
  }
  n = rtp_pkt (p, 96, 13, 50, V1, 0x09, 40);
  gate_step ("P frame: delimiter", p, n, (int[N_GATE]) { 13, -1, -1, -1 });
  n = rtp_pkt (p, 96, 14, 50, V1, 0x41, 40);
  gate_step ("P frame: NRI 2", p, n, (int[N_GATE]) { 14, -1, -1, -1 });
  n = rtp_pkt (p, 96, 15, 50, V1, 0x65, 40);
  gate_step ("P frame: NRI 3 after NRI 2", p, n,
      (int[N_GATE]) { 15, -1, -1, -1 });
  n = rtp_pkt (p, 96, 16, 60, V1, 0x09, 40);
  gate_step ("IDR: delimiter", p, n, (int[N_GATE]) { 16, -1, -1, -1 });
  n = rtp_pkt (p, 96, 17, 60, V1, 0x06, 40);
  gate_step ("IDR: SEI (NRI 0)", p, n, (int[N_GATE]) { 17, -1, -1, -1 });
  n = rtp_pkt (p, 96, 18, 60, V1, 0x67, 40);
  gate_step ("IDR: SPS", p, n, (int[N_GATE]) { 18, 18, -1, -1 });
  n = rtp_pkt (p, 96, 19, 60, V1, 0x65, 40);
  gate_step ("IDR: slice", p, n, (int[N_GATE]) { 19, 19, -1, -1 });
  check_ssrc (1, V1, 1, 2, 56, 0, SW_RUNNING);
  check_held (1, 5, 0);
  /* reassigned (new gen): waits again, counts from zero */
  {
    struct relay_sub s = slots[0];

    s.state = RELAY_SUB_EMPTY;
    set_slot (0, &s);
    s.gen++;
    s.state = RELAY_SUB_KERNEL;
    set_slot (0, &s);
  }
  n = rtp_pkt (p, 96, 11, 30, V1, 0x41, 40);
  gate_step ("reused slot, NRI 2 frame", p, n,
      (int[N_GATE]) { -1, 11, -1, -1 });
  check_ssrc (0, V1, 1, 0, 0, 0, SW_WAITING);
  n = rtp_pkt (p, 96, 12, 40, V1, 0x65, 40);
  gate_step ("reused slot, key frame", p, n,
      (int[N_GATE]) { 12, 12, -1, -1 });
  check_ssrc (0, V1, 1, 1, 28, 0, SW_RUNNING);
  end_case ();
}

/* Payload octets (RFC 3550 6.4.1) of packets with CSRCs, an extension
 * and padding, for a kernel and a userspace slot; with rewrite-seq off
 * too (the counts do not depend on it). */
static void
case_octets (int rewrite)
{
  __u8 p[MAX_PKT];
  __u32 i;
  size_t n;

  begin_case (rewrite ? "SR counts: payload octets, kernel and userspace" :
      "SR counts with rewrite-seq off");
  set_prio_config (0, rewrite);
  for (i = 0; i < 2; i++) {
    struct relay_sub s = lo_slot (i, 0);

    s.gen = 2;
    if (i == 1)
      s.state = RELAY_SUB_USERSPACE;
    set_slot (i, &s);
  }
  set_n_slots (2);
  /* 2 CSRCs, a one-word extension, 100 payload bytes: 12 + 8 + 8 + 100 */
  n = 128;
  memset (p, 0x33, n);
  tool_rtp_header (p, 0x92, 0, 1, 160, AU);
  tool_put16 (p + 20, 0xbede);
  tool_put16 (p + 22, 1);
  gate_step ("CSRCs and an extension", p, n, (int[N_GATE]) { 1, 1, -1,
          -1 });
  /* padding (4 octets) beyond the first 128 bytes: 12 + 300 + 4 */
  n = 316;
  memset (p, 0x44, n);
  tool_rtp_header (p, 0xa0, 0, 2, 320, AU);
  p[n - 1] = 4;
  gate_step ("padding", p, n, (int[N_GATE]) { 2, 2, -1, -1 });
  /* padding within the first bytes, CSRC and extension too: 12 + 4 + 8
   * + 20 + 8 */
  n = 52;
  memset (p, 0x55, n);
  tool_rtp_header (p, 0xb1, 0, 3, 480, AU);
  tool_put16 (p + 16, 0xbede);
  tool_put16 (p + 18, 1);
  p[n - 1] = 8;
  gate_step ("padding, CSRC, extension", p, n, (int[N_GATE]) { 3, 3, -1,
          -1 });
  for (i = 0; i < 2; i++)
    check_ssrc (i, AU, 1, 3, 100 + 300 + 20, 0, SW_RUNNING);
  end_case ();
}

/* One RTP packet of upstream SSRC @ssrc (PT 0, audio: every slot gets it)
 * with sequence number @seq and timestamp @ts. */
static void
upstream_packet (__u32 ssrc, __u16 seq, __u32 ts)
{
  __u8 p[40], pkt[MAX_PKT];
  struct spec sp = {.payload = sizeof (p),.data = p };
  size_t len;

  memset (p, 0x66, sizeof (p));
  tool_rtp_header (p, 0x80, 0, seq, ts, ssrc);
  len = build (pkt, &sp);
  n_frames = 0;
  n_evs = 0;
  run (pkt, len);
}

static void
check_stream (const char *what, __u32 ssrc, __u32 received, __u16 base,
    __u16 max, __u32 cycles, __u32 bad)
{
  struct relay_stream st;

  if (!read_stream (ssrc, &st)) {
    fail ("%s: no statistics of SSRC %08x", what, ssrc);
    return;
  }
  if (st.received != received || st.base_seq != base || st.max_seq != max
      || st.cycles != cycles || st.bad != bad)
    fail ("%s: received %u base %u max %u cycles %u bad %u, want %u %u %u "
        "%u %u", what, st.received, st.base_seq, st.max_seq, st.cycles,
        st.bad, received, base, max, cycles, bad);
}

/* The upstream receiver statistics (relay.h, struct relay_stream) the
 * relay's RR needs when userspace sees no packet (consume): counted once
 * per packet whatever the number of slots, sequence wraps, duplicates, a
 * jump (not counted until confirmed by the next packet: a restart),
 * jitter only with a clock rate. */
static void
case_upstream_stats (void)
{
  static const __u16 seqs[] = { 65533, 65534, 65535, 0, 1 };
  struct relay_stream st;
  __u32 i, a = 0x77770001, b = 0x77770002;

  begin_case ("upstream statistics: once per packet, A.1 sequence, A.8 "
      "jitter");
  set_prio_config (0, 1);
  for (i = 0; i < 3; i++) {
    struct relay_sub s = lo_slot (i, 0);

    s.gen = 1;
    if (i == 2)
      s.state = RELAY_SUB_USERSPACE;
    set_slot (i, &s);
  }
  set_n_slots (3);
  config.clock_rate = 90000;
  write_config ();
  /* timestamps 10 s apart, arrivals microseconds apart: each packet's
   * transit differs from the previous one's by about 900000 units */
  for (i = 0; i < sizeof (seqs) / sizeof (seqs[0]); i++)
    upstream_packet (a, seqs[i], 1000 + i * 900000);
  if (n_frames != 2)
    fail ("%d copies of the last packet, want 2", n_frames);
  check_stream ("a wrap, 3 slots", a, 5, 65533, 1, 65536, 0);
  if (read_stream (a, &st) && (st.jitter >> 4) < 100000)
    fail ("jitter %u units, want about 900000 x (1 - (15/16)^4)",
        st.jitter >> 4);
  upstream_packet (a, 1, 1000 + 5 * 900000);
  check_stream ("a duplicate counts", a, 6, 65533, 1, 65536, 0);
  upstream_packet (a, 5000, 1000);
  check_stream ("a jump is not counted", a, 6, 65533, 1, 65536, 1);
  upstream_packet (a, 5001, 1000);
  check_stream ("a confirmed jump restarts", a, 1, 5001, 5001, 0, 1);
  upstream_packet (a, 4990, 1000);
  check_stream ("reordered within the misorder window", a, 2, 5001, 5001,
      0, 1);

  config.clock_rate = 0;
  write_config ();
  for (i = 0; i < 3; i++)
    upstream_packet (b, (__u16) (7 + i), i * 900000);
  check_stream ("no clock rate", b, 3, 7, 9, 0, 0);
  if (read_stream (b, &st) && st.jitter != 0)
    fail ("jitter %u without a clock rate", st.jitter);
  end_case ();
}

/* RTCP multiplexed on the port (RFC 5761): passed up, never forwarded,
 * counted; also with consume. Second bytes 191 and 224 are RTP (PT 63
 * and 96 with the marker bit): forwarded. */
static void
case_rtcp_mux (int consume)
{
  static const __u8 types[] = { 200, 201, 206, 192, 223 };
  __u8 p[64], pkt[MAX_PKT];
  static struct frame out;
  size_t i, len;
  int v;

  begin_case (consume ? "RTCP-mux with consume: passed up, not forwarded" :
      "RTCP-mux: passed up, not forwarded, counted");
  set_prio_config (0, 1);
  config.consume = consume;
  write_config ();
  for (i = 0; i < 2; i++) {
    struct relay_sub s = lo_slot (i, 0);

    if (i == 1)
      s.state = RELAY_SUB_USERSPACE;
    set_slot (i, &s);
  }
  set_n_slots (2);
  for (i = 0; i < sizeof (types); i++) {
    struct spec sp = {.payload = 32,.data = p };

    memset (p, 0, sizeof (p));
    p[0] = 0x81;
    p[1] = types[i];
    tool_put16 (p + 2, 7);
    tool_put32 (p + 4, 0x12345678);
    len = build (pkt, &sp);
    n_frames = 0;
    n_evs = 0;
    v = run_verdict (pkt, len, &out);
    if (v != TC_ACT_UNSPEC || out.len != len || memcmp (out.data, pkt, len))
      fail ("RTCP type %u: verdict %d or packet changed", types[i], v);
    if (n_frames || n_evs)
      fail ("RTCP type %u: %d copies, %d events", types[i], n_frames, n_evs);
  }
  if (read_stat (RELAY_STAT_RTCP) != sizeof (types))
    fail ("rtcp = %llu, want %zu",
        (unsigned long long) read_stat (RELAY_STAT_RTCP), sizeof (types));
  if (read_stat (RELAY_STAT_CONSUMED) || read_stat (RELAY_STAT_MATCHED) !=
      sizeof (types))
    fail ("consumed %llu, matched %llu",
        (unsigned long long) read_stat (RELAY_STAT_CONSUMED),
        (unsigned long long) read_stat (RELAY_STAT_MATCHED));
  {
    static const __u8 rtp_b1[] = { 191, 224 };

    for (i = 0; i < sizeof (rtp_b1); i++) {
      struct spec sp = {.payload = 32,.data = p };

      memset (p, 0, sizeof (p));
      p[0] = 0x80;
      p[1] = rtp_b1[i];
      p[12] = 0x65;
      len = build (pkt, &sp);
      n_frames = 0;
      n_evs = 0;
      run_verdict (pkt, len, &out);
      if (n_frames != 1 || n_evs != 1)
        fail ("second byte %u (RTP): %d copies, %d events, want 1, 1",
            rtp_b1[i], n_frames, n_evs);
    }
  }
  if (read_stat (RELAY_STAT_RTCP) != sizeof (types))
    fail ("RTP counted as RTCP");
  end_case ();
}


/* ---- for this host, from the publisher ---------------------------------- */

/* Rewrites @pkt's (ihl 5) source, destination and source port, with both
 * checksums valid again. */
static void
readdress (__u8 * pkt, size_t len, __u32 saddr, __u32 daddr, __u16 sport)
{
  __u8 *ip = pkt + ETH_HLEN, *udp = ip + 20;
  size_t udp_len = len - ETH_HLEN - 20;
  __u16 c;

  tool_put32 (ip + 12, saddr);
  tool_put32 (ip + 16, daddr);
  tool_put16 (ip + 10, 0);
  tool_put16 (ip + 10, ~fold (sum_bytes (0, ip, 20)));
  tool_put16 (udp, sport);
  tool_put16 (udp + 6, 0);
  c = ~udp_sum (ip, udp, udp_len);
  tool_put16 (udp + 6, c ? c : 0xffff);
}

/* Two KERNEL slots (the first delivered to 127.0.0.1:20000) and a
 * USERSPACE one. */
static int
three_slots (void)
{
  int i;

  for (i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, i == 0);

    if (i == 2)
      sub.state = RELAY_SUB_USERSPACE;
    set_slot (i, &sub);
  }
  set_n_slots (3);
  return udp_socket (20000);
}

/* Runs @pkt, which must come back untouched with @verdict and reach
 * nobody (no copy, no event, no per-slot count). */
static void
run_refused (const char *what, const __u8 * pkt, size_t len, int verdict)
{
  struct relay_counters before[3], c;
  int i;

  for (i = 0; i < 3; i++)
    before[i] = read_counters (i);
  n_frames = 0;
  n_evs = 0;
  run_expect (pkt, len, verdict);
  if (n_frames || n_evs)
    fail ("%s: %d copies, %d events, want none", what, n_frames, n_evs);
  for (i = 0; i < 3; i++) {
    c = read_counters (i);
    if (c.packets != before[i].packets
        || c.ssrc[0].packets != before[i].ssrc[0].packets)
      fail ("%s: slot %d counted it", what, i);
  }
}

/* Runs @pkt, which every slot of three_slots gets. */
static void
run_forwarded (const char *what, const __u8 * pkt, size_t len)
{
  n_frames = 0;
  n_evs = 0;
  run (pkt, len);
  if (n_frames != 2 || n_evs != 1)
    fail ("%s: %d copies, %d events, want 2, 1", what, n_frames, n_evs);
}

static void
case_for_us (void)
{
  struct spec s = {.payload = 100 };
  struct spec so = {.payload = 100,.ihl = 7 };
  __u8 pkt[MAX_PKT], bad[MAX_PKT];
  size_t len = build (pkt, &s), olen;
  int fd;

  begin_case ("transit (not a local address): untouched, copied to nobody");
  fd = three_slots ();
  memcpy (bad, pkt, len);
  readdress (bad, len, ORIG_SADDR, 0xc0000201 /* 192.0.2.1 */ , ORIG_SPORT);
  run_refused ("to 192.0.2.1", bad, len, TC_ACT_UNSPEC);
  if (read_stat (RELAY_STAT_NOT_LOCAL) != 1
      || read_stat (RELAY_STAT_MATCHED) != 1)
    fail ("not_local %llu, matched %llu, want 1, 1",
        (unsigned long long) read_stat (RELAY_STAT_NOT_LOCAL),
        (unsigned long long) read_stat (RELAY_STAT_MATCHED));
  /* the same to the relay's address: forwarded; and once that address is
   * local too, the first one */
  run_forwarded ("to the relay", pkt, len);
  check_udp_rx (fd, 20000, pkt + 42, 100);
  set_local_addr (0xc0000201, 1);
  run_forwarded ("to 192.0.2.1, now local", bad, len);
  check_udp_rx (fd, 20000, bad + 42, 100);
  set_local_addr (ORIG_DADDR, 0);
  run_refused ("to the relay, no longer local", pkt, len, TC_ACT_UNSPEC);
  if (read_stat (RELAY_STAT_NOT_LOCAL) != 2)
    fail ("not_local %llu, want 2",
        (unsigned long long) read_stat (RELAY_STAT_NOT_LOCAL));
  close (fd);
  end_case ();

  begin_case ("bad IPv4 header checksum: untouched, copied to nobody");
  fd = three_slots ();
  memcpy (bad, pkt, len);
  bad[ETH_HLEN + 10] ^= 0x01;
  run_refused ("bad checksum", bad, len, TC_ACT_UNSPEC);
  /* an ordinary header field changed, the checksum left as it was */
  memcpy (bad, pkt, len);
  bad[ETH_HLEN + 8] = 63;
  run_refused ("TTL changed, checksum not", bad, len, TC_ACT_UNSPEC);
  if (read_stat (RELAY_STAT_BAD_CSUM) != 2 ||
      read_stat (RELAY_STAT_NOT_LOCAL) != 0)
    fail ("bad_csum %llu, not_local %llu, want 2, 0",
        (unsigned long long) read_stat (RELAY_STAT_BAD_CSUM),
        (unsigned long long) read_stat (RELAY_STAT_NOT_LOCAL));
  run_forwarded ("valid", pkt, len);
  check_udp_rx (fd, 20000, pkt + 42, 100);
  close (fd);
  end_case ();

  begin_case ("IP options: the checksum covers them");
  fd = three_slots ();
  olen = build (pkt, &so);
  /* valid: every slot goes through userspace (one event, no copy) */
  n_frames = 0;
  n_evs = 0;
  run (pkt, olen);
  if (n_frames != 0 || n_evs != 1)
    fail ("options, valid: %d copies, %d events, want 0, 1", n_frames,
        n_evs);
  memcpy (bad, pkt, olen);
  bad[ETH_HLEN + 24] = 0x00;    /* an option byte: NOP -> end of list */
  run_refused ("options, bad checksum", bad, olen, TC_ACT_UNSPEC);
  if (read_stat (RELAY_STAT_BAD_CSUM) != 1)
    fail ("bad_csum %llu, want 1",
        (unsigned long long) read_stat (RELAY_STAT_BAD_CSUM));
  close (fd);
  end_case ();
}

static void
case_sources (void)
{
  struct spec s = {.payload = 100 };
  __u8 pkt[MAX_PKT], other[MAX_PKT], rtcp[MAX_PKT], p[32];
  size_t len = build (pkt, &s), rlen;
  struct spec rs = {.payload = sizeof (p),.data = p };
  struct relay_latch l;
  int fd;

  memset (p, 0, sizeof (p));
  p[0] = 0x80;
  p[1] = 200;                   /* an SR */
  rlen = build (rtcp, &rs);

  begin_case ("sources: only the listed senders publish");
  fd = three_slots ();
  config.src_flags = RELAY_SRC_LIST;
  write_config ();
  add_source (ORIG_SADDR, ORIG_SPORT);
  add_source (0x0a010009, 0);   /* 10.1.0.9, any port */
  run_forwarded ("listed host:port", pkt, len);
  memcpy (other, pkt, len);
  readdress (other, len, ORIG_SADDR, ORIG_DADDR, ORIG_SPORT + 1);
  run_refused ("listed host, other port", other, len, TC_ACT_SHOT);
  readdress (other, len, 0x0a010003, ORIG_DADDR, ORIG_SPORT);
  run_refused ("other host", other, len, TC_ACT_SHOT);
  readdress (other, len, 0x0a010009, ORIG_DADDR, 40000);
  run_forwarded ("listed host, any port", other, len);
  if (read_stat (RELAY_STAT_REJECTED_SOURCE) != 2)
    fail ("rejected_source %llu, want 2",
        (unsigned long long) read_stat (RELAY_STAT_REJECTED_SOURCE));
  /* RTCP of another sender goes up (userspace filters it), unforwarded */
  readdress (rtcp, rlen, 0x0a010003, ORIG_DADDR, ORIG_SPORT);
  run_refused ("RTCP of another sender", rtcp, rlen, TC_ACT_UNSPEC);
  if (read_stat (RELAY_STAT_RTCP) != 1
      || read_stat (RELAY_STAT_REJECTED_SOURCE) != 2)
    fail ("RTCP counted as rejected");
  check_udp_rx (fd, 20000, pkt + 42, 100);
  close (fd);
  end_case ();

  begin_case ("source latch: the first sender, another after the timeout");
  fd = three_slots ();
  config.src_flags = RELAY_SRC_LATCH;
  config.src_timeout_ms = 300;
  write_config ();
  memcpy (other, pkt, len);
  readdress (other, len, 0x0a010003, ORIG_DADDR, 7000);
  run_forwarded ("first sender", pkt, len);
  l = read_latch ();
  if (!latch_is4 (&l, ORIG_SADDR) || l.port != htons (ORIG_SPORT))
    fail ("latched %08x:%u, want the first sender", ntohl (l.addr[3]),
        ntohs (l.port));
  run_refused ("second sender", other, len, TC_ACT_SHOT);
  usleep (150 * 1000);
  run_forwarded ("first sender again", pkt, len);
  usleep (150 * 1000);
  /* 150 ms of silence only: still the first's */
  run_refused ("second sender, first silent 150 ms", other, len,
      TC_ACT_SHOT);
  usleep (400 * 1000);
  n_frames = 0;
  n_evs = 0;
  run (other, len);
  if (n_frames != 2 || n_evs != 1)
    fail ("second sender after 400 ms of silence: %d copies, %d events",
        n_frames, n_evs);
  l = read_latch ();
  if (!latch_is4 (&l, 0x0a010003) || l.port != htons (7000))
    fail ("latched %08x:%u, want the second sender", ntohl (l.addr[3]),
        ntohs (l.port));
  n_frames = 0;
  n_evs = 0;
  run_expect (pkt, len, TC_ACT_SHOT);
  if (n_frames || n_evs)
    fail ("first sender after the handover: forwarded");
  if (read_stat (RELAY_STAT_REJECTED_SOURCE) != 3
      || read_stat (RELAY_STAT_SOURCE_LATCHED) != 2)
    fail ("rejected_source %llu, source_latched %llu, want 3, 2",
        (unsigned long long) read_stat (RELAY_STAT_REJECTED_SOURCE),
        (unsigned long long) read_stat (RELAY_STAT_SOURCE_LATCHED));
  close (fd);
  end_case ();

  begin_case ("sources and latch: only a listed sender takes the latch");
  fd = three_slots ();
  config.src_flags = RELAY_SRC_LIST | RELAY_SRC_LATCH;
  config.src_timeout_ms = 0;    /* never handed over */
  write_config ();
  add_source (ORIG_SADDR, 0);
  readdress (other, len, 0x0a010003, ORIG_DADDR, 7000);
  run_refused ("unlisted first", other, len, TC_ACT_SHOT);
  l = read_latch ();
  if (l.addr[0] | l.addr[1] | l.addr[2] | l.addr[3])
    fail ("an unlisted sender took the latch");
  run_forwarded ("listed", pkt, len);
  readdress (other, len, ORIG_SADDR, ORIG_DADDR, ORIG_SPORT + 1);
  usleep (20 * 1000);
  run_refused ("listed host, other port, latched", other, len, TC_ACT_SHOT);
  close (fd);
  end_case ();
}

/* ---- qos-dscp and ttl (config's RELAY_IP_*) ------------------------------ */

#define GROUP_ADDR 0xef010203   /* 239.1.2.3 */

/* The TOS and TTL of every copy on lo: @tos, and @ttl to a unicast slot,
 * @ttl_mc to a group; each with a valid IP header checksum. */
static void
check_copies_ip (__u8 tos, __u8 ttl, __u8 ttl_mc)
{
  for (int i = 0; i < n_frames && i < MAX_FRAMES; i++) {
    const __u8 *ip = frames[i].data + ETH_HLEN;
    int group = ip[16] == 0xef;

    if (frames[i].len < ETH_HLEN + 28)
      continue;
    if (ip[1] != tos || ip[8] != (group ? ttl_mc : ttl))
      fail ("copy %d (to %s): TOS %#x TTL %u, want %#x %u", i,
          group ? "the group" : "unicast", ip[1], ip[8], tos,
          group ? ttl_mc : ttl);
    if (!ip_csum_ok (ip, 20))
      fail ("copy %d: bad IP header checksum", i);
  }
}

/* Slots 0-4, KERNEL on lo: 1 and 3 to GROUP_ADDR (the TTL changes back
 * and forth between the copies), 0 delivers to 127.0.0.1:20000. */
static int
ip_slots (void)
{
  for (int i = 0; i < 5; i++) {
    struct relay_sub sub = lo_slot (i, i == 0);

    if (i % 2)
      sub.daddr = htonl (GROUP_ADDR);
    set_slot (i, &sub);
  }
  set_n_slots (5);
  return udp_socket (20000);
}

static void
case_ip_fields (void)
{
  /* DSCP 46 (EF), ECN 01 (ECT(1)), TTL 200 */
  struct spec s = {.payload = 120,.tos = 0xb9,.ttl = 200 };
  struct relay_event_entry want = {.slot = 1 };
  __u8 pkt[MAX_PKT];
  size_t len = build (pkt, &s);
  static struct frame out;
  int fd, v;

  begin_case ("qos-dscp 10, ttl 9, ttl-mc 3: in the copies, ECN kept, "
      "IP checksum right");
  config.ip_flags = RELAY_IP_DSCP | RELAY_IP_TTL;
  config.dscp = 10;
  config.ttl = 9;
  config.ttl_mc = 3;
  fd = ip_slots ();
  run (pkt, len);
  check_stats (1, 0, 0, 0);
  check_sub_stats (120);
  check_frames (pkt, len);
  check_copies_ip (10 << 2 | 1, 9, 3);
  if (fd >= 0) {
    check_udp_rx (fd, 20000, pkt + 42, 120);
    close (fd);
  }
  end_case ();

  begin_case ("qos-dscp -1: the TOS as it came; ttl still written");
  config.ip_flags = RELAY_IP_TTL;
  config.dscp = 10;
  config.ttl = 64;
  config.ttl_mc = 1;
  fd = ip_slots ();
  run (pkt, len);
  check_stats (1, 0, 0, 0);
  check_frames (pkt, len);
  check_copies_ip (0xb9, 64, 1);
  if (fd >= 0)
    close (fd);
  end_case ();

  begin_case ("no RELAY_IP_*: TOS and TTL as they came");
  fd = ip_slots ();
  run (pkt, len);
  check_frames (pkt, len);
  check_copies_ip (0xb9, 200, 200);
  if (fd >= 0)
    close (fd);
  end_case ();

  begin_case ("ttl-mc 0: the copy to the group from userspace");
  config.ip_flags = RELAY_IP_DSCP | RELAY_IP_TTL;
  config.dscp = 0;
  config.ttl = 9;
  config.ttl_mc = 0;
  for (int i = 0; i < 3; i++) {
    struct relay_sub sub = lo_slot (i, 0);

    if (i == 1)
      sub.daddr = htonl (GROUP_ADDR);
    set_slot (i, &sub);
  }
  set_n_slots (3);
  run (pkt, len);
  check_stats (1, 0, 1, 0);
  if (n_frames != 2)
    fail ("%d copies on lo, want 2 (slots 0 and 2)", n_frames);
  else {
    check_frame (&frames[0], &slots[0], pkt, len);
    check_frame (&frames[1], &slots[2], pkt, len);
  }
  check_copies_ip (1, 9, 0);
  if (n_evs != 1)
    fail ("%d events, want 1 (slot 1)", n_evs);
  else
    check_event (&evs[0], 0, &want, 1, 42, len - 42, pkt, len);
  if (read_counters (1).packets)
    fail ("slot 1 counted a kernel copy");
  end_case ();

  begin_case ("qos-dscp with consume: the packet redirected carries it");
  config.ip_flags = RELAY_IP_DSCP | RELAY_IP_TTL;
  config.dscp = 63;
  config.ttl = 17;
  config.ttl_mc = 2;
  config.consume = 1;
  fd = ip_slots ();
  v = run_verdict (pkt, len, &out);
  if (v != TC_ACT_REDIRECT)
    fail ("verdict %d, want %d (TC_ACT_REDIRECT)", v, TC_ACT_REDIRECT);
  if (n_frames != 4)
    fail ("%d clones on lo, want 4", n_frames);
  check_copies_ip (63 << 2 | 1, 17, 2);
  check_frame (&out, &slots[4], pkt, len);
  if (out.data[ETH_HLEN + 1] != (63 << 2 | 1) || out.data[ETH_HLEN + 8] != 17)
    fail ("the packet redirected: TOS %#x TTL %u", out.data[ETH_HLEN + 1],
        out.data[ETH_HLEN + 8]);
  if (fd >= 0) {
    check_udp_rx (fd, 20000, pkt + 42, 120);
    close (fd);
  }
  end_case ();

  /* a first fragment and a later one: both get the fields */
  {
    struct spec d = {.payload = 200,.tos = 0x02,.ttl = 30 };
    static struct frame p1, p2;
    __u8 whole[MAX_PKT];
    size_t lw = build (whole, &d);

    split_fragments (whole, lw, 104, &p1, &p2);
    begin_case ("qos-dscp and ttl in both fragments of a datagram");
    config.ip_flags = RELAY_IP_DSCP | RELAY_IP_TTL;
    config.dscp = 26;
    config.ttl = 5;
    config.ttl_mc = 4;
    fd = ip_slots ();
    run (p1.data, p1.len);
    if (n_frames != 5)
      fail ("first fragment: %d copies, want 5", n_frames);
    check_copies_ip (26 << 2 | 2, 5, 4);
    n_frames = 0;
    run (p2.data, p2.len);
    if (n_frames != 5)
      fail ("later fragment: %d copies, want 5", n_frames);
    check_copies_ip (26 << 2 | 2, 5, 4);
    if (fd >= 0)
      close (fd);
    end_case ();
  }
}

int
main (void)
{
  size_t i;
  int err = harness_setup ("relay-bpf");

  if (err)
    return err;
  case_no_subscribers ();
  for (i = 0; i < sizeof (fwd_cases) / sizeof (fwd_cases[0]); i++)
    case_forward (&fwd_cases[i]);
  case_userspace_only ();
  case_many ("1000 slots, mixed states", 1000);
  case_many ("1000 slots, n_slots clamped to RELAY_MAX_SUBS", 0xffffffff);
  for (i = 0; i < sizeof (pass_cases) / sizeof (pass_cases[0]); i++)
    case_pass (&pass_cases[i]);
  case_stream ("limits 0-7 and sequence numbers", 0, 1);
  case_stream ("limits, no UDP checksum", 1, 1);
  case_stream ("limits, rewrite-seq off", 0, 0);
  case_stream_limit_change ();
  case_stream_toggles ();
  case_slot_reuse ();
  case_seq_state_full ();
  case_same_next_hop ();
  case_consume ();
  case_local ();
  case_fragments (0, 0);
  case_fragments (1, 0);
  case_fragments (0, 1);
  case_fragments (1, 1);
  case_gate ();
  case_octets (1);
  case_octets (0);
  case_rtcp_mux (0);
  case_rtcp_mux (1);
  case_upstream_stats ();
  case_for_us ();
  case_sources ();
  case_ip_fields ();

  printf ("relay-bpf: %d passed, %d failed, %d not run\n", n_passed, n_failed,
      n_not_run);
  return harness_teardown ();
}
