#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rtx-viewer: a stock GStreamer rtpbin viewer with an rtprtxreceive in
its session, given through rtpbin's "request-aux-receiver" signal as an
application receiving RFC 4588 RTX does; for e2e-nack.sh's rtx rows (run it
with the system python3, which has gi). The signal is emitted when the
session is made, at the request of rtpbin's first pad, so rtpbin is built
here and connected before its pads are requested (gst-launch's syntax,
which requests them while parsing, cannot do that).

  rtx-viewer.py PT-MAP RTPBIN-PROPS PORT RELAY-HOST RELAY-RTCP-PORT CAPS DOWNSTREAM
      PT-MAP: rtprtxreceive's payload-type-map, media PT to RTX PT, e.g.
      "application/x-rtp-pt-map, 96=(uint)97"; RTPBIN-PROPS: "k=v k=v"
      for rtpbin; udpsrc PORT (with CAPS) and PORT + 1 into rtpbin's
      session 0, its RTCP from a udpsink to RELAY-HOST:RELAY-RTCP-PORT, its
      output into DOWNSTREAM (a bin description, e.g. "rtph264depay !
      multifilesink location=...").
Prints "playing" once PLAYING. SIGUSR1 prints, as launch-stats does, one
line "stats NAME STRUCTURE" per rtpjitterbuffer and one line
  "rtx NAME num-rtx-requests=N num-rtx-packets=N num-rtx-assoc-packets=N"
per rtprtxreceive (RTX packets received, and associated with a request:
the proof that retransmissions came as RTX). SIGINT/SIGTERM send EOS; exits
0 after EOS (or 10 s after it was sent), 1 on an error.
"""
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main(a):
    if len(a) != 7:
        sys.exit(__doc__)
    Gst.init(None)
    ptmap = Gst.Structure.from_string(a[0])[0]
    if ptmap is None:
        sys.exit("rtx-viewer: bad PT-MAP %r" % a[0])
    port, host, rport = int(a[2]), a[3], int(a[4])
    pipeline = Gst.Pipeline.new("viewer")
    rb = Gst.ElementFactory.make("rtpbin", "rb")
    for kv in a[1].split():
        k, v = kv.split("=", 1)
        Gst.util_set_object_arg(rb, k, v)
    receivers = []

    def aux(_rb, session):
        rx = Gst.ElementFactory.make("rtprtxreceive", "rtx%d" % session)
        rx.set_property("payload-type-map", ptmap)
        receivers.append(rx)
        b = Gst.Bin.new("rtxbin%d" % session)
        b.add(rx)
        b.add_pad(Gst.GhostPad.new("sink_%d" % session, rx.get_static_pad("sink")))
        b.add_pad(Gst.GhostPad.new("src_%d" % session, rx.get_static_pad("src")))
        return b

    rb.connect("request-aux-receiver", aux)
    rtp = Gst.ElementFactory.make("udpsrc")
    rtp.set_property("port", port)
    rtp.set_property("caps", Gst.Caps.from_string(a[5]))
    rtcp = Gst.ElementFactory.make("udpsrc")
    rtcp.set_property("port", port + 1)
    rtcp_out = Gst.ElementFactory.make("udpsink")
    for k, v in (("host", host), ("port", rport), ("sync", False), ("async", False)):
        rtcp_out.set_property(k, v)
    down = Gst.parse_bin_from_description(a[6], True)
    for e in (rb, rtp, rtcp, rtcp_out, down):
        pipeline.add(e)
    rtp.get_static_pad("src").link(rb.request_pad_simple("recv_rtp_sink_0"))
    rtcp.get_static_pad("src").link(rb.request_pad_simple("recv_rtcp_sink_0"))
    rb.request_pad_simple("send_rtcp_src_0").link(rtcp_out.get_static_pad("sink"))

    def on_pad(_rb, pad):
        sink = down.get_static_pad("sink")
        if pad.get_name().startswith("recv_rtp_src_0_") and not sink.is_linked():
            pad.link(sink)

    rb.connect("pad-added", on_pad)

    def print_stats():
        it = pipeline.iterate_recurse()
        while True:
            res, e = it.next()
            if res != Gst.IteratorResult.OK:
                break
            f = e.get_factory()
            if f and f.get_name() == "rtpjitterbuffer":
                print("stats %s %s" % (e.get_name(), e.get_property("stats").to_string()))
        for rx in receivers:
            print("rtx %s num-rtx-requests=%d num-rtx-packets=%d num-rtx-assoc-packets=%d"
                  % (rx.get_name(), rx.get_property("num-rtx-requests"),
                     rx.get_property("num-rtx-packets"),
                     rx.get_property("num-rtx-assoc-packets")))
        sys.stdout.flush()
        return True

    loop = GLib.MainLoop()
    rc = [0]
    playing = [False]

    def on_msg(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            sys.stderr.write("ERROR: %s (%s)\n" % (err.message, dbg))
            rc[0] = 1
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()
        elif (msg.type == Gst.MessageType.STATE_CHANGED and msg.src == pipeline
              and not playing[0]):
            if msg.parse_state_changed()[1] == Gst.State.PLAYING:
                playing[0] = True
                print("playing")
                sys.stdout.flush()
        return True

    def stop():
        pipeline.send_event(Gst.Event.new_eos())
        GLib.timeout_add(10000, loop.quit)
        return False

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_msg)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, print_stats)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        sys.stderr.write("rtx-viewer: the pipeline did not start\n")
        return 1
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return rc[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
