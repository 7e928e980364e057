/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-adapt: the automatic priority limit of an adaptive subscriber
 * (`host:port@auto` in clients, the subscription's auto flag). A pure
 * controller, GLib only: fed with one subscriber's observations (each
 * receiver report it sends, its NACK and packet counts) and the time, it
 * returns limit decisions; the caller requests them through the same path
 * as set-priority-limit (relay_clients_set_limit), so a switch comes into
 * force where bpf/switch.h lets it (at a boundary). No clock, no I/O.
 *
 * Steps: a step changes the limit to the next one that changes what the
 * subscriber gets. From the packets per priority the relay classified
 * (relay_adapt_steps: the kernel's kernel-priority-K counters plus the
 * userspace classifier's), limit L is a step when L is 0 or priority L-1
 * occurs: raising the limit to L then removes that priority's packets.
 * For x264 (NRI priorities 0, 5?, 6, 7) the steps are 0, 1, 6, 7; the
 * highest step is never above 7 (priority 7, the key frames, is kept).
 *
 * The rule, evaluated at each receiver report (and at each NACK, for the
 * NACK rate: a viewer's NACKs come within a round trip of the loss, its
 * RRs only every few seconds, e.g. rtpbin's 5 s):
 * - overloaded: the report's fraction lost, or the NACKed share of the
 *   packets sent to it over the last nack-window-us (500 ms) or more, if
 *   at least nack-min (8)
 *   (not within nack-grace-us, 2 s, of a step up, twice that after a failed
 *   probe; during a probe any NACK), above loss-threshold
 *   (3 %), or a rising jitter trend (the jitter above jitter-floor-ms and
 *   above 3 times its quiet baseline, and higher than the previous
 *   report's). A report whose interval began before the last switch
 *   (+ grace) says nothing about the new limit and is ignored.
 * - overloaded: up one step (reason "loss", "nack" or "jitter"; after a
 *   step down less than probe-us ago: "probe-failed", and the quiet
 *   period doubles, up to quiet-max-us).
 * - quiet (no overload) at a receiver report, for the quiet period (5 s
 *   at first) since the last overload or switch: down one step ("probe"). A step down that
 *   stays clean for probe-us resets the quiet period to its base.
 */
#ifndef __EBPF_RELAY_ADAPT_H__
#define __EBPF_RELAY_ADAPT_H__

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_ADAPT_PRIO_N 8

typedef struct
{
  gdouble loss_threshold;       /* fraction, 0.03 */
  gdouble jitter_floor_ms;      /* 30 */
  gint64 quiet_us;              /* base quiet period, 5 s */
  gint64 quiet_max_us;          /* 16 s */
  gint64 probe_us;              /* a step down failing within: 4 s */
  gint64 grace_us;              /* a switch comes into force within: 300 ms */
  gint64 nack_window_us;        /* NACK rate over at least: 500 ms */
  guint nack_min;               /* ... of at least 8 numbers NACKed */
  /* NACKs after a step up not counted for: 2 s (a jitter buffer asks
   * again for what it lost before, for its latency and its retries; a
   * bottleneck's queue filled by a failed probe drains) */
  gint64 nack_grace_us;
} RelayAdaptParams;

void relay_adapt_params_init (RelayAdaptParams * p);

typedef enum
{
  RELAY_ADAPT_NONE = 0,
  RELAY_ADAPT_LOSS,             /* up: fraction lost */
  RELAY_ADAPT_NACK,             /* up: NACK rate */
  RELAY_ADAPT_JITTER,           /* up: rising jitter */
  RELAY_ADAPT_PROBE_FAILED,     /* up: the last step down caused loss */
  RELAY_ADAPT_PROBE,            /* down: quiet period over */
} RelayAdaptReason;

const gchar *relay_adapt_reason_str (RelayAdaptReason r);

/* One compound of the subscriber: a receiver report (has_report) or
 * NACKs only, with what the relay counted. */
typedef struct
{
  gboolean has_report;          /* FALSE: only the NACK counts are new */
  gdouble fraction_lost;        /* 0..1, of the report */
  gdouble jitter_ms;            /* the report's jitter in ms */
  guint64 nacks;                /* sequence numbers NACKed, since start */
  guint64 packets;              /* packets sent to it, since start */
} RelayAdaptReport;

typedef struct
{
  RelayAdaptParams params;
  gint64 last_report;           /* µs, 0: none yet */
  gint64 last_switch;           /* µs, 0: never */
  gint64 last_bad;              /* last overload (or switch), µs */
  gint64 last_down;             /* last step down, µs, 0: none pending */
  gint64 quiet;                 /* the quiet period in force */
  gint64 nack_t0;               /* the NACK window's start, 0: none */
  guint64 nack_n0, nack_p0;
  gdouble jitter_prev, jitter_base;
  gboolean have_prev;
  /* what stats show */
  guint64 switches;
  RelayAdaptReason last_reason;
  guint8 last_from, last_to;
} RelayAdaptSub;

RelayAdaptSub *relay_adapt_sub_new (const RelayAdaptParams * params);
void relay_adapt_sub_free (RelayAdaptSub * a);

/* The limits that are steps (bit L set: limit L), from the packets
 * classified per priority. Bit 0 is always set. */
guint8 relay_adapt_steps (const guint64 counts[RELAY_ADAPT_PRIO_N]);
/* The next step above / below @limit in @steps, or @limit when none. */
guint8 relay_adapt_step_up (guint8 steps, guint8 limit);
guint8 relay_adapt_step_down (guint8 steps, guint8 limit);

/* A compound at @now (µs, monotonic, > 0) of the subscriber whose limit is
 * @limit now. TRUE: the limit is to be *@to (reason *@reason); the
 * switch is counted (the caller requests it). */
gboolean relay_adapt_report (RelayAdaptSub * a, gint64 now, guint8 limit,
    guint8 steps, const RelayAdaptReport * r, guint8 * to,
    RelayAdaptReason * reason);

/* The limit changed by other means (set-priority-limit, a clients
 * change) at @now: the controller starts over from there. */
void relay_adapt_reset (RelayAdaptSub * a, gint64 now);

G_END_DECLS
#endif
