/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ebpfrelay-bpf-error.h"

#include <errno.h>

GQuark
relay_kernel_error_quark (void)
{
  return g_quark_from_static_string ("relay-kernel-error-quark");
}

void
relay_kernel_load_error (GError ** error, int err, const gchar * what)
{
  /* EPERM is a missing capability; EACCES is the verifier refusing the
   * program (its log goes to the ebpfrelay-libbpf debug category). */
  g_set_error (error, RELAY_KERNEL_ERROR,
      err == EPERM ? RELAY_KERNEL_ERROR_PERMISSION : RELAY_KERNEL_ERROR_LOAD,
      "loading %s failed: %s%s", what, g_strerror (err),
      err == EACCES ? " (rejected by the verifier; GST_DEBUG="
      "ebpfrelay-libbpf:5 shows why)" : "");
}
