/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the priority contract needs from RTP caps, read the same way by
 * every element: the codec of each payload type and the frame marking id. */
#ifndef __EBPF_RELAY_CAPS_H__
#define __EBPF_RELAY_CAPS_H__

#include <gst/gst.h>
#include "priority.h"

G_BEGIN_DECLS

#define FRAMEMARKING_URI "urn:ietf:params:rtp-hdrext:framemarking"
#define EBPF_RELAY_DEFAULT_FRAMEMARKING_ID 0

/* The framemarking-id property, the same in every element that
 * classifies (0 = the id the caps name), changeable while PLAYING. */
GParamSpec *ebpf_relay_param_spec_framemarking_id (void);

/* Fills @codec_by_pt (enum prio_codec per payload type) from the
 * application/x-rtp structures of @caps (payload, encoding-name), and
 * @fm_id from an extmap-N field naming FRAMEMARKING_URI (0: none). @caps
 * may be NULL: every codec "other", no id. */
void ebpf_relay_priority_from_caps (const GstCaps * caps,
    guint8 codec_by_pt[PRIO_N_PT], guint8 * fm_id);

G_END_DECLS
#endif
