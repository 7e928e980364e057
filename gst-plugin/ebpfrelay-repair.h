/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-repair: ebpfrelaysink's loss repair as mechanism: the packet
 * cache filled from the stream, the NACKs of subscribers answered from it
 * (ebpfrelay-cache.h, ebpfrelay-nack.h, bpf/seqlog.h hold the logic), the
 * property nack-cache and the nack-* statistics. The feedback plane
 * (ebpfrelay-feedback) owns it: it hands over every RTP packet that reaches
 * the element and every NACK a subscriber sends.
 *
 * The cache needs the originals. They reach the element in userspace mode
 * and, in kernel mode, with pass-original=true. With pass-original=false
 * the kernel consumes what it forwards and the cache would stay empty:
 * nack-cache's default (-1) then means off, and an explicit size is
 * refused at start with an error naming both properties.
 *
 * Retransmissions go from the socket copies leave from (the stream's
 * socket), to the subscriber's media address, on the same SSRC with the
 * subscriber's own sequence number (what rtpjitterbuffer accepts as a
 * retransmission), or, for a payload type rtx-payload-type-map maps, as
 * RFC 4588 RTX in SSRC-multiplexed mode (ebpfrelay-rtx.h: an RTX SSRC per
 * subscriber and media SSRC, the subscriber's number as OSN; counted per
 * subscriber as rtx-sent, within nack-resent). The map is checked at start.
 *
 * Lock: its owner's one lock (ebpfrelaysink: GST_EBPF_RELAY_SINK_LOCK);
 * every call holds it.
 */
#ifndef __EBPF_RELAY_REPAIR_H__
#define __EBPF_RELAY_REPAIR_H__

#include <gst/gst.h>

#include "ebpfrelay-cache.h"
#include "ebpfrelay-clients.h"
#include "ebpfrelay-send.h"

G_BEGIN_DECLS

/* nack-cache: -1 the default (EBR_CACHE_DEFAULT_PACKETS packets or
 * EBR_CACHE_DEFAULT_AGE_MS of each SSRC, whichever is more, where the
 * originals are seen; off where not), 0 off, N at least N packets. */
#define RELAY_REPAIR_DEFAULT_NACK_CACHE -1

typedef struct _RelayRepair RelayRepair;

RelayRepair *relay_repair_new (RelaySender * sender);
void relay_repair_free (RelayRepair * r);

void relay_repair_install_property (GObjectClass * klass, guint id);
void relay_repair_set_property (RelayRepair * r, const GValue * value);
void relay_repair_get_property (RelayRepair * r, GValue * value);
/* rtx-payload-type-map (GstStructure, media PT -> RTX PT) */
void relay_repair_install_rtx_property (GObjectClass * klass, guint id);
void relay_repair_set_rtx_map (RelayRepair * r, const GValue * value);
void relay_repair_get_rtx_map (RelayRepair * r, GValue * value);

/* Starting: @originals, whether every packet of the stream reaches the
 * element (userspace mode, or pass-original=true). FALSE and @error (it
 * names nack-cache and pass-original) for an explicit cache without the
 * originals, or (naming rtx-payload-type-map) for a bad RTX map. */
gboolean relay_repair_start (RelayRepair * r, gboolean originals,
    GError ** error);
void relay_repair_stop (RelayRepair * r);
/* Whether a cache is in use. */
gboolean relay_repair_active (RelayRepair * r);

/* An RTP packet (valid header) of the stream, at @now (µs). */
void relay_repair_put (RelayRepair * r, const guint8 * data, gsize len,
    gint64 now);

/* Subscriber @c NACKed number @seq of @ssrc; @rtt: its RTT (µs, 0: not
 * known). Resends what ebpfrelay-nack decides. TRUE when the packet it
 * needed is gone (not in the cache, older than its record): the caller
 * asks the sender for a key frame of @ssrc. */
gboolean relay_repair_nack (RelayRepair * r, RelayClient * c, guint32 ssrc,
    guint16 seq, gint64 rtt, gint64 now);
void relay_repair_client_removed (RelayRepair * r, RelayClient * c);

/* nack-* fields of a subscriber's structure, of the element's. */
void relay_repair_add_client_stats (RelayRepair * r, GstStructure * s,
    RelayClient * c);
void relay_repair_add_stats (RelayRepair * r, GstStructure * s);

G_END_DECLS
#endif
