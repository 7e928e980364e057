/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ebpfrelay-tree: see ebpfrelay-tree.h. */
#include "ebpfrelay-tree.h"

#include "priority.h"

struct _RelayTree
{
  GWeakRef upstream;            /* the ebpfprioritysrc, or NULL */
  gboolean active;              /* an upstream was found, follow-limits */
  gint limit;                   /* last written; -1: none yet */
  guint64 changes;
};

RelayTree *
relay_tree_new (void)
{
  RelayTree *t = g_new0 (RelayTree, 1);

  g_weak_ref_init (&t->upstream, NULL);
  t->limit = -1;
  return t;
}

void
relay_tree_free (RelayTree * t)
{
  if (!t)
    return;
  g_weak_ref_clear (&t->upstream);
  g_free (t);
}

gboolean
relay_tree_is_upstream (GstElement * el)
{
  return el && g_strcmp0 (G_OBJECT_TYPE_NAME (el), "GstEbpfPrioritySrc") == 0;
}

void
relay_tree_set_upstream (RelayTree * t, GstElement * src, gboolean follow)
{
  t->active = src && follow && relay_tree_is_upstream (src);
  g_weak_ref_set (&t->upstream, t->active ? src : NULL);
  t->limit = -1;
}

guint8
relay_tree_lowest (RelayClients * table)
{
  guint8 lowest = PRIO_MAX;
  guint i;

  for (i = 0; i < table->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (table->clients, i);

    lowest = MIN (lowest, c->limit);
  }
  return lowest;
}

gboolean
relay_tree_update (RelayTree * t, RelayClients * table)
{
  GstElement *src;
  guint8 want;

  if (!t->active)
    return FALSE;
  want = relay_tree_lowest (table);
  if (t->limit == want)
    return FALSE;
  src = g_weak_ref_get (&t->upstream);
  if (!src)
    return FALSE;
  GST_INFO_OBJECT (src, "relay tree: upstream limit %d -> %u (the lowest "
      "of %u subscriber(s))", t->limit, want, table->clients->len);
  g_object_set (src, "priority-limit", (guint) want, NULL);
  gst_object_unref (src);
  t->limit = want;
  t->changes++;
  return TRUE;
}

gint
relay_tree_limit (RelayTree * t)
{
  return t->active ? t->limit : -1;
}

guint64
relay_tree_changes (RelayTree * t)
{
  return t->changes;
}

void
relay_tree_add_stats (RelayTree * t, GstStructure * s)
{
  gst_structure_set (s, "upstream-limit", G_TYPE_INT, relay_tree_limit (t),
      "upstream-limit-changes", G_TYPE_UINT64, t->changes, NULL);
}
