/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __GST_EBPF_RELAY_SINK_H__
#define __GST_EBPF_RELAY_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

/**
 * GstEbpfRelayMode:
 * @GST_EBPF_RELAY_MODE_AUTO: forward in the kernel; where the BPF program
 *   cannot be loaded or attached, warn and forward from userspace
 * @GST_EBPF_RELAY_MODE_KERNEL: forward in the kernel, fail otherwise
 * @GST_EBPF_RELAY_MODE_USERSPACE: never load BPF; forward with sendmmsg
 */
typedef enum
{
  GST_EBPF_RELAY_MODE_AUTO,
  GST_EBPF_RELAY_MODE_KERNEL,
  GST_EBPF_RELAY_MODE_USERSPACE,
} GstEbpfRelayMode;

#define GST_TYPE_EBPF_RELAY_MODE (gst_ebpf_relay_mode_get_type ())
GType gst_ebpf_relay_mode_get_type (void);

#define GST_TYPE_EBPF_RELAY_SINK (gst_ebpf_relay_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstEbpfRelaySink, gst_ebpf_relay_sink, GST,
    EBPF_RELAY_SINK, GstBaseSink)

G_END_DECLS
#endif
