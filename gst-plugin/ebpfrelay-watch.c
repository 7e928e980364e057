/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The watch thread of the plugin's elements: see ebpfrelay-watch.h.
 */
#include "ebpfrelay-watch.h"

struct _RelayWatch
{
  GstElement *element;          /* not a reference: it owns us */
  RelayWatchStatsFunc stats;
  gpointer user_data;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GAsyncQueue *events;          /* of GstStructure* */
};

typedef struct
{
  GSourceFunc func;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} WatchCall;

static gboolean
tick (gpointer user_data)
{
  RelayWatch *w = user_data;
  GstStructure *s = w->stats (w->user_data);

  gst_element_post_message (w->element,
      gst_message_new_element (GST_OBJECT (w->element), s));
  g_object_notify (G_OBJECT (w->element), "stats");
  return G_SOURCE_CONTINUE;
}

static gboolean
flush_events (gpointer user_data)
{
  RelayWatch *w = user_data;
  GstStructure *s;

  while ((s = g_async_queue_try_pop (w->events)))
    gst_element_post_message (w->element,
        gst_message_new_element (GST_OBJECT (w->element), s));
  return G_SOURCE_REMOVE;
}

static gboolean
run_call (gpointer user_data)
{
  WatchCall *call = user_data;

  call->func (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
quit (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gpointer
thread_func (gpointer user_data)
{
  RelayWatch *w = user_data;

  g_main_context_push_thread_default (w->context);
  g_main_loop_run (w->loop);
  /* what is ready still runs (a closed connection's clean-up), so that
   * nothing is left holding a reference when the context goes */
  while (g_main_context_iteration (w->context, FALSE));
  g_main_context_pop_thread_default (w->context);
  return NULL;
}

RelayWatch *
relay_watch_new (GstElement * element, const gchar * name,
    guint interval_ms, RelayWatchStatsFunc stats, gpointer user_data)
{
  RelayWatch *w = g_new0 (RelayWatch, 1);

  w->element = element;
  w->stats = stats;
  w->user_data = user_data;
  w->context = g_main_context_new ();
  w->loop = g_main_loop_new (w->context, FALSE);
  w->events = g_async_queue_new_full ((GDestroyNotify) gst_structure_free);
  if (interval_ms) {
    GSource *src = g_timeout_source_new (interval_ms);

    g_source_set_callback (src, tick, w, NULL);
    g_source_attach (src, w->context);
    g_source_unref (src);
  }
  w->thread = g_thread_new (name, thread_func, w);
  return w;
}

void
relay_watch_free (RelayWatch * w)
{
  GSource *src;

  if (!w)
    return;
  src = g_idle_source_new ();
  g_source_set_priority (src, G_PRIORITY_HIGH);
  g_source_set_callback (src, quit, w->loop, NULL);
  g_source_attach (src, w->context);
  g_source_unref (src);
  g_thread_join (w->thread);
  g_main_loop_unref (w->loop);
  /* the sources left (the tick, events' idles) go with the context */
  g_main_context_unref (w->context);
  g_async_queue_unref (w->events);
  g_free (w);
}

GMainContext *
relay_watch_get_context (RelayWatch * w)
{
  return w->context;
}

void
relay_watch_call (RelayWatch * w, GSourceFunc func, gpointer data)
{
  WatchCall call = { func, data };
  GSource *src;

  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  src = g_idle_source_new ();
  g_source_set_priority (src, G_PRIORITY_HIGH);
  g_source_set_callback (src, run_call, &call, NULL);
  g_source_attach (src, w->context);
  g_source_unref (src);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

void
relay_watch_post (RelayWatch * w, GstStructure * s)
{
  GSource *src;

  if (!w) {
    gst_structure_free (s);
    return;
  }
  g_async_queue_push (w->events, s);
  src = g_idle_source_new ();
  g_source_set_callback (src, flush_events, w, NULL);
  g_source_attach (src, w->context);
  g_source_unref (src);
}
