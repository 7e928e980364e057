/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-switch: bpf/switch.h's limit switching (DESIGN.md, "Join and
 * switch"), as the relay (kernel and userspace) and ebpfprioritysrc's
 * filter run it:
 * - a raised limit waits for the SSRC's next frame start (a new
 *   timestamp): the frame in progress ends at the old limit;
 * - a lowered limit waits for the next key frame start, also one behind
 *   a leading discardable packet (x264's access unit delimiter);
 * - a request taken back before its boundary switches nothing; a WAITING
 *   subscriber starts at the limit requested at its key frame; an SSRC
 *   that is not video (every packet priority 7) switches at its next
 *   packet;
 * - random toggles over a random stream: every decision is the one an
 *   independent model makes from the generator's own frame and key-frame
 *   starts, the sequence numbers sent (prio_out_seq) are contiguous, and
 *   every number sent maps back to its original (seqlog.h, as NACKs do).
 */
#include <glib.h>

#include "switch.h"
#include "seqlog.h"

static const __u8 h264[PRIO_N_PT] = {[96] = PRIO_CODEC_H264 };

/* One packet through sw_frame and sw_decide. */
static int
step (struct sw_ssrc *f, struct sw_sub *s, __u32 ts, __u8 prio, __u8 req)
{
  return sw_decide (s, sw_frame (f, ts, prio), prio, req);
}

/* A RUNNING subscriber at limit @limit, having seen a key frame at ts 1. */
static void
running_at (struct sw_ssrc *f, struct sw_sub *s, __u8 limit)
{
  memset (f, 0, sizeof (*f));
  sw_sub_init (s, h264, 96, limit);
  g_assert_cmpint (s->state, ==, SW_WAITING);
  g_assert_cmpint (step (f, s, 1, 7, limit), ==, SW_SEND);
  g_assert_cmpint (s->state, ==, SW_RUNNING);
  g_assert_cmpint (s->limit, ==, limit);
}

static void
test_raise_mid_frame (void)
{
  struct sw_ssrc f;
  struct sw_sub s;

  running_at (&f, &s, 0);
  /* frame ts 2: P (6) starts it; raised to 6 after its first packet */
  g_assert_cmpint (step (&f, &s, 2, 6, 0), ==, SW_SEND);
  /* the rest of the frame at the old limit, even a priority-0 packet */
  g_assert_cmpint (step (&f, &s, 2, 5, 6), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 2, 0, 6), ==, SW_SEND);
  g_assert_true (sw_pending (&s, 6));
  g_assert_cmpint (s.limit, ==, 0);
  /* the next timestamp: in force from its first packet on */
  g_assert_cmpint (step (&f, &s, 3, 5, 6), ==, SW_DROP);
  g_assert_cmpint (s.limit, ==, 6);
  g_assert_false (sw_pending (&s, 6));
  g_assert_cmpint (step (&f, &s, 3, 6, 6), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 4, 0, 6), ==, SW_DROP);
  /* a raise needs no key frame: 6 -> 7 at the next P frame's start */
  g_assert_cmpint (step (&f, &s, 4, 6, 7), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 5, 6, 7), ==, SW_DROP);
  g_assert_cmpint (s.limit, ==, 7);
}

static void
test_lower_waits_key (void)
{
  struct sw_ssrc f;
  struct sw_sub s;
  __u32 ts;

  running_at (&f, &s, 7);
  /* lowered to 0: P and B frames keep being dropped ... */
  for (ts = 2; ts < 10; ts++) {
    g_assert_cmpint (step (&f, &s, ts, 6, 0), ==, SW_DROP);
    g_assert_cmpint (step (&f, &s, ts, 7, 0), ==, SW_SEND);  /* no start */
    g_assert_cmpint (step (&f, &s, ts, 0, 0), ==, SW_DROP);
    g_assert_true (sw_pending (&s, 0));
  }
  /* ... up to the key frame, behind its delimiter (priority 0, dropped
   * at the old limit), at its SPS */
  g_assert_cmpint (step (&f, &s, 10, 0, 0), ==, SW_DROP);
  g_assert_cmpint (s.limit, ==, 7);
  g_assert_cmpint (step (&f, &s, 10, 7, 0), ==, SW_SEND);
  g_assert_cmpint (s.limit, ==, 0);
  g_assert_false (sw_pending (&s, 0));
  g_assert_cmpint (step (&f, &s, 10, 0, 0), ==, SW_SEND);  /* SEI, ... */
  g_assert_cmpint (step (&f, &s, 11, 6, 0), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 11, 0, 0), ==, SW_SEND);

  /* 1 -> 0: a B frame (priority 0) starting a frame is no key frame */
  running_at (&f, &s, 1);
  g_assert_cmpint (step (&f, &s, 2, 0, 0), ==, SW_DROP);
  g_assert_cmpint (step (&f, &s, 3, 6, 0), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 4, 0, 0), ==, SW_DROP);
  g_assert_cmpint (step (&f, &s, 5, 7, 0), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 6, 0, 0), ==, SW_SEND);
}

static void
test_cancel_and_waiting (void)
{
  struct sw_ssrc f;
  struct sw_sub s;

  /* raise taken back before the next frame: nothing switched */
  running_at (&f, &s, 0);
  g_assert_cmpint (step (&f, &s, 2, 6, 0), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 2, 0, 6), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 2, 0, 0), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 3, 0, 0), ==, SW_SEND);
  g_assert_cmpint (s.limit, ==, 0);
  /* lowering taken back before the key frame: nothing switched */
  running_at (&f, &s, 6);
  g_assert_cmpint (step (&f, &s, 2, 0, 0), ==, SW_DROP);
  g_assert_cmpint (step (&f, &s, 3, 0, 6), ==, SW_DROP);
  g_assert_cmpint (step (&f, &s, 4, 7, 6), ==, SW_SEND);
  g_assert_cmpint (s.limit, ==, 6);
  /* lowered 7 -> 1, then 6 asked before the key frame: still below the
   * limit in force, so still a lowering, to 6, at the key frame */
  running_at (&f, &s, 7);
  g_assert_cmpint (step (&f, &s, 2, 6, 1), ==, SW_DROP);
  g_assert_cmpint (step (&f, &s, 3, 6, 6), ==, SW_DROP);
  g_assert_cmpint (step (&f, &s, 4, 7, 6), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 5, 6, 6), ==, SW_SEND);
  g_assert_cmpint (s.limit, ==, 6);

  /* WAITING: the limit requested at the key frame is in force */
  memset (&f, 0, sizeof (f));
  sw_sub_init (&s, h264, 96, 0);
  g_assert_cmpint (step (&f, &s, 1, 6, 0), ==, SW_HOLD);
  g_assert_cmpint (step (&f, &s, 2, 0, 7), ==, SW_HOLD);
  g_assert_cmpint (step (&f, &s, 3, 7, 6), ==, SW_SEND);
  g_assert_cmpint (s.state, ==, SW_RUNNING);
  g_assert_cmpint (s.limit, ==, 6);
  g_assert_cmpint (step (&f, &s, 3, 0, 6), ==, SW_DROP);

  /* not video (priority 7, a timestamp each): at the next packet */
  memset (&f, 0, sizeof (f));
  sw_sub_init (&s, h264, 0, 0);
  g_assert_cmpint (s.state, ==, SW_RUNNING);
  g_assert_cmpint (step (&f, &s, 1, 7, 0), ==, SW_SEND);
  g_assert_cmpint (step (&f, &s, 2, 7, 7), ==, SW_SEND);
  g_assert_cmpint (s.limit, ==, 7);
  g_assert_cmpint (step (&f, &s, 3, 7, 0), ==, SW_SEND);
  g_assert_cmpint (s.limit, ==, 0);
}

/* Random frames (a key frame about every 12th, optionally behind a
 * delimiter; P, B and their slices of random sizes), the limit requested
 * toggled at random between packets. */
static void
run_toggles (guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  struct sw_ssrc f = { 0 };
  struct sw_sub s;
  struct seqlog log = { 0 };
  __u8 req = 0, force = 0, a = g_rand_int_range (r, 0, 8),
      b = g_rand_int_range (r, 0, 8);
  __u32 dropped = 0, ts = 1000, n_frames = 8000, fr, i, n, switches = 0;
  __u16 orig = g_rand_int (r), first = 0, next_out = 0;
  gboolean running = FALSE, have_out = FALSE;
  GArray *sent = g_array_new (FALSE, FALSE, sizeof (guint16) * 2);

  if (b == a)
    b = (a + 1) % 8;
  sw_sub_init (&s, h264, 96, req);
  for (fr = 0; fr < n_frames; fr++) {
    gboolean key = g_rand_int_range (r, 0, 12) == 0 || fr == 3;
    gboolean aud = g_rand_boolean (r);

    ts += 3000;
    n = g_rand_int_range (r, 1, 6);
    for (i = 0; i < n + aud; i++) {
      __u8 prio;
      gboolean frame_first = i == 0, key_first;
      int v, want;

      if (aud && i == 0)
        prio = 0;
      else if (key)
        prio = 7;
      else
        prio = (fr % 3) ? 0 : (g_rand_boolean (r) ? 6 : 5);
      key_first = key && i == (guint) aud;
      if (g_rand_int_range (r, 0, 4) == 0)
        req = g_rand_boolean (r) ? a : b;

      /* the model: from what the generator made, not from switch.h */
      if (!running) {
        want = key_first ? 1 : -1;
        if (key_first) {
          running = TRUE;
          force = req;
        }
      } else {
        if ((req > force && frame_first) || (req < force && key_first)) {
          force = req;
          switches++;
        }
      }
      if (running)
        want = prio >= force;

      v = step (&f, &s, ts, prio, req);
      g_assert_cmpint (v, ==, want < 0 ? SW_HOLD : want ? SW_SEND : SW_DROP);
      if (running)
        g_assert_cmpint (s.limit, ==, force);
      if (v == SW_DROP) {
        dropped++;
        seqlog_note (&log, orig, 1);
      } else if (v == SW_SEND) {
        guint16 out = prio_out_seq (orig, dropped), pair[2] = { orig, out };

        seqlog_note (&log, orig, 0);
        if (have_out)
          g_assert_cmpuint (out, ==, next_out);
        else
          first = out;
        have_out = TRUE;
        next_out = out + 1;
        g_array_append_val (sent, pair);
      }
      orig++;
    }
  }
  g_assert_cmpuint (switches, >, 100);
  /* the first number sent is the original's (nothing dropped before) */
  g_assert_cmpuint (first, ==, g_array_index (sent, guint16, 0));
  /* the numbers of the last 3000 sent map back exactly (seqlog.h) */
  for (i = sent->len > 3000 ? sent->len - 3000 : 0; i < sent->len; i++) {
    guint16 *pair = &g_array_index (sent, guint16, 2 * i), o = 0;
    int rc = seqlog_map (&log, dropped, (__u16) (orig - 1), pair[1], 1, &o);

    if (rc == -1)
      continue;                 /* older than the runs logged */
    g_assert_cmpint (rc, ==, 1);
    g_assert_cmpuint (o, ==, pair[0]);
  }
  g_test_message ("seed %u limits %u/%u: %u switches, %u sent, %u dropped",
      seed, a, b, switches, sent->len, dropped);
  g_array_free (sent, TRUE);
  g_rand_free (r);
}

static void
test_toggles (void)
{
  guint32 seed;

  for (seed = 1; seed <= 20; seed++)
    run_toggles (seed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/switch/raise-mid-frame", test_raise_mid_frame);
  g_test_add_func ("/switch/lower-waits-key", test_lower_waits_key);
  g_test_add_func ("/switch/cancel-and-waiting", test_cancel_and_waiting);
  g_test_add_func ("/switch/toggles", test_toggles);
  return g_test_run ();
}
