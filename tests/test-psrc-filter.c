/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-psrc-filter: gst-plugin/ebpfprioritysrc-filter.c, ebpfprioritysrc's
 * userspace filter (GLib only, no privilege, no network).
 * - H.264 by NRI at a limit: kept and dropped as bpf/priority.h says;
 *   RTCP and what is not RTP always kept; the first packet of an SSRC
 *   decided at once (no wait for a key frame);
 * - the limit switching per SSRC: a raise at the next frame start (the
 *   frame in progress ends at the old limit), a lowering at the next key
 *   frame start; limit-in-force and limit-pending meanwhile; per SSRC;
 * - reset forgets the switch states; an unknown SSRC has no limit.
 */
#include <string.h>
#include <glib.h>

#include "ebpfprioritysrc-filter.h"

#define PT 96

/* An H.264 RTP packet (single NAL unit, header byte @nal) */
static gsize
h264 (guint8 * b, guint32 ssrc, guint32 ts, guint16 seq, guint8 nal)
{
  memset (b, 0, 16);
  b[0] = 0x80;
  b[1] = PT;
  b[2] = seq >> 8;
  b[3] = seq;
  b[4] = ts >> 24;
  b[5] = ts >> 16;
  b[6] = ts >> 8;
  b[7] = ts;
  b[8] = ssrc >> 24;
  b[9] = ssrc >> 16;
  b[10] = ssrc >> 8;
  b[11] = ssrc;
  b[12] = nal;
  b[13] = 0x88;
  return 16;
}

/* NAL header bytes: NRI 3 IDR (priority 7), NRI 2 (6), NRI 0 (0) */
#define IDR 0x65
#define REF 0x41
#define NONREF 0x01

static gboolean
keep (PsrcFilter * f, const struct psrc_config *cfg, guint32 ssrc,
    guint32 ts, guint8 nal, guint8 expect_priority)
{
  static guint16 seq;
  struct prio_info info;
  guint8 b[16];
  gsize n = h264 (b, ssrc, ts, seq++, nal);
  gboolean kept = psrc_filter_keep (f, cfg, b, n, &info);

  g_assert_true (prio_is_rtp (&info));
  g_assert_cmpuint (info.ssrc, ==, ssrc);
  g_assert_cmpuint (info.ts, ==, ts);
  g_assert_cmpuint (info.priority, ==, expect_priority);
  return kept;
}

static void
config (struct psrc_config *cfg, guint8 limit)
{
  memset (cfg, 0, sizeof (*cfg));
  cfg->codec_by_pt[PT] = PRIO_CODEC_H264;
  cfg->limit = limit;
}

static void
test_limit (void)
{
  PsrcFilter f;
  struct psrc_config cfg;
  struct prio_info info;
  static const guint8 rtcp[] = { 0x80, 200, 0x00, 0x06, 0, 0, 0, 1 };
  static const guint8 junk[] = { 0x12, 0x34 };

  psrc_filter_init (&f);
  config (&cfg, 6);
  /* the first packet of the SSRC is decided at once: NRI 0 dropped */
  g_assert_false (keep (&f, &cfg, 1, 1000, NONREF, 0));
  g_assert_true (keep (&f, &cfg, 1, 2000, REF, 6));
  g_assert_true (keep (&f, &cfg, 1, 3000, IDR, 7));
  g_assert_false (keep (&f, &cfg, 1, 4000, NONREF, 0));
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 1), ==, 6);
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 2), ==, -1);
  /* not RTP: kept */
  g_assert_true (psrc_filter_keep (&f, &cfg, rtcp, sizeof (rtcp), &info));
  g_assert_false (prio_is_rtp (&info));
  g_assert_true (psrc_filter_keep (&f, &cfg, junk, sizeof (junk), &info));
  g_assert_false (prio_is_rtp (&info));
  /* limit 0: everything */
  config (&cfg, 0);
  psrc_filter_reset (&f);
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 1), ==, -1);
  g_assert_true (keep (&f, &cfg, 1, 5000, NONREF, 0));
  psrc_filter_clear (&f);
}

static void
test_switch (void)
{
  PsrcFilter f;
  struct psrc_config cfg;
  struct psrc_ssrc sw[PSRC_SWITCH_SSRCS];
  gint pending;
  guint n;

  psrc_filter_init (&f);
  config (&cfg, 0);
  g_assert_true (keep (&f, &cfg, 1, 1000, IDR, 7));
  g_assert_true (keep (&f, &cfg, 1, 2000, NONREF, 0));
  g_assert_true (keep (&f, &cfg, 2, 500, NONREF, 0));
  n = psrc_filter_switches (&f, sw, G_N_ELEMENTS (sw));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (psrc_filter_limit_in_force (sw, n, cfg.limit, &pending),
      ==, 0);
  g_assert_cmpint (pending, ==, -1);

  /* raised to 7 mid-frame (ts 2000): the frame ends at 0, the next
   * frame at 7 */
  cfg.limit = 7;
  psrc_filter_configured (&f);
  g_assert_true (keep (&f, &cfg, 1, 2000, NONREF, 0));
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 1), ==, 0);
  n = psrc_filter_switches (&f, sw, G_N_ELEMENTS (sw));
  g_assert_cmpint (psrc_filter_limit_in_force (sw, n, cfg.limit, &pending),
      ==, 0);
  g_assert_cmpint (pending, ==, 7);
  g_assert_false (keep (&f, &cfg, 1, 3000, REF, 6));
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 1), ==, 7);
  /* SSRC 2 has not seen a frame start since: still 0 */
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 2), ==, 0);
  g_assert_false (keep (&f, &cfg, 2, 600, NONREF, 0));
  n = psrc_filter_switches (&f, sw, G_N_ELEMENTS (sw));
  g_assert_cmpint (psrc_filter_limit_in_force (sw, n, cfg.limit, &pending),
      ==, 7);
  g_assert_cmpint (pending, ==, -1);

  /* lowered to 0: not before a key frame starts */
  cfg.limit = 0;
  g_assert_false (keep (&f, &cfg, 1, 4000, REF, 6));
  g_assert_false (keep (&f, &cfg, 1, 5000, NONREF, 0));
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 1), ==, 7);
  g_assert_true (keep (&f, &cfg, 1, 6000, IDR, 7));
  g_assert_cmpint (psrc_filter_ssrc_limit (&f, 1), ==, 0);
  g_assert_true (keep (&f, &cfg, 1, 7000, NONREF, 0));

  /* no switch states: no limit in force */
  g_assert_cmpint (psrc_filter_limit_in_force (sw, 0, 3, &pending), ==, -1);
  g_assert_cmpint (pending, ==, -1);
  psrc_filter_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/psrc-filter/limit", test_limit);
  g_test_add_func ("/psrc-filter/switch", test_switch);
  return g_test_run ();
}
