/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-watch: what an element of the plugin tells those who watch it
 * on the bus, from a thread of its own with its own GMainContext (never
 * the application's default context):
 *  - every stats-interval ms, the element's statistics structure as an
 *    element message, and notify::stats;
 *  - events (a subscriber's limit, path or state changed) posted from any
 *    thread, with any lock held: queued, and posted from the watch thread
 *    in the order given, so a bus sync handler that calls back into the
 *    element cannot deadlock on the element's lock.
 * Others (ebpfrelay-metrics) attach their sources to the same context.
 *
 * Lifetime: relay_watch_new at the element's start, relay_watch_free at
 * its stop (called without the element's lock: the tick takes it).
 */
#ifndef __EBPF_RELAY_WATCH_H__
#define __EBPF_RELAY_WATCH_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _RelayWatch RelayWatch;

/* The element's whole statistics (transfer full); called in the watch
 * thread without any lock held. */
typedef GstStructure *(*RelayWatchStatsFunc) (gpointer user_data);

/* Starts the thread @name; @interval_ms 0: no periodic messages. */
RelayWatch *relay_watch_new (GstElement * element, const gchar * name,
    guint interval_ms, RelayWatchStatsFunc stats, gpointer user_data);
/* Stops and joins the thread; events not yet posted are dropped. */
void relay_watch_free (RelayWatch * w);
/* The thread's context: sources attached there run in the watch thread. */
GMainContext *relay_watch_get_context (RelayWatch * w);
/* Runs @func (@data) in the watch thread and waits for it to return. */
void relay_watch_call (RelayWatch * w, GSourceFunc func, gpointer data);
/* Posts @s (taken) as an element message from the watch thread; any
 * thread, any lock held. NULL @w: @s is freed. */
void relay_watch_post (RelayWatch * w, GstStructure * s);

G_END_DECLS
#endif
