/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-route: relay_router_resolve6 (gst-plugin/ebpfrelay-route.c) against
 * the routing and neighbour tables of a private network namespace the
 * test makes (unshare; it goes away with the process): a veth pair rt0 /
 * rt1 with a fixed MAC on rt0, addresses of two prefixes on it, a route via a gateway
 * with a preferred source, permanent NDP entries. The look-up must give
 * the egress interface, the next hop (the gateway, or the destination on
 * the link), its MAC, the relay's MAC and source address; and the results
 * its callers (ebpfrelay-clients: served from userspace unless OK) expect
 * for an unresolved neighbour, no route, an unreachable route, a local
 * address, a v4-mapped destination, a group and a non-Ethernet
 * interface. Needs root (77 without, or without a namespace).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "ebpfrelay-route.h"

#define RELAY_MAC "02:00:00:00:77:01"
#define GW_MAC "02:00:00:00:77:fe"
#define ONLINK_MAC "02:00:00:00:77:05"
#define LL_MAC "02:00:00:00:77:06"

static RelayRouter *router;

static struct in6_addr
a6 (const gchar * s)
{
  struct in6_addr a;

  g_assert_cmpint (inet_pton (AF_INET6, s, &a), ==, 1);
  return a;
}

static void
mac (const gchar * s, guint8 out[6])
{
  guint v[6];

  g_assert_cmpint (sscanf (s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2],
          &v[3], &v[4], &v[5]), ==, 6);
  for (int i = 0; i < 6; i++)
    out[i] = v[i];
}

static void
assert_addr6 (const struct in6_addr *got, const gchar * want)
{
  struct in6_addr w = a6 (want);
  gchar buf[INET6_ADDRSTRLEN];

  if (memcmp (got, &w, 16) != 0)
    g_error ("address %s, want %s", inet_ntop (AF_INET6, got, buf,
            sizeof (buf)), want);
}

static void
assert_mac (const guint8 got[6], const gchar * want)
{
  guint8 w[6];

  mac (want, w);
  g_assert_cmpmem (got, 6, w, 6);
}

static RelayRouteResult
resolve (const gchar * dst, uint32_t scope, RelayRoute * r)
{
  struct in6_addr d = a6 (dst);

  return relay_router_resolve6 (router, &d, scope, 0, r);
}

/* A group (a subscriber as in multiudpsink) out of a given interface
 * (multicast-iface): no neighbour, its MAC derived: 33:33 and its low 32
 * bits (RFC 2464 7). */
static void
test_group (void)
{
  RelayRoute r;
  guint8 mac[6];
  struct in6_addr g = a6 ("ff0e::1:2:3");

  g_assert_cmpint (resolve ("ff0e::1:2:3", if_nametoindex ("rt0"), &r), ==,
      RELAY_ROUTE_OK);
  g_assert_cmpint (r.ifindex, ==, if_nametoindex ("rt0"));
  assert_mac (r.dmac, "33:33:00:02:00:03");
  assert_mac (r.smac, RELAY_MAC);
  g_assert_false (IN6_IS_ADDR_UNSPECIFIED (&r.src6));
  relay_route_group_mac6 (&g, mac);
  assert_mac (mac, "33:33:00:02:00:03");
  g = a6 ("ff05::fedc:ba98");
  relay_route_group_mac6 (&g, mac);
  assert_mac (mac, "33:33:fe:dc:ba:98");
}

/* Via the gateway: its MAC, the route's preferred source (the address of
 * the other prefix: the kernel's own choice, the longest matching prefix,
 * would be fd00:77::1). */
static void
test_gateway (void)
{
  RelayRoute r;

  g_assert_cmpint (resolve ("fd00:77:1::7", 0, &r), ==, RELAY_ROUTE_OK);
  g_assert_cmpint (r.ifindex, ==, if_nametoindex ("rt0"));
  assert_addr6 (&r.nexthop6, "fd00:77::fe");
  assert_addr6 (&r.src6, "fd00:76::2");
  assert_mac (r.dmac, GW_MAC);
  assert_mac (r.smac, RELAY_MAC);
  /* the IPv4 fields stay zero */
  g_assert_cmphex (r.src.s_addr, ==, 0);
  g_assert_cmphex (r.nexthop.s_addr, ==, 0);
}

/* On the link: the destination is the next hop. */
static void
test_onlink (void)
{
  RelayRoute r;

  g_assert_cmpint (resolve ("fd00:77::5", 0, &r), ==, RELAY_ROUTE_OK);
  g_assert_cmpint (r.ifindex, ==, if_nametoindex ("rt0"));
  assert_addr6 (&r.nexthop6, "fd00:77::5");
  assert_addr6 (&r.src6, "fd00:77::1");
  assert_mac (r.dmac, ONLINK_MAC);
  assert_mac (r.smac, RELAY_MAC);
}

/* A link-local destination with its zone (the interface). */
static void
test_link_local (void)
{
  RelayRoute r;

  g_assert_cmpint (resolve ("fe80::6", if_nametoindex ("rt0"), &r), ==,
      RELAY_ROUTE_OK);
  g_assert_cmpint (r.ifindex, ==, if_nametoindex ("rt0"));
  assert_addr6 (&r.nexthop6, "fe80::6");
  assert_addr6 (&r.src6, "fe80::1");
  assert_mac (r.dmac, LL_MAC);
}

/* What the callers serve from userspace (relay_clients_program): each
 * result as they expect it. */
static void
test_not_ok (void)
{
  RelayRoute r;
  static const guint8 zero[6];

  /* on the link, no NDP entry yet: retried soon (NO_NEIGH) */
  g_assert_cmpint (resolve ("fd00:77::9", 0, &r), ==, RELAY_ROUTE_NO_NEIGH);
  g_assert_cmpint (r.ifindex, ==, if_nametoindex ("rt0"));
  g_assert_cmpmem (r.dmac, 6, zero, 6);
  /* no route at all (no default route in the namespace) */
  g_assert_cmpint (resolve ("2001:db8::1", 0, &r), ==, RELAY_ROUTE_UNREACHABLE);
  /* an unreachable route */
  g_assert_cmpint (resolve ("fd00:98::1", 0, &r), ==, RELAY_ROUTE_UNREACHABLE);
  /* this host */
  g_assert_cmpint (resolve ("fd00:77::1", 0, &r), ==, RELAY_ROUTE_LOCAL);
  g_assert_cmpint (resolve ("::1", 0, &r), ==, RELAY_ROUTE_LOCAL);
  /* v4-mapped: the kernel does not translate */
  g_assert_cmpint (resolve ("::ffff:10.0.0.1", 0, &r), ==, RELAY_ROUTE_IPV6);
  /* nobody to send to */
  g_assert_cmpint (resolve ("::", 0, &r), ==, RELAY_ROUTE_UNREACHABLE);
  /* routed out of an interface without Ethernet header (lo) */
  g_assert_cmpint (resolve ("fd00:97::1", 0, &r), ==, RELAY_ROUTE_NOT_ETHER);
  /* every result has a text */
  for (int i = RELAY_ROUTE_OK; i <= RELAY_ROUTE_IPV6; i++)
    g_assert_nonnull (relay_route_result_str (i));
}

/* A route or neighbour that changes is seen at the next look-up. */
static void
test_changes (void)
{
  RelayRoute r;

  g_assert_cmpint (system ("ip -6 neigh replace fd00:77::fe lladdr "
          "02:00:00:00:77:fd dev rt0 nud permanent"), ==, 0);
  g_assert_cmpint (resolve ("fd00:77:1::7", 0, &r), ==, RELAY_ROUTE_OK);
  assert_mac (r.dmac, "02:00:00:00:77:fd");
  g_assert_cmpint (system ("ip -6 neigh del fd00:77::fe dev rt0"), ==, 0);
  g_assert_cmpint (resolve ("fd00:77:1::7", 0, &r), ==, RELAY_ROUTE_NO_NEIGH);
  g_assert_cmpint (system ("ip -6 route del fd00:77:1::/64"), ==, 0);
  g_assert_cmpint (resolve ("fd00:77:1::7", 0, &r), ==, RELAY_ROUTE_UNREACHABLE);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  if (geteuid () != 0) {
    g_print ("SKIP: needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)\n");
    return 77;
  }
  /* A private namespace: what the test adds goes away with the process. */
  if (unshare (CLONE_NEWNET) != 0
      || system ("ip link set lo up && "
          "ip link add rt0 address " RELAY_MAC " type veth peer name rt1 && "
          "ip link set rt0 addrgenmode none && "
          "ip link set rt0 up && ip link set rt1 up && "
          "ip -6 addr add fd00:77::1/64 dev rt0 nodad && "
          "ip -6 addr add fd00:76::2/64 dev rt0 nodad && "
          "ip -6 addr add fe80::1/64 dev rt0 nodad && "
          "ip -6 route add fd00:77:1::/64 via fd00:77::fe dev rt0 "
          "src fd00:76::2 && "
          "ip -6 route add unreachable fd00:98::/64 && "
          "ip -6 route add fd00:97::/64 dev lo && "
          "ip -6 neigh add fd00:77::fe lladdr " GW_MAC
          " dev rt0 nud permanent && "
          "ip -6 neigh add fd00:77::5 lladdr " ONLINK_MAC
          " dev rt0 nud permanent && "
          "ip -6 neigh add fe80::6 lladdr " LL_MAC
          " dev rt0 nud permanent") != 0) {
    g_print ("SKIP: cannot make a private network namespace with veth\n");
    return 77;
  }
  router = relay_router_new ();
  g_assert_nonnull (router);
  g_test_add_func ("/route6/gateway", test_gateway);
  g_test_add_func ("/route6/onlink", test_onlink);
  g_test_add_func ("/route6/link-local", test_link_local);
  g_test_add_func ("/route6/not-ok", test_not_ok);
  g_test_add_func ("/route6/group", test_group);
  g_test_add_func ("/route6/changes", test_changes);
  rc = g_test_run ();
  relay_router_free (router);
  return rc;
}
