/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfrelay-udpopts: multiudpsink's surface on ebpfrelaysink, with the
 * same names, types and defaults (docs/multiudpsink.md): send-duplicates,
 * qos-dscp, ttl, ttl-mc, loop, buffer-size, bind-address, bind-port,
 * socket, socket-v6, used-socket, used-socket-v6, close-socket,
 * force-ipv4, auto-multicast, multicast-iface, bytes-to-serve,
 * bytes-served. GStreamer (properties, GSocket) and GLib.
 *
 * Owns: the values; their installation on the element's class; applying
 * the socket options to every socket copies leave from (the sender tells
 * it of each: relay_udp_opts_socket_func), and qos-dscp, ttl and ttl-mc
 * to the kernel's copies (relay_udp_opts_set_kernel), again when one
 * changes while running; the sockets given (socket, socket-v6) and what closes them;
 * the GSocket the used-socket properties return; bytes-to-serve.
 *
 * Lock: none of its own; the sink lock (GST_EBPF_RELAY_SINK_LOCK) is held
 * around every call, as for ebpfrelay-send.
 */
#ifndef __EBPF_RELAY_UDPOPTS_H__
#define __EBPF_RELAY_UDPOPTS_H__

#include <gst/gst.h>
#include <gio/gio.h>

#include "ebpfrelay-clients.h"
#include "ebpfrelay-kernel.h"

G_BEGIN_DECLS

enum
{
  RELAY_UDP_OPT_SEND_DUPLICATES,
  RELAY_UDP_OPT_QOS_DSCP,
  RELAY_UDP_OPT_TTL,
  RELAY_UDP_OPT_TTL_MC,
  RELAY_UDP_OPT_LOOP,
  RELAY_UDP_OPT_BUFFER_SIZE,
  RELAY_UDP_OPT_BIND_ADDRESS,
  RELAY_UDP_OPT_BIND_PORT,
  RELAY_UDP_OPT_SOCKET,
  RELAY_UDP_OPT_SOCKET_V6,
  RELAY_UDP_OPT_USED_SOCKET,
  RELAY_UDP_OPT_USED_SOCKET_V6,
  RELAY_UDP_OPT_CLOSE_SOCKET,
  RELAY_UDP_OPT_FORCE_IPV4,
  RELAY_UDP_OPT_AUTO_MULTICAST,
  RELAY_UDP_OPT_MULTICAST_IFACE,
  RELAY_UDP_OPT_BYTES_TO_SERVE,
  RELAY_UDP_OPT_BYTES_SERVED,
  RELAY_UDP_OPTS_N_PROPS
};

typedef struct _RelayUdpOpts RelayUdpOpts;

/* Installs the properties as @first .. @first + RELAY_UDP_OPTS_N_PROPS - 1. */
void relay_udp_opts_install_properties (GObjectClass * klass, guint first);

/* @owner (borrowed) for the warnings; @table (borrowed): send-duplicates
 * and bytes-served are its. */
RelayUdpOpts *relay_udp_opts_new (GstElement * owner, RelayClients * table);
void relay_udp_opts_free (RelayUdpOpts * o);

/* @id relative to the first property. */
void relay_udp_opts_set_property (RelayUdpOpts * o, guint id,
    const GValue * value);
void relay_udp_opts_get_property (RelayUdpOpts * o, guint id, GValue * value);

/* A RelaySenderSocketFunc (ebpfrelay-send.h), @user_data the options: a
 * socket copies leave from (options applied), or one closed. */
void relay_udp_opts_socket_func (int fd, gboolean opened, gpointer user_data);

/* The sockets given, borrowed (NULL: none): socket (of either family, as
 * multiudpsink's) and socket-v6. */
GSocket *relay_udp_opts_socket (RelayUdpOpts * o, GSocketFamily family);
/* bind-address (NULL: every address) as an IPv4 address into @addr
 * (network order), and bind-port; FALSE with @error for an address that
 * is not IPv4 or cannot be resolved. */
gboolean relay_udp_opts_bind (RelayUdpOpts * o, guint32 * addr,
    guint16 * port, GError ** error);
/* multicast-iface's interface index (0: none set, or no such
 * interface). */
guint relay_udp_opts_multicast_ifindex (RelayUdpOpts * o);
/* auto-multicast (ebpfrelay-groups): while running, the host is a member
 * of each group among the clients, joined on multicast-iface (as it is at
 * the join) when the first client naming it comes, left when the last
 * goes; a join that fails is a warning in the debug log. _join_groups:
 * every group of the current clients (at the start, after the clients'
 * slots). */
void relay_udp_opts_group_added (RelayUdpOpts * o, const RelayAddr * a);
void relay_udp_opts_group_removed (RelayUdpOpts * o, const RelayAddr * a);
void relay_udp_opts_join_groups (RelayUdpOpts * o);
/* How many groups are joined now. */
guint relay_udp_opts_groups_joined (RelayUdpOpts * o);
/* Whether bind-address or bind-port is set. */
gboolean relay_udp_opts_bind_set (RelayUdpOpts * o);

/* The kernel path while running (borrowed; NULL: none, or stopping):
 * qos-dscp, ttl and ttl-mc go into its configuration now and whenever
 * they change, so that its copies leave as userspace's do. */
void relay_udp_opts_set_kernel (RelayUdpOpts * o, RelayKernel * kernel);

/* Starting: bytes-to-serve and bytes-served from 0. FALSE with @error
 * when socket and socket-v6 are both IPv6 sockets and differ. */
gboolean relay_udp_opts_start (RelayUdpOpts * o, GError ** error);
/* What used-socket and used-socket-v6 return: the sockets copies to each
 * family leave from (-1: none), and the GSocket objects they are when
 * known (the udpsrc's: NULL otherwise). */
void relay_udp_opts_set_used (RelayUdpOpts * o, int fd4, GSocket * sock4,
    int fd6, GSocket * sock6);
/* Stopping: bytes-served stays at @served; the given sockets closed with
 * close-socket; the sockets forgotten. */
void relay_udp_opts_stop (RelayUdpOpts * o, guint64 served);

/* A buffer of @size bytes rendered with subscribers (bytes-to-serve). */
void relay_udp_opts_count (RelayUdpOpts * o, gsize size);

G_END_DECLS
#endif
