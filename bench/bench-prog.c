/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-prog: the relay's TC program alone, timed by the kernel with
 * BPF_PROG_TEST_RUN, with no sender, receivers or relay process around it:
 * what one datagram costs the program at N subscribers.
 *
 *   bench-prog OBJ [--n N] [--repeat R] [--rounds K] [--size BYTES]
 *              [--plain] [--seq] [--limit L] [--peer-down]
 *              [--user]
 *
 * OBJ: a relay.bpf.o (this build's, build/bpf/relay.bpf.o, or another
 * commit's: only the maps "subs" and "config" (and "local_addrs",
 * where there is one) and the read-only relay_port are used, whose
 * layout has not changed). In a private
 * network namespace with a veth pair (bp0, bp1; what bp1 receives is
 * dropped for want of a route; with --peer-down bp1 stays down and veth
 * drops each copy at once, leaving mostly the program's own work), N
 * KERNEL slots (--user: USERSPACE slots, no copies: the program's per-slot
 * decisions and the event, which no one reads) send to N distinct addresses and ports through
 * it; one datagram of BYTES bytes (default 1200) to the stream's port,
 * RTP (payload type 96, no codec: priority 7, never dropped; --plain: the
 * bench record with no RTP header, what bench/run.sh sends without --rtp)
 * is run R times (default 2000) per round, K rounds (default 15). Prints
 * per round the kernel's mean ns per run, then the median and the lowest
 * of the rounds, and that over N (ns per copy). --seq: the relay rewrites
 * sequence numbers (as ebpfrelaysink's default); --limit L: every slot's
 * priority limit (default 0). The RTP timestamp changes every run (each
 * run a frame start), the sequence number too.
 *
 * Run as root; needs `ip` (iproute2) for the veth pair.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "relay.h"
#include "bench-record.h"
#include "tool-util.h"

#define PORT 5004

static void
usage (void)
{
  fprintf (stderr, "usage: bench-prog OBJ [--n N] [--repeat R] "
      "[--rounds K] [--size BYTES] [--plain] [--seq] [--limit L] "
      "[--peer-down] [--user]\n");
  exit (2);
}

static int
set_relay_port (struct bpf_object *obj, __u16 port)
{
  struct bpf_map *m;
  struct btf *btf = bpf_object__btf (obj);

  bpf_object__for_each_map (m, obj) {
    const char *name = bpf_map__name (m);
    size_t sz;
    char *data;
    int id, i;
    const struct btf_type *t;
    const struct btf_var_secinfo *v;

    if (!strstr (name, ".rodata") || !btf)
      continue;
    data = (char *) bpf_map__initial_value (m, &sz);
    id = btf__find_by_name_kind (btf, ".rodata", BTF_KIND_DATASEC);
    if (!data || id < 0)
      return -1;
    t = btf__type_by_id (btf, id);
    v = btf_var_secinfos (t);
    for (i = 0; i < btf_vlen (t); i++, v++) {
      const struct btf_type *var = btf__type_by_id (btf, v->type);

      if (!strcmp (btf__name_by_offset (btf, var->name_off), "relay_port")
          && v->offset + sizeof (port) <= sz) {
        memcpy (data + v->offset, &port, sizeof (port));
        return 0;
      }
    }
  }
  return -1;
}

static size_t
build_packet (__u8 * p, size_t size, int rtp, __u16 seq, __u32 ts)
{
  struct ethhdr *eth = (struct ethhdr *) p;
  struct iphdr *ip = (struct iphdr *) (p + ETH_HLEN);
  struct udphdr *udp = (struct udphdr *) (ip + 1);
  __u8 *pl = (__u8 *) (udp + 1);
  size_t plen = size, i;
  __u32 sum = 0;

  memset (p, 0, ETH_HLEN + sizeof (*ip) + sizeof (*udp) + plen);
  memset (eth->h_dest, 0x02, ETH_ALEN);
  memset (eth->h_source, 0x04, ETH_ALEN);
  eth->h_proto = htons (ETH_P_IP);
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons (sizeof (*ip) + sizeof (*udp) + plen);
  ip->saddr = htonl (0x0a010001);
  ip->daddr = htonl (0x0a010002);
  for (i = 0; i < sizeof (*ip) / 2; i++)
    sum += ((__u16 *) ip)[i];
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  ip->check = (__u16) ~ sum;
  udp->source = htons (6000);
  udp->dest = htons (PORT);
  udp->len = htons (sizeof (*udp) + plen);
  udp->check = 0;               /* none: the csum helpers leave it */
  if (rtp) {
    pl[0] = 0x80;
    pl[1] = 96 | 0x80;
    tool_put32 (pl + 4, ts);
    tool_put32 (pl + 8, 0x45425242);
    pl[2] = (__u8) (seq >> 8);
    pl[3] = (__u8) seq;
    tool_put32 (pl + BENCH_RTP_LEN, BENCH_MAGIC);
  } else {
    tool_put32 (pl, BENCH_MAGIC);
  }
  return ETH_HLEN + sizeof (*ip) + sizeof (*udp) + plen;
}

static int
cmp_u64 (const void *a, const void *b)
{
  __u64 x = *(const __u64 *) a, y = *(const __u64 *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  int n = 100, repeat = 2000, rounds = 15, size = 1200, rtp = 1, seq = 0;
  int limit = 0, peer_down = 0, user = 0, a, subs_fd, config_fd, prog_fd, err;
  unsigned dummy;
  struct bpf_object *obj;
  struct bpf_program *prog;
  struct relay_config cfg = { 0 };
  static __u8 pkt[2048], out[2048];
  __u64 ns[64];
  const char *path;

  if (argc < 2 || argv[1][0] == '-')
    usage ();
  path = argv[1];
  for (a = 2; a < argc; a++) {
    const char *o = argv[a];

    if (!strcmp (o, "--plain"))
      rtp = 0;
    else if (!strcmp (o, "--user"))
      user = 1;
    else if (!strcmp (o, "--peer-down"))
      peer_down = 1;
    else if (!strcmp (o, "--seq"))
      seq = 1;
    else if (a + 1 >= argc)
      usage ();
    else if (!strcmp (o, "--n"))
      n = (int) tool_num ("--n", argv[++a], 1, RELAY_MAX_SUBS);
    else if (!strcmp (o, "--repeat"))
      repeat = (int) tool_num ("--repeat", argv[++a], 1, 1000000);
    else if (!strcmp (o, "--rounds"))
      rounds = (int) tool_num ("--rounds", argv[++a], 1, 64);
    else if (!strcmp (o, "--size"))
      size = (int) tool_num ("--size", argv[++a], 40, 1400);
    else if (!strcmp (o, "--limit"))
      limit = (int) tool_num ("--limit", argv[++a], 0, PRIO_MAX);
    else
      usage ();
  }

  if (unshare (CLONE_NEWNET)) {
    perror ("bench-prog: unshare (CLONE_NEWNET)");
    return 1;
  }
  if (system (peer_down ? "ip link add bp0 type veth peer name bp1 "
          "&& ip link set bp0 up && ip link set lo up" :
          "ip link add bp0 type veth peer name bp1 "
          "&& ip link set bp0 up && ip link set bp1 up && ip link set lo up"))
    return 1;
  dummy = if_nametoindex ("bp0");
  if (!dummy)
    return 1;

  obj = bpf_object__open_file (path, NULL);
  if (!obj || set_relay_port (obj, PORT)) {
    fprintf (stderr, "bench-prog: cannot open %s (or no relay_port)\n", path);
    return 1;
  }
  err = bpf_object__load (obj);
  prog = bpf_object__find_program_by_name (obj, "relay_ingress");
  if (err || !prog) {
    fprintf (stderr, "bench-prog: cannot load %s: %s\n", path, strerror (-err));
    return 1;
  }
  prog_fd = bpf_program__fd (prog);
  subs_fd = bpf_object__find_map_fd_by_name (obj, "subs");
  config_fd = bpf_object__find_map_fd_by_name (obj, "config");
  if (subs_fd < 0 || config_fd < 0)
    return 1;

  for (__u32 i = 0; i < (__u32) n; i++) {
    struct relay_sub s = { 0 };

    memset (s.dmac, 0x06, ETH_ALEN);
    memset (s.smac, 0x08, ETH_ALEN);
    s.ifindex = dummy;
    s.saddr = htonl (0x0a020001);
    s.daddr = htonl (0x0a030000 + 2 + i / 100);
    s.sport = htons (PORT);
    s.dport = htons (6000 + i);
    s.state = user ? RELAY_SUB_USERSPACE : RELAY_SUB_KERNEL;
    s.limit = (__u8) limit;
    s.seq_flag = limit > 0;
    s.gen = 1;
    if (bpf_map_update_elem (subs_fd, &i, &s, BPF_ANY))
      return 1;
  }
  cfg.n_slots = (__u32) n;
  cfg.rewrite_seq = (__u8) seq;
  memset (cfg.codec_by_pt, PRIO_CODEC_OTHER, PRIO_N_PT);
  {
    /* an older build's config may be shorter: its size, the rest zero */
    static __u8 val[1024];
    struct bpf_map *m = bpf_object__find_map_by_name (obj, "config");
    __u32 key = 0, vsz = m ? bpf_map__value_size (m) : 0;

    if (!vsz || vsz > sizeof (val))
      return 1;
    memcpy (val, &cfg, vsz < sizeof (cfg) ? vsz : sizeof (cfg));
    if (bpf_map_update_elem (config_fd, &key, val, BPF_ANY))
      return 1;
  }
  {
    /* a build that forwards only what is for this host (local_addrs):
     * the relay's address, 10.1.0.2 */
    int la_fd = bpf_object__find_map_fd_by_name (obj, "local_addrs");
    __u32 relay = htonl (0x0a010002);
    __u8 one = 1;

    if (la_fd >= 0 && bpf_map_update_elem (la_fd, &relay, &one, BPF_ANY))
      return 1;
  }

  for (int r = 0; r < rounds + 1; r++) {
    size_t len = build_packet (pkt, (size_t) size, rtp, (__u16) r,
        (__u32) r * 3000);
    LIBBPF_OPTS (bpf_test_run_opts, o,.data_in = pkt,.data_size_in =
        (__u32) len,.data_out = out,.data_size_out = sizeof (out),.repeat =
        (__u32) repeat);

    if (bpf_prog_test_run_opts (prog_fd, &o)) {
      perror ("bench-prog: BPF_PROG_TEST_RUN");
      return 1;
    }
    if (r == 0)
      continue;                 /* warm-up: the per-SSRC state is made */
    ns[r - 1] = o.duration;
    printf ("round %d: %u ns per run\n", r, o.duration);
  }
  qsort (ns, (size_t) rounds, sizeof (ns[0]), cmp_u64);
  printf ("n=%d %s%s seq=%d limit=%d: median %llu ns per datagram, "
      "lowest %llu; per copy median %.1f ns, lowest %.1f\n", n,
      rtp ? "rtp" : "plain", user ? " user" : "", seq, limit,
      (unsigned long long) ns[rounds / 2], (unsigned long long) ns[0],
      (double) ns[rounds / 2] / n, (double) ns[0] / n);
  bpf_object__close (obj);
  return 0;
}
