/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The statistics structures of ebpfrelaysink: see ebpfrelay-stats.h.
 */
#include "ebpfrelay-stats.h"

/* The limit in force of @c (bpf/switch.h), over its SSRCs' switch
 * states: that of an SSRC with a switch pending if there is one (then
 * *@pending is the requested limit, else -1), else the requested one;
 * -1 while no SSRC runs (nothing seen, or waiting for a key frame). */
static gint
client_limit_in_force (RelayClients * t, RelayClient * c, gint * pending)
{
  struct sw_sub sw[RELAY_SSRCS_PER_SUB];
  gint in_force = -1;
  guint n = 0, i;

  if (t->kernel && t->running)
    n = relay_kernel_slot_switch (t->kernel, c->slot, sw, G_N_ELEMENTS (sw));
  else if (!t->kernel && c->ssrcs) {
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init (&it, c->ssrcs);
    while (n < G_N_ELEMENTS (sw) && g_hash_table_iter_next (&it, NULL, &v))
      sw[n++] = ((RelaySsrcState *) v)->sw;
  }
  *pending = -1;
  for (i = 0; i < n; i++) {
    if (sw[i].state != SW_RUNNING)
      continue;
    if (sw_pending (&sw[i], c->limit)) {
      *pending = c->limit;
      return sw[i].limit;
    }
    in_force = c->limit;
  }
  return in_force;
}

GstStructure *
ebpf_relay_stats_client (RelayClients * t, RelayClient * c, RelayFeedback * fb)
{
  guint64 kp = 0, kb = 0, kd = 0, kh = 0;
  GstStructure *s;
  gint pending, in_force = client_limit_in_force (t, c, &pending);

  if (t->kernel && t->running && c->slot < RELAY_MAX_SUBS
      && t->slots[c->slot] == c) {
    relay_kernel_slot_counters (t->kernel, c->slot, &kp, &kb, &kd);
    relay_kernel_slot_held (t->kernel, c->slot, &kh);
  } else {
    /* its slot went (a client-removed handler asks) */
    kp = c->gone_kernel_packets;
    kb = c->gone_kernel_bytes;
  }
  s = gst_structure_new ("application/x-ebpfrelaysink-client-stats",
      "host", G_TYPE_STRING, c->host,
      "port", G_TYPE_INT, c->port,
      "path", G_TYPE_STRING, relay_clients_path (t, c),
      "priority-limit", G_TYPE_INT, (gint) c->limit,
      "limit-in-force", G_TYPE_INT, in_force,
      "limit-pending", G_TYPE_INT, pending,
      "priority-dropped", G_TYPE_UINT64, kd + c->user_prio_dropped,
      "keyframe-held", G_TYPE_UINT64, kh + c->user_held,
      "kernel-packets", G_TYPE_UINT64, kp,
      "kernel-bytes", G_TYPE_UINT64, kb,
      "user-packets", G_TYPE_UINT64, c->user_packets,
      "user-bytes", G_TYPE_UINT64, c->user_bytes,
      "user-errors", G_TYPE_UINT64, c->user_errors,
      "packets", G_TYPE_UINT64, kp + c->user_packets,
      "bytes", G_TYPE_UINT64, kb + c->user_bytes,
      "auto", G_TYPE_BOOLEAN, c->adaptive,
      "auto-switches", G_TYPE_UINT64, c->adapt ? c->adapt->switches : 0,
      "auto-reason", G_TYPE_STRING, relay_adapt_reason_str (c->adapt ?
          c->adapt->last_reason : RELAY_ADAPT_NONE),
      /* multiudpsink's */
      "bytes-sent", G_TYPE_UINT64, kb + c->user_bytes,
      "packets-sent", G_TYPE_UINT64, kp + c->user_packets,
      "connect-time", G_TYPE_UINT64, c->connect_time,
      "disconnect-time", G_TYPE_UINT64, c->disconnect_time, NULL);
  if (fb)
    relay_feedback_add_client_stats (fb, s, c);
  return s;
}

void
ebpf_relay_stats_add_kernel (GstStructure * s, RelayKernel * kernel,
    guint64 fragments_unsent)
{
  /* What the kernel's classifier saw: packets per rule and priority. */
  static const gchar *rules[PRIO_N_RULES] = { "not-rtp", "framemarking",
    "h264", "vp8", "default"
  };
  guint64 k[RELAY_STAT_MAX] = { 0 };
  gchar name[32];
  guint i;

  if (kernel)
    relay_kernel_global_stats (kernel, k);
  gst_structure_set (s,
      "kernel-matched", G_TYPE_UINT64, k[RELAY_STAT_MATCHED],
      "kernel-passed", G_TYPE_UINT64, k[RELAY_STAT_PASSED],
      "kernel-clone-errors", G_TYPE_UINT64, k[RELAY_STAT_CLONE_ERRORS],
      "kernel-events", G_TYPE_UINT64, k[RELAY_STAT_EVENTS],
      "kernel-event-errors", G_TYPE_UINT64, k[RELAY_STAT_EVENT_ERRORS],
      "kernel-consumed", G_TYPE_UINT64, k[RELAY_STAT_CONSUMED],
      "kernel-fragmented", G_TYPE_UINT64, k[RELAY_STAT_FRAGMENTED],
      "kernel-fragments-to-userspace", G_TYPE_UINT64,
      k[RELAY_STAT_FRAG_USER],
      "kernel-not-local", G_TYPE_UINT64, k[RELAY_STAT_NOT_LOCAL],
      "kernel-bad-csum", G_TYPE_UINT64, k[RELAY_STAT_BAD_CSUM],
      "kernel-rejected-source", G_TYPE_UINT64, k[RELAY_STAT_REJECTED_SOURCE],
      "kernel-source-latched", G_TYPE_UINT64, k[RELAY_STAT_SOURCE_LATCHED],
      "kernel-ipv6", G_TYPE_UINT64, k[RELAY_STAT_IPV6],
      "fragments-unsent", G_TYPE_UINT64, fragments_unsent,
      "lost-events", G_TYPE_UINT64,
      kernel ? relay_kernel_lost_events (kernel) : 0, NULL);
  if (!kernel)
    return;
  for (i = 0; i < PRIO_N_RULES; i++) {
    g_snprintf (name, sizeof (name), "kernel-rule-%s", rules[i]);
    gst_structure_set (s, name, G_TYPE_UINT64, k[RELAY_STAT_RULE_0 + i], NULL);
  }
  for (i = 0; i <= PRIO_MAX; i++) {
    g_snprintf (name, sizeof (name), "kernel-priority-%u", i);
    gst_structure_set (s, name, G_TYPE_UINT64, k[RELAY_STAT_PRIO_0 + i], NULL);
  }
}

void
ebpf_relay_stats_add_control (GstStructure * s, RelayControlServer * control)
{
  RelayControlServerStats cs;

  if (!control)
    return;
  relay_control_server_get_stats (control, &cs);
  gst_structure_set (s,
      "control-subscribers", G_TYPE_UINT, cs.subscribers,
      "control-accepted", G_TYPE_UINT64, cs.accepted,
      "control-refreshed", G_TYPE_UINT64, cs.refreshed,
      "control-refused-token", G_TYPE_UINT64, cs.refused_token,
      "control-refused-full", G_TYPE_UINT64, cs.refused_full,
      "control-refused-cookie", G_TYPE_UINT64, cs.refused_cookie,
      "control-refused-relay", G_TYPE_UINT64, cs.refused_relay,
      "control-challenges", G_TYPE_UINT64, cs.challenges,
      "control-malformed", G_TYPE_UINT64, cs.malformed,
      "control-expired", G_TYPE_UINT64, cs.expired,
      "control-unsubscribed", G_TYPE_UINT64, cs.unsubscribed, NULL);
}

void
ebpf_relay_stats_add_clients (GstStructure * s, RelayClients * t,
    RelayFeedback * fb)
{
  GValue arr = G_VALUE_INIT;

  g_value_init (&arr, GST_TYPE_ARRAY);
  for (guint i = 0; i < t->clients->len; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, ebpf_relay_stats_client (t,
            g_ptr_array_index (t->clients, i), fb));
    gst_value_array_append_and_take_value (&arr, &v);
  }
  gst_structure_take_value (s, "clients", &arr);
}

GstStructure *
ebpf_relay_stats_all (RelayClients * t, RelayKernel * kernel,
    RelaySender * sender, RelayControlServer * control, RelayFeedback * fb,
    guint64 buffers_in)
{
  gchar *ifaces = kernel ? relay_kernel_describe (kernel) : NULL;
  GstStructure *s;

  s = gst_structure_new ("application/x-ebpfrelaysink-stats",
      "mode", G_TYPE_STRING, !t->running ? "stopped" :
      kernel ? "kernel" : "userspace",
      "port", G_TYPE_INT, (gint) t->port,
      "interfaces", G_TYPE_STRING, ifaces ? ifaces : "",
      "buffers-in", G_TYPE_UINT64, buffers_in, NULL);
  g_free (ifaces);
  ebpf_relay_stats_add_kernel (s, kernel,
      relay_sender_fragments_unsent (sender));
  ebpf_relay_stats_add_control (s, control);
  relay_feedback_add_stats (fb, s);
  ebpf_relay_stats_add_clients (s, t, fb);
  return s;
}

GstStructure *
ebpf_relay_stats_client_host (RelayClients * t, const gchar * host, gint port,
    RelayFeedback * fb)
{
  RelayAddr addr;
  GstStructure *s = NULL;
  RelayClient *c;

  /* (a name is resolved without the lock) */
  if (!host || !relay_client_resolve (host, port, &addr, NULL))
    return NULL;
  g_mutex_lock (t->lock);
  c = relay_clients_find_any (t, &addr);
  if (c)
    s = ebpf_relay_stats_client (t, c, fb);
  g_mutex_unlock (t->lock);
  return s;
}
