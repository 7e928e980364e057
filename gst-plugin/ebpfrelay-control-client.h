/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-control-client: the subscription channel's client, the viewer
 * (ebpfprioritysrc) side. The wire format and the handshake: ebpfrelay-control.h.
 */
#ifndef __EBPF_RELAY_CONTROL_CLIENT_H__
#define __EBPF_RELAY_CONTROL_CLIENT_H__

#include "ebpfrelay-control.h"

G_BEGIN_DECLS

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
