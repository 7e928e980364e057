/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One-time setup shared by the plugin's elements. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <bpf/libbpf.h>

#include "gstebpfrelayelements.h"
#include "gstebpfrelaysink.h"

GST_DEBUG_CATEGORY (ebpfrelay_libbpf_debug);

/* libbpf prints verifier logs and load errors; route them into a debug
 * category (GST_DEBUG=ebpfrelay-libbpf:5) instead of stderr. */
static int
libbpf_print (enum libbpf_print_level level, const char *format, va_list args)
{
  GstDebugLevel gst_level = level == LIBBPF_WARN ? GST_LEVEL_WARNING :
      level == LIBBPF_INFO ? GST_LEVEL_INFO : GST_LEVEL_DEBUG;
  gchar *msg;

  if (gst_level > gst_debug_category_get_threshold (ebpfrelay_libbpf_debug))
    return 0;
  msg = g_strdup_vprintf (format, args);
  g_strchomp (msg);
  GST_CAT_LEVEL_LOG (ebpfrelay_libbpf_debug, gst_level, NULL, "%s", msg);
  g_free (msg);
  return 0;
}

void
ebpf_relay_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (ebpfrelay_libbpf_debug, "ebpfrelay-libbpf", 0,
        "libbpf messages of the ebpfrelay elements");
    libbpf_set_print (libbpf_print);
    g_once_init_leave (&done, 1);
  }
}

/* ebpfrelaysink's mode enum (gstebpfrelaysink.h). */
GType
gst_ebpf_relay_mode_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_EBPF_RELAY_MODE_AUTO,
          "Kernel forwarding, userspace with a warning if BPF is unavailable",
        "auto"},
    {GST_EBPF_RELAY_MODE_KERNEL, "Kernel forwarding only, error otherwise",
        "kernel"},
    {GST_EBPF_RELAY_MODE_USERSPACE, "Userspace forwarding only (no BPF)",
        "userspace"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstEbpfRelayMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}
