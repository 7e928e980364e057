/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-seqlog: bpf/seqlog.h, the inverse of the per-subscriber sequence
 * rewrite. A simulated subscriber decides on a random stream (priorities
 * 0/6/7, packets lost before the relay, a hold at the start, its limit
 * changed at random, sequence numbers across the wrap) as the relay does:
 * dropped below its limit, renumbered o - dropped (prio_out_seq). Then for
 * every number the subscriber could NACK within the last 3000:
 * - a packet it was sent maps back to exactly that original, while the
 *   log holds every run since it (the only case allowed to fail is a
 *   packet older than the oldest run logged);
 * - no number maps to a packet it did not get (dropped for its limit,
 *   held, before its start);
 * and the same without the rewrite.
 */
#include <glib.h>

#include "seqlog.h"

#define N_PACKETS 20000
#define WINDOW 3000

typedef enum
{
  P_LOST,                       /* never reached the relay */
  P_HELD,                       /* before the start */
  P_DROPPED,
  P_SENT,
} Fate;

typedef struct
{
  Fate fate;
  guint16 orig;
  guint16 num;                  /* the subscriber's, when sent */
  guint32 dropped_before;
} Packet;

static void
run (guint32 seed, int rewrite)
{
  GRand *r = g_rand_new_with_seed (seed);
  Packet *p = g_new0 (Packet, N_PACKETS);
  struct seqlog l = { 0 };
  guint32 dropped = 0;
  guint16 base = (guint16) g_rand_int (r);
  guint limit = 0, hold = g_rand_int_range (r, 0, 50), i;
  guint checked = 0, found = 0, old = 0;
  guint32 oldest_run_start = 0;   /* index into p[] */
  guint16 last_num = 0;

  for (i = 0; i < N_PACKETS; i++) {
    guint prio;

    p[i].orig = (guint16) (base + i);
    if (g_rand_int_range (r, 0, 100) < 2) {
      p[i].fate = P_LOST;
      continue;
    }
    if (i < hold) {
      p[i].fate = P_HELD;
      continue;
    }
    if (g_rand_int_range (r, 0, 500) == 0)
      limit = g_rand_boolean (r) ? 0 : (g_rand_boolean (r) ? 6 : 7);
    /* frames of 1..6 packets of one priority */
    prio = (i / 4) % 3 == 0 ? 7 : ((i / 4) % 3 == 1 ? 6 : 0);
    if (prio < limit) {
      p[i].fate = P_DROPPED;
      p[i].dropped_before = dropped;
      dropped++;
      seqlog_note (&l, p[i].orig, 1);
    } else {
      p[i].fate = P_SENT;
      p[i].dropped_before = dropped;
      p[i].num = rewrite ? (guint16) (p[i].orig - dropped) : p[i].orig;
      seqlog_note (&l, p[i].orig, 0);
      last_num = p[i].num;
    }

    /* every 997 packets: every number in the window */
    if (i % 997 == 996) {
      guint16 newest = p[i].orig;
      guint j, lo = i >= WINDOW ? i - WINDOW : 0;
      GHashTable *truth = g_hash_table_new (NULL, NULL);

      /* the oldest run in the log: its first original's index */
      if (l.runs > SEQLOG_RUNS) {
        guint16 s0 = l.start[l.runs & (SEQLOG_RUNS - 1)];
        oldest_run_start = i - (guint16) (newest - s0);
      } else {
        oldest_run_start = 0;
      }
      for (j = lo; j <= i; j++)
        if (p[j].fate == P_SENT)
          g_hash_table_insert (truth, GUINT_TO_POINTER (p[j].num + 1),
              GUINT_TO_POINTER (j + 1));
      for (j = lo; j <= i; j++) {
        guint16 s, o;
        int ok;

        if (p[j].fate != P_SENT)
          continue;
        s = p[j].num;
        ok = seqlog_map (&l, dropped, newest, s, rewrite, &o);
        checked++;
        if (ok == 1) {
          found++;
          g_assert_cmpuint (o, ==, p[j].orig);
        } else {
          /* only a packet older than the log may be unknown */
          g_assert_cmpint (ok, ==, -1);
          g_assert_cmpuint (l.runs, >, SEQLOG_RUNS);
          g_assert_cmpuint (j, <, oldest_run_start);
          old++;
        }
      }
      /* numbers nobody was sent: never a dropped or held packet */
      for (j = 0; j < 4000; j++) {
        guint16 s = (guint16) (last_num - j), o;
        guint idx;

        if (g_hash_table_lookup (truth, GUINT_TO_POINTER (s + 1)))
          continue;
        if (seqlog_map (&l, dropped, newest, s, rewrite, &o) != 1)
          continue;
        idx = (guint16) (o - base);
        /* allowed: an original the relay never had (the cache has not
         * got it either), numbered s had it come */
        if (idx > i || (idx < lo && i >= WINDOW))
          continue;
        g_assert_cmpint (p[idx].fate, ==, P_LOST);
      }
      g_hash_table_unref (truth);
    }
  }
  g_assert_cmpuint (checked, >, 10000);
  g_assert_cmpuint (found, >, checked / 4);
  g_test_message ("seed %u rewrite %d: %u checked, %u found, %u older than "
      "the log", seed, rewrite, checked, found, old);
  g_free (p);
  g_rand_free (r);
}

static void
test_random (void)
{
  guint32 seed;

  for (seed = 1; seed <= 20; seed++) {
    run (seed, 1);
    run (seed, 0);
  }
}

static void
test_simple (void)
{
  struct seqlog l = { 0 };
  guint16 o;

  /* 100 sent, 101..103 dropped, 104 sent (numbered 101), 105 dropped,
   * 106 sent (102) */
  seqlog_note (&l, 100, 0);
  seqlog_note (&l, 101, 1);
  seqlog_note (&l, 102, 1);
  seqlog_note (&l, 103, 1);
  seqlog_note (&l, 104, 0);
  seqlog_note (&l, 105, 1);
  seqlog_note (&l, 106, 0);
  g_assert_cmpuint (l.runs, ==, 2);
  g_assert_cmpint (1, ==, seqlog_map (&l, 4, 106, 102, 1, &o));
  g_assert_cmpuint (o, ==, 106);
  g_assert_cmpint (1, ==, seqlog_map (&l, 4, 106, 101, 1, &o));
  g_assert_cmpuint (o, ==, 104);
  g_assert_cmpint (1, ==, seqlog_map (&l, 4, 106, 100, 1, &o));
  g_assert_cmpuint (o, ==, 100);
  /* before the start, after the newest */
  g_assert_cmpint (0, ==, seqlog_map (&l, 4, 106, 99, 1, &o));
  /* not rewritten: 101..103 and 105 were dropped */
  g_assert_cmpint (0, ==, seqlog_map (&l, 4, 106, 102, 0, &o));
  g_assert_cmpint (0, ==, seqlog_map (&l, 4, 106, 105, 0, &o));
  g_assert_cmpint (1, ==, seqlog_map (&l, 4, 106, 104, 0, &o));
  g_assert_cmpuint (o, ==, 104);
  /* never decided on: nothing */
  {
    struct seqlog e = { 0 };
    g_assert_cmpint (0, ==, seqlog_map (&e, 0, 5, 5, 1, &o));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/seqlog/simple", test_simple);
  g_test_add_func ("/seqlog/random", test_random);
  return g_test_run ();
}
