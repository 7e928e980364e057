/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ebpfprioritysrc-udp: udpsrc's socket surface of ebpfprioritysrc, with
 * udpsrc's names, types and defaults (GStreamer, GIO).
 *
 * Owns: the values of udpsrc's settings (address, port, buffer-size,
 * multicast-iface, auto-multicast, reuse, loop, close-socket, socket,
 * socket-timestamp, timeout, skip-first-bytes, retrieve-sender-address,
 * mtu; the element's GObject property table reads and writes them); the
 * socket's set-up at NULL->READY (a given socket or a new one, then bind,
 * multicast loopback, the multicast join on each multicast-iface,
 * SO_TIMESTAMPNS, the bound port) and its release (closed, or a given
 * socket left open without the kernel filter); the udp:// URI; and the
 * streaming thread's side of a read: the wait with udpsrc's
 * GstUDPSrcTimeout element message, recvmsg into udpsrc's buffer layout
 * (a datagram of up to mtu bytes in one memory, a larger one in two), the
 * datagram in one piece for the element's checks, the buffer with
 * skip-first-bytes cut, the sender's GstNetAddressMeta and the kernel's
 * receive time as DTS.
 *
 * Not here: the priority filter (the element attaches the kernel filter
 * between psrc_udp_open_socket and psrc_udp_bind, so nothing is queued
 * unfiltered), the subscription, what a datagram is (control, media).
 *
 * Errors are posted on the element given (GST_ELEMENT_ERROR) with the
 * messages udpsrc's users know; a function that posted one returns FALSE
 * (or PSRC_UDP_ERROR).
 *
 * Lock: none of its own. PsrcUdpSettings' timeout, skip_first_bytes,
 * retrieve_sender_address and mtu are read by the streaming thread and
 * written at any time: under the element's lock. The others change only
 * in NULL (GST_PARAM_MUTABLE_READY). PsrcUdpRecv is the streaming
 * thread's (made at NULL->READY, freed at READY->NULL).
 */
#ifndef __EBPF_PRIORITY_SRC_UDP_H__
#define __EBPF_PRIORITY_SRC_UDP_H__

#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <gst/gst.h>
#include <gio/gio.h>

#include "gstebpfprioritysrc.h"

G_BEGIN_DECLS

/* udpsrc's (1.22) */
#define PSRC_UDP_DEFAULT_ADDRESS "0.0.0.0"
#define PSRC_UDP_DEFAULT_PORT 5004
#define PSRC_UDP_DEFAULT_BUFFER_SIZE 0
#define PSRC_UDP_DEFAULT_MULTICAST_IFACE NULL
#define PSRC_UDP_DEFAULT_TIMEOUT 0
#define PSRC_UDP_DEFAULT_SKIP_FIRST_BYTES 0
#define PSRC_UDP_DEFAULT_CLOSE_SOCKET TRUE
#define PSRC_UDP_DEFAULT_AUTO_MULTICAST TRUE
#define PSRC_UDP_DEFAULT_REUSE TRUE
#define PSRC_UDP_DEFAULT_LOOP TRUE
#define PSRC_UDP_DEFAULT_RETRIEVE_SENDER_ADDRESS TRUE
#define PSRC_UDP_DEFAULT_MTU 1492
#define PSRC_UDP_DEFAULT_SOCKET_TIMESTAMP \
  GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_REALTIME

/* The largest datagram read (mtu is capped to it). */
#define PSRC_UDP_MAX_DATAGRAM 65536

typedef struct
{
  /* changed in NULL only */
  gchar *address;
  gint port;                    /* the bound one once READY */
  gint buffer_size;
  gchar *multicast_iface;
  gboolean auto_multicast, reuse, loop, close_socket;
  GSocket *given_socket;        /* the socket property */
  GstEbpfPrioritySrcSocketTimestamp socket_timestamp;

  /* under the element's lock */
  guint64 timeout;              /* ns, 0: none */
  gint skip_first_bytes;
  gboolean retrieve_sender_address;
  guint mtu;
} PsrcUdpSettings;

void psrc_udp_settings_init (PsrcUdpSettings * s);
void psrc_udp_settings_clear (PsrcUdpSettings * s);

/* --- NULL -> READY ---------------------------------------------------------- */

/* A socket being opened: psrc_udp_open_socket, (the element's filter),
 * psrc_udp_bind, then the element takes sock (and external) or clears
 * it all with psrc_udp_open_clear. */
typedef struct
{
  GInetAddress *ia;             /* address */
  GSocket *sock;
  gboolean external;            /* sock is the socket property's */
  gboolean multicast;
} PsrcUdpOpen;

/* The address checked, the socket taken (the given one: IPv4 or IPv6,
 * datagram) or made (IPV6_V6ONLY for an IPv6 address other than ::,
 * non-blocking), buffer-size applied (a warning if refused). Not bound
 * yet. FALSE: an element error posted, @o cleared. */
gboolean psrc_udp_open_socket (PsrcUdpSettings * s, GstElement * e,
    PsrcUdpOpen * o);
/* Bind (a new socket), multicast loopback, the join (auto-multicast),
 * SO_TIMESTAMPNS (refused: a warning and socket-timestamp=disabled,
 * notified), the bound port read back (port notified if it differs).
 * FALSE: an element error posted; @o is left for the caller to clear. */
gboolean psrc_udp_bind (PsrcUdpSettings * s, GstElement * e,
    PsrcUdpOpen * o);
void psrc_udp_open_clear (PsrcUdpOpen * o);

/* SO_DETACH_BPF: a given socket the application keeps (close-socket=
 * false) is handed back without the element's filter. */
void psrc_udp_detach_filter (GSocket * sock);
/* READY -> NULL: closes @sock, or (a given socket with close-socket=false)
 * leaves it open, detaching the filter if @filtered. */
void psrc_udp_release (const PsrcUdpSettings * s, GSocket * sock,
    gboolean external, gboolean filtered);

/* --- the URI ---------------------------------------------------------------- */

/* udp://ADDRESS:PORT */
gchar *psrc_udp_get_uri (const PsrcUdpSettings * s);
/* udp://ADDRESS[:PORT] (PORT: the default 5004 when absent, as udpsrc):
 * sets address and port and notifies them on @obj. A bad URI: FALSE,
 * @error set, or a warning on @obj without @error; nothing changed. */
gboolean psrc_udp_set_uri (PsrcUdpSettings * s, GObject * obj,
    const gchar * uri, GError ** error);
/* { "udp", NULL } */
const gchar *const *psrc_udp_uri_protocols (void);

/* --- the streaming thread ----------------------------------------------------- */

typedef struct
{
  guint8 *scratch;              /* what exceeds mtu */
  guint8 *joined;               /* a datagram larger than mtu, in one piece */
  guint mtu;                    /* of this read (the property, capped) */
  GstMemory *mem;               /* the first mtu bytes, mapped in map */
  GstMapInfo map;
  struct sockaddr_storage from;
  struct iovec iov[2];
  struct msghdr msg;
  union
  {
    struct cmsghdr align;
    guint8 buf[CMSG_SPACE (sizeof (struct timespec))];
  } control;
  gssize n;                     /* the datagram's size */
  const guint8 *data;           /* the datagram, in one piece */
} PsrcUdpRecv;

void psrc_udp_recv_init (PsrcUdpRecv * r);
void psrc_udp_recv_clear (PsrcUdpRecv * r);

typedef enum
{
  PSRC_UDP_OK,
  PSRC_UDP_AGAIN,               /* nothing read (timed out: message posted) */
  PSRC_UDP_FLUSHING,
  PSRC_UDP_ERROR,               /* an element error posted */
} PsrcUdpResult;

/* Starts a create(): @mtu (the property) for the reads that follow. */
void psrc_udp_recv_begin (PsrcUdpRecv * r, guint mtu);
/* Waits for a datagram (@timeout ns, 0: no limit); posts udpsrc's
 * GstUDPSrcTimeout message when it times out (PSRC_UDP_AGAIN: read the
 * timeout again and wait again). */
PsrcUdpResult psrc_udp_wait (GSocket * sock, guint64 timeout,
    GCancellable * cancellable, GstElement * e);
/* Reads one datagram (MSG_DONTWAIT) into udpsrc's layout: r->data and
 * r->n are the datagram, r->from and r->msg.msg_namelen its sender.
 * PSRC_UDP_AGAIN: none (or an ICMP error of what the element sent). */
PsrcUdpResult psrc_udp_read (PsrcUdpRecv * r, int fd, GstElement * e);
/* The buffer of the datagram read (udpsrc's layout, or @rewritten, g_free
 * memory of @rewritten_len bytes taken, in one memory), @skip bytes cut
 * from its start, the sender's address (@want_addr) and the socket
 * timestamp as DTS. */
GstBuffer *psrc_udp_buffer (PsrcUdpRecv * r, GstElement * e,
    guint8 * rewritten, gsize rewritten_len, gint skip, gboolean want_addr);
/* Ends a create() that returns no buffer: the memory read into is freed. */
void psrc_udp_recv_end (PsrcUdpRecv * r);

G_END_DECLS
#endif
