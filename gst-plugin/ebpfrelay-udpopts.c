/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * multiudpsink's properties on ebpfrelaysink: see ebpfrelay-udpopts.h.
 */
#include "ebpfrelay-udpopts.h"
#include "ebpfrelay-groups.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

GST_DEBUG_CATEGORY_STATIC (relay_udpopts_debug);
#define GST_CAT_DEFAULT relay_udpopts_debug

/* multiudpsink's defaults (gst-plugins-good 1.22) */
#define DEFAULT_SEND_DUPLICATES TRUE
#define DEFAULT_QOS_DSCP -1
#define DEFAULT_TTL 64
#define DEFAULT_TTL_MC 1
#define DEFAULT_LOOP TRUE
#define DEFAULT_BUFFER_SIZE 0
#define DEFAULT_BIND_PORT 0
#define DEFAULT_CLOSE_SOCKET TRUE
#define DEFAULT_FORCE_IPV4 FALSE
#define DEFAULT_AUTO_MULTICAST TRUE

struct _RelayUdpOpts
{
  GstElement *owner;
  RelayClients *table;

  gint qos_dscp;
  gint ttl, ttl_mc;
  gboolean loop;
  gint buffer_size;
  gchar *bind_address;
  gint bind_port;
  GSocket *socket, *socket_v6;
  gboolean close_socket;
  gboolean force_ipv4;
  gboolean auto_multicast;
  gchar *multicast_iface;

  gboolean running;
  RelayKernel *kernel;          /* borrowed: relay_udp_opts_set_kernel */
  guint64 bytes_to_serve;
  guint64 served_frozen;        /* bytes-served while stopped */
  GArray *fds;                  /* of int: the sockets copies leave from */
  /* what used-socket(-v6) return */
  int used_fd4, used_fd6;
  GSocket *used4, *used6;       /* borrowed, or a dup of used_fd* */
  gboolean used4_ours, used6_ours;
  RelayGroups *groups;          /* auto-multicast's memberships */
};

void
relay_udp_opts_install_properties (GObjectClass * klass, guint first)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  g_object_class_install_property (klass, first +
      RELAY_UDP_OPT_SEND_DUPLICATES,
      g_param_spec_boolean ("send-duplicates", "Send Duplicates",
          "When a destination/port pair is added multiple times, send "
          "packets multiple times as well (the extra copies from "
          "userspace)", DEFAULT_SEND_DUPLICATES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_QOS_DSCP,
      g_param_spec_int ("qos-dscp", "QoS diff srv code point",
          "Quality of Service, differentiated services code point (-1 "
          "default): on the sockets copies leave from, and written into the "
          "kernel's copies (ECN bits kept); -1: the kernel's copies keep "
          "the TOS the packet came with", -1, 63,
          DEFAULT_QOS_DSCP, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_TTL,
      g_param_spec_int ("ttl", "Unicast TTL",
          "Used for setting the unicast TTL parameter (the kernel's copies "
          "get it too)", 0, 255, DEFAULT_TTL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_TTL_MC,
      g_param_spec_int ("ttl-mc", "Multicast TTL",
          "Used for setting the multicast TTL parameter (the kernel's "
          "copies to a group get it too)", 0, 255,
          DEFAULT_TTL_MC, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_LOOP,
      g_param_spec_boolean ("loop", "Multicast Loopback",
          "Used for setting the multicast loop parameter. TRUE = enable, "
          "FALSE = disable (the sockets' copies; the kernel's copies to a "
          "group are never looped back to this host)", DEFAULT_LOOP,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_BUFFER_SIZE,
      g_param_spec_int ("buffer-size", "Buffer Size",
          "Size of the kernel send buffer in bytes, 0=default", 0, G_MAXINT,
          DEFAULT_BUFFER_SIZE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_BIND_ADDRESS,
      g_param_spec_string ("bind-address", "Bind Address",
          "Address to bind the socket to (the stream's socket when "
          "upstream is not a udpsrc: with one, copies leave from its "
          "socket)", NULL, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_BIND_PORT,
      g_param_spec_int ("bind-port", "Bind Port",
          "Port to bind the socket to (as bind-address; the port property "
          "wins when both are set)", 0, G_MAXUINT16, DEFAULT_BIND_PORT,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_SOCKET,
      g_param_spec_object ("socket", "Socket Handle",
          "Socket to use for UDP sending. (NULL == allocate)", G_TYPE_SOCKET,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_SOCKET_V6,
      g_param_spec_object ("socket-v6", "Socket Handle IPv6",
          "Socket to use for UDPv6 sending. (NULL == allocate)",
          G_TYPE_SOCKET, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_USED_SOCKET,
      g_param_spec_object ("used-socket", "Used Socket Handle",
          "Socket currently in use for UDP sending. (NULL == no socket)",
          G_TYPE_SOCKET, ro));
  g_object_class_install_property (klass, first +
      RELAY_UDP_OPT_USED_SOCKET_V6,
      g_param_spec_object ("used-socket-v6", "Used Socket Handle IPv6",
          "Socket currently in use for UDPv6 sending. (NULL == no socket)",
          G_TYPE_SOCKET, ro));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_CLOSE_SOCKET,
      g_param_spec_boolean ("close-socket", "Close socket",
          "Close socket if passed as property on state change",
          DEFAULT_CLOSE_SOCKET, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_FORCE_IPV4,
      g_param_spec_boolean ("force-ipv4", "Force IPv4",
          "Forcing the use of an IPv4 socket (DEPRECATED, has no effect "
          "anymore)", DEFAULT_FORCE_IPV4, rw | G_PARAM_DEPRECATED));
  g_object_class_install_property (klass, first +
      RELAY_UDP_OPT_AUTO_MULTICAST,
      g_param_spec_boolean ("auto-multicast", "Automatically join/leave "
          "multicast groups", "Automatically join/leave the multicast "
          "groups, FALSE means user has to do it himself",
          DEFAULT_AUTO_MULTICAST, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, first +
      RELAY_UDP_OPT_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast Interface",
          "The network interface on which to join the multicast group "
          "(and which copies to groups leave from, the kernel's too)", NULL,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, first +
      RELAY_UDP_OPT_BYTES_TO_SERVE,
      g_param_spec_uint64 ("bytes-to-serve", "Bytes to serve",
          "Number of bytes received to serve to clients", 0, G_MAXUINT64, 0,
          ro));
  g_object_class_install_property (klass, first + RELAY_UDP_OPT_BYTES_SERVED,
      g_param_spec_uint64 ("bytes-served", "Bytes served",
          "Total number of bytes sent to all clients (the kernel's copies "
          "and userspace's)", 0, G_MAXUINT64, 0, ro));

  GST_DEBUG_CATEGORY_INIT (relay_udpopts_debug, "ebpfrelay-udpopts", 0,
      "ebpfrelaysink's multiudpsink options");
}

RelayUdpOpts *
relay_udp_opts_new (GstElement * owner, RelayClients * table)
{
  RelayUdpOpts *o = g_new0 (RelayUdpOpts, 1);

  o->owner = owner;
  o->table = table;
  o->qos_dscp = DEFAULT_QOS_DSCP;
  o->ttl = DEFAULT_TTL;
  o->ttl_mc = DEFAULT_TTL_MC;
  o->loop = DEFAULT_LOOP;
  o->buffer_size = DEFAULT_BUFFER_SIZE;
  o->bind_port = DEFAULT_BIND_PORT;
  o->close_socket = DEFAULT_CLOSE_SOCKET;
  o->force_ipv4 = DEFAULT_FORCE_IPV4;
  o->auto_multicast = DEFAULT_AUTO_MULTICAST;
  o->fds = g_array_new (FALSE, FALSE, sizeof (int));
  o->used_fd4 = o->used_fd6 = -1;
  o->groups = relay_groups_new ();
  table->send_duplicates = DEFAULT_SEND_DUPLICATES;
  return o;
}

static void
clear_used (RelayUdpOpts * o)
{
  if (o->used4_ours)
    g_clear_object (&o->used4);
  if (o->used6_ours)
    g_clear_object (&o->used6);
  o->used4 = o->used6 = NULL;
  o->used4_ours = o->used6_ours = FALSE;
}

void
relay_udp_opts_free (RelayUdpOpts * o)
{
  clear_used (o);
  g_clear_object (&o->socket);
  g_clear_object (&o->socket_v6);
  g_free (o->bind_address);
  g_free (o->multicast_iface);
  g_array_free (o->fds, TRUE);
  relay_groups_free (o->groups);
  g_free (o);
}

/* --- the socket options ------------------------------------------------- */

static int
fd_family (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof (ss);

  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    return -1;
  return ss.ss_family;
}

static void
set_int (RelayUdpOpts * o, int fd, int level, int name, int value,
    const gchar * what)
{
  if (setsockopt (fd, level, name, &value, sizeof (value)) < 0)
    GST_WARNING_OBJECT (o->owner, "cannot set %s %d on socket %d: %s", what,
        value, fd, g_strerror (errno));
}

/* multiudpsink's options on @fd (its family's; a v6 socket gets the v4
 * ones too, for the v4-mapped subscribers it may serve). */
static void
apply (RelayUdpOpts * o, int fd)
{
  int family = fd_family (fd);
  guint ifindex = 0;
  gboolean v4 = family == AF_INET, v6 = family == AF_INET6;

  if (!v4 && !v6)
    return;
  if (o->multicast_iface && *o->multicast_iface) {
    ifindex = relay_udp_opts_multicast_ifindex (o);
    if (ifindex == 0)
      GST_WARNING_OBJECT (o->owner, "multicast-iface %s: no such interface",
          o->multicast_iface);
  }
  if (o->qos_dscp >= 0) {
    /* the DSCP is the upper 6 bits of the TOS / traffic class octet */
    if (v6)
      set_int (o, fd, IPPROTO_IPV6, IPV6_TCLASS, o->qos_dscp << 2,
          "qos-dscp (IPV6_TCLASS)");
    set_int (o, fd, IPPROTO_IP, IP_TOS, o->qos_dscp << 2, "qos-dscp (IP_TOS)");
  }
  if (v6) {
    set_int (o, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, o->ttl, "ttl");
    set_int (o, fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, o->ttl_mc, "ttl-mc");
    set_int (o, fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, o->loop, "loop");
    if (ifindex)
      set_int (o, fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex,
          "multicast-iface");
  } else {
    struct ip_mreqn mr = { 0 };

    set_int (o, fd, IPPROTO_IP, IP_TTL, o->ttl, "ttl");
    set_int (o, fd, IPPROTO_IP, IP_MULTICAST_TTL, o->ttl_mc, "ttl-mc");
    set_int (o, fd, IPPROTO_IP, IP_MULTICAST_LOOP, o->loop, "loop");
    mr.imr_ifindex = ifindex;
    if (ifindex && setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
            sizeof (mr)) < 0)
      GST_WARNING_OBJECT (o->owner, "cannot set multicast-iface: %s",
          g_strerror (errno));
  }
  /* (a debug warning only: this runs with the sink lock held, where a
   * bus message could reach a sync handler that calls the sink) */
  if (o->buffer_size > 0 && setsockopt (fd, SOL_SOCKET, SO_SNDBUF,
          &o->buffer_size, sizeof (o->buffer_size)) < 0)
    GST_WARNING_OBJECT (o->owner, "Could not create a buffer of requested "
        "%d bytes (%s)", o->buffer_size, g_strerror (errno));
}

/* qos-dscp, ttl and ttl-mc into the kernel's copies (relay.bpf.c
 * rewrites a relayed packet's TOS and TTL; the element's own buffers on
 * lo carry the loopback socket's already, but its TTL is the unicast
 * one, and copies to a group get ttl-mc). */
static void
apply_kernel (RelayUdpOpts * o)
{
  if (!o->kernel)
    return;
  if (!relay_kernel_set_ip_opts (o->kernel, o->qos_dscp, o->ttl, o->ttl_mc))
    GST_WARNING_OBJECT (o->owner, "cannot write qos-dscp and ttl into the "
        "kernel's configuration: %s", g_strerror (errno));
  if (o->ttl == 0 || o->ttl_mc == 0)
    GST_INFO_OBJECT (o->owner, "ttl %d, ttl-mc %d: copies with a TTL of 0 "
        "are sent from userspace", o->ttl, o->ttl_mc);
}

static void
apply_all (RelayUdpOpts * o)
{
  for (guint i = 0; i < o->fds->len; i++)
    apply (o, g_array_index (o->fds, int, i));
  apply_kernel (o);
}

void
relay_udp_opts_set_kernel (RelayUdpOpts * o, RelayKernel * kernel)
{
  o->kernel = kernel;
  apply_kernel (o);
}

void
relay_udp_opts_socket_func (int fd, gboolean opened, gpointer user_data)
{
  RelayUdpOpts *o = user_data;
  guint i;

  for (i = 0; i < o->fds->len; i++)
    if (g_array_index (o->fds, int, i) == fd)
      break;
  if (!opened) {
    if (i < o->fds->len)
      g_array_remove_index_fast (o->fds, i);
    return;
  }
  if (i == o->fds->len)
    g_array_append_val (o->fds, fd);
  apply (o, fd);
}

/* --- properties -------------------------------------------------------------- */

static void
set_socket (RelayUdpOpts * o, GSocket ** where, const GValue * value)
{
  GSocket *old = *where;

  /* as multiudpsink: a socket replaced while not in use is closed with
   * close-socket */
  if (old && !o->running && o->close_socket)
    g_socket_close (old, NULL);
  *where = g_value_dup_object (value);
  g_clear_object (&old);
}

void
relay_udp_opts_set_property (RelayUdpOpts * o, guint id, const GValue * value)
{
  switch (id) {
    case RELAY_UDP_OPT_SEND_DUPLICATES:
      relay_clients_set_send_duplicates (o->table, g_value_get_boolean (value));
      return;
    case RELAY_UDP_OPT_QOS_DSCP:
      o->qos_dscp = g_value_get_int (value);
      break;
    case RELAY_UDP_OPT_TTL:
      o->ttl = g_value_get_int (value);
      break;
    case RELAY_UDP_OPT_TTL_MC:
      o->ttl_mc = g_value_get_int (value);
      break;
    case RELAY_UDP_OPT_LOOP:
      o->loop = g_value_get_boolean (value);
      break;
    case RELAY_UDP_OPT_BUFFER_SIZE:
      o->buffer_size = g_value_get_int (value);
      break;
    case RELAY_UDP_OPT_BIND_ADDRESS:
      g_free (o->bind_address);
      o->bind_address = g_value_dup_string (value);
      return;
    case RELAY_UDP_OPT_BIND_PORT:
      o->bind_port = g_value_get_int (value);
      return;
    case RELAY_UDP_OPT_SOCKET:
      set_socket (o, &o->socket, value);
      return;
    case RELAY_UDP_OPT_SOCKET_V6:
      set_socket (o, &o->socket_v6, value);
      return;
    case RELAY_UDP_OPT_CLOSE_SOCKET:
      o->close_socket = g_value_get_boolean (value);
      return;
    case RELAY_UDP_OPT_FORCE_IPV4:
      o->force_ipv4 = g_value_get_boolean (value);
      return;
    case RELAY_UDP_OPT_AUTO_MULTICAST:
      o->auto_multicast = g_value_get_boolean (value);
      return;
    case RELAY_UDP_OPT_MULTICAST_IFACE:
      g_free (o->multicast_iface);
      o->multicast_iface = g_value_dup_string (value);
      break;
    default:
      return;
  }
  /* multiudpsink applies qos-dscp at once; here every option is */
  apply_all (o);
}

/* The GSocket of @fd: @given if it is that socket, else a GSocket over a
 * duplicate of @fd (the same socket: options set on it apply). */
static GSocket *
used_socket (int fd, GSocket * given, GSocket ** cache, gboolean * ours)
{
  if (fd < 0)
    return NULL;
  if (given && g_socket_get_fd (given) == fd)
    return given;
  if (!*cache) {
    int d = dup (fd);

    *cache = d >= 0 ? g_socket_new_from_fd (d, NULL) : NULL;
    if (d >= 0 && !*cache)
      close (d);
    *ours = *cache != NULL;
  }
  return *cache;
}

void
relay_udp_opts_get_property (RelayUdpOpts * o, guint id, GValue * value)
{
  switch (id) {
    case RELAY_UDP_OPT_SEND_DUPLICATES:
      g_value_set_boolean (value, o->table->send_duplicates);
      break;
    case RELAY_UDP_OPT_QOS_DSCP:
      g_value_set_int (value, o->qos_dscp);
      break;
    case RELAY_UDP_OPT_TTL:
      g_value_set_int (value, o->ttl);
      break;
    case RELAY_UDP_OPT_TTL_MC:
      g_value_set_int (value, o->ttl_mc);
      break;
    case RELAY_UDP_OPT_LOOP:
      g_value_set_boolean (value, o->loop);
      break;
    case RELAY_UDP_OPT_BUFFER_SIZE:
      g_value_set_int (value, o->buffer_size);
      break;
    case RELAY_UDP_OPT_BIND_ADDRESS:
      g_value_set_string (value, o->bind_address);
      break;
    case RELAY_UDP_OPT_BIND_PORT:
      g_value_set_int (value, o->bind_port);
      break;
    case RELAY_UDP_OPT_SOCKET:
      g_value_set_object (value, o->socket);
      break;
    case RELAY_UDP_OPT_SOCKET_V6:
      g_value_set_object (value, o->socket_v6);
      break;
    case RELAY_UDP_OPT_USED_SOCKET:
      g_value_set_object (value, used_socket (o->used_fd4, o->used4_ours ?
              NULL : o->used4, &o->used4, &o->used4_ours));
      break;
    case RELAY_UDP_OPT_USED_SOCKET_V6:
      g_value_set_object (value, used_socket (o->used_fd6, o->used6_ours ?
              NULL : o->used6, &o->used6, &o->used6_ours));
      break;
    case RELAY_UDP_OPT_CLOSE_SOCKET:
      g_value_set_boolean (value, o->close_socket);
      break;
    case RELAY_UDP_OPT_FORCE_IPV4:
      g_value_set_boolean (value, o->force_ipv4);
      break;
    case RELAY_UDP_OPT_AUTO_MULTICAST:
      g_value_set_boolean (value, o->auto_multicast);
      break;
    case RELAY_UDP_OPT_MULTICAST_IFACE:
      g_value_set_string (value, o->multicast_iface);
      break;
    case RELAY_UDP_OPT_BYTES_TO_SERVE:
      g_value_set_uint64 (value, o->bytes_to_serve);
      break;
    case RELAY_UDP_OPT_BYTES_SERVED:
      g_value_set_uint64 (value, o->running ?
          relay_clients_bytes_served (o->table) : o->served_frozen);
      break;
    default:
      break;
  }
}

/* --- starting and stopping ---------------------------------------------- */

GSocket *
relay_udp_opts_socket (RelayUdpOpts * o, GSocketFamily family)
{
  /* socket may be of either family (multiudpsink: an IPv6 one serves as
   * the IPv6 socket) */
  if (family == G_SOCKET_FAMILY_IPV6) {
    if (o->socket_v6)
      return o->socket_v6;
    if (o->socket && g_socket_get_family (o->socket) == family)
      return o->socket;
    return NULL;
  }
  if (o->socket && g_socket_get_family (o->socket) == family)
    return o->socket;
  return NULL;
}

guint
relay_udp_opts_multicast_ifindex (RelayUdpOpts * o)
{
  return o->multicast_iface && *o->multicast_iface ?
      if_nametoindex (o->multicast_iface) : 0;
}

void
relay_udp_opts_group_added (RelayUdpOpts * o, const RelayAddr * a)
{
  GError *err = NULL;

  if (!o->running || !o->auto_multicast || !relay_addr_is_group (a))
    return;
  if (!relay_groups_add (o->groups, a, relay_udp_opts_multicast_ifindex (o),
          &err)) {
    GST_WARNING_OBJECT (o->owner, "auto-multicast: %s", err->message);
    g_clear_error (&err);
  }
}

void
relay_udp_opts_group_removed (RelayUdpOpts * o, const RelayAddr * a)
{
  if (o->running && o->auto_multicast)
    relay_groups_remove (o->groups, a);
}

void
relay_udp_opts_join_groups (RelayUdpOpts * o)
{
  for (guint i = 0; i < o->table->clients->len; i++) {
    RelayClient *c = g_ptr_array_index (o->table->clients, i);

    relay_udp_opts_group_added (o, &c->addr);
  }
}

guint
relay_udp_opts_groups_joined (RelayUdpOpts * o)
{
  return relay_groups_count (o->groups);
}

gboolean
relay_udp_opts_bind_set (RelayUdpOpts * o)
{
  return (o->bind_address && *o->bind_address) || o->bind_port;
}

gboolean
relay_udp_opts_bind (RelayUdpOpts * o, guint32 * addr, guint16 * port,
    GError ** error)
{
  struct addrinfo hints = { 0 }, *res = NULL;
  struct in_addr a;
  int e;

  *port = o->bind_port;
  *addr = htonl (INADDR_ANY);
  if (!o->bind_address || !*o->bind_address)
    return TRUE;
  if (inet_pton (AF_INET, o->bind_address, &a) == 1) {
    *addr = a.s_addr;
    return TRUE;
  }
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  e = getaddrinfo (o->bind_address, NULL, &hints, &res);
  if (e != 0 || !res) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "bind-address '%s' is not an IPv4 address or a name with one "
        "(the stream's socket is IPv4): %s", o->bind_address,
        e ? gai_strerror (e) : "no address");
    return FALSE;
  }
  *addr = ((struct sockaddr_in *) res->ai_addr)->sin_addr.s_addr;
  freeaddrinfo (res);
  return TRUE;
}

gboolean
relay_udp_opts_start (RelayUdpOpts * o, GError ** error)
{
  if (o->socket && o->socket_v6 && o->socket != o->socket_v6
      && g_socket_get_family (o->socket) == G_SOCKET_FAMILY_IPV6) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Provided different IPv6 sockets in socket and socket-v6 "
        "properties");
    return FALSE;
  }
  if (o->socket_v6 && g_socket_get_family (o->socket_v6) !=
      G_SOCKET_FAMILY_IPV6) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "socket-v6 is not an IPv6 socket");
    return FALSE;
  }
  o->bytes_to_serve = 0;
  o->served_frozen = 0;
  o->running = TRUE;
  return TRUE;
}

void
relay_udp_opts_set_used (RelayUdpOpts * o, int fd4, GSocket * sock4, int fd6,
    GSocket * sock6)
{
  GSocket *g4 = relay_udp_opts_socket (o, G_SOCKET_FAMILY_IPV4);
  GSocket *g6 = relay_udp_opts_socket (o, G_SOCKET_FAMILY_IPV6);

  if (fd4 == o->used_fd4 && fd6 == o->used_fd6)
    return;
  clear_used (o);
  o->used_fd4 = fd4;
  o->used_fd6 = fd6;
  if (g4 && g_socket_get_fd (g4) == fd4)
    o->used4 = g4;
  else if (sock4 && g_socket_get_fd (sock4) == fd4)
    o->used4 = sock4;
  if (g6 && g_socket_get_fd (g6) == fd6)
    o->used6 = g6;
  else if (sock6 && g_socket_get_fd (sock6) == fd6)
    o->used6 = sock6;
}

void
relay_udp_opts_stop (RelayUdpOpts * o, guint64 served)
{
  GError *err = NULL;

  o->served_frozen = served;
  o->running = FALSE;
  o->kernel = NULL;
  relay_groups_clear (o->groups);
  clear_used (o);
  o->used_fd4 = o->used_fd6 = -1;
  g_array_set_size (o->fds, 0);
  /* multiudpsink closes a socket given to it on stop with close-socket */
  if (o->close_socket) {
    if (o->socket && !g_socket_is_closed (o->socket)
        && !g_socket_close (o->socket, &err)) {
      GST_ERROR_OBJECT (o->owner, "Failed to close socket: %s", err->message);
      g_clear_error (&err);
    }
    if (o->socket_v6 && o->socket_v6 != o->socket
        && !g_socket_is_closed (o->socket_v6)
        && !g_socket_close (o->socket_v6, &err)) {
      GST_ERROR_OBJECT (o->owner, "Failed to close socket: %s", err->message);
      g_clear_error (&err);
    }
  }
}

void
relay_udp_opts_count (RelayUdpOpts * o, gsize size)
{
  o->bytes_to_serve += size;
}
