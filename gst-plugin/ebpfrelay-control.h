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

G_END_DECLS
#endif
