/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The automatic priority limit: see ebpfrelay-adapt.h.
 */
#include "ebpfrelay-adapt.h"

void
relay_adapt_params_init (RelayAdaptParams * p)
{
  p->loss_threshold = 0.03;
  p->jitter_floor_ms = 30.0;
  p->quiet_us = 5 * G_TIME_SPAN_SECOND;
  p->quiet_max_us = 16 * G_TIME_SPAN_SECOND;
  p->probe_us = 4 * G_TIME_SPAN_SECOND;
  p->grace_us = 300 * G_TIME_SPAN_MILLISECOND;
  p->nack_window_us = 500 * G_TIME_SPAN_MILLISECOND;
  p->nack_min = 8;
  p->nack_grace_us = 2 * G_TIME_SPAN_SECOND;
}

const gchar *
relay_adapt_reason_str (RelayAdaptReason r)
{
  switch (r) {
    case RELAY_ADAPT_LOSS:
      return "loss";
    case RELAY_ADAPT_NACK:
      return "nack";
    case RELAY_ADAPT_JITTER:
      return "jitter";
    case RELAY_ADAPT_PROBE_FAILED:
      return "probe-failed";
    case RELAY_ADAPT_PROBE:
      return "probe";
    default:
      return "none";
  }
}

RelayAdaptSub *
relay_adapt_sub_new (const RelayAdaptParams * params)
{
  RelayAdaptSub *a = g_new0 (RelayAdaptSub, 1);

  if (params)
    a->params = *params;
  else
    relay_adapt_params_init (&a->params);
  a->quiet = a->params.quiet_us;
  return a;
}

void
relay_adapt_sub_free (RelayAdaptSub * a)
{
  g_free (a);
}

guint8
relay_adapt_steps (const guint64 counts[RELAY_ADAPT_PRIO_N])
{
  guint8 steps = 1;

  /* limit L drops priorities below L: it is a step when L - 1 occurs
   * (priority 7 is never dropped: no limit 8) */
  for (guint p = 0; p + 1 < RELAY_ADAPT_PRIO_N; p++)
    if (counts[p])
      steps |= 1u << (p + 1);
  return steps;
}

guint8
relay_adapt_step_up (guint8 steps, guint8 limit)
{
  for (guint l = limit + 1; l < RELAY_ADAPT_PRIO_N; l++)
    if (steps & (1u << l))
      return l;
  return limit;
}

guint8
relay_adapt_step_down (guint8 steps, guint8 limit)
{
  for (gint l = (gint) limit - 1; l >= 0; l--)
    if (steps & (1u << l))
      return l;
  return limit;
}

void
relay_adapt_reset (RelayAdaptSub * a, gint64 now)
{
  a->last_switch = now;
  a->last_bad = now;
  a->last_down = 0;
}

static gboolean
decide (RelayAdaptSub * a, gint64 now, guint8 limit, guint8 to,
    RelayAdaptReason reason, guint8 * out, RelayAdaptReason * out_reason)
{
  if (to == limit)
    return FALSE;
  a->switches++;
  a->last_reason = reason;
  a->last_from = limit;
  a->last_to = to;
  a->last_switch = now;
  a->last_bad = now;
  a->last_down = to < limit ? now : 0;
  *out = to;
  *out_reason = reason;
  return TRUE;
}

/* The NACKed share of what was sent over the window ending @now, or -1
 * while the window is not full (or began before the last step up was in
 * force). During a probe (a step down, the window starting with it) any
 * NACK fails it at once: the link was quiet before. */
static gdouble
nack_rate (RelayAdaptSub * a, gint64 now, const RelayAdaptReport * r)
{
  const RelayAdaptParams *p = &a->params;
  /* (after a step down, a probe, its NACKs are its own at once; after a
   * failed probe the bottleneck's queue it filled drains first: twice
   * the grace, as a key frame the probe asked for may still come) */
  gint64 ready = a->last_switch + (a->last_down ? 0 :
      a->last_reason == RELAY_ADAPT_PROBE_FAILED ? 2 * p->nack_grace_us :
      p->nack_grace_us);
  gboolean probing = a->last_down && now - a->last_down < p->probe_us;
  gdouble rate = -1;

  if (a->nack_t0 && a->nack_t0 >= ready) {
    if (probing && r->nacks > a->nack_n0)
      return 1.0;
    if (now - a->nack_t0 < p->nack_window_us)
      return -1;
    /* (a loss or two, asked for again and again, is no overload) */
    if (r->packets > a->nack_p0 && r->nacks - a->nack_n0 >= p->nack_min)
      rate = (gdouble) (r->nacks - a->nack_n0) / (r->packets - a->nack_p0);
    else
      rate = 0;
  }
  a->nack_t0 = now >= ready ? now : 0;
  a->nack_n0 = r->nacks;
  a->nack_p0 = r->packets;
  return rate;
}

gboolean
relay_adapt_report (RelayAdaptSub * a, gint64 now, guint8 limit,
    guint8 steps, const RelayAdaptReport * r, guint8 * to,
    RelayAdaptReason * reason)
{
  const RelayAdaptParams *p = &a->params;
  gint64 prev = a->last_report;
  RelayAdaptReason why = RELAY_ADAPT_NONE;
  gboolean had_prev = a->have_prev, valid;
  gdouble jprev = a->jitter_prev, nr = nack_rate (a, now, r);

  if (nr > p->loss_threshold)
    why = RELAY_ADAPT_NACK;
  if (!r->has_report && why == RELAY_ADAPT_NONE)
    return FALSE;
  if (r->has_report) {
    a->last_report = now;
    a->jitter_prev = r->jitter_ms;
    a->have_prev = TRUE;
  }
  /* The interval a report covers began at the previous one: after a
   * step up it tells of the new limit only when that was after the
   * switch (+ the time it takes to come into force); after a step down
   * (a probe) any overload is the probe's, as it was quiet before. */
  valid = r->has_report && prev && (!a->last_switch || a->last_down
      || prev >= a->last_switch + p->grace_us);
  if (why == RELAY_ADAPT_NONE && !valid)
    return FALSE;
  if (why == RELAY_ADAPT_NONE && r->fraction_lost > p->loss_threshold)
    why = RELAY_ADAPT_LOSS;
  else if (why == RELAY_ADAPT_NONE && had_prev
      && r->jitter_ms > p->jitter_floor_ms
      && r->jitter_ms > 3.0 * a->jitter_base && r->jitter_ms > jprev)
    why = RELAY_ADAPT_JITTER;

  if (why != RELAY_ADAPT_NONE) {
    if (a->last_down && now - a->last_down < p->probe_us) {
      why = RELAY_ADAPT_PROBE_FAILED;
      a->quiet = MIN (a->quiet * 2, p->quiet_max_us);
    }
    a->last_bad = now;
    a->nack_t0 = 0;             /* (its grace) */
    return decide (a, now, limit, relay_adapt_step_up (steps, limit), why,
        to, reason);
  }

  /* quiet: the jitter's baseline follows it (slowly upwards) */
  if (a->jitter_base <= 0.0 || r->jitter_ms < a->jitter_base)
    a->jitter_base = r->jitter_ms;
  else
    a->jitter_base += (r->jitter_ms - a->jitter_base) / 8.0;
  if (a->last_down && now - a->last_down >= p->probe_us) {
    /* the step down held: the next one may come as soon */
    a->last_down = 0;
    a->quiet = p->quiet_us;
  }
  if (now - a->last_bad >= a->quiet
      && decide (a, now, limit, relay_adapt_step_down (steps, limit),
          RELAY_ADAPT_PROBE, to, reason)) {
    /* the probe's NACK window starts with it */
    a->nack_t0 = now;
    a->nack_n0 = r->nacks;
    a->nack_p0 = r->packets;
    return TRUE;
  }
  return FALSE;
}
