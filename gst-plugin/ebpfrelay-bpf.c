/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plain-C libbpf helpers of ebpfrelay-bpf.h. */
#include "ebpfrelay-bpf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int
ebr_bpf_percpu_sum (int map_fd, const void *key, __u64 * sum,
    unsigned int n_fields)
{
  int ncpus = libbpf_num_possible_cpus ();
  __u64 *v;
  int c, err = 0;
  unsigned int i;

  memset (sum, 0, n_fields * sizeof (*sum));
  if (ncpus <= 0)
    return ncpus < 0 ? ncpus : -EINVAL;
  v = calloc ((size_t) ncpus * n_fields, sizeof (*v));
  if (!v)
    return -ENOMEM;
  if (bpf_map_lookup_elem (map_fd, key, v) == 0) {
    for (c = 0; c < ncpus; c++)
      for (i = 0; i < n_fields; i++)
        sum[i] += v[(size_t) c * n_fields + i];
  } else {
    err = -errno;
  }
  free (v);
  return err;
}

int
ebr_bpf_percpu_zero (int map_fd, const void *key, size_t value_size)
{
  int ncpus = libbpf_num_possible_cpus ();
  /* the kernel lays out per-CPU values 8-byte aligned */
  size_t stride = (value_size + 7) & ~(size_t) 7;
  void *zero;
  int err = 0;

  if (ncpus <= 0)
    return ncpus < 0 ? ncpus : -EINVAL;
  zero = calloc (ncpus, stride);
  if (!zero)
    return -ENOMEM;
  if (bpf_map_update_elem (map_fd, key, zero, BPF_ANY) != 0)
    err = -errno;
  free (zero);
  return err;
}

int
ebr_bpf_tcx_query (int ifindex, int attach_type, __u32 * ids,
    __u32 max_ids, __u32 * count)
{
  LIBBPF_OPTS (bpf_prog_query_opts, opts,.prog_ids = ids,.prog_cnt =
      ids ? max_ids : 0);

  /* For TCX the target is the ifindex, passed where target_fd goes. */
  if (bpf_prog_query_opts (ifindex, (enum bpf_attach_type) attach_type,
          &opts) != 0)
    return -errno;
  *count = opts.prog_cnt;
  return 0;
}
