/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control-stub: the relay side of the subscription channel without
 * ebpfrelaysink, for the end-to-end test of ebpfprioritysrc's subscription
 * (tests/e2e/e2e-subscribe.sh).
 *
 *   control-stub relay CONTROL_PORT MEDIA_PORT TIMEOUT_MS [TOKEN]
 *       Serves the channel (ebpfrelay-control.c's server object) on
 *       0.0.0.0:CONTROL_PORT and forwards each datagram arriving on
 *       MEDIA_PORT, from that port, to every subscriber whose limit is at
 *       most its priority (H.264, payload type 96, classified with
 *       bpf/priority.h). Prints "add ADDR:PORT LIMIT", "limit ADDR:PORT
 *       LIMIT", "remove ADDR:PORT" as they happen; on SIGINT/SIGTERM
 *       "sent ADDR:PORT N" per subscriber ever seen and one "stats ..."
 *       line, then exits 0.
 *
 *   control-stub gen FILE COUNT
 *       COUNT H.264 RTP packets of PKT_LEN bytes, sequence numbers 0.., NAL
 *       NRI = seq % 4 (priorities 0, 5, 6, 7).
 *
 *   control-stub check FILE COUNT LIMIT [gate]
 *       FILE holds received packets end to end: exactly those of the COUNT
 *       generated whose priority is >= LIMIT, each once, in order. Prints
 *       "received=R expected=E" on stderr; exit 0 when it passes. With
 *       "gate" (a subscriber of the kernel relay there from the first
 *       packet: bpf/switch.h's rule), only from the first key frame start
 *       on.
 *
 *   control-stub subscribe-once HOST PORT
 *       Sends one SUBSCRIBE without a cookie and never answers the
 *       challenge (a spoofer's view): the relay must not add it.
 *
 *   control-stub subscribe-forged SRC_ADDR SRC_PORT HOST PORT
 *       The same SUBSCRIBE with a forged source: a raw IPv4 packet (needs
 *       CAP_NET_RAW) claiming to come from SRC_ADDR:SRC_PORT, which is
 *       where the relay's challenge then goes. The relay must never send
 *       that address media. IPv6 addresses (both): a raw IPv6 packet, with
 *       its UDP checksum (mandatory in IPv6).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <netinet/ip6.h>

#include "ebpfrelay-control-server.h"
#include "priority.h"
#include "switch.h"
#include "tool-util.h"

#define PKT_LEN 32
#define PT 96

/* --- relay ------------------------------------------------------------------ */

typedef struct
{
  struct sockaddr_in addr;
  gchar name[32];
  guint limit;
  gboolean active;
  guint64 sent;
} Sub;

static GMutex lock;
static GPtrArray *subs;         /* of Sub*, every one ever added */

static void
say (const gchar * fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
}

static Sub *
find (const gchar * addr, guint16 port)
{
  gchar name[32];
  guint i;

  g_snprintf (name, sizeof (name), "%s:%u", addr, port);
  for (i = 0; i < subs->len; i++) {
    Sub *s = g_ptr_array_index (subs, i);
    if (!strcmp (s->name, name))
      return s;
  }
  return NULL;
}

static gboolean
on_add (const gchar * addr, guint16 port, guint limit, gpointer user_data)
{
  Sub *s;

  g_mutex_lock (&lock);
  s = find (addr, port);
  if (!s) {
    s = g_new0 (Sub, 1);
    s->addr.sin_family = AF_INET;
    inet_pton (AF_INET, addr, &s->addr.sin_addr);
    s->addr.sin_port = htons (port);
    g_snprintf (s->name, sizeof (s->name), "%s:%u", addr, port);
    g_ptr_array_add (subs, s);
  }
  s->limit = limit;
  s->active = TRUE;
  say ("add %s %u", s->name, limit);
  g_mutex_unlock (&lock);
  return TRUE;
}

static gboolean
on_set_limit (const gchar * addr, guint16 port, guint limit,
    gpointer user_data)
{
  Sub *s;

  g_mutex_lock (&lock);
  s = find (addr, port);
  if (s)
    s->limit = limit;
  say ("limit %s:%u %u", addr, port, limit);
  g_mutex_unlock (&lock);
  return s != NULL;
}

static void
on_remove (const gchar * addr, guint16 port, gpointer user_data)
{
  Sub *s;

  g_mutex_lock (&lock);
  s = find (addr, port);
  if (s)
    s->active = FALSE;
  say ("remove %s:%u", addr, port);
  g_mutex_unlock (&lock);
}

static int
udp_bind (guint16 port)
{
  struct sockaddr_in a = {.sin_family = AF_INET,.sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof (a)) < 0) {
    perror ("bind");
    exit (2);
  }
  return fd;
}

static int
run_relay (guint16 cport, guint16 mport, guint timeout_ms,
    const gchar * token)
{
  static const RelayControlServerCallbacks cb = {
    on_add, on_set_limit, on_remove
  };
  guint8 codec_by_pt[PRIO_N_PT] = { 0 };
  RelayControlServerStats st;
  RelayControlServer *server;
  GError *err = NULL;
  int fd = udp_bind (mport);
  guint8 buf[2048];
  guint i;

  codec_by_pt[PT] = PRIO_CODEC_H264;
  subs = g_ptr_array_new_with_free_func (g_free);
  server = relay_control_server_new (cport, NULL, &cb, NULL, &err);
  if (!server) {
    fprintf (stderr, "%s\n", err->message);
    return 2;
  }
  relay_control_server_set_timeout (server, timeout_ms);
  relay_control_server_set_token (server, token);
  tool_catch_stop ();
  say ("ready");

  while (!tool_stop) {
    struct pollfd p = {.fd = fd,.events = POLLIN };
    struct prio_info info;
    ssize_t n;

    if (poll (&p, 1, 100) <= 0)
      continue;
    n = recv (fd, buf, sizeof (buf), MSG_DONTWAIT);
    if (n <= 0)
      continue;
    prio_classify (buf, MIN (n, PRIO_BUF_LEN), n, codec_by_pt, 0, NULL,
        &info);
    g_mutex_lock (&lock);
    for (i = 0; i < subs->len; i++) {
      Sub *s = g_ptr_array_index (subs, i);

      if (s->active && info.priority >= s->limit
          && sendto (fd, buf, n, 0, (struct sockaddr *) &s->addr,
              sizeof (s->addr)) == n)
        s->sent++;
    }
    g_mutex_unlock (&lock);
  }

  relay_control_server_get_stats (server, &st);
  relay_control_server_free (server);
  for (i = 0; i < subs->len; i++) {
    Sub *s = g_ptr_array_index (subs, i);
    say ("sent %s %" G_GUINT64_FORMAT, s->name, s->sent);
  }
  say ("stats accepted=%" G_GUINT64_FORMAT " refreshed=%" G_GUINT64_FORMAT
      " refused_token=%" G_GUINT64_FORMAT " refused_cookie=%"
      G_GUINT64_FORMAT " challenges=%" G_GUINT64_FORMAT " malformed=%"
      G_GUINT64_FORMAT " expired=%" G_GUINT64_FORMAT " unsubscribed=%"
      G_GUINT64_FORMAT, st.accepted, st.refreshed, st.refused_token,
      st.refused_cookie, st.challenges, st.malformed, st.expired,
      st.unsubscribed);
  g_ptr_array_free (subs, TRUE);
  close (fd);
  return 0;
}

/* --- packets ------------------------------------------------------------------ */

static void
make_packet (guint8 * b, guint seq)
{
  guint nri = seq % 4, i;

  b[0] = 0x80;
  b[1] = PT;
  b[2] = seq >> 8;
  b[3] = seq;
  b[4] = b[5] = 0;
  b[6] = (seq / 3) >> 8;        /* a few packets per timestamp */
  b[7] = seq / 3;
  b[8] = 0x12;
  b[9] = 0x34;
  b[10] = 0x56;
  b[11] = 0x78;
  b[12] = (nri << 5) | (nri == 3 ? 5 : 1);
  for (i = 13; i < PKT_LEN; i++)
    b[i] = (seq * 7 + i) & 0xff;
}

static guint8
packet_priority (guint seq)
{
  static const guint8 by_nri[4] = { 0, 5, 6, 7 };
  return by_nri[seq % 4];
}

static int
gen (const gchar * file, guint count)
{
  FILE *f = fopen (file, "wb");
  guint8 b[PKT_LEN];
  guint seq;

  if (!f)
    return 2;
  for (seq = 0; seq < count; seq++) {
    make_packet (b, seq);
    fwrite (b, 1, PKT_LEN, f);
  }
  return fclose (f) == 0 ? 0 : 2;
}

/* Whether a subscriber there from packet 0 gets packet @seq at @limit:
 * with @gate, switch.h's rule (the stream is H.264: it starts at a key
 * frame start; packets held before do not count as dropped). */
static gboolean
packet_wanted (guint seq, guint limit, gboolean gate, const gboolean * run)
{
  return (!gate || run[seq]) && packet_priority (seq) >= limit;
}

static int
check (const gchar * file, guint count, guint limit, gboolean gate)
{
  gchar *data = NULL;
  gsize len = 0, off;
  guint seq = 0, received, expected = 0, s;
  guint8 want[PKT_LEN];
  gboolean *run = g_new0 (gboolean, count + 1);
  struct sw_ssrc f = { 0 };
  gboolean running = FALSE;

  for (s = 0; s < count; s++) {
    if (sw_frame (&f, s / 3, packet_priority (s)) & SW_KEY_START)
      running = TRUE;
    run[s] = running;
  }
  if (!g_file_get_contents (file, &data, &len, NULL))
    len = 0;
  for (s = 0; s < count; s++)
    expected += packet_wanted (s, limit, gate, run);
  received = len / PKT_LEN;
  fprintf (stderr, "received=%u expected=%u\n", received, expected);
  if (len % PKT_LEN != 0) {
    fprintf (stderr, "%" G_GSIZE_FORMAT " bytes: not whole packets\n", len);
    return 1;
  }
  for (off = 0; off < len; off += PKT_LEN) {
    while (seq < count && !packet_wanted (seq, limit, gate, run))
      seq++;
    if (seq >= count) {
      fprintf (stderr, "more packets than expected\n");
      return 1;
    }
    make_packet (want, seq);
    if (memcmp (data + off, want, PKT_LEN) != 0) {
      fprintf (stderr, "packet %" G_GSIZE_FORMAT " is not seq %u\n",
          off / PKT_LEN, seq);
      return 1;
    }
    seq++;
  }
  g_free (data);
  g_free (run);
  return received == expected ? 0 : 1;
}

static int
subscribe_once6 (const gchar * host, guint16 port)
{
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE };
  struct sockaddr_in6 to = {.sin6_family = AF_INET6,.sin6_port = htons (port) };
  guint8 b[RELAY_CONTROL_MAX_PACKET];
  gsize n = relay_control_encode (&m, b, sizeof (b));
  int fd = socket (AF_INET6, SOCK_DGRAM, 0);

  inet_pton (AF_INET6, host, &to.sin6_addr);
  return sendto (fd, b, n, 0, (struct sockaddr *) &to, sizeof (to)) ==
      (ssize_t) n ? 0 : 2;
}

/* The one's complement sum of @len bytes at @p, added to @sum. */
static guint32
csum_add (guint32 sum, const guint8 * p, gsize len)
{
  for (gsize i = 0; i + 1 < len; i += 2)
    sum += (p[i] << 8) | p[i + 1];
  if (len & 1)
    sum += p[len - 1] << 8;
  return sum;
}

/* A raw IPv6/UDP datagram from a source we do not own (IPPROTO_RAW on
 * AF_INET6 includes the header); the UDP checksum over the pseudo-header
 * (RFC 8200 8.1). */
static int
subscribe_forged6 (const gchar * src, guint16 sport, const gchar * host,
    guint16 port)
{
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE };
  struct sockaddr_in6 to = {.sin6_family = AF_INET6 };
  guint8 pkt[sizeof (struct ip6_hdr) + sizeof (struct udphdr) +
      RELAY_CONTROL_MAX_PACKET];
  struct ip6_hdr *ip = (struct ip6_hdr *) pkt;
  struct udphdr *udp = (struct udphdr *) (ip + 1);
  gsize n = relay_control_encode (&m, (guint8 *) (udp + 1),
      RELAY_CONTROL_MAX_PACKET);
  gsize ulen = sizeof (*udp) + n, len = sizeof (*ip) + ulen;
  guint8 pseudo[8] = { 0 };
  guint32 sum;
  int fd, rc;

  memset (pkt, 0, sizeof (*ip) + sizeof (*udp));
  if (n == 0 || inet_pton (AF_INET6, src, &ip->ip6_src) != 1 ||
      inet_pton (AF_INET6, host, &ip->ip6_dst) != 1) {
    fprintf (stderr, "subscribe-forged: bad address\n");
    return 2;
  }
  ip->ip6_flow = htonl (6u << 28);
  ip->ip6_plen = htons (ulen);
  ip->ip6_nxt = IPPROTO_UDP;
  ip->ip6_hlim = 64;
  udp->source = htons (sport);
  udp->dest = htons (port);
  udp->len = htons (ulen);
  pseudo[2] = ulen >> 8;
  pseudo[3] = ulen & 0xff;
  pseudo[7] = IPPROTO_UDP;
  sum = csum_add (0, (const guint8 *) &ip->ip6_src, 32);
  sum = csum_add (sum, pseudo, 8);
  sum = csum_add (sum, (const guint8 *) udp, ulen);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  udp->check = htons (~sum & 0xffff);
  if (udp->check == 0)
    udp->check = 0xffff;
  to.sin6_addr = ip->ip6_dst;

  fd = socket (AF_INET6, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    fprintf (stderr, "subscribe-forged: raw socket: %s\n", strerror (errno));
    return 2;
  }
  rc = sendto (fd, pkt, len, 0, (struct sockaddr *) &to, sizeof (to)) ==
      (ssize_t) len ? 0 : 2;
  if (rc)
    fprintf (stderr, "subscribe-forged: sendto: %s\n", strerror (errno));
  close (fd);
  return rc;
}

static int
subscribe_once (const gchar * host, guint16 port)
{
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE };
  struct sockaddr_in to = {.sin_family = AF_INET,.sin_port = htons (port) };
  guint8 b[RELAY_CONTROL_MAX_PACKET];
  gsize n = relay_control_encode (&m, b, sizeof (b));
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  inet_pton (AF_INET, host, &to.sin_addr);
  return sendto (fd, b, n, 0, (struct sockaddr *) &to, sizeof (to)) ==
      (ssize_t) n ? 0 : 2;
}

/* One raw IPv4/UDP datagram from a source we do not own. The kernel fills
 * in the IP checksum (IP_HDRINCL); the UDP checksum is 0, "none", which
 * IPv4 allows. */
static int
subscribe_forged (const gchar * src, guint16 sport, const gchar * host,
    guint16 port)
{
  RelayControlMessage m = {.type = RELAY_CONTROL_SUBSCRIBE };
  struct sockaddr_in to = {.sin_family = AF_INET };
  guint8 pkt[sizeof (struct iphdr) + sizeof (struct udphdr) +
      RELAY_CONTROL_MAX_PACKET];
  struct iphdr *ip = (struct iphdr *) pkt;
  struct udphdr *udp = (struct udphdr *) (ip + 1);
  gsize n = relay_control_encode (&m, (guint8 *) (udp + 1),
      RELAY_CONTROL_MAX_PACKET);
  gsize len = sizeof (*ip) + sizeof (*udp) + n;
  int fd, rc;

  memset (pkt, 0, sizeof (*ip) + sizeof (*udp));
  if (n == 0 || inet_pton (AF_INET, src, &ip->saddr) != 1 ||
      inet_pton (AF_INET, host, &ip->daddr) != 1) {
    fprintf (stderr, "subscribe-forged: bad address\n");
    return 2;
  }
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons (len);
  udp->source = htons (sport);
  udp->dest = htons (port);
  udp->len = htons (sizeof (*udp) + n);
  to.sin_addr.s_addr = ip->daddr;

  fd = socket (AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    fprintf (stderr, "subscribe-forged: raw socket: %s\n", strerror (errno));
    return 2;
  }
  rc = sendto (fd, pkt, len, 0, (struct sockaddr *) &to, sizeof (to)) ==
      (ssize_t) len ? 0 : 2;
  if (rc)
    fprintf (stderr, "subscribe-forged: sendto: %s\n", strerror (errno));
  close (fd);
  return rc;
}

int
main (int argc, char **argv)
{
  if (argc >= 5 && !strcmp (argv[1], "relay"))
    return run_relay (tool_num ("CONTROL_PORT", argv[2], 0, 65535),
        tool_num ("MEDIA_PORT", argv[3], 0, 65535),
        tool_num ("TIMEOUT_MS", argv[4], 0, G_MAXUINT),
        argc > 5 ? argv[5] : NULL);
  if (argc == 4 && !strcmp (argv[1], "gen"))
    return gen (argv[2], tool_num ("COUNT", argv[3], 0, G_MAXUINT));
  if ((argc == 5 || (argc == 6 && !strcmp (argv[5], "gate")))
      && !strcmp (argv[1], "check"))
    return check (argv[2], tool_num ("COUNT", argv[3], 0, G_MAXUINT),
        tool_num ("LIMIT", argv[4], 0, G_MAXUINT), argc == 6);
  if (argc == 4 && !strcmp (argv[1], "subscribe-once"))
    return (strchr (argv[2], ':') ? subscribe_once6 : subscribe_once)
        (argv[2], tool_num ("PORT", argv[3], 0, 65535));
  if (argc == 6 && !strcmp (argv[1], "subscribe-forged"))
    return (strchr (argv[2], ':') ? subscribe_forged6 : subscribe_forged)
        (argv[2], tool_num ("SRC_PORT", argv[3], 0,
            65535), argv[4], tool_num ("PORT", argv[5], 0, 65535));
  fprintf (stderr, "usage: control-stub relay CPORT MPORT TIMEOUT_MS [TOKEN]"
      " | gen FILE COUNT | check FILE COUNT LIMIT [gate]"
      " | subscribe-once HOST PORT"
      " | subscribe-forged SRC_ADDR SRC_PORT HOST PORT\n");
  return 2;
}
