/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include "ebpfrelay-caps.h"

static enum prio_codec
codec_from_encoding_name (const gchar * name)
{
  if (name && !g_ascii_strcasecmp (name, "H264"))
    return PRIO_CODEC_H264;
  if (name && !g_ascii_strcasecmp (name, "VP8"))
    return PRIO_CODEC_VP8;
  return PRIO_CODEC_OTHER;
}

/* The URI of an extmap-N caps field: a string, or an array (direction,
 * URI, attributes) as GstRTPHeaderExtension writes it. */
static const gchar *
extmap_uri (const GValue * v)
{
  if (G_VALUE_HOLDS_STRING (v))
    return g_value_get_string (v);
  if (GST_VALUE_HOLDS_ARRAY (v) && gst_value_array_get_size (v) >= 2) {
    const GValue *uri = gst_value_array_get_value (v, 1);

    if (G_VALUE_HOLDS_STRING (uri))
      return g_value_get_string (uri);
  }
  return NULL;
}

static gboolean
find_framemarking (GQuark field, const GValue * v, gpointer user_data)
{
  const gchar *name = g_quark_to_string (field);
  const gchar *uri;
  guint8 *id = user_data;
  gchar *end;
  guint64 n;

  if (!g_str_has_prefix (name, "extmap-"))
    return TRUE;
  n = g_ascii_strtoull (name + 7, &end, 10);
  uri = extmap_uri (v);
  if (*end == '\0' && n >= 1 && n <= 255 && uri
      && !strcmp (uri, FRAMEMARKING_URI))
    *id = n;
  return TRUE;
}

void
ebpf_relay_priority_from_caps (const GstCaps * caps,
    guint8 codec_by_pt[PRIO_N_PT], guint8 * fm_id)
{
  guint i;

  memset (codec_by_pt, PRIO_CODEC_OTHER, PRIO_N_PT);
  *fm_id = 0;
  for (i = 0; caps && i < gst_caps_get_size (caps); i++) {
    const GstStructure *st = gst_caps_get_structure (caps, i);
    gint pt;

    if (!gst_structure_has_name (st, "application/x-rtp"))
      continue;
    if (gst_structure_get_int (st, "payload", &pt) && pt >= 0 && pt < PRIO_N_PT)
      codec_by_pt[pt] = codec_from_encoding_name (gst_structure_get_string
          (st, "encoding-name"));
    gst_structure_foreach (st, find_framemarking, fm_id);
  }
}

GParamSpec *
ebpf_relay_param_spec_framemarking_id (void)
{
  return g_param_spec_uint ("framemarking-id", "Frame marking extension id",
      "RTP header extension id of RFC 9626 frame marking, whose I, D and "
      "TID bits give packets their priority (0 = the id the caps name in "
      "extmap-N=" FRAMEMARKING_URI ", if any; 1-14 one-byte or two-byte "
      "extension headers, 15-255 two-byte ones)", 0, 255,
      EBPF_RELAY_DEFAULT_FRAMEMARKING_ID, G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
}
