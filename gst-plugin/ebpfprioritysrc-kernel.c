/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbpf glue for ebpfprioritysrc. The socket filter and its maps belong to
 * one element instance and are reachable only through file descriptors:
 * nothing is pinned; the kernel frees everything when the socket and the
 * skeleton are closed, also when the process dies.
 */
#include "ebpfprioritysrc-kernel.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ebpfrelay-bpf.h"
#include "ebpfrelay-bpf-error.h"
#include "prioritysrc.skel.h"

struct _PrioritySrcKernel
{
  struct prioritysrc_bpf *skel;
  int config_fd, stats_fd, switches_fd;
};

PrioritySrcKernel *
priority_src_kernel_new (GError ** error)
{
  PrioritySrcKernel *k = g_new0 (PrioritySrcKernel, 1);
  struct psrc_config cfg = { 0 };
  int err;

  if (libbpf_num_possible_cpus () <= 0)
    goto load_failed;
  k->skel = prioritysrc_bpf__open ();
  if (!k->skel)
    goto load_failed;
  err = prioritysrc_bpf__load (k->skel);
  if (err)
    goto load_failed;
  k->config_fd = bpf_map__fd (k->skel->maps.config);
  k->stats_fd = bpf_map__fd (k->skel->maps.stats);
  k->switches_fd = bpf_map__fd (k->skel->maps.switches);
  if (!priority_src_kernel_configure (k, &cfg))
    goto load_failed;
  return k;

load_failed:
  relay_kernel_load_error (error, errno, "the socket filter");
  priority_src_kernel_free (k);
  return NULL;
}

gboolean
priority_src_kernel_attach (PrioritySrcKernel * k, int fd, GError ** error)
{
  int prog_fd = bpf_program__fd (k->skel->progs.prioritysrc_filter);

  if (setsockopt (fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd,
          sizeof (prog_fd)) < 0) {
    int err = errno;

    g_set_error (error, RELAY_KERNEL_ERROR,
        err == EPERM ? RELAY_KERNEL_ERROR_PERMISSION :
        RELAY_KERNEL_ERROR_ATTACH, "attaching the socket filter failed: %s",
        g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

gboolean
priority_src_kernel_configure (PrioritySrcKernel * k,
    const struct psrc_config *cfg)
{
  __u32 key = 0;

  return bpf_map_update_elem (k->config_fd, &key, cfg, BPF_ANY) == 0;
}

void
priority_src_kernel_counters (PrioritySrcKernel * k, guint64 out[PSRC_STAT_MAX])
{
  __u32 key;

  for (key = 0; key < PSRC_STAT_MAX; key++) {
    __u64 sum;

    ebr_bpf_percpu_sum (k->stats_fd, &key, &sum, 1);
    out[key] = sum;
  }
}

guint
priority_src_kernel_switches (PrioritySrcKernel * k, struct psrc_ssrc *out,
    guint max)
{
  __u32 key, next, *prev = NULL;
  guint n = 0;

  while (n < max && bpf_map_get_next_key (k->switches_fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem (k->switches_fd, &key, &out[n]) == 0)
      n++;
  }
  return n;
}

gboolean
priority_src_kernel_switch (PrioritySrcKernel * k, guint32 ssrc,
    struct psrc_ssrc *out)
{
  __u32 key = ssrc;

  return bpf_map_lookup_elem (k->switches_fd, &key, out) == 0;
}

void
priority_src_kernel_free (PrioritySrcKernel * k)
{
  if (!k)
    return;
  prioritysrc_bpf__destroy (k->skel);
  g_free (k);
}
