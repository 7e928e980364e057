/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Route and neighbour look-ups for the relay's kernel path: which interface
 * a client is reached by, from which address, and the next hop's MAC.
 * One RTM_GETROUTE and one RTM_GETNEIGH request per look-up, on one
 * rtnetlink socket kept open by the caller.
 */
#include "ebpfrelay-route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <glib.h>

struct _RelayRouter
{
  int nl;                       /* NETLINK_ROUTE socket */
  int ioc;                      /* AF_INET datagram socket for ioctls */
  uint32_t seq;
};

RelayRouter *
relay_router_new (void)
{
  RelayRouter *r = calloc (1, sizeof (*r));
  struct sockaddr_nl local = {.nl_family = AF_NETLINK };
  struct timeval tv = {.tv_sec = 1 };

  if (!r)
    return NULL;
  r->nl = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  r->ioc = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (r->nl < 0 || r->ioc < 0
      || bind (r->nl, (struct sockaddr *) &local, sizeof (local)) < 0) {
    relay_router_free (r);
    return NULL;
  }
  setsockopt (r->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return r;
}

void
relay_router_free (RelayRouter * r)
{
  if (!r)
    return;
  if (r->nl >= 0)
    close (r->nl);
  if (r->ioc >= 0)
    close (r->ioc);
  free (r);
}

/* One rtnetlink request: its header, the family header of a route or a
 * neighbour request, and room for attributes (add_attr). */
typedef struct
{
  struct nlmsghdr n;
  union
  {
    struct rtmsg rt;
    struct ndmsg nd;
  };
  char attrs[128];
} NlRequest;

static void
request_init (NlRequest * req, int type, size_t family_len)
{
  memset (req, 0, sizeof (*req));
  req->n.nlmsg_len = NLMSG_LENGTH (family_len);
  req->n.nlmsg_type = type;
  req->n.nlmsg_flags = NLM_F_REQUEST;
}

static void
add_attr (NlRequest * req, int type, const void *data, int len)
{
  struct nlmsghdr *n = &req->n;
  struct rtattr *rta =
      (struct rtattr *) ((char *) req + NLMSG_ALIGN (n->nlmsg_len));

  rta->rta_type = type;
  rta->rta_len = RTA_LENGTH (len);
  memcpy (RTA_DATA (rta), data, len);
  n->nlmsg_len = NLMSG_ALIGN (n->nlmsg_len) + RTA_ALIGN (rta->rta_len);
}

/* Sends @req and receives the single answer into @buf. Returns the answer's
 * length, or -errno (an NLMSG_ERROR answer gives its error). */
static int
transact (RelayRouter * r, struct nlmsghdr *req, char *buf, size_t size)
{
  struct nlmsghdr *h;
  ssize_t len;

  req->nlmsg_seq = ++r->seq;
  if (send (r->nl, req, req->nlmsg_len, 0) < 0)
    return -errno;
  for (;;) {
    len = recv (r->nl, buf, size, 0);
    if (len < 0)
      return -errno;
    for (h = (struct nlmsghdr *) buf; NLMSG_OK (h, (size_t) len);
        h = NLMSG_NEXT (h, len)) {
      if (h->nlmsg_seq != r->seq)
        continue;               /* a late answer to an earlier request */
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA (h);
        return e->error ? e->error : -ENOENT;
      }
      memmove (buf, h, h->nlmsg_len);
      return h->nlmsg_len;
    }
  }
}

/* The route to @dst (@family AF_INET: 4 bytes, AF_INET6: 16; @oif > 0:
 * out of that interface) into *@ifindex, @src (the preferred source) and
 * @nexthop (the gateway, or @dst itself), each of the family's size. A
 * multicast @multicast destination may have a multicast route. */
static RelayRouteResult
get_route (RelayRouter * r, int family, const void *dst, int oif,
    int multicast, int *ifindex, void *src, void *nexthop)
{
  int alen_addr = family == AF_INET6 ? 16 : 4;
  NlRequest req;
  char buf[4096];
  struct rtmsg *rt;
  struct rtattr *a;
  int len, alen, has_src = 0;

  request_init (&req, RTM_GETROUTE, sizeof (struct rtmsg));
  req.rt.rtm_family = family;
  req.rt.rtm_dst_len = alen_addr * 8;
  add_attr (&req, RTA_DST, dst, alen_addr);
  if (oif > 0)
    add_attr (&req, RTA_OIF, &oif, sizeof (oif));
  len = transact (r, &req.n, buf, sizeof (buf));
  if (len == -ENETUNREACH || len == -EHOSTUNREACH || len == -ENOENT)
    return RELAY_ROUTE_UNREACHABLE;
  if (len < 0)
    return RELAY_ROUTE_ERROR;
  rt = NLMSG_DATA ((struct nlmsghdr *) buf);
  if (rt->rtm_type == RTN_LOCAL)
    return RELAY_ROUTE_LOCAL;
  /* (a group's route: "ip route get 239.1.2.3" says multicast) */
  if (rt->rtm_type != RTN_UNICAST
      && !(rt->rtm_type == RTN_MULTICAST && multicast))
    return RELAY_ROUTE_UNREACHABLE;

  memcpy (nexthop, dst, alen_addr);
  *ifindex = 0;
  alen = RTM_PAYLOAD ((struct nlmsghdr *) buf);
  for (a = RTM_RTA (rt); RTA_OK (a, alen); a = RTA_NEXT (a, alen)) {
    switch (a->rta_type) {
      case RTA_OIF:
        *ifindex = *(int *) RTA_DATA (a);
        break;
      case RTA_PREFSRC:
        if ((int) RTA_PAYLOAD (a) == alen_addr) {
          memcpy (src, RTA_DATA (a), alen_addr);
          has_src = 1;
        }
        break;
      case RTA_GATEWAY:
        if ((int) RTA_PAYLOAD (a) == alen_addr)
          memcpy (nexthop, RTA_DATA (a), alen_addr);
        break;
    }
  }
  if (*ifindex <= 0 || !has_src)
    return RELAY_ROUTE_UNREACHABLE;
  return RELAY_ROUTE_OK;
}

static RelayRouteResult
get_link_mac (RelayRouter * r, int ifindex, uint8_t mac[6])
{
  struct ifreq ifr = { 0 };

  if (!if_indextoname (ifindex, ifr.ifr_name))
    return RELAY_ROUTE_UNREACHABLE;
  if (ioctl (r->ioc, SIOCGIFHWADDR, &ifr) < 0)
    return RELAY_ROUTE_ERROR;
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return RELAY_ROUTE_NOT_ETHER;
  memcpy (mac, ifr.ifr_hwaddr.sa_data, 6);
  return RELAY_ROUTE_OK;
}

/* The MAC of neighbour @addr (@family AF_INET: 4 bytes, AF_INET6: 16) on
 * @ifindex, from the ARP or NDP table. */
static RelayRouteResult
get_neigh (RelayRouter * r, int family, int ifindex, const void *addr,
    uint8_t mac[6])
{
  NlRequest req;
  char buf[4096];
  struct ndmsg *nd;
  struct rtattr *a;
  int len, alen, found = 0;

  request_init (&req, RTM_GETNEIGH, sizeof (struct ndmsg));
  req.nd.ndm_family = family;
  req.nd.ndm_ifindex = ifindex;
  add_attr (&req, NDA_DST, addr, family == AF_INET6 ? 16 : 4);
  len = transact (r, &req.n, buf, sizeof (buf));
  if (len == -ENOENT)
    return RELAY_ROUTE_NO_NEIGH;
  if (len < 0)
    return RELAY_ROUTE_ERROR;
  nd = NLMSG_DATA ((struct nlmsghdr *) buf);
  /* INCOMPLETE and FAILED have no usable address; STALE still has the
   * last confirmed one, which the kernel itself would use. */
  if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
              NUD_PERMANENT | NUD_NOARP)))
    return RELAY_ROUTE_NO_NEIGH;
  alen = ((struct nlmsghdr *) buf)->nlmsg_len - NLMSG_LENGTH (sizeof (*nd));
  for (a = (struct rtattr *) ((char *) nd + NLMSG_ALIGN (sizeof (*nd)));
      RTA_OK (a, alen); a = RTA_NEXT (a, alen)) {
    if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD (a) == 6) {
      memcpy (mac, RTA_DATA (a), 6);
      found = 1;
    }
  }
  return found ? RELAY_ROUTE_OK : RELAY_ROUTE_NO_NEIGH;
}

void
relay_route_group_mac (struct in_addr group, uint8_t mac[6])
{
  uint32_t g = ntohl (group.s_addr);

  mac[0] = 0x01;
  mac[1] = 0x00;
  mac[2] = 0x5e;
  mac[3] = (g >> 16) & 0x7f;
  mac[4] = (g >> 8) & 0xff;
  mac[5] = g & 0xff;
}

void
relay_route_group_mac6 (const struct in6_addr *group, uint8_t mac[6])
{
  mac[0] = 0x33;
  mac[1] = 0x33;
  memcpy (mac + 2, group->s6_addr + 12, 4);
}

RelayRouteResult
relay_router_resolve (RelayRouter * r, struct in_addr dst, int group_oif,
    RelayRoute * out)
{
  int group = IN_MULTICAST (ntohl (dst.s_addr));
  RelayRouteResult res;

  memset (out, 0, sizeof (*out));
  if ((ntohl (dst.s_addr) >> 24) == 127)
    return RELAY_ROUTE_LOCAL;
  res = get_route (r, AF_INET, &dst, group ? group_oif : 0, group,
      &out->ifindex, &out->src, &out->nexthop);
  if (res != RELAY_ROUTE_OK)
    return res;
  res = get_link_mac (r, out->ifindex, out->smac);
  if (res != RELAY_ROUTE_OK)
    return res;
  if (group) {
    /* a group: no neighbour, its MAC is derived (RFC 1112 6.4:
     * 01:00:5e and the group's low 23 bits) */
    relay_route_group_mac (dst, out->dmac);
    return RELAY_ROUTE_OK;
  }
  return get_neigh (r, AF_INET, out->ifindex, &out->nexthop, out->dmac);
}

/* --- IPv6 ----------------------------------------------------------------- */

RelayRouteResult
relay_router_resolve6 (RelayRouter * r, const struct in6_addr *dst,
    uint32_t scope_id, int group_oif, RelayRoute * out)
{
  int group = IN6_IS_ADDR_MULTICAST (dst);
  RelayRouteResult res;

  memset (out, 0, sizeof (*out));
  if (IN6_IS_ADDR_LOOPBACK (dst))
    return RELAY_ROUTE_LOCAL;
  if (IN6_IS_ADDR_V4MAPPED (dst))
    return RELAY_ROUTE_IPV6;
  if (IN6_IS_ADDR_UNSPECIFIED (dst))
    return RELAY_ROUTE_UNREACHABLE;
  res = get_route (r, AF_INET6, dst, group && group_oif ? group_oif :
      (int) scope_id, group, &out->ifindex, &out->src6, &out->nexthop6);
  if (res != RELAY_ROUTE_OK)
    return res;
  res = get_link_mac (r, out->ifindex, out->smac);
  if (res != RELAY_ROUTE_OK)
    return res;
  if (group) {
    /* a group: its MAC is derived (RFC 2464 7: 33:33 and its low 32
     * bits), no neighbour */
    relay_route_group_mac6 (dst, out->dmac);
    return RELAY_ROUTE_OK;
  }
  return get_neigh (r, AF_INET6, out->ifindex, &out->nexthop6, out->dmac);
}

int
relay_router_is_local (RelayRouter * r, struct in_addr addr)
{
  RelayRoute route;

  if (addr.s_addr == htonl (INADDR_ANY))
    return 1;
  return relay_router_resolve (r, addr, 0, &route) == RELAY_ROUTE_LOCAL;
}

const char *
relay_route_result_str (RelayRouteResult res)
{
  switch (res) {
    case RELAY_ROUTE_OK:
      return "resolved";
    case RELAY_ROUTE_NO_NEIGH:
      return "next hop's MAC address not resolved yet";
    case RELAY_ROUTE_LOCAL:
      return "address of this host";
    case RELAY_ROUTE_NOT_ETHER:
      return "egress interface is not Ethernet";
    case RELAY_ROUTE_UNREACHABLE:
      return "no route";
    case RELAY_ROUTE_IPV6:
      return "IPv4-mapped IPv6 address (the kernel does not translate)";
    case RELAY_ROUTE_ERROR:
      break;
  }
  return "netlink error";
}

char **
relay_route_list_interfaces (const char *list)
{
  struct if_nameindex *ifs, *i;
  GPtrArray *names;
  int fd;

  if (list && *list) {
    gchar **v = g_strsplit (list, ",", -1);

    for (guint k = 0; v[k]; k++)
      g_strstrip (v[k]);
    return v;
  }
  names = g_ptr_array_new ();
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifs = if_nameindex ();
  for (i = ifs; i && i->if_index; i++) {
    struct ifreq ifr = { 0 };

    g_strlcpy (ifr.ifr_name, i->if_name, IFNAMSIZ);
    if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
      continue;
    if ((ifr.ifr_flags & IFF_UP) && !(ifr.ifr_flags & IFF_LOOPBACK))
      g_ptr_array_add (names, g_strdup (i->if_name));
  }
  if (ifs)
    if_freenameindex (ifs);
  if (fd >= 0)
    close (fd);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

unsigned
relay_route_netdev_max_backlog (int *known)
{
  gchar *text = NULL;
  unsigned v = 0;

  if (g_file_get_contents ("/proc/sys/net/core/netdev_max_backlog", &text,
          NULL, NULL))
    v = (unsigned) g_ascii_strtoull (text, NULL, 10);
  g_free (text);
  *known = v > 0;
  return v > 0 ? v : 1000;
}
