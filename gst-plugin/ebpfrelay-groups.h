/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay host's memberships of the groups among its subscribers:
 * multiudpsink's auto-multicast. multiudpsink joins each multicast client's
 * group on its sending socket, so that the host reports the membership
 * (IGMP, MLD) on the interface and a snooping switch forwards the group
 * there. Here the copies leave from the udpsrc's socket (or the kernel),
 * whose port is the stream's: a membership on it would hand it the
 * group's datagrams to that port. So the memberships are held on a socket
 * of their own per family, never bound and never read: a group's
 * datagrams go to the sockets bound to their port, never to it.
 *
 * Owns: those sockets and one count per group (a group joined once
 * however many subscribers name it, left when the last goes). No lock of
 * its own: its owner's (ebpfrelay-udpopts, under the sink lock).
 */
#ifndef __EBPF_RELAY_GROUPS_H__
#define __EBPF_RELAY_GROUPS_H__

#include <glib.h>

#include "ebpfrelay-addr.h"

G_BEGIN_DECLS

typedef struct _RelayGroups RelayGroups;

RelayGroups *relay_groups_new (void);
/* Leaves every group. */
void relay_groups_free (RelayGroups * g);

/* One more subscriber of group @a (not a group, relay_addr_is_group:
 * nothing): joined on
 * @ifindex (0: the interface the kernel picks) at the first. FALSE with
 * @error when the join failed (the count is not taken then). */
gboolean relay_groups_add (RelayGroups * g, const RelayAddr * a,
    guint ifindex, GError ** error);
/* One subscriber of @a fewer: left at the last. */
void relay_groups_remove (RelayGroups * g, const RelayAddr * a);
/* Leaves every group (the counts go). */
void relay_groups_clear (RelayGroups * g);
/* How many groups are joined now. */
guint relay_groups_count (RelayGroups * g);

G_END_DECLS

#endif
