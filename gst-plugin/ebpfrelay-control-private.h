/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the subscription channel's codec (ebpfrelay-control.c), server
 * (ebpfrelay-control-server.c) and client (ebpfrelay-control-client.c)
 * share and nobody else needs: the wire layout's sizes, the timing, the
 * one send.
 */
#ifndef __EBPF_RELAY_CONTROL_PRIVATE_H__
#define __EBPF_RELAY_CONTROL_PRIVATE_H__

#include "ebpfrelay-control.h"

G_BEGIN_DECLS

#define HDR_LEN 12
#define BODY_LEN (HDR_LEN + 4 + RELAY_CONTROL_COOKIE_LEN)       /* 32 */
#define ACK_LEN (BODY_LEN + 4)
#define FLAG_COOKIE 0x01
#define FLAG_RTCP_PORT 0x02
#define FLAG_AUTO 0x04
#define RTCP_WORD_LEN 4
#define SECRET_LEN 32
#define BUCKET_US ((gint64) RELAY_CONTROL_BUCKET_MS * 1000)

/* Client timing: first retry, longest retry while waiting for an answer. */
#define RETRY_FIRST_MS 200
#define RETRY_MAX_MS 2000
/* ...and how soon a refused client asks again. */
#define REFUSED_RETRY_MS 5000

/* Encodes @msg and sends it on @socket to @to: TRUE when all of it went. */
gboolean relay_control_send_msg (GSocket * socket, const RelayAddr * to,
    const RelayControlMessage * msg);
/* @len random bytes (getrandom, else GLib's generator): the secret, the
 * SSRCs. */
void relay_control_fill_random (guint8 * buf, gsize len);

G_END_DECLS
#endif
