/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-clients: the subscriber table of ebpfrelaysink. No GStreamer
 * code: GLib only, with the kernel helper (ebpfrelay-kernel.h) and the
 * route look-ups (ebpfrelay-route.h).
 *
 * Owns: the RelayClient records (address, priority limit, RTCP
 * destination port, how often added, userspace counters) in the order
 * added; parsing and resolving "host:port[@limit][/rtcp-port|/mux]"; the
 * kernel slot each subscriber holds while running
 * and the slot's state machine: empty -> USERSPACE (slot written, route
 * not known yet) -> KERNEL (route and MAC known, the kernel sends) and
 * back when the route goes (relay_clients_program).
 *
 * Lock: its owner's one lock (ebpfrelaysink: GST_EBPF_RELAY_SINK_LOCK),
 * given at relay_clients_new; the same lock serialises the userspace
 * sender (ebpfrelay-send.h), which reads the slots. The functions below
 * marked "takes the lock" are called without it (they resolve host names
 * outside it and call the added and removed callbacks after releasing
 * it); every other call, and every access to a RelayClient in the table,
 * holds it. Clients handed back as removed are the caller's: in no slot
 * any more, freed with relay_client_free.
 *
 * With a NULL kernel (userspace mode) a slot is bookkeeping only: the
 * userspace sender serves every slot.
 */
#ifndef __EBPF_RELAY_CLIENTS_H__
#define __EBPF_RELAY_CLIENTS_H__

#include <glib.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "ebpfrelay-addr.h"
#include "ebpfrelay-control-server.h"
#include "ebpfrelay-kernel.h"
#include "switch.h"
#include "seqlog.h"
#include "ebpfrelay-route.h"
#include "ebpfrelay-adapt.h"

G_BEGIN_DECLS

/* How soon to look again at a subscriber the kernel cannot serve yet:
 * quickly while its neighbour entry is being resolved, slowly otherwise. */
#define RELAY_CLIENTS_RETRY_NEIGH_US (20 * G_TIME_SPAN_MILLISECOND)
#define RELAY_CLIENTS_RETRY_OTHER_US (1 * G_TIME_SPAN_SECOND)
/* How often a kernel-served subscriber's route and MAC are checked again,
 * and how many such checks one relay_clients_check may pay for. */
#define RELAY_CLIENTS_REVALIDATE_US (2 * G_TIME_SPAN_SECOND)
#define RELAY_CLIENTS_REVALIDATE_PER_CALL 64

#define RELAY_CLIENTS_ERROR (relay_clients_error_quark ())
GQuark relay_clients_error_quark (void);

typedef enum
{
  RELAY_CLIENTS_ERROR_SETTINGS,         /* a bad entry, address or limit */
  RELAY_CLIENTS_ERROR_NO_SPACE,         /* every slot taken */
  RELAY_CLIENTS_ERROR_NOT_FOUND,        /* no such subscriber */
} RelayClientsError;

/* A subscriber's RTCP destination as given (clients entry, add-full, the
 * subscription): the default, RFC 3550's media port + 1; the media port
 * itself (RTCP multiplexed, RFC 5761); or a port 1-65535 (equal to the
 * media port: multiplexed). */
#define RELAY_CLIENT_RTCP_DEFAULT -1
#define RELAY_CLIENT_RTCP_MUX 0

/* A subscriber's address (ebpfrelay-addr.h), IPv4 or IPv6. A subscriber
 * is served in its own family: a v4 stream goes to a v6 subscriber from
 * an IPv6 socket, never translated (ebpfrelay-send.h). */

typedef struct
{
  gchar *host;                  /* as given, IPv6 literals without [] */
  gint port;
  RelayAddr addr;
  /* where the sender's SR/SDES/BYE go (host order; 0: nowhere, the
   * default for media port 65535), and as given (RELAY_CLIENT_RTCP_*
   * or a port) */
  gint rtcp_port;
  gint rtcp_given;
  guint64 rtcp_sent;            /* the sender's compounds sent to it */
  guint add_count;              /* removed when removed this often; with
                                 * send-duplicates, sent this many copies */
  /* multiudpsink's get-stats times (real time, ns): when it was added,
   * when it went (0 while it is there) */
  guint64 connect_time, disconnect_time;
  /* the kernel's counts of its slot, read when the slot went */
  guint64 gone_kernel_packets, gone_kernel_bytes;
  guint slot;                   /* while running */
  gboolean in_kernel;           /* slot state is KERNEL */
  gboolean slot_written;        /* the kernel's slot holds this client */
  RelayRouteResult route;       /* last look-up */
  RelayRoute resolved;          /* what the slot holds when in_kernel */
  gint64 next_check;            /* monotonic µs */
  guint8 limit;                 /* priority limit: gets priority >= limit */
  /* adaptive ("@auto", the subscription's auto flag): the feedback plane
   * moves its limit (ebpfrelay-adapt.h); the controller's state, NULL
   * when not adaptive */
  gboolean adaptive;
  RelayAdaptSub *adapt;
  guint64 user_packets, user_bytes, user_errors;
  /* userspace mode: packets dropped for priority and held back waiting
   * for a key frame (bpf/switch.h), in all; per SSRC the same state the
   * kernel keeps in its sub_ssrcs map: GUINT_TO_POINTER (ssrc) ->
   * RelaySsrcState*, at most RELAY_SSRCS_PER_SUB of them, emptied when
   * the client takes a slot */
  guint64 user_prio_dropped;
  guint64 user_held;
  GHashTable *ssrcs;
  /* keyframe-cache (ebpfrelay-kfburst.h): a key-frame burst is pending
   * (set when it joins while running, with kf_joins): its slot stays
   * USERSPACE with the burst flag, its SSRCs start RUNNING; the burst's
   * state (ebpfrelay-kfburst's, freed with kf_free) and what it sent */
  gboolean kf_hold;
  gpointer kf;
  GDestroyNotify kf_free;
  guint64 kf_burst_packets, kf_burst_bytes;
  /* per SSRC, what its bursts sent it (GUINT_TO_POINTER (ssrc) ->
   * RelayBurstSent*, NULL until the first): the SR counts it is sent
   * (relay_sender_ssrc_counts) include them, as its own receiver counts
   * them */
  GHashTable *kf_sent;
} RelayClient;

/* What key-frame bursts sent one subscriber of one SSRC (RFC 3550 6.4.1
 * counts, mod 2^32 as an SR carries them). */
typedef struct
{
  guint32 packets, octets;
} RelayBurstSent;

/* Userspace mode: what one subscriber has of one SSRC. As the kernel's
 * struct relay_ssrc_state (bpf/relay.h): the switch state, the packets
 * dropped for its limit while running (its sequence offset), and what it
 * was sent, for its SRs (RFC 3550 6.4.1 payload octets), modulo 2^32;
 * the runs it dropped, to map its NACKed numbers back (bpf/seqlog.h). */
typedef struct
{
  struct sw_sub sw;
  guint32 dropped;
  guint32 packets;
  guint32 octets;
  struct seqlog log;            /* what it was sent (NACKs, seqlog.h) */
} RelaySsrcState;

/* What the table (and the sender) tell their owner, at @level (or
 * RELAY_LOG_LEVEL_TRACE, below debug), with the owner's lock held: route
 * changes, limit changes, kernel writes and sends that failed. */
#define RELAY_LOG_LEVEL_TRACE (1 << G_LOG_LEVEL_USER_SHIFT)
typedef void (*RelayLogFunc) (GLogLevelFlags level, const gchar * message,
    gpointer user_data);

typedef enum
{
  RELAY_CLIENT_CHANGE_LIMIT,
  RELAY_CLIENT_CHANGE_PATH,
} RelayClientChange;

typedef struct
{
  /* a subscriber came or went (after it has been freed from its slot;
   * @c is freed once the callback returns); without the lock held */
  void (*added) (RelayClient * c, gpointer user_data);
  void (*removed) (RelayClient * c, gpointer user_data);
  /* relay_clients_set_string could not add a subscriber; with the lock */
  void (*refused) (const GError * error, const gchar * clients,
      gpointer user_data);
  RelayLogFunc log;
  /* @c's priority limit was lowered (it gets more packets from now on:
   * relay_clients_set_limit, from set-priority-limit, a clients change or
   * the subscription channel); with the lock held. May be NULL. */
  void (*limit_lowered) (RelayClient * c, gpointer user_data);
  /* while running, @c's priority limit or its path
   * (relay_clients_path) changed (@what); with the lock held. May be
   * NULL. */
  void (*changed) (RelayClient * c, RelayClientChange what,
      gpointer user_data);
  /* multiudpsink's client-added / client-removed, without the lock (may
   * be NULL): @added on every add of @host:@port, a new subscriber or one
   * counted again, and for each entry of a clients value (which, as
   * multiudpsink's, signals no removal); !@added when a remove takes its
   * count to zero (@c is still found by relay_clients_find_any then).
   * Never for a clear. */
  void (*signal) (const gchar * host, gint port, gboolean added,
      gpointer user_data);
} RelayClientsCallbacks;

/* @c's RTCP destination port changed (a clients change, add-full or a
 * subscription); called with the lock held. */
typedef void (*RelayClientsRtcpFunc) (RelayClient * c, gpointer user_data);

typedef struct
{
  GMutex *lock;                 /* the owner's */
  RelayClientsCallbacks callbacks;
  gpointer user_data;
  GPtrArray *clients;           /* of RelayClient*, in the order added */
  gchar *clients_error;         /* why the last clients value was refused */
  /* the entries of the last clients value that repeated an earlier one
   * (merged into it), quoted and comma-separated; NULL: none */
  gchar *clients_duplicates;
  RelayClient *slots[RELAY_MAX_SUBS];
  guint n_slots;                /* slots[n_slots..] are all empty */
  gboolean running;             /* slots assigned (relay_clients_start) */
  guint16 port;                 /* the stream's port: copies leave from it */
  RelayKernel *kernel;          /* borrowed; NULL: userspace forwarding */
  RelayRouter *router;          /* borrowed; NULL: no look-ups */
  guint revalidate_next;
  gboolean kf_joins;            /* joiners start with a key-frame burst
                                 * (ebpfrelay-kfburst) */
  RelayClientsRtcpFunc rtcp_changed;    /* the feedback plane's */
  gpointer rtcp_changed_data;
  /* multiudpsink's send-duplicates: a client added N times is sent N
   * copies (its slot then stays USERSPACE: the kernel makes one copy per
   * slot, userspace the N) */
  gboolean send_duplicates;
  /* bytes sent to the clients that left since the start (bytes-served) */
  guint64 served_gone;
  /* clients whose removal is being signalled: get-stats still finds
   * them, as multiudpsink's does in its client-removed handler */
  GPtrArray *removing;
  /* the family of the stream's datagrams (AF_INET, AF_INET6; AF_UNSPEC:
   * not known yet): the kernel sends a KERNEL slot only those of its own
   * family (relay_clients_kernel_serves) */
  gint stream_family;
  /* multicast-iface's index (0: none): the groups' copies leave by it */
  guint group_ifindex;
} RelayClients;

RelayClient *relay_client_new (const gchar * host, gint port,
    const RelayAddr * addr, guint8 limit);
void relay_client_free (RelayClient * c);

/* @host : @port into @addr. @host is an IPv4 address, an IPv6 one (with
 * or without brackets; a v4-mapped one ::ffff:a.b.c.d is IPv4) or a name:
 * its IPv4 address if it has one (A), else its IPv6 one (AAAA). */
gboolean relay_client_resolve (const gchar * host, gint port,
    RelayAddr * addr, GError ** error);
gboolean relay_client_check_limit (gint limit, GError ** error);
/* @rtcp is RELAY_CLIENT_RTCP_DEFAULT, RELAY_CLIENT_RTCP_MUX or 1-65535. */
gboolean relay_client_check_rtcp (gint rtcp, GError ** error);
/* Gives @c the RTCP destination @rtcp (checked). */
void relay_client_set_rtcp (RelayClient * c, gint rtcp);
/* One entry "host:port[@limit|@auto][/rtcp-port|/mux]" (an IPv6 literal
 * in brackets: "[2001:db8::2]:6000@6"): the limit 0-7
 * (default 0; "auto": adaptive, starting at 0), then the RTCP destination port (default: port + 1; "mux" or the
 * media port itself: RTCP on the media port, RFC 5761). The error names
 * the entry. */
RelayClient *relay_client_parse (const gchar * entry, GError ** error);
/* The client of @list (of RelayClient*) at @addr (family, address, port),
 * or NULL. */
RelayClient *relay_client_list_find (GPtrArray * list, const RelayAddr * addr);
/* A whole comma-separated list into new clients (duplicates merged into
 * the first one, which counts them in add_count and whose limit counts,
 * as multiudpsink counts an address added twice). */
gboolean relay_clients_parse (const gchar * str, GPtrArray ** out,
    GError ** error);
/* The same; *@duplicates (if not NULL): the merged entries, quoted and
 * comma-separated, or NULL for none. */
gboolean relay_clients_parse_full (const gchar * str, GPtrArray ** out,
    gchar ** duplicates, GError ** error);
/* Refuses addresses nobody can subscribe at: unspecified (0.0.0.0/8),
 * broadcast (255.255.255.255 and the broadcast address of an interface of
 * this network namespace), the local network control groups (224.0.0.0/24) and reserved
 * (240.0.0.0/4) ones; in IPv6 the unspecified address (::) and the
 * groups of scope 0, 1, 2 and 15 (IPv6 has no broadcast); the error
 * names @host. */
gboolean relay_client_check_address (const gchar * host,
    const RelayAddr * addr, GError ** error);

RelayClients *relay_clients_new (GMutex * lock,
    const RelayClientsCallbacks * callbacks, gpointer user_data);
/* Who hears of RTCP port changes (ebpfrelay-feedback, at its creation). */
void relay_clients_set_rtcp_listener (RelayClients * t,
    RelayClientsRtcpFunc func, gpointer user_data);
/* Frees every client too. */
void relay_clients_free (RelayClients * t);

RelayClient *relay_clients_find (RelayClients * t, const RelayAddr * addr);
/* The same, and also among the clients whose removal is being
 * signalled. */
RelayClient *relay_clients_find_any (RelayClients * t,
    const RelayAddr * addr);
/* How many copies of each packet @c gets (send-duplicates). */
guint relay_clients_copies (RelayClients * t, const RelayClient * c);
/* send-duplicates (default TRUE): from the next packet on; moves clients
 * added more than once between the kernel and userspace. */
void relay_clients_set_send_duplicates (RelayClients * t, gboolean dups);
/* Whether the kernel may serve @c (an address added more than once with
 * send-duplicates: userspace sends its N copies). */
gboolean relay_clients_kernel_may_serve (RelayClients * t,
    const RelayClient * c);
/* Whether the kernel sends @c the stream: its slot is KERNEL and the
 * stream is of its family (or not known yet). A KERNEL slot of the other
 * family is named in the kernel's events and served by userspace (no
 * translation between IPv4 and IPv6). */
gboolean relay_clients_kernel_serves (RelayClients * t, const RelayClient * c);
/* Who serves @c: "kernel" (relay_clients_kernel_serves) or "userspace";
 * get-stats' and the client-changed message's path. */
const gchar *relay_clients_path (RelayClients * t, const RelayClient * c);
/* The stream's datagrams are of @family (AF_INET, AF_INET6, AF_UNSPEC:
 * not known) from now on: calls changed (RELAY_CLIENT_CHANGE_PATH) for
 * each client whose path that changes. With the lock. */
void relay_clients_set_stream_family (RelayClients * t, gint family);
/* Bytes sent to every client since the start (UDP payload): the gone
 * ones and the current ones (the kernel's and userspace's). */
guint64 relay_clients_bytes_served (RelayClients * t);

/* multicast-iface (@ifindex; 0: none): the interface the copies to
 * groups leave by, in the kernel as from the sockets; the groups' slots
 * are programmed again at once. */
void relay_clients_set_group_ifindex (RelayClients * t, guint ifindex);

/* Starting, before the kernel: the stream's @port and the @router; fails
 * when the last clients value was refused, or for a client that would be
 * a forwarding loop. */
gboolean relay_clients_prepare (RelayClients * t, guint16 port,
    RelayRouter * router, GError ** error);
/* Gives every client a slot and, with a @kernel, programs it. */
gboolean relay_clients_start (RelayClients * t, RelayKernel * kernel,
    GError ** error);
/* Empties every slot (the kernel's are gone with it); clients stay. */
void relay_clients_stop (RelayClients * t);

/* Adds one client, or counts an existing one again and, with @set_limit,
 * gives it @limit and the RTCP destination @rtcp (checked). Returns the
 * new client, or NULL when it existed or failed (@error set then). */
RelayClient *relay_clients_add (RelayClients * t, const gchar * host,
    gint port, const RelayAddr * addr, guint8 limit, gint rtcp,
    gboolean set_limit, GError ** error);
/* Counts @addr's client down; FALSE when there is none. At zero it leaves
 * the table and is given back in @removed, else @removed is NULL. */
gboolean relay_clients_remove (RelayClients * t, const RelayAddr * addr,
    RelayClient ** removed);
/* Removes every client; returns them (free function relay_client_free). */
GPtrArray *relay_clients_clear (RelayClients * t);
/* Replaces the set by @wanted (from relay_clients_parse): clients in both
 * stay as they are (slot, counters, sequence numbers) and take the limit
 * of @wanted; the others go (appended to @gone, the caller's) or come
 * (appended to @added, owned by the table). A client that cannot be added
 * appends its error to @errors (of GError*, the caller's). */
void relay_clients_set (RelayClients * t, GPtrArray * wanted,
    GPtrArray * gone, GPtrArray * added, GPtrArray * errors);
/* From the next packet on, @c gets the packets with priority >= @limit;
 * calls limit_lowered when @limit is below the one it had. */
void relay_clients_set_limit (RelayClients * t, RelayClient * c, guint8 limit);
/* Makes @c adaptive (its limit follows its feedback, from the limit it
 * has) or not (its limit stays where it is). */
void relay_clients_set_adaptive (RelayClients * t, RelayClient * c,
    gboolean adaptive);
/* From the next RTCP on, @c's RTCP goes to @rtcp (checked); tells the
 * RTCP listener when the port changes. */
void relay_clients_set_rtcp (RelayClients * t, RelayClient * c, gint rtcp);
/* "host:port[@limit][/rtcp-port|/mux],..." in the order added (limit 0
 * and the default RTCP port not written), each client as often as it was
 * added (multiudpsink's clients). */
gchar *relay_clients_to_string (RelayClients * t);

/* Looks up @c's route and neighbour and moves its slot to the kernel when
 * everything is known, or leaves (or puts) it with userspace otherwise. */
void relay_clients_program (RelayClients * t, RelayClient * c, gint64 now);
/* Programs the clients due at @now (at most
 * RELAY_CLIENTS_REVALIDATE_PER_CALL, taking turns). */
void relay_clients_check (RelayClients * t, gint64 now);

/* --- takes the lock ------------------------------------------------------ */

/* Adds subscriber @host:@port with priority limit @limit (0-7), or, when
 * it is there already, counts it again and, with @set_limit, gives it
 * @limit (the latest subscription wins). Calls added for a new one. */
gboolean relay_clients_add_host (RelayClients * t, const gchar * host,
    gint port, gint limit, gboolean set_limit, GError ** error);
/* The same with the RTCP destination @rtcp (RELAY_CLIENT_RTCP_DEFAULT,
 * RELAY_CLIENT_RTCP_MUX or 1-65535), given to an existing one too when
 * @set (with @limit). */
gboolean relay_clients_add_host_full (RelayClients * t, const gchar * host,
    gint port, gint limit, gint rtcp, gboolean set, GError ** error);
/* From the next packet on, @host:@port gets exactly the packets with
 * priority >= @limit. */
gboolean relay_clients_set_limit_host (RelayClients * t, const gchar * host,
    gint port, gint limit, GError ** error);
/* Makes @host:@port adaptive or not (relay_clients_set_adaptive). */
gboolean relay_clients_set_adaptive_host (RelayClients * t,
    const gchar * host, gint port, gboolean adaptive, GError ** error);
/* Counts @host:@port down, and removes it (removed) at zero. FALSE when
 * there is no such client. */
gboolean relay_clients_remove_host (RelayClients * t, const gchar * host,
    gint port);
/* Removes every client (removed, for each). */
void relay_clients_remove_all (RelayClients * t);
/* Replaces the set by @str (relay_clients_set, then removed and added for
 * each). An invalid @str changes nothing, fails, and makes
 * relay_clients_prepare fail with the same error until a valid one. */
gboolean relay_clients_set_string (RelayClients * t, const gchar * str,
    GError ** error);

/* The subscription channel's callbacks (ebpfrelay-control.h), user_data
 * the table: subscribers of the channel are added and removed as above. */
extern const RelayControlServerCallbacks relay_clients_control_callbacks;

G_END_DECLS
#endif
