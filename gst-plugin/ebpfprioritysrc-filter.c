/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfprioritysrc's userspace filter: ebpfprioritysrc-filter.h. */
#include <string.h>

#include "ebpfprioritysrc-filter.h"

void
psrc_filter_init (PsrcFilter * f)
{
  f->vp8 = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  f->switches = g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

void
psrc_filter_clear (PsrcFilter * f)
{
  g_clear_pointer (&f->vp8, g_hash_table_destroy);
  g_clear_pointer (&f->switches, g_hash_table_destroy);
}

void
psrc_filter_configured (PsrcFilter * f)
{
  g_hash_table_remove_all (f->vp8);
}

void
psrc_filter_reset (PsrcFilter * f)
{
  g_hash_table_remove_all (f->switches);
}

gboolean
psrc_filter_keep (PsrcFilter * f, const struct psrc_config *cfg,
    const guint8 * data, gsize len, struct prio_info *out)
{
  struct prio_vp8_state *st = NULL;
  struct psrc_ssrc *sw;
  struct prio_info info;
  guint32 ssrc;
  guint n = MIN (len, PRIO_BUF_LEN);

  /* The caller keeps the VP8 state per SSRC (priority.h). */
  if (n >= 12) {
    ssrc = (guint32) data[8] << 24 | (guint32) data[9] << 16 |
        (guint32) data[10] << 8 | data[11];
    st = g_hash_table_lookup (f->vp8, GUINT_TO_POINTER (ssrc));
    if (!st) {
      if (g_hash_table_size (f->vp8) >= PSRC_FILTER_VP8_SSRCS)
        g_hash_table_remove_all (f->vp8);
      st = g_new0 (struct prio_vp8_state, 1);
      g_hash_table_insert (f->vp8, GUINT_TO_POINTER (ssrc), st);
    }
  }
  prio_classify (data, n, len, cfg->codec_by_pt, cfg->fm_id, st, &info);
  *out = info;
  if (!prio_is_rtp (&info))
    return TRUE;
  /* The limit in force per SSRC, as the kernel's filter keeps it
   * (bpf/prioritysrc.bpf.c). */
  sw = g_hash_table_lookup (f->switches, GUINT_TO_POINTER (info.ssrc));
  if (!sw) {
    if (g_hash_table_size (f->switches) >= PSRC_SWITCH_SSRCS)
      g_hash_table_remove_all (f->switches);
    sw = g_new0 (struct psrc_ssrc, 1);
    sw_sub_init (&sw->s, NULL, info.pt, cfg->limit);
    g_hash_table_insert (f->switches, GUINT_TO_POINTER (info.ssrc), sw);
  }
  return sw_decide (&sw->s, sw_frame (&sw->f, info.ts, info.priority),
      info.priority, cfg->limit) == SW_SEND;
}

gint
psrc_filter_ssrc_limit (PsrcFilter * f, guint32 ssrc)
{
  struct psrc_ssrc *sw = g_hash_table_lookup (f->switches,
      GUINT_TO_POINTER (ssrc));

  return sw ? sw->s.limit : -1;
}

guint
psrc_filter_switches (PsrcFilter * f, struct psrc_ssrc *out, guint max)
{
  GHashTableIter it;
  gpointer v;
  guint n = 0;

  g_hash_table_iter_init (&it, f->switches);
  while (n < max && g_hash_table_iter_next (&it, NULL, &v))
    out[n++] = *(struct psrc_ssrc *) v;
  return n;
}

gint
psrc_filter_limit_in_force (const struct psrc_ssrc *sw, guint n,
    guint8 limit, gint * pending)
{
  gint in_force = -1;
  guint i;

  *pending = -1;
  for (i = 0; i < n; i++) {
    if (sw_pending (&sw[i].s, limit)) {
      *pending = limit;
      return sw[i].s.limit;
    }
    in_force = limit;
  }
  return in_force;
}
