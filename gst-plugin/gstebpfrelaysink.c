/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-ebpfrelaysink
 * @title: ebpfrelaysink
 * @see_also: udpsrc, multiudpsink
 *
 * Relays a UDP stream to many subscribers from inside the kernel. Fed by
 * `udpsrc`, it loads a TC program on the interfaces where the stream
 * arrives; for every datagram to the stream's port the program writes one
 * copy per subscriber (Ethernet, IPv4 and UDP headers rewritten, checksums
 * updated) and sends it out of the interface the routing table names for
 * that subscriber, before the original goes up to `udpsrc`. Userspace keeps
 * the subscriber table, the statistics, and sends what the kernel cannot:
 * to a subscriber whose next hop is not resolved yet (until it is, with no
 * packet lost or sent twice at the hand-over), to addresses of this host,
 * and everything when BPF cannot be used (#GstEbpfRelaySink:mode).
 *
 * The subscriber API follows `multiudpsink`: the #GstEbpfRelaySink:clients
 * property, the #GstEbpfRelaySink::add, #GstEbpfRelaySink::remove,
 * #GstEbpfRelaySink::clear and #GstEbpfRelaySink::get-stats action signals.
 * Copies leave from the relay's address on the egress interface and from
 * the stream's port, in every mode. The sender's SR/SDES/BYE reach each
 * subscriber at its RTCP port: media port + 1, or `host:port/rtcp-port`
 * (`/mux`: the media port, RFC 5761) in #GstEbpfRelaySink:clients,
 * #GstEbpfRelaySink::add-full or its subscription; its RTCP from there is
 * attributed to it.
 *
 * Subscribers may be IPv4 or IPv6 (`[2001:db8::2]:6000@6`, or a name: its
 * A record if it has one, else its AAAA), both for one stream. Each is
 * served in its own family, never translated: a v4 stream reaches a v6
 * subscriber as a new IPv6/UDP datagram with the same payload, sent from
 * an IPv6 socket on the stream's port (and the other way round). The
 * kernel forwards either family to subscribers of the packet's family; a
 * subscriber of the other one is served from userspace.
 *
 * Each subscriber has a priority limit 0..7 (`host:port@limit` in
 * #GstEbpfRelaySink:clients, #GstEbpfRelaySink::set-priority-limit): it
 * receives exactly the packets whose priority is at least its limit. A
 * packet's priority comes from the RFC 9626 frame marking header extension
 * (#GstEbpfRelaySink:framemarking-id), else from the codec of its payload
 * type as the caps name it (`encoding-name`, `payload`): H.264 NAL NRI,
 * VP8 key frame / non-reference / temporal layer; anything else has
 * priority 7 and is never dropped. The kernel and the userspace path
 * classify with the same code (bpf/priority.h). Each subscriber's RTP
 * sequence numbers are rewritten per SSRC so that they stay contiguous
 * across the packets dropped for it (#GstEbpfRelaySink:rewrite-seq).
 *
 * A subscriber at `host:port@auto` (or subscribed with the auto flag,
 * #GstEbpfPrioritySrc:priority-limit-auto) is adaptive: the relay moves its
 * limit from its RTCP, a step up (the next limit that removes packets of
 * the stream) on loss or rising jitter in its receiver reports or a NACK
 * rate over 3 %, a step down after a quiet period (5 s, doubled after a
 * step down that met loss, up to 16 s). Each switch is requested as
 * #GstEbpfRelaySink::set-priority-limit does, counted in its stats (`auto`,
 * `auto-switches`, `auto-reason`) and posted as an element message
 * `ebpfrelaysink-limit` with `host`, `port`, `from`, `to` and `reason`
 * ("loss", "nack", "jitter", "probe-failed", "probe").
 *
 * By default every original packet also goes up to `udpsrc` after the
 * kernel's copies (#GstEbpfRelaySink:pass-original): the pipeline sees the
 * stream. With pass-original=false, from the first buffer on the kernel
 * consumes what it forwards: the last copy is the packet itself, and the
 * relay's userspace wakes only for what it must send, which removes its
 * per-packet CPU and a socket delivery from every packet's path.
 *
 * Any upstream works too: a payloader, `appsrc`, a `udpsrc` behind an
 * element that changes the stream (a jitter buffer, a depayloader). Whether
 * the buffers are the packets the TC program saw at ingress is decided at
 * start: they are when a `udpsrc` is upstream through elements that pass
 * buffers on unchanged (`queue`, `queue2`, `multiqueue`, `tee`,
 * `capsfilter`, `identity`, bins' ghost pads), so `udpsrc ! queue !
 * ebpfrelaysink` keeps the ingress fast path. Otherwise the relay sends
 * each buffer once, to 127.0.0.1 on the stream's port from a socket of
 * its own, and the same TC program, attached at the ingress of `lo`, makes
 * every subscriber's copy there (the same priority drop and sequence
 * rewriting, copies from the egress interface's address and the stream's
 * port) and consumes the original: userspace sends one datagram per
 * buffer whatever the number of subscribers. With no #GstEbpfRelaySink:port
 * set it binds one the kernel chooses (readable in the property while
 * running). A buffer larger than the egress MTU (the smallest of the
 * interfaces that are up) is left by the kernel to userspace, which sends
 * it (fragmented) to every subscriber; so is every buffer in
 * mode=userspace or when BPF cannot be used, and never silently: the
 * `local-*` fields of #GstEbpfRelaySink:stats count each way, and a buffer
 * sent from userspace while the kernel is in use is reported once.
 *
 * A relay tree: an `ebpfprioritysrc relay=...` upstream (this relay
 * subscribes at another one) is found as a `udpsrc` is, so its packets are
 * fanned out at ingress, and with #GstEbpfRelaySink:follow-limits (the
 * default) its priority-limit is kept at the lowest limit of this relay's
 * subscribers (7 while there is none).
 *
 * Forwarding in the kernel needs CAP_BPF (or CAP_SYS_ADMIN) and
 * CAP_NET_ADMIN, and a kernel with TCX (6.6) or clsact.
 *
 * ## Examples
 * |[
 * gst-launch-1.0 udpsrc port=5004 ! ebpfrelaysink clients=10.200.11.2:6000,10.200.12.2:6000
 * ]| Forwards every datagram arriving on port 5004 to two subscribers, in the
 * kernel when it can.
 * |[
 * gst-launch-1.0 udpsrc port=5004 ! ebpfrelaysink mode=kernel interfaces=veth0 clients=10.200.11.2:6000
 * ]| Kernel forwarding only, for packets arriving on veth0; fails if BPF
 * cannot be loaded.
 * |[
 * gst-launch-1.0 udpsrc port=5004 ! ebpfrelaysink mode=userspace clients=10.200.11.2:6000
 * ]| The same bytes, sent from userspace (the baseline).
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! x264enc tune=zerolatency ! rtph264pay ! ebpfrelaysink clients=10.200.11.2:6000,10.200.12.2:6000@7
 * ]| A server fanning out its own stream: each RTP packet leaves the
 * pipeline once, the kernel makes the copies (the second subscriber gets
 * only IDR frames and parameter sets).
 * |[
 * gst-launch-1.0 udpsrc port=5004 ! ebpfrelaysink sources=10.200.1.1 source-latch=true clients=10.200.11.2:6000
 * ]| Only 10.200.1.1 may publish, and of its senders only the first one
 * (address and port) until it has been silent for source-timeout (5 s):
 * everyone else's datagrams to the port reach no subscriber.
 * |[
 * gst-launch-1.0 udpsrc port=5004 caps="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000" ! ebpfrelaysink clients=10.200.11.2:6000,10.200.12.2:6000@6,10.200.13.2:6000@7
 * ]| An H.264 stream: the first subscriber gets everything, the second
 * only reference frames (NRI 2 and 3), the third only IDR and parameter
 * sets (NRI 3), each with contiguous sequence numbers.
 * |[
 * gst-launch-1.0 -m udpsrc port=5004 ! ebpfrelaysink stats-interval=1000 metrics-port=9465 clients=10.200.11.2:6000
 * ]| Posts the statistics on the bus every second (and each subscriber
 * change as it happens), and serves them to Prometheus at
 * http://127.0.0.1:9465/metrics (#GstEbpfRelaySink:stats-interval,
 * #GstEbpfRelaySink:metrics-port; examples/grafana has a dashboard).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <gio/gio.h>

#include "gstebpfrelaysink.h"
#include "gstebpfrelaysink-private.h"
#include "ebpfrelaysink-start.h"
#include "gstebpfrelayelements.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-route.h"
#include "ebpfrelay-clients.h"
#include "ebpfrelay-send.h"
#include "ebpfrelay-control-server.h"
#include "ebpfrelay-caps.h"
#include "ebpfrelay-stats.h"
#include "ebpfrelay-feedback.h"
#include "ebpfrelay-local.h"
#include "ebpfrelay-tree.h"
#include "ebpfrelay-publisher.h"
#include "ebpfrelay-watch.h"
#include "ebpfrelay-metrics.h"
#include "ebpfrelay-udpopts.h"
#include "priority.h"

/* (also ebpfrelaysink-start's) */
GST_DEBUG_CATEGORY (gst_ebpf_relay_sink_debug);
#define GST_CAT_DEFAULT gst_ebpf_relay_sink_debug

#define DEFAULT_PORT 0
#define DEFAULT_INTERFACES NULL
#define DEFAULT_CLIENTS NULL
#define DEFAULT_MODE GST_EBPF_RELAY_MODE_AUTO
#define DEFAULT_REWRITE_SEQ TRUE
#define DEFAULT_PASS_ORIGINAL TRUE
#define DEFAULT_FOLLOW_LIMITS TRUE
#define DEFAULT_STATS_INTERVAL 0
#define DEFAULT_METRICS_PORT 0
#define DEFAULT_METRICS_ADDRESS "127.0.0.1"

enum
{
  PROP_0,
  PROP_PORT,
  PROP_INTERFACES,
  PROP_CLIENTS,
  PROP_MODE,
  PROP_STATS,
  PROP_FRAMEMARKING_ID,
  PROP_REWRITE_SEQ,
  PROP_PASS_ORIGINAL,
  PROP_FOLLOW_LIMITS,
  PROP_CONTROL_PORT,
  PROP_SUBSCRIBER_TIMEOUT,
  PROP_MAX_CLIENTS,
  PROP_TOKEN,
  PROP_STATS_INTERVAL,
  PROP_METRICS_PORT,
  PROP_METRICS_ADDRESS,
  PROP_PUBLISHER,               /* RELAY_PUBLISHER_N_PROPS of ebpfrelay-publisher */
  PROP_FEEDBACK = PROP_PUBLISHER + RELAY_PUBLISHER_N_PROPS,     /* RELAY_FEEDBACK_N_PROPS of ebpfrelay-feedback */
  PROP_UDPOPTS = PROP_FEEDBACK + RELAY_FEEDBACK_N_PROPS,        /* RELAY_UDP_OPTS_N_PROPS of ebpfrelay-udpopts */
};

enum
{
  SIGNAL_ADD,
  SIGNAL_REMOVE,
  SIGNAL_CLEAR,
  SIGNAL_GET_STATS,
  SIGNAL_SET_PRIORITY_LIMIT,
  SIGNAL_CLIENT_ADDED,
  SIGNAL_CLIENT_REMOVED,
  LAST_SIGNAL
};

static guint gst_ebpf_relay_sink_signals[LAST_SIGNAL];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_ebpf_relay_sink_parent_class parent_class
G_DEFINE_TYPE (GstEbpfRelaySink, gst_ebpf_relay_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (ebpfrelaysink, "ebpfrelaysink",
    GST_RANK_NONE, GST_TYPE_EBPF_RELAY_SINK, ebpf_relay_element_init (plugin));

static void gst_ebpf_relay_sink_finalize (GObject * object);
static void gst_ebpf_relay_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ebpf_relay_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ebpf_relay_sink_start (GstBaseSink * sink);
static gboolean gst_ebpf_relay_sink_stop (GstBaseSink * sink);
static GstFlowReturn gst_ebpf_relay_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);
static gboolean gst_ebpf_relay_sink_set_caps (GstBaseSink * sink,
    GstCaps * caps);
static void gst_ebpf_relay_sink_add (GstEbpfRelaySink * self,
    const gchar * host, gint port);
static gboolean gst_ebpf_relay_sink_add_full (GstEbpfRelaySink * self,
    const gchar * host, gint port, gint limit, gint rtcp_port);
static gboolean gst_ebpf_relay_sink_set_priority_limit (GstEbpfRelaySink *
    self, const gchar * host, gint port, gint limit);
static void gst_ebpf_relay_sink_remove (GstEbpfRelaySink * self,
    const gchar * host, gint port);
static void gst_ebpf_relay_sink_clear (GstEbpfRelaySink * self);
static GstStructure *gst_ebpf_relay_sink_get_stats (GstEbpfRelaySink * self,
    const gchar * host, gint port);

static void
gst_ebpf_relay_sink_class_init (GstEbpfRelaySinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_ebpf_relay_sink_set_property;
  gobject_class->get_property = gst_ebpf_relay_sink_get_property;
  gobject_class->finalize = gst_ebpf_relay_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "UDP port of the stream to relay (0 = the port of the upstream "
          "udpsrc; without a udpsrc upstream, a port the kernel chooses, "
          "read back here while running: copies leave from it)", 0, 65535,
          DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INTERFACES,
      g_param_spec_string ("interfaces", "Interfaces",
          "Comma-separated interfaces where the stream arrives and the kernel "
          "program is attached (NULL = every non-loopback interface that is "
          "up). Only with a udpsrc upstream: other buffers reach the kernel "
          "on lo", DEFAULT_INTERFACES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CLIENTS,
      g_param_spec_string ("clients", "Clients",
          "Comma-separated list of host:port[@limit|@auto][/rtcp-port|/mux] "
          "subscribers (host: IPv4, [IPv6] in brackets or a name; limit 0-7, "
          "default 0: a subscriber gets the packets "
          "whose priority is at least its limit; auto: the relay moves its "
          "limit from its receiver reports and NACKs, needs rtcp-port; "
          "rtcp-port: where its RTCP "
          "goes, default port + 1, mux = the media port); changes while "
          "PLAYING apply from the next packet (a changed limit per SSRC at "
          "its next frame start when raised, next key frame start when "
          "lowered)", DEFAULT_CLIENTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "Where packets are forwarded", GST_TYPE_EBPF_RELAY_MODE,
          DEFAULT_MODE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Relay statistics: mode in use, interfaces, kernel counters and "
          "one structure per client (as get-stats returns)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FRAMEMARKING_ID,
      ebpf_relay_param_spec_framemarking_id ());
  g_object_class_install_property (gobject_class, PROP_REWRITE_SEQ,
      g_param_spec_boolean ("rewrite-seq", "Rewrite sequence numbers",
          "Rewrite each subscriber's RTP sequence numbers (per SSRC) so that "
          "they stay contiguous across the packets dropped for its priority "
          "limit. Turn off for SRTP, whose authentication covers them",
          DEFAULT_REWRITE_SEQ, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_FOLLOW_LIMITS,
      g_param_spec_boolean ("follow-limits", "Follow limits",
          "In a relay tree (an ebpfprioritysrc relay=... upstream: this relay "
          "subscribes at another one), set that ebpfprioritysrc's "
          "priority-limit to the lowest limit of this relay's subscribers "
          "(7 while it has none), as they change (stats: upstream-limit)",
          DEFAULT_FOLLOW_LIMITS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PASS_ORIGINAL,
      g_param_spec_boolean ("pass-original", "Pass originals up",
          "Kernel mode: after the kernel's copies, pass every original "
          "packet up to the udpsrc (the pipeline sees the stream). false: "
          "from the first buffer on, the kernel consumes the packets it "
          "forwards (the last copy is the packet itself, no clone) and "
          "userspace wakes only to send what the kernel cannot; "
          "buffers-in then stops counting, kernel-consumed counts instead",
          DEFAULT_PASS_ORIGINAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_CONTROL_PORT,
      g_param_spec_uint ("control-port", "Control port",
          "UDP port of the subscription channel (0 = none): ebpfprioritysrc "
          "relay=HOST:PORT subscribes there with its priority limit, after "
          "proving with a cookie that it receives at its address",
          0, 65535, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SUBSCRIBER_TIMEOUT,
      g_param_spec_uint ("subscriber-timeout", "Subscriber timeout",
          "Seconds after which a subscriber of the channel that stopped "
          "refreshing is removed", 1, 3600,
          RELAY_CONTROL_DEFAULT_TIMEOUT_MS / 1000,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Max clients",
          "Most subscribers the channel accepts (0 = no bound)", 0,
          RELAY_MAX_SUBS, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Shared secret a subscription must carry (NULL = none; at most 64 "
          "bytes, a longer one fails the start)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  relay_publisher_install_properties (gobject_class, PROP_PUBLISHER);
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Statistics interval",
          "Every this many ms, post the stats structure as an element "
          "message on the bus and notify::stats (0 = never); while "
          "running, each change of a subscriber's limit, path or state is "
          "posted as ebpfrelaysink-client-changed anyway", 0, G_MAXINT,
          DEFAULT_STATS_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_METRICS_PORT,
      g_param_spec_uint ("metrics-port", "Metrics port",
          "TCP port of a Prometheus endpoint (GET /metrics: the stats as "
          "Prometheus or OpenMetrics text) on metrics-address (0 = none); "
          "a port in use fails the start", 0, 65535, DEFAULT_METRICS_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_METRICS_ADDRESS,
      g_param_spec_string ("metrics-address", "Metrics address",
          "IP address the Prometheus endpoint listens on (metrics-port); "
          "not an IP address: the start fails", DEFAULT_METRICS_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  relay_feedback_install_properties (gobject_class, PROP_FEEDBACK);
  relay_udp_opts_install_properties (gobject_class, PROP_UDPOPTS);

  /**
   * GstEbpfRelaySink::add:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's IPv4 or IPv6 address (brackets optional) or
   *   host name
   * @port: the subscriber's UDP port
   *
   * Adds a subscriber, with priority limit 0. Adding one that is there
   * already counts it again, as multiudpsink does: with
   * #GstEbpfRelaySink:send-duplicates (the default) it then gets each
   * packet once per add (the extra copies from userspace), and its
   * priority limit stays; it goes when removed as often. From the next
   * packet on, the subscriber gets every packet its limit lets through.
   * Emits #GstEbpfRelaySink::client-added every time.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_ADD] =
      g_signal_new_class_handler ("add", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_ebpf_relay_sink_add),
      NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::add-full:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's IPv4 or IPv6 address (brackets optional) or
   *   host name
   * @port: the subscriber's UDP port
   * @limit: its priority limit, 0-7
   * @rtcp_port: -1 = @port + 1, 0 = @port (rtcp-mux), or 1-65535
   *
   * As #GstEbpfRelaySink::add, with a limit and an RTCP port (an existing
   * one takes both). Returns: %FALSE, with a warning, when not added. */
  g_signal_new_class_handler ("add-full", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_ebpf_relay_sink_add_full), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 4, G_TYPE_STRING, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::remove:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's address
   * @port: the subscriber's port
   *
   * Removes a subscriber (see #GstEbpfRelaySink::add).
   */
  gst_ebpf_relay_sink_signals[SIGNAL_REMOVE] =
      g_signal_new_class_handler ("remove", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_ebpf_relay_sink_remove), NULL, NULL, NULL, G_TYPE_NONE, 2,
      G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::clear:
   * @ebpfrelaysink: the sink
   *
   * Removes every subscriber; as multiudpsink's, emits no
   * #GstEbpfRelaySink::client-removed.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_CLEAR] =
      g_signal_new_class_handler ("clear", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_ebpf_relay_sink_clear), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstEbpfRelaySink::get-stats:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's address
   * @port: the subscriber's port
   *
   * Returns: (transfer full): a structure with `host`, `port`, `path`
   * ("kernel" or "userspace": who serves it now), `priority-limit`,
   * `kernel-packets`, `kernel-bytes` (sent by the kernel), `user-packets`,
   * `user-bytes`, `user-errors` (sent from userspace), `packets` and
   * `bytes` (both together; bytes are UDP payload bytes), `rtcp-port`
   * (where its RTCP goes, 0: nowhere), the `rtcp-*` of its RTCP,
   * `priority-dropped` (packets not sent to it because their priority was
   * below its limit), `limit-in-force` and `limit-pending` (the limit that
   * decides its packets, and the requested `priority-limit` while a
   * switch to it waits for its boundary; -1: none), `auto` (an adaptive
   * subscriber), `auto-switches` and `auto-reason` (its automatic
   * switches, the last one's reason); and multiudpsink's `bytes-sent`,
   * `packets-sent` (each copy, the kernel's and userspace's),
   * `connect-time` and `disconnect-time` (real time in ns; 0 while it
   * is there). Also answers in a #GstEbpfRelaySink::client-removed
   * handler for the client removed. An unknown client: an empty
   * structure, as multiudpsink's.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_GET_STATS] =
      g_signal_new_class_handler ("get-stats", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_ebpf_relay_sink_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 2, G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::set-priority-limit:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's address
   * @port: the subscriber's port
   * @limit: the priority limit, 0-7
   *
   * Sets a subscriber's priority limit: it receives exactly the packets
   * whose priority is @limit or more (0: every packet), per SSRC from its
   * next frame start (a new RTP timestamp) when the limit is raised, from
   * its next key frame start when it is lowered (the relay asks the
   * sender for a key frame at once), never from inside a frame
   * (`bpf/switch.h`; get-stats: `limit-in-force`, `limit-pending`). Its
   * sequence numbers stay contiguous across the change.
   * An adaptive subscriber (`@auto`) goes on adapting from there.
   *
   * Returns: %TRUE when set, %FALSE for an unknown client or a limit out
   * of range.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_SET_PRIORITY_LIMIT] =
      g_signal_new_class_handler ("set-priority-limit",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_ebpf_relay_sink_set_priority_limit), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 3, G_TYPE_STRING, G_TYPE_INT, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::client-added:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's address
   * @port: the subscriber's port
   *
   * A subscriber was added: emitted on every #GstEbpfRelaySink::add (also
   * of one already there, counted again), for every entry of a
   * #GstEbpfRelaySink:clients value (which, as multiudpsink's, emits no
   * client-removed for the ones it drops), and for each subscription of
   * the channel (#GstEbpfRelaySink:control-port).
   */
  gst_ebpf_relay_sink_signals[SIGNAL_CLIENT_ADDED] =
      g_signal_new ("client-added", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT);
  /**
   * GstEbpfRelaySink::client-removed:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's address
   * @port: the subscriber's port
   *
   * A subscriber was removed: by the #GstEbpfRelaySink::remove that
   * undoes its last add (as multiudpsink's, which keeps a count per
   * client), or its subscription ended. Not for
   * #GstEbpfRelaySink::clear nor a #GstEbpfRelaySink:clients change.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_CLIENT_REMOVED] =
      g_signal_new ("client-removed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_INT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "eBPF kernel relay sink", "Sink/Network",
      "Relays a UDP stream to many subscribers from a TC eBPF program, "
      "in the kernel before userspace reads it. Example: gst-launch-1.0 "
      "udpsrc port=5004 ! ebpfrelaysink clients=10.0.0.2:6000,10.0.0.3:6000",
      "gst-ebpf-relay developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_ebpf_relay_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_ebpf_relay_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_ebpf_relay_sink_render);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_ebpf_relay_sink_set_caps);

  gst_type_mark_as_plugin_api (GST_TYPE_EBPF_RELAY_MODE, 0);
  GST_DEBUG_CATEGORY_INIT (gst_ebpf_relay_sink_debug, "ebpfrelaysink", 0,
      "eBPF kernel relay sink");
}

/* What the subscriber table and the sender report, into our category. */
static void
relay_log (GLogLevelFlags level, const gchar * message, gpointer user_data)
{
  GstDebugLevel l = GST_LEVEL_LOG;

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    l = GST_LEVEL_WARNING;
  else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    l = GST_LEVEL_INFO;
  else if (level & G_LOG_LEVEL_DEBUG)
    l = GST_LEVEL_DEBUG;
  GST_CAT_LEVEL_LOG (GST_CAT_DEFAULT, l, user_data, "%s", message);
}

/* What the watch posts when a subscriber changes (with the lock). */
static void
post_client_change (GstEbpfRelaySink * self, RelayClient * c,
    const gchar * change, const gchar * state)
{
  relay_watch_post (self->watch,
      gst_structure_new ("ebpfrelaysink-client-changed",
          "change", G_TYPE_STRING, change,
          "host", G_TYPE_STRING, c->host,
          "port", G_TYPE_INT, c->port,
          "state", G_TYPE_STRING, state,
          "path", G_TYPE_STRING, relay_clients_path (self->table, c),
          "priority-limit", G_TYPE_INT, (gint) c->limit, NULL));
}

/* The subscriber table's callbacks. */
static void
on_client_changed (RelayClient * c, RelayClientChange what, gpointer user_data)
{
  GstEbpfRelaySink *self = user_data;

  post_client_change (self, c, what == RELAY_CLIENT_CHANGE_LIMIT ?
      "limit" : "path", "added");
  if (what == RELAY_CLIENT_CHANGE_LIMIT)
    relay_tree_update (self->tree, self->table);
}

static void
on_client_added (RelayClient * c, gpointer user_data)
{
  GstEbpfRelaySink *self = user_data;

  GST_EBPF_RELAY_SINK_LOCK (self);
  relay_udp_opts_group_added (self->udpopts, &c->addr);
  post_client_change (self, c, "state", "added");
  relay_tree_update (self->tree, self->table);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  relay_feedback_client_added (GST_EBPF_RELAY_SINK (user_data)->feedback, c);
}

static void
on_client_removed (RelayClient * c, gpointer user_data)
{
  GstEbpfRelaySink *self = user_data;

  GST_EBPF_RELAY_SINK_LOCK (self);
  relay_udp_opts_group_removed (self->udpopts, &c->addr);
  post_client_change (self, c, "state", "removed");
  relay_tree_update (self->tree, self->table);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  relay_feedback_client_removed (GST_EBPF_RELAY_SINK (user_data)->feedback, c);
}

/* multiudpsink's client-added / client-removed (ebpfrelay-clients.h says
 * when; without the lock). */
static void
on_client_signal (const gchar * host, gint port, gboolean added,
    gpointer user_data)
{
  g_signal_emit (user_data, gst_ebpf_relay_sink_signals[added ?
          SIGNAL_CLIENT_ADDED : SIGNAL_CLIENT_REMOVED], 0, host, port);
}

static void
on_client_refused (const GError * err, const gchar * clients,
    gpointer user_data)
{
  GST_ELEMENT_WARNING (user_data, RESOURCE, SETTINGS,
      ("Client not added: %s", err->message), ("clients=%s", clients));
}

static void
on_limit_lowered (RelayClient * c, gpointer user_data)
{
  relay_feedback_limit_lowered (GST_EBPF_RELAY_SINK (user_data)->feedback, c);
}

/* An adaptive subscriber's limit moved: an element message (no lock). */
static void
on_limit_switched (const gchar * host, gint port, guint from, guint to,
    const gchar * reason, gpointer user_data)
{
  gst_element_post_message (GST_ELEMENT (user_data),
      gst_message_new_element (GST_OBJECT (user_data),
          gst_structure_new ("ebpfrelaysink-limit",
              "host", G_TYPE_STRING, host, "port", G_TYPE_INT, port,
              "from", G_TYPE_UINT, from, "to", G_TYPE_UINT, to,
              "reason", G_TYPE_STRING, reason, NULL)));
}

static const RelayClientsCallbacks table_callbacks = {
  on_client_added, on_client_removed, on_client_refused, relay_log,
  on_limit_lowered, on_client_changed, on_client_signal
};

static void
gst_ebpf_relay_sink_init (GstEbpfRelaySink * self)
{
  self->port = DEFAULT_PORT;
  self->interfaces = g_strdup (DEFAULT_INTERFACES);
  self->mode = DEFAULT_MODE;
  self->subscriber_timeout = RELAY_CONTROL_DEFAULT_TIMEOUT_MS / 1000;
  self->framemarking_id = EBPF_RELAY_DEFAULT_FRAMEMARKING_ID;
  self->rewrite_seq = DEFAULT_REWRITE_SEQ;
  self->pass_original = DEFAULT_PASS_ORIGINAL;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->metrics_port = DEFAULT_METRICS_PORT;
  self->metrics_address = g_strdup (DEFAULT_METRICS_ADDRESS);
  self->wake_fd = -1;
  g_mutex_init (&self->lock);
  self->table = relay_clients_new (&self->lock, &table_callbacks, self);
  self->sender = relay_sender_new (self->table, relay_log, self);
  self->feedback = relay_feedback_new (&self->lock, self->table, self->sender,
      relay_log, self);
  relay_feedback_set_switch_notify (self->feedback, on_limit_switched, self);
  self->publisher = relay_publisher_new (self->feedback);
  self->own_fd = -1;
  self->local = relay_local_new ();
  self->udpopts = relay_udp_opts_new (GST_ELEMENT (self), self->table);
  relay_sender_set_socket_func (self->sender, relay_udp_opts_socket_func,
      self->udpopts);
  self->tree = relay_tree_new ();
  self->follow_limits = DEFAULT_FOLLOW_LIMITS;
  g_weak_ref_init (&self->udpsrc, NULL);
  /* A relay forwards as soon as a packet is there, whatever its timestamp
   * (multiudpsink syncs by default: a relay's buffers are a live stream
   * already paced by its sender; waiting for their timestamps would only
   * add delay, and packets the kernel forwarded never wait). */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* and keeps no reference to the last packet */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}

static void
gst_ebpf_relay_sink_finalize (GObject * object)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (object);

  relay_publisher_free (self->publisher);
  relay_feedback_free (self->feedback);
  relay_local_free (self->local);
  relay_tree_free (self->tree);
  relay_sender_free (self->sender);
  relay_udp_opts_free (self->udpopts);
  relay_clients_free (self->table);
  g_free (self->interfaces);
  g_free (self->token);
  g_free (self->metrics_address);
  g_weak_ref_clear (&self->udpsrc);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* --- priority configuration --------------------------------------------- */

static guint8
effective_fm_id (GstEbpfRelaySink * self)
{
  return self->framemarking_id ? self->framemarking_id : self->caps_fm_id;
}

/* Hands the codec table and the frame marking id to the sender and the
 * kernel. */
static void
apply_priority_config (GstEbpfRelaySink * self)
{
  relay_sender_set_priority (self->sender, self->codec_by_pt,
      effective_fm_id (self), self->rewrite_seq);
  if (self->kernel && !relay_kernel_set_priority_config (self->kernel,
          self->codec_by_pt, effective_fm_id (self), self->rewrite_seq))
    GST_WARNING_OBJECT (self, "cannot write the kernel's configuration: %s",
        g_strerror (errno));
}

/* The codec of each payload type and the frame marking id, from caps
 * (application/x-rtp: payload, encoding-name, extmap-N). With the lock. */
void
gst_ebpf_relay_sink_priority_from_caps (GstEbpfRelaySink * self,
    const GstCaps * caps)
{
  ebpf_relay_priority_from_caps (caps, self->codec_by_pt, &self->caps_fm_id);
  relay_feedback_set_caps (self->feedback, caps);
  GST_DEBUG_OBJECT (self, "priorities from caps %" GST_PTR_FORMAT
      ": frame marking id %u", caps, self->caps_fm_id);
  apply_priority_config (self);
}

static gboolean
gst_ebpf_relay_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);

  GST_EBPF_RELAY_SINK_LOCK (self);
  gst_ebpf_relay_sink_priority_from_caps (self, caps);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return TRUE;
}

/* --- forwarding ------------------------------------------------------------- */

/* With the lock held: tell the kernel whether to consume the packets it
 * forwards (pass-original=false, once the first buffer came up). */
static void
apply_consume (GstEbpfRelaySink * self)
{
  if (self->kernel && self->buffers_in > 0)
    relay_kernel_set_consume (self->kernel, !self->pass_original);
}

static GstFlowReturn
gst_ebpf_relay_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);
  RelayPublisherVerdict verdict;
  gboolean warn;
  GstMapInfo map;
  guint8 head[2];

  /* As multiudpsink: a buffer without memory sends nothing, one whose
   * memories hold no byte an empty datagram to every client (from
   * userspace: nothing in it for the kernel's priority or sequence
   * rewriting). */
  if (G_UNLIKELY (gst_buffer_get_size (buffer) == 0)) {
    if (gst_buffer_n_memory (buffer) > 0) {
      GST_EBPF_RELAY_SINK_LOCK (self);
      relay_sender_send_all (self->sender, (const guint8 *) "", 0);
      GST_EBPF_RELAY_SINK_UNLOCK (self);
    }
    return GST_FLOW_OK;
  }
  /* Held across the send: see the struct. */
  GST_EBPF_RELAY_SINK_LOCK (self);
  /* multiudpsink's bytes-to-serve: what came while there were clients */
  if (self->table->clients->len > 0)
    relay_udp_opts_count (self->udpopts, gst_buffer_get_size (buffer));
  if (G_UNLIKELY (self->buffers_in++ == 0)) {
    relay_sink_use_udpsrc_socket (self);
    /* The pipeline has its first buffer: the kernel may consume the rest. */
    apply_consume (self);
  }
  /* Only what may be published (ebpfrelay-publisher.h) */
  verdict = relay_publisher_check (self->publisher, buffer,
      gst_buffer_extract (buffer, 0, head, 2) == 2 && sw_is_rtcp (head, 2),
      &warn);
  if (self->kernel)
    relay_clients_set_stream_family (self->table,
        relay_publisher_family (self->publisher));
  if (verdict == RELAY_PUBLISHER_REJECT) {
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    return GST_FLOW_OK;
  }
  if (relay_local_is_open (self->local)) {
    /* not through the hook (ebpfrelay-local): sent once to the kernel on
     * lo, or from here (which it reports itself) */
    if (!relay_feedback_render (self->feedback, buffer) &&
        gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      gchar *why = relay_local_render (self->local, self->sender, map.data,
          map.size);

      gst_buffer_unmap (buffer, &map);
      if (why)
        GST_ELEMENT_WARNING (self, STREAM, FAILED, ("%s", why),
            ("the kernel could not take it (stats: local-userspace)"));
      g_free (why);
    }
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    return GST_FLOW_OK;
  }
  /* (RTCP, RFC 5761, is the feedback plane's and never media) */
  if (verdict == RELAY_PUBLISHER_UNHOOKED) {
    if (!relay_feedback_render (self->feedback, buffer) &&
        gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      relay_sender_send_all (self->sender, map.data, map.size);
      gst_buffer_unmap (buffer, &map);
    }
  } else if (!relay_feedback_render (self->feedback, buffer) &&
      relay_sender_wants (self->sender, gst_buffer_get_size (buffer)) &&
      gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    relay_sender_send (self->sender, map.data, map.size);
    gst_buffer_unmap (buffer, &map);
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  /* (without the lock: a sync bus handler may call us) */
  if (G_UNLIKELY (warn))
    GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED,
        ("Buffers that did not come through the kernel hook (from this "
            "host, or without a sender address) are sent from userspace, "
            "to every subscriber, without priority drops"),
        ("kernel mode: unhooked-sent in stats counts them"));
  return GST_FLOW_OK;
}

/* --- subscribers ------------------------------------------------------------ */

static gboolean
add_client (GstEbpfRelaySink * self, const gchar * host, gint port,
    gint limit, gint rtcp_port, gboolean set)
{
  GError *err = NULL;

  if (relay_clients_add_host_full (self->table, host, port, limit, rtcp_port,
          set, &err))
    return TRUE;
  GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("Client not added: %s",
          err->message), ("%s (%s, %d, %d, %d)", set ? "add-full" : "add",
          GST_STR_NULL (host), port, limit, rtcp_port));
  g_clear_error (&err);
  return FALSE;
}

static void
gst_ebpf_relay_sink_add (GstEbpfRelaySink * self, const gchar * host, gint port)
{
  add_client (self, host, port, 0, RELAY_CLIENT_RTCP_DEFAULT, FALSE);
}

static gboolean
gst_ebpf_relay_sink_add_full (GstEbpfRelaySink * self, const gchar * host,
    gint port, gint limit, gint rtcp_port)
{
  return add_client (self, host, port, limit, rtcp_port, TRUE);
}

static gboolean
gst_ebpf_relay_sink_set_priority_limit (GstEbpfRelaySink * self,
    const gchar * host, gint port, gint limit)
{
  GError *err = NULL;
  gboolean ok = relay_clients_set_limit_host (self->table, host, port, limit,
      &err);

  if (!ok)
    GST_WARNING_OBJECT (self, "set-priority-limit (%s, %d, %d): %s",
        GST_STR_NULL (host), port, limit, err->message);
  g_clear_error (&err);
  return ok;
}

static void
gst_ebpf_relay_sink_remove (GstEbpfRelaySink * self, const gchar * host,
    gint port)
{
  if (!relay_clients_remove_host (self->table, host, port))
    GST_WARNING_OBJECT (self, "remove: no client %s:%d", host, port);
}

static void
gst_ebpf_relay_sink_clear (GstEbpfRelaySink * self)
{
  relay_clients_remove_all (self->table);
}

/* Replaces the client set by @str: clients in both keep their slot (and
 * get every packet across the change), the others are removed or added.
 * An invalid value is remembered: starting fails with it. */
static void
set_clients (GstEbpfRelaySink * self, const gchar * str)
{
  GError *err = NULL;
  gboolean running, ok;
  gchar *dups;

  ok = relay_clients_set_string (self->table, str, &err);
  GST_EBPF_RELAY_SINK_LOCK (self);
  running = self->table->running || GST_STATE (self) >= GST_STATE_READY;
  dups = g_strdup (self->table->clients_duplicates);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (!ok && running)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Invalid clients, kept the previous ones: %s", err->message),
        ("clients=%s", str));
  /* As multiudpsink: an entry repeated counts the subscriber again
   * (send-duplicates), with the first entry's limit and RTCP port. */
  if (ok && dups)
    GST_DEBUG_OBJECT (self, "clients: repeated entries %s", dups);
  g_free (dups);
  g_clear_error (&err);
}

/* --- starting and stopping (ebpfrelaysink-start) ---------------------------- */

static gboolean
gst_ebpf_relay_sink_start (GstBaseSink * sink)
{
  return relay_sink_start (GST_EBPF_RELAY_SINK (sink));
}

static gboolean
gst_ebpf_relay_sink_stop (GstBaseSink * sink)
{
  relay_sink_stop (GST_EBPF_RELAY_SINK (sink));
  return TRUE;
}

/* --- statistics ----------------------------------------------------------- */

static GstStructure *
gst_ebpf_relay_sink_get_stats (GstEbpfRelaySink * self, const gchar * host,
    gint port)
{
  GstStructure *s = ebpf_relay_stats_client_host (self->table, host, port,
      self->feedback);

  if (s)
    return s;
  /* as multiudpsink: an empty structure (bindings cope better than with
   * NULL) */
  GST_WARNING_OBJECT (self, "get-stats: no client %s:%d", GST_STR_NULL (host),
      port);
  return gst_structure_new_empty ("application/x-ebpfrelaysink-client-stats");
}

GstStructure *
gst_ebpf_relay_sink_all_stats (GstEbpfRelaySink * self)
{
  GstStructure *s;

  GST_EBPF_RELAY_SINK_LOCK (self);
  s = ebpf_relay_stats_all (self->table, self->kernel, self->sender,
      self->control, self->feedback, self->buffers_in);
  relay_local_add_stats (self->local, s, self->kernel);
  relay_publisher_add_stats (self->publisher, s);
  relay_tree_add_stats (self->tree, s);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return s;
}

/* --- properties ------------------------------------------------------------ */

static void
gst_ebpf_relay_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (object);

  /* (takes the lock itself, and emits signals without it) */
  if (prop_id == PROP_CLIENTS) {
    set_clients (self, g_value_get_string (value));
    return;
  }
  GST_EBPF_RELAY_SINK_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_INTERFACES:
      g_free (self->interfaces);
      self->interfaces = g_value_dup_string (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_FRAMEMARKING_ID:
      self->framemarking_id = g_value_get_uint (value);
      apply_priority_config (self);
      break;
    case PROP_REWRITE_SEQ:
      self->rewrite_seq = g_value_get_boolean (value);
      /* (the kernel takes it at start) */
      relay_sender_set_priority (self->sender, self->codec_by_pt,
          effective_fm_id (self), self->rewrite_seq);
      break;
    case PROP_FOLLOW_LIMITS:
      self->follow_limits = g_value_get_boolean (value);
      break;
    case PROP_PASS_ORIGINAL:
      self->pass_original = g_value_get_boolean (value);
      apply_consume (self);
      break;
    case PROP_CONTROL_PORT:
      self->control_port = g_value_get_uint (value);
      break;
    case PROP_SUBSCRIBER_TIMEOUT:
      self->subscriber_timeout = g_value_get_uint (value);
      relay_sink_apply_control_settings (self);
      break;
    case PROP_MAX_CLIENTS:
      self->max_clients = g_value_get_uint (value);
      relay_sink_apply_control_settings (self);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    case PROP_METRICS_PORT:
      self->metrics_port = g_value_get_uint (value);
      break;
    case PROP_METRICS_ADDRESS:
      g_free (self->metrics_address);
      self->metrics_address = g_value_dup_string (value);
      break;
    case PROP_TOKEN:{
      const gchar *token = g_value_get_string (value);
      gsize len = token ? strlen (token) : 0;

      /* Too long: refused now while running (the channel keeps the old
       * one), at start otherwise. */
      if (len > RELAY_CONTROL_MAX_TOKEN && (self->table->running
              || GST_STATE (self) >= GST_STATE_READY)) {
        GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
            ("token is %" G_GSIZE_FORMAT " bytes long; at most %d are "
                "allowed: kept the previous one", len,
                RELAY_CONTROL_MAX_TOKEN), ("token property"));
        break;
      }
      g_free (self->token);
      self->token = g_strdup (token);
      relay_sink_apply_control_settings (self);
      break;
    }
    default:
      if (prop_id >= PROP_UDPOPTS) {
        relay_udp_opts_set_property (self->udpopts, prop_id - PROP_UDPOPTS,
            value);
        if (prop_id - PROP_UDPOPTS == RELAY_UDP_OPT_MULTICAST_IFACE)
          relay_clients_set_group_ifindex (self->table,
              relay_udp_opts_multicast_ifindex (self->udpopts));
      }
      else if (prop_id >= PROP_FEEDBACK)
        relay_feedback_set_property (self->feedback, prop_id - PROP_FEEDBACK,
            value);
      else if (prop_id >= PROP_PUBLISHER)
        relay_publisher_set_property (self->publisher,
            prop_id - PROP_PUBLISHER, value);
      break;
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
}

static void
gst_ebpf_relay_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_ebpf_relay_sink_all_stats (self));
    return;
  }
  GST_EBPF_RELAY_SINK_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      /* (0 while running without a udpsrc: the port bound) */
      g_value_set_int (value, self->port ? self->port :
          relay_local_port (self->local));
      break;
    case PROP_INTERFACES:
      g_value_set_string (value, self->interfaces);
      break;
    case PROP_CLIENTS:
      g_value_take_string (value, relay_clients_to_string (self->table));
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_FRAMEMARKING_ID:
      g_value_set_uint (value, self->framemarking_id);
      break;
    case PROP_REWRITE_SEQ:
      g_value_set_boolean (value, self->rewrite_seq);
      break;
    case PROP_FOLLOW_LIMITS:
      g_value_set_boolean (value, self->follow_limits);
      break;
    case PROP_PASS_ORIGINAL:
      g_value_set_boolean (value, self->pass_original);
      break;
    case PROP_CONTROL_PORT:
      g_value_set_uint (value, self->control_port);
      break;
    case PROP_SUBSCRIBER_TIMEOUT:
      g_value_set_uint (value, self->subscriber_timeout);
      break;
    case PROP_MAX_CLIENTS:
      g_value_set_uint (value, self->max_clients);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, self->stats_interval);
      break;
    case PROP_METRICS_PORT:
      g_value_set_uint (value, self->metrics_port);
      break;
    case PROP_METRICS_ADDRESS:
      g_value_set_string (value, self->metrics_address);
      break;
    default:
      if (prop_id >= PROP_UDPOPTS) {
        if (self->table->running)
          relay_sink_update_used_sockets (self);
        relay_udp_opts_get_property (self->udpopts, prop_id - PROP_UDPOPTS,
            value);
      } else if (prop_id >= PROP_FEEDBACK)
        relay_feedback_get_property (self->feedback, prop_id - PROP_FEEDBACK,
            value);
      else if (prop_id >= PROP_PUBLISHER)
        relay_publisher_get_property (self->publisher,
            prop_id - PROP_PUBLISHER, value);
      break;
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
}
