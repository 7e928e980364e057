/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-control: the subscription channel between ebpfprioritysrc
 * (client) and ebpfrelaysink (server). GLib, GIO and, for the RTCP APP
 * framing, GStreamer's RTP library (GstRTCPBuffer), whose buffers need
 * gst_init: a process that has not initialised GStreamer (a GLib-only
 * user) gets it initialised on the first encode or decode, without a
 * registry update.
 *
 * Wire format: one RTCP APP packet per UDP datagram (RFC 3550 6.7), never
 * compound, never padded, at most RELAY_CONTROL_MAX_PACKET bytes:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P=0| subtype |   PT=204    |  length (32-bit words - 1)    |
 *  |                     SSRC of the sender                        |
 *  |                      name = "EBRS"                            |
 *  |  version = 1  |     arg0      |     arg1      |     arg2      |
 *  |              cookie (16 bytes)                                |
 *  |              ...                                              |
 *  |              subtype-specific tail                            |
 *  |   (SUBSCRIBE, flags bit 1) RTCP port  |          0            |
 *
 *  subtype     arg0     arg1        arg2       tail
 *  SUBSCRIBE   limit    flags       token len  token, zero-padded to 4
 *  CHALLENGE   0        0           0          -
 *  ACK         status   reason      limit      refresh interval (ms, u32)
 *  UNSUBSCRIBE 0        0           0          -
 *
 * flags: bit 0 = the cookie field holds a cookie (else zeros); bit 1 = a
 * last word follows the token: the viewer's RTCP port (16 bits, 1-65535,
 * where the relay sends it the sender's SR/SDES/BYE; its media port
 * means RTCP multiplexed on it, RFC 5761) and 16 zero bits. Without bit 1
 * the viewer's RTCP port is its media port + 1 (RFC 3550), and the
 * datagram is the same as before the field existed: a viewer with the
 * default sends it so, and an older relay (which counts an unknown flag
 * as malformed) still accepts it. flags bit 2 = auto: the relay moves
 * the subscriber's limit from its feedback (ebpfrelay-adapt.h), starting
 * at the limit of arg0; set only by a viewer that asks for it, so other
 * datagrams stay as before. A SUBSCRIBE
 * always carries the cookie field, so a CHALLENGE (the answer to an
 * unverified source) is never larger than what provoked it.
 *
 * Return routability: the server answers a SUBSCRIBE without a valid
 * cookie with a CHALLENGE to the packet's source address and port; the
 * cookie is HMAC-SHA256 (secret drawn at server start; IPv4 address, port,
 * time bucket) truncated to 16 bytes, valid in its bucket and the next
 * (RELAY_CONTROL_BUCKET_MS each). Only a SUBSCRIBE carrying the cookie of
 * its own source address adds a subscriber, and the subscriber's media
 * address is that source address: the client sends from its media socket.
 * Every ACK carries a fresh cookie for the next refresh and the
 * UNSUBSCRIBE, and a refresh interval short enough for it to stay valid.
 * Cookies and tokens are compared in constant time.
 */
#ifndef __EBPF_RELAY_CONTROL_H__
#define __EBPF_RELAY_CONTROL_H__

#include <gio/gio.h>
#include <netinet/in.h>
#include "ebpfrelay-addr.h"

G_BEGIN_DECLS

#define RELAY_CONTROL_NAME "EBRS"
#define RELAY_CONTROL_VERSION 1
#define RELAY_CONTROL_PT 204
#define RELAY_CONTROL_MAX_PACKET 256
#define RELAY_CONTROL_COOKIE_LEN 16
#define RELAY_CONTROL_MAX_TOKEN 64
#define RELAY_CONTROL_MAX_LIMIT 7
#define RELAY_CONTROL_BUCKET_MS 10000
#define RELAY_CONTROL_DEFAULT_TIMEOUT_MS 30000

typedef enum
{
  RELAY_CONTROL_SUBSCRIBE = 1,
  RELAY_CONTROL_CHALLENGE = 2,
  RELAY_CONTROL_ACK = 3,
  RELAY_CONTROL_UNSUBSCRIBE = 4,
} RelayControlType;

/* Why the server refused a SUBSCRIBE (ACK reason). */
typedef enum
{
  RELAY_CONTROL_REASON_NONE = 0,
  RELAY_CONTROL_REASON_TOKEN = 1,       /* token missing or wrong */
  RELAY_CONTROL_REASON_FULL = 2,        /* max-clients reached */
  RELAY_CONTROL_REASON_REFUSED = 3,     /* the relay refused the address */
} RelayControlReason;

const gchar *relay_control_reason_str (RelayControlReason reason);

typedef struct
{
  RelayControlType type;
  guint32 ssrc;
  guint8 cookie[RELAY_CONTROL_COOKIE_LEN];
  gboolean has_cookie;          /* SUBSCRIBE */
  guint8 limit;                 /* SUBSCRIBE, ACK: 0..7 */
  guint8 token_len;             /* SUBSCRIBE */
  guint8 token[RELAY_CONTROL_MAX_TOKEN];
  gboolean has_rtcp_port;       /* SUBSCRIBE: flags bit 1 */
  guint16 rtcp_port;            /* SUBSCRIBE: 1-65535 when has_rtcp_port */
  gboolean auto_limit;          /* SUBSCRIBE: flags bit 2 */
  gboolean accepted;            /* ACK */
  RelayControlReason reason;    /* ACK */
  guint32 refresh_ms;           /* ACK */
} RelayControlMessage;

/* Writes @msg into @buf. Returns its length, or 0 if @msg is invalid or
 * @size too small. */
gsize relay_control_encode (const RelayControlMessage * msg, guint8 * buf,
    gsize size);
/* Parses one datagram. FALSE (and @msg undefined) unless it is exactly one
 * well-formed message of this protocol. */
gboolean relay_control_decode (const guint8 * data, gsize len,
    RelayControlMessage * msg);
/* Cheap test: an RTCP APP packet named "EBRS" (maybe malformed). Such
 * packets belong to the channel and are never media. */
gboolean relay_control_is_control (const guint8 * data, gsize len);

/* The cookie of @addr (network order) : @port (host order) in @bucket. */
void relay_control_cookie (const guint8 * secret, gsize secret_len,
    guint32 addr, guint16 port, gint64 bucket,
    guint8 out[RELAY_CONTROL_COOKIE_LEN]);
gboolean relay_control_equal (const guint8 * a, const guint8 * b, gsize len);

/* The same for either family (an IPv4 one: exactly relay_control_cookie);
 * an IPv6 cookie binds the whole 128-bit address. */
void relay_control_cookie_addr (const guint8 * secret, gsize secret_len,
    const RelayAddr * addr, gint64 bucket,
    guint8 out[RELAY_CONTROL_COOKIE_LEN]);

/* Parses "host:port": an IPv4 address, an IPv6 one in brackets
 * ("[::1]:5005") or a name (its IPv4 address if it has one, else its
 * IPv6 one); the error names @str. */
gboolean relay_control_parse_address (const gchar * str,
    RelayAddr * out, GError ** error);

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

/* --- client (viewer side) ------------------------------------------------ */

typedef struct _RelayControlClient RelayControlClient;

typedef enum
{
  RELAY_CONTROL_CLIENT_STOPPED,
  RELAY_CONTROL_CLIENT_SUBSCRIBING,     /* waiting for a CHALLENGE or ACK */
  RELAY_CONTROL_CLIENT_SUBSCRIBED,
  RELAY_CONTROL_CLIENT_REFUSED,         /* retried now and then */
} RelayControlClientState;

const gchar *relay_control_client_state_str (RelayControlClientState state);

/* Called on every state change (and on a refusal for a new reason), from
 * the client's thread or from relay_control_client_handle's caller. */
typedef void (*RelayControlClientNotify) (RelayControlClientState state,
    RelayControlReason reason, gpointer user_data);

typedef struct
{
  guint64 sent;                 /* messages sent */
  guint64 received;             /* messages consumed */
  guint64 foreign;              /* "EBRS" packets not from the relay, or malformed */
  RelayControlClientState state;
  RelayControlReason reason;    /* last refusal */
  guint limit;                  /* what the relay applies (ACK) */
} RelayControlClientStats;

/* @socket: the viewer's bound media socket; control packets leave from it,
 * so the relay sees the media address. @relay: "host:port" of the relay's
 * control endpoint. @token: NULL for none. Sends nothing before start. */
RelayControlClient *relay_control_client_new (GSocket * socket,
    const gchar * relay, const gchar * token, guint limit,
    RelayControlClientNotify notify, gpointer user_data, GError ** error);
/* Subscribes, answers the challenge, refreshes; in a thread of its own. */
void relay_control_client_start (RelayControlClient * c);
/* Before start: the RTCP port the subscription names (1-65535), or -1 for
 * none (the relay then sends RTCP to the media port + 1; default). */
void relay_control_client_set_rtcp_port (RelayControlClient * c,
    gint rtcp_port);
/* Before start: subscribe with the auto flag (the relay moves the limit
 * from the viewer's feedback, starting at the limit given). */
void relay_control_client_set_auto (RelayControlClient * c,
    gboolean auto_limit);
/* Tells the relay at once when @limit differs from the current one. */
void relay_control_client_set_limit (RelayControlClient * c, guint limit);
/* To be called with every datagram read from the media socket that
 * relay_control_is_control accepts. Returns TRUE when it was consumed (it
 * is a control packet and must not go downstream). */
gboolean relay_control_client_handle (RelayControlClient * c,
    const guint8 * data, gsize len, const RelayAddr * from);
void relay_control_client_get_stats (RelayControlClient * c,
    RelayControlClientStats * stats);
/* Unsubscribes (when subscribed), stops the thread, frees. */
void relay_control_client_free (RelayControlClient * c);

G_END_DECLS
#endif
