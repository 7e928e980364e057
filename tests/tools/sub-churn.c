/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sub-churn: subscribers coming and going through the relay's subscription
 * channel, for the soak test (tests/e2e/e2e-soak.sh). Each is a UDP socket
 * of its own driven by ebpfrelay-control's client, the code of
 * ebpfprioritysrc: it subscribes from its media socket, answers the relay's
 * cookie, and unsubscribes when freed.
 *
 *   sub-churn RELAY-HOST:PORT FIRST-PORT COUNT BATCH [LIMIT]
 *       COUNT subscribers on ports FIRST-PORT.. (one each), BATCH at a
 *       time: the batch's sockets are bound, all subscribe, and once every
 *       one is subscribed (10 s at most) they all unsubscribe and close;
 *       then the next batch. What the relay sends them in between (the
 *       stream) is read and counted. Prints per batch
 *         "batch K subscribed S of N media M"
 *       and at the end "subscribed S of COUNT". Exit 0 when every one
 *       subscribed, 1 when not, 2 on usage errors.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gio/gio.h>

#include "ebpfrelay-control-client.h"
#include "tool-util.h"

#define MAX_DATAGRAM 65536

typedef struct
{
  GSocket *socket;
  RelayControlClient *client;
  gint subscribed;              /* atomic: the client's last state */
} Sub;

static void
on_state (RelayControlClientState state, RelayControlReason reason,
    gpointer user_data)
{
  Sub *s = user_data;

  (void) reason;
  g_atomic_int_set (&s->subscribed, state == RELAY_CONTROL_CLIENT_SUBSCRIBED);
}

static GSocket *
bind_port (guint16 port)
{
  GError *err = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &err);
  GInetAddress *any;
  GSocketAddress *addr;

  if (!sock) {
    fprintf (stderr, "sub-churn: socket: %s\n", err->message);
    exit (1);
  }
  any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (any, port);
  if (!g_socket_bind (sock, addr, FALSE, &err)) {
    fprintf (stderr, "sub-churn: bind port %u: %s\n", port, err->message);
    exit (1);
  }
  g_object_unref (addr);
  g_object_unref (any);
  g_socket_set_blocking (sock, FALSE);
  return sock;
}

/* Reads what is there on every socket of the batch for up to @ms; control
 * messages go to their client. Returns the media datagrams read. */
static guint64
pump (Sub * subs, guint n, int ms, guint8 * buf)
{
  struct pollfd pfd[n];
  guint64 media = 0;

  for (guint i = 0; i < n; i++) {
    pfd[i].fd = g_socket_get_fd (subs[i].socket);
    pfd[i].events = POLLIN;
  }
  if (poll (pfd, n, ms) <= 0)
    return 0;
  for (guint i = 0; i < n; i++) {
    if (!(pfd[i].revents & (POLLIN | POLLERR)))
      continue;
    for (;;) {
      struct sockaddr_storage from;
      socklen_t flen = sizeof (from);
      ssize_t r = recvfrom (pfd[i].fd, buf, MAX_DATAGRAM, MSG_DONTWAIT,
          (struct sockaddr *) &from, &flen);

      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        continue;               /* ICMP errors of what it sent */
      }
      if (relay_control_is_control (buf, r)) {
        RelayAddr fa;

        relay_addr_from_native (&fa, &from, flen);
        relay_control_client_handle (subs[i].client, buf, r, &fa);
      }
      else
        media++;
    }
  }
  return media;
}

int
main (int argc, char **argv)
{
  const char *relay;
  guint first, count, batch, limit = 0, total = 0;
  guint8 *buf;

  if (argc != 5 && argc != 6) {
    fprintf (stderr, "usage: sub-churn RELAY-HOST:PORT FIRST-PORT COUNT "
        "BATCH [LIMIT]\n");
    return 2;
  }
  relay = argv[1];
  first = tool_num ("FIRST-PORT", argv[2], 1, 65535);
  count = tool_num ("COUNT", argv[3], 1, 65535);
  batch = tool_num ("BATCH", argv[4], 1, 1000);
  if (argc == 6)
    limit = tool_num ("LIMIT", argv[5], 0, 7);
  if (first + count - 1 > 65535) {
    fprintf (stderr, "sub-churn: ports %u..%u go past 65535\n", first,
        first + count - 1);
    return 2;
  }
  buf = g_malloc (MAX_DATAGRAM);

  for (guint done = 0, k = 1; done < count; k++) {
    guint n = MIN (batch, count - done), ok = 0;
    Sub *subs = g_new0 (Sub, n);
    guint64 media = 0;
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    for (guint i = 0; i < n; i++) {
      GError *err = NULL;

      subs[i].socket = bind_port (first + done + i);
      subs[i].client = relay_control_client_new (subs[i].socket, relay, NULL,
          limit, on_state, &subs[i], &err);
      if (!subs[i].client) {
        fprintf (stderr, "sub-churn: %s\n", err->message);
        return 2;
      }
      relay_control_client_start (subs[i].client);
    }
    while (ok < n && g_get_monotonic_time () < deadline) {
      media += pump (subs, n, 20, buf);
      ok = 0;
      for (guint i = 0; i < n; i++)
        ok += g_atomic_int_get (&subs[i].subscribed);
    }
    /* a little of the stream while they are all there */
    for (int i = 0; i < 5; i++)
      media += pump (subs, n, 20, buf);
    for (guint i = 0; i < n; i++) {
      relay_control_client_free (subs[i].client);
      g_object_unref (subs[i].socket);
    }
    g_free (subs);
    printf ("batch %u subscribed %u of %u media %" G_GUINT64_FORMAT "\n", k,
        ok, n, media);
    fflush (stdout);
    total += ok;
    done += n;
  }
  printf ("subscribed %u of %u\n", total, count);
  g_free (buf);
  return total == count ? 0 : 1;
}
