/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-sources: who may publish to the relay (the publisher lock of
 * ebpfrelaysink's sources, source-latch and source-timeout), and which
 * addresses are the relay's own. GLib only, no element: the sink, its
 * feedback plane and the unit test (tests/test-sources.c) use it; the
 * kernel gets the same rules through ebpfrelay-kernel (relay.h,
 * RELAY_SRC_*).
 *
 * The rule (the same in relay.bpf.c's relay_source_ok):
 *  - sources empty and no latch: any sender (multiudpsink's behaviour);
 *  - sources "host" or "host:port" entries (IPv6 literals in brackets,
 *    "[2001:db8::1]" or "[2001:db8::1]:5004", as clients takes them): a
 *    datagram is accepted when its sender is (host, port), or (host, any
 *    port) for a "host" entry; IPv4 and IPv6 senders alike (a v4-mapped
 *    sender, on a dual-stack socket, is the IPv4 one: RelayAddr's rule);
 *  - latch: the first accepted sender (address and port) takes the lock;
 *    another sender's datagrams are rejected until the locked one has
 *    been silent for source-timeout ms (0: never), then the next sender
 *    that sends takes it over. With sources set too, only a listed
 *    sender can take the lock.
 * RTCP from the publisher comes from another port (its RTCP port): an
 * RTCP compound is the publisher's when its host is allowed (listed, with
 * any port) and, with the latch, is the locked sender's host.
 *
 * Senders are RelayAddr (ebpfrelay-addr.h), their port in it.
 */
#ifndef __EBPF_RELAY_SOURCES_H__
#define __EBPF_RELAY_SOURCES_H__

#include <glib.h>

#include "ebpfrelay-addr.h"

G_BEGIN_DECLS

#define RELAY_SOURCES_ERROR (relay_sources_error_quark ())
GQuark relay_sources_error_quark (void);

#define RELAY_SOURCES_DEFAULT_TIMEOUT_MS 5000
#define RELAY_SOURCES_MAX 64    /* as relay.h's RELAY_MAX_SOURCES */

typedef struct
{
  RelayAddr addr;               /* IPv4 or IPv6; port 0: any port */
} RelaySource;

typedef enum
{
  RELAY_SOURCE_ACCEPTED = 0,
  RELAY_SOURCE_NOT_LISTED,      /* not in sources */
  RELAY_SOURCE_NOT_LATCHED,     /* another sender holds the latch */
} RelaySourceVerdict;

typedef struct _RelaySources RelaySources;

RelaySources *relay_sources_new (void);
void relay_sources_free (RelaySources * s);

/* Parses @spec ("host[:port],...", "[v6]" or "[v6]:port" for an IPv6
 * literal; NULL or empty: any) into @out (an array of RelaySource), with
 * the clients' address parser (relay_client_resolve: a name is its IPv4
 * address if it has one, else its IPv6 one). Refuses, naming the entry
 * and the property "sources": an empty entry, an IPv6 literal without
 * brackets, a host that does not resolve, the unspecified address
 * (0.0.0.0, ::), a port that is not 1-65535, more than RELAY_SOURCES_MAX
 * entries. */
gboolean relay_sources_parse (const gchar * spec, GArray * out,
    GError ** error);

/* Configures @s (and forgets the latch): @list of @n entries, @latch,
 * @timeout_ms. */
void relay_sources_configure (RelaySources * s, const RelaySource * list,
    guint n, gboolean latch, guint timeout_ms);

/* Whether any restriction is configured. */
gboolean relay_sources_active (RelaySources * s);

/* A datagram from @from (address and port) at @now_us (monotonic):
 * accepted or why not; with the latch, takes or refreshes it. Counts the
 * rejections. */
RelaySourceVerdict relay_sources_check (RelaySources * s,
    const RelayAddr * from, gint64 now_us);

/* Whether RTCP from @from's host may be the publisher's (see above). */
gboolean relay_sources_allows_host (RelaySources * s, const RelayAddr * from);

/* The locked sender: TRUE and *@out when there is one. */
gboolean relay_sources_latched (RelaySources * s, RelayAddr * out);
/* Kernel mode: the kernel holds the latch; mirror it (@addr NULL: none). */
void relay_sources_set_latched (RelaySources * s, const RelayAddr * addr,
    gint64 now_us);

/* Counters since the last relay_sources_configure. */
guint64 relay_sources_rejected (RelaySources * s);
guint64 relay_sources_switches (RelaySources * s);

/* --- the relay's own addresses --------------------------------------------- */

/* The IPv4 addresses of the interfaces of this network namespace
 * (getifaddrs), loopback ones included, sorted, without duplicates, into
 * @out (guint32, host order; emptied first). FALSE if they cannot be
 * read. */
gboolean relay_local_addrs_read (GArray * out);
/* Whether @addr is in @addrs (as relay_local_addrs_read fills it) or in
 * 127.0.0.0/8. */
gboolean relay_local_addrs_has (GArray * addrs, guint32 addr);

/* The same for IPv6: struct in6_addr elements (::1 included), in the
 * order getifaddrs gives them, without duplicates. */
gboolean relay_local_addrs6_read (GArray * out);
/* Whether @addr (16 bytes, network order) is ::1 or in @addrs. */
gboolean relay_local_addrs6_has (GArray * addrs, const void *addr);

G_END_DECLS
#endif
