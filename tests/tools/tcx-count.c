/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcx-count: how many BPF programs are attached to an interface's TCX
 * ingress and egress hooks (kernel >= 6.6). bpftool 7.1's `net show` does
 * not list TCX links, so the tests ask the kernel themselves.
 *
 *   tcx-count IFNAME [--ids]
 *
 * Prints "ingress=N egress=M"; with --ids, then one line per hook with the
 * program ids ("ingress-ids: 12 34"). Run it inside the interface's
 * namespace (ip netns exec NS tcx-count IF). Exit 2 when the interface or
 * the query is unavailable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>

/* Not in the uapi headers of this system (they predate TCX). */
#ifndef BPF_TCX_INGRESS
#define EBR_TCX_INGRESS 46
#define EBR_TCX_EGRESS 47
#else
#define EBR_TCX_INGRESS BPF_TCX_INGRESS
#define EBR_TCX_EGRESS BPF_TCX_EGRESS
#endif

#define MAX_IDS 256

static int
query (unsigned int ifindex, int type, __u32 * ids, __u32 * count)
{
  LIBBPF_OPTS (bpf_prog_query_opts, opts,.prog_ids = ids,.prog_cnt = MAX_IDS);
  int err;

  /* For TCX the target is the ifindex, passed where target_fd goes. */
  err = bpf_prog_query_opts ((int) ifindex, (enum bpf_attach_type) type,
      &opts);
  if (err)
    return -errno;
  *count = opts.prog_cnt;
  return 0;
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int type;
  } hooks[] = {
    {"ingress", EBR_TCX_INGRESS},
    {"egress", EBR_TCX_EGRESS},
  };
  __u32 ids[2][MAX_IDS], count[2];
  unsigned int ifindex, h, i;
  int show_ids = 0, err;

  if (argc == 3 && strcmp (argv[2], "--ids") == 0)
    show_ids = 1;
  else if (argc != 2) {
    fprintf (stderr, "usage: tcx-count IFNAME [--ids]\n");
    return 2;
  }
  ifindex = if_nametoindex (argv[1]);
  if (!ifindex) {
    fprintf (stderr, "tcx-count: %s: %s\n", argv[1], strerror (errno));
    return 2;
  }
  for (h = 0; h < 2; h++) {
    err = query (ifindex, hooks[h].type, ids[h], &count[h]);
    if (err) {
      fprintf (stderr, "tcx-count: %s: query %s failed: %s\n", argv[1],
          hooks[h].name, strerror (-err));
      return 2;
    }
  }
  printf ("ingress=%u egress=%u\n", count[0], count[1]);
  if (show_ids) {
    for (h = 0; h < 2; h++) {
      printf ("%s-ids:", hooks[h].name);
      for (i = 0; i < count[h] && i < MAX_IDS; i++)
        printf (" %u", ids[h][i]);
      printf ("\n");
    }
  }
  return 0;
}
