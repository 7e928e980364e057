/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-kfcache: the key-frame cache, the store a late joiner's burst
 * comes from (keyframe-cache=true): per video SSRC, the original packets
 * since the last key frame start, for senders that cannot answer a PLI.
 * GLib only, no GStreamer, no socket.
 *
 * What it owns: one EbrCache (ebpfrelay-cache.h, the NACK cache's store)
 * whose rings have a fixed size, @max_packets per SSRC (keyframe-cache-
 * size), and per video SSRC (payload type whose codec bpf/switch.h's
 * sw_is_video names) the frames of the stream by bpf/switch.h's sw_frame,
 * the rule the kernel and the userspace sender start subscribers with:
 * the sequence number of the last key frame start (SW_KEY_START) and of
 * the few before it. Every packet is classified (bpf/priority.h, with a
 * VP8 state per SSRC as the kernel keeps) and stored with its priority.
 * A GOP longer than the ring cannot be sent whole: a burst of it is a
 * miss (the joiner waits for the next key frame, as without the cache).
 * Memory per SSRC: max_packets x (32 + the largest packet) bytes at most.
 *
 * The burst (ebr_kfcache_burst): the packets of the GOP that holds the
 * joiner's first live packet (original number @first_live), from its key
 * frame start up to the one before @first_live, those of priority below
 * the joiner's limit left out, numbered backwards from the joiner's own
 * number of its first live packet: the burst and the live packets are one
 * contiguous run in the joiner's numbering. Its RTP timestamps are
 * retimed: the burst's frames, in order, spaced evenly over the time the
 * burst takes to send at the pacing rate, the last one just before the
 * first live packet's. Sent as they were (up to a GOP of media time in a
 * fraction of it), they would run more than a second ahead of their
 * arrival, and a stock rtpjitterbuffer (slave mode) then resyncs its
 * clock again and again: timestamps going back at the decoder ("decreasing
 * timestamp"). Retimed, the burst plays as a fast-forward of the GOP so
 * far, then live, with no step in the viewer's clock. (The burst's media
 * time is past anyway; the live packets keep their timestamps, so SRs and
 * lip sync are untouched.)
 *
 * Locking: none; the caller serialises every call.
 */
#ifndef __EBPF_RELAY_KFCACHE_H__
#define __EBPF_RELAY_KFCACHE_H__

#include <glib.h>

#include "priority.h"

G_BEGIN_DECLS

/* keyframe-cache-size: the default and the bounds (packets per SSRC). */
#define EBR_KFCACHE_DEFAULT_PACKETS 4096
#define EBR_KFCACHE_MIN_PACKETS 64
#define EBR_KFCACHE_MAX_PACKETS 32768
#define EBR_KFCACHE_MAX_SSRCS 16

typedef struct _EbrKfCache EbrKfCache;

typedef enum
{
  EBR_KFCACHE_READY,            /* the burst is in @out (maybe empty) */
  EBR_KFCACHE_NOT_YET,          /* the cache has not seen the packets up to
                                 * @first_live yet: ask again later */
  EBR_KFCACHE_MISS,             /* no whole GOP for it: no key frame seen,
                                 * the GOP longer than the ring, a newer
                                 * key frame started before @first_live,
                                 * or a packet of the GOP is missing */
} EbrKfCacheResult;

/* One packet of a burst: its bytes, with the joiner's sequence number. */
typedef struct
{
  guint8 *data;
  gsize len;
} EbrKfPacket;

/* @max_packets: EBR_KFCACHE_MIN_PACKETS..EBR_KFCACHE_MAX_PACKETS (rounded
 * up to a power of two). */
EbrKfCache *ebr_kfcache_new (guint max_packets);
void ebr_kfcache_free (EbrKfCache * kc);
/* The codec of each payload type and the frame marking id (0: none). */
void ebr_kfcache_set_priority (EbrKfCache * kc,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id);
/* Whether payload type @pt is video (its SSRCs are cached). */
gboolean ebr_kfcache_is_video (EbrKfCache * kc, guint8 pt);

/* An original RTP packet of the stream (the caller checked version 2 and
 * 12 bytes), at @now (µs). Others than video are ignored. */
void ebr_kfcache_put (EbrKfCache * kc, const guint8 * data, gsize len,
    gint64 now);

/* The burst for a joiner of @ssrc whose first live packet is original
 * number @first_live, with its number @first_out (-1: numbers are not
 * rewritten, the burst keeps the originals), RTP timestamp @live_ts, and
 * priority limit @limit, to be sent at @rate bits/s (0: timestamps kept).
 * READY: the packets are appended to @out (of EbrKfPacket*, the caller
 * frees them with ebr_kfpacket_free). */
EbrKfCacheResult ebr_kfcache_burst (EbrKfCache * kc, guint32 ssrc,
    guint16 first_live, gint first_out, guint8 limit, guint rate,
    guint32 live_ts, GPtrArray * out);
void ebr_kfpacket_free (gpointer p);

/* Whether original number @seq of @ssrc started a key frame: 1 yes, 0 no,
 * -1 not known yet (the cache has not seen it). For a joiner whose burst
 * was a miss: it starts at the next key frame. */
gint ebr_kfcache_is_key_start (EbrKfCache * kc, guint32 ssrc, guint16 seq);

typedef struct
{
  guint n_ssrcs;
  guint64 packets;              /* in the current GOPs, all SSRCs */
  guint64 bytes;                /* their bytes */
  guint64 key_frames;           /* key frame starts seen */
  guint64 overflows;            /* GOPs that outgrew the ring */
} EbrKfCacheStats;

void ebr_kfcache_get_stats (EbrKfCache * kc, EbrKfCacheStats * stats);

/* One SSRC's figures (ebr_kfcache_foreach). */
typedef struct
{
  guint32 ssrc;
  gboolean have_key;            /* a key frame start is cached */
  guint packets;                /* since it (0: none, or overflowed) */
  guint64 bytes;
} EbrKfCacheStreamStats;

typedef void (*EbrKfCacheStreamFunc) (const EbrKfCacheStreamStats * stats,
    gpointer user_data);
void ebr_kfcache_foreach (EbrKfCache * kc, EbrKfCacheStreamFunc func,
    gpointer user_data);

G_END_DECLS
#endif
