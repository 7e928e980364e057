/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool-util.h: what the small C tools of bench/ and tests/tools/ (and the
 * BPF test harness) share: a strict number parser for their arguments, a
 * monotonic clock, a stop flag set by SIGINT/SIGTERM, big-endian stores,
 * the RTP fixed header and an IPv4-or-IPv6 socket address. Plain C,
 * header only.
 */
#ifndef __TOOL_UTIL_H__
#define __TOOL_UTIL_H__

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* glibc's name of the running program, for messages (errno.h declares it
 * only with _GNU_SOURCE). */
extern char *program_invocation_short_name;

/* @s, the argument @what, as a decimal integer in [@min, @max]; anything
 * else (trailing characters, out of range) exits 2 with a message naming
 * the argument. */
static inline long long
tool_num (const char *what, const char *s, long long min, long long max)
{
  char *end;
  long long v;

  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    fprintf (stderr, "%s: bad %s '%s' (%lld..%lld)\n",
        program_invocation_short_name, what, s, min, max);
    exit (2);
  }
  return v;
}

/* The same for a real number (rates, durations). */
static inline double
tool_real (const char *what, const char *s, double min, double max)
{
  char *end;
  double v;

  errno = 0;
  v = strtod (s, &end);
  if (errno || end == s || *end || v < min || v > max) {
    fprintf (stderr, "%s: bad %s '%s' (%g..%g)\n",
        program_invocation_short_name, what, s, min, max);
    exit (2);
  }
  return v;
}

static inline uint64_t
tool_clock_ns (clockid_t c)
{
  struct timespec ts;

  clock_gettime (c, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint64_t
tool_mono_ns (void)
{
  return tool_clock_ns (CLOCK_MONOTONIC);
}

static inline uint64_t
tool_mono_ms (void)
{
  return tool_mono_ns () / 1000000;
}

/* Set by SIGINT and SIGTERM once tool_catch_stop () ran; blocking calls
 * return EINTR (no SA_RESTART), so loops see it at once. */
static volatile sig_atomic_t tool_stop;

static inline void
tool_on_stop (int sig)
{
  (void) sig;
  tool_stop = 1;
}

static inline void
tool_catch_stop (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = tool_on_stop;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

static inline void
tool_put16 (uint8_t * p, uint16_t v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static inline void
tool_put32 (uint8_t * p, uint32_t v)
{
  tool_put16 (p, v >> 16);
  tool_put16 (p + 2, v);
}

/* The 12-byte RTP fixed header: @b0 is its first byte (0x80: version 2;
 * 0x90 with an extension). */
static inline void
tool_rtp_header (uint8_t * p, uint8_t b0, uint8_t pt, uint16_t seq,
    uint32_t ts, uint32_t ssrc)
{
  p[0] = b0;
  p[1] = pt;
  tool_put16 (p + 2, seq);
  tool_put32 (p + 4, ts);
  tool_put32 (p + 8, ssrc);
}

/* A socket address: an IPv4 literal or an IPv6 one (no brackets, as
 * inet_pton takes it) and @port, its length, family and port readable
 * and writable whatever the family. */
typedef struct
{
  union
  {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
  } u;
  socklen_t len;
} ToolAddr;

/* @host and @port into @a; 0, or -1 when @host is neither family's
 * literal. */
static inline int
tool_addr (ToolAddr * a, const char *host, int port)
{
  memset (a, 0, sizeof (*a));
  if (inet_pton (AF_INET, host, &a->u.in.sin_addr) == 1) {
    a->u.in.sin_family = AF_INET;
    a->u.in.sin_port = htons ((uint16_t) port);
    a->len = sizeof (a->u.in);
    return 0;
  }
  if (inet_pton (AF_INET6, host, &a->u.in6.sin6_addr) == 1) {
    a->u.in6.sin6_family = AF_INET6;
    a->u.in6.sin6_port = htons ((uint16_t) port);
    a->len = sizeof (a->u.in6);
    return 0;
  }
  return -1;
}

static inline void
tool_addr_set_port (ToolAddr * a, int port)
{
  if (a->u.sa.sa_family == AF_INET6)
    a->u.in6.sin6_port = htons ((uint16_t) port);
  else
    a->u.in.sin_port = htons ((uint16_t) port);
}

/* The wildcard address of @a's family, port @port. */
static inline void
tool_addr_any (ToolAddr * any, const ToolAddr * a, int port)
{
  tool_addr (any, a->u.sa.sa_family == AF_INET6 ? "::" : "0.0.0.0", port);
}

#endif
