/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-nack: what the relay does with each sequence number a
 * subscriber's generic NACK (RFC 4585 6.2.1) names: the decision only, no
 * socket, GLib only. The caller (ebpfrelay-feedback) parses the NACK
 * (ebpfrelay-rtcp), finds the subscriber's record of what it was sent of
 * that SSRC (bpf/seqlog.h, kept where the drops happen: the kernel's slot
 * or userspace's sender), and sends what this module hands back.
 *
 * For one number @s of subscriber @viewer's SSRC @ssrc:
 * - a number after the subscriber's newest (its number of the newest
 *   original): NOT_YET, nothing is sent;
 * - seqlog_map gives the original it names; none (dropped for the limit,
 *   before the subscriber's start, older than the log): NOT_SENT or
 *   UNKNOWN, nothing is sent;
 * - the original is looked up in the cache (ebpfrelay-cache.h); absent:
 *   NOT_CACHED, nothing is sent;
 * - it was resent to this subscriber less than one RTT ago (the
 *   subscriber's RTT from its RRs, or EBR_NACK_DEFAULT_RTT before one is
 *   known, which is until its first RR after an SR: the
 *   viewers' own retry timers start at a few tens of ms; at least
 *   EBR_NACK_MIN_RTT): REPEAT, nothing is sent (a NACK
 *   storm does not multiply traffic);
 * - else RESEND: the packet is the cached original with sequence number
 *   @s, the bytes the subscriber would have received.
 * The caller asks the sender for a key frame (throttled) on NOT_CACHED
 * and UNKNOWN: a packet it needed is gone.
 *
 * Memory: per subscriber and SSRC a table of EBR_NACK_RECENT resend times
 * (12 bytes each), made at its first NACK, freed with the subscriber.
 *
 * Locking: none; the caller serialises every call on one EbrNack.
 */
#ifndef __EBPF_RELAY_NACK_H__
#define __EBPF_RELAY_NACK_H__

#include <glib.h>

#include "ebpfrelay-cache.h"
#include "seqlog.h"

G_BEGIN_DECLS

#define EBR_NACK_RECENT 1024
#define EBR_NACK_DEFAULT_RTT (20 * G_TIME_SPAN_MILLISECOND)
#define EBR_NACK_MIN_RTT (5 * G_TIME_SPAN_MILLISECOND)

typedef enum
{
  EBR_NACK_RESEND,
  EBR_NACK_REPEAT,              /* resent less than one RTT ago */
  EBR_NACK_NOT_CACHED,          /* the original is not in the cache */
  EBR_NACK_NOT_SENT,            /* the number is no packet the subscriber
                                 * was sent: dropped for its limit, or
                                 * before its start */
  EBR_NACK_UNKNOWN,             /* older than the subscriber's log */
  EBR_NACK_NOT_YET,             /* after the newest it was sent: a jitter
                                 * buffer asking for the packet it expects
                                 * next (e.g. when the stream stops) */
} EbrNackVerdict;

/* Per subscriber, in all its SSRCs. */
typedef struct
{
  guint64 nacked;               /* numbers named */
  guint64 resent;
  guint64 repeats;
  guint64 not_cached;
  guint64 not_sent;
  guint64 unknown;
  guint64 not_yet;
} EbrNackStats;

typedef struct _EbrNack EbrNack;

EbrNack *ebr_nack_new (void);
void ebr_nack_free (EbrNack * n);

/* What the subscriber record @viewer (any pointer the caller keys
 * subscribers by) gets for number @s of SSRC @ssrc, given what it was
 * sent (@log, @dropped, @rewrite: as seqlog_map), the cache, its RTT in µs
 * (0: not known) and @now (µs, the cache's clock). On RESEND, @out (at
 * least the packet's length, EBR_NACK_MAX_PACKET is enough) receives the
 * packet and @out_len its length. */
#define EBR_NACK_MAX_PACKET 65535
EbrNackVerdict ebr_nack_decide (EbrNack * n, gconstpointer viewer,
    guint32 ssrc, guint16 s, const struct seqlog *log, guint32 dropped,
    gboolean rewrite, EbrCache * cache, gint64 rtt, gint64 now,
    guint8 * out, gsize * out_len);

/* The subscriber went: its tables and stats go. */
void ebr_nack_forget (EbrNack * n, gconstpointer viewer);
/* Its stats (zeros when it never NACKed). */
void ebr_nack_get_stats (EbrNack * n, gconstpointer viewer,
    EbrNackStats * stats);

G_END_DECLS
#endif
