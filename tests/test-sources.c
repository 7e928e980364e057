/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-sources: the publisher lock's rule (gst-plugin/ebpfrelay-sources):
 * parsing and refusing sources, host and host:port entries (IPv6 ones in
 * brackets), the latch, its handover after source-timeout of silence (and
 * never with 0), RTCP attribution by host, the kernel's latch mirrored,
 * IPv4 and IPv6 senders alike (a v4-mapped one is the IPv4 one), and the
 * relay's own addresses. GLib only, no privilege, no network (names:
 * localhost only).
 */
#include <arpa/inet.h>

#include "ebpfrelay-sources.h"

#define A 0x0a000001            /* 10.0.0.1 */
#define B 0x0a000002
#define C 0x0a000003

/* An IPv4 sender (host order) */
static const RelayAddr *
v4 (guint32 addr, guint16 port)
{
  static RelayAddr r[8];
  static guint n;
  RelayAddr *a = &r[n++ % G_N_ELEMENTS (r)];

  memset (a, 0, sizeof (*a));
  a->v4.sin_family = AF_INET;
  a->v4.sin_addr.s_addr = htonl (addr);
  a->v4.sin_port = htons (port);
  return a;
}

/* An IPv6 sender (a literal), as a socket reports it: a v4-mapped one
 * folded into IPv4 (relay_addr_from_native) */
static const RelayAddr *
v6 (const gchar * addr, guint16 port)
{
  static RelayAddr r[8];
  static guint n;
  RelayAddr *a = &r[n++ % G_N_ELEMENTS (r)];
  struct sockaddr_in6 s6 = {.sin6_family = AF_INET6 };

  g_assert_cmpint (inet_pton (AF_INET6, addr, &s6.sin6_addr), ==, 1);
  s6.sin6_port = htons (port);
  g_assert_true (relay_addr_from_native (a, &s6, sizeof (s6)));
  return a;
}

static guint32
host4 (const RelayAddr * a)
{
  g_assert_cmpint (a->sa.sa_family, ==, AF_INET);
  return ntohl (a->v4.sin_addr.s_addr);
}

static RelaySources *
configured (const gchar * spec, gboolean latch, guint timeout_ms)
{
  GArray *list = g_array_new (FALSE, FALSE, sizeof (RelaySource));
  RelaySources *s = relay_sources_new ();
  GError *err = NULL;

  g_assert_true (relay_sources_parse (spec, list, &err));
  g_assert_no_error (err);
  relay_sources_configure (s, (RelaySource *) list->data, list->len, latch,
      timeout_ms);
  g_array_unref (list);
  return s;
}

static void
test_parse (void)
{
  GArray *list = g_array_new (FALSE, FALSE, sizeof (RelaySource));
  GError *err = NULL;
  static const gchar *bad[] = { "10.0.0.1:0", "10.0.0.1:65536",
    "10.0.0.1:x", "10.0.0.1:", ":5004", "10.0.0.1,,10.0.0.2",
    "no-such-host.invalid", "::1", "0.0.0.0", "10.0.0.1:5004junk",
    "fd00::1:5004", "[fd00::1", "[fd00::1]x", "[fd00::1]:", "[fd00::1]:0",
    "[fd00::1]:65536", "[]", "[]:5004", "[::]", "[10.0.0.1]", "[fd00::zz]"
  };
  GString *many = g_string_new (NULL);

  g_assert_true (relay_sources_parse (NULL, list, &err));
  g_assert_cmpuint (list->len, ==, 0);
  g_assert_true (relay_sources_parse ("", list, &err));
  g_assert_cmpuint (list->len, ==, 0);
  g_assert_true (relay_sources_parse ("10.0.0.1, 10.0.0.2:6000,localhost",
          list, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmphex (host4 (&g_array_index (list, RelaySource, 0).addr), ==, A);
  g_assert_cmpuint (relay_addr_port (&g_array_index (list, RelaySource,
              0).addr), ==, 0);
  g_assert_cmphex (host4 (&g_array_index (list, RelaySource, 1).addr), ==, B);
  g_assert_cmpuint (relay_addr_port (&g_array_index (list, RelaySource,
              1).addr), ==, 6000);
  g_assert_cmphex (host4 (&g_array_index (list, RelaySource, 2).addr) >> 24,
      ==, 127);

  /* IPv6 literals in brackets, with or without a port; a v4-mapped one
   * is IPv4 */
  g_assert_true (relay_sources_parse ("[fd00::1],[fd00::2]:6000,"
          "[::ffff:10.0.0.3]:7", list, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_true (relay_addr_equal (&g_array_index (list, RelaySource, 0).addr,
          v6 ("fd00::1", 0)));
  g_assert_true (relay_addr_equal (&g_array_index (list, RelaySource, 1).addr,
          v6 ("fd00::2", 6000)));
  g_assert_true (relay_addr_equal (&g_array_index (list, RelaySource, 2).addr,
          v4 (C, 7)));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (relay_sources_parse (bad[i], list, &err));
    g_assert_error (err, RELAY_SOURCES_ERROR, 0);
    g_assert_nonnull (strstr (err->message, "sources"));
    g_assert_cmpuint (list->len, ==, 0);
    g_clear_error (&err);
  }
  for (guint i = 0; i <= RELAY_SOURCES_MAX; i++)
    g_string_append_printf (many, "%s10.1.%u.%u", i ? "," : "", i / 250,
        1 + i % 250);
  g_assert_false (relay_sources_parse (many->str, list, &err));
  g_assert_nonnull (strstr (err->message, "sources"));
  g_clear_error (&err);
  g_string_free (many, TRUE);
  g_array_unref (list);
}

static void
test_any (void)
{
  RelaySources *s = configured ("", FALSE, 5000);

  g_assert_false (relay_sources_active (s));
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 2), 1), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_true (relay_sources_allows_host (s, v4 (C, 0)));
  g_assert_cmpuint (relay_sources_rejected (s), ==, 0);
  relay_sources_free (s);
}

static void
test_list (void)
{
  RelaySources *s = configured ("10.0.0.1,10.0.0.2:6000", FALSE, 5000);

  g_assert_true (relay_sources_active (s));
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (A, 40000), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 6000), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 6001), 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_cmpint (relay_sources_check (s, v4 (C, 6000), 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_cmpuint (relay_sources_rejected (s), ==, 2);
  /* RTCP comes from another port: by host */
  g_assert_true (relay_sources_allows_host (s, v4 (A, 0)));
  g_assert_true (relay_sources_allows_host (s, v4 (B, 0)));
  g_assert_false (relay_sources_allows_host (s, v4 (C, 0)));
  relay_sources_free (s);
}

static void
test_latch (void)
{
  RelaySources *s = configured ("", TRUE, 300);
  RelayAddr addr;

  g_assert_true (relay_sources_active (s));
  g_assert_false (relay_sources_latched (s, &addr));
  g_assert_false (relay_sources_allows_host (s, v4 (A, 0)));
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 1000), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_true (relay_sources_latched (s, &addr));
  g_assert_cmphex (host4 (&addr), ==, A);
  g_assert_cmpuint (relay_addr_port (&addr), ==, 1);
  /* another port of the same host is another sender */
  g_assert_cmpint (relay_sources_check (s, v4 (A, 2), 2000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 1), 3000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_true (relay_sources_allows_host (s, v4 (A, 0)));
  g_assert_false (relay_sources_allows_host (s, v4 (B, 0)));
  /* A keeps sending: B is refused as long as A is not silent 300 ms */
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 250000), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 1), 550000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  /* silent for longer: B takes over, A is refused from then on */
  g_assert_cmpint (relay_sources_check (s, v4 (B, 1), 550001), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 560000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_true (relay_sources_latched (s, &addr));
  g_assert_cmphex (host4 (&addr), ==, B);
  g_assert_cmpuint (relay_sources_rejected (s), ==, 4);
  g_assert_cmpuint (relay_sources_switches (s), ==, 2);
  relay_sources_free (s);

  /* timeout 0: never handed over */
  s = configured ("", TRUE, 0);
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 1), G_TIME_SPAN_HOUR), ==,
      RELAY_SOURCE_NOT_LATCHED);
  relay_sources_free (s);

  /* with sources: only a listed sender takes the latch */
  s = configured ("10.0.0.2", TRUE, 100);
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_false (relay_sources_latched (s, &addr));
  g_assert_cmpint (relay_sources_check (s, v4 (B, 7), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 8), 1000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_cmpint (relay_sources_check (s, v4 (B, 8), 200000), ==,
      RELAY_SOURCE_ACCEPTED);
  relay_sources_free (s);
}

/* IPv6 senders under the same rule, beside IPv4 ones */
static void
test_ipv6 (void)
{
  RelaySources *s = configured ("[fd00::1],[fd00::2]:6000,10.0.0.1",
      FALSE, 5000);
  RelayAddr addr;

  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::1", 1), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::1", 40000), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::2", 6000), 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::2", 6001), 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::3", 6000), 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  /* the IPv4 entry, from a dual-stack socket (v4-mapped) too; its
   * v4-mapped form is not an IPv6 host of the list */
  g_assert_cmpint (relay_sources_check (s, v6 ("::ffff:10.0.0.1", 5), 0),
      ==, RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v6 ("::ffff:10.0.0.2", 5), 0),
      ==, RELAY_SOURCE_NOT_LISTED);
  g_assert_cmpuint (relay_sources_rejected (s), ==, 3);
  g_assert_true (relay_sources_allows_host (s, v6 ("fd00::2", 9)));
  g_assert_false (relay_sources_allows_host (s, v6 ("fd00::3", 6000)));
  relay_sources_free (s);

  /* the latch: an IPv6 sender takes it, an IPv4 one (and another port
   * of the same host) waits for its silence, and the other way round */
  s = configured ("", TRUE, 300);
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::1", 7), 1000), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_true (relay_sources_latched (s, &addr));
  g_assert_true (relay_addr_equal (&addr, v6 ("fd00::1", 7)));
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::1", 8), 2000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_cmpint (relay_sources_check (s, v4 (A, 7), 3000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_true (relay_sources_allows_host (s, v6 ("fd00::1", 9)));
  g_assert_false (relay_sources_allows_host (s, v4 (A, 7)));
  g_assert_cmpint (relay_sources_check (s, v4 (A, 7), 301001), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, v6 ("fd00::1", 7), 302000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_cmpuint (relay_sources_switches (s), ==, 2);
  /* the kernel's latch mirrored, IPv6 */
  relay_sources_set_latched (s, v6 ("fd00::9", 5), 400000);
  g_assert_true (relay_sources_latched (s, &addr));
  g_assert_true (relay_addr_equal (&addr, v6 ("fd00::9", 5)));
  g_assert_cmpint (relay_sources_check (s, v4 (A, 7), 400001), ==,
      RELAY_SOURCE_NOT_LATCHED);
  relay_sources_free (s);
}

/* The kernel's key form (bpf/relay.h: 16 bytes, IPv4 v4-mapped) and back */
static void
test_mapped (void)
{
  static const guint8 want4[16] = {[10] = 0xff,[11] = 0xff, 10, 0, 0, 1 };
  guint8 k[16];
  RelayAddr back;

  relay_addr_to_mapped (v4 (A, 5), k);
  g_assert_cmpmem (k, 16, want4, 16);
  relay_addr_from_mapped (&back, k, htons (5));
  g_assert_true (relay_addr_equal (&back, v4 (A, 5)));
  relay_addr_to_mapped (v6 ("fd00::1", 6), k);
  g_assert_cmphex (k[0], ==, 0xfd);
  g_assert_cmphex (k[15], ==, 1);
  relay_addr_from_mapped (&back, k, htons (6));
  g_assert_true (relay_addr_equal (&back, v6 ("fd00::1", 6)));
}

static void
test_mirror (void)
{
  RelaySources *s = configured ("", TRUE, 5000);
  RelayAddr addr;

  relay_sources_set_latched (s, v4 (B, 9), 0);
  g_assert_true (relay_sources_latched (s, &addr));
  g_assert_cmphex (host4 (&addr), ==, B);
  g_assert_true (relay_sources_allows_host (s, v4 (B, 0)));
  g_assert_cmpint (relay_sources_check (s, v4 (A, 1), 1000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  relay_sources_set_latched (s, NULL, 0);
  g_assert_false (relay_sources_latched (s, &addr));
  /* configuring again forgets the latch and the counters */
  relay_sources_configure (s, NULL, 0, TRUE, 5000);
  g_assert_cmpuint (relay_sources_rejected (s), ==, 0);
  relay_sources_free (s);
}

static void
test_local (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint32));

  g_assert_true (relay_local_addrs_read (a));
  /* lo is there in any namespace that has it up; 127/8 is always local */
  g_assert_true (relay_local_addrs_has (a, 0x7f000001));
  g_assert_true (relay_local_addrs_has (a, 0x7f123456));
  g_assert_false (relay_local_addrs_has (a, 0xc0000201));        /* 192.0.2.1 */
  for (guint i = 1; i < a->len; i++)
    g_assert_cmphex (g_array_index (a, guint32, i - 1), <,
        g_array_index (a, guint32, i));
  g_array_unref (a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sources/parse", test_parse);
  g_test_add_func ("/sources/any", test_any);
  g_test_add_func ("/sources/list", test_list);
  g_test_add_func ("/sources/latch", test_latch);
  g_test_add_func ("/sources/ipv6", test_ipv6);
  g_test_add_func ("/sources/mapped", test_mapped);
  g_test_add_func ("/sources/mirror", test_mirror);
  g_test_add_func ("/sources/local", test_local);
  return g_test_run ();
}
