/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The feedback plane of ebpfrelaysink: see ebpfrelay-feedback.h for what
 * it owns, the attribution rule and the locking.
 */
#include "ebpfrelay-feedback.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <gst/net/gstnetaddressmeta.h>

#include "ebpfrelay-caps.h"
#include "ebpfrelay-repair.h"
#include "ebpfrelay-rtcp.h"

struct _RelayFeedback
{
  GMutex *lock;                 /* the owner's: everything below */
  RelayClients *clients;
  RelaySender *sender;
  RelayLogFunc log;
  gpointer log_data;
  RelayRepair *repair;          /* loss repair: NACKs answered from a cache */
  RelayKfBurst *kfburst;        /* joiners' key-frame bursts */
  RelaySources *sources;        /* the publisher lock, borrowed; or NULL */

  /* properties */
  gint rtcp_port;               /* -1: stream port + 1, 0: off */
  gchar *upstream_str;
  guint keyframe_ms;

  /* running */
  EbrRtcp *rtcp;                /* NULL: not running */
  guint16 port;                 /* the RTCP port in use */
  int own_fd;                   /* our socket, -1 when shared or none */
  int fd;                       /* the socket we send from */
  int own_fd6, fd6;             /* the same in IPv6 ([::], IPV6_V6ONLY) */
  RelayControlServer *control;  /* shared port: borrowed */
  GThread *thread;
  int wake_fd;
  gboolean stopping;            /* the thread ends when woken */
  /* a lowered limit's key-frame request was throttled: ask again once
   * the throttle lets it through (monotonic µs; 0: none) */
  gint64 keyframe_retry_at;
  gboolean has_upstream;
  RelayAddr upstream;           /* upstream-rtcp */
  gboolean has_sender_rtcp;
  RelayAddr sender_rtcp;        /* where the sender's RTCP came from */
  gboolean has_media_src;
  RelayAddr media_src;          /* the media's source (its host counts) */
  guint32 clock_rate;
  /* from the caps, once (relay_feedback_set_caps): whether an SSRC of a
   * payload type is video (its subscribers start at a key frame, so the
   * relay asks for key frames of it): media=video, or the codec
   * bpf/switch.h's sw_is_video names; any_video: whether any is, for the
   * SSRCs only SRs name (no payload type) */
  gboolean video_by_pt[PRIO_N_PT];
  gboolean any_video;
  gboolean kernel_upstream;     /* the kernel counts the upstream statistics */
  GHashTable *ssrcs;            /* upstream SSRC -> GINT_TO_POINTER (1 + video) */
  GHashTable *viewer_ids;       /* (addr << 16 | port) -> viewer id */
  guint next_id;

  /* counters (since start) */
  guint64 malformed, sender_packets, srs_sent, rrs_sent, no_upstream;
  guint64 keyframe_unknown_ssrc, keyframe_join, keyframe_limit, send_errors;
  guint64 keyframe_nack, rejected_source, keyframe_retried;

  /* the automatic limit (ebpfrelay-adapt.h): switches waiting to be told
   * (of AdaptSwitch), and to whom */
  GArray *adapt_switches;
  RelayFeedbackSwitchFunc switch_func;
  gpointer switch_data;
};

typedef struct
{
  gchar *host;
  gint port;
  guint from, to;
  RelayAdaptReason reason;
} AdaptSwitch;

static void
adapt_switch_clear (gpointer p)
{
  g_free (((AdaptSwitch *) p)->host);
}

/* Whether the sources lock lets @a's host publish (IPv4 or IPv6). */
static gboolean
sources_allow (RelayFeedback * f, const RelayAddr * a)
{
  if (!f->sources)
    return TRUE;
  return relay_sources_allows_host (f->sources, a);
}

static GstClockTime
now_ns (void)
{
  return g_get_monotonic_time () * GST_USECOND;
}

RelayFeedback *
relay_feedback_new (GMutex * lock, RelayClients * clients,
    RelaySender * sender, RelayLogFunc log, gpointer log_data)
{
  RelayFeedback *f = g_new0 (RelayFeedback, 1);

  f->lock = lock;
  f->clients = clients;
  f->sender = sender;
  f->log = log;
  f->log_data = log_data;
  f->repair = relay_repair_new (sender);
  f->kfburst = relay_kfburst_new (lock, clients, sender);
  relay_sender_set_kfburst (sender, f->kfburst);
  f->rtcp_port = RELAY_FEEDBACK_DEFAULT_RTCP_PORT;
  f->keyframe_ms = RELAY_FEEDBACK_DEFAULT_KEYFRAME_MS;
  f->own_fd = f->fd = f->wake_fd = -1;
  f->own_fd6 = f->fd6 = -1;
  f->ssrcs = g_hash_table_new (NULL, NULL);
  f->adapt_switches = g_array_new (FALSE, FALSE, sizeof (AdaptSwitch));
  g_array_set_clear_func (f->adapt_switches, adapt_switch_clear);
  f->viewer_ids = g_hash_table_new_full (relay_addr_hash, relay_addr_equal_cb,
      g_free, NULL);
  relay_clients_set_rtcp_listener (clients,
      relay_feedback_rtcp_port_changed_cb, f);
  return f;
}

void
relay_feedback_free (RelayFeedback * f)
{
  relay_feedback_stop (f);
  relay_repair_free (f->repair);
  relay_kfburst_free (f->kfburst);
  g_array_free (f->adapt_switches, TRUE);
  g_hash_table_destroy (f->ssrcs);
  g_hash_table_destroy (f->viewer_ids);
  g_free (f->upstream_str);
  g_free (f);
}

static void
fb_log (RelayFeedback * f, GLogLevelFlags level, const gchar * fmt, ...)
G_GNUC_PRINTF (3, 4);

     static void
         fb_log (RelayFeedback * f, GLogLevelFlags level, const gchar * fmt,
    ...)
{
  va_list ap;
  gchar *msg;

  if (!f->log)
    return;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  f->log (level, msg, f->log_data);
  g_free (msg);
}

/* --- properties ------------------------------------------------------------ */

void
relay_feedback_install_properties (GObjectClass * klass, guint first_id)
{
  g_object_class_install_property (klass,
      first_id + RELAY_FEEDBACK_PROP_RTCP_PORT,
      g_param_spec_int ("rtcp-port", "RTCP port",
          "UDP port where the relay receives RTCP: the sender's SR/SDES/BYE "
          "(sent on to every subscriber at its RTCP port: media port + 1, "
          "or what its clients entry, add-full or subscription names; counts "
          "rewritten) and the subscribers' RRs and PLI/FIR (consumed; "
          "key-frame requests go to the sender, throttled). -1 = the "
          "stream's port + 1, 0 = no RTCP. May equal control-port: one "
          "socket serves both", -1, 65535, RELAY_FEEDBACK_DEFAULT_RTCP_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass,
      first_id + RELAY_FEEDBACK_PROP_UPSTREAM_RTCP,
      g_param_spec_string ("upstream-rtcp", "Upstream RTCP",
          "HOST:PORT where the sender receives RTCP (the relay's RRs and "
          "key-frame requests); NULL/empty = the address the sender's RTCP "
          "comes from", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass,
      first_id + RELAY_FEEDBACK_PROP_KEYFRAME_INTERVAL,
      g_param_spec_uint ("keyframe-request-interval",
          "Key-frame request interval",
          "At most one key-frame request (PLI/FIR) per media SSRC reaches "
          "the sender within this many ms, however many subscribers ask "
          "(the relay asks too when a subscriber joins)", 0, 60000,
          RELAY_FEEDBACK_DEFAULT_KEYFRAME_MS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  relay_repair_install_property (klass,
      first_id + RELAY_FEEDBACK_PROP_NACK_CACHE);
  relay_repair_install_rtx_property (klass,
      first_id + RELAY_FEEDBACK_PROP_RTX_MAP);
  relay_kfburst_install_properties (klass,
      first_id + RELAY_FEEDBACK_PROP_KFBURST);
}

void
relay_feedback_set_property (RelayFeedback * f, guint id, const GValue * value)
{
  if (id >= RELAY_FEEDBACK_PROP_KFBURST) {
    relay_kfburst_set_property (f->kfburst, id - RELAY_FEEDBACK_PROP_KFBURST,
        value);
    return;
  }
  switch (id) {
    case RELAY_FEEDBACK_PROP_RTCP_PORT:
      f->rtcp_port = g_value_get_int (value);
      break;
    case RELAY_FEEDBACK_PROP_UPSTREAM_RTCP:
      g_free (f->upstream_str);
      f->upstream_str = g_value_dup_string (value);
      break;
    case RELAY_FEEDBACK_PROP_KEYFRAME_INTERVAL:
      f->keyframe_ms = g_value_get_uint (value);
      break;
    case RELAY_FEEDBACK_PROP_NACK_CACHE:
      relay_repair_set_property (f->repair, value);
      break;
    case RELAY_FEEDBACK_PROP_RTX_MAP:
      relay_repair_set_rtx_map (f->repair, value);
      break;
  }
}

void
relay_feedback_get_property (RelayFeedback * f, guint id, GValue * value)
{
  if (id >= RELAY_FEEDBACK_PROP_KFBURST) {
    relay_kfburst_get_property (f->kfburst, id - RELAY_FEEDBACK_PROP_KFBURST,
        value);
    return;
  }
  switch (id) {
    case RELAY_FEEDBACK_PROP_RTCP_PORT:
      g_value_set_int (value, f->rtcp_port);
      break;
    case RELAY_FEEDBACK_PROP_UPSTREAM_RTCP:
      g_value_set_string (value, f->upstream_str);
      break;
    case RELAY_FEEDBACK_PROP_KEYFRAME_INTERVAL:
      g_value_set_uint (value, f->keyframe_ms);
      break;
    case RELAY_FEEDBACK_PROP_NACK_CACHE:
      relay_repair_get_property (f->repair, value);
      break;
    case RELAY_FEEDBACK_PROP_RTX_MAP:
      relay_repair_get_rtx_map (f->repair, value);
      break;
  }
}

/* --- sending ---------------------------------------------------------------- */

static void
send_buffer (RelayFeedback * f, GstBuffer * buf, const RelayAddr * to)
{
  GstMapInfo map;
  /* each peer from the socket of its family */
  int fd = relay_addr_is_v6 (to) ? f->fd6 : f->fd;
  gchar s[RELAY_ADDR_STRLEN];

  if (fd < 0) {
    f->send_errors++;
    return;
  }
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  if (sendto (fd, map.data, map.size, MSG_DONTWAIT, &to->sa,
          relay_addr_len (to)) < 0) {
    f->send_errors++;
    fb_log (f, RELAY_LOG_LEVEL_TRACE, "RTCP to %s: %s",
        relay_addr_to_string (to, s, sizeof (s)), g_strerror (errno));
  }
  gst_buffer_unmap (buf, &map);
}

/* Where the relay's own RTCP to the sender goes; NULL: not known yet. */
static const RelayAddr *
upstream_dest (RelayFeedback * f)
{
  if (f->has_upstream)
    return &f->upstream;
  if (f->has_sender_rtcp && sources_allow (f, &f->sender_rtcp))
    return &f->sender_rtcp;
  return NULL;
}

static void
send_upstream (RelayFeedback * f, GstBuffer * buf)
{
  const RelayAddr *to = upstream_dest (f);

  if (!buf)
    return;
  if (to)
    send_buffer (f, buf, to);
  else
    f->no_upstream++;
  gst_buffer_unref (buf);
}

/* A key-frame request for @media_ssrc, when the throttle lets it through
 * (FALSE: it did not). */
static gboolean
request_keyframe (RelayFeedback * f, guint32 media_ssrc,
    EbrRtcpKeyframeKind kind, GstClockTime now)
{
  if (!ebr_rtcp_keyframe_should_send (f->rtcp, media_ssrc, now))
    return FALSE;
  send_upstream (f, kind == EBR_RTCP_KEYFRAME_FIR ?
      ebr_rtcp_build_fir (f->rtcp, media_ssrc) :
      ebr_rtcp_build_pli (f->rtcp, media_ssrc));
  return TRUE;
}

typedef struct
{
  RelayFeedback *f;
  RelayClient *c;
} SentCtx;

static gboolean
sent_counts (guint32 ssrc, guint32 * packets, guint32 * octets, gpointer data)
{
  SentCtx *ctx = data;

  return relay_sender_ssrc_counts (ctx->f->sender, ctx->c, ssrc, packets,
      octets);
}

/* The sender's compound to every running subscriber at its RTCP port (media
 * port + 1 by default, what its clients entry, add-full or subscription
 * named, its media port for rtcp-mux), each with its own counts. */
static void
forward_down (RelayFeedback * f, GstBuffer * compound)
{
  RelayClients *t = f->clients;

  for (guint i = 0; i < t->n_slots; i++) {
    RelayClient *c = t->slots[i];
    SentCtx ctx = { f, c };
    RelayAddr to;
    GstBuffer *copy;

    if (!c || c->rtcp_port <= 0)
      continue;
    copy = ebr_rtcp_rewrite_sr (compound, sent_counts, &ctx);
    if (!copy)
      continue;
    to = c->addr;
    relay_addr_set_port (&to, c->rtcp_port);
    send_buffer (f, copy, &to);
    gst_buffer_unref (copy);
    f->srs_sent++;
    c->rtcp_sent++;
  }
}

/* --- receiving -------------------------------------------------------------- */

/* Whether a subscriber has @addr's host (in its family). */
static gboolean
is_viewer_host (RelayFeedback * f, const RelayAddr * addr)
{
  RelayClients *t = f->clients;

  for (guint i = 0; i < t->clients->len; i++)
    if (relay_addr_same_host (&((RelayClient *)
                g_ptr_array_index (t->clients, i))->addr, addr))
      return TRUE;
  return FALSE;
}

static gboolean
is_senders (RelayFeedback * f, const guint8 * data, const RelayAddr * addr)
{
  RelayClients *t = f->clients;
  gboolean from_sender = (f->has_media_src
      && relay_addr_same_host (addr, &f->media_src))
      || (f->has_upstream && relay_addr_same_host (addr, &f->upstream));

  /* a sender's compound starts with an SR (or an RR when it stopped
   * sending, RFC 3550 6.1): anything else from there is feedback */
  if (!from_sender || (data[1] != GST_RTCP_TYPE_SR
          && data[1] != GST_RTCP_TYPE_RR))
    return FALSE;
  for (guint i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);

    if (relay_addr_same_host (&c->addr, addr))
      return data[1] == GST_RTCP_TYPE_SR;
  }
  return TRUE;
}

/* The SSRCs the sender's SRs name. Render sees every upstream packet only
 * with pass-original=true; with false (the kernel consumes what it
 * forwards) it sees the first one, so the SRs are how the relay learns the
 * sender's other SSRCs, to ask for their key frames. Video when the caps
 * say so (the SR carries no payload type). */
static void
learn_sender_ssrcs (RelayFeedback * f, GstBuffer * compound)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket pkt;
  gboolean more;

  if (!gst_rtcp_buffer_map (compound, GST_MAP_READ, &rtcp))
    return;
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &pkt); more;
      more = gst_rtcp_packet_move_to_next (&pkt)) {
    guint32 ssrc;

    if (gst_rtcp_packet_get_type (&pkt) != GST_RTCP_TYPE_SR)
      continue;
    gst_rtcp_packet_sr_get_sender_info (&pkt, &ssrc, NULL, NULL, NULL, NULL);
    if (!g_hash_table_contains (f->ssrcs, GUINT_TO_POINTER (ssrc)))
      g_hash_table_insert (f->ssrcs, GUINT_TO_POINTER (ssrc),
          GINT_TO_POINTER (1 + f->any_video));
  }
  gst_rtcp_buffer_unmap (&rtcp);
}

/* The subscriber that viewer @id is (NULL: gone). */
static RelayClient *
client_of_viewer (RelayFeedback * f, guint id)
{
  RelayClients *t = f->clients;

  for (guint i = 0; i < t->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (t->clients, i);
    const RelayAddr *key = &c->addr;
    gpointer v;

    if (g_hash_table_lookup_extended (f->viewer_ids, key, NULL, &v)
        && GPOINTER_TO_UINT (v) == id)
      return c;
  }
  return NULL;
}

/* Viewer @id's NACKs (its own numbering): answered from the cache
 * (ebpfrelay-repair); a packet it needed that is gone makes the relay ask
 * the sender for a key frame of that SSRC, through the throttle. Only the
 * SSRCs the relay carries; a NACK of any other is counted with
 * keyframe-requests-unknown-ssrc's kin, nack-no-record. */
static void
answer_nacks (RelayFeedback * f, guint id, GArray * nacks, GstClockTime now)
{
  RelayClient *c = client_of_viewer (f, id);
  guint32 asked = 0;
  gboolean have_asked = FALSE;

  if (!c || !relay_repair_active (f->repair))
    return;
  for (guint i = 0; i < nacks->len; i++) {
    EbrRtcpNack *n = &g_array_index (nacks, EbrRtcpNack, i);
    EbrRtcpViewerReport rep;
    gint64 rtt = 0;

    if (ebr_rtcp_viewer_get_report (f->rtcp, id, n->media_ssrc, &rep)
        && GST_CLOCK_TIME_IS_VALID (rep.rtt))
      rtt = rep.rtt / GST_USECOND;
    if (relay_repair_nack (f->repair, c, n->media_ssrc, n->seq, rtt,
            now / GST_USECOND)
        && g_hash_table_contains (f->ssrcs, GUINT_TO_POINTER (n->media_ssrc))
        && (!have_asked || asked != n->media_ssrc)) {
      f->keyframe_nack++;
      request_keyframe (f, n->media_ssrc, EBR_RTCP_KEYFRAME_PLI, now);
      asked = n->media_ssrc;
      have_asked = TRUE;
    }
  }
}

/* --- the automatic limit -------------------------------------------------- */

/* The limits that change what a subscriber gets: from the packets
 * classified per priority, by the kernel and by the userspace path. */
static guint8
adapt_steps (RelayFeedback * f)
{
  guint64 counts[RELAY_ADAPT_PRIO_N], k[RELAY_STAT_MAX] = { 0 };

  relay_sender_priority_counts (f->sender, counts);
  if (f->clients->kernel && f->clients->running) {
    relay_kernel_global_stats (f->clients->kernel, k);
    for (guint p = 0; p < RELAY_ADAPT_PRIO_N; p++)
      counts[p] += k[RELAY_STAT_PRIO_0 + p];
  }
  return relay_adapt_steps (counts);
}

/* Viewer @id's compound @fb had report blocks or NACKs: an adaptive
 * subscriber's controller sees the worst report of the SSRCs the relay
 * carries and its NACK count, and its limit
 * is requested as set-priority-limit's is (relay_clients_set_limit), so
 * it comes into force at a boundary (bpf/switch.h). */
static void
adapt_on_report (RelayFeedback * f, guint id, EbrRtcpFeedback * fb)
{
  RelayClient *c = client_of_viewer (f, id);
  RelayAdaptReport r = { 0 };
  EbrRtcpViewerStats vs = { 0 };
  guint64 kp = 0, kb = 0, kd = 0;
  gboolean any = FALSE;
  RelayAdaptReason why;
  AdaptSwitch sw;
  guint8 to;

  if (!c || !c->adapt)
    return;
  for (guint i = 0; i < fb->blocks->len; i++) {
    EbrRtcpReportBlock *b = &g_array_index (fb->blocks, EbrRtcpReportBlock, i);
    gdouble j;

    if (!g_hash_table_contains (f->ssrcs, GUINT_TO_POINTER (b->ssrc)))
      continue;
    any = TRUE;
    r.fraction_lost = MAX (r.fraction_lost, b->fraction_lost / 256.0);
    j = b->jitter * 1000.0 / (f->clock_rate ? f->clock_rate : 90000);
    r.jitter_ms = MAX (r.jitter_ms, j);
  }
  if (!any && !fb->nacks->len)
    return;
  r.has_report = any;
  ebr_rtcp_viewer_get_stats (f->rtcp, id, &vs);
  r.nacks = vs.nacks;
  if (f->clients->kernel && f->clients->running)
    relay_kernel_slot_counters (f->clients->kernel, c->slot, &kp, &kb, &kd);
  r.packets = kp + c->user_packets;
  if (!relay_adapt_report (c->adapt, g_get_monotonic_time (), c->limit,
          adapt_steps (f), &r, &to, &why))
    return;
  fb_log (f, G_LOG_LEVEL_INFO, "client %s:%d: automatic limit %u -> %u (%s: "
      "lost %.1f %%, jitter %.1f ms)", c->host, c->port, c->limit, to,
      relay_adapt_reason_str (why), r.fraction_lost * 100, r.jitter_ms);
  sw.host = g_strdup (c->host);
  sw.port = c->port;
  sw.from = c->limit;
  sw.to = to;
  sw.reason = why;
  g_array_append_val (f->adapt_switches, sw);
  relay_clients_set_limit (f->clients, c, to);
}

void
relay_feedback_set_switch_notify (RelayFeedback * f,
    RelayFeedbackSwitchFunc func, gpointer user_data)
{
  f->switch_func = func;
  f->switch_data = user_data;
}

/* Takes the lock: tells the switches so far, without it. */
static void
adapt_flush (RelayFeedback * f)
{
  GArray *done;

  g_mutex_lock (f->lock);
  if (f->adapt_switches->len == 0) {
    g_mutex_unlock (f->lock);
    return;
  }
  done = f->adapt_switches;
  f->adapt_switches = g_array_new (FALSE, FALSE, sizeof (AdaptSwitch));
  g_array_set_clear_func (f->adapt_switches, adapt_switch_clear);
  g_mutex_unlock (f->lock);
  for (guint i = 0; i < done->len && f->switch_func; i++) {
    AdaptSwitch *sw = &g_array_index (done, AdaptSwitch, i);

    f->switch_func (sw->host, sw->port, sw->from, sw->to,
        relay_adapt_reason_str (sw->reason), f->switch_data);
  }
  g_array_free (done, TRUE);
}

/* One datagram from @from that is RTCP or nothing, with the lock held. */
static void
handle_rtcp (RelayFeedback * f, const guint8 * data, gsize len,
    const RelayAddr * from)
{
  GstClockTime now = now_ns ();
  EbrRtcpFeedback fb;
  gint id;

  if (!f->rtcp)
    return;
  if (len < 8 || !gst_rtcp_buffer_validate_data_reduced ((guint8 *) data, len)) {
    f->malformed++;
    return;
  }
  if ((data[1] == GST_RTCP_TYPE_SR || data[1] == GST_RTCP_TYPE_RR)
      && f->sources && relay_sources_active (f->sources)
      && !sources_allow (f, from)
      && (data[1] == GST_RTCP_TYPE_SR || !is_viewer_host (f, from))) {
    /* an SR (or a non-viewer's RR first) of a sender that may not
     * publish: not sent on */
    f->rejected_source++;
    return;
  }
  if (is_senders (f, data, from)) {
    GstBuffer *buf = gst_buffer_new_memdup (data, len);

    f->sender_packets++;
    f->sender_rtcp = *from;
    f->has_sender_rtcp = TRUE;
    ebr_rtcp_sender_rtcp (f->rtcp, buf, now);
    learn_sender_ssrcs (f, buf);
    forward_down (f, buf);
    gst_buffer_unref (buf);
    return;
  }
  ebr_rtcp_feedback_init (&fb);
  id = ebr_rtcp_viewer_handle_addr (f->rtcp, data, len, from, now, &fb);
  if (id >= 0) {
    for (guint i = 0; i < fb.keyframes->len; i++) {
      EbrRtcpKeyframeRequest *k = &g_array_index (fb.keyframes,
          EbrRtcpKeyframeRequest, i);

      if (!g_hash_table_contains (f->ssrcs, GUINT_TO_POINTER (k->media_ssrc)))
        f->keyframe_unknown_ssrc++;
      else
        request_keyframe (f, k->media_ssrc, k->kind, now);
    }
    if (fb.nacks->len)
      answer_nacks (f, id, fb.nacks, now);
    if (fb.blocks->len || fb.nacks->len)
      adapt_on_report (f, id, &fb);
  }
  ebr_rtcp_feedback_clear (&fb);
}

/* The subscription channel's thread, on the shared port (takes the lock). */
static void
on_other (const guint8 * data, gsize len, const RelayAddr * from,
    gpointer user_data)
{
  RelayFeedback *f = user_data;

  g_mutex_lock (f->lock);
  handle_rtcp (f, data, len, from);
  g_mutex_unlock (f->lock);
  adapt_flush (f);
}

static gint64
next_rr (gint64 now)
{
  return now + g_random_int_range (RELAY_FEEDBACK_RR_INTERVAL_MS / 2,
      RELAY_FEEDBACK_RR_INTERVAL_MS * 3 / 2) * G_TIME_SPAN_MILLISECOND;
}

static gboolean request_video_keyframes (RelayFeedback * f, guint64 * counter);

static gpointer
feedback_thread (gpointer data)
{
  RelayFeedback *f = data;
  struct pollfd p[3];
  nfds_t np = 1;
  guint8 buf[2048];
  gint64 rr_at = next_rr (g_get_monotonic_time ()), now;

  p[0].fd = f->wake_fd;
  p[0].events = POLLIN;
  if (f->own_fd >= 0)
    p[np++].fd = f->own_fd;
  if (f->own_fd6 >= 0)
    p[np++].fd = f->own_fd6;
  for (nfds_t i = 1; i < np; i++)
    p[i].events = POLLIN;
  for (;;) {
    gint64 wake_at = rr_at, retry_at;
    guint64 v;
    int timeout;

    g_mutex_lock (f->lock);
    retry_at = f->keyframe_retry_at;
    g_mutex_unlock (f->lock);
    if (retry_at && retry_at < wake_at)
      wake_at = retry_at;
    now = g_get_monotonic_time ();
    timeout = now >= wake_at ? 0 : (int) ((wake_at - now) / 1000) + 1;
    for (nfds_t i = 0; i < np; i++)
      p[i].revents = 0;
    if (poll (p, np, timeout) < 0 && errno != EINTR)
      break;
    if (p[0].revents) {
      gboolean stop;

      if (read (f->wake_fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
        break;
      g_mutex_lock (f->lock);
      stop = f->stopping;
      g_mutex_unlock (f->lock);
      if (stop)
        break;
    }
    for (nfds_t i = 1; i < np; i++) {
      struct sockaddr_storage native;
      socklen_t flen = sizeof (native);
      RelayAddr from;
      ssize_t n;

      if (!p[i].revents)
        continue;
      while ((n = recvfrom (p[i].fd, buf, sizeof (buf), MSG_DONTWAIT,
                  (struct sockaddr *) &native, &flen)) >= 0) {
        g_mutex_lock (f->lock);
        if (relay_addr_from_native (&from, &native, flen))
          handle_rtcp (f, buf, n, &from);
        g_mutex_unlock (f->lock);
        flen = sizeof (native);
      }
    }
    /* (also what the streaming thread's RTCP, RFC 5761, switched) */
    adapt_flush (f);
    now = g_get_monotonic_time ();
    if (now >= rr_at) {
      g_mutex_lock (f->lock);
      if (f->rtcp) {
        GstBuffer *rr;

        /* kernel mode: the kernel's counts (it sees every packet, also
         * those it consumes with pass-original=false) */
        f->kernel_upstream =
            relay_sender_upstream_stats (f->sender, f->rtcp, f->clock_rate);
        rr = ebr_rtcp_build_rr (f->rtcp, now * GST_USECOND);

        if (rr)
          f->rrs_sent++;
        send_upstream (f, rr);
      }
      g_mutex_unlock (f->lock);
      rr_at = next_rr (now);
    }
    g_mutex_lock (f->lock);
    if (f->keyframe_retry_at && now >= f->keyframe_retry_at) {
      f->keyframe_retry_at = 0;
      if (f->rtcp)
        request_video_keyframes (f, &f->keyframe_retried);
    }
    g_mutex_unlock (f->lock);
  }
  return NULL;
}

/* --- starting and stopping ---------------------------------------------------- */

static void
register_viewer (RelayFeedback * f, RelayClient * c)
{
  const RelayAddr *key = &c->addr;
  guint id;

  id = ++f->next_id;

  g_hash_table_insert (f->viewer_ids, g_memdup2 (key, sizeof (*key)),
      GUINT_TO_POINTER (id));
  ebr_rtcp_viewer_add_addr (f->rtcp, id, &c->addr, c->port);
  ebr_rtcp_viewer_set_rtcp_port (f->rtcp, id, c->rtcp_port);
}

/* [::]:@port for IPv6 peers, IPv6 only; -1 (logged) when the host has no
 * IPv6 or the port is taken there. */
static int
open_socket6 (guint16 port)
{
  struct sockaddr_in6 sa = {.sin6_family = AF_INET6,.sin6_port = htons (port) };
  int one = 1, fd = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC |
      SOCK_NONBLOCK, 0);

  if (fd >= 0 && (setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
              sizeof (one)) < 0
          || bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0)) {
    close (fd);
    fd = -1;
  }
  if (fd < 0)
    g_info ("rtcp-port [::]:%u: %s: RTCP over IPv4 only", port,
        g_strerror (errno));
  return fd;
}

static gboolean
open_socket (RelayFeedback * f, GError ** error)
{
  struct sockaddr_in sa = { 0 };

  f->own_fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (f->own_fd < 0)
    goto fail;
  sa.sin_family = AF_INET;
  sa.sin_port = htons (f->port);
  if (bind (f->own_fd, (struct sockaddr *) &sa, sizeof (sa)) < 0)
    goto fail;
  f->fd = f->own_fd;
  f->own_fd6 = open_socket6 (f->port);
  f->fd6 = f->own_fd6;
  return TRUE;

fail:
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
      "rtcp-port %u: cannot open the RTCP port: %s", f->port,
      g_strerror (errno));
  return FALSE;
}

gboolean
relay_feedback_start (RelayFeedback * f, guint16 stream_port,
    RelayControlServer * control, guint control_port, gboolean originals,
    GError ** error)
{
  gint port;
  guint32 ssrc;

  g_mutex_lock (f->lock);
  port = f->rtcp_port < 0 ? stream_port + 1 : f->rtcp_port;
  /* (also without RTCP: relay_feedback_render feeds it either way) */
  if (!relay_kfburst_start (f->kfburst, originals, error))
    goto fail;
  if (f->rtcp_port == 0)
    goto done;
  if (port > 65535) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "rtcp-port: the default, the stream's port + 1, is %d: set "
        "rtcp-port (or 0 for no RTCP)", port);
    goto fail;
  }
  if (port == stream_port) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "rtcp-port %d is the stream's port (RTCP on the stream's port is "
        "always received there): use another port or 0", port);
    goto fail;
  }
  f->has_upstream = FALSE;
  if (f->upstream_str && *f->upstream_str) {
    GError *err = NULL;
    RelayAddr up;

    if (!relay_control_parse_address (f->upstream_str, &up, &err)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "upstream-rtcp '%s' is not HOST:PORT: %s", f->upstream_str,
          err->message);
      g_clear_error (&err);
      goto fail;
    }
    f->upstream = up;
    f->has_upstream = TRUE;
  }
  if (!relay_repair_start (f->repair, originals, error))
    goto fail;
  f->port = port;
  if (control && control_port == (guint) port) {
    f->control = control;
    f->fd = relay_control_server_get_fd (control);
    f->fd6 = relay_control_server_get_fd6 (control);
  } else if (!open_socket (f, error)) {
    goto fail;
  }
  f->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (f->wake_fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "rtcp-port %d: eventfd: %s", port, g_strerror (errno));
    goto fail;
  }
  ssrc = g_random_int ();
  f->rtcp = ebr_rtcp_new (ssrc, "ebpfrelaysink",
      (GstClockTime) f->keyframe_ms * GST_MSECOND);
  f->malformed = f->sender_packets = f->srs_sent = f->rrs_sent = 0;
  f->rejected_source = 0;
  f->kernel_upstream = FALSE;
  f->no_upstream = f->keyframe_unknown_ssrc = f->keyframe_join = 0;
  f->keyframe_limit = f->keyframe_nack = f->keyframe_retried = 0;
  f->keyframe_retry_at = 0;
  f->stopping = FALSE;
  f->send_errors = 0;
  f->has_sender_rtcp = f->has_media_src = FALSE;
  g_hash_table_remove_all (f->ssrcs);
  g_hash_table_remove_all (f->viewer_ids);
  for (guint i = 0; i < f->clients->clients->len; i++)
    register_viewer (f, g_ptr_array_index (f->clients->clients, i));
  f->thread = g_thread_new ("ebpfrelay-rtcp", feedback_thread, f);
  fb_log (f, G_LOG_LEVEL_INFO, "RTCP on port %d%s", port,
      f->control ? " (shared with the subscription channel)" : "");
done:
  g_mutex_unlock (f->lock);
  if (f->control)
    relay_control_server_set_other (f->control, on_other, f);
  return TRUE;

fail:
  if (f->own_fd >= 0)
    close (f->own_fd);
  if (f->own_fd6 >= 0)
    close (f->own_fd6);
  f->own_fd = f->fd = f->own_fd6 = f->fd6 = -1;
  f->control = NULL;
  relay_repair_stop (f->repair);
  g_mutex_unlock (f->lock);
  return FALSE;
}

void
relay_feedback_stop (RelayFeedback * f)
{
  RelayControlServer *control;
  GThread *thread;

  g_mutex_lock (f->lock);
  control = g_steal_pointer (&f->control);
  thread = g_steal_pointer (&f->thread);
  f->stopping = TRUE;
  g_mutex_unlock (f->lock);
  if (control)
    relay_control_server_set_other (control, NULL, NULL);
  if (thread) {
    guint64 one = 1;

    if (write (f->wake_fd, &one, sizeof (one)) != sizeof (one))
      fb_log (f, G_LOG_LEVEL_WARNING, "cannot wake the RTCP thread");
    g_thread_join (thread);
  }
  relay_kfburst_stop (f->kfburst);
  g_mutex_lock (f->lock);
  if (f->wake_fd >= 0)
    close (f->wake_fd);
  if (f->own_fd >= 0)
    close (f->own_fd);
  if (f->own_fd6 >= 0)
    close (f->own_fd6);
  f->wake_fd = f->own_fd = f->fd = -1;
  f->own_fd6 = f->fd6 = -1;
  g_clear_pointer (&f->rtcp, ebr_rtcp_free);
  relay_repair_stop (f->repair);
  g_mutex_unlock (f->lock);
}

/* --- the stream ------------------------------------------------------------- */

void
relay_feedback_set_caps (RelayFeedback * f, const GstCaps * caps)
{
  const GstStructure *st = caps && gst_caps_get_size (caps) ?
      gst_caps_get_structure (caps, 0) : NULL;
  gint rate = 0;
  guint8 codec_by_pt[PRIO_N_PT], fm_id;
  gboolean caps_video;

  if (st && gst_structure_get_int (st, "clock-rate", &rate) && rate > 0)
    f->clock_rate = rate;
  caps_video = st
      && g_strcmp0 (gst_structure_get_string (st, "media"), "video") == 0;
  ebpf_relay_priority_from_caps (caps, codec_by_pt, &fm_id);
  f->any_video = caps_video;
  relay_kfburst_set_priority (f->kfburst, codec_by_pt, fm_id);
  for (guint pt = 0; pt < PRIO_N_PT; pt++) {
    f->video_by_pt[pt] = caps_video || sw_is_video (codec_by_pt, pt);
    f->any_video |= f->video_by_pt[pt];
  }
}

gboolean
relay_feedback_render (RelayFeedback * f, GstBuffer * buffer)
{
  GstMapInfo map;
  gboolean rtcp;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return FALSE;
  if (!f->rtcp) {
    /* no RTCP: only the key-frame cache wants the stream */
    if (map.size >= 12 && (map.data[0] & 0xc0) == 0x80
        && !ebr_rtcp_is_rtcp (map.data, map.size))
      relay_kfburst_put (f->kfburst, map.data, map.size,
          g_get_monotonic_time ());
    gst_buffer_unmap (buffer, &map);
    return FALSE;
  }
  rtcp = ebr_rtcp_is_rtcp (map.data, map.size);
  if (rtcp || !f->has_media_src) {
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta (buffer);
    struct sockaddr_storage native = { 0 };
    RelayAddr from;

    if (meta && g_socket_address_to_native (meta->addr, &native,
            sizeof (native), NULL)
        && relay_addr_from_native (&from, &native, sizeof (native))) {
      if (rtcp)
        handle_rtcp (f, map.data, map.size, &from);
      else {
        f->media_src = from;
        f->has_media_src = TRUE;
      }
    } else if (rtcp) {
      f->malformed++;           /* nobody to attribute it to */
    }
  }
  /* (kernel mode: the kernel counts them, once per packet at ingress,
   * and replaces these before each RR; only the SSRC is wanted here) */
  if (!rtcp && map.size >= 12 && (f->kernel_upstream ?
          (map.data[0] & 0xc0) == 0x80 :
          ebr_rtcp_source_update (f->rtcp, buffer, f->clock_rate, now_ns ()))) {
    guint32 ssrc = GST_READ_UINT32_BE (map.data + 8);
    gboolean video = f->video_by_pt[map.data[1] & (PRIO_N_PT - 1)];

    relay_repair_put (f->repair, map.data, map.size, g_get_monotonic_time ());
    relay_kfburst_put (f->kfburst, map.data, map.size, g_get_monotonic_time ());

    if (!g_hash_table_contains (f->ssrcs, GUINT_TO_POINTER (ssrc)))
      g_hash_table_insert (f->ssrcs, GUINT_TO_POINTER (ssrc),
          GINT_TO_POINTER (1 + video));
  }
  gst_buffer_unmap (buffer, &map);
  return rtcp;
}

void
relay_feedback_set_sources (RelayFeedback * f, RelaySources * sources)
{
  f->sources = sources;
}

void
relay_feedback_set_publisher (RelayFeedback * f, const RelayAddr * addr)
{
  f->media_src = *addr;
  f->has_media_src = TRUE;
  if (f->has_sender_rtcp
      && !relay_addr_same_host (&f->sender_rtcp, &f->media_src))
    f->has_sender_rtcp = FALSE;
}

/* --- subscribers ------------------------------------------------------------ */

/* A subscriber that gets more from now on (joined, or its limit lowered)
 * starts at the sender's next key frame: ask for one of each video SSRC at
 * once, through the throttle; each one asked for counts in @counter. Whether
 * the throttle held one back. */
static gboolean
request_video_keyframes (RelayFeedback * f, guint64 * counter)
{
  GHashTableIter it;
  gpointer key, value;
  GstClockTime now = now_ns ();
  gboolean held = FALSE;

  g_hash_table_iter_init (&it, f->ssrcs);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    if (GPOINTER_TO_INT (value) != 2)
      continue;
    (*counter)++;
    if (!request_keyframe (f, GPOINTER_TO_UINT (key), EBR_RTCP_KEYFRAME_PLI,
            now))
      held = TRUE;
  }
  return held;
}

void
relay_feedback_client_added (RelayFeedback * f, RelayClient * c)
{
  g_mutex_lock (f->lock);
  if (f->rtcp) {
    register_viewer (f, c);
    /* A late joiner: the sender's next key frame, soon. */
    request_video_keyframes (f, &f->keyframe_join);
  }
  g_mutex_unlock (f->lock);
}

/* A lowered limit comes into force at the next key frame start
 * (bpf/switch.h): ask for one now. When the throttle holds the request
 * back (a key frame was asked for less than keyframe-request-interval ago,
 * maybe already arrived before this lowering), the feedback thread asks
 * again once the interval is over, so the switch never waits for the
 * encoder's own next key frame. */
void
relay_feedback_limit_lowered (RelayFeedback * f, RelayClient * c)
{
  guint64 one = 1;

  (void) c;
  if (!f->rtcp || !request_video_keyframes (f, &f->keyframe_limit)
      || f->keyframe_retry_at)
    return;
  f->keyframe_retry_at = g_get_monotonic_time () +
      (gint64) f->keyframe_ms * G_TIME_SPAN_MILLISECOND;
  if (f->wake_fd >= 0 && write (f->wake_fd, &one, sizeof (one)) < 0)
    fb_log (f, G_LOG_LEVEL_DEBUG, "cannot wake the RTCP thread");
}

void
relay_feedback_rtcp_port_changed_cb (RelayClient * c, gpointer user_data)
{
  RelayFeedback *f = user_data;
  const RelayAddr *key = &c->addr;
  gpointer id;

  if (f->rtcp && g_hash_table_lookup_extended (f->viewer_ids, key, NULL, &id))
    ebr_rtcp_viewer_set_rtcp_port (f->rtcp, GPOINTER_TO_UINT (id),
        c->rtcp_port);
}

void
relay_feedback_client_removed (RelayFeedback * f, RelayClient * c)
{
  const RelayAddr *key = &c->addr;
  gpointer id;

  g_mutex_lock (f->lock);
  if (f->rtcp && g_hash_table_lookup_extended (f->viewer_ids, key, NULL, &id)) {
    ebr_rtcp_viewer_remove (f->rtcp, GPOINTER_TO_UINT (id));
    g_hash_table_remove (f->viewer_ids, key);
  }
  relay_repair_client_removed (f->repair, c);
  g_mutex_unlock (f->lock);
}

/* --- statistics ------------------------------------------------------------- */

void
relay_feedback_add_client_stats (RelayFeedback * f, GstStructure * s,
    RelayClient * c)
{
  const RelayAddr *key = &c->addr;
  EbrRtcpViewerStats vs = { 0 };
  EbrRtcpViewerReport best = { {0}, 0, GST_CLOCK_TIME_NONE }, rep;
  gboolean have = FALSE;
  GHashTableIter it;
  gpointer id, ssrc;

  if (f->rtcp && g_hash_table_lookup_extended (f->viewer_ids, key, NULL, &id)
      && ebr_rtcp_viewer_get_stats (f->rtcp, GPOINTER_TO_UINT (id), &vs)) {
    /* the upstream SSRC it reported on last */
    g_hash_table_iter_init (&it, f->ssrcs);
    while (g_hash_table_iter_next (&it, &ssrc, NULL))
      if (ebr_rtcp_viewer_get_report (f->rtcp, GPOINTER_TO_UINT (id),
              GPOINTER_TO_UINT (ssrc), &rep) && (!have
              || rep.received > best.received)) {
        best = rep;
        have = TRUE;
      }
  }
  gst_structure_set (s,
      "rtcp-port", G_TYPE_INT, c->rtcp_port,
      "rtcp-sent", G_TYPE_UINT64, c->rtcp_sent,
      "rtcp-received", G_TYPE_UINT64, vs.rtcp_packets,
      "rtcp-ssrc", G_TYPE_UINT, vs.bound ? vs.ssrc : 0,
      "rtcp-report-blocks", G_TYPE_UINT64, vs.report_blocks,
      "pli-received", G_TYPE_UINT64, vs.plis,
      "fir-received", G_TYPE_UINT64, vs.firs,
      "nack-received", G_TYPE_UINT64, vs.nacks,
      "rtcp-has-report", G_TYPE_BOOLEAN, have,
      "rtcp-fraction-lost", G_TYPE_DOUBLE, best.block.fraction_lost / 256.0,
      "rtcp-packets-lost", G_TYPE_INT, best.block.cumulative_lost,
      "rtcp-jitter", G_TYPE_UINT, best.block.jitter,
      /* in ms with the stream's clock rate (caps), -1 without one */
      "rtcp-jitter-ms", G_TYPE_DOUBLE, f->clock_rate ?
      best.block.jitter * 1000.0 / f->clock_rate : -1.0,
      "rtt-ms", G_TYPE_DOUBLE, GST_CLOCK_TIME_IS_VALID (best.rtt) ?
      best.rtt / (gdouble) GST_MSECOND : -1.0, NULL);
  relay_repair_add_client_stats (f->repair, s, c);
  relay_kfburst_add_client_stats (f->kfburst, s, c);
}

void
relay_feedback_add_stats (RelayFeedback * f, GstStructure * s)
{
  EbrRtcpStats rs = { 0 };

  if (f->rtcp)
    ebr_rtcp_get_stats (f->rtcp, &rs);
  gst_structure_set (s,
      "rtcp-port", G_TYPE_INT, f->rtcp ? (gint) f->port : 0,
      "rtcp-unknown", G_TYPE_UINT64, rs.unattributed,
      "rtcp-malformed", G_TYPE_UINT64, f->malformed + rs.invalid,
      "rtcp-sender-packets", G_TYPE_UINT64, f->sender_packets,
      "rtcp-srs-forwarded", G_TYPE_UINT64, rs.srs_forwarded,
      "rtcp-sent-down", G_TYPE_UINT64, f->srs_sent,
      "rtcp-rr-sent", G_TYPE_UINT64, f->rrs_sent,
      "rtcp-no-upstream", G_TYPE_UINT64, f->no_upstream,
      "rtcp-send-errors", G_TYPE_UINT64, f->send_errors,
      "keyframe-requests-sent", G_TYPE_UINT64, rs.keyframe_sent,
      "keyframe-requests-suppressed", G_TYPE_UINT64, rs.keyframe_suppressed,
      "keyframe-requests-join", G_TYPE_UINT64, f->keyframe_join,
      "keyframe-requests-limit", G_TYPE_UINT64, f->keyframe_limit,
      "keyframe-requests-retried", G_TYPE_UINT64, f->keyframe_retried,
      "keyframe-requests-unknown-ssrc", G_TYPE_UINT64,
      f->keyframe_unknown_ssrc,
      "keyframe-requests-nack", G_TYPE_UINT64, f->keyframe_nack,
      "rtcp-rejected-source", G_TYPE_UINT64, f->rejected_source, NULL);
  relay_repair_add_stats (f->repair, s);
  relay_kfburst_add_stats (f->kfburst, s);
}
