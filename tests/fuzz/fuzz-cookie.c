/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-cookie: the subscription channel's cookie (relay_control_cookie)
 * and its constant-time comparison (relay_control_equal), the two pieces
 * the server's check is made of (it accepts a SUBSCRIBE whose cookie
 * equals the cookie of its source in the current or the previous bucket).
 * Input: secret length (1 byte, 1-64) and secret, IPv4 address (4),
 * port (2), bucket (8), a presented cookie (16); short inputs are padded
 * with zeros. Invariants: the cookie is a function of its inputs; a
 * presented cookie is accepted exactly when it is byte for byte the
 * cookie; another address, port, bucket or secret gives another cookie
 * (HMAC-SHA256 truncated to 128 bits: a collision would be a finding). */
#include <stdio.h>
#include "ebpfrelay-control.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define SECRET_MAX 64

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  guint8 in[1 + SECRET_MAX + 4 + 2 + 8 + RELAY_CONTROL_COOKIE_LEN] = { 0 };
  guint8 c1[RELAY_CONTROL_COOKIE_LEN], c2[RELAY_CONTROL_COOKIE_LEN];
  guint8 secret[SECRET_MAX + 1];
  const guint8 *p, *presented;
  gsize slen;
  guint32 addr;
  guint16 port;
  gint64 bucket = 0;
  gboolean same;
  int i;

  memcpy (in, data, MIN (size, sizeof (in)));
  slen = 1 + in[0] % SECRET_MAX;
  memcpy (secret, in + 1, slen);
  p = in + 1 + SECRET_MAX;
  memcpy (&addr, p, 4);
  port = p[4] << 8 | p[5];
  for (i = 0; i < 8; i++)
    bucket = (gint64) ((guint64) bucket << 8 | p[6 + i]);
  presented = fuzz_guarded (p + 14, RELAY_CONTROL_COOKIE_LEN);

  relay_control_cookie (secret, slen, addr, port, bucket, c1);
  relay_control_cookie (secret, slen, addr, port, bucket, c2);
  FUZZ_CHECK (memcmp (c1, c2, sizeof (c1)) == 0);
  FUZZ_CHECK (relay_control_equal (c1, c2, sizeof (c1)));
  same = memcmp (presented, c1, sizeof (c1)) == 0;
  FUZZ_CHECK (relay_control_equal (presented, c1, sizeof (c1)) == same);
  /* every byte matters to the comparison */
  for (i = 0; i < RELAY_CONTROL_COOKIE_LEN; i++) {
    c2[i] ^= 1 << (p[6 + i % 8] & 7);
    FUZZ_CHECK (!relay_control_equal (c1, c2, sizeof (c1)));
    c2[i] = c1[i];
  }
  /* the neighbours of each input give other cookies */
  relay_control_cookie (secret, slen, addr ^ htonl (1), port, bucket, c2);
  FUZZ_CHECK (!relay_control_equal (c1, c2, sizeof (c1)));
  relay_control_cookie (secret, slen, addr, port ^ 1, bucket, c2);
  FUZZ_CHECK (!relay_control_equal (c1, c2, sizeof (c1)));
  relay_control_cookie (secret, slen, addr, port, bucket ^ 1, c2);
  FUZZ_CHECK (!relay_control_equal (c1, c2, sizeof (c1)));
  secret[0] ^= 0x80;
  relay_control_cookie (secret, slen, addr, port, bucket, c2);
  FUZZ_CHECK (!relay_control_equal (c1, c2, sizeof (c1)));
  return 0;
}
