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

#include "priority.h"

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
  int fd;
  RelayKernel *kernel;          /* NULL: userspace mode */
  gsize frag_min_len;           /* kernel mode: a datagram up to this long
                                 * cannot have come fragmented (attached
                                 * MTUs) */
  guint8 codec_by_pt[PRIO_N_PT];        /* enum prio_codec */
  guint8 fm_id;
  gboolean rewrite_seq;

  /* userspace mode: ssrc -> prio_vp8_state */
  GHashTable *vp8_state;
  /* kernel mode: fragmented datagrams the kernel handed up (first
   * fragment's event), waiting for the datagram to reach the socket */
  GQueue frag_pending;          /* of FragPending* */
  guint64 frag_unsent;          /* records that expired unmatched */

  /* the batch: a copy is the packet, or the packet with another RTP
   * sequence number (3 pieces) */
  const guint8 *data;
  gsize len;
  gboolean is_rtp;              /* data is RTP: count per (client, SSRC) */
  guint32 ssrc;
  gsize payload_len;            /* RTP payload octets (RFC 3550 6.4.1) */
  guint n_queued;
  RelayClient *queued[SEND_BATCH];
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
  s->vp8_state = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_queue_init (&s->frag_pending);
  return s;
}

void
relay_sender_free (RelaySender * s)
{
  g_queue_clear_full (&s->frag_pending, g_free);
  g_hash_table_destroy (s->vp8_state);
  g_free (s);
}

void
relay_sender_start (RelaySender * s)
{
  s->frag_unsent = 0;
  g_hash_table_remove_all (s->vp8_state);
}

void
relay_sender_stop (RelaySender * s)
{
  g_queue_clear_full (&s->frag_pending, g_free);
}

void
relay_sender_set_fd (RelaySender * s, int fd)
{
  s->fd = fd;
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

/* --- the batch -------------------------------------------------------------- */

/* What @c was sent of the current packet's SSRC, for its SRs. */
static void
count_ssrc (RelaySender * s, RelayClient * c)
{
  gpointer key = GUINT_TO_POINTER (s->ssrc);
  RelaySsrcSent *sent = g_hash_table_lookup (c->ssrc_sent, key);

  if (!sent) {
    sent = g_new0 (RelaySsrcSent, 1);
    g_hash_table_insert (c->ssrc_sent, key, sent);
  }
  sent->packets++;
  sent->octets += s->payload_len;
}

/* Whether @data is an RTP packet (not RTCP, RFC 5761), its SSRC and its
 * payload length: without header, CSRCs, extension and padding. */
static gboolean
rtp_payload (const guint8 * data, gsize len, guint32 * ssrc, gsize * payload)
{
  gsize off = 12, pad = 0;

  if (len < 12 || (data[0] & 0xc0) != 0x80 || (data[1] >= 192
          && data[1] <= 223))
    return FALSE;
  off += 4 * (data[0] & 0x0f);
  if ((data[0] & 0x10) && off + 4 <= len)
    off += 4 + 4 * ((data[off + 2] << 8) | data[off + 3]);
  if ((data[0] & 0x20) && len > 0)
    pad = data[len - 1];
  if (off + pad > len)
    return FALSE;
  *ssrc = ((guint32) data[8] << 24) | (data[9] << 16) | (data[10] << 8) |
      data[11];
  *payload = len - off - pad;
  return TRUE;
}

gboolean
relay_sender_ssrc_counts (RelaySender * s, RelayClient * c, guint32 ssrc,
    guint32 * packets, guint32 * octets)
{
  RelaySsrcSent *sent = g_hash_table_lookup (c->ssrc_sent,
      GUINT_TO_POINTER (ssrc));
  guint64 p = sent ? sent->packets : 0, o = sent ? sent->octets : 0;

  /* kernel counts: wired when the kernel side lands. The kernel's part
   * (relay_kernel_ssrc_counts (s->kernel, c->slot, ssrc, ...)) is to be
   * added to p and o here. Until then, in kernel mode every SR keeps the
   * sender's counts (right for a limit-0 subscriber; userspace's part
   * alone would be far too low). */
  if (s->kernel || !sent)
    return FALSE;
  *packets = (guint32) p;
  *octets = (guint32) o;
  return TRUE;
}

static void
send_flush (RelaySender * s)
{
  RelayClient **batch = s->queued;
  guint n = s->n_queued, done = 0;

  s->n_queued = 0;
  while (done < n) {
    int r = sendmmsg (s->fd, s->msgs + done, n - done, 0);

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
      if (s->is_rtp)
        count_ssrc (s, batch[done + i]);
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
  s->is_rtp = rtp_payload (data, len, &s->ssrc, &s->payload_len);
}

/* Queues a copy for @c; @seq >= 0: with that RTP sequence number. */
static void
send_copy (RelaySender * s, RelayClient * c, gint seq)
{
  guint n = s->n_queued;
  struct msghdr *m = &s->msgs[n].msg_hdr;
  struct iovec *iov = s->iovs[n];
  const guint8 *data = s->data;

  memset (m, 0, sizeof (*m));
  m->msg_name = &c->addr;
  m->msg_namelen = sizeof (c->addr);
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

/* What relay.bpf.c does, with the same classifier and the same decisions
 * (bpf/priority.h). */
static void
forward_userspace (RelaySender * s, const guint8 * data, gsize len)
{
  RelayClients *t = s->clients;
  guint8 buf[PRIO_BUF_LEN] = { 0 };
  guint32 n = MIN (len, PRIO_BUF_LEN), ssrc;
  struct prio_vp8_state *vp8 = NULL;
  struct prio_info info;
  gboolean seq_on;
  guint i;

  /* The classifier reads a PRIO_BUF_LEN-byte copy, as in the kernel. */
  memcpy (buf, data, n);
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
  seq_on = s->rewrite_seq && prio_is_rtp (&info);

  send_begin (s, data, len);
  for (i = 0; i < t->n_slots; i++) {
    RelayClient *c = t->slots[i];
    gpointer key = GUINT_TO_POINTER (info.ssrc);
    guint dropped;

    if (!c)
      continue;
    /* (a client that never dropped anything has no entries) */
    dropped = seq_on && g_hash_table_size (c->seq_dropped) ?
        GPOINTER_TO_UINT (g_hash_table_lookup (c->seq_dropped, key)) : 0;
    if (prio_drops (&info, c->limit)) {
      c->user_prio_dropped++;
      if (seq_on)
        g_hash_table_insert (c->seq_dropped, key,
            GUINT_TO_POINTER (dropped + 1));
      continue;
    }
    send_copy (s, c, seq_on ? prio_out_seq (info.seq, dropped) : -1);
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
relay_sender_send (RelaySender * s, const guint8 * data, gsize len)
{
  if (!s->kernel) {
    forward_userspace (s, data, len);
  } else if (len > s->frag_min_len && !send_fragment (s, data, len)) {
    relay_kernel_poll (s->kernel);
    send_fragment (s, data, len);
  }
}
