/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-control: the subscription channel's decoder (relay_control_decode,
 * relay_control_is_control) on arbitrary datagrams. Invariants: a decoded
 * message is within the documented bounds, and encoding it again gives
 * back the very datagram (one encoding per message). */
#include <stdio.h>
#include "ebpfrelay-control.h"
#include "fuzz-util.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  setenv ("G_SLICE", "always-malloc", 1);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const guint8 *d = fuzz_guarded (data, size);
  RelayControlMessage msg;
  guint8 again[RELAY_CONTROL_MAX_PACKET + 64];
  gsize n;

  if (!d)
    return 0;
  relay_control_is_control (d, size);
  if (!relay_control_decode (d, size, &msg))
    return 0;
  FUZZ_CHECK (relay_control_is_control (d, size));
  FUZZ_CHECK (size <= RELAY_CONTROL_MAX_PACKET);
  FUZZ_CHECK (msg.limit <= RELAY_CONTROL_MAX_LIMIT);
  FUZZ_CHECK (msg.token_len <= RELAY_CONTROL_MAX_TOKEN);
  n = relay_control_encode (&msg, again, sizeof (again));
  FUZZ_CHECK (n == size);
  /* a SUBSCRIBE without the cookie flag: its cookie field is not read
   * (decoded as zeros), whatever it held */
  if (msg.type == RELAY_CONTROL_SUBSCRIBE && !msg.has_cookie)
    memcpy (again + 16, d + 16, RELAY_CONTROL_COOKIE_LEN);
  FUZZ_CHECK (memcmp (again, d, size) == 0);
  return 0;
}
