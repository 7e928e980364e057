/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The userspace sender of ebpfrelaysink: see ebpfrelay-send.h for what it
 * owns and which lock protects it.
 */
#define _GNU_SOURCE
#include "ebpfrelay-send.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>

#include "priority.h"
#include "ebpfrelay-kfburst.h"

#define SEND_BATCH 64
/* A fragmented datagram is known by its length and first bytes. */
#define FRAG_PREFIX 64

typedef struct
{
  gint64 since;
  guint16 len, prefix_len;
  guint8 prefix[FRAG_PREFIX];
  guint32 flags;
  guint n;
  struct relay_event_entry entries[];
} FragPending;

struct _RelaySender
{
  RelayClients *clients;
  RelayLogFunc log;
  gpointer log_data;
  int fd;                       /* the stream's socket (borrowed) */
  int fd_family;                /* its family: AF_INET, AF_INET6 or 0 */
  gboolean fd_dual;             /* a v6 socket on [::] that sends to v4
                                 * (v4-mapped) too */
  /* our own socket for the family the stream's is not (opened at the
   * first copy to that family), and whether opening it failed */
  int own_fd;
  gboolean own_failed;
  /* sockets given per family (multiudpsink's socket, socket-v6): copies
   * to that family leave from them (-1: none) */
  int given_fd4, given_fd6;
  /* told of each socket copies leave from (the multiudpsink options) */
  RelaySenderSocketFunc socket_func;
  gpointer socket_data;
  RelayKernel *kernel;          /* NULL: userspace mode */
  RelayKfBurst *kfburst;        /* joiners' copies wait for their burst */
  gsize frag_min_len;           /* kernel mode: a datagram up to this long
                                 * cannot have come fragmented (attached
                                 * MTUs) */
  guint8 codec_by_pt[PRIO_N_PT];        /* enum prio_codec */
  guint8 fm_id;
  gboolean rewrite_seq;
  guint64 prio_packets[PRIO_MAX + 1];   /* classified here, per priority */

  /* userspace mode: ssrc -> prio_vp8_state, and ssrc -> struct sw_ssrc
   * (its frames, bpf/switch.h), bounded like the kernel's maps */
  GHashTable *vp8_state;
  GHashTable *frames;
  /* kernel mode: fragmented datagrams the kernel handed up (first
   * fragment's event), waiting for the datagram to reach the socket */
  GQueue frag_pending;          /* of FragPending* */
  guint64 frag_unsent;          /* records that expired unmatched */

  /* the batch: a copy is the packet, or the packet with another RTP
   * sequence number (3 pieces) */
  const guint8 *data;
  gsize len;
  guint n_queued;
  int batch_fd;                 /* the socket the queued copies leave from */
  RelayClient *queued[SEND_BATCH];
  RelayAddr names[SEND_BATCH];
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iovs[SEND_BATCH][3];
  guint8 seqs[SEND_BATCH][2];
};

RelaySender *
relay_sender_new (RelayClients * clients, RelayLogFunc log, gpointer log_data)
{
  RelaySender *s = g_new0 (RelaySender, 1);

  s->clients = clients;
  s->log = log;
  s->log_data = log_data;
  s->fd = -1;
  s->own_fd = -1;
  s->given_fd4 = s->given_fd6 = -1;
  s->vp8_state = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s->frames = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_queue_init (&s->frag_pending);
  return s;
}

void
relay_sender_free (RelaySender * s)
{
  g_queue_clear_full (&s->frag_pending, g_free);
  if (s->own_fd >= 0)
    close (s->own_fd);
  g_hash_table_destroy (s->vp8_state);
  g_hash_table_destroy (s->frames);
  g_free (s);
}

void
relay_sender_start (RelaySender * s)
{
  s->frag_unsent = 0;
  g_hash_table_remove_all (s->vp8_state);
  g_hash_table_remove_all (s->frames);
}

void
relay_sender_stop (RelaySender * s)
{
  g_queue_clear_full (&s->frag_pending, g_free);
}

void
relay_sender_set_kfburst (RelaySender * s, struct _RelayKfBurst *kfburst)
{
  s->kfburst = kfburst;
}

void
relay_sender_set_fd (RelaySender * s, int fd)
{
  struct sockaddr_in6 sa;
  socklen_t len = sizeof (sa);
  int v6only = 1;
  socklen_t olen = sizeof (v6only);

  s->fd = fd;
  s->fd_family = 0;
  s->fd_dual = FALSE;
  if (s->own_fd >= 0) {
    if (s->socket_func)
      s->socket_func (s->own_fd, FALSE, s->socket_data);
    close (s->own_fd);
  }
  s->own_fd = -1;
  s->own_failed = FALSE;
  if (fd >= 0 && s->socket_func)
    s->socket_func (fd, TRUE, s->socket_data);
  if (fd < 0 || getsockname (fd, (struct sockaddr *) &sa, &len) < 0)
    return;
  s->fd_family = sa.sin6_family;
  if (sa.sin6_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED (&sa.sin6_addr)
      && getsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &olen) == 0)
    s->fd_dual = !v6only;
}

void
relay_sender_set_socket_func (RelaySender * s, RelaySenderSocketFunc func,
    gpointer user_data)
{
  s->socket_func = func;
  s->socket_data = user_data;
}

int
relay_sender_family_fd (RelaySender * s, int family)
{
  if (family == AF_INET && s->given_fd4 >= 0)
    return s->given_fd4;
  if (family == AF_INET6 && s->given_fd6 >= 0)
    return s->given_fd6;
  if (s->fd >= 0 && (family == s->fd_family || s->fd_family == 0
          || (family == AF_INET && s->fd_dual)))
    return s->fd;
  return s->own_fd;
}

void
relay_sender_set_family_fd (RelaySender * s, int family, int fd)
{
  if (family == AF_INET6)
    s->given_fd6 = fd;
  else
    s->given_fd4 = fd;
  if (fd >= 0 && s->socket_func)
    s->socket_func (fd, TRUE, s->socket_data);
}

static void
G_GNUC_PRINTF (3, 4)
sender_log (RelaySender * s, GLogLevelFlags level, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  if (!s->log)
    return;
  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  s->log (level, msg, s->log_data);
  g_free (msg);
}

/* Our own socket of @family: bound to the stream's port in that family
 * (IPV6_V6ONLY for IPv6, so it never shares the v4 port), so copies leave
 * from the stream's port in both families; an ephemeral port when that
 * port is taken. It only sends: a filter drops whatever reaches it. */
static int
open_own (RelaySender * s, int family)
{
  static struct sock_filter drop_all[] = { BPF_STMT (BPF_RET | BPF_K, 0) };
  struct sock_fprog prog = { 1, drop_all };
  RelayAddr a = { 0 };
  int fd, one = 1;
  guint16 port = s->clients->port;

  fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail;
  if (family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof (one));
  setsockopt (fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof (prog));
  a.sa.sa_family = family;
  a.v4.sin_port = htons (port); /* same offset in sockaddr_in6 */
  if (bind (fd, &a.sa, relay_addr_len (&a)) < 0) {
    sender_log (s, G_LOG_LEVEL_WARNING, "cannot bind an IPv%d socket to "
        "port %u (%s): copies to IPv%d subscribers leave from another port",
        family == AF_INET6 ? 6 : 4, port, g_strerror (errno),
        family == AF_INET6 ? 6 : 4);
    a.v4.sin_port = 0;
    if (bind (fd, &a.sa, relay_addr_len (&a)) < 0)
      goto fail;
  }
  if (s->socket_func)
    s->socket_func (fd, TRUE, s->socket_data);
  return fd;

fail:
  sender_log (s, G_LOG_LEVEL_WARNING, "cannot open an IPv%d socket: %s: "
      "IPv%d subscribers get nothing", family == AF_INET6 ? 6 : 4,
      g_strerror (errno), family == AF_INET6 ? 6 : 4);
  if (fd >= 0)
    close (fd);
  return -1;
}

/* The socket @c's copies leave from (-1: none), and its address for that
 * socket in @name (v4-mapped for a v4 subscriber on a dual-stack v6
 * socket). Each subscriber is served in its own family. */
static int
dest_for (RelaySender * s, const RelayClient * c, RelayAddr * name)
{
  int family = c->addr.sa.sa_family;

  *name = c->addr;
  if (family == AF_INET && s->given_fd4 >= 0)
    return s->given_fd4;
  if (family == AF_INET6 && s->given_fd6 >= 0)
    return s->given_fd6;
  if (s->fd < 0)
    return -1;
  if (family == s->fd_family || s->fd_family == 0)
    return s->fd;
  if (family == AF_INET && s->fd_dual) {
    memset (name, 0, sizeof (*name));
    name->v6.sin6_family = AF_INET6;
    name->v6.sin6_port = c->addr.v4.sin_port;
    name->v6.sin6_addr.s6_addr[10] = name->v6.sin6_addr.s6_addr[11] = 0xff;
    memcpy (&name->v6.sin6_addr.s6_addr[12], &c->addr.v4.sin_addr, 4);
    return s->fd;
  }
  if (s->own_fd < 0 && !s->own_failed) {
    s->own_fd = open_own (s, family);
    s->own_failed = s->own_fd < 0;
  }
  return s->own_fd;
}

void
relay_sender_set_priority (RelaySender * s,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id, gboolean rewrite_seq)
{
  memcpy (s->codec_by_pt, codec_by_pt, sizeof (s->codec_by_pt));
  s->fm_id = fm_id;
  s->rewrite_seq = rewrite_seq;
}

void
relay_sender_set_kernel (RelaySender * s, RelayKernel * kernel, guint mtu)
{
  s->kernel = kernel;
  /* the largest IPv4 header (60) and the UDP header */
  s->frag_min_len = mtu > 68 ? mtu - 68 : 0;
}

guint64
relay_sender_fragments_unsent (RelaySender * s)
{
  return s->frag_unsent;
}

gboolean
relay_sender_upstream_stats (RelaySender * s, EbrRtcp * rtcp,
    guint32 clock_rate)
{
  guint32 ssrcs[31];
  RelayKernelUpstream u;
  guint i, n;

  if (!s->kernel)
    return FALSE;
  relay_kernel_set_clock_rate (s->kernel, clock_rate);
  n = relay_kernel_upstream_ssrcs (s->kernel, ssrcs, G_N_ELEMENTS (ssrcs));
  for (i = 0; i < n; i++)
    if (relay_kernel_upstream_stats (s->kernel, ssrcs[i], &u))
      ebr_rtcp_source_set (rtcp, ssrcs[i], u.base_seq, u.cycles,
          (guint16) u.ext_highest_seq, u.received, u.jitter);
  return TRUE;
}

/* --- the batch -------------------------------------------------------------- */

gboolean
relay_sender_ssrc_counts (RelaySender * s, RelayClient * c, guint32 ssrc,
    guint32 * packets, guint32 * octets)
{
  RelaySsrcState *st;
  RelayBurstSent *burst = c->kf_sent ? g_hash_table_lookup (c->kf_sent,
      GUINT_TO_POINTER (ssrc)) : NULL;
  gboolean have;

  /* In kernel mode the kernel decides for every slot, also for the copies
   * it leaves to userspace, and counts them all (sub_ssrcs). */
  if (s->kernel) {
    have = relay_kernel_ssrc_counts (s->kernel, c->slot, ssrc, packets,
        octets, NULL, NULL);
  } else {
    st = g_hash_table_lookup (c->ssrcs, GUINT_TO_POINTER (ssrc));
    have = st != NULL;
    if (st) {
      *packets = st->packets;
      *octets = st->octets;
    }
  }
  /* what a key-frame burst sent it (the viewer counts those too) */
  if (burst) {
    if (!have)
      *packets = *octets = 0;
    *packets += burst->packets;
    *octets += burst->octets;
    have = TRUE;
  }
  return have;
}

gboolean
relay_sender_ssrc_log (RelaySender * s, RelayClient * c, guint32 ssrc,
    struct seqlog *log, guint32 * dropped, gboolean * rewrite)
{
  RelaySsrcState *st;

  *rewrite = s->rewrite_seq;
  if (s->kernel)
    return relay_kernel_ssrc_log (s->kernel, c->slot, ssrc, log, dropped);
  st = g_hash_table_lookup (c->ssrcs, GUINT_TO_POINTER (ssrc));
  if (!st)
    return FALSE;
  *log = st->log;
  *dropped = st->dropped;
  return TRUE;
}

gboolean
relay_sender_send_one (RelaySender * s, RelayClient * c, const guint8 * data,
    gsize len)
{
  ssize_t r;
  RelayAddr name;
  int fd = dest_for (s, c, &name);

  if (fd < 0) {
    errno = ENOTCONN;
    return FALSE;
  }
  do {
    r = sendto (fd, data, len, 0, &name.sa, relay_addr_len (&name));
  } while (r < 0 && errno == EINTR);
  return r == (ssize_t) len;
}

static void
send_flush (RelaySender * s)
{
  RelayClient **batch = s->queued;
  guint n = s->n_queued, done = 0;

  s->n_queued = 0;
  while (done < n) {
    int r = sendmmsg (s->batch_fd, s->msgs + done, n - done, 0);

    if (r < 0) {
      if (errno == EINTR)
        continue;
      /* count the failing one and go on with the rest */
      if (s->log) {
        gchar *msg = g_strdup_printf ("send to %s:%d failed: %s",
            batch[done]->host, batch[done]->port, g_strerror (errno));

        s->log (RELAY_LOG_LEVEL_TRACE, msg, s->log_data);
        g_free (msg);
      }
      batch[done]->user_errors++;
      done++;
      continue;
    }
    for (int i = 0; i < r; i++) {
      batch[done + i]->user_packets++;
      batch[done + i]->user_bytes += s->len;
    }
    done += r;
  }
}

/* Sends of @data (@len bytes) follow, with send_copy. */
static void
send_begin (RelaySender * s, const guint8 * data, gsize len)
{
  s->data = data;
  s->len = len;
  s->n_queued = 0;
}

static void queue_copy (RelaySender * s, RelayClient * c, gint seq);

/* Queues a copy for @c, or as many as it was added (send-duplicates);
 * @seq >= 0: with that RTP sequence number. */
static void
send_copy (RelaySender * s, RelayClient * c, gint seq)
{
  guint copies;

  /* a joiner with a key-frame burst pending: after the burst */
  if (G_UNLIKELY (c->kf_hold)
      && relay_kfburst_divert (s->kfburst, c, s->data, s->len, seq))
    return;
  copies = relay_clients_copies (s->clients, c);
  for (guint i = 0; i < copies; i++)
    queue_copy (s, c, seq);
}

static void
queue_copy (RelaySender * s, RelayClient * c, gint seq)
{
  guint n = s->n_queued;
  struct msghdr *m = &s->msgs[n].msg_hdr;
  struct iovec *iov = s->iovs[n];
  const guint8 *data = s->data;
  int fd;

  fd = dest_for (s, c, &s->names[n]);
  if (G_UNLIKELY (fd < 0)) {
    c->user_errors++;
    return;
  }
  /* one batch per socket: a copy to the other family sends the batch */
  if (n > 0 && fd != s->batch_fd) {
    send_flush (s);
    n = 0;
    m = &s->msgs[0].msg_hdr;
    iov = s->iovs[0];
    dest_for (s, c, &s->names[0]);
  }
  s->batch_fd = fd;
  memset (m, 0, sizeof (*m));
  m->msg_name = &s->names[n];
  m->msg_namelen = relay_addr_len (&s->names[n]);
  m->msg_iov = iov;
  iov[0].iov_base = (void *) data;
  if (seq < 0 || s->len < 4 || seq == ((data[2] << 8) | data[3])) {
    iov[0].iov_len = s->len;
    m->msg_iovlen = 1;
  } else {
    s->seqs[n][0] = seq >> 8;
    s->seqs[n][1] = seq & 0xff;
    iov[0].iov_len = 2;
    iov[1].iov_base = s->seqs[n];
    iov[1].iov_len = 2;
    iov[2].iov_base = (void *) (data + 4);
    iov[2].iov_len = s->len - 4;
    m->msg_iovlen = 3;
  }
  s->queued[n] = c;
  if (++s->n_queued == SEND_BATCH)
    send_flush (s);
}

/* Sends @data to the @n slots of @entries, with their sequence numbers
 * when @flags has RELAY_EVENT_SEQ; a slot emptied since is skipped. */
static void
send_to_entries (RelaySender * s, const guint8 * data, gsize len,
    guint32 flags, const struct relay_event_entry *entries, guint n)
{
  RelayClients *t = s->clients;

  send_begin (s, data, len);
  for (guint i = 0; i < n; i++) {
    struct relay_event_entry e;
    RelayClient *c;

    memcpy (&e, &entries[i], sizeof (e));
    c = e.slot < t->n_slots ? t->slots[e.slot] : NULL;
    if (c)
      send_copy (s, c, (flags & RELAY_EVENT_SEQ) ? e.seq : -1);
  }
  send_flush (s);
}

/* --- userspace mode --------------------------------------------------------- */

/* What the packet (classified as @info) is to its SSRC's frames
 * (bpf/switch.h), as relay.bpf.c's frame_state tells it. */
static int
rtp_frame (RelaySender * s, const struct prio_info *info)
{
  gpointer key = GUINT_TO_POINTER (info->ssrc);
  struct sw_ssrc *f = g_hash_table_lookup (s->frames, key);

  if (!f) {
    if (g_hash_table_size (s->frames) >= RELAY_MAX_FRAME_SSRCS)
      g_hash_table_remove_all (s->frames);
    f = g_new0 (struct sw_ssrc, 1);
    g_hash_table_insert (s->frames, key, f);
  }
  return sw_frame (f, info->ts, info->priority);
}

/* @c's state of @info's SSRC: found, or new (bpf/switch.h's initial
 * state); NULL when it has RELAY_SSRCS_PER_SUB others, as in the kernel. */
static RelaySsrcState *
ssrc_state (RelaySender * s, RelayClient * c, const struct prio_info *info)
{
  gpointer key = GUINT_TO_POINTER (info->ssrc);
  RelaySsrcState *st = g_hash_table_lookup (c->ssrcs, key);

  if (st || g_hash_table_size (c->ssrcs) >= RELAY_SSRCS_PER_SUB)
    return st;
  st = g_new0 (RelaySsrcState, 1);
  sw_sub_init (&st->sw, s->codec_by_pt, info->pt, c->limit);
  if (c->kf_hold)
    sw_sub_start_burst (&st->sw);       /* ebpfrelay-kfburst */
  g_hash_table_insert (c->ssrcs, key, st);
  return st;
}

/* What relay.bpf.c does, with the same classifier (bpf/priority.h), the
 * same rule for starts (bpf/switch.h) and the same decisions, per slot:
 * RTCP on the media port is never forwarded (the element hands it to the
 * feedback plane before this); an RTP packet is held back from a
 * subscriber waiting for a key frame of its SSRC, dropped below its limit
 * (lowering its later sequence numbers), or sent and counted for its SRs;
 * anything else is sent. */
static void
forward_userspace (RelaySender * s, const guint8 * data, gsize len)
{
  RelayClients *t = s->clients;
  guint8 buf[PRIO_BUF_LEN] = { 0 };
  guint32 n = MIN (len, PRIO_BUF_LEN), ssrc, octets = 0;
  struct prio_vp8_state *vp8 = NULL;
  struct prio_info info;
  gboolean rtp, seq_on;
  int frame = 0;
  guint i;

  /* The classifier reads a PRIO_BUF_LEN-byte copy, as in the kernel. */
  memcpy (buf, data, n);
  if (sw_is_rtcp (buf, n))
    return;
  if (prio_wants_vp8_state (buf, n, s->codec_by_pt, &ssrc)) {
    vp8 = g_hash_table_lookup (s->vp8_state, GUINT_TO_POINTER (ssrc));
    if (!vp8) {
      /* bounded, like the kernel's LRU map */
      if (g_hash_table_size (s->vp8_state) >= RELAY_MAX_VP8_SSRCS)
        g_hash_table_remove_all (s->vp8_state);
      vp8 = g_new0 (struct prio_vp8_state, 1);
      g_hash_table_insert (s->vp8_state, GUINT_TO_POINTER (ssrc), vp8);
    }
  }
  prio_classify (buf, n, len, s->codec_by_pt, s->fm_id, vp8, &info);
  s->prio_packets[info.priority & PRIO_MAX]++;
  rtp = prio_is_rtp (&info);
  seq_on = s->rewrite_seq && rtp;
  if (rtp) {
    frame = rtp_frame (s, &info);
    octets = sw_payload_octets (len, info.payload_off,
        (data[0] & 0x20) ? data[len - 1] : 0);
  }

  send_begin (s, data, len);
  for (i = 0; i < t->n_slots; i++) {
    RelayClient *c = t->slots[i];
    RelaySsrcState *st;
    gint seq = -1;

    if (!c)
      continue;
    st = rtp ? ssrc_state (s, c, &info) : NULL;
    if (st) {
      switch (sw_decide (&st->sw, frame, info.priority, c->limit)) {
        case SW_HOLD:
          c->user_held++;
          continue;
        case SW_DROP:
          c->user_prio_dropped++;
          if (seq_on)
            st->dropped++;
          seqlog_note (&st->log, info.seq, 1);
          continue;
        default:
          break;
      }
      if (seq_on)
        seq = prio_out_seq (info.seq, st->dropped);
      seqlog_note (&st->log, info.seq, 0);
      st->packets++;
      st->octets += octets;
    } else if (!seq_on && prio_drops (&info, c->limit)) {
      /* not RTP (never dropped), or no room for this SSRC: its sequence
       * numbers stay right only if nothing is dropped */
      c->user_prio_dropped++;
      continue;
    }
    send_copy (s, c, seq);
  }
  send_flush (s);
}

/* --- kernel mode ------------------------------------------------------------ */

/* Called from relay_kernel_poll: the kernel decided who gets this packet,
 * with which sequence number; send it. A fragment's event waits for its
 * datagram (send_fragment). */
static void
on_kernel_event (const struct relay_event *ev,
    const struct relay_event_entry *entries, const guint8 * payload,
    gpointer user_data)
{
  RelaySender *s = user_data;
  FragPending *f;

  if (!(ev->flags & RELAY_EVENT_FRAGMENT)) {
    send_to_entries (s, payload, ev->payload_len, ev->flags, entries,
        ev->n_entries);
    return;
  }
  f = g_malloc (sizeof (FragPending) +
      ev->n_entries * sizeof (struct relay_event_entry));
  f->since = g_get_monotonic_time ();
  f->len = ev->payload_len;
  f->prefix_len = MIN (ev->frag_avail, FRAG_PREFIX);
  memcpy (f->prefix, payload, f->prefix_len);
  f->flags = ev->flags;
  f->n = ev->n_entries;
  memcpy (f->entries, entries, f->n * sizeof (struct relay_event_entry));
  if (g_queue_get_length (&s->frag_pending) >= RELAY_SEND_FRAG_PENDING_MAX) {
    g_free (g_queue_pop_head (&s->frag_pending));
    s->frag_unsent++;
  }
  g_queue_push_tail (&s->frag_pending, f);
}

/* @data came up whole: if the kernel left it to userspace as fragments,
 * sends it to the slots named then. FALSE when no event matches. */
static gboolean
send_fragment (RelaySender * s, const guint8 * data, gsize len)
{
  GList *l;

  for (l = s->frag_pending.head; l; l = l->next) {
    FragPending *f = l->data;

    if (f->len != len || memcmp (f->prefix, data, f->prefix_len) != 0)
      continue;
    send_to_entries (s, data, len, f->flags, f->entries, f->n);
    g_queue_delete_link (&s->frag_pending, l);
    g_free (f);
    return TRUE;
  }
  return FALSE;
}

RelayKernel *
relay_sender_open_kernel (RelaySender * s, guint16 port, gchar ** ifnames,
    GError ** error)
{
  RelayKernel *k;

  if (!ifnames[0]) {
    g_set_error (error, RELAY_KERNEL_ERROR, RELAY_KERNEL_ERROR_NO_DEVICE,
        "no interface to attach to (none is up besides loopback)");
    return NULL;
  }
  k = relay_kernel_new (port, on_kernel_event, s, error);
  if (!k)
    return NULL;
  for (guint i = 0; ifnames[i]; i++) {
    if (!relay_kernel_attach (k, ifnames[i], error)) {
      relay_kernel_free (k);
      return NULL;
    }
  }
  return k;
}

void
relay_sender_expire_fragments (RelaySender * s, gint64 now)
{
  FragPending *f;

  while ((f = g_queue_peek_head (&s->frag_pending)) &&
      now - f->since > RELAY_SEND_FRAG_PENDING_US) {
    g_free (g_queue_pop_head (&s->frag_pending));
    s->frag_unsent++;
  }
}

/* --- either mode ------------------------------------------------------------ */

gboolean
relay_sender_wants (RelaySender * s, gsize len)
{
  return s->kernel ? len > s->frag_min_len : s->clients->n_slots > 0;
}

void
relay_sender_forward (RelaySender * s, const guint8 * data, gsize len)
{
  forward_userspace (s, data, len);
}

void
relay_sender_send_all (RelaySender * s, const guint8 * data, gsize len)
{
  RelayClients *t = s->clients;

  send_begin (s, data, len);
  for (guint i = 0; i < t->n_slots; i++)
    if (t->slots[i])
      send_copy (s, t->slots[i], -1);
  send_flush (s);
}

void
relay_sender_send (RelaySender * s, const guint8 * data, gsize len)
{
  if (!s->kernel) {
    forward_userspace (s, data, len);
  } else if (len > s->frag_min_len && !send_fragment (s, data, len)) {
    relay_kernel_poll (s->kernel);
    send_fragment (s, data, len);
  }
}

void
relay_sender_priority_counts (RelaySender * s, guint64 out[PRIO_MAX + 1])
{
  memcpy (out, s->prio_packets, sizeof (s->prio_packets));
}
