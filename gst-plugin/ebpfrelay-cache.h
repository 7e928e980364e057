/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-cache: the relay's packet cache, the store that NACKs are
 * answered from (RFC 4585 6.2.1; the next hop's retransmission, as an SFU
 * does). GLib only, no GStreamer, no socket: the caller puts every
 * original RTP packet it receives and looks packets up by SSRC and
 * original sequence number.
 *
 * What it owns: per SSRC a ring of the most recent original packets,
 * indexed by extended sequence number (RFC 3550 A.1's cycles), each with
 * its priority (bpf/priority.h) and arrival time. A ring starts at
 * @min_packets entries (a power of two) and doubles, up to @max_packets,
 * while the packet it would overwrite is younger than @min_age: it holds at
 * least min_packets packets or min_age of the stream, whichever is more,
 * and never more than max_packets. Memory per SSRC: about
 * (max_packets x (32 + the largest packet)) bytes at most; a slot's buffer
 * is reused, so a steady stream allocates nothing. At most @max_ssrcs SSRCs
 * are kept; a further one is not cached (counted) until one is removed.
 *
 * A packet whose sequence number is far from the newest (more than the
 * ring's size behind it, or more than 3000 ahead: a restart, RFC 3550
 * A.1's MAX_DROPOUT) restarts the SSRC's ring. Older packets that arrive
 * late (reordered) fill their slot if it is still theirs.
 *
 * Locking: none; the caller serialises every call on one EbrCache.
 */
#ifndef __EBPF_RELAY_CACHE_H__
#define __EBPF_RELAY_CACHE_H__

#include <glib.h>

G_BEGIN_DECLS

/* The defaults of the property nack-cache (packets, ms) and the ceiling. */
#define EBR_CACHE_DEFAULT_PACKETS 1024
#define EBR_CACHE_DEFAULT_AGE_MS 1000
#define EBR_CACHE_MAX_PACKETS 8192
/* The largest ring ebr_cache_new makes (the key-frame cache's ceiling,
 * ebpfrelay-kfcache.h): half the sequence number space, so that a 16-bit
 * number still names one packet of the ring. */
#define EBR_CACHE_RING_MAX 32768
#define EBR_CACHE_DEFAULT_SSRCS 16

typedef struct _EbrCache EbrCache;

/* One cached packet; valid until the next ebr_cache_put on its SSRC. */
typedef struct
{
  const guint8 *data;
  gsize len;
  guint32 ext_seq;              /* extended sequence number (cycles << 16) */
  guint8 priority;
  gint64 arrival;               /* the caller's clock (µs), at put */
} EbrCachePacket;

typedef struct
{
  guint64 puts;                 /* packets stored */
  guint64 lookups, hits;        /* ebr_cache_get calls; of them, found */
  guint64 not_cached;           /* puts refused: max_ssrcs reached, short */
  guint64 restarts;             /* rings restarted by a sequence jump */
  guint n_ssrcs;
  guint64 packets;              /* held now, all SSRCs */
  guint64 bytes;                /* allocated for packet data, all SSRCs */
} EbrCacheStats;

/* @min_packets: rounded up to a power of two, 16..max; @max_packets: at
 * most EBR_CACHE_RING_MAX, at least min_packets; @min_age: µs. */
EbrCache *ebr_cache_new (guint min_packets, gint64 min_age_us,
    guint max_packets, guint max_ssrcs);
void ebr_cache_free (EbrCache * cache);

/* Stores a copy of RTP packet @data (at least the 12-byte header; the
 * caller has checked it is RTP) of SSRC @ssrc, sequence number @seq (both
 * host order, from the packet), priority @priority, at @now (µs). Returns
 * FALSE when it was not stored (too short, too long for 16 bits, no room
 * for another SSRC). */
gboolean ebr_cache_put (EbrCache * cache, guint32 ssrc, guint16 seq,
    guint8 priority, const guint8 * data, gsize len, gint64 now);

/* The packet of @ssrc with sequence number @seq (16 bits, taken as the one
 * nearest the newest), or NULL when it is not in the cache. */
const EbrCachePacket *ebr_cache_get (EbrCache * cache, guint32 ssrc,
    guint16 seq);

/* The newest sequence number of @ssrc: FALSE when none is cached. */
gboolean ebr_cache_newest (EbrCache * cache, guint32 ssrc, guint16 * seq);

void ebr_cache_remove (EbrCache * cache, guint32 ssrc);
void ebr_cache_clear (EbrCache * cache);

void ebr_cache_get_stats (EbrCache * cache, EbrCacheStats * stats);

/* One SSRC's figures (ebr_cache_foreach). */
typedef struct
{
  guint32 ssrc;
  guint capacity;               /* ring size now */
  guint packets;                /* held now */
  guint64 bytes;                /* allocated for their data */
  guint64 lookups, hits;
} EbrCacheStreamStats;

typedef void (*EbrCacheStreamFunc) (const EbrCacheStreamStats * stats,
    gpointer user_data);
/* Calls @func for each SSRC cached. */
void ebr_cache_foreach (EbrCache * cache, EbrCacheStreamFunc func,
    gpointer user_data);
/* Ring size now of @ssrc (0: not cached). */
guint ebr_cache_capacity (EbrCache * cache, guint32 ssrc);

G_END_DECLS
#endif
