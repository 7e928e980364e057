/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-ebpfprioritysrc
 * @title: ebpfprioritysrc
 * @see_also: udpsrc, ebpfrelaysink, rtpframemarking
 *
 * Receives a UDP stream like `udpsrc`, with udpsrc's properties under the
 * same names, types and defaults (#GstEbpfPrioritySrc:address,
 * #GstEbpfPrioritySrc:port, #GstEbpfPrioritySrc:uri (the element is a
 * #GstURIHandler for `udp://`, ranked below udpsrc),
 * #GstEbpfPrioritySrc:caps, #GstEbpfPrioritySrc:buffer-size,
 * #GstEbpfPrioritySrc:mtu, #GstEbpfPrioritySrc:timeout (posting udpsrc's
 * `GstUDPSrcTimeout` element message), #GstEbpfPrioritySrc:retrieve-sender-address
 * (a #GstNetAddressMeta on each buffer), #GstEbpfPrioritySrc:reuse,
 * #GstEbpfPrioritySrc:socket, #GstEbpfPrioritySrc:used-socket,
 * #GstEbpfPrioritySrc:close-socket, #GstEbpfPrioritySrc:skip-first-bytes,
 * #GstEbpfPrioritySrc:multicast-group, #GstEbpfPrioritySrc:auto-multicast,
 * #GstEbpfPrioritySrc:multicast-iface, #GstEbpfPrioritySrc:loop,
 * #GstEbpfPrioritySrc:socket-timestamp) and udpsrc's buffer layout (a
 * datagram of up to mtu bytes in one memory, a larger one in two). Two
 * differences: with skip-first-bytes the filter runs in userspace (the
 * kernel socket filter reads the RTP header where the datagram starts;
 * mode=kernel is then refused), and a datagram shorter than
 * skip-first-bytes is dropped and counted (`too-short`) with one warning,
 * where udpsrc stops with an error. The element keeps only the packets whose priority is at least
 * #GstEbpfPrioritySrc:priority-limit (0..7; 0 keeps everything). The limit
 * can change while PLAYING; per SSRC a raised limit comes into force at the
 * next frame start (a new RTP timestamp), a lowered one at the next key
 * frame start, so no picture loses a part or gets one whose references it
 * never had (`bpf/switch.h`, as the relay does).
 * With #GstEbpfPrioritySrc:relay and #GstEbpfPrioritySrc:priority-limit-auto,
 * the relay picks the limit of what it sends from this viewer's RTCP
 * (an adaptive subscriber: its receiver reports and NACKs, e.g. rtpbin
 * rtp-profile=avpf do-retransmission=true sending to the relay).
 *
 * A packet's priority is what the project's priority contract
 * (`bpf/priority.h`) says, the same in the relay and here: RFC 9626 frame
 * marking when the stream carries it (#GstEbpfPrioritySrc:framemarking-id,
 * by default the id the caps name in
 * `extmap-N=urn:ietf:params:rtp-hdrext:framemarking`); otherwise, by the
 * codec the caps give the payload type (`encoding-name`, `payload`), the
 * H.264 NAL NRI (3 -> 7, 2 -> 6, 1 -> 5, 0 -> 0) or the VP8 key frame,
 * non-reference and temporal layer bits; anything else has priority 7 and
 * is never dropped.
 *
 * The filter runs in the kernel: a BPF socket filter attached to the
 * element's own socket drops what is below the limit before it is queued,
 * so dropped packets cost no wake-up and no copy. Without the privilege to
 * load it (CAP_BPF, or root), the element warns and applies the same
 * filter, compiled from the same header, to each datagram it reads
 * (#GstEbpfPrioritySrc:mode).
 *
 * With #GstEbpfPrioritySrc:relay set to the control endpoint of an
 * `ebpfrelaysink`, the element subscribes there from its own socket, so
 * the relay sends the stream to this element's address and port and drops
 * for it what is below its limit; it proves to the relay that it receives
 * at that address (the relay's challenge), refreshes the subscription, sends
 * the new limit when it changes and unsubscribes when it stops. The
 * relay's control packets (RTCP APP "EBRS") arriving on the socket are
 * consumed, never pushed downstream. Without a relay the element receives
 * whatever is sent to it, e.g. straight from a server.
 *
 * The subscription names the viewer's RTCP port when
 * #GstEbpfPrioritySrc:rtcp-port is set: the relay then sends the sender's
 * SR/SDES/BYE there (and attributes RTCP from there to this viewer)
 * instead of to port + 1; 0 (or the media port) multiplexes them on the
 * media port, where they come out of the src pad like the media.
 *
 * The element posts an element message `ebpfprioritysrc-subscription`
 * (fields `state`: "subscribing", "subscribed", "refused" or "stopped";
 * `reason`; `relay`) whenever the subscription changes.
 *
 * ## Examples
 * |[
 * gst-launch-1.0 ebpfprioritysrc port=6000 relay=10.200.0.1:5005 priority-limit=6 caps="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000" ! rtph264depay ! avdec_h264 ! autovideosink
 * ]| Subscribes at the relay 10.200.0.1 (control port 5005) for the H.264
 * packets with NRI 2 or 3: the frames others refer to. Of an `x264enc
 * bframes=2 b-adapt=false` stream it drops the non-reference B frames
 * (about a third of the frames), and the rest still decodes.
 * |[
 * gst-launch-1.0 ebpfprioritysrc port=5004 priority-limit=7 caps="application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000" ! rtpvp8depay ! vp8dec ! autovideosink
 * ]| No relay: receives what a server sends to port 5004 and keeps only the
 * VP8 key frames.
 * |[
 * gst-launch-1.0 ebpfprioritysrc port=5004 mode=userspace priority-limit=6 caps="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000" ! fakesink
 * ]| The same filter without BPF.
 *
 * ## Errors
 * Settings are checked when the element goes from NULL to READY; a bad one
 * fails the state change with an error that names it: a #GstEbpfPrioritySrc:relay
 * that is not `host:port` (IPv4 address, `[IPv6]` or a name resolving to
 * one, port 1-65535), a #GstEbpfPrioritySrc:token longer than 64 bytes, an
 * #GstEbpfPrioritySrc:address that is not an IPv4 or IPv6 address, a port
 * in use.
 * With `mode=kernel`, a socket filter that cannot be loaded is an error
 * ("needs CAP_BPF: run as root or set mode=userspace"); with `mode=auto` a
 * warning. A relay that refuses the subscription (wrong token, relay full)
 * is a warning; the element keeps asking now and then.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <gio/gio.h>

#include "gstebpfprioritysrc.h"
#include "gstebpfrelayelements.h"
#include "ebpfprioritysrc-filter.h"
#include "ebpfprioritysrc-kernel.h"
#include "ebpfprioritysrc-udp.h"
#include "ebpfrelay-kernel.h"   /* RELAY_KERNEL_ERROR */
#include "ebpfrelay-control-client.h"
#include "ebpfrelay-caps.h"
#include "ebpfrelay-watch.h"
#include "ebpfrelay-sps.h"
#include "priority.h"
#include "prioritysrc.h"

/* (also ebpfprioritysrc-udp's) */
GST_DEBUG_CATEGORY (gst_ebpf_priority_src_debug);
#define GST_CAT_DEFAULT gst_ebpf_priority_src_debug

#define DEFAULT_PRIORITY_LIMIT 0
#define DEFAULT_RELAY NULL
#define DEFAULT_TOKEN NULL
#define DEFAULT_RTCP_PORT -1
#define DEFAULT_MODE GST_EBPF_PRIORITY_SRC_MODE_AUTO
#define DEFAULT_STATS_INTERVAL 0
#define DEFAULT_REWRITE_SPS TRUE
/* udpsrc's: PSRC_UDP_DEFAULT_* (ebpfprioritysrc-udp.h) */

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CAPS,
  PROP_BUFFER_SIZE,
  PROP_USED_SOCKET,
  PROP_PRIORITY_LIMIT,
  PROP_FRAMEMARKING_ID,
  PROP_RELAY,
  PROP_TOKEN,
  PROP_RTCP_PORT,
  PROP_PRIORITY_LIMIT_AUTO,
  PROP_MODE,
  PROP_STATS,
  PROP_STATS_INTERVAL,
  PROP_REWRITE_SPS,
  /* udpsrc's */
  PROP_URI,
  PROP_MULTICAST_GROUP,
  PROP_MULTICAST_IFACE,
  PROP_TIMEOUT,
  PROP_SKIP_FIRST_BYTES,
  PROP_CLOSE_SOCKET,
  PROP_SOCKET,
  PROP_AUTO_MULTICAST,
  PROP_REUSE,
  PROP_LOOP,
  PROP_RETRIEVE_SENDER_ADDRESS,
  PROP_MTU,
  PROP_SOCKET_TIMESTAMP,
};

struct _GstEbpfPrioritySrc
{
  GstPushSrc parent;

  /* properties that need READY to change */
  gchar *relay;
  gchar *token;
  gint rtcp_port;               /* -1: port + 1, 0: port (rtcp-mux) */
  gboolean limit_auto;          /* subscribe with the auto flag */
  GstEbpfPrioritySrcMode mode;
  guint stats_interval;         /* ms, 0: none */
  RelayWatch *watch;            /* while started, with a stats-interval */
  gboolean external;            /* self->socket is udp.given_socket */
  /* udpsrc's settings; timeout, skip_first_bytes, retrieve_sender_address
   * and mtu (read by the streaming thread, set at any time) under lock */
  PsrcUdpSettings udp;

  GMutex lock;                  /* everything below */
  GstCaps *caps;
  guint limit;
  guint framemarking_id;
  guint8 caps_fm_id;
  struct psrc_config cfg;       /* what the filter applies */
  GSocket *socket;
  GCancellable *cancellable;
  PrioritySrcKernel *kernel;    /* NULL: filter in userspace */
  gboolean opened;
  RelayControlClient *client;
  PsrcFilter filter;            /* the userspace filter's state */
  gboolean rewrite_sps;
  EbpfRelaySpsGuards *sps_guards;      /* rewrite-sps, per SSRC */
  guint64 kept, dropped, control, too_short, sps_rewritten, sps_kept;

  PsrcUdpRecv recv;             /* streaming thread only, while READY */
  gboolean warned_short;
};

#define GST_EBPF_PRIORITY_SRC_LOCK(s) g_mutex_lock (&(s)->lock)
#define GST_EBPF_PRIORITY_SRC_UNLOCK(s) g_mutex_unlock (&(s)->lock)

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void gst_ebpf_priority_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

#define gst_ebpf_priority_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstEbpfPrioritySrc, gst_ebpf_priority_src,
    GST_TYPE_PUSH_SRC, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_ebpf_priority_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (ebpfprioritysrc, "ebpfprioritysrc",
    GST_RANK_NONE, GST_TYPE_EBPF_PRIORITY_SRC,
    ebpf_relay_element_init (plugin));

GType
gst_ebpf_priority_src_mode_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_EBPF_PRIORITY_SRC_MODE_AUTO,
          "Kernel socket filter, userspace with a warning if BPF is unavailable",
        "auto"},
    {GST_EBPF_PRIORITY_SRC_MODE_KERNEL,
        "Kernel socket filter only, error otherwise", "kernel"},
    {GST_EBPF_PRIORITY_SRC_MODE_USERSPACE,
        "Userspace filter only (no BPF)", "userspace"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstEbpfPrioritySrcMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* udpsrc's GstSocketTimestampMode, under our own type name (both plugins
 * may be loaded in one process), with its nicks. */
GType
gst_ebpf_priority_src_socket_timestamp_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_DISABLED, "Disable additional "
          "timestamp", "disabled"},
    {GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_REALTIME, "The kernel's receive "
          "time (SO_TIMESTAMPNS, CLOCK_REALTIME) as the DTS", "realtime"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstEbpfPrioritySrcSocketTimestamp",
        values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void gst_ebpf_priority_src_finalize (GObject * object);
static void gst_ebpf_priority_src_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_ebpf_priority_src_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_ebpf_priority_src_change_state (GstElement *
    element, GstStateChange transition);
static GstCaps *gst_ebpf_priority_src_get_caps (GstBaseSrc * src,
    GstCaps * filter);
static gboolean gst_ebpf_priority_src_start (GstBaseSrc * src);
static gboolean gst_ebpf_priority_src_stop (GstBaseSrc * src);
static gboolean gst_ebpf_priority_src_unlock (GstBaseSrc * src);
static gboolean gst_ebpf_priority_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_ebpf_priority_src_create (GstPushSrc * psrc,
    GstBuffer ** outbuf);

static void
gst_ebpf_priority_src_class_init (GstEbpfPrioritySrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_ebpf_priority_src_set_property;
  gobject_class->get_property = gst_ebpf_priority_src_get_property;
  gobject_class->finalize = gst_ebpf_priority_src_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "IPv4 or IPv6 address to receive on (a multicast group is joined; "
          ":: receives both families)",
          PSRC_UDP_DEFAULT_ADDRESS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "UDP port to receive on (0 = a free one, readable once READY)",
          0, 65535, PSRC_UDP_DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps",
          "Caps of the stream; application/x-rtp caps also give the codec of "
          "the payload type (encoding-name, payload) and the frame marking "
          "id (extmap-N) that priorities are derived from", GST_TYPE_CAPS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      g_param_spec_int ("buffer-size", "Buffer size",
          "Kernel receive buffer size in bytes (0 = the system default)", 0,
          G_MAXINT, PSRC_UDP_DEFAULT_BUFFER_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_USED_SOCKET,
      g_param_spec_object ("used-socket", "Used socket",
          "The socket the element receives on (once READY); the filter is "
          "attached to it", G_TYPE_SOCKET,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PRIORITY_LIMIT,
      g_param_spec_uint ("priority-limit", "Priority limit",
          "Keep only packets of priority >= this, 0-7 (0 = everything, 7 = "
          "key frames and non-video); a change while PLAYING comes into "
          "force per SSRC at its next frame start when raised, at its next "
          "key frame start when lowered (stats: limit-in-force)", 0, PRIO_MAX,
          DEFAULT_PRIORITY_LIMIT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_FRAMEMARKING_ID,
      ebpf_relay_param_spec_framemarking_id ());
  g_object_class_install_property (gobject_class, PROP_RELAY,
      g_param_spec_string ("relay", "Relay",
          "host:port of the control endpoint of the ebpfrelaysink to "
          "subscribe at, [v6]:port for IPv6 (of the address's family; NULL "
          "= none: receive what is sent here)", DEFAULT_RELAY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Token the relay requires of subscribers (at most 64 bytes; NULL = "
          "none)", DEFAULT_TOKEN,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RTCP_PORT,
      g_param_spec_int ("rtcp-port", "RTCP port",
          "Where the relay sends this viewer the sender's SR/SDES/BYE, told "
          "in the subscription (and where the viewer's RTCP to the relay "
          "should come from, to be attributed by port): -1 = port + 1 (the "
          "relay's default; the subscription names no port, as older relays "
          "expect), 0 = port (RTCP multiplexed on the media port, RFC 5761; "
          "then RTCP comes out of this element's src pad like media), or "
          "1-65535 (equal to port: multiplexed)", -1, 65535, DEFAULT_RTCP_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PRIORITY_LIMIT_AUTO,
      g_param_spec_boolean ("priority-limit-auto", "Automatic priority limit",
          "With relay: subscribe as an adaptive subscriber, whose limit at "
          "the relay follows this viewer's receiver reports and NACKs (up "
          "a step on loss or rising jitter, down after a quiet period), "
          "starting at priority-limit. This element's own filter keeps "
          "priority-limit: leave it at 0. The viewer must send RTCP "
          "receiver reports to the relay (e.g. rtpbin, rtcp-port)", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "Where packets below the limit are dropped",
          GST_TYPE_EBPF_PRIORITY_SRC_MODE, DEFAULT_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "mode (\"kernel\", \"userspace\" or \"stopped\"), kept and dropped "
          "(media packets, counted by the kernel filter or in userspace), "
          "control (relay control packets consumed), too-short (datagrams "
          "shorter than skip-first-bytes, dropped), priority-limit, "
          "limit-in-force and limit-pending (a change of the limit comes "
          "into force at a frame start when raised, at a key frame start "
          "when lowered; -1: none), and "
          "the subscription: subscription (state), relay-limit (the limit "
          "the relay confirmed), control-sent, control-received",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Statistics interval",
          "Every this many ms, post the stats structure as an element "
          "message on the bus and notify::stats (0 = never); a change of "
          "priority-limit is posted as ebpfprioritysrc-limit-changed and "
          "one of the subscription as ebpfprioritysrc-subscription anyway", 0,
          G_MAXINT, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /* udpsrc's properties: the same names, types, ranges and defaults */
  g_object_class_install_property (gobject_class, PROP_URI,
      g_param_spec_string ("uri", "URI",
          "URI in the form of udp://address:port (sets address and port, as "
          "udpsrc's)",
          "udp://" PSRC_UDP_DEFAULT_ADDRESS ":"
          G_STRINGIFY (PSRC_UDP_DEFAULT_PORT),
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_GROUP,
      g_param_spec_string ("multicast-group", "Multicast Group",
          "The address of the multicast group to join (DEPRECATED, as in "
          "udpsrc: use address)", PSRC_UDP_DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_DEPRECATED |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast Interface",
          "The network interfaces on which to join the multicast group, "
          "separated by commas (\"eth0,eth1\"; NULL = the system's choice)",
          PSRC_UDP_DEFAULT_MULTICAST_IFACE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstEbpfPrioritySrc:rewrite-sps:
   *
   * An H.264 decoder holds each picture back as long as the stream's SPS
   * says pictures may be reordered (max_num_reorder_frames, or the
   * level's DPB size when the SPS does not say), seconds at a limit that
   * keeps only key frames. When the limit in force leaves no reordered
   * picture (no B slice passes it: docs/architecture.md, "No added delay
   * at a limit"), the element rewrites each SPS it pushes (single NAL
   * unit or in a STAP-A; not one fragmented in FU-A) to declare none
   * (ebpfrelay-sps.h), so the decoder shows each picture when it is
   * decoded. Counted in stats (`sps-rewritten`, `sps-kept`).
   */
  g_object_class_install_property (gobject_class, PROP_REWRITE_SPS,
      g_param_spec_boolean ("rewrite-sps", "Rewrite SPS",
          "Rewrite the H.264 SPSs pushed to declare no picture reordering "
          "(max_num_reorder_frames=0) while the limit in force lets no B "
          "slice through, so the decoder adds no reorder delay (FALSE: "
          "push them as received)", DEFAULT_REWRITE_SPS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint64 ("timeout", "Timeout",
          "Post a GstUDPSrcTimeout element message after this many "
          "nanoseconds without a datagram, and again after each such "
          "period (0 = disabled)", 0, G_MAXUINT64, PSRC_UDP_DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SKIP_FIRST_BYTES,
      g_param_spec_int ("skip-first-bytes", "Skip first bytes",
          "Number of bytes to skip at the start of each datagram; the "
          "priority filter then reads the RTP packet after them, in "
          "userspace. A shorter datagram is dropped and counted "
          "(too-short in stats)", 0, G_MAXINT,
          PSRC_UDP_DEFAULT_SKIP_FIRST_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CLOSE_SOCKET,
      g_param_spec_boolean ("close-socket", "Close socket",
          "Close the socket given in the socket property when going to NULL "
          "(FALSE: leave it open; the kernel filter is then detached from it)",
          PSRC_UDP_DEFAULT_CLOSE_SOCKET,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SOCKET,
      g_param_spec_object ("socket", "Socket",
          "An IPv4 UDP socket to receive on instead of opening one (NULL = "
          "open one); the filter is attached to it", G_TYPE_SOCKET,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_AUTO_MULTICAST,
      g_param_spec_boolean ("auto-multicast", "Auto Multicast",
          "Automatically join and leave the multicast group that address "
          "names", PSRC_UDP_DEFAULT_AUTO_MULTICAST,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_REUSE,
      g_param_spec_boolean ("reuse", "Reuse",
          "Enable reuse of the port (SO_REUSEADDR and SO_REUSEPORT, as "
          "udpsrc; only sockets that also ask for it can share the port)",
          PSRC_UDP_DEFAULT_REUSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LOOP,
      g_param_spec_boolean ("loop", "Multicast Loopback",
          "Used for setting the multicast loop parameter. TRUE = enable, "
          "FALSE = disable", PSRC_UDP_DEFAULT_LOOP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RETRIEVE_SENDER_ADDRESS,
      g_param_spec_boolean ("retrieve-sender-address",
          "Retrieve Sender Address",
          "Add the sender's address to each "
          "buffer as a GstNetAddressMeta (rtpbin uses it)",
          PSRC_UDP_DEFAULT_RETRIEVE_SENDER_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MTU,
      g_param_spec_uint ("mtu", "Expected Maximum Transmission Unit",
          "Maximum expected datagram size: the size of each buffer's first "
          "memory; a larger datagram gets a second memory with the rest "
          "(nothing is cut)", 0, G_MAXINT, PSRC_UDP_DEFAULT_MTU,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SOCKET_TIMESTAMP,
      g_param_spec_enum ("socket-timestamp",
          "Use Socket Control Message Timestamp for DTS",
          "Set each buffer's DTS from the kernel's receive time "
          "(SO_TIMESTAMPNS), as udpsrc's",
          GST_TYPE_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP,
          PSRC_UDP_DEFAULT_SOCKET_TIMESTAMP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "eBPF priority-filtering UDP source", "Source/Network",
      "Receives a UDP stream and keeps the packets of priority >= "
      "priority-limit, dropped by a BPF socket filter in the kernel; "
      "subscribes at an ebpfrelaysink with that limit. Example: "
      "gst-launch-1.0 ebpfprioritysrc port=6000 relay=10.0.0.1:5005 "
      "priority-limit=6 caps=\"application/x-rtp,media=video,"
      "encoding-name=H264,payload=96,clock-rate=90000\" ! rtph264depay ! "
      "fakesink", "gst-ebpf-relay developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_change_state);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_get_caps);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_ebpf_priority_src_create);

  gst_type_mark_as_plugin_api (GST_TYPE_EBPF_PRIORITY_SRC_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP, 0);
  GST_DEBUG_CATEGORY_INIT (gst_ebpf_priority_src_debug, "ebpfprioritysrc", 0,
      "eBPF priority-filtering UDP source");
}

static void
gst_ebpf_priority_src_init (GstEbpfPrioritySrc * self)
{
  psrc_udp_settings_init (&self->udp);
  self->relay = g_strdup (DEFAULT_RELAY);
  self->token = g_strdup (DEFAULT_TOKEN);
  self->rtcp_port = DEFAULT_RTCP_PORT;
  self->mode = DEFAULT_MODE;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->limit = DEFAULT_PRIORITY_LIMIT;
  self->framemarking_id = EBPF_RELAY_DEFAULT_FRAMEMARKING_ID;
  g_mutex_init (&self->lock);
  self->cancellable = g_cancellable_new ();
  psrc_filter_init (&self->filter);
  self->rewrite_sps = DEFAULT_REWRITE_SPS;
  self->sps_guards = ebpf_relay_sps_guards_new (PSRC_SWITCH_SSRCS);

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), TRUE);
}

static void
gst_ebpf_priority_src_finalize (GObject * object)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (object);

  psrc_udp_settings_clear (&self->udp);
  g_free (self->relay);
  g_free (self->token);
  gst_caps_replace (&self->caps, NULL);
  g_object_unref (self->cancellable);
  psrc_filter_clear (&self->filter);
  ebpf_relay_sps_guards_free (self->sps_guards);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* --- priorities from the caps ----------------------------------------------- */

/* Recomputes what the filter applies and hands it to the kernel. With the
 * lock. */
static void
update_filter_locked (GstEbpfPrioritySrc * self)
{
  memset (&self->cfg, 0, sizeof (self->cfg));
  ebpf_relay_priority_from_caps (self->caps, self->cfg.codec_by_pt,
      &self->caps_fm_id);
  self->cfg.fm_id = self->framemarking_id ? self->framemarking_id :
      self->caps_fm_id;
  self->cfg.limit = MIN (self->limit, PRIO_MAX);
  psrc_filter_configured (&self->filter);
  if (self->kernel && !priority_src_kernel_configure (self->kernel, &self->cfg))
    GST_WARNING_OBJECT (self, "cannot configure the socket filter: %s",
        g_strerror (errno));
  GST_DEBUG_OBJECT (self, "limit %u, frame marking id %u, caps %"
      GST_PTR_FORMAT, self->cfg.limit, self->cfg.fm_id, self->caps);
}

/* --- the subscription ------------------------------------------------------- */

/* From the client's thread or the streaming thread. */
static void
on_subscription (RelayControlClientState state, RelayControlReason reason,
    gpointer user_data)
{
  GstEbpfPrioritySrc *self = user_data;
  const gchar *state_str = relay_control_client_state_str (state);

  GST_INFO_OBJECT (self, "subscription at %s: %s (%s)", self->relay,
      state_str, relay_control_reason_str (reason));
  if (state == RELAY_CONTROL_CLIENT_REFUSED) {
    if (reason == RELAY_CONTROL_REASON_TOKEN)
      GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED,
          ("The relay %s refused the subscription: %s", self->relay,
              relay_control_reason_str (reason)),
          ("set the token property to the relay's token"));
    else
      GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
          ("The relay %s refused the subscription: %s", self->relay,
              relay_control_reason_str (reason)),
          ("asking again now and then"));
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("ebpfprioritysrc-subscription",
              "state", G_TYPE_STRING, state_str,
              "reason", G_TYPE_STRING, relay_control_reason_str (reason),
              "relay", G_TYPE_STRING, self->relay, NULL)));
}

/* --- opening and closing (NULL <-> READY) ------------------------------------ */

static void
close_socket (GstEbpfPrioritySrc * self)
{
  GST_EBPF_PRIORITY_SRC_LOCK (self);
  psrc_udp_release (&self->udp, self->socket, self->external,
      self->kernel != NULL);
  g_clear_object (&self->socket);
  self->external = FALSE;
  /* after the socket: it held the filter */
  g_clear_pointer (&self->kernel, priority_src_kernel_free);
  self->opened = FALSE;
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  psrc_udp_recv_clear (&self->recv);
}

static gboolean
open_socket (GstEbpfPrioritySrc * self)
{
  PsrcUdpOpen o = { 0 };
  PrioritySrcKernel *kernel = NULL;
  RelayAddr relay_addr;
  GError *err = NULL;
  gint skip;
  guint limit;

  GST_EBPF_PRIORITY_SRC_LOCK (self);
  limit = self->limit;
  skip = self->udp.skip_first_bytes;
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  if (limit > PRIO_MAX)
    goto bad_limit;
  if (self->token && strlen (self->token) > RELAY_CONTROL_MAX_TOKEN)
    goto bad_token;
  if (self->relay && !relay_control_parse_address (self->relay, &relay_addr,
          &err))
    goto bad_relay;
  /* The kernel filter reads the RTP header where the datagram starts. */
  if (skip > 0 && self->mode == GST_EBPF_PRIORITY_SRC_MODE_KERNEL)
    goto skip_needs_userspace;

  if (!psrc_udp_open_socket (&self->udp, GST_ELEMENT (self), &o))
    return FALSE;

  /* The filter goes on before bind: no packet is queued unfiltered. */
  if (self->mode != GST_EBPF_PRIORITY_SRC_MODE_USERSPACE && skip > 0) {
    GST_ELEMENT_INFO (self, RESOURCE, SETTINGS,
        ("skip-first-bytes=%d: filtering in userspace", skip),
        ("the kernel socket filter reads the RTP header at the start of the "
            "datagram"));
  } else if (self->mode != GST_EBPF_PRIORITY_SRC_MODE_USERSPACE) {
    kernel = priority_src_kernel_new (&err);
    if (kernel && !priority_src_kernel_attach (kernel,
            g_socket_get_fd (o.sock), &err))
      g_clear_pointer (&kernel, priority_src_kernel_free);
    if (!kernel) {
      gboolean perm = g_error_matches (err, RELAY_KERNEL_ERROR,
          RELAY_KERNEL_ERROR_PERMISSION);

      if (self->mode == GST_EBPF_PRIORITY_SRC_MODE_KERNEL)
        goto kernel_failed;
      if (perm)
        GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED,
            ("Kernel filter unavailable (%s), filtering in userspace",
                err->message),
            ("needs CAP_BPF; run as root or set mode=userspace"));
      else
        GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
            ("Kernel filter unavailable (%s), filtering in userspace",
                err->message), ("set mode=userspace to filter without BPF"));
      g_clear_error (&err);
    }
  }

  if (!psrc_udp_bind (&self->udp, GST_ELEMENT (self), &o))
    goto fail;

  psrc_udp_recv_init (&self->recv);
  self->warned_short = FALSE;
  GST_EBPF_PRIORITY_SRC_LOCK (self);
  self->socket = g_steal_pointer (&o.sock);
  self->external = o.external;
  self->kernel = kernel;
  self->kept = self->dropped = self->control = self->too_short = 0;
  self->sps_rewritten = self->sps_kept = 0;
  psrc_filter_reset (&self->filter);
  ebpf_relay_sps_guards_reset (self->sps_guards);
  self->opened = TRUE;
  update_filter_locked (self);
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  psrc_udp_open_clear (&o);
  GST_INFO_OBJECT (self, "receiving on %s:%d%s, filter in %s",
      self->udp.address, self->udp.port,
      self->external ? " (given socket)" : "",
      kernel ? "the kernel" : "userspace");
  return TRUE;

  /* ERRORS */
bad_limit:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("priority-limit %u is out of range: set 0-7", limit),
        ("priority-limit=%u", limit));
    return FALSE;
  }
bad_token:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("token is %" G_GSIZE_FORMAT " bytes long; at most %d are allowed",
            strlen (self->token), RELAY_CONTROL_MAX_TOKEN), ("token property"));
    return FALSE;
  }
bad_relay:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid relay: %s", err->message), ("relay=%s", self->relay));
    g_clear_error (&err);
    return FALSE;
  }
skip_needs_userspace:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("skip-first-bytes=%d needs the userspace filter: the kernel socket "
            "filter reads the RTP header at the start of the datagram; set "
            "mode=auto or mode=userspace", skip),
        ("mode=kernel, skip-first-bytes=%d", skip));
    return FALSE;
  }
kernel_failed:
  {
    if (g_error_matches (err, RELAY_KERNEL_ERROR,
            RELAY_KERNEL_ERROR_PERMISSION))
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
          ("The kernel filter needs CAP_BPF; run as root or set "
              "mode=userspace"), ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Kernel filter failed: %s", err->message),
          ("mode=kernel; set mode=auto or mode=userspace to filter without "
              "BPF"));
    g_clear_error (&err);
    goto fail;
  }
fail:
  if (kernel && o.external && !self->udp.close_socket)
    psrc_udp_detach_filter (o.sock);
  psrc_udp_open_clear (&o);
  g_clear_pointer (&kernel, priority_src_kernel_free);
  return FALSE;
}

static GstStateChangeReturn
gst_ebpf_priority_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !open_socket (self))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      close_socket (self);
    return ret;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    close_socket (self);
  return ret;
}

/* --- streaming (READY <-> PAUSED, PLAYING) ---------------------------------- */

static GstStructure *get_stats (GstEbpfPrioritySrc * self);

static GstStructure *
watch_stats (gpointer user_data)
{
  return get_stats (user_data);
}

static gboolean
gst_ebpf_priority_src_start (GstBaseSrc * src)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (src);
  RelayControlClient *client;
  GError *err = NULL;
  guint limit;

  if (self->stats_interval)
    self->watch = relay_watch_new (GST_ELEMENT (self), "ebpfpsrc-watch",
        self->stats_interval, watch_stats, self);
  if (!self->relay)
    return TRUE;
  GST_EBPF_PRIORITY_SRC_LOCK (self);
  limit = self->cfg.limit;
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  client = relay_control_client_new (self->socket, self->relay, self->token,
      limit, on_subscription, self, &err);
  if (!client)
    goto bad_relay;
  /* (the port is the bound one by now, also with port=0) */
  relay_control_client_set_rtcp_port (client, self->rtcp_port == 0 ?
      self->udp.port : self->rtcp_port);
  relay_control_client_set_auto (client, self->limit_auto);
  GST_EBPF_PRIORITY_SRC_LOCK (self);
  self->client = client;
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  relay_control_client_start (client);
  return TRUE;

  /* ERRORS */
bad_relay:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid relay: %s", err->message), ("relay=%s", self->relay));
    g_clear_error (&err);
    g_clear_pointer (&self->watch, relay_watch_free);
    return FALSE;
  }
}

static gboolean
gst_ebpf_priority_src_stop (GstBaseSrc * src)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (src);
  RelayControlClient *client;

  GST_EBPF_PRIORITY_SRC_LOCK (self);
  client = self->client;
  self->client = NULL;
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  g_clear_pointer (&self->watch, relay_watch_free);
  /* unsubscribes */
  relay_control_client_free (client);
  return TRUE;
}

static gboolean
gst_ebpf_priority_src_unlock (GstBaseSrc * src)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (src);

  g_cancellable_cancel (self->cancellable);
  return TRUE;
}

static gboolean
gst_ebpf_priority_src_unlock_stop (GstBaseSrc * src)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (src);

  g_cancellable_reset (self->cancellable);
  return TRUE;
}

static GstCaps *
gst_ebpf_priority_src_get_caps (GstBaseSrc * src, GstCaps * filter)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (src);
  GstCaps *caps, *result;

  GST_EBPF_PRIORITY_SRC_LOCK (self);
  caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  if (!filter)
    return caps;
  result = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref (caps);
  return result;
}

/* The limit in force for @ssrc (what the filter applies to its packets
 * now), -1 if the filter has no state for it. With the lock. */
static gint
ssrc_limit_locked (GstEbpfPrioritySrc * self, guint32 ssrc)
{
  struct psrc_ssrc sw;

  if (self->kernel)
    return priority_src_kernel_switch (self->kernel, ssrc, &sw) ?
        sw.s.limit : -1;
  return psrc_filter_ssrc_limit (&self->filter, ssrc);
}

/* For the SPS guards (ebpf_relay_sps_guards_datagram): the limit in force
 * for @ssrc, the requested one when the filter has none yet. With the
 * lock. */
static guint
sps_limit_locked (guint32 ssrc, gpointer user_data)
{
  GstEbpfPrioritySrc *self = user_data;
  gint limit = ssrc_limit_locked (self, ssrc);

  return limit < 0 ? self->cfg.limit : (guint) limit;
}

/* rewrite-sps on a datagram that passed the filter (@data, @n bytes, the
 * RTP packet after @skip; @known: its classification when the userspace
 * filter made one, else NULL): the SSRC's guard notes its B slices, and
 * says when its SPS is rewritten (ebpfrelay-sps): then the datagram with
 * it (g_free), else NULL. With the lock. */
static guint8 *
sps_rewrite_locked (GstEbpfPrioritySrc * self, const guint8 * data, gsize n,
    gint skip, const struct prio_info *known, gsize * out_len)
{
  const guint8 *rtp = data + skip;
  gsize len = n - skip;
  struct prio_info info;
  guint8 *out = NULL;
  guint limit = 0;

  if (len < 13 || self->cfg.codec_by_pt[rtp[1] & (PRIO_N_PT - 1)] !=
      PRIO_CODEC_H264)
    return NULL;
  /* (the kernel filter's classification stays in the kernel) */
  if (known)
    info = *known;
  else
    prio_classify (rtp, MIN (len, PRIO_BUF_LEN), len, self->cfg.codec_by_pt,
        self->cfg.fm_id, NULL, &info);
  if (!prio_is_rtp (&info))
    return NULL;
  switch (ebpf_relay_sps_guards_datagram (self->sps_guards, data, n, skip,
          info.ssrc, info.ts, info.priority, info.payload_off,
          sps_limit_locked, self, &limit, &out, out_len)) {
    case EBPF_RELAY_SPS_PACKET_KEPT:
      self->sps_kept++;
      GST_LOG_OBJECT (self, "SSRC %08x: SPS as received (limit %u)",
          info.ssrc, limit);
      break;
    case EBPF_RELAY_SPS_PACKET_REWRITTEN:
      self->sps_rewritten++;
      GST_DEBUG_OBJECT (self, "SSRC %08x: SPS rewritten to no reordering "
          "(limit %u)", info.ssrc, limit);
      break;
    default:
      break;
  }
  return out;
}

static GstFlowReturn
gst_ebpf_priority_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (psrc);
  PsrcUdpRecv *r = &self->recv;
  int fd = g_socket_get_fd (self->socket);
  RelayControlClient *client;
  RelayAddr from_addr;
  const guint8 *data;
  guint8 *rewritten = NULL;
  gsize rewritten_len = 0;
  struct prio_info info;
  gboolean classified;
  guint64 timeout;
  gint skip;
  gboolean want_addr;
  enum
  { DGRAM_MEDIA, DGRAM_CONTROL, DGRAM_SHORT, DGRAM_DROPPED } verdict;
  PsrcUdpResult res;
  gssize n;

  GST_EBPF_PRIORITY_SRC_LOCK (self);
  timeout = self->udp.timeout;
  psrc_udp_recv_begin (r, self->udp.mtu);
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  for (;;) {
    res = psrc_udp_wait (self->socket, timeout, self->cancellable,
        GST_ELEMENT (self));
    if (res == PSRC_UDP_AGAIN) {
      /* timed out (the message is posted) */
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      timeout = self->udp.timeout;
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      continue;
    }
    if (res == PSRC_UDP_OK)
      res = psrc_udp_read (r, fd, GST_ELEMENT (self));
    if (res == PSRC_UDP_AGAIN)
      continue;
    if (res != PSRC_UDP_OK)
      goto done;
    data = r->data;
    n = r->n;
    /* One lock per datagram: what applies to it (as set when it was
     * read), its counters, the subscription client's message. */
    GST_EBPF_PRIORITY_SRC_LOCK (self);
    skip = self->udp.skip_first_bytes;
    want_addr = self->udp.retrieve_sender_address;
    timeout = self->udp.timeout;
    verdict = DGRAM_MEDIA;
    classified = FALSE;
    if (relay_control_is_control (data, n)) {
      /* The relay's messages (or look-alikes): never media. The client
       * may be gone if we stop right now; the lock keeps it alive. */
      self->control++;
      client = self->client;
      if (client)
        relay_control_client_handle (client, data, n,
            relay_addr_from_native (&from_addr, &r->from,
                r->msg.msg_namelen) ? &from_addr : NULL);
      verdict = DGRAM_CONTROL;
    } else if (n < skip) {
      self->too_short++;
      verdict = DGRAM_SHORT;
    } else if (!self->kernel) {
      classified = TRUE;
      /* the userspace filter: the classification kept for rewrite-sps */
      if (psrc_filter_keep (&self->filter, &self->cfg, data + skip, n - skip,
              &info)) {
        self->kept++;
      } else {
        self->dropped++;
        verdict = DGRAM_DROPPED;
      }
    }
    if (verdict == DGRAM_MEDIA && self->rewrite_sps && n > skip)
      rewritten = sps_rewrite_locked (self, data, n, skip,
          classified ? &info : NULL, &rewritten_len);
    GST_EBPF_PRIORITY_SRC_UNLOCK (self);

    if (verdict == DGRAM_SHORT && !self->warned_short) {
      self->warned_short = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          ("A datagram of %" G_GSSIZE_FORMAT " bytes is shorter than "
              "skip-first-bytes (%d): dropped (counted as too-short)", n,
              skip), ("warned once"));
    }
    if (verdict != DGRAM_MEDIA)
      continue;

    *outbuf = psrc_udp_buffer (r, GST_ELEMENT (self), rewritten,
        rewritten_len, skip, want_addr);
    return GST_FLOW_OK;
  }

done:
  psrc_udp_recv_end (r);
  return res == PSRC_UDP_FLUSHING ? GST_FLOW_FLUSHING : GST_FLOW_ERROR;
}

/* --- properties ---------------------------------------------------------------- */

static void
set_limit (GstEbpfPrioritySrc * self, guint limit)
{
  gboolean changed, opened;

  GST_EBPF_PRIORITY_SRC_LOCK (self);
  if (limit > PRIO_MAX && self->opened) {
    GST_EBPF_PRIORITY_SRC_UNLOCK (self);
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("priority-limit %u is out of range (0-7); kept %u", limit,
            self->limit), ("priority-limit=%u", limit));
    return;
  }
  changed = self->limit != limit;
  self->limit = limit;
  if (self->opened) {
    update_filter_locked (self);
    if (self->client)
      relay_control_client_set_limit (self->client, limit);
  }
  opened = self->opened;
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  if (changed && opened)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("ebpfprioritysrc-limit-changed",
                "priority-limit", G_TYPE_UINT, limit, NULL)));
}

/* The limit in force (bpf/switch.h): that of an SSRC with a change
 * pending if there is one (then *@pending is the requested limit, else
 * -1), else the requested one; -1 before any RTP packet. With the lock. */
static gint
limit_in_force (GstEbpfPrioritySrc * self, gint * pending)
{
  struct psrc_ssrc sw[PSRC_SWITCH_SSRCS];
  guint n;

  if (self->kernel)
    n = priority_src_kernel_switches (self->kernel, sw, G_N_ELEMENTS (sw));
  else
    n = psrc_filter_switches (&self->filter, sw, G_N_ELEMENTS (sw));
  return psrc_filter_limit_in_force (sw, n, self->cfg.limit, pending);
}

static GstStructure *
get_stats (GstEbpfPrioritySrc * self)
{
  RelayControlClientStats cs = { 0 };
  guint64 k[PSRC_STAT_MAX] = { 0 };
  guint64 kept, dropped;
  GstStructure *s;
  gint in_force, pending;

  GST_EBPF_PRIORITY_SRC_LOCK (self);
  in_force = self->opened ? limit_in_force (self, &pending) : -1;
  if (!self->opened)
    pending = -1;
  if (self->kernel) {
    priority_src_kernel_counters (self->kernel, k);
    kept = k[PSRC_STAT_KEPT];
    dropped = k[PSRC_STAT_DROPPED];
  } else {
    kept = self->kept;
    dropped = self->dropped;
  }
  if (self->client)
    relay_control_client_get_stats (self->client, &cs);
  s = gst_structure_new ("application/x-ebpfprioritysrc-stats",
      "mode", G_TYPE_STRING, !self->opened ? "stopped" :
      self->kernel ? "kernel" : "userspace",
      "kept", G_TYPE_UINT64, kept,
      "dropped", G_TYPE_UINT64, dropped,
      "control", G_TYPE_UINT64, self->control,
      "too-short", G_TYPE_UINT64, self->too_short,
      "sps-rewritten", G_TYPE_UINT64, self->sps_rewritten,
      "sps-kept", G_TYPE_UINT64, self->sps_kept,
      "priority-limit", G_TYPE_UINT, self->limit,
      "limit-in-force", G_TYPE_INT, in_force,
      "limit-pending", G_TYPE_INT, pending,
      "subscription", G_TYPE_STRING, self->client ?
      relay_control_client_state_str (cs.state) : "none",
      "relay-limit", G_TYPE_UINT, cs.limit,
      "control-sent", G_TYPE_UINT64, cs.sent,
      "control-received", G_TYPE_UINT64, cs.received, NULL);
  GST_EBPF_PRIORITY_SRC_UNLOCK (self);
  return s;
}

/* --- the URI (ebpfprioritysrc-udp) ---------------------------------------- */

static GstURIType
uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
uri_get_protocols (GType type)
{
  return psrc_udp_uri_protocols ();
}

static gchar *
uri_get_uri (GstURIHandler * handler)
{
  return psrc_udp_get_uri (&GST_EBPF_PRIORITY_SRC (handler)->udp);
}

static gboolean
uri_set_uri (GstURIHandler * handler, const gchar * uri, GError ** error)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (handler);

  if (GST_STATE (self) > GST_STATE_NULL || self->opened) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the URI of ebpfprioritysrc when it is not in NULL state "
        "is not supported");
    return FALSE;
  }
  return psrc_udp_set_uri (&self->udp, G_OBJECT (self), uri, error);
}

static void
gst_ebpf_priority_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = g_iface;

  iface->get_type = uri_get_type;
  iface->get_protocols = uri_get_protocols;
  iface->get_uri = uri_get_uri;
  iface->set_uri = uri_set_uri;
}

static void
gst_ebpf_priority_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (object);

  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->udp.address);
      self->udp.address = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->udp.port = g_value_get_int (value);
      break;
    case PROP_CAPS:{
      const GstCaps *caps = gst_value_get_caps (value);

      GST_EBPF_PRIORITY_SRC_LOCK (self);
      gst_caps_replace (&self->caps, (GstCaps *) caps);
      if (self->opened)
        update_filter_locked (self);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      gst_pad_mark_reconfigure (GST_BASE_SRC_PAD (self));
      break;
    }
    case PROP_BUFFER_SIZE:
      self->udp.buffer_size = g_value_get_int (value);
      break;
    case PROP_PRIORITY_LIMIT:
      set_limit (self, g_value_get_uint (value));
      break;
    case PROP_FRAMEMARKING_ID:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      self->framemarking_id = g_value_get_uint (value);
      if (self->opened)
        update_filter_locked (self);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_RELAY:
      g_free (self->relay);
      self->relay = g_value_dup_string (value);
      if (self->relay && *self->relay == '\0')
        g_clear_pointer (&self->relay, g_free);
      break;
    case PROP_TOKEN:
      g_free (self->token);
      self->token = g_value_dup_string (value);
      if (self->token && *self->token == '\0')
        g_clear_pointer (&self->token, g_free);
      break;
    case PROP_RTCP_PORT:
      self->rtcp_port = g_value_get_int (value);
      break;
    case PROP_PRIORITY_LIMIT_AUTO:
      self->limit_auto = g_value_get_boolean (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    case PROP_REWRITE_SPS:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      self->rewrite_sps = g_value_get_boolean (value);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_URI:
      psrc_udp_set_uri (&self->udp, object, g_value_get_string (value), NULL);
      break;
    case PROP_MULTICAST_GROUP:
      g_free (self->udp.address);
      self->udp.address = g_value_dup_string (value);
      break;
    case PROP_MULTICAST_IFACE:
      g_free (self->udp.multicast_iface);
      self->udp.multicast_iface = g_value_dup_string (value);
      break;
    case PROP_TIMEOUT:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      self->udp.timeout = g_value_get_uint64 (value);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_SKIP_FIRST_BYTES:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      self->udp.skip_first_bytes = g_value_get_int (value);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_CLOSE_SOCKET:
      self->udp.close_socket = g_value_get_boolean (value);
      break;
    case PROP_SOCKET:
      g_clear_object (&self->udp.given_socket);
      self->udp.given_socket = g_value_dup_object (value);
      break;
    case PROP_AUTO_MULTICAST:
      self->udp.auto_multicast = g_value_get_boolean (value);
      break;
    case PROP_REUSE:
      self->udp.reuse = g_value_get_boolean (value);
      break;
    case PROP_LOOP:
      self->udp.loop = g_value_get_boolean (value);
      break;
    case PROP_RETRIEVE_SENDER_ADDRESS:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      self->udp.retrieve_sender_address = g_value_get_boolean (value);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_MTU:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      self->udp.mtu = g_value_get_uint (value);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_SOCKET_TIMESTAMP:
      self->udp.socket_timestamp = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_ebpf_priority_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstEbpfPrioritySrc *self = GST_EBPF_PRIORITY_SRC (object);

  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string (value, self->udp.address);
      break;
    case PROP_PORT:
      g_value_set_int (value, self->udp.port);
      break;
    case PROP_CAPS:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      gst_value_set_caps (value, self->caps);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int (value, self->udp.buffer_size);
      break;
    case PROP_USED_SOCKET:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_object (value, self->socket);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_PRIORITY_LIMIT:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_uint (value, self->limit);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_FRAMEMARKING_ID:
      g_value_set_uint (value, self->framemarking_id);
      break;
    case PROP_RELAY:
      g_value_set_string (value, self->relay);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case PROP_RTCP_PORT:
      g_value_set_int (value, self->rtcp_port);
      break;
    case PROP_PRIORITY_LIMIT_AUTO:
      g_value_set_boolean (value, self->limit_auto);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, self->stats_interval);
      break;
    case PROP_REWRITE_SPS:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_boolean (value, self->rewrite_sps);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, get_stats (self));
      break;
    case PROP_URI:
      g_value_take_string (value, psrc_udp_get_uri (&self->udp));
      break;
    case PROP_MULTICAST_GROUP:
      g_value_set_string (value, self->udp.address);
      break;
    case PROP_MULTICAST_IFACE:
      g_value_set_string (value, self->udp.multicast_iface);
      break;
    case PROP_TIMEOUT:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_uint64 (value, self->udp.timeout);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_SKIP_FIRST_BYTES:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_int (value, self->udp.skip_first_bytes);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_CLOSE_SOCKET:
      g_value_set_boolean (value, self->udp.close_socket);
      break;
    case PROP_SOCKET:
      g_value_set_object (value, self->udp.given_socket);
      break;
    case PROP_AUTO_MULTICAST:
      g_value_set_boolean (value, self->udp.auto_multicast);
      break;
    case PROP_REUSE:
      g_value_set_boolean (value, self->udp.reuse);
      break;
    case PROP_LOOP:
      g_value_set_boolean (value, self->udp.loop);
      break;
    case PROP_RETRIEVE_SENDER_ADDRESS:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_boolean (value, self->udp.retrieve_sender_address);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_MTU:
      GST_EBPF_PRIORITY_SRC_LOCK (self);
      g_value_set_uint (value, self->udp.mtu);
      GST_EBPF_PRIORITY_SRC_UNLOCK (self);
      break;
    case PROP_SOCKET_TIMESTAMP:
      g_value_set_enum (value, self->udp.socket_timestamp);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
