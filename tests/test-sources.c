/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-sources: the publisher lock's rule (gst-plugin/ebpfrelay-sources):
 * parsing and refusing sources, host and host:port entries, the latch,
 * its handover after source-timeout of silence (and never with 0), RTCP
 * attribution by host, the kernel's latch mirrored, and the relay's own
 * addresses. GLib only, no privilege, no network (names: localhost only).
 */
#include <arpa/inet.h>

#include "ebpfrelay-sources.h"

#define A 0x0a000001            /* 10.0.0.1 */
#define B 0x0a000002
#define C 0x0a000003

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
    "no-such-host.invalid", "::1", "0.0.0.0", "10.0.0.1:5004junk"
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
  g_assert_cmphex (g_array_index (list, RelaySource, 0).addr, ==, A);
  g_assert_cmpuint (g_array_index (list, RelaySource, 0).port, ==, 0);
  g_assert_cmphex (g_array_index (list, RelaySource, 1).addr, ==, B);
  g_assert_cmpuint (g_array_index (list, RelaySource, 1).port, ==, 6000);
  g_assert_cmphex (g_array_index (list, RelaySource, 2).addr >> 24, ==, 127);

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
  g_assert_cmpint (relay_sources_check (s, A, 1, 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, B, 2, 1), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_true (relay_sources_allows_host (s, C));
  g_assert_cmpuint (relay_sources_rejected (s), ==, 0);
  relay_sources_free (s);
}

static void
test_list (void)
{
  RelaySources *s = configured ("10.0.0.1,10.0.0.2:6000", FALSE, 5000);

  g_assert_true (relay_sources_active (s));
  g_assert_cmpint (relay_sources_check (s, A, 1, 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, A, 40000, 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, B, 6000, 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, B, 6001, 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_cmpint (relay_sources_check (s, C, 6000, 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_cmpuint (relay_sources_rejected (s), ==, 2);
  /* RTCP comes from another port: by host */
  g_assert_true (relay_sources_allows_host (s, A));
  g_assert_true (relay_sources_allows_host (s, B));
  g_assert_false (relay_sources_allows_host (s, C));
  relay_sources_free (s);
}

static void
test_latch (void)
{
  RelaySources *s = configured ("", TRUE, 300);
  guint32 addr;
  guint16 port;

  g_assert_true (relay_sources_active (s));
  g_assert_false (relay_sources_latched (s, &addr, &port));
  g_assert_false (relay_sources_allows_host (s, A));
  g_assert_cmpint (relay_sources_check (s, A, 1, 1000), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_true (relay_sources_latched (s, &addr, &port));
  g_assert_cmphex (addr, ==, A);
  g_assert_cmpuint (port, ==, 1);
  /* another port of the same host is another sender */
  g_assert_cmpint (relay_sources_check (s, A, 2, 2000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_cmpint (relay_sources_check (s, B, 1, 3000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_true (relay_sources_allows_host (s, A));
  g_assert_false (relay_sources_allows_host (s, B));
  /* A keeps sending: B is refused as long as A is not silent 300 ms */
  g_assert_cmpint (relay_sources_check (s, A, 1, 250000), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, B, 1, 550000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  /* silent for longer: B takes over, A is refused from then on */
  g_assert_cmpint (relay_sources_check (s, B, 1, 550001), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, A, 1, 560000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_true (relay_sources_latched (s, &addr, &port));
  g_assert_cmphex (addr, ==, B);
  g_assert_cmpuint (relay_sources_rejected (s), ==, 4);
  g_assert_cmpuint (relay_sources_switches (s), ==, 2);
  relay_sources_free (s);

  /* timeout 0: never handed over */
  s = configured ("", TRUE, 0);
  g_assert_cmpint (relay_sources_check (s, A, 1, 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, B, 1, G_TIME_SPAN_HOUR), ==,
      RELAY_SOURCE_NOT_LATCHED);
  relay_sources_free (s);

  /* with sources: only a listed sender takes the latch */
  s = configured ("10.0.0.2", TRUE, 100);
  g_assert_cmpint (relay_sources_check (s, A, 1, 0), ==,
      RELAY_SOURCE_NOT_LISTED);
  g_assert_false (relay_sources_latched (s, &addr, &port));
  g_assert_cmpint (relay_sources_check (s, B, 7, 0), ==,
      RELAY_SOURCE_ACCEPTED);
  g_assert_cmpint (relay_sources_check (s, B, 8, 1000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  g_assert_cmpint (relay_sources_check (s, B, 8, 200000), ==,
      RELAY_SOURCE_ACCEPTED);
  relay_sources_free (s);
}

static void
test_mirror (void)
{
  RelaySources *s = configured ("", TRUE, 5000);
  guint32 addr;
  guint16 port;

  relay_sources_set_latched (s, B, 9, 0);
  g_assert_true (relay_sources_latched (s, &addr, &port));
  g_assert_cmphex (addr, ==, B);
  g_assert_true (relay_sources_allows_host (s, B));
  g_assert_cmpint (relay_sources_check (s, A, 1, 1000), ==,
      RELAY_SOURCE_NOT_LATCHED);
  relay_sources_set_latched (s, 0, 0, 0);
  g_assert_false (relay_sources_latched (s, &addr, &port));
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
  g_test_add_func ("/sources/mirror", test_mirror);
  g_test_add_func ("/sources/local", test_local);
  return g_test_run ();
}
