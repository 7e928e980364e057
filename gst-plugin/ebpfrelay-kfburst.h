/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-kfburst: a late joiner's key-frame burst (keyframe-cache=true),
 * the mechanism around the key-frame cache (ebpfrelay-kfcache.h): the
 * properties keyframe-cache, keyframe-cache-size and keyframe-burst-rate,
 * the cache filled from the stream, each joiner's burst paced out from its
 * own thread, and the keyframe-* statistics. The feedback plane
 * (ebpfrelay-feedback) owns it, as it owns loss repair.
 *
 * A joiner (added while running: add, a clients change, the subscription
 * channel) starts with a burst pending (RelayClient.kf_hold): its kernel
 * slot stays USERSPACE with the slot's burst flag set, so its switch state
 * of every SSRC starts RUNNING (bpf/switch.h sw_sub_start_burst) instead
 * of WAITING for the next key frame; in userspace mode the sender does
 * the same. Each live copy for it (from the kernel's events or userspace
 * forwarding, with the number the kernel or the sender gave it) is
 * diverted to its queue (relay_kfburst_divert). For each video SSRC, once
 * its first live copy is queued and the cache has seen the packets up to
 * it, the burst (ebr_kfcache_burst: the GOP up to that packet, numbered to
 * end just before it, those below its limit left out) goes out before the
 * queued copies, all paced at keyframe-burst-rate. A miss (no whole GOP
 * in the cache: no key frame yet, the GOP longer than keyframe-cache-size)
 * is counted, and that SSRC's queued copies are left out until a key
 * frame starts, as a WAITING subscriber's would be. When the queue is
 * empty and every video SSRC has started, the joiner is done: the burst
 * flag is cleared, what the kernel already left to userspace is sent (a
 * poll), and the slot moves to KERNEL as any other (relay_clients_program):
 * no packet lost, none twice, numbers contiguous.
 *
 * The burst needs the originals: with pass-original=false the kernel
 * consumes what it forwards and the cache would stay empty, so start
 * refuses keyframe-cache=true then, naming both properties.
 *
 * Lock: its owner's one lock (ebpfrelaysink: GST_EBPF_RELAY_SINK_LOCK),
 * given at relay_kfburst_new; every call but relay_kfburst_stop holds it.
 * Its thread takes it (and waits on its condition with it); stop joins the
 * thread without it.
 */
#ifndef __EBPF_RELAY_KFBURST_H__
#define __EBPF_RELAY_KFBURST_H__

#include <gst/gst.h>

#include "ebpfrelay-clients.h"
#include "ebpfrelay-kfcache.h"

G_BEGIN_DECLS

#define RELAY_KFBURST_DEFAULT_RATE 16000000     /* bits/s */
#define RELAY_KFBURST_MIN_RATE 100000
#define RELAY_KFBURST_MAX_RATE 1000000000
/* A joiner whose first live packet of a video SSRC the cache has not seen
 * within this long is served as a miss. */
#define RELAY_KFBURST_CATCH_UP_US (500 * G_TIME_SPAN_MILLISECOND)
/* A joiner that got no video packet within this long is done. */
#define RELAY_KFBURST_NO_VIDEO_US (2 * G_TIME_SPAN_SECOND)
/* At most this many copies wait per joiner (a GOP of live packets at the
 * largest cache); beyond, the oldest queued copy is dropped, counted. */
#define RELAY_KFBURST_MAX_QUEUE 65536

/* Property ids, from the first id given to install. */
enum
{
  RELAY_KFBURST_PROP_CACHE,
  RELAY_KFBURST_PROP_CACHE_SIZE,
  RELAY_KFBURST_PROP_RATE,
  RELAY_KFBURST_N_PROPS
};

typedef struct _RelayKfBurst RelayKfBurst;
/* Forward: the sender's type (ebpfrelay-send.h includes this header). */
struct _RelaySender;

RelayKfBurst *relay_kfburst_new (GMutex * lock, RelayClients * clients,
    struct _RelaySender *sender);
void relay_kfburst_free (RelayKfBurst * kb);

void relay_kfburst_install_properties (GObjectClass * klass, guint first_id);
void relay_kfburst_set_property (RelayKfBurst * kb, guint id,
    const GValue * value);
void relay_kfburst_get_property (RelayKfBurst * kb, guint id, GValue * value);

/* Starting (with the lock): @originals, whether every packet of the stream
 * reaches the element. FALSE and @error (naming keyframe-cache and
 * pass-original) for keyframe-cache=true without them. */
gboolean relay_kfburst_start (RelayKfBurst * kb, gboolean originals,
    GError ** error);
/* Stopping: without the lock (joins the thread). */
void relay_kfburst_stop (RelayKfBurst * kb);

/* The codec of each payload type and the frame marking id, from caps. */
void relay_kfburst_set_priority (RelayKfBurst * kb,
    const guint8 codec_by_pt[PRIO_N_PT], guint8 fm_id);
/* An original RTP packet of the stream, at @now (µs). */
void relay_kfburst_put (RelayKfBurst * kb, const guint8 * data, gsize len,
    gint64 now);
/* A live copy for @c (@seq: its number, -1 the original's): TRUE when it
 * was queued (c has a burst pending), FALSE: send it now. */
gboolean relay_kfburst_divert (RelayKfBurst * kb, RelayClient * c,
    const guint8 * data, gsize len, gint seq);

/* keyframe-burst-* fields of a subscriber's structure, keyframe-cache-*
 * of the element's. */
void relay_kfburst_add_client_stats (RelayKfBurst * kb, GstStructure * s,
    RelayClient * c);
void relay_kfburst_add_stats (RelayKfBurst * kb, GstStructure * s);

G_END_DECLS
#endif
