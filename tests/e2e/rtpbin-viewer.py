#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rtpbin-viewer: a stock GStreamer rtpbin viewer (GStreamer's Python
bindings: run it with the system python3, which has gi) that reports what
its rtpbin knows, for the feedback-plane e2e tests (e2e-rtcp-av.sh,
e2e-rtcp-rr.sh).

  rtpbin-viewer.py SECONDS RELAY-ADDR SESSION...
      SESSION is PORT:RELAY-RTCP-PORT:CAPS:DEPAY-AND-DECODE, e.g.
      "6000:5005:application/x-rtp,media=video,...:rtph264depay ! avdec_h264".
      Session K: udpsrc PORT (RTP) and PORT + 1 (RTCP) into rtpbin's
      session K, its decoded output to a fakesink, its own RTCP sent from a
      udpsink (an ephemeral port) to RELAY-ADDR:RELAY-RTCP-PORT. Runs for
      SECONDS; every 100 ms reads each session's sources (rtpbin's
      "get-internal-session", the session's "sources") and prints, on
      stdout, flushed:
        "t=UNIX sr session=K ssrc=S ntp=N rtp=R packets=P octets=O cname=C"
            once per new SR a remote source reports (have-sr);
        "t=UNIX rb session=K ssrc=S fraction=F lost=L jitter=J ext-seq=N"
            whenever the report block it sent last about remote source S
            (its RRs; the source's "sent-rb-*" stats) changes;
        "t=UNIX sync session=K ssrc=S" each time a jitterbuffer hands an
            SR to rtpbin for lip sync ("handle-sync");
        "t=UNIX ts-offset session=K ssrc=S offset=NS" each time rtpbin
            sets a jitterbuffer's ts-offset (inter-stream sync).
      Exits 0 after SECONDS or on SIGINT/SIGTERM, 1 on a pipeline error.
"""
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def out(line):
    sys.stdout.write("t=%.3f %s\n" % (time.time(), line))
    sys.stdout.flush()


def main(a):
    if len(a) < 3:
        sys.exit(__doc__)
    secs = float(a[0])
    relay = a[1]
    Gst.init(None)
    desc = ["rtpbin name=rb"]
    sessions = []
    for k, spec in enumerate(a[2:]):
        port, rport, caps, decode = spec.split(":", 3)
        sessions.append(int(port))
        desc.append('udpsrc port=%d caps="%s" buffer-size=2097152 ! rb.recv_rtp_sink_%d'
                    % (int(port), caps, k))
        desc.append("udpsrc port=%d ! rb.recv_rtcp_sink_%d" % (int(port) + 1, k))
        desc.append("rb.send_rtcp_src_%d ! udpsink host=%s port=%d sync=false async=false"
                    % (k, relay, int(rport)))
    pipeline = Gst.parse_launch(" ".join(desc))
    rb = pipeline.get_by_name("rb")

    def on_pad(_rb, pad):
        name = pad.get_name()
        if not name.startswith("recv_rtp_src_"):
            return
        k = int(name.split("_")[3])
        spec = a[2 + k].split(":", 3)[3]
        dec = Gst.parse_bin_from_description(spec + " ! fakesink sync=true", True)
        pipeline.add(dec)
        dec.sync_state_with_parent()
        pad.link(dec.get_static_pad("sink"))

    def on_jb(_rb, jb, session, ssrc):
        def sync(_jb, _s):
            out("sync session=%d ssrc=%u" % (session, ssrc))

        def offset(jb, _p):
            out("ts-offset session=%d ssrc=%u offset=%d"
                % (session, ssrc, jb.get_property("ts-offset")))
        jb.connect("handle-sync", sync)
        jb.connect("notify::ts-offset", offset)

    rb.connect("pad-added", on_pad)
    rb.connect("new-jitterbuffer", on_jb)

    seen_sr = {}
    seen_rb = {}

    def poll():
        for k in range(len(sessions)):
            sess = rb.emit("get-internal-session", k)
            if sess is None:
                continue
            for src in sess.get_property("sources"):
                st = src.get_property("stats")
                ssrc = st.get_value("ssrc")
                if st.get_value("internal"):
                    continue
                if st.get_value("sent-rb"):
                    v = (st.get_value("sent-rb-fractionlost"),
                         st.get_value("sent-rb-packetslost"),
                         st.get_value("sent-rb-jitter"),
                         st.get_value("sent-rb-exthighestseq"))
                    if seen_rb.get((k, ssrc)) != v:
                        seen_rb[(k, ssrc)] = v
                        out("rb session=%d ssrc=%u fraction=%d lost=%d jitter=%d ext-seq=%d"
                            % ((k, ssrc) + v))
                if not st.get_value("have-sr"):
                    continue
                v = (st.get_value("sr-ntptime"), st.get_value("sr-rtptime"),
                     st.get_value("sr-packet-count"), st.get_value("sr-octet-count"))
                if seen_sr.get((k, ssrc)) == v:
                    continue
                seen_sr[(k, ssrc)] = v
                sdes = src.get_property("sdes")
                cname = sdes.get_value("cname") if sdes and sdes.has_field("cname") else ""
                out("sr session=%d ssrc=%u ntp=%d rtp=%d packets=%d octets=%d cname=%s"
                    % ((k, ssrc) + v + (cname or "-",)))
        return True

    loop = GLib.MainLoop()
    rc = [0]

    def on_msg(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            sys.stderr.write("ERROR: %s (%s)\n" % (err.message, dbg))
            rc[0] = 1
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_msg)
    GLib.timeout_add(100, poll)
    GLib.timeout_add(int(secs * 1000), loop.quit)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, lambda: loop.quit() or False)
    pipeline.set_state(Gst.State.PLAYING)
    sys.stderr.write("ready\n")
    loop.run()
    poll()
    pipeline.set_state(Gst.State.NULL)
    return rc[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
