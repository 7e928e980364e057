/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-bpf.h: the libbpf helpers that the relay, the viewer filter,
 * the bench and the tests share. Plain C (libbpf, no GLib), so the small
 * tools can use it too; the GError side is ebpfrelay-bpf-error.h.
 */
#ifndef __EBPF_RELAY_BPF_H__
#define __EBPF_RELAY_BPF_H__

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

/* TCX attach types (kernel >= 6.6); this system's uapi headers predate
 * them. The libbpf here has no attach_tcx: use bpf_link_create. */
#ifdef BPF_TCX_INGRESS
#define EBR_BPF_TCX_INGRESS BPF_TCX_INGRESS
#define EBR_BPF_TCX_EGRESS BPF_TCX_EGRESS
#else
#define EBR_BPF_TCX_INGRESS 46
#define EBR_BPF_TCX_EGRESS 47
#endif

/* Sums over the possible CPUs the value of @key in the per-CPU map
 * @map_fd, a value of @n_fields __u64 counters: @sum[i] is field i on all
 * CPUs. Returns 0, or -errno with @sum all zero. */
int ebr_bpf_percpu_sum (int map_fd, const void *key, __u64 * sum,
    unsigned int n_fields);

/* Sets the value of @key in the per-CPU map @map_fd (@value_size bytes a
 * CPU) to zero on every CPU. Returns 0 or -errno. */
int ebr_bpf_percpu_zero (int map_fd, const void *key, size_t value_size);

/* The programs attached to @ifindex's TCX hook @attach_type
 * (EBR_BPF_TCX_INGRESS or _EGRESS): their number in @count and, when @ids
 * is not NULL, up to @max_ids of their ids. Returns 0 or -errno. */
int ebr_bpf_tcx_query (int ifindex, int attach_type, __u32 * ids,
    __u32 max_ids, __u32 * count);

#endif
