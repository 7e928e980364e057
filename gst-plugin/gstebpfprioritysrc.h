/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __GST_EBPF_PRIORITY_SRC_H__
#define __GST_EBPF_PRIORITY_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

/**
 * GstEbpfPrioritySrcMode:
 * @GST_EBPF_PRIORITY_SRC_MODE_AUTO: filter in the kernel (a socket filter
 *   on the element's socket); where BPF cannot be loaded, warn and filter
 *   in userspace
 * @GST_EBPF_PRIORITY_SRC_MODE_KERNEL: filter in the kernel, fail otherwise
 * @GST_EBPF_PRIORITY_SRC_MODE_USERSPACE: never load BPF; filter each
 *   datagram after reading it
 */
typedef enum
{
  GST_EBPF_PRIORITY_SRC_MODE_AUTO,
  GST_EBPF_PRIORITY_SRC_MODE_KERNEL,
  GST_EBPF_PRIORITY_SRC_MODE_USERSPACE,
} GstEbpfPrioritySrcMode;

#define GST_TYPE_EBPF_PRIORITY_SRC_MODE (gst_ebpf_priority_src_mode_get_type ())
GType gst_ebpf_priority_src_mode_get_type (void);

/**
 * GstEbpfPrioritySrcSocketTimestamp:
 * @GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_DISABLED: buffers are timestamped
 *   when they are read
 * @GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_REALTIME: the kernel's receive time
 *   (SO_TIMESTAMPNS) becomes the buffer's DTS, as udpsrc's
 *   `socket-timestamp=realtime` (same nicks, the default as there)
 */
typedef enum
{
  GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_DISABLED,
  GST_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP_REALTIME,
} GstEbpfPrioritySrcSocketTimestamp;

#define GST_TYPE_EBPF_PRIORITY_SRC_SOCKET_TIMESTAMP \
  (gst_ebpf_priority_src_socket_timestamp_get_type ())
GType gst_ebpf_priority_src_socket_timestamp_get_type (void);

#define GST_TYPE_EBPF_PRIORITY_SRC (gst_ebpf_priority_src_get_type ())
G_DECLARE_FINAL_TYPE (GstEbpfPrioritySrc, gst_ebpf_priority_src, GST,
    EBPF_PRIORITY_SRC, GstPushSrc)

G_END_DECLS
#endif
