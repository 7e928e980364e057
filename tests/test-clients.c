/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-clients: ebpfrelaysink's subscriber table (gst-plugin/
 * ebpfrelay-clients.c) without GStreamer and without privilege, in
 * userspace mode (no kernel handle) on loopback addresses: parsing of
 * host:port@limit and the errors that name a bad entry, adding again and
 * removing (counted), set_clients' diff (who goes, who comes, who stays
 * with its state), limits, slot assignment and reuse, the forwarding-loop
 * check, a full table and the subscription channel's callbacks, and the
 * limit_lowered callback (lowered, never raised, from every path).
 */
#include <string.h>
#include <arpa/inet.h>

#include "ebpfrelay-clients.h"

typedef struct
{
  GMutex lock;
  RelayClients *t;
  GPtrArray *added;             /* "host:port" of each added callback */
  GPtrArray *removed;
  GPtrArray *refused;           /* error messages */
  GPtrArray *lowered;           /* "host:port@limit" of each limit_lowered */
} Fixture;

static gchar *
name_of (RelayClient * c)
{
  return g_strdup_printf ("%s:%d", c->host, c->port);
}

static void
on_added (RelayClient * c, gpointer user_data)
{
  Fixture *f = user_data;

  /* called without the lock */
  g_assert_true (g_mutex_trylock (&f->lock));
  g_mutex_unlock (&f->lock);
  g_ptr_array_add (f->added, name_of (c));
}

static void
on_removed (RelayClient * c, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_true (g_mutex_trylock (&f->lock));
  g_mutex_unlock (&f->lock);
  /* no longer in the table */
  g_assert_null (relay_clients_find (f->t, &c->addr));
  g_ptr_array_add (f->removed, name_of (c));
}

static void
on_refused (const GError * error, const gchar * clients, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->refused, g_strdup (error->message));
}

static void
on_limit_lowered (RelayClient * c, gpointer user_data)
{
  Fixture *f = user_data;

  /* called with the lock held */
  g_assert_false (g_mutex_trylock (&f->lock));
  g_ptr_array_add (f->lowered, g_strdup_printf ("%s:%d@%u", c->host, c->port,
          c->limit));
}

static const RelayClientsCallbacks callbacks = {
  on_added, on_removed, on_refused, NULL, on_limit_lowered
};

static void
fixture_init (Fixture * f)
{
  g_mutex_init (&f->lock);
  f->t = relay_clients_new (&f->lock, &callbacks, f);
  f->added = g_ptr_array_new_with_free_func (g_free);
  f->removed = g_ptr_array_new_with_free_func (g_free);
  f->refused = g_ptr_array_new_with_free_func (g_free);
  f->lowered = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_clear (Fixture * f)
{
  relay_clients_free (f->t);
  g_ptr_array_free (f->added, TRUE);
  g_ptr_array_free (f->removed, TRUE);
  g_ptr_array_free (f->refused, TRUE);
  g_ptr_array_free (f->lowered, TRUE);
  g_mutex_clear (&f->lock);
}

static void
fixture_reset_calls (Fixture * f)
{
  g_ptr_array_set_size (f->added, 0);
  g_ptr_array_set_size (f->removed, 0);
  g_ptr_array_set_size (f->refused, 0);
  g_ptr_array_set_size (f->lowered, 0);
}

/* @got holds exactly the names that follow (NULL-terminated), in order. */
static void
assert_names (GPtrArray * got, ...)
{
  const gchar *want;
  va_list args;
  guint i = 0;

  va_start (args, got);
  while ((want = va_arg (args, const gchar *))) {
    g_assert_cmpuint (i, <, got->len);
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, want);
    i++;
  }
  va_end (args);
  g_assert_cmpuint (got->len, ==, i);
}

static RelayAddr
addr_of (const gchar * host, gint port)
{
  RelayAddr a;

  g_assert_true (relay_client_resolve (host, port, &a, NULL));
  return a;
}

static RelayClient *
find (Fixture * f, const gchar * host, gint port)
{
  RelayAddr a = addr_of (host, port);
  RelayClient *c;

  g_mutex_lock (&f->lock);
  c = relay_clients_find (f->t, &a);
  g_mutex_unlock (&f->lock);
  return c;
}

static gchar *
clients_string (Fixture * f)
{
  gchar *s;

  g_mutex_lock (&f->lock);
  s = relay_clients_to_string (f->t);
  g_mutex_unlock (&f->lock);
  return s;
}

static void
start (Fixture * f)
{
  GError *err = NULL;

  g_mutex_lock (&f->lock);
  g_assert_true (relay_clients_prepare (f->t, 5004, NULL, &err));
  g_assert_true (relay_clients_start (f->t, NULL, &err));
  g_assert_no_error (err);
  g_mutex_unlock (&f->lock);
}

/* --- parsing ------------------------------------------------------------------ */

static void
assert_entry_error (const gchar * entry, const gchar * message)
{
  GError *err = NULL;

  g_assert_null (relay_client_parse (entry, &err));
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS);
  g_assert_cmpstr (err->message, ==, message);
  g_error_free (err);
}

static void
test_parse_entry (void)
{
  GError *err = NULL;
  RelayClient *c;

  c = relay_client_parse ("127.0.0.1:5000", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (c->host, ==, "127.0.0.1");
  g_assert_cmpint (c->port, ==, 5000);
  g_assert_cmpuint (c->limit, ==, 0);
  g_assert_cmpuint (c->add_count, ==, 1);
  g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET);
  g_assert_cmphex (ntohl (c->addr.v4.sin_addr.s_addr), ==, 0x7f000001);
  g_assert_cmpuint (ntohs (c->addr.v4.sin_port), ==, 5000);
  relay_client_free (c);

  c = relay_client_parse ("127.0.0.2:6000@6", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (c->host, ==, "127.0.0.2");
  g_assert_cmpint (c->port, ==, 6000);
  g_assert_cmpuint (c->limit, ==, 6);
  relay_client_free (c);

  c = relay_client_parse ("127.0.0.3:1@0", &err);
  g_assert_cmpuint (c->limit, ==, 0);
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.3:65535@7", &err);
  g_assert_cmpint (c->port, ==, 65535);
  g_assert_cmpuint (c->limit, ==, 7);
  relay_client_free (c);

  /* a name: resolved, kept as written */
  c = relay_client_parse ("localhost:7000", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (c->host, ==, "localhost");
  g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET);
  g_assert_cmphex (ntohl (c->addr.v4.sin_addr.s_addr) >> 24, ==, 127);
  relay_client_free (c);

  assert_entry_error ("127.0.0.1",
      "client entry '127.0.0.1' is not host:port[@limit][/rtcp-port|/mux]");
  assert_entry_error (":5000",
      "client entry ':5000' is not host:port[@limit][/rtcp-port|/mux]");
  assert_entry_error ("127.0.0.1:",
      "client entry '127.0.0.1:' is not host:port[@limit][/rtcp-port|/mux]");
  assert_entry_error ("127.0.0.1:abc",
      "client entry '127.0.0.1:abc': port 'abc' is not a number in 1-65535");
  assert_entry_error ("127.0.0.1:0",
      "client entry '127.0.0.1:0': port '0' is not a number in 1-65535");
  assert_entry_error ("127.0.0.1:65536",
      "client entry '127.0.0.1:65536': port '65536' is not a number in "
      "1-65535");
  assert_entry_error ("127.0.0.1:50x",
      "client entry '127.0.0.1:50x': port '50x' is not a number in 1-65535");
  assert_entry_error ("127.0.0.1:5000@8",
      "client entry '127.0.0.1:5000@8': priority limit '8' is not a number "
      "in 0-7 or 'auto'");
  assert_entry_error ("127.0.0.1:5000@",
      "client entry '127.0.0.1:5000@': priority limit '' is not a number "
      "in 0-7 or 'auto'");
  assert_entry_error ("127.0.0.1:5000@-1",
      "client entry '127.0.0.1:5000@-1': priority limit '-1' is not a "
      "number in 0-7 or 'auto'");
  assert_entry_error ("127.0.0.1:5000@3x",
      "client entry '127.0.0.1:5000@3x': priority limit '3x' is not a "
      "number in 0-7 or 'auto'");
  /* an IPv6 literal without brackets: ambiguous, refused */
  assert_entry_error ("::1:5000", "client entry '::1:5000': an IPv6 address "
      "goes in brackets, [2001:db8::2]:6000");
}

/* IPv6 literals in brackets, with limit and RTCP port; the v6 addresses
 * nobody subscribes at refused as the v4 ones are; v4-mapped ones are
 * IPv4; the table tells families apart and writes brackets back. */
static void
test_parse_ipv6 (void)
{
  GError *err = NULL;
  RelayClient *c;
  struct in6_addr want;
  RelayAddr a, b;
  gchar buf[RELAY_ADDR_STRLEN];

  c = relay_client_parse ("[2001:db8::2]:6000@6/mux", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (c->host, ==, "2001:db8::2");
  g_assert_cmpint (c->port, ==, 6000);
  g_assert_cmpuint (c->limit, ==, 6);
  g_assert_cmpint (c->rtcp_port, ==, 6000);
  g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET6);
  g_assert_cmpuint (relay_addr_len (&c->addr), ==,
      sizeof (struct sockaddr_in6));
  g_assert_cmpint (inet_pton (AF_INET6, "2001:db8::2", &want), ==, 1);
  g_assert_cmpmem (&c->addr.v6.sin6_addr, 16, &want, 16);
  g_assert_cmpuint (ntohs (c->addr.v6.sin6_port), ==, 6000);
  g_assert_cmpstr (relay_addr_to_string (&c->addr, buf, sizeof (buf)), ==,
      "[2001:db8::2]:6000");
  relay_client_free (c);

  c = relay_client_parse ("[::1]:5000/7011", &err);
  g_assert_no_error (err);
  g_assert_cmpstr (c->host, ==, "::1");
  g_assert_cmpint (c->rtcp_port, ==, 7011);
  g_assert_cmpuint (c->limit, ==, 0);
  relay_client_free (c);
  c = relay_client_parse ("[::1]:5000", &err);
  g_assert_cmpint (c->rtcp_port, ==, 5001);
  relay_client_free (c);

  /* adaptive (issue 12) in IPv6 too */
  c = relay_client_parse ("[::1]:5000@auto/mux", &err);
  g_assert_no_error (err);
  g_assert_true (c->adaptive);
  g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET6);
  g_assert_cmpint (c->rtcp_port, ==, 5000);
  relay_client_free (c);

  /* v4-mapped: the IPv4 subscriber it is */
  c = relay_client_parse ("[::ffff:127.0.0.5]:5000", &err);
  g_assert_no_error (err);
  g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET);
  g_assert_cmphex (ntohl (c->addr.v4.sin_addr.s_addr), ==, 0x7f000005);
  relay_client_free (c);

  /* a name that only has an AAAA record (glibc's files: ip6-localhost
   * when /etc/hosts has it) */
  if (relay_client_resolve ("ip6-localhost", 5000, &a, NULL)) {
    c = relay_client_parse ("ip6-localhost:5000", &err);
    g_assert_no_error (err);
    g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET6);
    g_assert_true (IN6_IS_ADDR_LOOPBACK (&c->addr.v6.sin6_addr));
    relay_client_free (c);
  }

  assert_entry_error ("[::]:5000",
      "client '[::]' is unspecified (::): nobody receives there");
  assert_entry_error ("[ff02::1]:5000",
      "client '[ff02::1]' is an IPv6 group of interface-local or link-local "
      "scope (ff01::/16, ff02::/16: neighbour discovery, routing protocols, "
      "not media) or of the reserved scope 0");
  assert_entry_error ("[ff01::1234]:5000",
      "client '[ff01::1234]' is an IPv6 group of interface-local or "
      "link-local scope (ff01::/16, ff02::/16: neighbour discovery, routing "
      "protocols, not media) or of the reserved scope 0");
  assert_entry_error ("[ff30::1234]:5000",
      "client '[ff30::1234]' is an IPv6 group of interface-local or "
      "link-local scope (ff01::/16, ff02::/16: neighbour discovery, routing "
      "protocols, not media) or of the reserved scope 0");
  assert_entry_error ("[ff3f::1234]:5000",
      "client '[ff3f::1234]' is an IPv6 group of the reserved scope 15");
  /* a group of a wider scope is a subscriber, as an IPv4 one */
  {
    const gchar *groups[] = { "[ff0e::1234]:5000@3", "[ff05::1:3]:5000",
      "[ff15::9]:5000", "[ff38::1]:5000"
    };

    for (guint i = 0; i < G_N_ELEMENTS (groups); i++) {
      RelayClient *c = relay_client_parse (groups[i], &err);

      g_assert_no_error (err);
      g_assert_true (IN6_IS_ADDR_MULTICAST (&c->addr.v6.sin6_addr));
      relay_client_free (c);
    }
  }
  /* an IPv4 group is a subscriber (multiudpsink's multicast clients);
   * the local network control block is not */
  {
    RelayClient *g = relay_client_parse ("239.1.2.3:5000@6", NULL);

    g_assert_nonnull (g);
    g_assert_cmpint (g->limit, ==, 6);
    relay_client_free (g);
  }
  assert_entry_error ("224.0.0.1:5000",
      "client '224.0.0.1' is in 224.0.0.0/24, the local network control "
      "groups (routing protocols, not media)");
  assert_entry_error ("[2001:db8::zz]:5000",
      "client '[2001:db8::zz]' is not an IPv6 address (IPv6 literals go in "
      "brackets: [2001:db8::2]:6000; zone indexes are not supported)");
  assert_entry_error ("[127.0.0.1]:5000",
      "client '[127.0.0.1]' is not an IPv6 address (IPv6 literals go in "
      "brackets: [2001:db8::2]:6000; zone indexes are not supported)");
  assert_entry_error ("[::1]:0",
      "client entry '[::1]:0': port '0' is not a number in 1-65535");
  assert_entry_error ("[::1]:5000@9",
      "client entry '[::1]:5000@9': priority limit '9' is not a number "
      "in 0-7 or 'auto'");

  /* the same address and port in both families: two subscribers; the
   * same v6 one written differently: one */
  g_assert_true (relay_client_resolve ("[2001:db8:0::2]", 6000, &a, NULL));
  g_assert_true (relay_client_resolve ("2001:db8::2", 6000, &b, NULL));
  g_assert_true (relay_addr_equal (&a, &b));
  g_assert_true (relay_client_resolve ("2001:db8::2", 6001, &b, NULL));
  g_assert_false (relay_addr_equal (&a, &b));
  g_assert_true (relay_client_resolve ("::ffff:10.0.0.1", 6000, &a, NULL));
  g_assert_true (relay_client_resolve ("10.0.0.1", 6000, &b, NULL));
  g_assert_true (relay_addr_equal (&a, &b));
}

/* A mixed v4/v6 table: found by family and address, merged duplicates,
 * brackets written back, add/remove/set-priority-limit by v6 host. */
static void
test_table_ipv6 (void)
{
  Fixture f;
  gchar *s;
  GError *err = NULL;
  RelayClient *c;

  fixture_init (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000@2,[::1]:5000@3/mux,[0:0::1]:5000@5,[::1]:5002",
          NULL));
  g_assert_cmpuint (f.t->clients->len, ==, 3);
  s = clients_string (&f);
  /* the repeated [::1]:5000 counted twice (multiudpsink), listed twice */
  g_assert_cmpstr (s, ==,
      "127.0.0.1:5000@2,[::1]:5000@3/mux,[::1]:5000@3/mux,[::1]:5002");
  g_free (s);
  c = find (&f, "::1", 5000);
  g_assert_cmpuint (c->add_count, ==, 2);
  g_assert_nonnull (c);
  g_assert_cmpuint (c->limit, ==, 3);
  g_assert_cmpint (c->addr.sa.sa_family, ==, AF_INET6);
  g_assert_true (find (&f, "127.0.0.1", 5000) != c);

  g_assert_true (relay_clients_set_limit_host (f.t, "[::1]", 5000, 7, NULL));
  g_assert_cmpuint (c->limit, ==, 7);
  g_assert_true (relay_clients_add_host (f.t, "[2001:db8::9]", 7000, 1,
          FALSE, NULL));
  g_assert_true (relay_clients_add_host_full (f.t, "2001:db8::a", 7000, 1,
          RELAY_CLIENT_RTCP_MUX, FALSE, NULL));
  g_assert_false (relay_clients_add_host (f.t, "ff02::1", 7000, 1, FALSE,
          &err));
  g_assert_nonnull (strstr (err->message, "link-local scope"));
  g_clear_error (&err);
  s = clients_string (&f);
  g_assert_cmpstr (s, ==, "127.0.0.1:5000@2,[::1]:5000@7/mux,"
      "[::1]:5000@7/mux,[::1]:5002,[2001:db8::9]:7000@1,"
      "[2001:db8::a]:7000@1/mux");
  g_free (s);
  /* added twice: gone at the second remove */
  g_assert_true (relay_clients_remove_host (f.t, "::1", 5000));
  g_assert_nonnull (find (&f, "::1", 5000));
  g_assert_true (relay_clients_remove_host (f.t, "::1", 5000));
  g_assert_false (relay_clients_remove_host (f.t, "::1", 5000));
  g_assert_true (relay_clients_remove_host (f.t, "[2001:db8::9]", 7000));
  g_assert_null (find (&f, "::1", 5000));
  g_assert_nonnull (find (&f, "127.0.0.1", 5000));
  s = clients_string (&f);
  g_assert_cmpstr (s, ==, "127.0.0.1:5000@2,[::1]:5002,"
      "[2001:db8::a]:7000@1/mux");
  g_free (s);
  fixture_clear (&f);
}

/* host:port[@limit][/rtcp-port|/mux]: the RTCP destination; bad ones
 * named. */
static void
test_parse_rtcp (void)
{
  GError *err = NULL;
  RelayClient *c;

  c = relay_client_parse ("127.0.0.1:5000", &err);
  g_assert_cmpint (c->rtcp_port, ==, 5001);
  g_assert_cmpint (c->rtcp_given, ==, RELAY_CLIENT_RTCP_DEFAULT);
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.1:65535", &err);
  g_assert_cmpint (c->rtcp_port, ==, 0);        /* nowhere */
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.1:5000/7011", &err);
  g_assert_no_error (err);
  g_assert_cmpint (c->port, ==, 5000);
  g_assert_cmpuint (c->limit, ==, 0);
  g_assert_cmpint (c->rtcp_port, ==, 7011);
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.1:5000@6/7011", &err);
  g_assert_no_error (err);
  g_assert_cmpuint (c->limit, ==, 6);
  g_assert_cmpint (c->rtcp_port, ==, 7011);
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.1:5000@7/mux", &err);
  g_assert_no_error (err);
  g_assert_cmpuint (c->limit, ==, 7);
  g_assert_cmpint (c->rtcp_port, ==, 5000);
  g_assert_cmpint (c->rtcp_given, ==, RELAY_CLIENT_RTCP_MUX);
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.1:65535/mux", &err);
  g_assert_cmpint (c->rtcp_port, ==, 65535);
  relay_client_free (c);
  c = relay_client_parse ("localhost:5000/1", &err);
  g_assert_no_error (err);
  g_assert_cmpint (c->rtcp_port, ==, 1);
  relay_client_free (c);

  assert_entry_error ("127.0.0.1:5000/",
      "client entry '127.0.0.1:5000/': RTCP port '' is not a number in "
      "1-65535 or 'mux' (the form is host:port[@limit][/rtcp-port|/mux])");
  assert_entry_error ("127.0.0.1:5000/0",
      "client entry '127.0.0.1:5000/0': RTCP port '0' is not a number in "
      "1-65535 or 'mux' (the form is host:port[@limit][/rtcp-port|/mux])");
  assert_entry_error ("127.0.0.1:5000/65536",
      "client entry '127.0.0.1:5000/65536': RTCP port '65536' is not a "
      "number in 1-65535 or 'mux' (the form is "
      "host:port[@limit][/rtcp-port|/mux])");
  assert_entry_error ("127.0.0.1:5000/-1",
      "client entry '127.0.0.1:5000/-1': RTCP port '-1' is not a number in "
      "1-65535 or 'mux' (the form is host:port[@limit][/rtcp-port|/mux])");
  assert_entry_error ("127.0.0.1:5000/MUX",
      "client entry '127.0.0.1:5000/MUX': RTCP port 'MUX' is not a number in "
      "1-65535 or 'mux' (the form is host:port[@limit][/rtcp-port|/mux])");
  /* the limit goes first */
  assert_entry_error ("127.0.0.1:5000/7011@3",
      "client entry '127.0.0.1:5000/7011@3': RTCP port '7011@3' is not a "
      "number in 1-65535 or 'mux' (the form is "
      "host:port[@limit][/rtcp-port|/mux])");
  assert_entry_error ("127.0.0.1:5000/70/11",
      "client entry '127.0.0.1:5000/70/11': RTCP port '70/11' is not a "
      "number in 1-65535 or 'mux' (the form is "
      "host:port[@limit][/rtcp-port|/mux])");
  assert_entry_error ("127.0.0.1:5000@9/mux",
      "client entry '127.0.0.1:5000@9/mux': priority limit '9' is not a "
      "number in 0-7 or 'auto'");
  assert_entry_error ("127.0.0.1/mux",
      "client entry '127.0.0.1/mux' is not "
      "host:port[@limit][/rtcp-port|/mux]");
  assert_entry_error ("127.0.0.1:x/mux",
      "client entry '127.0.0.1:x/mux': port 'x' is not a number in 1-65535");
}

/* The RTCP port through the table: a clients change keeps the client and
 * takes the new port (the listener hears it), to_string writes what was
 * given, add keeps it, add-full and the channel set it, remove finds the
 * client by its media address whatever its RTCP port. */
static void
on_rtcp_changed (RelayClient * c, gpointer user_data)
{
  GPtrArray *log = user_data;

  g_ptr_array_add (log, g_strdup_printf ("%s:%d/%d", c->host, c->port,
          c->rtcp_port));
}

static void
test_rtcp_table (void)
{
  const RelayControlServerCallbacks *cb = &relay_clients_control_callbacks;
  GPtrArray *log = g_ptr_array_new_with_free_func (g_free);
  GError *err = NULL;
  Fixture f;
  RelayClient *c;
  gchar *str;

  fixture_init (&f);
  relay_clients_set_rtcp_listener (f.t, on_rtcp_changed, log);
  g_assert_true (relay_clients_set_string (f.t, "127.0.0.1:5000/7011,"
          "127.0.0.2:5000@3/mux,127.0.0.3:5000,127.0.0.4:5000/5001", &err));
  g_assert_no_error (err);
  str = relay_clients_to_string (f.t);
  /* (an explicit port + 1 is the default: not written) */
  g_assert_cmpstr (str, ==, "127.0.0.1:5000/7011,127.0.0.2:5000@3/mux,"
      "127.0.0.3:5000,127.0.0.4:5000");
  g_free (str);
  c = find (&f, "127.0.0.1", 5000);
  g_assert_cmpint (c->rtcp_port, ==, 7011);
  g_assert_cmpuint (log->len, ==, 0);   /* new ones: no change */
  /* the same set with other RTCP ports: same clients, new ports */
  g_assert_true (relay_clients_set_string (f.t, "127.0.0.1:5000/7012,"
          "127.0.0.2:5000@3,127.0.0.3:5000/mux,127.0.0.4:5000", &err));
  g_assert_true (find (&f, "127.0.0.1", 5000) == c);
  g_assert_cmpint (c->rtcp_port, ==, 7012);
  g_assert_cmpuint (f.removed->len, ==, 0);
  g_assert_cmpuint (log->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (log, 0), ==, "127.0.0.1:5000/7012");
  g_assert_cmpstr (g_ptr_array_index (log, 1), ==, "127.0.0.2:5000/5001");
  g_assert_cmpstr (g_ptr_array_index (log, 2), ==, "127.0.0.3:5000/5000");
  /* a bad entry changes nothing */
  g_assert_false (relay_clients_set_string (f.t, "127.0.0.1:5000/x", &err));
  g_assert_nonnull (strstr (err->message, "'127.0.0.1:5000/x'"));
  g_clear_error (&err);
  g_assert_cmpint (c->rtcp_port, ==, 7012);

  /* add keeps the RTCP port of an existing client, add-full sets it */
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 0, FALSE,
          &err));
  g_assert_cmpint (c->rtcp_port, ==, 7012);
  g_assert_true (relay_clients_add_host_full (f.t, "127.0.0.1", 5000, 2,
          RELAY_CLIENT_RTCP_MUX, TRUE, &err));
  g_assert_cmpint (c->rtcp_port, ==, 5000);
  g_assert_cmpuint (c->limit, ==, 2);
  g_assert_true (relay_clients_add_host_full (f.t, "127.0.0.9", 6000, 0,
          6100, TRUE, &err));
  g_assert_cmpint (find (&f, "127.0.0.9", 6000)->rtcp_port, ==, 6100);
  g_assert_false (relay_clients_add_host_full (f.t, "127.0.0.8", 6000, 0,
          65536, TRUE, &err));
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS);
  g_assert_nonnull (strstr (err->message, "RTCP port 65536"));
  g_clear_error (&err);
  g_assert_false (relay_clients_add_host_full (f.t, "127.0.0.8", 6000, 0,
          -2, TRUE, &err));
  g_clear_error (&err);
  g_assert_null (find (&f, "127.0.0.8", 6000));
  /* remove finds it by its media address */
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.9", 6000));
  g_assert_null (find (&f, "127.0.0.9", 6000));

  /* the channel: a SUBSCRIBE naming a port, none (-1: port + 1), a
   * refresh naming another */
  g_assert_true (cb->add_rtcp ("127.0.0.5", 6000, 1, 6011, f.t));
  g_assert_cmpint (find (&f, "127.0.0.5", 6000)->rtcp_port, ==, 6011);
  g_assert_true (cb->add_rtcp ("127.0.0.6", 6000, 1, -1, f.t));
  g_assert_cmpint (find (&f, "127.0.0.6", 6000)->rtcp_port, ==, 6001);
  g_assert_true (cb->set_rtcp ("127.0.0.5", 6000, 6000, f.t));
  g_assert_cmpint (find (&f, "127.0.0.5", 6000)->rtcp_port, ==, 6000);
  g_assert_false (cb->set_rtcp ("127.0.0.7", 6000, 6000, f.t));
  str = relay_clients_to_string (f.t);
  g_assert_nonnull (strstr (str, "127.0.0.5:6000@1/mux"));
  g_free (str);
  fixture_clear (&f);
  g_ptr_array_free (log, TRUE);
}

static void
test_parse_list (void)
{
  GPtrArray *list = NULL;
  GError *err = NULL;
  RelayClient *c;

  /* blanks and empty entries skipped; a duplicate merged and counted
   * (multiudpsink's add count), the first one's limit counts */
  g_assert_true (relay_clients_parse (" 127.0.0.1:5000 ,, 127.0.0.2:5000@3,"
          "127.0.0.1:5000@7, ", &list, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (list->len, ==, 2);
  c = g_ptr_array_index (list, 0);
  g_assert_cmpstr (c->host, ==, "127.0.0.1");
  g_assert_cmpuint (c->limit, ==, 0);
  g_assert_cmpuint (c->add_count, ==, 2);
  c = g_ptr_array_index (list, 1);
  g_assert_cmpstr (c->host, ==, "127.0.0.2");
  g_assert_cmpuint (c->add_count, ==, 1);
  g_assert_cmpuint (c->limit, ==, 3);
  g_ptr_array_free (list, TRUE);

  /* same address, other port: two clients */
  g_assert_true (relay_clients_parse ("127.0.0.1:5000,127.0.0.1:5002",
          &list, NULL));
  g_assert_cmpuint (list->len, ==, 2);
  g_ptr_array_free (list, TRUE);

  g_assert_true (relay_clients_parse (NULL, &list, NULL));
  g_assert_cmpuint (list->len, ==, 0);
  g_ptr_array_free (list, TRUE);

  /* one bad entry refuses the whole list, and the error names it */
  list = NULL;
  g_assert_false (relay_clients_parse ("127.0.0.1:5000,127.0.0.2:x",
          &list, &err));
  g_assert_null (list);
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS);
  g_assert_nonnull (strstr (err->message, "'127.0.0.2:x'"));
  g_clear_error (&err);
}

static void
test_resolve_and_limit (void)
{
  RelayAddr a;
  GError *err = NULL;

  g_assert_false (relay_client_resolve ("127.0.0.1", 0, &a, &err));
  g_assert_cmpstr (err->message, ==,
      "port 0 of client '127.0.0.1' is out of range (1-65535)");
  g_clear_error (&err);
  g_assert_false (relay_client_resolve ("127.0.0.1", 65536, &a, &err));
  g_assert_cmpstr (err->message, ==,
      "port 65536 of client '127.0.0.1' is out of range (1-65535)");
  g_clear_error (&err);

  for (gint l = 0; l <= 7; l++)
    g_assert_true (relay_client_check_limit (l, NULL));
  g_assert_false (relay_client_check_limit (8, &err));
  g_assert_cmpstr (err->message, ==, "priority limit 8 is not in 0-7");
  g_clear_error (&err);
  g_assert_false (relay_client_check_limit (-1, &err));
  g_assert_cmpstr (err->message, ==, "priority limit -1 is not in 0-7");
  g_clear_error (&err);
}

/* --- adding and removing ------------------------------------------------------ */

static void
test_add_remove (void)
{
  Fixture f;
  GError *err = NULL;
  RelayClient *c;
  gchar *s;

  fixture_init (&f);
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 3, FALSE,
          &err));
  g_assert_no_error (err);
  assert_names (f.added, "127.0.0.1:5000", NULL);
  c = find (&f, "127.0.0.1", 5000);
  g_assert_nonnull (c);
  g_assert_cmpuint (c->limit, ==, 3);
  g_assert_cmpuint (c->add_count, ==, 1);
  g_assert_null (find (&f, "127.0.0.1", 5002));

  /* again: counted, no second client-added, limit kept without
   * set_limit, taken with it (the latest subscription wins) */
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 5, FALSE,
          NULL));
  g_assert_cmpuint (f.added->len, ==, 1);
  g_assert_true (find (&f, "127.0.0.1", 5000) == c);
  g_assert_cmpuint (c->add_count, ==, 2);
  g_assert_cmpuint (c->limit, ==, 3);
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 5, TRUE,
          NULL));
  g_assert_cmpuint (c->add_count, ==, 3);
  g_assert_cmpuint (c->limit, ==, 5);
  g_assert_cmpuint (f.added->len, ==, 1);

  g_assert_true (relay_clients_add_host (f.t, "127.0.0.2", 5000, 0, FALSE,
          NULL));
  s = clients_string (&f);
  /* listed as often as added (multiudpsink's clients) */
  g_assert_cmpstr (s, ==,
      "127.0.0.1:5000@5,127.0.0.1:5000@5,127.0.0.1:5000@5,127.0.0.2:5000");
  g_free (s);

  /* removed as often as added */
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.1", 5000));
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.1", 5000));
  g_assert_cmpuint (f.removed->len, ==, 0);
  g_assert_true (find (&f, "127.0.0.1", 5000) == c);
  g_assert_cmpuint (c->add_count, ==, 1);
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.1", 5000));
  assert_names (f.removed, "127.0.0.1:5000", NULL);
  g_assert_null (find (&f, "127.0.0.1", 5000));
  g_assert_false (relay_clients_remove_host (f.t, "127.0.0.1", 5000));
  g_assert_false (relay_clients_remove_host (f.t, NULL, 5000));
  g_assert_cmpuint (f.removed->len, ==, 1);

  /* refused before the table is touched */
  g_assert_false (relay_clients_add_host (f.t, NULL, 5000, 0, FALSE, &err));
  g_assert_cmpstr (err->message, ==, "no host");
  g_clear_error (&err);
  g_assert_false (relay_clients_add_host (f.t, "127.0.0.3", 5000, 8, FALSE,
          &err));
  g_assert_cmpstr (err->message, ==, "priority limit 8 is not in 0-7");
  g_clear_error (&err);
  g_assert_false (relay_clients_add_host (f.t, "127.0.0.3", 0, 0, FALSE, &err));
  g_assert_nonnull (strstr (err->message, "out of range"));
  g_clear_error (&err);
  g_assert_null (find (&f, "127.0.0.3", 5000));
  g_assert_cmpuint (f.added->len, ==, 2);

  /* clear: everyone, whatever their count */
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.2", 5000, 0, FALSE,
          NULL));
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.4", 5000, 0, FALSE,
          NULL));
  fixture_reset_calls (&f);
  relay_clients_remove_all (f.t);
  assert_names (f.removed, "127.0.0.2:5000", "127.0.0.4:5000", NULL);
  g_assert_null (find (&f, "127.0.0.2", 5000));
  g_assert_cmpuint (f.t->clients->len, ==, 0);
  fixture_clear (&f);
}

static void
test_set_limit (void)
{
  Fixture f;
  GError *err = NULL;
  RelayClient *c;

  fixture_init (&f);
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 0, FALSE,
          NULL));
  c = find (&f, "127.0.0.1", 5000);
  g_assert_true (relay_clients_set_limit_host (f.t, "127.0.0.1", 5000, 7,
          &err));
  g_assert_no_error (err);
  g_assert_cmpuint (c->limit, ==, 7);
  g_assert_false (relay_clients_set_limit_host (f.t, "127.0.0.1", 5000, 8,
          &err));
  g_assert_cmpstr (err->message, ==, "priority limit 8 is not in 0-7");
  g_clear_error (&err);
  g_assert_cmpuint (c->limit, ==, 7);
  g_assert_false (relay_clients_set_limit_host (f.t, "127.0.0.9", 5000, 1,
          &err));
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_NOT_FOUND);
  g_assert_cmpstr (err->message, ==, "no client 127.0.0.9:5000");
  g_clear_error (&err);
  g_assert_false (relay_clients_set_limit_host (f.t, NULL, 5000, 1, &err));
  g_assert_cmpstr (err->message, ==, "no client (NULL):5000");
  g_clear_error (&err);
  /* a limit change is no add and no remove */
  g_assert_cmpuint (f.added->len, ==, 1);
  g_assert_cmpuint (f.removed->len, ==, 0);
  fixture_clear (&f);
}

/* limit_lowered: for a lower limit only (it gets more), from
 * set-priority-limit, a clients change, the subscription channel's add and
 * set-limit; not for a raise, the same limit or a new client. */
static void
test_limit_lowered (void)
{
  const RelayControlServerCallbacks *cb = &relay_clients_control_callbacks;
  Fixture f;

  fixture_init (&f);
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 5, TRUE,
          NULL));
  g_assert_cmpuint (f.lowered->len, ==, 0);
  g_assert_true (relay_clients_set_limit_host (f.t, "127.0.0.1", 5000, 7,
          NULL));
  g_assert_true (relay_clients_set_limit_host (f.t, "127.0.0.1", 5000, 7,
          NULL));
  g_assert_cmpuint (f.lowered->len, ==, 0);
  g_assert_true (relay_clients_set_limit_host (f.t, "127.0.0.1", 5000, 3,
          NULL));
  assert_names (f.lowered, "127.0.0.1:5000@3", NULL);
  fixture_reset_calls (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000@1,127.0.0.1:5002@0", NULL));
  assert_names (f.lowered, "127.0.0.1:5000@1", NULL);
  fixture_reset_calls (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000@6,127.0.0.1:5002@0", NULL));
  g_assert_cmpuint (f.lowered->len, ==, 0);
  g_assert_true (cb->add ("127.0.0.1", 5000, 4, f.t));
  g_assert_true (cb->add ("127.0.0.1", 5000, 4, f.t));
  g_assert_true (cb->set_limit ("127.0.0.1", 5000, 2, f.t));
  g_assert_true (cb->set_limit ("127.0.0.1", 5000, 3, f.t));
  assert_names (f.lowered, "127.0.0.1:5000@4", "127.0.0.1:5000@2", NULL);
  fixture_clear (&f);
}

/* --- set_clients -------------------------------------------------------------- */

static void
test_set_string (void)
{
  Fixture f;
  GError *err = NULL;
  RelayClient *a, *b, *c, *d;
  RelaySsrcState *st;
  gchar *s;

  fixture_init (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000,127.0.0.2:5000@2,127.0.0.3:5000", &err));
  g_assert_no_error (err);
  assert_names (f.added, "127.0.0.1:5000", "127.0.0.2:5000", "127.0.0.3:5000",
      NULL);
  start (&f);
  a = find (&f, "127.0.0.1", 5000);
  b = find (&f, "127.0.0.2", 5000);
  c = find (&f, "127.0.0.3", 5000);
  g_assert_cmpuint (a->slot, ==, 0);
  g_assert_cmpuint (b->slot, ==, 1);
  g_assert_cmpuint (c->slot, ==, 2);
  g_assert_cmpuint (f.t->n_slots, ==, 3);
  g_assert_true (f.t->slots[1] == b);

  /* state that must survive a change that keeps b */
  b->user_packets = 11;
  b->user_bytes = 1100;
  b->user_prio_dropped = 4;
  st = g_new0 (RelaySsrcState, 1);
  st->dropped = 4;
  g_hash_table_insert (b->ssrcs, GUINT_TO_POINTER (0x1234), st);
  b->add_count = 2;

  fixture_reset_calls (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.2:5000@4, 127.0.0.4:5000@1", NULL));
  assert_names (f.removed, "127.0.0.1:5000", "127.0.0.3:5000", NULL);
  assert_names (f.added, "127.0.0.4:5000", NULL);
  g_assert_true (find (&f, "127.0.0.2", 5000) == b);
  g_assert_cmpuint (b->slot, ==, 1);
  g_assert_true (f.t->slots[1] == b);
  g_assert_cmpuint (b->limit, ==, 4);
  g_assert_cmpuint (b->user_packets, ==, 11);
  g_assert_cmpuint (b->user_bytes, ==, 1100);
  g_assert_cmpuint (b->user_prio_dropped, ==, 4);
  g_assert_true (g_hash_table_lookup (b->ssrcs,
          GUINT_TO_POINTER (0x1234)) == st);
  g_assert_cmpuint (st->dropped, ==, 4);
  /* counted as often as the value names it (multiudpsink clears, then
   * adds each entry) */
  g_assert_cmpuint (b->add_count, ==, 1);
  /* the newcomer takes the lowest free slot (a's), c's is empty */
  d = find (&f, "127.0.0.4", 5000);
  g_assert_cmpuint (d->slot, ==, 0);
  g_assert_cmpuint (d->limit, ==, 1);
  g_assert_null (f.t->slots[2]);
  g_assert_cmpuint (f.t->n_slots, ==, 2);
  s = clients_string (&f);
  g_assert_cmpstr (s, ==, "127.0.0.2:5000@4,127.0.0.4:5000@1");
  g_free (s);

  /* an invalid value changes nothing and is remembered until a valid one:
   * the next start fails with it */
  fixture_reset_calls (&f);
  g_assert_false (relay_clients_set_string (f.t, "127.0.0.5:5000,bad", &err));
  g_assert_cmpstr (err->message, ==,
      "client entry 'bad' is not host:port[@limit][/rtcp-port|/mux]");
  g_clear_error (&err);
  g_assert_cmpuint (f.added->len + f.removed->len, ==, 0);
  g_assert_null (find (&f, "127.0.0.5", 5000));
  g_assert_true (find (&f, "127.0.0.2", 5000) == b);
  g_mutex_lock (&f.lock);
  relay_clients_stop (f.t);
  g_assert_false (relay_clients_prepare (f.t, 5004, NULL, &err));
  g_assert_cmpstr (err->message, ==,
      "client entry 'bad' is not host:port[@limit][/rtcp-port|/mux]");
  g_clear_error (&err);
  g_mutex_unlock (&f.lock);
  g_assert_true (relay_clients_set_string (f.t, "127.0.0.2:5000", NULL));
  g_mutex_lock (&f.lock);
  g_assert_true (relay_clients_prepare (f.t, 5004, NULL, NULL));
  g_mutex_unlock (&f.lock);
  assert_names (f.removed, "127.0.0.4:5000", NULL);
  /* kept, and a limit not named is 0 */
  g_assert_true (find (&f, "127.0.0.2", 5000) == b);
  g_assert_cmpuint (b->limit, ==, 0);

  /* empty: everyone goes, whatever their count */
  fixture_reset_calls (&f);
  g_assert_true (relay_clients_set_string (f.t, "", NULL));
  assert_names (f.removed, "127.0.0.2:5000", NULL);
  g_assert_cmpuint (f.t->clients->len, ==, 0);
  fixture_clear (&f);
}

/* --- path: who serves a subscriber ----------------------------------------- */

static void
on_path_changed (RelayClient * c, RelayClientChange what, gpointer user_data)
{
  GPtrArray *log = user_data;

  g_assert_cmpint (what, ==, RELAY_CLIENT_CHANGE_PATH);
  g_ptr_array_add (log, name_of (c));
}

/* A KERNEL slot serves only a stream of its own family: relay_clients_path
 * says userspace for the other, and a change of the stream's family
 * tells (changed, RELAY_CLIENT_CHANGE_PATH) each subscriber whose path
 * it changes. */
static void
test_path (void)
{
  static const RelayClientsCallbacks cbs = {.changed = on_path_changed };
  GPtrArray *log = g_ptr_array_new_with_free_func (g_free);
  GMutex lock;
  RelayClients *t;
  RelayClient *v4, *v6;
  GError *err = NULL;

  g_mutex_init (&lock);
  t = relay_clients_new (&lock, &cbs, log);
  g_assert_true (relay_clients_add_host (t, "127.0.0.1", 5000, 0, FALSE,
          NULL));
  g_assert_true (relay_clients_add_host (t, "[::1]", 5000, 0, FALSE, NULL));
  g_mutex_lock (&lock);
  g_assert_true (relay_clients_prepare (t, 5004, NULL, &err));
  g_assert_true (relay_clients_start (t, NULL, &err));
  g_assert_no_error (err);
  v4 = g_ptr_array_index (t->clients, 0);
  v6 = g_ptr_array_index (t->clients, 1);
  g_assert_true (relay_addr_is_v6 (&v6->addr));
  /* userspace slots: userspace, whatever the stream */
  g_assert_cmpstr (relay_clients_path (t, v4), ==, "userspace");
  relay_clients_set_stream_family (t, AF_INET6);
  g_assert_cmpstr (relay_clients_path (t, v6), ==, "userspace");
  g_assert_cmpuint (log->len, ==, 0);
  relay_clients_set_stream_family (t, AF_UNSPEC);
  /* KERNEL slots (as the kernel path would make them): the family not
   * known yet, both the kernel's */
  v4->in_kernel = v6->in_kernel = TRUE;
  g_assert_cmpstr (relay_clients_path (t, v4), ==, "kernel");
  g_assert_cmpstr (relay_clients_path (t, v6), ==, "kernel");
  /* an IPv4 stream: the v6 subscriber is userspace's */
  relay_clients_set_stream_family (t, AF_INET);
  g_assert_cmpstr (relay_clients_path (t, v4), ==, "kernel");
  g_assert_cmpstr (relay_clients_path (t, v6), ==, "userspace");
  g_assert_false (relay_clients_kernel_serves (t, v6));
  assert_names (log, "::1:5000", NULL);
  /* the same again: nothing changes */
  g_ptr_array_set_size (log, 0);
  relay_clients_set_stream_family (t, AF_INET);
  g_assert_cmpuint (log->len, ==, 0);
  /* an IPv6 stream: the other way round, both told */
  relay_clients_set_stream_family (t, AF_INET6);
  g_assert_cmpstr (relay_clients_path (t, v4), ==, "userspace");
  g_assert_cmpstr (relay_clients_path (t, v6), ==, "kernel");
  assert_names (log, "127.0.0.1:5000", "::1:5000", NULL);
  relay_clients_stop (t);
  g_mutex_unlock (&lock);
  relay_clients_free (t);
  g_mutex_clear (&lock);
  g_ptr_array_free (log, TRUE);
}

/* --- slots -------------------------------------------------------------------- */

static void
test_slots (void)
{
  Fixture f;
  RelayClient *a, *b, *c, *d;

  fixture_init (&f);
  /* stopped: no slots */
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 0, FALSE,
          NULL));
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.2", 5000, 0, FALSE,
          NULL));
  g_assert_cmpuint (f.t->n_slots, ==, 0);
  g_assert_null (f.t->slots[0]);

  start (&f);
  a = find (&f, "127.0.0.1", 5000);
  b = find (&f, "127.0.0.2", 5000);
  g_assert_true (f.t->running);
  g_assert_true (f.t->slots[0] == a);
  g_assert_true (f.t->slots[1] == b);
  g_assert_cmpuint (f.t->n_slots, ==, 2);
  /* in userspace mode nobody is in the kernel */
  g_assert_false (a->in_kernel);
  g_assert_false (a->slot_written);

  g_assert_true (relay_clients_add_host (f.t, "127.0.0.3", 5000, 0, FALSE,
          NULL));
  c = find (&f, "127.0.0.3", 5000);
  g_assert_cmpuint (c->slot, ==, 2);
  g_assert_cmpuint (f.t->n_slots, ==, 3);

  /* a hole in the middle stays counted; the end shrinks */
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.2", 5000));
  g_assert_null (f.t->slots[1]);
  g_assert_cmpuint (f.t->n_slots, ==, 3);
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.3", 5000));
  g_assert_cmpuint (f.t->n_slots, ==, 1);
  /* reuse of the lowest free slot */
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.4", 5000, 0, FALSE,
          NULL));
  d = find (&f, "127.0.0.4", 5000);
  g_assert_cmpuint (d->slot, ==, 1);
  g_assert_cmpuint (f.t->n_slots, ==, 2);

  /* a start gives slots in the order added, and starts counters anew */
  a->user_packets = 9;
  g_hash_table_insert (a->ssrcs, GUINT_TO_POINTER (1),
      g_new0 (RelaySsrcState, 1));
  g_mutex_lock (&f.lock);
  relay_clients_stop (f.t);
  g_assert_false (f.t->running);
  g_assert_cmpuint (f.t->n_slots, ==, 0);
  g_assert_null (f.t->slots[0]);
  g_mutex_unlock (&f.lock);
  g_assert_true (relay_clients_remove_host (f.t, "127.0.0.1", 5000));
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 5000, 0, FALSE,
          NULL));
  a = find (&f, "127.0.0.1", 5000);
  a->user_packets = 9;
  start (&f);
  g_assert_true (f.t->slots[0] == d);
  g_assert_true (f.t->slots[1] == a);
  g_assert_cmpuint (a->user_packets, ==, 0);
  g_assert_cmpuint (g_hash_table_size (a->ssrcs), ==, 0);
  fixture_clear (&f);
}

static void
test_full (void)
{
  Fixture f;
  GError *err = NULL;
  guint i;

  fixture_init (&f);
  start (&f);
  for (i = 0; i < RELAY_MAX_SUBS; i++) {
    gchar host[32];

    g_snprintf (host, sizeof (host), "127.0.%u.%u", i / 250, 1 + i % 250);
    g_assert_true (relay_clients_add_host (f.t, host, 6000, 0, FALSE, &err));
    g_assert_no_error (err);
  }
  g_assert_cmpuint (f.t->n_slots, ==, RELAY_MAX_SUBS);
  g_assert_false (relay_clients_add_host (f.t, "127.0.9.9", 6000, 0, FALSE,
          &err));
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_NO_SPACE);
  g_assert_cmpstr (err->message, ==,
      "cannot add client 127.0.9.9:6000: already 1024 clients");
  g_clear_error (&err);
  g_assert_null (find (&f, "127.0.9.9", 6000));
  g_assert_cmpuint (f.added->len, ==, RELAY_MAX_SUBS);
  /* an existing one is still counted again */
  g_assert_true (relay_clients_add_host (f.t, "127.0.0.1", 6000, 0, FALSE,
          NULL));
  g_assert_cmpuint (find (&f, "127.0.0.1", 6000)->add_count, ==, 2);

  /* set_clients reports who could not be added, adds the rest */
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:6000,127.0.9.9:6000", NULL));
  g_assert_cmpuint (f.removed->len, ==, RELAY_MAX_SUBS - 1);
  g_assert_cmpuint (f.refused->len, ==, 0);
  g_assert_nonnull (find (&f, "127.0.9.9", 6000));
  g_assert_cmpuint (find (&f, "127.0.9.9", 6000)->slot, ==, 1);
  fixture_clear (&f);
}

static void
test_loop (void)
{
  Fixture f;
  RelayRouter *router = relay_router_new ();
  GError *err = NULL;

  if (!router) {
    g_test_skip ("no netlink socket");
    return;
  }
  fixture_init (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5004,127.0.0.1:5006", NULL));
  g_mutex_lock (&f.lock);
  /* the relay's own address and stream port: a forwarding loop */
  g_assert_false (relay_clients_prepare (f.t, 5004, router, &err));
  g_assert_cmpstr (err->message, ==,
      "client 127.0.0.1:5004 is the relay's own listening address and "
      "port: it would be a forwarding loop");
  g_clear_error (&err);
  g_assert_true (relay_clients_prepare (f.t, 5008, router, NULL));
  g_assert_true (relay_clients_start (f.t, NULL, NULL));
  g_mutex_unlock (&f.lock);
  /* while running too, and set_clients reports it */
  g_assert_false (relay_clients_add_host (f.t, "127.0.0.1", 5008, 0, FALSE,
          &err));
  g_assert_nonnull (strstr (err->message, "forwarding loop"));
  g_clear_error (&err);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5004,127.0.0.1:5008", NULL));
  g_assert_cmpuint (f.refused->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f.refused, 0), ==,
      "client 127.0.0.1:5008 is the relay's own listening address and "
      "port: it would be a forwarding loop");
  g_assert_null (find (&f, "127.0.0.1", 5008));
  g_assert_nonnull (find (&f, "127.0.0.1", 5004));
  g_mutex_lock (&f.lock);
  relay_clients_stop (f.t);
  g_mutex_unlock (&f.lock);
  relay_router_free (router);
  fixture_clear (&f);
}

static void
test_control_callbacks (void)
{
  const RelayControlServerCallbacks *cb = &relay_clients_control_callbacks;
  Fixture f;
  RelayClient *c;

  fixture_init (&f);
  g_assert_true (cb->add ("127.0.0.1", 5000, 2, f.t));
  c = find (&f, "127.0.0.1", 5000);
  g_assert_nonnull (c);
  g_assert_cmpuint (c->limit, ==, 2);
  /* a refresh is counted and its limit wins */
  g_assert_true (cb->add ("127.0.0.1", 5000, 5, f.t));
  g_assert_cmpuint (c->add_count, ==, 2);
  g_assert_cmpuint (c->limit, ==, 5);
  g_assert_false (cb->add ("127.0.0.1", 5000, 9, f.t));
  g_assert_true (cb->set_limit ("127.0.0.1", 5000, 1, f.t));
  g_assert_cmpuint (c->limit, ==, 1);
  g_assert_false (cb->set_limit ("127.0.0.2", 5000, 1, f.t));
  cb->remove ("127.0.0.1", 5000, f.t);
  g_assert_cmpuint (f.removed->len, ==, 0);
  cb->remove ("127.0.0.1", 5000, f.t);
  assert_names (f.removed, "127.0.0.1:5000", NULL);
  fixture_clear (&f);
}

/* host:port@auto: adaptive from limit 0; a clients change keeps the limit
 * in force when it stays @auto, fixes it otherwise; written back as @auto */
static void
test_auto (void)
{
  Fixture f;
  GError *err = NULL;
  RelayClient *c;
  gchar *s;

  c = relay_client_parse ("127.0.0.1:5000@auto/mux", &err);
  g_assert_no_error (err);
  g_assert_true (c->adaptive);
  g_assert_nonnull (c->adapt);
  g_assert_cmpuint (c->limit, ==, 0);
  g_assert_cmpint (c->rtcp_port, ==, 5000);
  relay_client_free (c);
  c = relay_client_parse ("127.0.0.1:5000@automatic", &err);
  g_assert_null (c);
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_SETTINGS);
  g_assert_nonnull (strstr (err->message, "'automatic'"));
  g_assert_nonnull (strstr (err->message, "or 'auto'"));
  g_clear_error (&err);

  fixture_init (&f);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000@auto,127.0.0.2:5000@3", &err));
  start (&f);
  c = find (&f, "127.0.0.1", 5000);
  g_assert_true (c->adaptive);
  g_mutex_lock (&f.lock);
  relay_clients_set_limit (f.t, c, 6);  /* as the controller would */
  g_mutex_unlock (&f.lock);
  s = relay_clients_to_string (f.t);
  g_assert_cmpstr (s, ==, "127.0.0.1:5000@auto,127.0.0.2:5000@3");
  g_free (s);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000@auto,127.0.0.2:5000@auto", &err));
  g_assert_cmpuint (c->limit, ==, 6);
  c = find (&f, "127.0.0.2", 5000);
  g_assert_true (c->adaptive);
  g_assert_cmpuint (c->limit, ==, 3);
  g_assert_true (relay_clients_set_string (f.t,
          "127.0.0.1:5000@2,127.0.0.2:5000", &err));
  c = find (&f, "127.0.0.1", 5000);
  g_assert_false (c->adaptive);
  g_assert_null (c->adapt);
  g_assert_cmpuint (c->limit, ==, 2);
  g_assert_true (relay_clients_set_adaptive_host (f.t, "127.0.0.2", 5000,
          TRUE, &err));
  g_assert_true (find (&f, "127.0.0.2", 5000)->adaptive);
  g_assert_false (relay_clients_set_adaptive_host (f.t, "127.0.0.9", 5000,
          TRUE, &err));
  g_assert_error (err, RELAY_CLIENTS_ERROR, RELAY_CLIENTS_ERROR_NOT_FOUND);
  g_clear_error (&err);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/clients/parse/entry", test_parse_entry);
  g_test_add_func ("/clients/parse/list", test_parse_list);
  g_test_add_func ("/clients/parse/ipv6", test_parse_ipv6);
  g_test_add_func ("/clients/ipv6-table", test_table_ipv6);
  g_test_add_func ("/clients/parse/rtcp", test_parse_rtcp);
  g_test_add_func ("/clients/rtcp-table", test_rtcp_table);
  g_test_add_func ("/clients/parse/resolve-and-limit", test_resolve_and_limit);
  g_test_add_func ("/clients/add-remove", test_add_remove);
  g_test_add_func ("/clients/set-limit", test_set_limit);
  g_test_add_func ("/clients/limit-lowered", test_limit_lowered);
  g_test_add_func ("/clients/set-string", test_set_string);
  g_test_add_func ("/clients/auto", test_auto);
  g_test_add_func ("/clients/path", test_path);
  g_test_add_func ("/clients/slots", test_slots);
  g_test_add_func ("/clients/full", test_full);
  g_test_add_func ("/clients/loop", test_loop);
  g_test_add_func ("/clients/control-callbacks", test_control_callbacks);
  return g_test_run ();
}
