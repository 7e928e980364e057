/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __GST_RTP_FRAME_MARKING_H__
#define __GST_RTP_FRAME_MARKING_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

/* The RFC 9626 extension's URI, as it appears in caps (extmap-<id>) and SDP */
#define GST_RTP_FRAME_MARKING_URI "urn:ietf:params:rtp-hdrext:framemarking"

#define GST_TYPE_RTP_FRAME_MARKING (gst_rtp_frame_marking_get_type ())
G_DECLARE_FINAL_TYPE (GstRtpFrameMarking, gst_rtp_frame_marking, GST,
    RTP_FRAME_MARKING, GstBaseTransform)

G_END_DECLS
#endif
