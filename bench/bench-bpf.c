/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-bpf: the BPF odds and ends the benchmark needs.
 *
 *   bench-bpf drop IFNAME [--seconds S]
 *       Attaches to IFNAME's TCX ingress (kernel >= 6.6) a six-instruction
 *       program that drops every IPv4 packet (ARP still passes, so the
 *       relay keeps resolving the client's MAC), and holds it until
 *       SIGINT/SIGTERM or S seconds (default 600). The link goes with the
 *       process. A receiver that drops at its ingress: the relay's own
 *       cost can be measured without the receivers' sockets sharing the
 *       CPUs. Prints "attached" on stderr once in place.
 *
 *   bench-bpf stats [--seconds S]
 *       Turns on BPF run-time statistics (BPF_ENABLE_STATS) for as long as
 *       it runs (S seconds at most, default 1800): the kernel counts
 *       run_cnt and run_time_ns for every program. Unlike the sysctl
 *       kernel.bpf_stats_enabled this needs no clean-up: the statistics
 *       stop with the process.
 *
 *   bench-bpf prog-stats IFNAME
 *       For each program on IFNAME's TCX ingress:
 *         id=N name=NAME run_cnt=C run_time_ns=T
 *
 * Run it inside the interface's namespace (ip netns exec NS ...).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>

#include "ebpfrelay-bpf.h"
#include "tool-util.h"

static void
usage (void)
{
  fprintf (stderr, "usage: bench-bpf drop IFNAME [--seconds S]\n"
      "       bench-bpf stats [--seconds S]\n"
      "       bench-bpf prog-stats IFNAME\n");
  exit (2);
}

static void
hold (int seconds)
{
  tool_catch_stop ();
  for (int i = 0; i < seconds * 10 && !tool_stop; i++)
    usleep (100000);
}

static int
seconds_arg (int argc, char **argv, int a, int def)
{
  if (a < argc) {
    if (strcmp (argv[a], "--seconds") || a + 1 >= argc)
      usage ();
    def = (int) tool_num ("--seconds", argv[a + 1], 1, 86400 * 365);
  }
  return def;
}

static int
do_drop (const char *ifname, int seconds)
{
  unsigned ifindex = if_nametoindex (ifname);
  /* r2 = skb->protocol; if r2 != htons(ETH_P_IP) return TCX_NEXT;
   * return TC_ACT_SHOT */
  struct bpf_insn insns[] = {
    {.code = BPF_LDX | BPF_MEM | BPF_W,.dst_reg = BPF_REG_2,.src_reg =
          BPF_REG_1,.off = offsetof (struct __sk_buff, protocol)},
    {.code = BPF_JMP | BPF_JNE | BPF_K,.dst_reg = BPF_REG_2,.off = 2,.imm =
          htons (ETH_P_IP)},
    {.code = BPF_ALU64 | BPF_MOV | BPF_K,.dst_reg = BPF_REG_0,.imm = 2},
    {.code = BPF_JMP | BPF_EXIT},
    {.code = BPF_ALU64 | BPF_MOV | BPF_K,.dst_reg = BPF_REG_0,.imm = -1},
    {.code = BPF_JMP | BPF_EXIT},
  };
  int prog, link;

  if (!ifindex) {
    fprintf (stderr, "bench-bpf: no interface %s\n", ifname);
    return 2;
  }
  prog = bpf_prog_load (BPF_PROG_TYPE_SCHED_CLS, "bench_drop", "GPL", insns,
      sizeof (insns) / sizeof (insns[0]), NULL);
  if (prog < 0) {
    fprintf (stderr, "bench-bpf: loading the drop program: %s\n",
        strerror (errno));
    return 1;
  }
  link = bpf_link_create (prog, ifindex, EBR_BPF_TCX_INGRESS, NULL);
  if (link < 0) {
    fprintf (stderr, "bench-bpf: TCX ingress on %s: %s\n", ifname,
        strerror (errno));
    return 1;
  }
  fprintf (stderr, "attached\n");
  hold (seconds);
  close (link);
  close (prog);
  return 0;
}

static int
do_stats (int seconds)
{
  int fd = bpf_enable_stats (BPF_STATS_RUN_TIME);

  if (fd < 0) {
    fprintf (stderr, "bench-bpf: BPF_ENABLE_STATS: %s\n", strerror (errno));
    return 1;
  }
  fprintf (stderr, "enabled\n");
  hold (seconds);
  close (fd);
  return 0;
}

static int
do_prog_stats (const char *ifname)
{
  unsigned ifindex = if_nametoindex (ifname);
  __u32 ids[64], n;
  int err;

  if (!ifindex) {
    fprintf (stderr, "bench-bpf: no interface %s\n", ifname);
    return 2;
  }
  err = ebr_bpf_tcx_query ((int) ifindex, EBR_BPF_TCX_INGRESS, ids, 64, &n);
  if (err) {
    fprintf (stderr, "bench-bpf: query %s: %s\n", ifname, strerror (-err));
    return 1;
  }
  for (__u32 i = 0; i < n; i++) {
    struct bpf_prog_info info;
    __u32 len = sizeof (info);
    int fd = bpf_prog_get_fd_by_id (ids[i]);

    if (fd < 0)
      continue;
    memset (&info, 0, sizeof (info));
    if (bpf_obj_get_info_by_fd (fd, &info, &len) == 0)
      printf ("id=%u name=%s run_cnt=%llu run_time_ns=%llu\n", ids[i],
          info.name, (unsigned long long) info.run_cnt,
          (unsigned long long) info.run_time_ns);
    close (fd);
  }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    usage ();
  if (!strcmp (argv[1], "drop") && argc >= 3)
    return do_drop (argv[2], seconds_arg (argc, argv, 3, 600));
  if (!strcmp (argv[1], "stats"))
    return do_stats (seconds_arg (argc, argv, 2, 1800));
  if (!strcmp (argv[1], "prog-stats") && argc == 3)
    return do_prog_stats (argv[2]);
  usage ();
  return 2;
}
