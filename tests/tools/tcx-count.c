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

#include "ebpfrelay-bpf.h"

#define MAX_IDS 256

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int type;
  } hooks[] = {
    {"ingress", EBR_BPF_TCX_INGRESS},
    {"egress", EBR_BPF_TCX_EGRESS},
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
    err = ebr_bpf_tcx_query ((int) ifindex, hooks[h].type, ids[h], MAX_IDS,
        &count[h]);
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
