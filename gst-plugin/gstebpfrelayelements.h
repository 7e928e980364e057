/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __GST_EBPF_RELAY_ELEMENTS_H__
#define __GST_EBPF_RELAY_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (ebpfrelay_libbpf_debug);

void ebpf_relay_element_init (GstPlugin * plugin);

GST_ELEMENT_REGISTER_DECLARE (ebpfrelaysink);
GST_ELEMENT_REGISTER_DECLARE (ebpfprioritysrc);
GST_ELEMENT_REGISTER_DECLARE (rtpframemarking);

G_END_DECLS
#endif
