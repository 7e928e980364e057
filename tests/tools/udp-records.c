/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udp-records: numbered, self-checking datagram payloads for the
 * end-to-end tests.
 *
 *   udp-records gen FILE COUNT SIZE
 *       COUNT records of SIZE bytes (SIZE >= 4): a 4-byte big-endian
 *       sequence number 0..COUNT-1, then bytes that depend only on it.
 *       `filesrc blocksize=SIZE ! udpsink` sends one record per datagram.
 *
 *   udp-records check FILE COUNT SIZE [--range]
 *       FILE holds received payloads end to end (`udpsrc ! filesink`).
 *       Without --range: exactly records 0..COUNT-1, once each,
 *       byte-identical. With --range: one contiguous run a..b (any order),
 *       each once, byte-identical; prints "a b" on stdout when it is.
 *       Always prints on stderr
 *         received=R unique=U lost=L duplicated=D corrupt=C first=A last=B
 *       Exit 0 when the file passes, 1 when not, 2 on usage or I/O errors.
 *
 *   udp-records recv PORT FILE COUNT [IDLE_MS]
 *       Receives on 0.0.0.0:PORT, appends each payload to FILE, and stops
 *       after COUNT datagrams, or IDLE_MS (default 3000) after the last one
 *       (30 s before the first), or on SIGINT/SIGTERM. Prints one line per
 *       sender: "from ADDR:PORT datagrams=N" (what `udpsrc ! filesink`
 *       cannot tell: who sent the copies).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tool-util.h"

static void
usage (void)
{
  fprintf (stderr,
      "usage: udp-records gen FILE COUNT SIZE\n"
      "       udp-records check FILE COUNT SIZE [--range]\n"
      "       udp-records recv PORT FILE COUNT [IDLE_MS]\n");
  exit (2);
}

/* The record for @seq: its number, then an xorshift sequence seeded by it,
 * so a byte out of place or a record of another stream shows. */
static void
make_record (uint8_t * rec, size_t size, uint32_t seq)
{
  uint32_t x = seq * 2654435761u + 0x9e3779b9u;
  size_t i;

  rec[0] = seq >> 24;
  rec[1] = seq >> 16;
  rec[2] = seq >> 8;
  rec[3] = seq;
  for (i = 4; i < size; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rec[i] = (uint8_t) (x ^ size);
  }
}

static int
cmd_gen (const char *path, unsigned long count, size_t size)
{
  uint8_t *rec = malloc (size);
  FILE *f = fopen (path, "wb");
  unsigned long seq;

  if (!rec || !f) {
    fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
    return 2;
  }
  for (seq = 0; seq < count; seq++) {
    make_record (rec, size, seq);
    if (fwrite (rec, 1, size, f) != size) {
      fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
      return 2;
    }
  }
  if (fclose (f) != 0) {
    fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
    return 2;
  }
  free (rec);
  return 0;
}

static int
cmd_check (const char *path, unsigned long count, size_t size, int range)
{
  uint8_t *rec = malloc (size), *want = malloc (size);
  uint8_t *seen = calloc (count ? count : 1, 1);
  FILE *f = fopen (path, "rb");
  unsigned long received = 0, unique = 0, dups = 0, corrupt = 0, lost;
  unsigned long first = 0, last = 0, seq;
  size_t n, trailing = 0;
  int ok;

  if (!rec || !want || !seen) {
    fprintf (stderr, "udp-records: out of memory\n");
    return 2;
  }
  if (!f) {
    fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
    return 2;
  }
  while ((n = fread (rec, 1, size, f)) > 0) {
    if (n < size) {
      trailing = n;
      break;
    }
    received++;
    seq = ((uint32_t) rec[0] << 24) | ((uint32_t) rec[1] << 16)
        | ((uint32_t) rec[2] << 8) | rec[3];
    if (seq >= count) {
      corrupt++;
      continue;
    }
    make_record (want, size, seq);
    if (memcmp (rec, want, size) != 0) {
      corrupt++;
      continue;
    }
    if (seen[seq]) {
      dups++;
      continue;
    }
    seen[seq] = 1;
    if (unique == 0 || seq < first)
      first = seq;
    if (unique == 0 || seq > last)
      last = seq;
    unique++;
  }
  if (ferror (f)) {
    fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
    return 2;
  }
  fclose (f);
  if (trailing) {
    fprintf (stderr, "udp-records: %s: %zu trailing bytes (a datagram of "
        "another size?)\n", path, trailing);
    corrupt++;
  }

  if (range) {
    /* Inside [first, last] nothing may be missing. */
    lost = unique ? (last - first + 1) - unique : 0;
    ok = unique > 0 && lost == 0 && dups == 0 && corrupt == 0;
  } else {
    lost = count - unique;
    ok = lost == 0 && dups == 0 && corrupt == 0;
  }

  fprintf (stderr, "%s: received=%lu unique=%lu lost=%lu duplicated=%lu "
      "corrupt=%lu first=%lu last=%lu\n", path, received, unique, lost, dups,
      corrupt, first, last);
  if (lost && lost <= 20) {
    unsigned long lo = range ? first : 0, hi = range ? last : count - 1;
    fprintf (stderr, "%s: missing:", path);
    for (seq = lo; seq <= hi && unique; seq++)
      if (!seen[seq])
        fprintf (stderr, " %lu", seq);
    if (!unique)
      fprintf (stderr, " all");
    fprintf (stderr, "\n");
  }
  if (range) {
    if (unique == 0)
      fprintf (stderr, "%s: no valid record, no run\n", path);
    else if (ok)
      printf ("%lu %lu\n", first, last);
  }

  free (rec);
  free (want);
  free (seen);
  return ok ? 0 : 1;
}

#define MAX_SENDERS 64

static int
cmd_recv (unsigned long port, const char *path, unsigned long count,
    unsigned long idle_ms)
{
  struct sockaddr_in addr = {.sin_family = AF_INET,.sin_port =
        htons ((uint16_t) port),.sin_addr.s_addr = htonl (INADDR_ANY)
  };
  struct
  {
    struct sockaddr_in from;
    unsigned long n;
  } senders[MAX_SENDERS];
  unsigned int n_senders = 0, i;
  unsigned long got = 0;
  int rcvbuf = 4 << 20, fd;
  static uint8_t buf[65536];
  FILE *out;

  tool_catch_stop ();
  out = fopen (path, "wb");
  fd = socket (AF_INET, SOCK_DGRAM, 0);
  if (!out || fd < 0) {
    fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
    return 2;
  }
  /* Root may exceed rmem_max; otherwise the plain option is enough. */
  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof (rcvbuf)))
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
  if (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0) {
    fprintf (stderr, "udp-records: bind port %lu: %s\n", port,
        strerror (errno));
    return 2;
  }
  while (!tool_stop && got < count) {
    struct pollfd p = {.fd = fd,.events = POLLIN };
    struct sockaddr_in from;
    socklen_t fromlen = sizeof (from);
    ssize_t n;
    int r = poll (&p, 1, got ? (int) idle_ms : 30000);

    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n = recvfrom (fd, buf, sizeof (buf), 0, (struct sockaddr *) &from,
        &fromlen);
    if (n < 0)
      continue;
    if (fwrite (buf, 1, (size_t) n, out) != (size_t) n) {
      fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
      return 2;
    }
    got++;
    for (i = 0; i < n_senders; i++)
      if (senders[i].from.sin_addr.s_addr == from.sin_addr.s_addr
          && senders[i].from.sin_port == from.sin_port)
        break;
    if (i == n_senders && n_senders < MAX_SENDERS) {
      senders[n_senders].from = from;
      senders[n_senders++].n = 0;
    }
    if (i < n_senders)
      senders[i].n++;
  }
  if (fclose (out) != 0) {
    fprintf (stderr, "udp-records: %s: %s\n", path, strerror (errno));
    return 2;
  }
  close (fd);
  for (i = 0; i < n_senders; i++)
    printf ("from %s:%u datagrams=%lu\n", inet_ntoa (senders[i].from.sin_addr),
        ntohs (senders[i].from.sin_port), senders[i].n);
  fflush (stdout);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 5)
    usage ();
  if (strcmp (argv[1], "recv") == 0 && (argc == 5 || argc == 6)) {
    return cmd_recv (tool_num ("PORT", argv[2], 1, 65535), argv[3],
        tool_num ("COUNT", argv[4], 1, 1ll << 31),
        argc == 6 ? tool_num ("IDLE_MS", argv[5], 1, 3600000) : 3000);
  }
  if (strcmp (argv[1], "gen") == 0 && argc == 5) {
    return cmd_gen (argv[2], tool_num ("COUNT", argv[3], 0, 1ll << 31),
        tool_num ("SIZE", argv[4], 4, 65507));
  }
  if (strcmp (argv[1], "check") == 0 && (argc == 5 || argc == 6)) {
    int range = 0;

    if (argc == 6) {
      if (strcmp (argv[5], "--range") != 0)
        usage ();
      range = 1;
    }
    return cmd_check (argv[2], tool_num ("COUNT", argv[3], 1, 1ll << 31),
        tool_num ("SIZE", argv[4], 4, 65507), range);
  }
  usage ();
  return 2;
}
