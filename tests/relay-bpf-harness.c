/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * relay-bpf-harness.c: what the BPF program tests (test-relay-bpf.c,
 * test-priority.c) share, built once (relay-bpf-harness.h says what).
 */
#include "relay-bpf-harness.h"

#include <sys/ioctl.h>
#include <linux/if_packet.h>

#include "ebpfrelay-bpf.h"

/* The relay's MAC is lo's, all zero: the packet must be PACKET_HOST for
 * lo to deliver the copies that keep this MAC (pkt_type is inherited). */
static const __u8 orig_dmac[6] = { 0 };
static const __u8 orig_smac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct relay_bpf *skel;
int prog_fd, sub_ssrcs_fd;
static int subs_fd, sub_stats_fd, config_fd, stats_fd, vp8_state_fd,
    frame_state_fd;
static int lo_ifindex;
static int psock = -1;
struct perf_buffer *pb;

int n_passed, n_failed, n_not_run;
static const char *case_name;
int case_failed;
/* BPF_PROG_TEST_RUN (6.x) refuses IPv4 frames shorter than an IP header
 * with EINVAL; such a case cannot run here. */
int may_refuse, refused;

/* The slots and the configuration as the current case set them. */
struct relay_sub slots[RELAY_MAX_SUBS];
__u32 n_slots;
struct relay_config config;

struct ev_rec evs[MAX_EVENTS];
int n_evs;
static __u64 n_lost;

struct frame *frames;
int n_frames;

void
fail (const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "FAIL [%s]: ", case_name);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  case_failed = 1;
}

/* ---- checksums ---------------------------------------------------------- */

__u32
sum_bytes (__u32 sum, const __u8 * p, size_t n)
{
  size_t i;

  for (i = 0; i + 1 < n; i += 2)
    sum += (p[i] << 8) | p[i + 1];
  if (n & 1)
    sum += p[n - 1] << 8;
  return sum;
}

__u16
fold (__u32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

/* Sum of the UDP pseudo header and segment (check field included). */
__u16
udp_sum (const __u8 * ip, const __u8 * udp, size_t udp_len)
{
  __u32 sum = sum_bytes (0, ip + 12, 8);

  sum += IPPROTO_UDP + udp_len;
  return fold (sum_bytes (sum, udp, udp_len));
}

__u16
udp6_sum (const __u8 * ip6, const __u8 * udp, size_t udp_len)
{
  __u32 sum = sum_bytes (0, ip6 + 8, 32);

  sum += IPPROTO_UDP + (udp_len >> 16) + (udp_len & 0xffff);
  return fold (sum_bytes (sum, udp, udp_len));
}

int
ip_csum_ok (const __u8 * ip, size_t ihl_len)
{
  return fold (sum_bytes (0, ip, ihl_len)) == 0xffff;
}

/* ---- packets ------------------------------------------------------------ */



static size_t
build_ipv4 (__u8 * p, const struct spec *s)
{
  int ihl = s->ihl ? s->ihl : 5;
  __u8 *ip = p + ETH_HLEN, *udp = ip + ihl * 4;
  size_t udp_len = 8 + s->payload, n = ETH_HLEN + ihl * 4 + udp_len;
  int i;

  memset (p, 0, n);
  memcpy (p, orig_dmac, 6);
  memcpy (p + 6, orig_smac, 6);
  tool_put16 (p + 12, ETH_P_IP);
  ip[0] = 0x40 | ihl;
  tool_put16 (ip + 2, n - ETH_HLEN);
  tool_put16 (ip + 4, 0x1234);
  tool_put16 (ip + 6, s->frag);
  ip[1] = s->tos;
  ip[8] = s->ttl ? s->ttl : 64;
  ip[9] = s->proto ? s->proto : IPPROTO_UDP;
  tool_put32 (ip + 12, ORIG_SADDR);
  tool_put32 (ip + 16, ORIG_DADDR);
  for (i = 20; i < ihl * 4; i++)
    ip[i] = 1;                  /* NOP options */
  tool_put16 (ip + 10, ~fold (sum_bytes (0, ip, ihl * 4)));

  tool_put16 (udp, ORIG_SPORT);
  tool_put16 (udp + 2, s->dport ? s->dport : PORT);
  tool_put16 (udp + 4, udp_len + s->udp_len_delta);
  for (i = 0; i < s->payload; i++)
    udp[8 + i] = s->data ? s->data[i] : i * 7 + 3;
  if (!s->no_udp_csum) {
    __u16 c = ~udp_sum (ip, udp, udp_len);
    tool_put16 (udp + 6, c ? c : 0xffff);
  }
  if (s->ihl_field)
    ip[0] = 0x40 | s->ihl_field;
  return n;
}

const __u8 orig_saddr6[16] = { 0xfd, [15] = 1 };
const __u8 orig_daddr6[16] = { 0xfd, [15] = 2 };

/* UDP/IPv6 with @s->ext6 destination options headers and, with
 * @s->frag6, a Fragment header (in that order), the UDP checksum over
 * the segment as built (a first fragment's is then not the datagram's:
 * no case delivers one). */
static size_t
build_ipv6 (__u8 * p, const struct spec *s)
{
  __u8 *ip6 = p + ETH_HLEN, *h = ip6 + 40, *nh = ip6 + 6, *udp;
  size_t udp_len = 8 + s->payload, ext = s->ext6 * 8 + (s->frag6 ? 8 : 0);
  size_t n = ETH_HLEN + 40 + ext + udp_len;
  int i;

  memset (p, 0, n);
  memcpy (p, orig_dmac, 6);
  memcpy (p + 6, orig_smac, 6);
  tool_put16 (p + 12, ETH_P_IPV6);
  ip6[0] = 0x60 | s->tos >> 4;
  ip6[1] = (s->tos & 0x0f) << 4 | 0x0a; /* some flow label: must stay */
  ip6[3] = 0x42;
  tool_put16 (ip6 + 4, ext + udp_len);
  ip6[7] = s->ttl ? s->ttl : 64;
  memcpy (ip6 + 8, orig_saddr6, 16);
  memcpy (ip6 + 24, s->daddr6 ? s->daddr6 : orig_daddr6, 16);
  for (i = 0; i < s->ext6; i++) {
    *nh = 60;                   /* destination options */
    nh = h;
    h[1] = 0;                   /* 8 bytes: a PadN option */
    h[2] = 1;
    h[3] = 4;
    h += 8;
  }
  if (s->frag6) {
    *nh = 44;
    nh = h;
    tool_put16 (h + 2, s->frag6);
    tool_put32 (h + 4, 0xabcd1234);
    h += 8;
  }
  *nh = s->proto ? s->proto : IPPROTO_UDP;
  udp = h;
  tool_put16 (udp, ORIG_SPORT);
  tool_put16 (udp + 2, s->dport ? s->dport : PORT);
  tool_put16 (udp + 4, udp_len + s->udp_len_delta);
  for (i = 0; i < s->payload; i++)
    udp[8 + i] = s->data ? s->data[i] : i * 7 + 3;
  if (!s->no_udp_csum) {
    __u16 c = ~udp6_sum (ip6, udp, udp_len);
    tool_put16 (udp + 6, c ? c : 0xffff);
  }
  return n;
}

size_t
build (__u8 * p, const struct spec *s)
{
  size_t n;

  switch (s->kind) {
    case K_IPV6:
      n = build_ipv6 (p, s);
      break;
    case K_VLAN:{
      struct spec v4 = *s;
      v4.kind = K_IPV4;
      n = build_ipv4 (p + 4, &v4);
      memmove (p, p + 4, 12);
      tool_put16 (p + 12, ETH_P_8021Q);
      tool_put16 (p + 14, 100);
      n += 4;
      break;
    }
    case K_ARP:{
      __u8 *a = p + ETH_HLEN;
      n = ETH_HLEN + 28;
      memset (p, 0, n);
      memset (p, 0xff, 6);
      memcpy (p + 6, orig_smac, 6);
      tool_put16 (p + 12, ETH_P_ARP);
      tool_put16 (a, 1);
      tool_put16 (a + 2, ETH_P_IP);
      a[4] = 6;
      a[5] = 4;
      tool_put16 (a + 6, 1);
      memcpy (a + 8, orig_smac, 6);
      tool_put32 (a + 14, ORIG_SADDR);
      tool_put32 (a + 24, ORIG_DADDR);
      break;
    }
    default:
      n = build_ipv4 (p, s);
  }
  if (s->len > 0 && (size_t) s->len < n)
    n = s->len;
  if (s->cut)
    n -= s->cut;
  return n;
}

/* ---- maps --------------------------------------------------------------- */

void
write_config (void)
{
  __u32 key = 0;

  if (bpf_map_update_elem (config_fd, &key, &config, BPF_ANY))
    fail ("config update: %s", strerror (errno));
}

void
set_n_slots (__u32 n)
{
  n_slots = n;
  config.n_slots = n;
  write_config ();
}

/* Payload type 96 is H.264, 97 VP8, the others "other". */
void
set_prio_config (__u8 fm_id, int rewrite_seq)
{
  memset (config.codec_by_pt, PRIO_CODEC_OTHER, PRIO_N_PT);
  config.codec_by_pt[96] = PRIO_CODEC_H264;
  config.codec_by_pt[97] = PRIO_CODEC_VP8;
  config.fm_id = fm_id;
  config.rewrite_seq = rewrite_seq;
  write_config ();
}

void
set_slot (__u32 i, const struct relay_sub *s)
{
  slots[i] = *s;
  if (bpf_map_update_elem (subs_fd, &i, s, BPF_ANY))
    fail ("subs update %u: %s", i, strerror (errno));
}

static void
clear_hash (int fd)
{
  __u8 key[64];

  while (bpf_map_get_next_key (fd, NULL, key) == 0)
    if (bpf_map_delete_elem (fd, key)) {
      fail ("hash map delete: %s", strerror (errno));
      return;
    }
}

static void
reset_maps (void)
{
  struct relay_sub empty = { 0 };
  __u32 i;
  int err;

  for (i = 0; i < RELAY_MAX_SUBS; i++) {
    set_slot (i, &empty);
    err = ebr_bpf_percpu_zero (sub_stats_fd, &i,
        sizeof (struct relay_counters));
    if (err)
      fail ("sub_stats reset: %s", strerror (-err));
  }
  for (i = 0; i < RELAY_STAT_MAX; i++) {
    err = ebr_bpf_percpu_zero (stats_fd, &i, sizeof (__u64));
    if (err)
      fail ("stats reset: %s", strerror (-err));
  }
  memset (&config, 0, sizeof (config));
  set_n_slots (0);
  {
    struct relay_sub_ssrcs zero;

    memset (&zero, 0, sizeof (zero));
    for (i = 0; i < RELAY_MAX_SUBS; i++)
      if (bpf_map_update_elem (sub_ssrcs_fd, &i, &zero, BPF_ANY))
        fail ("sub_ssrcs reset: %s", strerror (errno));
  }
  clear_hash (frame_state_fd);
  clear_hash (vp8_state_fd);
  /* the relay's own address: ORIG_DADDR; any sender, nothing latched */
  clear_hash (bpf_map__fd (skel->maps.local_addrs));
  clear_hash (bpf_map__fd (skel->maps.sources));
  clear_hash (bpf_map__fd (skel->maps.local_addrs6));
  set_local_addr (ORIG_DADDR, 1);
  set_local_addr6 (orig_daddr6, 1);
  reset_latch ();
}

void
set_local_addr (__u32 addr, int on)
{
  __u32 be = htonl (addr);
  __u8 one = 1;
  int fd = bpf_map__fd (skel->maps.local_addrs);

  if (on ? bpf_map_update_elem (fd, &be, &one, BPF_ANY) :
      bpf_map_delete_elem (fd, &be))
    fail ("local_addrs update: %s", strerror (errno));
}

void
set_local_addr6 (const __u8 addr[16], int on)
{
  struct relay_addr6 k;
  __u8 one = 1;
  int fd = bpf_map__fd (skel->maps.local_addrs6);

  memcpy (&k, addr, 16);
  if (on ? bpf_map_update_elem (fd, &k, &one, BPF_ANY) :
      bpf_map_delete_elem (fd, &k))
    fail ("local_addrs6 update: %s", strerror (errno));
}

/* An IPv4 sender in the kernel's key form: v4-mapped (relay.h) */
static void
mapped4 (__u32 addr, __u32 out[4])
{
  out[0] = out[1] = 0;
  out[2] = htonl (RELAY_V4MAPPED);
  out[3] = htonl (addr);
}

void
add_source (__u32 addr, __u16 port)
{
  struct relay_src_key k = {.port = htons (port) };
  __u8 one = 1;

  mapped4 (addr, k.addr);
  if (bpf_map_update_elem (bpf_map__fd (skel->maps.sources), &k, &one,
          BPF_ANY))
    fail ("sources update: %s", strerror (errno));
}

void
add_source6 (const __u8 addr[16], __u16 port)
{
  struct relay_src_key k = {.port = htons (port) };
  __u8 one = 1;

  memcpy (k.addr, addr, 16);
  if (bpf_map_update_elem (bpf_map__fd (skel->maps.sources), &k, &one,
          BPF_ANY))
    fail ("sources update: %s", strerror (errno));
}

int
latch_is4 (const struct relay_latch *l, __u32 addr)
{
  __u32 want[4];

  mapped4 (addr, want);
  return memcmp (l->addr, want, sizeof (want)) == 0;
}

int
latch_is6 (const struct relay_latch *l, const __u8 addr[16])
{
  return memcmp (l->addr, addr, 16) == 0;
}

void
reset_latch (void)
{
  struct relay_latch l;
  __u32 key = 0;

  memset (&l, 0, sizeof (l));
  if (bpf_map_update_elem (bpf_map__fd (skel->maps.latch), &key, &l,
          BPF_F_LOCK))
    fail ("latch reset: %s", strerror (errno));
}

struct relay_latch
read_latch (void)
{
  struct relay_latch l;
  __u32 key = 0;

  memset (&l, 0, sizeof (l));
  if (bpf_map_lookup_elem_flags (bpf_map__fd (skel->maps.latch), &key, &l,
          BPF_F_LOCK))
    fail ("latch lookup: %s", strerror (errno));
  return l;
}

struct relay_counters
read_counters (__u32 i)
{
  struct relay_counters sum;
  int err = ebr_bpf_percpu_sum (sub_stats_fd, &i, (__u64 *) & sum,
      sizeof (sum) / sizeof (__u64));

  if (err)
    fail ("sub_stats lookup %u: %s", i, strerror (-err));
  return sum;
}

__u64
read_stat (__u32 idx)
{
  __u64 sum;
  int err = ebr_bpf_percpu_sum (stats_fd, &idx, &sum, 1);

  if (err)
    fail ("stats lookup %u: %s", idx, strerror (-err));
  return sum;
}

int
read_ssrc_state (__u32 i, __u16 gen, __u32 ssrc, struct relay_ssrc_state *out)
{
  struct relay_sub_ssrcs t;
  int j;

  if (bpf_map_lookup_elem (sub_ssrcs_fd, &i, &t)) {
    fail ("sub_ssrcs lookup %u: %s", i, strerror (errno));
    return 0;
  }
  for (j = 0; j < RELAY_SSRCS_PER_SUB; j++)
    if (t.e[j].id == (RELAY_SSRC_VALID | RELAY_SSRC_ID (gen, ssrc))) {
      /* what was sent: the per-CPU counts of entry j minus its base
       * (relay.h), as relay_kernel_ssrc_counts reads it */
      struct relay_counters c = read_counters (i);

      *out = t.e[j];
      out->packets = (__u32) c.ssrc[j].packets - t.e[j].packets;
      out->octets = (__u32) c.ssrc[j].octets - t.e[j].octets;
      return 1;
    }
  return 0;
}

int
read_stream (__u32 ssrc, struct relay_stream *out)
{
  return bpf_map_lookup_elem (frame_state_fd, &ssrc, out) == 0;
}

/* ---- events and frames -------------------------------------------------- */

static void
on_sample (void *ctx, int cpu, void *data, __u32 size)
{
  if (n_evs < MAX_EVENTS && size >= sizeof (struct relay_event)) {
    struct ev_rec *r = &evs[n_evs];
    size_t head, len;

    memcpy (&r->hdr, data, sizeof (r->hdr));
    head = sizeof (r->hdr) + r->hdr.n_entries * sizeof (r->entries[0]);
    if (r->hdr.n_entries > RELAY_MAX_SUBS || head > size) {
      fail ("event of %u bytes with %u entries", size, r->hdr.n_entries);
      r->hdr.n_entries = 0;
      head = size;
    }
    memcpy (r->entries, (__u8 *) data + sizeof (r->hdr),
        head - sizeof (r->hdr));
    len = size - head;
    if (len > sizeof (r->pkt))
      len = sizeof (r->pkt);
    memcpy (r->pkt, (__u8 *) data + head, len);
    r->pkt_len = len;
  }
  n_evs++;
}

static void
on_lost (void *ctx, int cpu, __u64 cnt)
{
  n_lost += cnt;
}

/* The copies the program sent through lo: as they left, UDP over IPv4 or
 * IPv6 only (the stack's own ICMP errors and neighbour discovery and the
 * incoming side are not ours). */
void
read_frames (void)
{
  for (;;) {
    struct sockaddr_ll sll;
    socklen_t sl = sizeof (sll);
    __u8 buf[MAX_PKT];
    ssize_t n = recvfrom (psock, buf, sizeof (buf), 0,
        (struct sockaddr *) &sll, &sl);

    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        fail ("AF_PACKET recv: %s", strerror (errno));
      return;
    }
    if (sll.sll_pkttype != PACKET_OUTGOING || n < ETH_HLEN + 20)
      continue;
    if (!(buf[12] == 0x08 && buf[13] == 0x00
            && buf[ETH_HLEN + 9] == IPPROTO_UDP)
        && !(buf[12] == 0x86 && buf[13] == 0xdd && n >= ETH_HLEN + 40
            && buf[ETH_HLEN + 6] == IPPROTO_UDP))
      continue;
    if (n_frames < MAX_FRAMES) {
      memcpy (frames[n_frames].data, buf, n);
      frames[n_frames].len = n;
    }
    n_frames++;
  }
}

void
begin_case (const char *name)
{
  case_name = name;
  case_failed = 0;
  refused = 0;
  reset_maps ();
  read_frames ();
  perf_buffer__consume (pb);
  n_frames = 0;
  n_evs = 0;
  n_lost = 0;
}

void
end_case (void)
{
  if (case_failed)
    n_failed++;
  else if (refused)
    n_not_run++;
  else
    n_passed++;
}

/* ---- running ------------------------------------------------------------ */

/* One test run: TC_ACT_UNSPEC and the packet back unchanged, always. */
void
run (const __u8 * pkt, size_t len)
{
  run_expect (pkt, len, TC_ACT_UNSPEC);
}

/* One run that may end in another verdict than TC_ACT_UNSPEC; the packet
 * as the program left it goes to @out. Returns the verdict, or -2. */
int
run_verdict (const __u8 * pkt, size_t len, struct frame *out)
{
  LIBBPF_OPTS (bpf_test_run_opts, o,.data_in = pkt,.data_size_in = len,
      .data_out = out->data,.data_size_out = sizeof (out->data),.repeat = 1);

  if (bpf_prog_test_run_opts (prog_fd, &o)) {
    fail ("bpf_prog_test_run_opts: %s", strerror (errno));
    return -2;
  }
  out->len = o.data_size_out;
  read_frames ();
  perf_buffer__consume (pb);
  return (int) o.retval;
}

void
run_expect (const __u8 * pkt, size_t len, int verdict)
{
  __u8 out[MAX_PKT + 256];
  LIBBPF_OPTS (bpf_test_run_opts, o,.data_in = pkt,.data_size_in = len,
      .data_out = out,.data_size_out = sizeof (out),.repeat = 1);

  if (bpf_prog_test_run_opts (prog_fd, &o)) {
    if (errno == EINVAL && may_refuse) {
      printf ("relay-bpf: not run [%s]: the kernel's BPF_PROG_TEST_RUN "
          "refuses this frame (EINVAL)\n", case_name);
      refused = 1;
    } else {
      fail ("bpf_prog_test_run_opts: %s", strerror (errno));
    }
    return;
  }
  if (o.retval != (__u32) verdict)
    fail ("returned %d, want %d", (int) o.retval, verdict);
  if (o.data_size_out != len || memcmp (out, pkt, len))
    fail ("packet changed (%u bytes out, %zu in)", o.data_size_out, len);
  read_frames ();
  perf_buffer__consume (pb);
}

void
prime_key_frame (__u32 ssrc, __u32 ts)
{
  __u8 rtp[20] = { 0x80, 96, 0, 0 }, pkt[MAX_PKT], out[MAX_PKT + 256];
  struct spec sp = {.payload = sizeof (rtp),.data = rtp };
  size_t len;
  __u32 i;
  int err;

  tool_put32 (rtp + 4, ts);
  tool_put32 (rtp + 8, ssrc);
  rtp[12] = 0x65;
  len = build (pkt, &sp);
  {
    LIBBPF_OPTS (bpf_test_run_opts, o,.data_in = pkt,.data_size_in = len,
        .data_out = out,.data_size_out = sizeof (out),.repeat = 1);

    if (bpf_prog_test_run_opts (prog_fd, &o))
      fail ("priming: bpf_prog_test_run_opts: %s", strerror (errno));
  }
  read_frames ();
  perf_buffer__consume (pb);
  n_frames = 0;
  n_evs = 0;
  for (i = 0; i < RELAY_MAX_SUBS; i++)
    if ((err = ebr_bpf_percpu_zero (sub_stats_fd, &i,
                sizeof (struct relay_counters))))
      fail ("sub_stats reset: %s", strerror (-err));
  for (i = 0; i < RELAY_STAT_MAX; i++)
    if ((err = ebr_bpf_percpu_zero (stats_fd, &i, sizeof (__u64))))
      fail ("stats reset: %s", strerror (-err));
}

void
check_stats (__u64 matched, __u64 passed, __u64 events, __u64 clone_errors)
{
  static const char *names[RELAY_STAT_RULE_0] = { "matched", "passed",
    "clone_errors", "events", "event_errors", "seq_full", "consumed",
    "fragmented", "frag_user", "rtcp", "not_local", "bad_csum",
    "rejected_source", "source_latched", "ipv6"
  };
  /* with consume, every forwarded packet is used up */
  __u64 want[RELAY_STAT_RULE_0] = {[RELAY_STAT_MATCHED] = matched,
    [RELAY_STAT_PASSED] = passed,[RELAY_STAT_EVENTS] = events,
    [RELAY_STAT_CLONE_ERRORS] = clone_errors,
    [RELAY_STAT_CONSUMED] = config.consume ? matched - passed : 0,
    /* only first fragments: their own cases check it */
    [RELAY_STAT_FRAGMENTED] = read_stat (RELAY_STAT_FRAGMENTED),
    /* test-relay-bpf6 checks it */
    [RELAY_STAT_IPV6] = read_stat (RELAY_STAT_IPV6)
  };
  __u32 i;

  /* the classification counters: see check_class */
  for (i = 0; i < RELAY_STAT_RULE_0; i++) {
    __u64 got = read_stat (i);
    if (got != want[i])
      fail ("stats %s = %llu, want %llu", names[i],
          (unsigned long long) got, (unsigned long long) want[i]);
  }
  if (n_lost)
    fail ("%llu events lost", (unsigned long long) n_lost);
}

int
served (__u32 i)
{
  return i < n_slots && slots[i].state == RELAY_SUB_KERNEL
      && (int) slots[i].ifindex == lo_ifindex;
}

void
check_sub_stats (__u64 payload)
{
  __u32 i;

  for (i = 0; i < RELAY_MAX_SUBS; i++) {
    struct relay_counters c = read_counters (i);
    __u64 p = served (i) ? 1 : 0;

    if (c.packets != p || c.bytes != p * payload)
      fail ("sub_stats[%u] = %llu packets %llu bytes, want %llu, %llu", i,
          (unsigned long long) c.packets, (unsigned long long) c.bytes,
          (unsigned long long) p, (unsigned long long) (p * payload));
  }
}

void
expect_ip (const struct relay_sub *s, __u8 * tos, __u8 * ttl)
{
  const __u8 *d = s->family == RELAY_FAMILY_V6 ?
      (const __u8 *) s->daddr6 : (const __u8 *) &s->daddr;
  int group = s->family == RELAY_FAMILY_V6 ? d[0] == 0xff :
      (d[0] & 0xf0) == 0xe0;

  if (config.ip_flags & RELAY_IP_DSCP)
    *tos = (config.dscp & 0x3f) << 2 | (*tos & 3);
  if (config.ip_flags & RELAY_IP_TTL)
    *ttl = group ? config.ttl_mc : config.ttl;
}

void
check_frame_seq (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len, int seq)
{
  const __u8 *ip = f->data + ETH_HLEN, *udp = ip + 20;
  __u32 saddr, daddr;
  __u16 sport, dport, ocheck = (pkt[40] << 8) | pkt[41];
  __u8 orig[MAX_PKT + 64];

  /* the copy: the packet with the slot's headers, TOS and TTL (and seq) */
  memcpy (orig, pkt, len);
  if (len >= 34)
    expect_ip (s, &orig[15], &orig[22]);
  if (seq >= 0 && len >= 46)
    tool_put16 (orig + 44, seq);

  if (f->len != len) {
    fail ("copy to port %u: %zu bytes, want %zu", ntohs (s->dport), f->len,
        len);
    return;
  }
  memcpy (&saddr, ip + 12, 4);
  memcpy (&daddr, ip + 16, 4);
  memcpy (&sport, udp, 2);
  memcpy (&dport, udp + 2, 2);
  if (memcmp (f->data, s->dmac, 6) || memcmp (f->data + 6, s->smac, 6))
    fail ("copy to port %u: wrong MAC addresses", ntohs (s->dport));
  if (memcmp (f->data + 12, orig + 12, 12))
    fail ("copy to port %u: ethertype or IP header before the checksum "
        "differ (TOS %#x TTL %u, want %#x %u)", ntohs (s->dport), ip[1],
        ip[8], orig[15], orig[22]);
  if (saddr != s->saddr || daddr != s->daddr)
    fail ("copy to port %u: IP addresses %08x > %08x, want %08x > %08x",
        ntohs (s->dport), ntohl (saddr), ntohl (daddr), ntohl (s->saddr),
        ntohl (s->daddr));
  if (sport != s->sport || dport != s->dport)
    fail ("copy to port %u: UDP ports %u > %u", ntohs (s->dport),
        ntohs (sport), ntohs (dport));
  if (memcmp (udp + 4, orig + 38, 2))
    fail ("copy to port %u: UDP length changed", ntohs (s->dport));
  if (memcmp (f->data + 42, orig + 42, len - 42))
    fail ("copy to port %u: payload differs (RTP seq %u, want %d)",
        ntohs (s->dport), len >= 46 ? f->data[44] << 8 | f->data[45] : 0,
        seq);
  if (!ip_csum_ok (ip, 20))
    fail ("copy to port %u: bad IP header checksum %02x%02x",
        ntohs (s->dport), ip[10], ip[11]);
  if (ocheck == 0) {
    if (udp[6] || udp[7])
      fail ("copy to port %u: UDP checksum %02x%02x, want 0 (none)",
          ntohs (s->dport), udp[6], udp[7]);
  } else if (udp_sum (ip, udp, len - 34) != 0xffff) {
    fail ("copy to port %u: bad UDP checksum %02x%02x", ntohs (s->dport),
        udp[6], udp[7]);
  }
}

void
check_frame6 (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len, int seq)
{
  const __u8 *ip6 = f->data + ETH_HLEN, *udp = ip6 + 40;
  __u8 orig[MAX_PKT + 64];
  __u16 sport, dport;

  memcpy (orig, pkt, len);
  if (len >= 54) {
    __u8 tc = (orig[14] & 0x0f) << 4 | orig[15] >> 4;

    expect_ip (s, &tc, &orig[21]);
    orig[14] = (orig[14] & 0xf0) | tc >> 4;
    orig[15] = (tc & 0x0f) << 4 | (orig[15] & 0x0f);
  }
  if (seq >= 0 && len >= 66)
    tool_put16 (orig + 64, seq);
  if (f->len != len) {
    fail ("v6 copy to port %u: %zu bytes, want %zu", ntohs (s->dport),
        f->len, len);
    return;
  }
  memcpy (&sport, udp, 2);
  memcpy (&dport, udp + 2, 2);
  if (memcmp (f->data, s->dmac, 6) || memcmp (f->data + 6, s->smac, 6))
    fail ("v6 copy to port %u: wrong MAC addresses", ntohs (s->dport));
  /* ethertype, version, class, flow label, payload length, next header,
   * hop limit: as received (the class's DSCP and the hop limit as
   * expect_ip says) */
  if (memcmp (f->data + 12, orig + 12, 10))
    fail ("v6 copy to port %u: ethertype or IPv6 header before the "
        "addresses differ (%02x%02x hop limit %u, want %02x%02x %u)",
        ntohs (s->dport), ip6[0], ip6[1], ip6[7], orig[14], orig[15],
        orig[21]);
  if (memcmp (ip6 + 8, s->saddr6, 16) || memcmp (ip6 + 24, s->daddr6, 16))
    fail ("v6 copy to port %u: wrong IPv6 addresses", ntohs (s->dport));
  if (sport != s->sport || dport != s->dport)
    fail ("v6 copy to port %u: UDP ports %u > %u", ntohs (s->dport),
        ntohs (sport), ntohs (dport));
  if (memcmp (udp + 4, orig + 58, 2))
    fail ("v6 copy to port %u: UDP length changed", ntohs (s->dport));
  if (memcmp (f->data + 62, orig + 62, len - 62))
    fail ("v6 copy to port %u: payload differs (RTP seq %u, want %d)",
        ntohs (s->dport), len >= 66 ? f->data[64] << 8 | f->data[65] : 0,
        seq);
  if (!udp[6] && !udp[7])
    fail ("v6 copy to port %u: UDP checksum 0 (invalid in IPv6)",
        ntohs (s->dport));
  else if (udp6_sum (ip6, udp, len - 54) != 0xffff)
    fail ("v6 copy to port %u: bad UDP checksum %02x%02x", ntohs (s->dport),
        udp[6], udp[7]);
}

/* The copy carries the packet unchanged but for @s's headers. */
void
check_frame (const struct frame *f, const struct relay_sub *s,
    const __u8 * pkt, size_t len)
{
  check_frame_seq (f, s, pkt, len, -1);
}

/* The copies seen on lo are exactly one per served slot, each right. */
void
check_frames (const __u8 * pkt, size_t len)
{
  static unsigned char seen[RELAY_MAX_SUBS];
  int want = 0, i;
  __u32 j;

  memset (seen, 0, sizeof (seen));
  for (j = 0; j < RELAY_MAX_SUBS; j++)
    want += served (j);
  if (n_frames != want) {
    fail ("%d copies on lo, want %d", n_frames, want);
    if (n_frames > MAX_FRAMES)
      return;
  }
  for (i = 0; i < n_frames; i++) {
    const struct frame *f = &frames[i];
    __u16 dport = f->len >= 42 ? (f->data[36] << 8) | f->data[37] : 0;

    for (j = 0; j < RELAY_MAX_SUBS; j++)
      if (served (j) && ntohs (slots[j].dport) == dport)
        break;
    if (j == RELAY_MAX_SUBS) {
      fail ("copy to port %u matches no served slot", dport);
      continue;
    }
    if (seen[j]++)
      fail ("slot %u got more than one copy", j);
    check_frame (f, &slots[j], pkt, len);
  }
}

/* @entries: the @n slots the event must name, in slot order, and their
 * sequence numbers (looked at only with RELAY_EVENT_SEQ). */
void
check_event (const struct ev_rec *e, __u32 flags,
    const struct relay_event_entry *entries, __u32 n,
    __u16 payload_off, __u16 payload_len, const __u8 * pkt, size_t len)
{
  __u32 i;

  if (e->hdr.flags != flags)
    fail ("event flags %#x, want %#x", e->hdr.flags, flags);
  if (e->hdr.payload_off != payload_off || e->hdr.payload_len != payload_len)
    fail ("event payload %u+%u, want %u+%u", e->hdr.payload_off,
        e->hdr.payload_len, payload_off, payload_len);
  if (e->hdr.n_entries != n)
    fail ("event names %u slots, want %u", e->hdr.n_entries, n);
  for (i = 0; i < n && i < e->hdr.n_entries; i++) {
    if (e->entries[i].slot != entries[i].slot)
      fail ("event entry %u: slot %u, want %u", i, e->entries[i].slot,
          entries[i].slot);
    else if ((flags & RELAY_EVENT_SEQ) && e->entries[i].seq != entries[i].seq)
      fail ("event entry %u (slot %u): seq %u, want %u", i,
          e->entries[i].slot, e->entries[i].seq, entries[i].seq);
  }
  /* perf pads the sample to 8 bytes */
  if (e->pkt_len < len || e->pkt_len >= len + 8)
    fail ("event carries %zu packet bytes, want %zu", e->pkt_len, len);
  else if (memcmp (e->pkt, pkt, len))
    fail ("event packet bytes differ from the packet");
}

/* The event naming the USERSPACE slots, if there are any (packets that
 * are not RTP: no sequence numbers). */
void
check_user_event (const __u8 * pkt, size_t len)
{
  static struct relay_event_entry want[RELAY_MAX_SUBS];
  __u32 i, n = 0;

  for (i = 0; i < n_slots && i < RELAY_MAX_SUBS; i++)
    if (slots[i].state == RELAY_SUB_USERSPACE)
      want[n++].slot = i;
  if (n_evs != (n > 0)) {
    fail ("%d events, want %d", n_evs, n > 0);
    return;
  }
  if (n)
    check_event (&evs[0], 0, want, n, 42, len - 42, pkt, len);
}

/* ---- slots -------------------------------------------------------------- */

/* A KERNEL slot sending to lo. Copies with an all-zero destination MAC
 * (lo's address) reach the local UDP socket at 127.0.0.1:dport; the others
 * arrive as PACKET_OTHERHOST and are dropped by IP after AF_PACKET saw
 * them. Source address and port vary so that the program rewrites every
 * field between slots, or only some. */
struct relay_sub
lo_slot (__u32 i, int deliver)
{
  struct relay_sub s = { 0 };

  if (!deliver) {
    s.dmac[0] = 0x02;
    s.dmac[1] = 0xdd;
    s.dmac[4] = i >> 8;
    s.dmac[5] = i;
  }
  s.smac[0] = 0x02;
  s.smac[1] = 0x55;
  s.smac[4] = i >> 8;
  s.smac[5] = i;
  s.ifindex = lo_ifindex;
  s.saddr = htonl (INADDR_LOOPBACK + (i % 4 < 2 ? 0 : 1));
  s.daddr = htonl (INADDR_LOOPBACK);
  s.sport = htons (i % 3 ? PORT : 7000);
  s.dport = htons (20000 + i);
  s.state = RELAY_SUB_KERNEL;
  return s;
}

struct relay_sub
lo_slot6 (__u32 i, int deliver)
{
  struct relay_sub s = lo_slot (i, deliver);

  s.saddr = s.daddr = 0;
  s.family = RELAY_FAMILY_V6;
  s.saddr6[3] = htonl (i % 4 < 2 ? 1 : 2);
  s.daddr6[3] = htonl (1);
  return s;
}

int
udp6_socket (__u16 port)
{
  struct sockaddr_in6 a = {.sin6_family = AF_INET6,.sin6_port = htons (port),
    .sin6_addr = IN6ADDR_LOOPBACK_INIT
  };
  int fd = socket (AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);

  if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof (a))) {
    fail ("UDP socket on [::1]:%u: %s", port, strerror (errno));
    if (fd >= 0)
      close (fd);
    return -1;
  }
  return fd;
}

int
udp_socket (__u16 port)
{
  struct sockaddr_in a = {.sin_family = AF_INET,.sin_port = htons (port),
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK)
  };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

  if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof (a))) {
    fail ("UDP socket on port %u: %s", port, strerror (errno));
    if (fd >= 0)
      close (fd);
    return -1;
  }
  return fd;
}

void
check_udp_rx (int fd, __u16 port, const __u8 * payload, size_t len)
{
  struct pollfd p = {.fd = fd,.events = POLLIN };
  __u8 buf[MAX_PKT];
  ssize_t n;

  if (poll (&p, 1, 2000) != 1) {
    fail ("UDP socket on port %u received nothing (checksum refused?)",
        port);
    return;
  }
  n = recv (fd, buf, sizeof (buf), 0);
  if (n != (ssize_t) len || memcmp (buf, payload, len))
    fail ("UDP socket on port %u: got %zd bytes, want the %zu payload bytes",
        port, n, len);
}

/* ---- setup -------------------------------------------------------------- */

static int
libbpf_print (enum libbpf_print_level level, const char *fmt, va_list ap)
{
  if (level == LIBBPF_DEBUG)
    return 0;
  return vfprintf (stderr, fmt, ap);
}

static int
lo_up (void)
{
  struct ifreq ifr = { 0 };
  int fd = socket (AF_INET, SOCK_DGRAM, 0), ret = -1;

  strcpy (ifr.ifr_name, "lo");
  if (fd >= 0 && !ioctl (fd, SIOCGIFFLAGS, &ifr)) {
    ifr.ifr_flags |= IFF_UP;
    ret = ioctl (fd, SIOCSIFFLAGS, &ifr);
  }
  if (fd >= 0)
    close (fd);
  return ret;
}

/* The copies arrive on lo with no route attached: IP routes them to
 * 127.0.0.1 only with route_localnet, and accepts a local source address
 * only with accept_local (in this private namespace only). */
static int
lo_sysctl (const char *name)
{
  char path[128];
  FILE *f;

  snprintf (path, sizeof (path), "/proc/sys/net/ipv4/conf/lo/%s", name);
  f = fopen (path, "w");
  if (!f)
    return -1;
  fputs ("1\n", f);
  return fclose (f) ? -1 : 0;
}

static int
packet_socket (void)
{
  struct sockaddr_ll sll = {.sll_family = AF_PACKET,
    .sll_protocol = htons (ETH_P_ALL),.sll_ifindex = lo_ifindex
  };
  int size = 32 << 20;
  int fd = socket (AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons (ETH_P_ALL));

  if (fd < 0)
    return -1;
  /* about two frames per copy (out and in) in the biggest case */
  setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof (size));
  if (bind (fd, (struct sockaddr *) &sll, sizeof (sll))) {
    close (fd);
    return -1;
  }
  return fd;
}

/* Loads relay.bpf.c, moves into a private network namespace with lo up,
 * opens the packet socket and the perf buffer. Returns 0, SKIP or 1; prints
 * why. */
int
harness_setup (const char *name)
{
  int err, ncpus;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (geteuid () != 0) {
    printf ("%s: SKIP: needs root (BPF, network namespaces)\n", name);
    return SKIP;
  }
  libbpf_set_print (libbpf_print);

  skel = relay_bpf__open ();
  if (!skel) {
    fprintf (stderr, "%s: opening the skeleton: %s\n", name,
        strerror (errno));
    return 1;
  }
  skel->rodata->relay_port = PORT;
  err = relay_bpf__load (skel);
  if (err) {
    if (err == -EPERM || errno == EPERM) {
      printf ("%s: SKIP: loading BPF not permitted\n", name);
      relay_bpf__destroy (skel);
      return SKIP;
    }
    fprintf (stderr, "%s: loading the program failed: %s\n", name,
        strerror (-err));
    relay_bpf__destroy (skel);
    return 1;
  }

  if (unshare (CLONE_NEWNET)) {
    printf ("%s: SKIP: no private network namespace: %s\n", name,
        strerror (errno));
    relay_bpf__destroy (skel);
    return SKIP;
  }
  lo_ifindex = if_nametoindex ("lo");
  if (!lo_ifindex || lo_up () || lo_sysctl ("route_localnet")
      || lo_sysctl ("accept_local")) {
    fprintf (stderr, "%s: cannot set lo up: %s\n", name,
        strerror (errno));
    relay_bpf__destroy (skel);
    return 1;
  }

  prog_fd = bpf_program__fd (skel->progs.relay_ingress);
  subs_fd = bpf_map__fd (skel->maps.subs);
  sub_stats_fd = bpf_map__fd (skel->maps.sub_stats);
  config_fd = bpf_map__fd (skel->maps.config);
  stats_fd = bpf_map__fd (skel->maps.stats);
  sub_ssrcs_fd = bpf_map__fd (skel->maps.sub_ssrcs);
  frame_state_fd = bpf_map__fd (skel->maps.frame_state);
  vp8_state_fd = bpf_map__fd (skel->maps.vp8_state);
  ncpus = libbpf_num_possible_cpus ();
  frames = calloc (MAX_FRAMES, sizeof (*frames));
  psock = packet_socket ();
  pb = perf_buffer__new (bpf_map__fd (skel->maps.events), 64, on_sample,
      on_lost, NULL, NULL);
  if (ncpus <= 0 || !frames || psock < 0 || !pb) {
    fprintf (stderr, "%s: setup failed (cpus %d, packet socket %d, "
        "perf buffer %p): %s\n", name, ncpus, psock, (void *) pb,
        strerror (errno));
    return 1;
  }
  return 0;
}

int
harness_teardown (void)
{
  perf_buffer__free (pb);
  close (psock);
  free (frames);
  relay_bpf__destroy (skel);
  return n_failed ? 1 : 0;
}
