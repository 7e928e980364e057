/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Route and neighbour look-ups over rtnetlink, for the relay's per-client
 * egress data (interface, source address, MACs), and the interfaces the
 * relay attaches to. No GStreamer here (GLib only for the interface
 * list). */
#ifndef __EBPF_RELAY_ROUTE_H__
#define __EBPF_RELAY_ROUTE_H__

#include <stdint.h>
#include <netinet/in.h>

typedef enum
{
  RELAY_ROUTE_OK = 0,           /* everything the kernel path needs is known */
  RELAY_ROUTE_NO_NEIGH,         /* route known, next hop's MAC not (yet) */
  RELAY_ROUTE_LOCAL,            /* destination is this host */
  RELAY_ROUTE_NOT_ETHER,        /* egress device has no Ethernet header */
  RELAY_ROUTE_UNREACHABLE,      /* no route */
  RELAY_ROUTE_ERROR,            /* netlink failed */
  RELAY_ROUTE_IPV6,             /* an IPv4-mapped IPv6 subscriber: userspace
                                 * sends */
} RelayRouteResult;

typedef struct
{
  int ifindex;
  struct in_addr src;           /* preferred source address */
  struct in_addr nexthop;       /* gateway, or the destination itself */
  uint8_t smac[6];
  uint8_t dmac[6];
  /* relay_router_resolve6: the same in IPv6 (src, nexthop zero) */
  struct in6_addr src6;
  struct in6_addr nexthop6;
} RelayRoute;

typedef struct _RelayRouter RelayRouter;

RelayRouter *relay_router_new (void);
void relay_router_free (RelayRouter * r);

/* Resolves the path to @dst. Fills @out as far as it gets. An IPv4
 * multicast group is routed out of @group_oif if not 0 (multicast-iface,
 * as IP_MULTICAST_IF sends a socket's group datagrams), else as the
 * kernel routes it (its route, e.g. "239.0.0.0/8 dev eth1", or the
 * default one), and its MAC derived (relay_route_group_mac), no neighbour
 * needed. */
RelayRouteResult relay_router_resolve (RelayRouter * r, struct in_addr dst,
    int group_oif, RelayRoute * out);

/* The Ethernet address of IPv4 group @group: 01:00:5e and its low 23
 * bits (RFC 1112 6.4). */
void relay_route_group_mac (struct in_addr group, uint8_t mac[6]);
/* The same of IPv6 group @group: 33:33 and its low 32 bits (RFC 2464
 * 7). */
void relay_route_group_mac6 (const struct in6_addr *group, uint8_t mac[6]);

/* The same for IPv6 destination @dst (@scope_id: its interface, for a
 * link-local one or a group; 0 otherwise; a group leaves by @group_oif
 * if not 0, as in IPv4): the route
 * (RTM_GETROUTE AF_INET6, its preferred source), the next hop's MAC from
 * the neighbour (NDP) table, a group's derived (relay_route_group_mac6).
 * ::1 and the host's own addresses are LOCAL; an IPv4-mapped address is
 * RELAY_ROUTE_IPV6 (userspace sends, from its IPv6 socket, as IPv4). */
RelayRouteResult relay_router_resolve6 (RelayRouter * r,
    const struct in6_addr *dst, uint32_t scope_id, int group_oif,
    RelayRoute * out);

/* Whether @addr is one of this network namespace's own addresses. */
int relay_router_is_local (RelayRouter * r, struct in_addr addr);

const char *relay_route_result_str (RelayRouteResult res);

/* The interfaces named in @list (comma-separated, blanks trimmed) or, for
 * NULL or "", every interface that is up and is not loopback. A
 * NULL-terminated array; free it with g_strfreev. */
char **relay_route_list_interfaces (const char *list);

/* net.core.netdev_max_backlog. It is one value for the whole machine,
 * shown only in the initial network namespace: elsewhere, the kernel's
 * default (@known 0). */
unsigned relay_route_netdev_max_backlog (int *known);

#endif
