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
 * the stream's port, in every mode.
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
 * By default every original packet also goes up to `udpsrc` after the
 * kernel's copies (#GstEbpfRelaySink:pass-original): the pipeline sees the
 * stream. With pass-original=false, from the first buffer on the kernel
 * consumes what it forwards: the last copy is the packet itself, and the
 * relay's userspace wakes only for what it must send, which removes its
 * per-packet CPU and a socket delivery from every packet's path.
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
 * gst-launch-1.0 udpsrc port=5004 caps="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000" ! ebpfrelaysink clients=10.200.11.2:6000,10.200.12.2:6000@6,10.200.13.2:6000@7
 * ]| An H.264 stream: the first subscriber gets everything, the second
 * only reference frames (NRI 2 and 3), the third only IDR and parameter
 * sets (NRI 3), each with contiguous sequence numbers.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <gio/gio.h>

#include "gstebpfrelaysink.h"
#include "gstebpfrelayelements.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-route.h"
#include "ebpfrelay-control.h"
#include "ebpfrelay-caps.h"
#include "priority.h"

GST_DEBUG_CATEGORY_STATIC (gst_ebpf_relay_sink_debug);
#define GST_CAT_DEFAULT gst_ebpf_relay_sink_debug

#define DEFAULT_PORT 0
#define DEFAULT_INTERFACES NULL
#define DEFAULT_CLIENTS NULL
#define DEFAULT_MODE GST_EBPF_RELAY_MODE_AUTO
#define DEFAULT_FRAMEMARKING_ID 0
#define DEFAULT_REWRITE_SEQ TRUE
#define DEFAULT_PASS_ORIGINAL TRUE


/* How soon to look again at a subscriber the kernel cannot serve yet:
 * quickly while its neighbour entry is being resolved, slowly otherwise. */
#define RESOLVE_RETRY_NEIGH_US (20 * G_TIME_SPAN_MILLISECOND)
#define RESOLVE_RETRY_OTHER_US (1 * G_TIME_SPAN_SECOND)
/* How often a kernel-served subscriber's route and MAC are checked again,
 * and how many such checks one wake-up of the kernel-mode thread may pay
 * for; it wakes for each event and at least every KERNEL_TICK_MS. */
#define REVALIDATE_US (2 * G_TIME_SPAN_SECOND)
#define REVALIDATE_PER_WAKE 64
#define KERNEL_TICK_MS 50
#define SEND_BATCH 64

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
  PROP_CONTROL_PORT,
  PROP_SUBSCRIBER_TIMEOUT,
  PROP_MAX_CLIENTS,
  PROP_TOKEN,
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

typedef struct
{
  gchar *host;
  gint port;
  struct sockaddr_in addr;
  guint add_count;
  guint slot;
  gboolean in_kernel;           /* slot state is KERNEL */
  gboolean slot_written;        /* the kernel's slot holds this client */
  RelayRouteResult route;       /* last look-up */
  RelayRoute resolved;          /* what the slot holds when in_kernel */
  gint64 next_check;            /* monotonic µs */
  guint8 limit;                 /* priority limit: gets priority >= limit */
  guint64 user_packets, user_bytes, user_errors;
  /* userspace mode: packets dropped for priority, in all and per SSRC
   * (GUINT_TO_POINTER (ssrc) -> GUINT_TO_POINTER (count)) */
  guint64 user_prio_dropped;
  GHashTable *seq_dropped;
} Client;

struct _GstEbpfRelaySink
{
  GstBaseSink parent;

  /* properties */
  gint port;
  gchar *interfaces;
  GstEbpfRelayMode mode;
  gboolean rewrite_seq;
  gboolean pass_original;
  guint control_port;
  guint subscriber_timeout;     /* seconds */
  guint max_clients;
  gchar *token;

  GMutex lock;                  /* everything below */
  RelayControlServer *control;  /* the subscription channel, if control-port */
  guint framemarking_id;        /* property; 0: from the caps */
  guint8 caps_fm_id;            /* from the caps' extmap-N */
  guint8 codec_by_pt[PRIO_N_PT];        /* enum prio_codec, from the caps */
  GHashTable *vp8_state;        /* userspace mode: ssrc -> prio_vp8_state */
  gchar *clients_error;         /* why the last clients value was refused */
  GPtrArray *clients;           /* of Client*, in the order added */
  Client *slots[RELAY_MAX_SUBS];
  guint n_slots;
  gboolean running;
  guint16 cur_port;
  RelayKernel *kernel;          /* NULL: userspace forwarding */
  RelayRouter *router;
  GWeakRef udpsrc;              /* upstream udpsrc, if that is what feeds us */
  GSocket *used_socket;         /* its socket, to send from the stream's port */
  int send_fd;
  int own_fd;
  guint revalidate_next;
  guint64 buffers_in;
  /* kernel mode: fragmented datagrams the kernel handed up (first
   * fragment's event), waiting for the datagram to reach the socket */
  GQueue frag_pending;          /* of FragPending* */
  gsize frag_min_len;           /* a datagram up to this long cannot have
                                 * come fragmented (attached MTUs) */
  guint64 frag_unsent;          /* records that expired unmatched */
  /* kernel mode: the thread that sends what the kernel hands up (events)
   * and moves subscribers to the kernel; wake_fd (an eventfd) stops it */
  GThread *kernel_thread;
  int wake_fd;

  /* scratch for sendmmsg: a copy is the packet, or the packet with
   * another RTP sequence number (3 pieces) */
  const guint8 *send_data;
  gsize send_len;
  guint n_queued;
  Client *queued[SEND_BATCH];
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iovs[SEND_BATCH][3];
  guint8 seqs[SEND_BATCH][2];
};

/* A fragmented datagram the kernel left to userspace for some subscribers:
 * known by its length and first bytes until it comes up whole. */
#define FRAG_PREFIX 64
#define FRAG_PENDING_MAX 64
#define FRAG_PENDING_US (2 * G_TIME_SPAN_SECOND)
typedef struct
{
  gint64 since;
  guint16 len, prefix_len;
  guint8 prefix[FRAG_PREFIX];
  guint32 flags;
  guint n;
  struct relay_event_entry entries[];
} FragPending;

#define GST_EBPF_RELAY_SINK_LOCK(s) g_mutex_lock (&(s)->lock)
#define GST_EBPF_RELAY_SINK_UNLOCK(s) g_mutex_unlock (&(s)->lock)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_ebpf_relay_sink_parent_class parent_class
G_DEFINE_TYPE (GstEbpfRelaySink, gst_ebpf_relay_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (ebpfrelaysink, "ebpfrelaysink",
    GST_RANK_NONE, GST_TYPE_EBPF_RELAY_SINK, ebpf_relay_element_init (plugin));

GType
gst_ebpf_relay_mode_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_EBPF_RELAY_MODE_AUTO,
        "Kernel forwarding, userspace with a warning if BPF is unavailable",
        "auto"},
    {GST_EBPF_RELAY_MODE_KERNEL, "Kernel forwarding only, error otherwise",
        "kernel"},
    {GST_EBPF_RELAY_MODE_USERSPACE, "Userspace forwarding only (no BPF)",
        "userspace"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstEbpfRelayMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

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
          "udpsrc)", 0, 65535, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INTERFACES,
      g_param_spec_string ("interfaces", "Interfaces",
          "Comma-separated interfaces where the stream arrives and the kernel "
          "program is attached (NULL = every non-loopback interface that is "
          "up)", DEFAULT_INTERFACES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CLIENTS,
      g_param_spec_string ("clients", "Clients",
          "Comma-separated list of host:port or host:port@limit subscribers "
          "(limit 0-7, default 0: a subscriber gets the packets whose "
          "priority is at least its limit); changes while PLAYING apply "
          "from the next packet", DEFAULT_CLIENTS,
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
      g_param_spec_uint ("framemarking-id", "Frame marking extension id",
          "RTP header extension id of RFC 9626 frame marking, whose I, D and "
          "TID bits give packets their priority (0 = the id the caps name in "
          "extmap-N=" FRAMEMARKING_URI ", if any; 1-14 one-byte or two-byte "
          "extension headers, 15-255 two-byte ones)", 0, 255,
          DEFAULT_FRAMEMARKING_ID, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_REWRITE_SEQ,
      g_param_spec_boolean ("rewrite-seq", "Rewrite sequence numbers",
          "Rewrite each subscriber's RTP sequence numbers (per SSRC) so that "
          "they stay contiguous across the packets dropped for its priority "
          "limit. Turn off for SRTP, whose authentication covers them",
          DEFAULT_REWRITE_SEQ, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
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
          "Shared secret a subscription must carry (NULL = none)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstEbpfRelaySink::add:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's IPv4 address or host name
   * @port: the subscriber's UDP port
   *
   * Adds a subscriber, with priority limit 0. Adding one that is there
   * already only counts it again (it still gets each packet once, and its
   * priority limit stays); it goes when removed as often. From the next
   * packet on, the subscriber gets every packet its limit lets through.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_ADD] =
      g_signal_new_class_handler ("add", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_ebpf_relay_sink_add),
      NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT);
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
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_ebpf_relay_sink_remove),
      NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::clear:
   * @ebpfrelaysink: the sink
   *
   * Removes every subscriber.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_CLEAR] =
      g_signal_new_class_handler ("clear", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_ebpf_relay_sink_clear),
      NULL, NULL, NULL,
      G_TYPE_NONE, 0);
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
   * `bytes` (both together; bytes are UDP payload bytes),
   * `priority-dropped` (packets not sent to it because their priority was
   * below its limit), or NULL for an unknown client.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_GET_STATS] =
      g_signal_new_class_handler ("get-stats", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_ebpf_relay_sink_get_stats),
      NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 2, G_TYPE_STRING, G_TYPE_INT);
  /**
   * GstEbpfRelaySink::set-priority-limit:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's address
   * @port: the subscriber's port
   * @limit: the priority limit, 0-7
   *
   * Sets a subscriber's priority limit: from the next packet on it
   * receives exactly the packets whose priority is @limit or more (0:
   * every packet). Its sequence numbers stay contiguous across the change.
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
   * A subscriber was added.
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
   * A subscriber was removed.
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

static void
gst_ebpf_relay_sink_init (GstEbpfRelaySink * self)
{
  self->port = DEFAULT_PORT;
  self->interfaces = g_strdup (DEFAULT_INTERFACES);
  self->mode = DEFAULT_MODE;
  self->subscriber_timeout = RELAY_CONTROL_DEFAULT_TIMEOUT_MS / 1000;
  self->framemarking_id = DEFAULT_FRAMEMARKING_ID;
  self->rewrite_seq = DEFAULT_REWRITE_SEQ;
  self->pass_original = DEFAULT_PASS_ORIGINAL;
  self->wake_fd = -1;
  self->vp8_state = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_mutex_init (&self->lock);
  self->clients = g_ptr_array_new ();
  self->send_fd = -1;
  self->own_fd = -1;
  g_weak_ref_init (&self->udpsrc, NULL);
  /* A relay forwards as soon as a packet is there, whatever its timestamp. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* and keeps no reference to the last packet */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}

static Client *
client_new (const gchar * host, gint port, const struct sockaddr_in *addr,
    guint8 limit)
{
  Client *c = g_new0 (Client, 1);

  c->host = g_strdup (host);
  c->port = port;
  if (addr)
    c->addr = *addr;
  c->limit = limit;
  c->add_count = 1;
  c->seq_dropped = g_hash_table_new (NULL, NULL);
  return c;
}

static void
client_free (Client * c)
{
  g_free (c->host);
  g_hash_table_destroy (c->seq_dropped);
  g_free (c);
}

static void
gst_ebpf_relay_sink_finalize (GObject * object)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (object);

  for (guint i = 0; i < self->clients->len; i++)
    client_free (g_ptr_array_index (self->clients, i));
  g_ptr_array_free (self->clients, TRUE);
  g_free (self->interfaces);
  g_free (self->clients_error);
  g_free (self->token);
  g_hash_table_destroy (self->vp8_state);
  g_weak_ref_clear (&self->udpsrc);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* --- subscriber addresses ------------------------------------------------ */

static gboolean
resolve_host (const gchar * host, gint port, struct sockaddr_in *addr,
    GError ** error)
{
  struct addrinfo hints = {.ai_family = AF_INET,.ai_socktype = SOCK_DGRAM };
  struct addrinfo *res = NULL;
  struct in6_addr a6;

  if (port <= 0 || port > 65535) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "port %d of client '%s' is out of range (1-65535)", port, host);
    return FALSE;
  }
  memset (addr, 0, sizeof (*addr));
  addr->sin_family = AF_INET;
  addr->sin_port = htons (port);
  if (inet_pton (AF_INET, host, &addr->sin_addr) == 1)
    return TRUE;
  if (inet_pton (AF_INET6, host, &a6) == 1) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "client '%s': IPv6 is not supported yet", host);
    return FALSE;
  }
  if (getaddrinfo (host, NULL, &hints, &res) != 0 || !res) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "client host '%s' cannot be resolved to an IPv4 address", host);
    return FALSE;
  }
  addr->sin_addr = ((struct sockaddr_in *) res->ai_addr)->sin_addr;
  freeaddrinfo (res);
  return TRUE;
}

static gboolean
check_limit (gint limit, GError ** error)
{
  if (limit >= 0 && limit <= PRIO_MAX)
    return TRUE;
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "priority limit %d is not in 0-%d", limit, PRIO_MAX);
  return FALSE;
}

/* Parses one "host:port" or "host:port@limit" entry of the clients
 * property into a new Client. */
static Client *
parse_client (const gchar * entry, GError ** error)
{
  const gchar *at = strrchr (entry, '@');
  const gchar *colon;
  gchar *hostport, *host, *end = NULL;
  struct sockaddr_in addr;
  gint64 p, limit = 0;
  Client *c = NULL;

  if (at) {
    limit = g_ascii_strtoll (at + 1, &end, 10);
    if (at[1] == '\0' || !g_ascii_isdigit (at[1]) || *end != '\0'
        || limit < 0 || limit > PRIO_MAX) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "client entry '%s': priority limit '%s' is not a number in 0-%d",
          entry, at + 1, PRIO_MAX);
      return NULL;
    }
  }
  hostport = at ? g_strndup (entry, at - entry) : g_strdup (entry);
  colon = strrchr (hostport, ':');
  if (!colon || colon == hostport || colon[1] == '\0') {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "client entry '%s' is not host:port or host:port@limit", entry);
    goto out;
  }
  p = g_ascii_strtoll (colon + 1, &end, 10);
  if (*end != '\0' || p <= 0 || p > 65535) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "client entry '%s': port '%s' is not a number in 1-65535", entry,
        colon + 1);
    goto out;
  }
  host = g_strndup (hostport, colon - hostport);
  if (resolve_host (host, p, &addr, error))
    c = client_new (host, p, &addr, limit);
  g_free (host);
out:
  g_free (hostport);
  return c;
}

/* Parses the whole clients property into a list of Client (add_count 1,
 * duplicates merged: the first one's limit counts). */
static gboolean
parse_clients (const gchar * str, GPtrArray ** out, GError ** error)
{
  gchar **entries;
  guint i, j;
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify)
      client_free);

  entries = g_strsplit (str ? str : "", ",", -1);
  for (i = 0; entries[i]; i++) {
    Client *c;
    gchar *entry = g_strstrip (entries[i]);
    gboolean dup = FALSE;

    if (*entry == '\0')
      continue;
    c = parse_client (entry, error);
    if (!c) {
      g_strfreev (entries);
      g_ptr_array_free (list, TRUE);
      return FALSE;
    }
    for (j = 0; j < list->len; j++) {
      Client *o = g_ptr_array_index (list, j);
      if (o->addr.sin_addr.s_addr == c->addr.sin_addr.s_addr
          && o->port == c->port)
        dup = TRUE;
    }
    if (dup) {
      client_free (c);
      continue;
    }
    g_ptr_array_add (list, c);
  }
  g_strfreev (entries);
  *out = list;
  return TRUE;
}

static Client *
find_client (GstEbpfRelaySink * self, const struct sockaddr_in *addr)
{
  guint i;

  for (i = 0; i < self->clients->len; i++) {
    Client *c = g_ptr_array_index (self->clients, i);
    if (c->addr.sin_addr.s_addr == addr->sin_addr.s_addr
        && c->addr.sin_port == addr->sin_port)
      return c;
  }
  return NULL;
}

/* A subscriber at the relay's own listening address would receive the
 * relay's copies on the relay's own socket: a forwarding loop. */
static gboolean
check_not_loop (GstEbpfRelaySink * self, const Client * c, GError ** error)
{
  if (c->port != self->cur_port || !self->router)
    return TRUE;
  if (!relay_router_is_local (self->router, c->addr.sin_addr))
    return TRUE;
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "client %s:%d is the relay's own listening address and port: it "
      "would be a forwarding loop", c->host, c->port);
  return FALSE;
}

/* --- kernel slots ---------------------------------------------------------- */

static void
fill_sub (GstEbpfRelaySink * self, const Client * c, const RelayRoute * r,
    guint8 state, struct relay_sub *sub)
{
  memset (sub, 0, sizeof (*sub));
  memcpy (sub->dmac, r->dmac, 6);
  memcpy (sub->smac, r->smac, 6);
  sub->ifindex = r->ifindex;
  sub->saddr = r->src.s_addr;
  sub->daddr = c->addr.sin_addr.s_addr;
  sub->sport = htons (self->cur_port);
  sub->dport = c->addr.sin_port;
  sub->limit = c->limit;
  sub->state = state;
}

/* Looks up @c's route and neighbour, and moves its slot to the kernel when
 * everything is known, or leaves (or puts) it with userspace otherwise. */
static void
program_client (GstEbpfRelaySink * self, Client * c, gint64 now)
{
  RelayRoute r;
  RelayRouteResult res;
  struct relay_sub sub;

  res = relay_router_resolve (self->router, c->addr.sin_addr, &r);
  if (res != c->route)
    GST_INFO_OBJECT (self, "client %s:%d: %s, served from %s", c->host,
        c->port, relay_route_result_str (res),
        res == RELAY_ROUTE_OK ? "the kernel" : "userspace");
  c->route = res;

  if (res == RELAY_ROUTE_OK) {
    c->next_check = now + REVALIDATE_US;
    if (c->in_kernel && memcmp (&r, &c->resolved, sizeof (r)) == 0)
      return;
    fill_sub (self, c, &r, RELAY_SUB_KERNEL, &sub);
    if (relay_kernel_set_slot (self->kernel, c->slot, &sub)) {
      c->in_kernel = c->slot_written = TRUE;
      c->resolved = r;
      return;
    }
    GST_WARNING_OBJECT (self, "cannot write slot %u: %s", c->slot,
        g_strerror (errno));
  }

  c->next_check = now + (res == RELAY_ROUTE_NO_NEIGH ?
      RESOLVE_RETRY_NEIGH_US : RESOLVE_RETRY_OTHER_US);
  if (!c->in_kernel && c->slot_written)
    return;                     /* with userspace already */
  memset (&c->resolved, 0, sizeof (c->resolved));
  fill_sub (self, c, &c->resolved, RELAY_SUB_USERSPACE, &sub);
  if (relay_kernel_set_slot (self->kernel, c->slot, &sub))
    c->slot_written = TRUE;
  c->in_kernel = FALSE;
}

static void
update_n_slots (GstEbpfRelaySink * self)
{
  guint n = self->n_slots;

  while (n > 0 && self->slots[n - 1] == NULL)
    n--;
  if (n != self->n_slots || self->kernel) {
    self->n_slots = n;
    if (self->kernel)
      relay_kernel_set_n_slots (self->kernel, n);
  }
}

/* Gives @c a slot and, in kernel mode, programs it. */
static gboolean
activate_client (GstEbpfRelaySink * self, Client * c, GError ** error)
{
  guint i;

  for (i = 0; i < RELAY_MAX_SUBS && self->slots[i]; i++);
  if (i == RELAY_MAX_SUBS) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "cannot add client %s:%d: already %d clients", c->host, c->port,
        RELAY_MAX_SUBS);
    return FALSE;
  }
  c->slot = i;
  c->in_kernel = c->slot_written = FALSE;
  c->route = RELAY_ROUTE_ERROR;
  c->user_packets = c->user_bytes = c->user_errors = 0;
  c->user_prio_dropped = 0;
  g_hash_table_remove_all (c->seq_dropped);
  self->slots[i] = c;
  if (i >= self->n_slots)
    self->n_slots = i + 1;
  if (self->kernel) {
    program_client (self, c, g_get_monotonic_time ());
    relay_kernel_set_n_slots (self->kernel, self->n_slots);
  }
  return TRUE;
}

/* From the next packet on, @c gets the packets with priority >= @limit. */
static void
set_client_limit_locked (GstEbpfRelaySink * self, Client * c, guint8 limit)
{
  if (c->limit == limit)
    return;
  GST_DEBUG_OBJECT (self, "client %s:%d: priority limit %u -> %u", c->host,
      c->port, c->limit, limit);
  c->limit = limit;
  if (self->running && self->kernel
      && !relay_kernel_set_limit (self->kernel, c->slot, limit))
    GST_WARNING_OBJECT (self, "cannot write the limit of slot %u: %s",
        c->slot, g_strerror (errno));
}

static void
deactivate_client (GstEbpfRelaySink * self, Client * c)
{
  if (self->kernel) {
    /* Send what the kernel already left to userspace for this client
     * before its slot goes. */
    relay_kernel_poll (self->kernel);
    relay_kernel_clear_slot (self->kernel, c->slot);
  }
  self->slots[c->slot] = NULL;
  update_n_slots (self);
}

/* --- priority configuration --------------------------------------------- */

static guint8
effective_fm_id (GstEbpfRelaySink * self)
{
  return self->framemarking_id ? self->framemarking_id : self->caps_fm_id;
}

/* Hands the codec table and the frame marking id to the kernel. */
static void
apply_priority_config (GstEbpfRelaySink * self)
{
  if (self->kernel && !relay_kernel_set_priority_config (self->kernel,
          self->codec_by_pt, effective_fm_id (self), self->rewrite_seq))
    GST_WARNING_OBJECT (self, "cannot write the kernel's configuration: %s",
        g_strerror (errno));
}

/* The codec of each payload type and the frame marking id, from caps
 * (application/x-rtp: payload, encoding-name, extmap-N). With the lock. */
static void
priority_config_from_caps (GstEbpfRelaySink * self, const GstCaps * caps)
{
  ebpf_relay_priority_from_caps (caps, self->codec_by_pt, &self->caps_fm_id);
  GST_DEBUG_OBJECT (self, "priorities from caps %" GST_PTR_FORMAT
      ": frame marking id %u", caps, self->caps_fm_id);
  apply_priority_config (self);
}

static gboolean
gst_ebpf_relay_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);

  GST_EBPF_RELAY_SINK_LOCK (self);
  priority_config_from_caps (self, caps);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return TRUE;
}

/* --- sending from userspace ---------------------------------------------- */

static void
send_flush (GstEbpfRelaySink * self)
{
  Client **batch = self->queued;
  guint n = self->n_queued, done = 0;

  self->n_queued = 0;
  while (done < n) {
    int r = sendmmsg (self->send_fd, self->msgs + done, n - done, 0);

    if (r < 0) {
      if (errno == EINTR)
        continue;
      /* count the failing one and go on with the rest */
      GST_LOG_OBJECT (self, "send to %s:%d failed: %s", batch[done]->host,
          batch[done]->port, g_strerror (errno));
      batch[done]->user_errors++;
      done++;
      continue;
    }
    for (int i = 0; i < r; i++) {
      batch[done + i]->user_packets++;
      batch[done + i]->user_bytes += self->send_len;
    }
    done += r;
  }
}

/* Sends of @data (@len bytes) follow, with send_copy. */
static void
send_begin (GstEbpfRelaySink * self, const guint8 * data, gsize len)
{
  self->send_data = data;
  self->send_len = len;
  self->n_queued = 0;
}

/* Queues a copy for @c; @seq >= 0: with that RTP sequence number. */
static void
send_copy (GstEbpfRelaySink * self, Client * c, gint seq)
{
  guint n = self->n_queued;
  struct msghdr *m = &self->msgs[n].msg_hdr;
  struct iovec *iov = self->iovs[n];
  const guint8 *data = self->send_data;

  memset (m, 0, sizeof (*m));
  m->msg_name = &c->addr;
  m->msg_namelen = sizeof (c->addr);
  m->msg_iov = iov;
  iov[0].iov_base = (void *) data;
  if (seq < 0 || self->send_len < 4 || seq == ((data[2] << 8) | data[3])) {
    iov[0].iov_len = self->send_len;
    m->msg_iovlen = 1;
  } else {
    self->seqs[n][0] = seq >> 8;
    self->seqs[n][1] = seq & 0xff;
    iov[0].iov_len = 2;
    iov[1].iov_base = self->seqs[n];
    iov[1].iov_len = 2;
    iov[2].iov_base = (void *) (data + 4);
    iov[2].iov_len = self->send_len - 4;
    m->msg_iovlen = 3;
  }
  self->queued[n] = c;
  if (++self->n_queued == SEND_BATCH)
    send_flush (self);
}

/* Called from relay_kernel_poll with the lock held: the kernel decided
 * who gets this packet, with which sequence number; send it. */
static void
on_kernel_event (const struct relay_event *ev,
    const struct relay_event_entry *entries, const guint8 * payload,
    gpointer user_data)
{
  GstEbpfRelaySink *self = user_data;
  guint i;

  if (ev->flags & RELAY_EVENT_FRAGMENT) {
    FragPending *f = g_malloc (sizeof (FragPending) +
        ev->n_entries * sizeof (struct relay_event_entry));

    f->since = g_get_monotonic_time ();
    f->len = ev->payload_len;
    f->prefix_len = MIN (ev->frag_avail, FRAG_PREFIX);
    memcpy (f->prefix, payload, f->prefix_len);
    f->flags = ev->flags;
    f->n = ev->n_entries;
    memcpy (f->entries, entries, f->n * sizeof (struct relay_event_entry));
    if (g_queue_get_length (&self->frag_pending) >= FRAG_PENDING_MAX) {
      g_free (g_queue_pop_head (&self->frag_pending));
      self->frag_unsent++;
    }
    g_queue_push_tail (&self->frag_pending, f);
    return;
  }
  send_begin (self, payload, ev->payload_len);
  for (i = 0; i < ev->n_entries; i++) {
    struct relay_event_entry e;
    Client *c;

    memcpy (&e, &entries[i], sizeof (e));
    c = e.slot < self->n_slots ? self->slots[e.slot] : NULL;
    if (c)
      send_copy (self, c, (ev->flags & RELAY_EVENT_SEQ) ? e.seq : -1);
  }
  send_flush (self);
}

/* Kernel mode, with the lock held: @data is a datagram that came up whole.
 * If it is one the kernel left to userspace as fragments, send it to the
 * subscribers named then. */
static gboolean
send_frag_pending (GstEbpfRelaySink * self, const guint8 * data, gsize len)
{
  GList *l;

  for (l = self->frag_pending.head; l; l = l->next) {
    FragPending *f = l->data;
    guint i;

    if (f->len != len || memcmp (f->prefix, data, f->prefix_len) != 0)
      continue;
    send_begin (self, data, len);
    for (i = 0; i < f->n; i++) {
      Client *c = f->entries[i].slot < self->n_slots ?
          self->slots[f->entries[i].slot] : NULL;

      if (c)
        send_copy (self, c, (f->flags & RELAY_EVENT_SEQ) ?
            f->entries[i].seq : -1);
    }
    send_flush (self);
    g_queue_delete_link (&self->frag_pending, l);
    g_free (f);
    return TRUE;
  }
  return FALSE;
}

/* With the lock held: forget fragmented datagrams that did not come up
 * whole in time (a fragment was lost). */
static void
expire_frag_pending (GstEbpfRelaySink * self, gint64 now)
{
  FragPending *f;

  while ((f = g_queue_peek_head (&self->frag_pending)) &&
      now - f->since > FRAG_PENDING_US) {
    g_free (g_queue_pop_head (&self->frag_pending));
    self->frag_unsent++;
  }
}

/* Userspace mode: what relay.bpf.c does, with the same classifier and the
 * same decisions (bpf/priority.h). */
static void
forward_userspace (GstEbpfRelaySink * self, const guint8 * data, gsize len)
{
  guint8 buf[PRIO_BUF_LEN] = { 0 };
  guint32 n = MIN (len, PRIO_BUF_LEN), ssrc;
  struct prio_vp8_state *vp8 = NULL;
  struct prio_info info;
  gboolean seq_on;
  guint i;

  /* The classifier reads a PRIO_BUF_LEN-byte copy, as in the kernel. */
  memcpy (buf, data, n);
  if (prio_wants_vp8_state (buf, n, self->codec_by_pt, &ssrc)) {
    vp8 = g_hash_table_lookup (self->vp8_state, GUINT_TO_POINTER (ssrc));
    if (!vp8) {
      /* bounded, like the kernel's LRU map */
      if (g_hash_table_size (self->vp8_state) >= RELAY_MAX_VP8_SSRCS)
        g_hash_table_remove_all (self->vp8_state);
      vp8 = g_new0 (struct prio_vp8_state, 1);
      g_hash_table_insert (self->vp8_state, GUINT_TO_POINTER (ssrc), vp8);
    }
  }
  prio_classify (buf, n, len, self->codec_by_pt, effective_fm_id (self), vp8,
      &info);
  seq_on = self->rewrite_seq && prio_is_rtp (&info);

  send_begin (self, data, len);
  for (i = 0; i < self->n_slots; i++) {
    Client *c = self->slots[i];
    gpointer key = GUINT_TO_POINTER (info.ssrc);
    guint dropped;

    if (!c)
      continue;
    /* (a client that never dropped anything has no entries) */
    dropped = seq_on && g_hash_table_size (c->seq_dropped) ?
        GPOINTER_TO_UINT (g_hash_table_lookup (c->seq_dropped, key)) : 0;
    if (prio_drops (&info, c->limit)) {
      c->user_prio_dropped++;
      if (seq_on)
        g_hash_table_insert (c->seq_dropped, key,
            GUINT_TO_POINTER (dropped + 1));
      continue;
    }
    send_copy (self, c, seq_on ? prio_out_seq (info.seq, dropped) : -1);
  }
  send_flush (self);
}

/* Moves subscribers whose path became known to the kernel, and checks
 * kernel-served ones again now and then (route or MAC may change). */
static void
check_clients (GstEbpfRelaySink * self)
{
  gint64 now = g_get_monotonic_time ();
  guint i, budget = REVALIDATE_PER_WAKE;

  for (i = 0; i < self->n_slots && budget > 0; i++) {
    guint s = (self->revalidate_next + i) % self->n_slots;
    Client *c = self->slots[s];

    if (c && now >= c->next_check) {
      program_client (self, c, now);
      budget--;
    }
  }
  if (self->n_slots)
    self->revalidate_next = (self->revalidate_next + i) % self->n_slots;
}

/* With the lock held: tell the kernel whether to consume the packets it
 * forwards (pass-original=false, once the first buffer came up). */
static void
apply_consume (GstEbpfRelaySink * self)
{
  if (self->kernel && self->buffers_in > 0)
    relay_kernel_set_consume (self->kernel, !self->pass_original);
}

static gboolean waiting_for_udpsrc (GstEbpfRelaySink * self);

/* net.core.netdev_max_backlog. It is one value for the whole machine,
 * shown only in the initial network namespace: elsewhere, the kernel's
 * default (@known FALSE). */
static guint
netdev_max_backlog (gboolean * known)
{
  gchar *text = NULL;
  guint v = 0;

  if (g_file_get_contents ("/proc/sys/net/core/netdev_max_backlog", &text,
          NULL, NULL))
    v = (guint) g_ascii_strtoull (text, NULL, 10);
  g_free (text);
  *known = v > 0;
  return v > 0 ? v : 1000;
}

/* Kernel mode: sends what the kernel hands up (events: subscribers it
 * cannot serve yet) as soon as it comes, and moves subscribers to the
 * kernel or checks them again, also when no packet comes up at all. */
static gpointer
kernel_thread_func (gpointer data)
{
  GstEbpfRelaySink *self = data;
  struct pollfd p[2];
  gboolean waiting = TRUE;
  guint64 unsent = 0, n;
  gint64 next_look = 0, now;
  gboolean backlog_known, backlog_warned = FALSE;
  guint backlog = netdev_max_backlog (&backlog_known), subs = 0;

  GST_EBPF_RELAY_SINK_LOCK (self);
  p[0].fd = relay_kernel_event_fd (self->kernel);
  p[1].fd = self->wake_fd;
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  p[0].events = p[1].events = POLLIN;
  p[0].revents = p[1].revents = 0;
  for (;;) {
    /* Until the udpsrc's socket is known the events wait (they are only
     * looked at again every few ms), as the kernel's copies leave from
     * the stream's port and userspace's must too. */
    if (waiting) {
      if (poll (p + 1, 1, 5) < 0 && errno != EINTR)
        break;
    } else if (poll (p, 2, KERNEL_TICK_MS) < 0 && errno != EINTR) {
      break;
    }
    if (p[1].revents)
      break;
    GST_EBPF_RELAY_SINK_LOCK (self);
    waiting = waiting && waiting_for_udpsrc (self);
    if (!waiting)
      relay_kernel_poll (self->kernel);
    check_clients (self);
    /* Fragmented datagrams that never came up whole; once a second, the
     * number of subscribers. */
    now = g_get_monotonic_time ();
    expire_frag_pending (self, now);
    n = self->frag_unsent;
    if (now >= next_look) {
      next_look = now + G_TIME_SPAN_SECOND;
      subs = self->n_slots;
    }
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    if (subs >= backlog && !backlog_warned) {
      /* One datagram's copies are queued at once: on veth (and other
       * devices that receive through netif_rx) on this CPU's input
       * backlog, which drops what does not fit. */
      GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
          ("%u subscribers, but the kernel queues at most %u packets per "
              "CPU (net.core.netdev_max_backlog%s): copies beyond that are "
              "dropped", subs, backlog, backlog_known ? "" :
              ", the kernel's default: not readable in this network "
              "namespace"),
          ("raise net.core.netdev_max_backlog above the number of "
              "subscribers (and the egress queue length, txqueuelen, on a "
              "real interface)"));
      backlog_warned = TRUE;
    }
    if (n > unsent) {
      if (unsent == 0)
        GST_ELEMENT_WARNING (self, STREAM, FAILED,
            ("A fragmented datagram on port %u for subscribers served from "
                "userspace never came up whole (%" G_GUINT64_FORMAT " so "
                "far): they did not get it", self->cur_port, n),
            ("a fragment was lost or came too late; fragments-unsent in "
                "stats counts them"));
      else
        GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " fragmented "
            "datagrams not sent so far", n);
      unsent = n;
    }
  }
  return NULL;
}

/* Basesink starts us (NULL -> READY) before the udpsrc upstream opens its
 * socket; from its first buffer on, send from that socket, so userspace
 * copies leave from the stream's port as the kernel's do. */
static void
use_udpsrc_socket (GstEbpfRelaySink * self)
{
  GstElement *udpsrc = g_weak_ref_get (&self->udpsrc);

  if (!udpsrc)
    return;
  g_object_get (udpsrc, "used-socket", &self->used_socket, NULL);
  if (self->used_socket) {
    self->send_fd = g_socket_get_fd (self->used_socket);
    g_weak_ref_set (&self->udpsrc, NULL);
  }
  gst_object_unref (udpsrc);
}

/* With the lock held: an upstream udpsrc has not opened its socket yet
 * (copies must not leave from another port meanwhile). */
static gboolean
waiting_for_udpsrc (GstEbpfRelaySink * self)
{
  GstElement *udpsrc;

  if (self->used_socket)
    return FALSE;
  use_udpsrc_socket (self);
  if (self->used_socket)
    return FALSE;
  udpsrc = g_weak_ref_get (&self->udpsrc);
  if (!udpsrc)
    return FALSE;
  gst_object_unref (udpsrc);
  return TRUE;
}

static GstFlowReturn
gst_ebpf_relay_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);
  GstMapInfo map;

  GST_EBPF_RELAY_SINK_LOCK (self);
  if (G_UNLIKELY (self->buffers_in++ == 0)) {
    use_udpsrc_socket (self);
    /* The pipeline has its first buffer: the kernel may consume the rest. */
    apply_consume (self);
  }
  if (self->kernel) {
    /* The kernel has forwarded this packet already; what it left to
     * userspace comes as events, to the kernel-mode thread. Except a
     * datagram that came as fragments: the event named its subscribers,
     * and it is sent now (the event may still be waiting: look). */
    if (gst_buffer_get_size (buffer) > self->frag_min_len &&
        gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      if (!send_frag_pending (self, map.data, map.size)) {
        relay_kernel_poll (self->kernel);
        send_frag_pending (self, map.data, map.size);
      }
      gst_buffer_unmap (buffer, &map);
    }
  } else if (self->n_slots > 0) {
    if (gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      forward_userspace (self, map.data, map.size);
      gst_buffer_unmap (buffer, &map);
    }
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return GST_FLOW_OK;
}

/* --- starting and stopping -------------------------------------------------- */

/* The udpsrc feeding us, if that is what is upstream. */
static GstElement *
find_upstream_udpsrc (GstEbpfRelaySink * self)
{
  GstPad *peer = gst_pad_get_peer (GST_BASE_SINK_PAD (self));
  GstElement *el = NULL;

  if (peer) {
    el = gst_pad_get_parent_element (peer);
    gst_object_unref (peer);
  }
  if (el && g_strcmp0 (G_OBJECT_TYPE_NAME (el), "GstUDPSrc") != 0)
    g_clear_object (&el);
  return el;
}

static gchar **
list_interfaces (GstEbpfRelaySink * self)
{
  struct if_nameindex *ifs, *i;
  GPtrArray *names = g_ptr_array_new ();
  int fd;

  if (self->interfaces && *self->interfaces) {
    gchar **v = g_strsplit (self->interfaces, ",", -1);
    for (guint k = 0; v[k]; k++)
      g_strstrip (v[k]);
    return v;
  }
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
  return (gchar **) g_ptr_array_free (names, FALSE);
}

static RelayKernel *
start_kernel (GstEbpfRelaySink * self, gchar ** ifnames, GError ** error)
{
  RelayKernel *k;

  if (!ifnames[0]) {
    g_set_error (error, RELAY_KERNEL_ERROR, RELAY_KERNEL_ERROR_NO_DEVICE,
        "no interface to attach to (none is up besides loopback)");
    return NULL;
  }
  k = relay_kernel_new (self->cur_port, on_kernel_event, self, error);
  if (!k)
    return NULL;
  for (guint i = 0; ifnames[i]; i++) {
    if (!relay_kernel_attach (k, ifnames[i], error)) {
      relay_kernel_free (k);
      return NULL;
    }
  }
  return k;
}

static gboolean gst_ebpf_relay_sink_add_client (GstEbpfRelaySink * self,
    const gchar * host, gint port, gint limit, gboolean set_limit,
    GError ** error);
static gboolean gst_ebpf_relay_sink_set_client_limit (GstEbpfRelaySink *
    self, const gchar * host, gint port, gint limit, GError ** error);

/* The subscription channel's callbacks, from its thread. */
static gboolean
on_control_add (const gchar * addr, guint16 port, guint limit, gpointer data)
{
  GError *err = NULL;

  if (gst_ebpf_relay_sink_add_client (data, addr, port, limit, TRUE, &err))
    return TRUE;
  GST_WARNING_OBJECT (data, "subscription of %s:%u refused: %s", addr, port,
      err->message);
  g_error_free (err);
  return FALSE;
}

static gboolean
on_control_set_limit (const gchar * addr, guint16 port, guint limit,
    gpointer data)
{
  return gst_ebpf_relay_sink_set_client_limit (data, addr, port, limit, NULL);
}

static void
on_control_remove (const gchar * addr, guint16 port, gpointer data)
{
  gst_ebpf_relay_sink_remove (data, addr, port);
}

static const RelayControlServerCallbacks control_callbacks = {
  on_control_add, on_control_set_limit, on_control_remove
};

static gboolean
gst_ebpf_relay_sink_start (GstBaseSink * sink)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);
  GstElement *udpsrc = find_upstream_udpsrc (self);
  gchar **ifnames = NULL;
  gchar *desc;
  GError *err = NULL;
  guint i;
  gint port = self->port;

  if (port == 0 && udpsrc)
    g_object_get (udpsrc, "port", &port, NULL);
  if (port <= 0 || port > 65535)
    goto no_port;
  self->cur_port = port;

  ifnames = list_interfaces (self);
  for (i = 0; ifnames[i]; i++)
    if (if_nametoindex (ifnames[i]) == 0)
      goto no_interface;

  self->router = relay_router_new ();
  if (!self->router)
    goto no_netlink;

  GST_EBPF_RELAY_SINK_LOCK (self);
  if (self->clients_error) {
    g_set_error_literal (&err, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, self->clients_error);
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    goto bad_client;
  }
  for (i = 0; i < self->clients->len; i++) {
    if (!check_not_loop (self, g_ptr_array_index (self->clients, i), &err)) {
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      goto bad_client;
    }
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  /* Until the udpsrc has opened its socket (it does so after us, see
   * use_udpsrc_socket), send from our own. */
  self->own_fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  self->send_fd = self->own_fd;
  if (self->send_fd < 0)
    goto no_socket;
  if (udpsrc)
    g_weak_ref_set (&self->udpsrc, udpsrc);

  if (self->mode != GST_EBPF_RELAY_MODE_USERSPACE) {
    self->kernel = start_kernel (self, ifnames, &err);
    if (!self->kernel) {
      gboolean perm = g_error_matches (err, RELAY_KERNEL_ERROR,
          RELAY_KERNEL_ERROR_PERMISSION);
      const gchar *hint = perm ?
          "needs CAP_BPF and CAP_NET_ADMIN; run as root or set mode=userspace"
          : "set mode=userspace to forward without BPF";

      if (self->mode == GST_EBPF_RELAY_MODE_KERNEL)
        goto kernel_failed;
      if (perm)
        GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED,
            ("Kernel forwarding unavailable (%s), forwarding from userspace",
                err->message), ("%s", hint));
      else
        GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
            ("Kernel forwarding unavailable (%s), forwarding from userspace",
                err->message), ("%s", hint));
      g_clear_error (&err);
    }
  }
  if (self->kernel) {
    guint mtu = relay_kernel_min_mtu (self->kernel);

    /* the largest IPv4 header (60) and the UDP header */
    self->frag_min_len = mtu > 68 ? mtu - 68 : 0;
    desc = relay_kernel_describe (self->kernel);
    GST_INFO_OBJECT (self, "port %u: kernel forwarding on %s", self->cur_port,
        desc);
    g_free (desc);
  } else {
    GST_INFO_OBJECT (self, "port %u: userspace forwarding", self->cur_port);
  }

  GST_EBPF_RELAY_SINK_LOCK (self);
  self->running = TRUE;
  self->buffers_in = 0;
  self->frag_unsent = 0;
  self->n_slots = 0;
  g_hash_table_remove_all (self->vp8_state);
  /* The kernel sees packets before the caps reach us: start from the
   * upstream udpsrc's caps, if it has any. */
  {
    GstCaps *caps = NULL;

    if (udpsrc)
      g_object_get (udpsrc, "caps", &caps, NULL);
    priority_config_from_caps (self, caps);
    gst_clear_caps (&caps);
  }
  for (i = 0; i < self->clients->len; i++) {
    if (!activate_client (self, g_ptr_array_index (self->clients, i), &err)) {
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      goto bad_client;
    }
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  if (self->kernel) {
    self->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->wake_fd < 0)
      goto no_socket;
    self->kernel_thread = g_thread_new ("ebpfrelay-kernel",
        kernel_thread_func, self);
  }

  if (self->control_port) {
    RelayControlServer *control;

    control = relay_control_server_new (self->control_port, NULL,
        &control_callbacks, self, &err);
    if (!control)
      goto control_failed;
    GST_OBJECT_LOCK (self);
    relay_control_server_set_token (control, self->token);
    relay_control_server_set_max_clients (control, self->max_clients);
    relay_control_server_set_timeout (control,
        self->subscriber_timeout * 1000);
    GST_OBJECT_UNLOCK (self);
    GST_EBPF_RELAY_SINK_LOCK (self);
    self->control = control;
    GST_EBPF_RELAY_SINK_UNLOCK (self);
  }

  g_strfreev (ifnames);
  g_clear_object (&udpsrc);
  return TRUE;

  /* ERRORS */
control_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Cannot open the subscription channel on control-port %u: %s",
            self->control_port, err->message), ("control-port=%u",
            self->control_port));
    g_clear_error (&err);
    goto fail;
  }
no_port:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No stream port: set the port property (upstream is not a udpsrc "
            "with a port)"), ("port=%d", port));
    goto fail;
  }
no_interface:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Interface '%s' does not exist", ifnames[i]),
        ("interfaces=%s", self->interfaces));
    goto fail;
  }
no_netlink:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Cannot open a netlink socket for route look-ups"),
        ("%s", g_strerror (errno)));
    goto fail;
  }
no_socket:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot open a UDP socket"), ("%s", g_strerror (errno)));
    goto fail;
  }
kernel_failed:
  {
    gboolean perm = g_error_matches (err, RELAY_KERNEL_ERROR,
        RELAY_KERNEL_ERROR_PERMISSION);

    if (perm)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
          ("Kernel forwarding needs CAP_BPF and CAP_NET_ADMIN; run as root "
              "or set mode=userspace"), ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Kernel forwarding failed: %s", err->message),
          ("mode=kernel; set mode=auto or mode=userspace to forward "
              "without BPF"));
    g_clear_error (&err);
    goto fail;
  }
bad_client:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
        ("clients property or add signal"));
    g_clear_error (&err);
    goto fail;
  }
fail:
  g_strfreev (ifnames);
  g_clear_object (&udpsrc);
  gst_ebpf_relay_sink_stop (sink);
  return FALSE;
}

static gboolean
gst_ebpf_relay_sink_stop (GstBaseSink * sink)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);
  RelayControlServer *control;

  /* The channel's thread calls back into us (taking our lock): stop it
   * without holding the lock. */
  GST_EBPF_RELAY_SINK_LOCK (self);
  control = g_steal_pointer (&self->control);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  g_clear_pointer (&control, relay_control_server_free);

  /* So does the kernel-mode thread. */
  if (self->kernel_thread) {
    guint64 one = 1;

    if (write (self->wake_fd, &one, sizeof (one)) != sizeof (one))
      GST_WARNING_OBJECT (self, "cannot wake the kernel-mode thread");
    g_thread_join (self->kernel_thread);
    self->kernel_thread = NULL;
  }
  if (self->wake_fd >= 0)
    close (self->wake_fd);
  self->wake_fd = -1;

  GST_EBPF_RELAY_SINK_LOCK (self);
  self->running = FALSE;
  g_clear_pointer (&self->kernel, relay_kernel_free);
  g_clear_pointer (&self->router, relay_router_free);
  memset (self->slots, 0, sizeof (self->slots));
  self->n_slots = 0;
  g_clear_object (&self->used_socket);
  g_queue_clear_full (&self->frag_pending, g_free);
  g_weak_ref_set (&self->udpsrc, NULL);
  if (self->own_fd >= 0)
    close (self->own_fd);
  self->own_fd = self->send_fd = -1;
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return TRUE;
}

/* --- subscribers ------------------------------------------------------------ */

/* Adds (or counts again) one client with priority limit @limit; with the
 * lock held. An existing client gets @limit only with @set_limit. Returns
 * the new client, or NULL when it existed or failed (@error set then). */
static Client *
add_client_locked (GstEbpfRelaySink * self, const gchar * host, gint port,
    const struct sockaddr_in *addr, guint8 limit, gboolean set_limit,
    GError ** error)
{
  Client *c = find_client (self, addr);

  if (c) {
    c->add_count++;
    if (set_limit)
      set_client_limit_locked (self, c, limit);
    return NULL;
  }
  c = client_new (host, port, addr, limit);
  if (self->running && (!check_not_loop (self, c, error)
          || !activate_client (self, c, error))) {
    client_free (c);
    return NULL;
  }
  g_ptr_array_add (self->clients, c);
  return c;
}

static void
remove_client_locked (GstEbpfRelaySink * self, Client * c)
{
  if (self->running)
    deactivate_client (self, c);
  g_ptr_array_remove (self->clients, c);
}

static void
emit_client (GstEbpfRelaySink * self, guint signal, Client * c)
{
  g_signal_emit (self, gst_ebpf_relay_sink_signals[signal], 0, c->host,
      c->port);
}

/*
 * Adds subscriber @host:@port with priority limit @limit (0-7), or, when it
 * is there already, counts it again and, with @set_limit, gives it @limit
 * (the latest subscription wins). Emits client-added for a new one. Takes
 * the lock: call it without. The action signals and the subscription
 * server use it.
 */
static gboolean
gst_ebpf_relay_sink_add_client (GstEbpfRelaySink * self, const gchar * host,
    gint port, gint limit, gboolean set_limit, GError ** error)
{
  struct sockaddr_in addr;
  GError *err = NULL;
  Client *c;

  if (!host) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "no host");
    return FALSE;
  }
  if (!check_limit (limit, error) || !resolve_host (host, port, &addr, error))
    return FALSE;
  GST_EBPF_RELAY_SINK_LOCK (self);
  c = add_client_locked (self, host, port, &addr, limit, set_limit, &err);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (err) {
    g_propagate_error (error, err);
    return FALSE;
  }
  if (c) {
    GST_DEBUG_OBJECT (self, "added %s:%d@%d", host, port, limit);
    emit_client (self, SIGNAL_CLIENT_ADDED, c);
  }
  return TRUE;
}

/*
 * Sets the priority limit of subscriber @host:@port to @limit (0-7): from
 * the next packet on it gets exactly the packets with priority >= @limit.
 * Takes the lock: call it without.
 */
static gboolean
gst_ebpf_relay_sink_set_client_limit (GstEbpfRelaySink * self,
    const gchar * host, gint port, gint limit, GError ** error)
{
  struct sockaddr_in addr;
  Client *c;

  if (!check_limit (limit, error))
    return FALSE;
  if (!host || !resolve_host (host, port, &addr, NULL)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "no client %s:%d", GST_STR_NULL (host), port);
    return FALSE;
  }
  GST_EBPF_RELAY_SINK_LOCK (self);
  c = find_client (self, &addr);
  if (c)
    set_client_limit_locked (self, c, limit);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (!c)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "no client %s:%d", host, port);
  return c != NULL;
}

static void
gst_ebpf_relay_sink_add (GstEbpfRelaySink * self, const gchar * host,
    gint port)
{
  GError *err = NULL;

  if (!gst_ebpf_relay_sink_add_client (self, host, port, 0, FALSE, &err)) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Client not added: %s", err->message),
        ("add (%s, %d)", GST_STR_NULL (host), port));
    g_clear_error (&err);
  }
}

static gboolean
gst_ebpf_relay_sink_set_priority_limit (GstEbpfRelaySink * self,
    const gchar * host, gint port, gint limit)
{
  GError *err = NULL;

  if (!gst_ebpf_relay_sink_set_client_limit (self, host, port, limit, &err)) {
    GST_WARNING_OBJECT (self, "set-priority-limit (%s, %d, %d): %s",
        GST_STR_NULL (host), port, limit, err->message);
    g_clear_error (&err);
    return FALSE;
  }
  return TRUE;
}

static void
gst_ebpf_relay_sink_remove (GstEbpfRelaySink * self, const gchar * host,
    gint port)
{
  struct sockaddr_in addr;
  Client *c;

  if (!host || !resolve_host (host, port, &addr, NULL)) {
    GST_WARNING_OBJECT (self, "remove: no client %s:%d", host, port);
    return;
  }
  GST_EBPF_RELAY_SINK_LOCK (self);
  c = find_client (self, &addr);
  if (c && --c->add_count == 0) {
    remove_client_locked (self, c);
  } else {
    if (!c)
      GST_WARNING_OBJECT (self, "remove: no client %s:%d", host, port);
    c = NULL;
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (c) {
    emit_client (self, SIGNAL_CLIENT_REMOVED, c);
    client_free (c);
  }
}

static void
gst_ebpf_relay_sink_clear (GstEbpfRelaySink * self)
{
  GPtrArray *gone;
  guint i;

  GST_EBPF_RELAY_SINK_LOCK (self);
  gone = g_ptr_array_copy (self->clients, NULL, NULL);
  for (i = 0; i < gone->len; i++)
    remove_client_locked (self, g_ptr_array_index (gone, i));
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  for (i = 0; i < gone->len; i++) {
    emit_client (self, SIGNAL_CLIENT_REMOVED, g_ptr_array_index (gone, i));
    client_free (g_ptr_array_index (gone, i));
  }
  g_ptr_array_free (gone, TRUE);
}

/* Replaces the client set by @str: clients in both keep their slot (and
 * get every packet across the change), the others are removed or added. */
static void
set_clients (GstEbpfRelaySink * self, const gchar * str)
{
  GPtrArray *wanted = NULL, *gone, *added;
  GError *err = NULL;
  guint i, j;

  if (!parse_clients (str, &wanted, &err)) {
    if (GST_STATE (self) >= GST_STATE_READY || self->running)
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
          ("Invalid clients, kept the previous ones: %s", err->message),
          ("clients=%s", str));
    /* Remember the error: starting fails with it (see _start). */
    GST_EBPF_RELAY_SINK_LOCK (self);
    g_free (self->clients_error);
    self->clients_error = g_strdup (err->message);
    GST_EBPF_RELAY_SINK_UNLOCK (self);
    g_clear_error (&err);
    return;
  }

  gone = g_ptr_array_new ();
  added = g_ptr_array_new ();
  GST_EBPF_RELAY_SINK_LOCK (self);
  g_clear_pointer (&self->clients_error, g_free);
  for (i = 0; i < self->clients->len; i++) {
    Client *c = g_ptr_array_index (self->clients, i);
    gboolean keep = FALSE;

    for (j = 0; j < wanted->len && !keep; j++) {
      Client *w = g_ptr_array_index (wanted, j);
      keep = w->addr.sin_addr.s_addr == c->addr.sin_addr.s_addr
          && w->port == c->port;
    }
    if (!keep)
      g_ptr_array_add (gone, c);
  }
  for (i = 0; i < gone->len; i++)
    remove_client_locked (self, g_ptr_array_index (gone, i));
  for (i = 0; i < wanted->len; i++) {
    Client *w = g_ptr_array_index (wanted, i);
    Client *c = find_client (self, &w->addr);

    if (c) {
      set_client_limit_locked (self, c, w->limit);
      continue;
    }
    c = add_client_locked (self, w->host, w->port, &w->addr, w->limit, TRUE,
        &err);
    if (c)
      g_ptr_array_add (added, c);
    if (err) {
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
          ("Client not added: %s", err->message), ("clients=%s", str));
      g_clear_error (&err);
    }
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  for (i = 0; i < gone->len; i++) {
    emit_client (self, SIGNAL_CLIENT_REMOVED, g_ptr_array_index (gone, i));
    client_free (g_ptr_array_index (gone, i));
  }
  for (i = 0; i < added->len; i++)
    emit_client (self, SIGNAL_CLIENT_ADDED, g_ptr_array_index (added, i));
  g_ptr_array_free (gone, TRUE);
  g_ptr_array_free (added, TRUE);
  g_ptr_array_free (wanted, TRUE);
}

static gchar *
get_clients_string (GstEbpfRelaySink * self)
{
  GString *s = g_string_new (NULL);
  guint i;

  GST_EBPF_RELAY_SINK_LOCK (self);
  for (i = 0; i < self->clients->len; i++) {
    Client *c = g_ptr_array_index (self->clients, i);
    g_string_append_printf (s, "%s%s:%d", i ? "," : "", c->host, c->port);
    if (c->limit)
      g_string_append_printf (s, "@%u", c->limit);
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return g_string_free (s, FALSE);
}

/* --- statistics ----------------------------------------------------------- */

static GstStructure *
client_stats (GstEbpfRelaySink * self, Client * c)
{
  guint64 kp = 0, kb = 0, kd = 0;

  if (self->kernel && self->running)
    relay_kernel_slot_counters (self->kernel, c->slot, &kp, &kb, &kd);
  return gst_structure_new ("application/x-ebpfrelaysink-client-stats",
      "host", G_TYPE_STRING, c->host,
      "port", G_TYPE_INT, c->port,
      "path", G_TYPE_STRING, c->in_kernel ? "kernel" : "userspace",
      "priority-limit", G_TYPE_INT, (gint) c->limit,
      "priority-dropped", G_TYPE_UINT64, kd + c->user_prio_dropped,
      "kernel-packets", G_TYPE_UINT64, kp,
      "kernel-bytes", G_TYPE_UINT64, kb,
      "user-packets", G_TYPE_UINT64, c->user_packets,
      "user-bytes", G_TYPE_UINT64, c->user_bytes,
      "user-errors", G_TYPE_UINT64, c->user_errors,
      "packets", G_TYPE_UINT64, kp + c->user_packets,
      "bytes", G_TYPE_UINT64, kb + c->user_bytes, NULL);
}

static GstStructure *
gst_ebpf_relay_sink_get_stats (GstEbpfRelaySink * self, const gchar * host,
    gint port)
{
  struct sockaddr_in addr;
  GstStructure *s = NULL;
  Client *c;

  if (!host || !resolve_host (host, port, &addr, NULL))
    return NULL;
  GST_EBPF_RELAY_SINK_LOCK (self);
  c = find_client (self, &addr);
  if (c)
    s = client_stats (self, c);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return s;
}

static GstStructure *
get_all_stats (GstEbpfRelaySink * self)
{
  guint64 k[RELAY_STAT_MAX] = { 0 };
  GValue arr = G_VALUE_INIT;
  GstStructure *s;
  gchar *ifaces = NULL;
  guint i;

  g_value_init (&arr, GST_TYPE_ARRAY);
  GST_EBPF_RELAY_SINK_LOCK (self);
  if (self->kernel) {
    relay_kernel_global_stats (self->kernel, k);
    ifaces = relay_kernel_describe (self->kernel);
  }
  for (i = 0; i < self->clients->len; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, client_stats (self,
            g_ptr_array_index (self->clients, i)));
    gst_value_array_append_and_take_value (&arr, &v);
  }
  s = gst_structure_new ("application/x-ebpfrelaysink-stats",
      "mode", G_TYPE_STRING, !self->running ? "stopped" :
      self->kernel ? "kernel" : "userspace",
      "port", G_TYPE_INT, (gint) self->cur_port,
      "interfaces", G_TYPE_STRING, ifaces ? ifaces : "",
      "buffers-in", G_TYPE_UINT64, self->buffers_in,
      "kernel-matched", G_TYPE_UINT64, k[RELAY_STAT_MATCHED],
      "kernel-passed", G_TYPE_UINT64, k[RELAY_STAT_PASSED],
      "kernel-clone-errors", G_TYPE_UINT64, k[RELAY_STAT_CLONE_ERRORS],
      "kernel-events", G_TYPE_UINT64, k[RELAY_STAT_EVENTS],
      "kernel-event-errors", G_TYPE_UINT64, k[RELAY_STAT_EVENT_ERRORS],
      "kernel-consumed", G_TYPE_UINT64, k[RELAY_STAT_CONSUMED],
      "kernel-fragmented", G_TYPE_UINT64, k[RELAY_STAT_FRAGMENTED],
      "kernel-fragments-to-userspace", G_TYPE_UINT64,
      k[RELAY_STAT_FRAG_USER],
      "fragments-unsent", G_TYPE_UINT64, self->frag_unsent,
      "lost-events", G_TYPE_UINT64,
      self->kernel ? relay_kernel_lost_events (self->kernel) : 0, NULL);
  if (self->kernel) {
    /* What the kernel's classifier saw: packets per rule and priority. */
    static const gchar *rules[PRIO_N_RULES] = { "not-rtp", "framemarking",
      "h264", "vp8", "default"
    };
    gchar name[32];

    for (i = 0; i < PRIO_N_RULES; i++) {
      g_snprintf (name, sizeof (name), "kernel-rule-%s", rules[i]);
      gst_structure_set (s, name, G_TYPE_UINT64, k[RELAY_STAT_RULE_0 + i],
          NULL);
    }
    for (i = 0; i <= PRIO_MAX; i++) {
      g_snprintf (name, sizeof (name), "kernel-priority-%u", i);
      gst_structure_set (s, name, G_TYPE_UINT64, k[RELAY_STAT_PRIO_0 + i],
          NULL);
    }
  }
  if (self->control) {
    RelayControlServerStats cs;

    relay_control_server_get_stats (self->control, &cs);
    gst_structure_set (s,
        "control-subscribers", G_TYPE_UINT, cs.subscribers,
        "control-accepted", G_TYPE_UINT64, cs.accepted,
        "control-refreshed", G_TYPE_UINT64, cs.refreshed,
        "control-refused-token", G_TYPE_UINT64, cs.refused_token,
        "control-refused-full", G_TYPE_UINT64, cs.refused_full,
        "control-refused-cookie", G_TYPE_UINT64, cs.refused_cookie,
        "control-refused-relay", G_TYPE_UINT64, cs.refused_relay,
        "control-challenges", G_TYPE_UINT64, cs.challenges,
        "control-malformed", G_TYPE_UINT64, cs.malformed,
        "control-expired", G_TYPE_UINT64, cs.expired,
        "control-unsubscribed", G_TYPE_UINT64, cs.unsubscribed, NULL);
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  gst_structure_take_value (s, "clients", &arr);
  g_free (ifaces);
  return s;
}

/* --- properties ------------------------------------------------------------ */

static void
gst_ebpf_relay_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (object);

  switch (prop_id) {
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_INTERFACES:
      g_free (self->interfaces);
      self->interfaces = g_value_dup_string (value);
      break;
    case PROP_CLIENTS:
      set_clients (self, g_value_get_string (value));
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_FRAMEMARKING_ID:
      GST_EBPF_RELAY_SINK_LOCK (self);
      self->framemarking_id = g_value_get_uint (value);
      apply_priority_config (self);
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      break;
    case PROP_REWRITE_SEQ:
      self->rewrite_seq = g_value_get_boolean (value);
      break;
    case PROP_PASS_ORIGINAL:
      GST_EBPF_RELAY_SINK_LOCK (self);
      self->pass_original = g_value_get_boolean (value);
      apply_consume (self);
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      break;
    case PROP_CONTROL_PORT:
      self->control_port = g_value_get_uint (value);
      break;
    case PROP_SUBSCRIBER_TIMEOUT:
    case PROP_MAX_CLIENTS:
    case PROP_TOKEN:
      GST_OBJECT_LOCK (self);
      if (prop_id == PROP_SUBSCRIBER_TIMEOUT)
        self->subscriber_timeout = g_value_get_uint (value);
      else if (prop_id == PROP_MAX_CLIENTS)
        self->max_clients = g_value_get_uint (value);
      else {
        g_free (self->token);
        self->token = g_value_dup_string (value);
      }
      GST_OBJECT_UNLOCK (self);
      /* already serving: apply now */
      GST_EBPF_RELAY_SINK_LOCK (self);
      if (self->control) {
        GST_OBJECT_LOCK (self);
        relay_control_server_set_token (self->control, self->token);
        relay_control_server_set_max_clients (self->control,
            self->max_clients);
        relay_control_server_set_timeout (self->control,
            self->subscriber_timeout * 1000);
        GST_OBJECT_UNLOCK (self);
      }
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_ebpf_relay_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (object);

  switch (prop_id) {
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_INTERFACES:
      g_value_set_string (value, self->interfaces);
      break;
    case PROP_CLIENTS:
      g_value_take_string (value, get_clients_string (self));
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, get_all_stats (self));
      break;
    case PROP_FRAMEMARKING_ID:
      GST_EBPF_RELAY_SINK_LOCK (self);
      g_value_set_uint (value, self->framemarking_id);
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      break;
    case PROP_REWRITE_SEQ:
      g_value_set_boolean (value, self->rewrite_seq);
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
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->token);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
