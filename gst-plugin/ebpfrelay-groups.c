/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See ebpfrelay-groups.h. */
#include "ebpfrelay-groups.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <gio/gio.h>

typedef struct
{
  RelayAddr addr;               /* port 0 */
  guint ifindex;                /* joined on */
  guint refs;
} Group;

struct _RelayGroups
{
  GArray *groups;               /* of Group */
  int fd4, fd6;                 /* the members' sockets; -1: none yet */
};

RelayGroups *
relay_groups_new (void)
{
  RelayGroups *g = g_new0 (RelayGroups, 1);

  g->groups = g_array_new (FALSE, TRUE, sizeof (Group));
  g->fd4 = g->fd6 = -1;
  return g;
}

void
relay_groups_clear (RelayGroups * g)
{
  /* closing the sockets leaves their groups */
  if (g->fd4 >= 0)
    close (g->fd4);
  if (g->fd6 >= 0)
    close (g->fd6);
  g->fd4 = g->fd6 = -1;
  g_array_set_size (g->groups, 0);
}

void
relay_groups_free (RelayGroups * g)
{
  if (!g)
    return;
  relay_groups_clear (g);
  g_array_free (g->groups, TRUE);
  g_free (g);
}

guint
relay_groups_count (RelayGroups * g)
{
  return g->groups->len;
}

static Group *
find (RelayGroups * g, const RelayAddr * a, guint * index)
{
  for (guint i = 0; i < g->groups->len; i++) {
    Group *e = &g_array_index (g->groups, Group, i);

    if (relay_addr_same_host (&e->addr, a)) {
      if (index)
        *index = i;
      return e;
    }
  }
  return NULL;
}

/* The family's members' socket, made at its first use: never bound (no
 * port: nothing is ever delivered to it), never read. */
static int
member_fd (RelayGroups * g, int family)
{
  int *fd = family == AF_INET6 ? &g->fd6 : &g->fd4;

  if (*fd < 0) {
    *fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (*fd >= 0 && family == AF_INET6) {
      int one = 1;

      setsockopt (*fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof (one));
    }
  }
  return *fd;
}

/* IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP (@join) or the drops; 0 or errno */
static int
membership (RelayGroups * g, const RelayAddr * a, guint ifindex,
    gboolean join)
{
  int fd = member_fd (g, a->sa.sa_family), r;

  if (fd < 0)
    return errno;
  if (a->sa.sa_family == AF_INET6) {
    struct ipv6_mreq m = {.ipv6mr_interface = ifindex };

    m.ipv6mr_multiaddr = a->v6.sin6_addr;
    r = setsockopt (fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP :
        IPV6_LEAVE_GROUP, &m, sizeof (m));
  } else {
    struct ip_mreqn m = {.imr_ifindex = (int) ifindex };

    m.imr_multiaddr = a->v4.sin_addr;
    r = setsockopt (fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP :
        IP_DROP_MEMBERSHIP, &m, sizeof (m));
  }
  return r == 0 ? 0 : errno;
}

gboolean
relay_groups_add (RelayGroups * g, const RelayAddr * a, guint ifindex,
    GError ** error)
{
  Group *e, n = { 0 };
  int err;

  if (!relay_addr_is_group (a))
    return TRUE;
  e = find (g, a, NULL);
  if (e) {
    e->refs++;
    return TRUE;
  }
  err = membership (g, a, ifindex, TRUE);
  if (err) {
    GInetAddress *ia = a->sa.sa_family == AF_INET6 ?
        g_inet_address_new_from_bytes (a->v6.sin6_addr.s6_addr,
        G_SOCKET_FAMILY_IPV6) :
        g_inet_address_new_from_bytes ((const guint8 *) &a->v4.sin_addr,
        G_SOCKET_FAMILY_IPV4);
    gchar *s = g_inet_address_to_string (ia);

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot join the multicast group %s: %s", s, g_strerror (err));
    g_free (s);
    g_object_unref (ia);
    return FALSE;
  }
  n.addr = *a;
  n.ifindex = ifindex;
  n.refs = 1;
  g_array_append_val (g->groups, n);
  return TRUE;
}

void
relay_groups_remove (RelayGroups * g, const RelayAddr * a)
{
  guint i;
  Group *e = relay_addr_is_group (a) ? find (g, a, &i) : NULL;

  if (!e || --e->refs > 0)
    return;
  membership (g, &e->addr, e->ifindex, FALSE);
  g_array_remove_index_fast (g->groups, i);
}
