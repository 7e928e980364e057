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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <gio/gio.h>

#include "gstebpfrelaysink.h"
#include "gstebpfrelayelements.h"
#include "ebpfrelay-kernel.h"
#include "ebpfrelay-route.h"

GST_DEBUG_CATEGORY_STATIC (gst_ebpf_relay_sink_debug);
#define GST_CAT_DEFAULT gst_ebpf_relay_sink_debug

#define DEFAULT_PORT 0
#define DEFAULT_INTERFACES NULL
#define DEFAULT_CLIENTS NULL
#define DEFAULT_MODE GST_EBPF_RELAY_MODE_AUTO

/* How soon to look again at a subscriber the kernel cannot serve yet:
 * quickly while its neighbour entry is being resolved, slowly otherwise. */
#define RESOLVE_RETRY_NEIGH_US (20 * G_TIME_SPAN_MILLISECOND)
#define RESOLVE_RETRY_OTHER_US (1 * G_TIME_SPAN_SECOND)
/* How often a kernel-served subscriber's route and MAC are checked again,
 * and how many such checks one buffer may pay for. */
#define REVALIDATE_US (2 * G_TIME_SPAN_SECOND)
#define REVALIDATE_PER_BUFFER 8
#define SEND_BATCH 64

enum
{
  PROP_0,
  PROP_PORT,
  PROP_INTERFACES,
  PROP_CLIENTS,
  PROP_MODE,
  PROP_STATS,
};

enum
{
  SIGNAL_ADD,
  SIGNAL_REMOVE,
  SIGNAL_CLEAR,
  SIGNAL_GET_STATS,
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
  guint64 user_packets, user_bytes, user_errors;
} Client;

struct _GstEbpfRelaySink
{
  GstBaseSink parent;

  /* properties */
  gint port;
  gchar *interfaces;
  GstEbpfRelayMode mode;

  GMutex lock;                  /* everything below */
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

  /* scratch for sendmmsg */
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov;
};

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
static void gst_ebpf_relay_sink_add (GstEbpfRelaySink * self,
    const gchar * host, gint port);
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
          "Comma-separated list of host:port subscribers; changes while "
          "PLAYING apply from the next packet", DEFAULT_CLIENTS,
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

  /**
   * GstEbpfRelaySink::add:
   * @ebpfrelaysink: the sink
   * @host: the subscriber's IPv4 address or host name
   * @port: the subscriber's UDP port
   *
   * Adds a subscriber. Adding one that is there already only counts it
   * again (it still gets each packet once); it goes when removed as often.
   * From the next packet on, the subscriber gets every packet.
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
   * ("kernel" or "userspace": who serves it now), `kernel-packets`,
   * `kernel-bytes` (sent by the kernel), `user-packets`, `user-bytes`,
   * `user-errors` (sent from userspace), `packets` and `bytes` (both
   * together; bytes are UDP payload bytes), or NULL for an unknown client.
   */
  gst_ebpf_relay_sink_signals[SIGNAL_GET_STATS] =
      g_signal_new_class_handler ("get-stats", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_ebpf_relay_sink_get_stats),
      NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 2, G_TYPE_STRING, G_TYPE_INT);
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

static void
client_free (Client * c)
{
  g_free (c->host);
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

/* Parses one "host:port" entry of the clients property. */
static gboolean
parse_client (const gchar * entry, gchar ** host, gint * port,
    struct sockaddr_in *addr, GError ** error)
{
  const gchar *colon = strrchr (entry, ':');
  gchar *end = NULL;
  gint64 p;

  if (!colon || colon == entry || colon[1] == '\0') {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "client entry '%s' is not host:port", entry);
    return FALSE;
  }
  p = g_ascii_strtoll (colon + 1, &end, 10);
  if (*end != '\0' || p <= 0 || p > 65535) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "client entry '%s': port '%s' is not a number in 1-65535", entry,
        colon + 1);
    return FALSE;
  }
  *host = g_strndup (entry, colon - entry);
  *port = p;
  if (!resolve_host (*host, *port, addr, error)) {
    g_clear_pointer (host, g_free);
    return FALSE;
  }
  return TRUE;
}

/* Parses the whole clients property into a list of Client (add_count 1,
 * duplicates merged). */
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
    c = g_new0 (Client, 1);
    if (!parse_client (entry, &c->host, &c->port, &c->addr, error)) {
      g_free (c);
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
    c->add_count = 1;
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
  self->slots[i] = c;
  if (i >= self->n_slots)
    self->n_slots = i + 1;
  if (self->kernel) {
    program_client (self, c, g_get_monotonic_time ());
    relay_kernel_set_n_slots (self->kernel, self->n_slots);
  }
  return TRUE;
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

/* --- sending from userspace ---------------------------------------------- */

static void
send_batch (GstEbpfRelaySink * self, Client ** batch, guint n, gsize len)
{
  guint done = 0;

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
      batch[done + i]->user_bytes += len;
    }
    done += r;
  }
}

/* Sends @data to the clients whose bit is set in @bitmap (all if NULL and
 * @only_userspace is FALSE). */
static void
send_to_clients (GstEbpfRelaySink * self, const guint64 * bitmap,
    const guint8 * data, gsize len)
{
  Client *batch[SEND_BATCH];
  guint n = 0, i;

  self->iov.iov_base = (void *) data;
  self->iov.iov_len = len;
  for (i = 0; i < self->n_slots; i++) {
    Client *c = self->slots[i];

    if (!c)
      continue;
    if (bitmap && !(bitmap[i / 64] & (G_GUINT64_CONSTANT (1) << (i % 64))))
      continue;
    memset (&self->msgs[n], 0, sizeof (self->msgs[n]));
    self->msgs[n].msg_hdr.msg_name = &c->addr;
    self->msgs[n].msg_hdr.msg_namelen = sizeof (c->addr);
    self->msgs[n].msg_hdr.msg_iov = &self->iov;
    self->msgs[n].msg_hdr.msg_iovlen = 1;
    batch[n++] = c;
    if (n == SEND_BATCH) {
      send_batch (self, batch, n, len);
      n = 0;
    }
  }
  if (n)
    send_batch (self, batch, n, len);
}

/* Called from relay_kernel_poll with the lock held. */
static void
on_kernel_event (const guint64 * bitmap, const guint8 * payload, gsize len,
    gpointer user_data)
{
  GstEbpfRelaySink *self = user_data;

  send_to_clients (self, bitmap, payload, len);
}

/* Moves subscribers whose path became known to the kernel, and checks
 * kernel-served ones again now and then (route or MAC may change). */
static void
check_clients (GstEbpfRelaySink * self)
{
  gint64 now = g_get_monotonic_time ();
  guint i, budget = REVALIDATE_PER_BUFFER;

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
  if (self->used_socket)
    self->send_fd = g_socket_get_fd (self->used_socket);
  g_weak_ref_set (&self->udpsrc, NULL);
  gst_object_unref (udpsrc);
}

static GstFlowReturn
gst_ebpf_relay_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstEbpfRelaySink *self = GST_EBPF_RELAY_SINK (sink);
  GstMapInfo map;

  GST_EBPF_RELAY_SINK_LOCK (self);
  if (G_UNLIKELY (self->buffers_in++ == 0))
    use_udpsrc_socket (self);
  if (self->kernel) {
    /* The kernel has forwarded this packet already; send only what it left
     * to userspace, then see whether more clients can go to the kernel. */
    relay_kernel_poll (self->kernel);
    check_clients (self);
  } else if (self->n_slots > 0) {
    if (gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      send_to_clients (self, NULL, map.data, map.size);
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
  self->n_slots = 0;
  for (i = 0; i < self->clients->len; i++) {
    if (!activate_client (self, g_ptr_array_index (self->clients, i), &err)) {
      GST_EBPF_RELAY_SINK_UNLOCK (self);
      goto bad_client;
    }
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);

  g_strfreev (ifnames);
  g_clear_object (&udpsrc);
  return TRUE;

  /* ERRORS */
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

  GST_EBPF_RELAY_SINK_LOCK (self);
  self->running = FALSE;
  g_clear_pointer (&self->kernel, relay_kernel_free);
  g_clear_pointer (&self->router, relay_router_free);
  memset (self->slots, 0, sizeof (self->slots));
  self->n_slots = 0;
  g_clear_object (&self->used_socket);
  g_weak_ref_set (&self->udpsrc, NULL);
  if (self->own_fd >= 0)
    close (self->own_fd);
  self->own_fd = self->send_fd = -1;
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return TRUE;
}

/* --- subscribers ------------------------------------------------------------ */

/* Adds (or counts again) one client; with the lock held. Returns the new
 * client, or NULL when it existed or failed (@error set then). */
static Client *
add_client_locked (GstEbpfRelaySink * self, const gchar * host, gint port,
    const struct sockaddr_in *addr, GError ** error)
{
  Client *c = find_client (self, addr);

  if (c) {
    c->add_count++;
    return NULL;
  }
  c = g_new0 (Client, 1);
  c->host = g_strdup (host);
  c->port = port;
  c->addr = *addr;
  c->add_count = 1;
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

static void
gst_ebpf_relay_sink_add (GstEbpfRelaySink * self, const gchar * host,
    gint port)
{
  struct sockaddr_in addr;
  GError *err = NULL;
  Client *c;

  if (!host || !resolve_host (host, port, &addr, &err))
    goto bad;
  GST_EBPF_RELAY_SINK_LOCK (self);
  c = add_client_locked (self, host, port, &addr, &err);
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  if (err)
    goto bad;
  if (c) {
    GST_DEBUG_OBJECT (self, "added %s:%d", host, port);
    emit_client (self, SIGNAL_CLIENT_ADDED, c);
  }
  return;

bad:
  GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
      ("Client not added: %s", err ? err->message : "no host"),
      ("add (%s, %d)", GST_STR_NULL (host), port));
  g_clear_error (&err);
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

    if (c)
      continue;
    c = add_client_locked (self, w->host, w->port, &w->addr, &err);
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
  }
  GST_EBPF_RELAY_SINK_UNLOCK (self);
  return g_string_free (s, FALSE);
}

/* --- statistics ----------------------------------------------------------- */

static GstStructure *
client_stats (GstEbpfRelaySink * self, Client * c)
{
  guint64 kp = 0, kb = 0;

  if (self->kernel && self->running)
    relay_kernel_slot_counters (self->kernel, c->slot, &kp, &kb);
  return gst_structure_new ("application/x-ebpfrelaysink-client-stats",
      "host", G_TYPE_STRING, c->host,
      "port", G_TYPE_INT, c->port,
      "path", G_TYPE_STRING, c->in_kernel ? "kernel" : "userspace",
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
      "lost-events", G_TYPE_UINT64,
      self->kernel ? relay_kernel_lost_events (self->kernel) : 0, NULL);
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
