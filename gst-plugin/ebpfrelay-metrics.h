/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-metrics: ebpfrelaysink's Prometheus endpoint. A libsoup
 * server in the element's watch thread (ebpfrelay-watch.h, its own
 * GMainContext) answers GET /metrics with the element's statistics
 * structure (the one get-stats and the stats property give, so both
 * agree) rendered as Prometheus text (version 0.0.4) or, when the scraper
 * asks for it in Accept, OpenMetrics 1.0.0; every other path is 404, every
 * other method 405. Adds the process's CPU time and resident memory from
 * /proc/self/stat (process_cpu_seconds_total, process_resident_memory_bytes).
 * Metric names and labels: docs/architecture.md, "Watching a relay".
 */
#ifndef __EBPF_RELAY_METRICS_H__
#define __EBPF_RELAY_METRICS_H__

#include <gst/gst.h>

#include "ebpfrelay-watch.h"

G_BEGIN_DECLS

typedef struct _RelayMetrics RelayMetrics;

#define RELAY_METRICS_ERROR (relay_metrics_error_quark ())
GQuark relay_metrics_error_quark (void);

typedef enum
{
  RELAY_METRICS_ERROR_ADDRESS,  /* metrics-address is not an IP address */
  RELAY_METRICS_ERROR_LISTEN,   /* cannot listen (port in use, ...) */
} RelayMetricsError;

/* Listens on @address:@port, in @watch's thread; @stats is called there
 * for every scrape. The error says which setting is wrong. */
RelayMetrics *relay_metrics_new (RelayWatch * watch, const gchar * address,
    guint port, RelayWatchStatsFunc stats, gpointer user_data,
    GError ** error);
/* Stops listening (before @watch is freed). */
void relay_metrics_free (RelayMetrics * m);

/* @stats (application/x-ebpfrelaysink-stats) as metrics text; with
 * @openmetrics the OpenMetrics 1.0.0 form (ends with "# EOF"). */
gchar *relay_metrics_render (const GstStructure * stats,
    gboolean openmetrics);

G_END_DECLS
#endif
