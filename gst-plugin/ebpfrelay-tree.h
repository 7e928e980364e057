/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-tree: a relay that is itself a subscriber of another relay
 * (a relay tree: `ebpfprioritysrc relay=UPSTREAM:PORT ! ebpfrelaysink`).
 * The ebpfprioritysrc is found at start by the same walk upstream as a
 * udpsrc (ebpfrelay-local.h: relay_local_find_udpsrc), so the packets its
 * socket receives cross the TC hook and the kernel fans them out as a
 * udpsrc's. What this module adds: the upstream subscription's limit
 * follows this relay's own subscribers. It is the lowest limit any of
 * them has (what the neediest one must get; PRIO_MAX, key frames and
 * the like only, while there is none), written to the ebpfprioritysrc's
 * priority-limit whenever it changes; the ebpfprioritysrc then tells the
 * upstream relay over the subscription channel, which switches it at a
 * decodable boundary as for any subscriber (bpf/switch.h), asking its
 * sender for a key frame when it lowers the limit.
 *
 * GObject (the weak reference, the property); no lock of its own: the
 * sink lock is held around every call. Setting the property under that
 * lock is safe: ebpfprioritysrc never calls into the relay with its own
 * lock held (it pushes buffers after releasing it).
 */
#ifndef __EBPF_RELAY_TREE_H__
#define __EBPF_RELAY_TREE_H__

#include <gst/gst.h>

#include "ebpfrelay-clients.h"

G_BEGIN_DECLS

typedef struct _RelayTree RelayTree;

RelayTree *relay_tree_new (void);
void relay_tree_free (RelayTree * t);

/* Whether @el is an ebpfprioritysrc (a relay tree's upstream). */
gboolean relay_tree_is_upstream (GstElement * el);

/* The ebpfprioritysrc upstream (a weak reference), or NULL: none, the
 * limit is left alone. @follow FALSE (follow-limits=false): never set. */
void relay_tree_set_upstream (RelayTree * t, GstElement * src,
    gboolean follow);

/* The lowest limit of @table's subscribers (PRIO_MAX with none) to the
 * upstream ebpfprioritysrc, when it differs from the last one written.
 * Returns TRUE when it wrote one. */
gboolean relay_tree_update (RelayTree * t, RelayClients * table);

/* The limit last written (-1: none, or no upstream ebpfprioritysrc) and
 * how many times it changed. */
gint relay_tree_limit (RelayTree * t);
guint64 relay_tree_changes (RelayTree * t);

/* "upstream-limit" (gint: the limit last written to the upstream
 * ebpfprioritysrc, -1: not a relay tree or follow-limits=false) and
 * "upstream-limit-changes" (guint64) into @s. */
void relay_tree_add_stats (RelayTree * t, GstStructure * s);

/* The lowest limit of @table's subscribers, PRIO_MAX with none. */
guint8 relay_tree_lowest (RelayClients * table);

G_END_DECLS

#endif
