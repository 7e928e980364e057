/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstebpfrelayelements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (ebpfrelaysink, plugin);
  ret |= GST_ELEMENT_REGISTER (ebpfprioritysrc, plugin);
  ret |= GST_ELEMENT_REGISTER (rtpframemarking, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ebpfrelay,
    "Relay live media in the kernel with eBPF",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
