/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GError side of ebpfrelay-bpf.h: the error domain of the plugin's
 * libbpf glue (relay and viewer filter) and the error for a BPF object
 * that failed to load. */
#ifndef __EBPF_RELAY_BPF_ERROR_H__
#define __EBPF_RELAY_BPF_ERROR_H__

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_KERNEL_ERROR (relay_kernel_error_quark ())
GQuark relay_kernel_error_quark (void);

typedef enum
{
  RELAY_KERNEL_ERROR_PERMISSION,        /* no CAP_BPF / CAP_NET_ADMIN */
  RELAY_KERNEL_ERROR_LOAD,
  RELAY_KERNEL_ERROR_ATTACH,
  RELAY_KERNEL_ERROR_NO_DEVICE,
} RelayKernelError;

/* The error for a BPF object that failed to load with errno @err: a
 * missing privilege (EPERM) or anything else, the verifier named. */
void relay_kernel_load_error (GError ** error, int err, const gchar * what);

G_END_DECLS
#endif
