/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbpf glue for ebpfrelaysink. Everything this file creates belongs to
 * one element instance and is reachable only through its file descriptors:
 * nothing is pinned, so when the process dies the kernel frees the maps,
 * the program and (TCX) the links by itself.
 */
#include "ebpfrelay-kernel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ebpfrelay-bpf.h"
#include "relay.skel.h"

typedef struct
{
  int ifindex;
  gchar *name;
  int link_fd;                  /* TCX link, or -1 when attached with tc */
  gboolean tc_hook_created;     /* we created the clsact qdisc */
  guint32 tc_handle, tc_priority;
} Attachment;

struct _RelayKernel
{
  struct relay_bpf *skel;
  struct perf_buffer *pb;
  RelayKernelEventFunc func;
  gpointer user_data;
  GArray *attachments;          /* of Attachment */
  guint64 lost;
  int subs_fd, sub_stats_fd, config_fd, stats_fd, sub_ssrcs_fd, streams_fd;
  struct relay_config config;   /* what the config map holds */
};

static void
on_sample (void *ctx, int cpu, void *data, __u32 size)
{
  RelayKernel *k = ctx;
  const struct relay_event *ev = data;
  const guint8 *pkt;
  gsize head;

  if (size < sizeof (*ev))
    return;
  head = sizeof (*ev) + ev->n_entries * sizeof (struct relay_event_entry);
  /* perf pads the sample: the packet may be followed by up to 7 bytes. A
   * first fragment holds only frag_avail bytes of the payload. */
  if (head > size || (gsize) ev->payload_off +
      ((ev->flags & RELAY_EVENT_FRAGMENT) ? ev->frag_avail : ev->payload_len)
      > size - head)
    return;
  pkt = (const guint8 *) data + head;
  k->func (ev, (const struct relay_event_entry *) (ev + 1),
      pkt + ev->payload_off, k->user_data);
}

static void
on_lost (void *ctx, int cpu, __u64 cnt)
{
  RelayKernel *k = ctx;

  k->lost += cnt;
}

RelayKernel *
relay_kernel_new (guint16 port, RelayKernelEventFunc func, gpointer user_data,
    GError ** error)
{
  RelayKernel *k = g_new0 (RelayKernel, 1);
  int err;

  k->attachments = g_array_new (FALSE, TRUE, sizeof (Attachment));
  k->func = func;
  k->user_data = user_data;
  if (libbpf_num_possible_cpus () <= 0)
    goto load_failed;

  k->skel = relay_bpf__open ();
  if (!k->skel)
    goto load_failed;
  k->skel->rodata->relay_port = port;
  err = relay_bpf__load (k->skel);
  if (err)
    goto load_failed;

  k->subs_fd = bpf_map__fd (k->skel->maps.subs);
  k->sub_stats_fd = bpf_map__fd (k->skel->maps.sub_stats);
  k->config_fd = bpf_map__fd (k->skel->maps.config);
  k->stats_fd = bpf_map__fd (k->skel->maps.stats);
  k->sub_ssrcs_fd = bpf_map__fd (k->skel->maps.sub_ssrcs);
  k->streams_fd = bpf_map__fd (k->skel->maps.frame_state);

  k->pb = perf_buffer__new (bpf_map__fd (k->skel->maps.events), 64,
      on_sample, on_lost, k, NULL);
  if (!k->pb)
    goto load_failed;
  return k;

load_failed:
  relay_kernel_load_error (error, errno, "the BPF program");
  relay_kernel_free (k);
  return NULL;
}

static gboolean
attach_tc (RelayKernel * k, Attachment * a, int prog_fd, GError ** error)
{
  DECLARE_LIBBPF_OPTS (bpf_tc_hook, hook,.ifindex = a->ifindex,.attach_point =
      BPF_TC_INGRESS);
  DECLARE_LIBBPF_OPTS (bpf_tc_opts, opts,.prog_fd = prog_fd);
  int err;

  err = bpf_tc_hook_create (&hook);
  if (err && err != -EEXIST)
    goto failed;
  a->tc_hook_created = (err == 0);
  err = bpf_tc_attach (&hook, &opts);
  if (err)
    goto failed;
  a->tc_handle = opts.handle;
  a->tc_priority = opts.priority;
  return TRUE;

failed:
  g_set_error (error, RELAY_KERNEL_ERROR,
      (err == -EPERM || err == -EACCES) ? RELAY_KERNEL_ERROR_PERMISSION :
      RELAY_KERNEL_ERROR_ATTACH, "attaching to interface '%s' failed: %s",
      a->name, g_strerror (-err));
  if (a->tc_hook_created) {
    hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
    bpf_tc_hook_destroy (&hook);
    a->tc_hook_created = FALSE;
  }
  return FALSE;
}

gboolean
relay_kernel_attach (RelayKernel * k, const gchar * ifname, GError ** error)
{
  Attachment a = {.link_fd = -1 };
  int prog_fd = bpf_program__fd (k->skel->progs.relay_ingress);

  a.ifindex = if_nametoindex (ifname);
  if (a.ifindex == 0) {
    g_set_error (error, RELAY_KERNEL_ERROR, RELAY_KERNEL_ERROR_NO_DEVICE,
        "no interface '%s'", ifname);
    return FALSE;
  }
  a.name = g_strdup (ifname);

  /* A TCX link goes away with the last file descriptor, also on SIGKILL. */
  a.link_fd = bpf_link_create (prog_fd, a.ifindex, EBR_BPF_TCX_INGRESS, NULL);
  if (a.link_fd < 0) {
    int err = -a.link_fd;

    a.link_fd = -1;
    if (err == EPERM || err == EACCES) {
      g_set_error (error, RELAY_KERNEL_ERROR, RELAY_KERNEL_ERROR_PERMISSION,
          "attaching to interface '%s' failed: %s", ifname, g_strerror (err));
      g_free (a.name);
      return FALSE;
    }
    /* Kernel without TCX: classic clsact + cls_bpf, removed in _free. */
    if (!attach_tc (k, &a, prog_fd, error)) {
      g_free (a.name);
      return FALSE;
    }
  }
  g_array_append_val (k->attachments, a);
  return TRUE;
}

guint
relay_kernel_min_mtu (RelayKernel * k)
{
  guint i, min = 0;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  for (i = 0; fd >= 0 && i < k->attachments->len; i++) {
    Attachment *a = &g_array_index (k->attachments, Attachment, i);
    struct ifreq ifr = { 0 };

    g_strlcpy (ifr.ifr_name, a->name, IFNAMSIZ);
    if (ioctl (fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 &&
        (min == 0 || (guint) ifr.ifr_mtu < min))
      min = ifr.ifr_mtu;
  }
  if (fd >= 0)
    close (fd);
  return min;
}

void
relay_kernel_free (RelayKernel * k)
{
  guint i;

  if (!k)
    return;
  for (i = 0; i < k->attachments->len; i++) {
    Attachment *a = &g_array_index (k->attachments, Attachment, i);

    if (a->link_fd >= 0) {
      close (a->link_fd);
    } else {
      DECLARE_LIBBPF_OPTS (bpf_tc_hook, hook,.ifindex =
          a->ifindex,.attach_point = BPF_TC_INGRESS);
      DECLARE_LIBBPF_OPTS (bpf_tc_opts, opts,.handle = a->tc_handle,.priority =
          a->tc_priority);

      bpf_tc_detach (&hook, &opts);
      if (a->tc_hook_created) {
        hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
        bpf_tc_hook_destroy (&hook);
      }
    }
    g_free (a->name);
  }
  g_array_free (k->attachments, TRUE);
  perf_buffer__free (k->pb);
  relay_bpf__destroy (k->skel);
  g_free (k);
}

static gboolean
write_sub (RelayKernel * k, guint slot, const struct relay_sub *sub)
{
  return bpf_map_update_elem (k->subs_fd, &slot, sub, BPF_ANY) == 0;
}

/* Forgets the per-SSRC state of every assignment of @slot: a fresh start
 * for readers (the kernel itself cleans an entry when it claims one). */
static gboolean
clear_sub_ssrcs (RelayKernel * k, guint slot)
{
  struct relay_sub_ssrcs zero;

  memset (&zero, 0, sizeof (zero));
  return bpf_map_update_elem (k->sub_ssrcs_fd, &slot, &zero, BPF_ANY) == 0;
}

/*
 * The kernel reads a slot while we write it, byte by byte as far as we
 * know. So each write below changes one group of fields that the kernel
 * reads in the slot's current state, or fields it ignores in that state:
 *  - addresses, ports, MACs and ifindex: only while the state is not KERNEL;
 *  - seq_flag, then limit, then state: one byte each.
 * seq_flag goes up before the limit does and comes down only with a new
 * assignment (the kernel no longer reads it). A new assignment (the slot
 * was EMPTY, which the kernel skips) is written at once, with a new gen:
 * the per-SSRC state of the previous one (sub_ssrcs entries of the old
 * gen), even what a packet in flight adds after this, is never used
 * again: the kernel takes such entries as free and cleans them.
 */
gboolean
relay_kernel_set_slot (RelayKernel * k, guint slot, const struct relay_sub *sub)
{
  struct relay_sub cur, next;

  if (slot >= RELAY_MAX_SUBS || sub->limit > PRIO_MAX
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0)
    return FALSE;

  if (cur.state == RELAY_SUB_EMPTY) {
    if (ebr_bpf_percpu_zero (k->sub_stats_fd, &slot,
            sizeof (struct relay_counters)) != 0)
      return FALSE;
    if (!clear_sub_ssrcs (k, slot))
      return FALSE;
    next = *sub;
    next.gen = cur.gen + 1;
    next.seq_flag = sub->limit > 0;
    next.state = RELAY_SUB_EMPTY;
    if (!write_sub (k, slot, &next))
      return FALSE;
    next.state = sub->state;
    return write_sub (k, slot, &next);
  }

  if (cur.state == RELAY_SUB_KERNEL) {
    cur.state = RELAY_SUB_USERSPACE;
    if (!write_sub (k, slot, &cur))
      return FALSE;
  }
  next = *sub;
  next.state = cur.state;
  next.limit = cur.limit;
  next.seq_flag = cur.seq_flag;
  next.gen = cur.gen;
  if (!write_sub (k, slot, &next))
    return FALSE;
  if (!relay_kernel_set_limit (k, slot, sub->limit))
    return FALSE;
  next.limit = sub->limit;
  next.seq_flag = cur.seq_flag || sub->limit > 0;
  next.state = sub->state;
  return next.state == cur.state || write_sub (k, slot, &next);
}

gboolean
relay_kernel_set_limit (RelayKernel * k, guint slot, guint8 limit)
{
  struct relay_sub cur;

  if (slot >= RELAY_MAX_SUBS || limit > PRIO_MAX
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0)
    return FALSE;
  if (limit > 0 && !cur.seq_flag) {
    cur.seq_flag = 1;
    if (!write_sub (k, slot, &cur))
      return FALSE;
  }
  if (cur.limit == limit)
    return TRUE;
  cur.limit = limit;
  return write_sub (k, slot, &cur);
}

gboolean
relay_kernel_set_burst (RelayKernel * k, guint slot, gboolean burst)
{
  struct relay_sub cur;

  if (slot >= RELAY_MAX_SUBS
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0)
    return FALSE;
  if (cur.burst == !!burst)
    return TRUE;
  cur.burst = !!burst;
  return write_sub (k, slot, &cur);
}

gboolean
relay_kernel_clear_slot (RelayKernel * k, guint slot)
{
  struct relay_sub cur;

  if (slot >= RELAY_MAX_SUBS
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0)
    return FALSE;
  cur.state = RELAY_SUB_EMPTY;
  return write_sub (k, slot, &cur);
}

static gboolean
write_config (RelayKernel * k)
{
  guint key = 0;

  return bpf_map_update_elem (k->config_fd, &key, &k->config, BPF_ANY) == 0;
}

gboolean
relay_kernel_set_n_slots (RelayKernel * k, guint n_slots)
{
  k->config.n_slots = n_slots;
  return write_config (k);
}

gboolean
relay_kernel_set_priority_config (RelayKernel * k,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id, gboolean rewrite_seq)
{
  memcpy (k->config.codec_by_pt, codec_by_pt, PRIO_N_PT);
  k->config.fm_id = fm_id;
  k->config.rewrite_seq = rewrite_seq ? 1 : 0;
  return write_config (k);
}

void
relay_kernel_slot_counters (RelayKernel * k, guint slot, guint64 * packets,
    guint64 * bytes, guint64 * prio_dropped)
{
  struct relay_counters sum;

  ebr_bpf_percpu_sum (k->sub_stats_fd, &slot, (__u64 *) & sum,
      sizeof (sum) / sizeof (__u64));
  *packets = sum.packets;
  *bytes = sum.bytes;
  *prio_dropped = sum.prio_dropped;
}

void
relay_kernel_slot_held (RelayKernel * k, guint slot, guint64 * held)
{
  struct relay_counters sum;

  ebr_bpf_percpu_sum (k->sub_stats_fd, &slot, (__u64 *) & sum,
      sizeof (sum) / sizeof (__u64));
  *held = sum.held;
}

/* The entry of @slot's current assignment for @ssrc, into *@out, with
 * its packets and octets turned from the base (relay.h) into what was sent
 * since: the per-CPU counts of its index summed, minus the base. */
static gboolean
ssrc_state (RelayKernel * k, guint slot, guint32 ssrc,
    struct relay_ssrc_state *out)
{
  struct relay_counters sum;

  struct relay_sub_ssrcs t;
  struct relay_sub cur;
  guint i;

  if (slot >= RELAY_MAX_SUBS
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0
      || cur.state == RELAY_SUB_EMPTY
      || bpf_map_lookup_elem (k->sub_ssrcs_fd, &slot, &t) != 0)
    return FALSE;
  for (i = 0; i < RELAY_SSRCS_PER_SUB; i++)
    if (t.e[i].id == (RELAY_SSRC_VALID | RELAY_SSRC_ID (cur.gen, ssrc))) {
      *out = t.e[i];
      if (ebr_bpf_percpu_sum (k->sub_stats_fd, &slot, (__u64 *) & sum,
              sizeof (sum) / sizeof (__u64)) != 0)
        return FALSE;
      out->packets = (guint32) sum.ssrc[i].packets - t.e[i].packets;
      out->octets = (guint32) sum.ssrc[i].octets - t.e[i].octets;
      return TRUE;
    }
  return FALSE;
}

gboolean
relay_kernel_ssrc_counts (RelayKernel * k, guint slot, guint32 ssrc,
    guint32 * packets, guint32 * octets, guint32 * dropped, guint8 * state)
{
  struct relay_ssrc_state e;

  if (!ssrc_state (k, slot, ssrc, &e))
    return FALSE;
  if (packets)
    *packets = e.packets;
  if (octets)
    *octets = e.octets;
  if (dropped)
    *dropped = e.dropped;
  if (state)
    *state = e.sw.state;
  return TRUE;
}

guint
relay_kernel_slot_switch (RelayKernel * k, guint slot, struct sw_sub *out,
    guint max)
{
  struct relay_sub_ssrcs t;
  struct relay_sub cur;
  guint i, n = 0;

  if (slot >= RELAY_MAX_SUBS
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0
      || cur.state == RELAY_SUB_EMPTY
      || bpf_map_lookup_elem (k->sub_ssrcs_fd, &slot, &t) != 0)
    return 0;
  for (i = 0; i < RELAY_SSRCS_PER_SUB && n < max; i++)
    if ((t.e[i].id & RELAY_SSRC_VALID)
        && RELAY_SSRC_ID_GEN (t.e[i].id) == cur.gen)
      out[n++] = t.e[i].sw;
  return n;
}

gboolean
relay_kernel_ssrc_log (RelayKernel * k, guint slot, guint32 ssrc,
    struct seqlog *log, guint32 * dropped)
{
  struct relay_ssrc_state a, b;
  guint tries;

  /* The kernel may be writing the entry while it is copied: take two
   * copies that agree (a few tries; packets are far apart in time). */
  if (!ssrc_state (k, slot, ssrc, &a))
    return FALSE;
  for (tries = 0; tries < 8; tries++) {
    if (!ssrc_state (k, slot, ssrc, &b))
      return FALSE;
    if (memcmp (&a, &b, sizeof (a)) == 0)
      break;
    a = b;
  }
  *log = b.log;
  *dropped = b.dropped;
  return TRUE;
}

guint
relay_kernel_slot_ssrcs (RelayKernel * k, guint slot,
    guint32 ssrcs[RELAY_SSRCS_PER_SUB])
{
  struct relay_sub_ssrcs t;
  struct relay_sub cur;
  guint i, n = 0;

  if (slot >= RELAY_MAX_SUBS
      || bpf_map_lookup_elem (k->subs_fd, &slot, &cur) != 0
      || cur.state == RELAY_SUB_EMPTY
      || bpf_map_lookup_elem (k->sub_ssrcs_fd, &slot, &t) != 0)
    return 0;
  for (i = 0; i < RELAY_SSRCS_PER_SUB; i++)
    if ((t.e[i].id & RELAY_SSRC_VALID)
        && RELAY_SSRC_ID_GEN (t.e[i].id) == cur.gen)
      ssrcs[n++] = (guint32) t.e[i].id;
  return n;
}

guint64
relay_kernel_stat (RelayKernel * k, guint idx)
{
  __u64 sum;

  ebr_bpf_percpu_sum (k->stats_fd, &idx, &sum, 1);
  return sum;
}

void
relay_kernel_global_stats (RelayKernel * k, guint64 out[RELAY_STAT_MAX])
{
  guint key;

  for (key = 0; key < RELAY_STAT_MAX; key++)
    out[key] = relay_kernel_stat (k, key);
}

gboolean
relay_kernel_set_consume (RelayKernel * k, gboolean consume)
{
  k->config.consume = consume ? 1 : 0;
  return write_config (k);
}

gboolean
relay_kernel_set_local (RelayKernel * k, guint16 sport, guint mtu)
{
  k->config.local_sport = htons (sport);
  k->config.local_mtu = MIN (mtu, G_MAXUINT16);
  return write_config (k);
}

gboolean
relay_kernel_set_ip_opts (RelayKernel * k, gint dscp, guint ttl, guint ttl_mc)
{
  k->config.ip_flags = RELAY_IP_TTL | (dscp >= 0 ? RELAY_IP_DSCP : 0);
  k->config.dscp = dscp >= 0 ? MIN (dscp, 63) : 0;
  k->config.ttl = MIN (ttl, 255);
  k->config.ttl_mc = MIN (ttl_mc, 255);
  return write_config (k);
}

gboolean
relay_kernel_set_clock_rate (RelayKernel * k, guint32 clock_rate)
{
  if (k->config.clock_rate == clock_rate)
    return TRUE;
  k->config.clock_rate = clock_rate;
  return write_config (k);
}

gboolean
relay_kernel_set_local_addrs (RelayKernel * k, const guint32 * addrs, guint n)
{
  int fd = bpf_map__fd (k->skel->maps.local_addrs);
  guint32 key, next, *keep = g_new (guint32, MAX (n, 1));
  gboolean ok = TRUE, more;
  __u8 one = 1;
  guint i;

  /* add the new ones first, so that an address in both never misses */
  for (i = 0; i < n && i < RELAY_MAX_LOCAL_ADDRS; i++) {
    keep[i] = htonl (addrs[i]);
    if (bpf_map_update_elem (fd, &keep[i], &one, BPF_ANY))
      ok = FALSE;
  }
  n = i;
  more = bpf_map_get_next_key (fd, NULL, &key) == 0;
  while (more) {
    gboolean wanted = FALSE;

    more = bpf_map_get_next_key (fd, &key, &next) == 0;
    for (i = 0; i < n && !wanted; i++)
      wanted = keep[i] == key;
    if (!wanted)
      bpf_map_delete_elem (fd, &key);
    key = next;
  }
  g_free (keep);
  return ok;
}

gboolean
relay_kernel_set_local_addrs6 (RelayKernel * k, const void *addrs, guint n)
{
  int fd = bpf_map__fd (k->skel->maps.local_addrs6);
  const struct relay_addr6 *keep = addrs;
  struct relay_addr6 key, next;
  gboolean ok = TRUE, more;
  __u8 one = 1;
  guint i;

  n = MIN (n, RELAY_MAX_LOCAL_ADDRS);
  /* as for IPv4: the new ones first */
  for (i = 0; i < n; i++)
    if (bpf_map_update_elem (fd, &keep[i], &one, BPF_ANY))
      ok = FALSE;
  more = bpf_map_get_next_key (fd, NULL, &key) == 0;
  while (more) {
    gboolean wanted = FALSE;

    more = bpf_map_get_next_key (fd, &key, &next) == 0;
    for (i = 0; i < n && !wanted; i++)
      wanted = memcmp (&keep[i], &key, sizeof (key)) == 0;
    if (!wanted)
      bpf_map_delete_elem (fd, &key);
    key = next;
  }
  return ok;
}

gboolean
relay_kernel_set_sources (RelayKernel * k, const RelayAddr * addrs, guint n,
    gboolean latch, guint timeout_ms)
{
  int fd = bpf_map__fd (k->skel->maps.sources);
  struct relay_src_key key;
  struct relay_latch l;
  __u32 zero = 0;
  __u8 one = 1;
  gboolean ok = TRUE;

  while (bpf_map_get_next_key (fd, NULL, &key) == 0)
    if (bpf_map_delete_elem (fd, &key))
      break;
  for (guint i = 0; i < n && i < RELAY_MAX_SOURCES; i++) {
    memset (&key, 0, sizeof (key));
    relay_addr_to_mapped (&addrs[i], (guint8 *) key.addr);
    key.port = addrs[i].v4.sin_port;
    if (bpf_map_update_elem (fd, &key, &one, BPF_ANY))
      ok = FALSE;
  }
  memset (&l, 0, sizeof (l));
  if (bpf_map_update_elem (bpf_map__fd (k->skel->maps.latch), &zero, &l,
          BPF_F_LOCK))
    ok = FALSE;
  k->config.src_flags = (n ? RELAY_SRC_LIST : 0) | (latch ? RELAY_SRC_LATCH :
      0);
  k->config.src_timeout_ms = timeout_ms;
  return write_config (k) && ok;
}

gboolean
relay_kernel_latched (RelayKernel * k, RelayAddr * out)
{
  static const guint8 none[16];
  struct relay_latch l;
  __u32 zero = 0;

  if (bpf_map_lookup_elem_flags (bpf_map__fd (k->skel->maps.latch), &zero,
          &l, BPF_F_LOCK) || memcmp (l.addr, none, sizeof (none)) == 0)
    return FALSE;
  relay_addr_from_mapped (out, (const guint8 *) l.addr, l.port);
  return TRUE;
}

gboolean
relay_kernel_upstream_stats (RelayKernel * k, guint32 ssrc,
    RelayKernelUpstream * out)
{
  struct relay_stream st;

  memset (out, 0, sizeof (*out));
  /* a lookup from userspace does not touch the LRU order */
  if (bpf_map_lookup_elem (k->streams_fd, &ssrc, &st) != 0 || !st.received)
    return FALSE;
  out->received = st.received;
  out->base_seq = st.base_seq;
  out->cycles = st.cycles;
  out->ext_highest_seq = st.cycles + st.max_seq;
  out->jitter = st.jitter >> 4;
  out->bad = st.bad;
  return TRUE;
}

guint
relay_kernel_upstream_ssrcs (RelayKernel * k, guint32 * ssrcs, guint max)
{
  guint32 key, next;
  guint n = 0;
  int err;

  for (err = bpf_map_get_next_key (k->streams_fd, NULL, &next);
      err == 0 && n < max;
      key = next, err = bpf_map_get_next_key (k->streams_fd, &key, &next))
    ssrcs[n++] = next;
  return n;
}

int
relay_kernel_event_fd (RelayKernel * k)
{
  return perf_buffer__epoll_fd (k->pb);
}

gint
relay_kernel_poll (RelayKernel * k)
{
  int n = perf_buffer__consume (k->pb);

  return n < 0 ? 0 : n;
}

guint64
relay_kernel_lost_events (RelayKernel * k)
{
  return k->lost;
}

gchar *
relay_kernel_describe (RelayKernel * k)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < k->attachments->len; i++) {
    Attachment *a = &g_array_index (k->attachments, Attachment, i);

    g_string_append_printf (s, "%s%s (%s)", i ? ", " : "", a->name,
        a->link_fd >= 0 ? "tcx" : "tc");
  }
  return g_string_free (s, FALSE);
}
