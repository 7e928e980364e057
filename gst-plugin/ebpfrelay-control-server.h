/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-control-server: the subscription channel's server, the relay
 * (ebpfrelaysink) side. The wire format and the handshake: ebpfrelay-control.h.
 */
#ifndef __EBPF_RELAY_CONTROL_SERVER_H__
#define __EBPF_RELAY_CONTROL_SERVER_H__

#include "ebpfrelay-control.h"

G_BEGIN_DECLS

/* --- server (relay side) ------------------------------------------------- */

typedef struct _RelayControlServer RelayControlServer;

/* Called in the server's thread, without any lock of the server held; @addr
 * is the subscriber's IPv4 address as text, @port its media port. add and
 * set_limit return FALSE to refuse (the subscriber is then told
 * RELAY_CONTROL_REASON_REFUSED; a refused set_limit keeps the old limit). */
typedef struct
{
  gboolean (*add) (const gchar * addr, guint16 port, guint limit,
      gpointer user_data);
  gboolean (*set_limit) (const gchar * addr, guint16 port, guint limit,
      gpointer user_data);
  void (*remove) (const gchar * addr, guint16 port, gpointer user_data);
  /* Optional (NULL: add and set_limit as above, the RTCP port not
   * told). @rtcp_port is the RTCP port the SUBSCRIBE named (1-65535; the
   * media port: multiplexed) or -1 when it named none (media port + 1).
   * add_rtcp replaces add; set_rtcp is called on a refresh that names
   * another RTCP port than before (FALSE: refused, the old one stays). */
  gboolean (*add_rtcp) (const gchar * addr, guint16 port, guint limit,
      gint rtcp_port, gpointer user_data);
  gboolean (*set_rtcp) (const gchar * addr, guint16 port, gint rtcp_port,
      gpointer user_data);
  /* Optional: after an add of a SUBSCRIBE with the auto flag (TRUE), and
   * on a refresh whose flag differs from the last accepted one. */
  gboolean (*set_auto) (const gchar * addr, guint16 port,
      gboolean auto_limit, gpointer user_data);
} RelayControlServerCallbacks;

typedef struct
{
  guint64 accepted;             /* subscribers added */
  guint64 refreshed;            /* SUBSCRIBEs of known subscribers */
  guint64 refused_token;
  guint64 refused_full;         /* max-clients */
  guint64 refused_cookie;       /* a cookie that is not the source's, or too old */
  guint64 refused_relay;        /* the add callback said no */
  guint64 challenges;           /* CHALLENGEs sent */
  guint64 malformed;            /* dropped: malformed, oversized, unknown */
  guint64 expired;              /* subscribers that stopped refreshing */
  guint64 unsubscribed;
  guint subscribers;            /* now */
} RelayControlServerStats;

/* Monotonic microseconds; tests replace it. */
typedef gint64 (*RelayControlClockFunc) (gpointer user_data);

/* Binds a UDP socket on @bind_addr : @port (0: any) and serves it from a
 * thread of its own until relay_control_server_free. @bind_addr IPv4 or
 * IPv6 (that family only); NULL: 0.0.0.0 and, when the host has IPv6,
 * [::] on the same port too (answers leave from the socket of the
 * subscriber's family). */
RelayControlServer *relay_control_server_new (guint16 port,
    const gchar * bind_addr, const RelayControlServerCallbacks * callbacks,
    gpointer user_data, GError ** error);
/* Stops the thread, then calls remove for every subscriber left, from the
 * calling thread (hold no lock the callback takes). */
void relay_control_server_free (RelayControlServer * s);

/* NULL or "": no token required. */
void relay_control_server_set_token (RelayControlServer * s,
    const gchar * token);
/* 0: no limit. Lowering it removes nobody. */
void relay_control_server_set_max_clients (RelayControlServer * s,
    guint max_clients);
/* Subscribers not heard from for @timeout_ms are removed. */
void relay_control_server_set_timeout (RelayControlServer * s,
    guint timeout_ms);
guint16 relay_control_server_get_port (RelayControlServer * s);
void relay_control_server_get_stats (RelayControlServer * s,
    RelayControlServerStats * stats);
/* A port shared with other RTCP (ebpfrelaysink: control-port equal to its
 * rtcp-port): every datagram that is not of the channel
 * (relay_control_is_control) goes to @func, in the server's thread,
 * without any lock of the server held, truncated to 2048 bytes
 * (@len is then 2048: larger than any RTCP the relay accepts). NULL: such
 * datagrams are counted as malformed, as before. */
typedef void (*RelayControlOtherFunc) (const guint8 * data, gsize len,
    const RelayAddr * from, gpointer user_data);
void relay_control_server_set_other (RelayControlServer * s,
    RelayControlOtherFunc func, gpointer user_data);
/* The server's socket, to send from the shared port. */
int relay_control_server_get_fd (RelayControlServer * s);
/* Its IPv6 socket (the same when bound to an IPv6 address); -1: none. */
int relay_control_server_get_fd6 (RelayControlServer * s);
/* For tests: the clock deciding cookie buckets and expiry. */
void relay_control_server_set_clock (RelayControlServer * s,
    RelayControlClockFunc func, gpointer user_data);


G_END_DECLS
#endif
