/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-framemarking: rtpframemarking's extension rewriting, the element
 * itself (gstrtpframemarking.c compiled into the target, registered
 * statically) in a GstHarness, on arbitrary buffers.
 * Input: byte 0 = caps (low 2 bits: H264, VP8, OPUS, none), 1 =
 * framemarking-id (0: 3), 2 = priority (& 7, or -1 when bit 3 is set);
 * the rest is the buffer. Invariants: one buffer out per buffer in; one
 * counted as passed leaves byte for byte as it came; one counted as
 * tagged is RTP with the same header fields and payload, and carries the
 * frame marking element under the configured id. */
#include <stdio.h>
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include "gstebpfrelayelements.h"
#include "fuzz-util.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

void
ebpf_relay_element_init (GstPlugin * plugin)
{
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  setenv ("G_SLICE", "always-malloc", 1);
  gst_init (NULL, NULL);
  GST_ELEMENT_REGISTER (rtpframemarking, NULL);
  return 0;
}

static guint64
stat_of (GstElement * e, const gchar * field)
{
  GstStructure *s;
  guint64 v = 0;

  g_object_get (e, "stats", &s, NULL);
  gst_structure_get_uint64 (s, field, &v);
  gst_structure_free (s);
  return v;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static const gchar *enc[] = { "H264", "VP8", "OPUS", NULL };
  GstHarness *h;
  GstElement *e;
  GstBuffer *in, *out;
  GstRTPBuffer rin = GST_RTP_BUFFER_INIT, rout = GST_RTP_BUFFER_INIT;
  const guint8 *pkt;
  guint fm_id;
  gint prio;
  gsize len;

  if (size < 4 || size > FUZZ_MAX_LEN)
    return 0;
  fm_id = data[1] ? data[1] : 3;
  prio = (data[2] & 8) ? -1 : data[2] & 7;
  pkt = fuzz_guarded (data + 3, size - 3);
  len = size - 3;

  h = gst_harness_new ("rtpframemarking");
  e = h->element;
  g_object_set (e, "framemarking-id", fm_id, "priority", prio, NULL);
  if (enc[data[0] & 3]) {
    gchar *caps = g_strdup_printf ("application/x-rtp,media=video,"
        "encoding-name=%s,payload=96,clock-rate=90000", enc[data[0] & 3]);
    gst_harness_set_src_caps_str (h, caps);
    g_free (caps);
  } else {
    gst_harness_set_src_caps_str (h, "application/x-rtp");
  }
  in = gst_buffer_new_memdup (pkt, len);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  FUZZ_CHECK (out != NULL);
  if (stat_of (e, "passed") == 1) {
    FUZZ_CHECK (gst_buffer_get_size (out) == len);
    FUZZ_CHECK (gst_buffer_memcmp (out, 0, pkt, len) == 0);
  } else {
    gpointer ext;
    guint ext_size;
    gboolean found;

    FUZZ_CHECK (stat_of (e, "tagged") == 1);
    FUZZ_CHECK (gst_rtp_buffer_map (in, GST_MAP_READ, &rin));
    FUZZ_CHECK (gst_rtp_buffer_map (out, GST_MAP_READ, &rout));
    FUZZ_CHECK (gst_rtp_buffer_get_ssrc (&rin) == gst_rtp_buffer_get_ssrc
        (&rout));
    FUZZ_CHECK (gst_rtp_buffer_get_seq (&rin) == gst_rtp_buffer_get_seq
        (&rout));
    FUZZ_CHECK (gst_rtp_buffer_get_timestamp (&rin) ==
        gst_rtp_buffer_get_timestamp (&rout));
    FUZZ_CHECK (gst_rtp_buffer_get_payload_type (&rin) ==
        gst_rtp_buffer_get_payload_type (&rout));
    FUZZ_CHECK (gst_rtp_buffer_get_marker (&rin) ==
        gst_rtp_buffer_get_marker (&rout));
    FUZZ_CHECK (gst_rtp_buffer_get_payload_len (&rin) ==
        gst_rtp_buffer_get_payload_len (&rout));
    FUZZ_CHECK (gst_rtp_buffer_get_payload_len (&rin) == 0
        || memcmp (gst_rtp_buffer_get_payload (&rin),
            gst_rtp_buffer_get_payload (&rout),
            gst_rtp_buffer_get_payload_len (&rin)) == 0);
    if (fm_id <= 14)
      found = gst_rtp_buffer_get_extension_onebyte_header (&rout, fm_id, 0,
          &ext, &ext_size)
          || gst_rtp_buffer_get_extension_twobytes_header (&rout, NULL,
          fm_id, 0, &ext, &ext_size);
    else
      found = gst_rtp_buffer_get_extension_twobytes_header (&rout, NULL,
          fm_id, 0, &ext, &ext_size);
    FUZZ_CHECK (found);
    FUZZ_CHECK (ext_size >= 1 && ext_size <= 3);
    gst_rtp_buffer_unmap (&rin);
    gst_rtp_buffer_unmap (&rout);
  }
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  return 0;
}
