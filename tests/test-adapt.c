/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The automatic priority limit (gst-plugin/ebpfrelay-adapt.h) against a
 * simulated link: capacity C packets/s, a stream with a rate per priority,
 * the subscriber's receiver report every 0.5-1.5 s (fraction lost of its
 * interval, as RFC 3550 6.4.1), a raise in force at once, a lowering
 * after a key-frame request's delay (as bpf/switch.h's boundaries).
 */
#include <glib.h>
#include <string.h>

#include "ebpfrelay-adapt.h"

#define SLICE_US (50 * G_TIME_SPAN_MILLISECOND)
#define LOWER_DELAY_US (400 * G_TIME_SPAN_MILLISECOND)

/* x264-like NRI priorities: B frames 0, reference B 5, P 6, IDR/SPS 7 */
static const gdouble rates[RELAY_ADAPT_PRIO_N] = { 60, 0, 0, 0, 0, 30, 90, 20 };

typedef struct
{
  RelayAdaptSub *a;
  guint8 steps;
  guint8 limit;                 /* requested */
  guint8 in_force;
  gint64 lower_at;              /* when a pending lowering comes into force */
  gint64 now;
  gint64 next_rr;
  gdouble capacity;
  gdouble offered, lost;        /* this report interval */
  gdouble total_offered, total_lost;    /* since the last stats reset */
  gdouble jitter_ms;
  gdouble queue;                /* packets waiting */
  guint rr_ms;                  /* mean RR interval */
  gboolean nacks;               /* the viewer NACKs each loss at once */
  gdouble nacked;
  guint64 packets;
  GRand *rand;
  /* the switches: time, to, reason */
  GArray *times, *tos, *reasons;
} Sim;

static gdouble
rate_of (guint8 limit)
{
  gdouble r = 0;

  for (guint p = limit; p < RELAY_ADAPT_PRIO_N; p++)
    r += rates[p];
  return r;
}

static void
sim_init (Sim * s, gdouble capacity)
{
  guint64 counts[RELAY_ADAPT_PRIO_N];

  memset (s, 0, sizeof (*s));
  for (guint p = 0; p < RELAY_ADAPT_PRIO_N; p++)
    counts[p] = (guint64) rates[p];
  s->steps = relay_adapt_steps (counts);
  s->a = relay_adapt_sub_new (NULL);
  s->capacity = capacity;
  s->now = G_TIME_SPAN_SECOND;
  s->next_rr = s->now + G_TIME_SPAN_SECOND;
  s->jitter_ms = 5.0;
  s->rr_ms = 1000;
  s->rand = g_rand_new_with_seed (12);
  s->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->tos = g_array_new (FALSE, FALSE, sizeof (guint8));
  s->reasons = g_array_new (FALSE, FALSE, sizeof (gint));
}

static void
sim_clear (Sim * s)
{
  relay_adapt_sub_free (s->a);
  g_rand_free (s->rand);
  g_array_free (s->times, TRUE);
  g_array_free (s->tos, TRUE);
  g_array_free (s->reasons, TRUE);
}

/* One compound to the controller, its decision applied. */
static void
sim_feed (Sim * s, const RelayAdaptReport * rp)
{
  RelayAdaptReport r = *rp;
  RelayAdaptReason why;
  guint8 to;

  if (relay_adapt_report (s->a, s->now, s->limit, s->steps, &r, &to,
          &why)) {
    gint w = why;

    if (g_getenv ("ADAPT_TRACE"))
      g_printerr ("%.2f s: %u -> %u (%s) lost %.3f jitter %.1f\n",
          s->now / 1e6, s->limit, to, relay_adapt_reason_str (why),
          r.fraction_lost, r.jitter_ms);

    g_array_append_val (s->times, s->now);
    g_array_append_val (s->tos, to);
    g_array_append_val (s->reasons, w);
    if (to > s->in_force) {
      s->in_force = to;
      s->lower_at = 0;
    } else {
      s->lower_at = s->now + LOWER_DELAY_US;
    }
    s->limit = to;
  }
}

/* Runs the simulation for @us. */
static void
sim_run (Sim * s, gint64 us)
{
  gint64 end = s->now + us;

  while (s->now < end) {
    gdouble off, got, cap, lost;

    if (s->lower_at && s->now >= s->lower_at) {
      s->in_force = s->limit;
      s->lower_at = 0;
    }
    /* a token bucket's queue of 300 ms at capacity: what does not fit
     * waits, what the queue cannot take is lost; the jitter grows with
     * the queue's delay */
    off = rate_of (s->in_force) * SLICE_US / G_TIME_SPAN_SECOND;
    cap = s->capacity * SLICE_US / G_TIME_SPAN_SECOND;
    s->queue += off;
    got = MIN (s->queue, cap);
    s->queue -= got;
    lost = MAX (0, s->queue - 0.3 * s->capacity);
    s->queue -= lost;
    s->jitter_ms = 5.0 + 500.0 * s->queue / s->capacity;
    s->offered += off;
    s->lost += lost;
    s->total_offered += off;
    s->total_lost += lost;
    s->packets += (guint64) off;
    s->now += SLICE_US;
    if (s->nacks && lost > 0) {
      RelayAdaptReport n = { 0 };

      s->nacked += lost;
      n.nacks = (guint64) s->nacked;
      n.packets = s->packets;
      sim_feed (s, &n);
    }

    if (s->now >= s->next_rr) {
      RelayAdaptReport r = { 0 };

      r.has_report = TRUE;
      r.nacks = (guint64) s->nacked;
      r.fraction_lost = s->offered > 0 ? s->lost / s->offered : 0;
      /* (RFC 3550: 8 bits of it) */
      r.fraction_lost = (guint) (r.fraction_lost * 256) / 256.0;
      r.jitter_ms = s->jitter_ms;
      r.packets = s->packets;
      s->offered = s->lost = 0;
      s->next_rr = s->now + g_rand_int_range (s->rand, s->rr_ms / 2,
          s->rr_ms * 3 / 2) * G_TIME_SPAN_MILLISECOND;
      sim_feed (s, &r);
    }
  }
}

static void
sim_reset_loss (Sim * s)
{
  s->total_offered = s->total_lost = 0;
}

static void
test_steps (void)
{
  guint64 x264[RELAY_ADAPT_PRIO_N] = { 500, 0, 0, 0, 0, 0, 800, 40 };
  guint64 none[RELAY_ADAPT_PRIO_N] = { 0 };
  guint64 sim[RELAY_ADAPT_PRIO_N];
  guint8 st;

  for (guint p = 0; p < RELAY_ADAPT_PRIO_N; p++)
    sim[p] = (guint64) rates[p];
  st = relay_adapt_steps (x264);
  g_assert_cmpuint (st, ==, 0x83);      /* 0, 1, 7 */
  st = relay_adapt_steps (sim);
  g_assert_cmpuint (st, ==, 0xc3);      /* 0, 1, 6, 7 */
  g_assert_cmpuint (relay_adapt_step_up (st, 0), ==, 1);
  g_assert_cmpuint (relay_adapt_step_up (st, 1), ==, 6);
  g_assert_cmpuint (relay_adapt_step_up (st, 6), ==, 7);
  g_assert_cmpuint (relay_adapt_step_up (st, 7), ==, 7);
  g_assert_cmpuint (relay_adapt_step_down (st, 7), ==, 6);
  g_assert_cmpuint (relay_adapt_step_down (st, 6), ==, 1);
  g_assert_cmpuint (relay_adapt_step_down (st, 1), ==, 0);
  g_assert_cmpuint (relay_adapt_step_down (st, 0), ==, 0);
  /* nothing classified: no step at all */
  st = relay_adapt_steps (none);
  g_assert_cmpuint (st, ==, 1);
  g_assert_cmpuint (relay_adapt_step_up (st, 0), ==, 0);
}

/* The highest limit (most packets) whose stream fits in @capacity. */
static guint8
best_fit (guint8 steps, gdouble capacity)
{
  for (guint l = 0; l < RELAY_ADAPT_PRIO_N; l++)
    if ((steps & (1u << l)) && rate_of (l) <= capacity)
      return l;
  return RELAY_ADAPT_PRIO_N - 1;
}

/* Settles at the best fit within 2 s per step, and stays there (but for
 * probes) with little loss; probes no faster than the quiet period
 * allows, backing off to quiet-max. */
static void
check_settles (gdouble capacity, guint n_steps, gdouble max_loss,
    guint rr_ms, gboolean nacks)
{
  Sim s;
  gint64 settle_deadline, t0, at_best = 0, last_probe = 0;
  guint8 best, last = 0;
  guint probes = 0, i;

  sim_init (&s, capacity);
  s.rr_ms = rr_ms;
  s.nacks = nacks;
  best = best_fit (s.steps, capacity);
  /* 2 RR intervals a step, or 1 s with NACKs */
  settle_deadline = s.now + (nacks ? 2 * rr_ms / 1000 + n_steps :
      1 + 2 * n_steps) * G_TIME_SPAN_SECOND;
  /* settle */
  while (s.limit != best && s.now < settle_deadline)
    sim_run (&s, SLICE_US);
  g_assert_cmpuint (s.limit, ==, best);
  g_assert_cmpuint (s.times->len, <=, n_steps);
  t0 = s.now;
  i = s.times->len;
  sim_reset_loss (&s);
  /* 200 s at that capacity */
  while (s.now < t0 + 200 * G_TIME_SPAN_SECOND) {
    sim_run (&s, SLICE_US);
    if (s.limit == best)
      at_best += SLICE_US;
  }
  /* (each probe costs a second or two at the lower limit) */
  g_assert_cmpfloat (at_best, >, 0.85 * 200 * G_TIME_SPAN_SECOND);
  g_assert_cmpfloat (s.total_lost / s.total_offered, <, max_loss);
  for (; i < s.times->len; i++) {
    gint64 t = g_array_index (s.times, gint64, i);
    guint8 to = g_array_index (s.tos, guint8, i);
    gint why = g_array_index (s.reasons, gint, i);

    if (why == RELAY_ADAPT_PROBE) {
      /* each probe after a failed one waits at least the base quiet
       * period; from the fourth on the backed-off one */
      g_assert_cmpuint (to, <, best);
      if (last_probe)
        g_assert_cmpint (t - last_probe, >=,
            probes >= 3 ? s.a->params.quiet_max_us : s.a->params.quiet_us);
      last_probe = t;
      probes++;
    } else {
      /* every step up after settling is a probe failing */
      g_assert_cmpint (why, ==, RELAY_ADAPT_PROBE_FAILED);
      g_assert_cmpuint (to, ==, best);
      g_assert_cmpuint (last, <, best);
    }
    last = to;
  }
  if (best > 0)
    g_assert_cmpuint (probes, >=, 3);
  /* 200 s: 5 + 10 + 16 + 16... at most 14 probes */
  g_assert_cmpuint (probes, <=, 14);
  sim_clear (&s);
}

static void
test_settle_l1 (void)
{
  check_settles (150, 1, 0.01, 1000, FALSE);       /* L1 = 140 */
}

static void
test_settle_l6 (void)
{
  check_settles (120, 2, 0.01, 1000, FALSE);       /* L6 = 110 */
}

static void
test_settle_l7 (void)
{
  /* L7 = 20: each probe (to L6, 110) overflows the queue at once, and
   * what it loses is large against so thin a stream */
  check_settles (60, 3, 0.05, 1000, FALSE);
}

/* rtpbin's RRs (every 5 s) with NACKs: the NACKs move it, as fast */
static void
test_settle_nack (void)
{
  check_settles (150, 1, 0.01, 5000, TRUE);
  check_settles (120, 2, 0.01, 5000, TRUE);
}

static void
test_settle_l0 (void)
{
  check_settles (400, 0, 0.001, 1000, FALSE);       /* everything fits: no switch */
}

/* Capacity back: down to 0 within 30 s (from L6) and 35 s (from L7). */
static void
check_returns (gdouble capacity, gint64 within)
{
  Sim s;
  gint64 t0;

  sim_init (&s, capacity);
  sim_run (&s, 60 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (s.limit, ==, best_fit (s.steps, capacity));
  s.capacity = 1000;
  t0 = s.now;
  while (s.limit != 0 && s.now < t0 + within)
    sim_run (&s, SLICE_US);
  g_assert_cmpuint (s.limit, ==, 0);
  /* and stays */
  sim_run (&s, 60 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (s.limit, ==, 0);
  g_assert_cmpint (g_array_index (s.reasons, gint, s.reasons->len - 1), ==,
      RELAY_ADAPT_PROBE);
  sim_clear (&s);
}

static void
test_returns (void)
{
  check_returns (120, 30 * G_TIME_SPAN_SECOND);
  check_returns (60, 40 * G_TIME_SPAN_SECOND);
}

/* No loss, but the jitter climbs: a step up; a flat jitter, none. */
static void
test_jitter (void)
{
  RelayAdaptSub *a = relay_adapt_sub_new (NULL);
  RelayAdaptReport r = {.has_report = TRUE };
  RelayAdaptReason why = RELAY_ADAPT_NONE;
  gdouble j[] = { 5, 6, 5, 8, 20, 45, 70 };
  gint64 now = G_TIME_SPAN_SECOND;
  guint8 to = 0;
  gboolean sw = FALSE;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (j) && !sw; i++) {
    r.jitter_ms = j[i];
    r.packets += 100;
    now += G_TIME_SPAN_SECOND;
    sw = relay_adapt_report (a, now, 0, 0xc3, &r, &to, &why);
  }
  g_assert_true (sw);
  g_assert_cmpuint (i, ==, 6);  /* at 45 ms */
  g_assert_cmpuint (to, ==, 1);
  g_assert_cmpint (why, ==, RELAY_ADAPT_JITTER);
  g_assert_cmpstr (relay_adapt_reason_str (why), ==, "jitter");
  relay_adapt_sub_free (a);

  /* a high but steady jitter (a bursty sender) is no trend */
  a = relay_adapt_sub_new (NULL);
  for (i = 0; i < 20; i++) {
    r.jitter_ms = 40;
    r.packets += 100;
    now += G_TIME_SPAN_SECOND;
    g_assert_false (relay_adapt_report (a, now, 1, 0xc3, &r, &to, &why)
        && why == RELAY_ADAPT_JITTER);
  }
  relay_adapt_sub_free (a);
}

/* No loss reported, but a tenth of the packets NACKed: a step up. */
static void
test_nack (void)
{
  RelayAdaptSub *a = relay_adapt_sub_new (NULL);
  RelayAdaptReport r = {.has_report = TRUE };
  RelayAdaptReason why = RELAY_ADAPT_NONE;
  guint8 to = 0;

  r.jitter_ms = 5;
  r.packets = 100;
  g_assert_false (relay_adapt_report (a, G_TIME_SPAN_SECOND, 0, 0xc3, &r,
          &to, &why));
  r.packets += 100;
  r.nacks += 2;                 /* 2 %: fine */
  g_assert_false (relay_adapt_report (a, 2 * G_TIME_SPAN_SECOND, 0, 0xc3,
          &r, &to, &why));
  r.packets += 100;
  r.nacks += 10;
  g_assert_true (relay_adapt_report (a, 3 * G_TIME_SPAN_SECOND, 0, 0xc3, &r,
          &to, &why));
  g_assert_cmpuint (to, ==, 1);
  g_assert_cmpint (why, ==, RELAY_ADAPT_NACK);
  g_assert_cmpuint (a->switches, ==, 1);
  /* the next report covers time before the switch: ignored */
  r.packets += 100;
  r.nacks += 50;
  g_assert_false (relay_adapt_report (a, 3 * G_TIME_SPAN_SECOND + 100000, 1,
          0xc3, &r, &to, &why));
  relay_adapt_sub_free (a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/adapt/steps", test_steps);
  g_test_add_func ("/adapt/settle-l0", test_settle_l0);
  g_test_add_func ("/adapt/settle-l1", test_settle_l1);
  g_test_add_func ("/adapt/settle-l6", test_settle_l6);
  g_test_add_func ("/adapt/settle-l7", test_settle_l7);
  g_test_add_func ("/adapt/settle-nack", test_settle_nack);
  g_test_add_func ("/adapt/returns", test_returns);
  g_test_add_func ("/adapt/jitter", test_jitter);
  g_test_add_func ("/adapt/nack", test_nack);
  return g_test_run ();
}
