#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""sps-viewer: a limited viewer of an x264 stream with B frames, on
loopback, for e2e-sps.sh (GStreamer's Python bindings: the system python3).

  sps-viewer.py SECONDS LIMIT REWRITE MODE PORT FFMPEG-PORT WORKDIR [SWITCH]

In one process: a sender (videotestsrc 320x240 at 30 fps ! x264enc
bframes=2 b-adapt=false key-int-max=60, a key frame each 2 s !
rtph264pay config-interval=-1, SPS/PPS before each IDR) to
127.0.0.1:PORT for SECONDS, and the viewer

  ebpfprioritysrc port=PORT priority-limit=LIMIT rewrite-sps=REWRITE
      mode=MODE ! tee ! rtph264depay ! avdec_h264 ! fakesink
               tee ! udpsink 127.0.0.1:FFMPEG-PORT

with ffmpeg (one decoder thread, -vf showinfo) reading what the viewer
pushed from FFMPEG-PORT (WORKDIR/x.sdp). The viewer starts first; the
sender after ffmpeg is listening. After the sender stops, it waits 1.5 s
(the stream is still live for both decoders: nothing is flushed), then
counts and kills ffmpeg (SIGKILL: no flush at its end either).

SWITCH ("T:L,T:L,...") sets priority-limit L at T seconds after the
sender's start, while PLAYING.

Prints, one line each:
  "idr n=K t=MONO"        the first packet of the K-th IDR picture the
                          viewer pushed (NAL type 5, single or FU-A start),
                          on its src pad
  "frame n=K t=MONO"      the K-th picture avdec_h264 output
  "ffmpeg frames=F"       the pictures ffmpeg output (showinfo lines)
  "summary idrs=K frames=N ffmpeg=F max-delay-ms=D sps-rewritten=R
   sps-kept=S tail-delay-ms=T"
                          D: the largest delay from the K-th IDR's arrival
                          to the K-th picture (at limit 7 the pictures are
                          the IDRs, in order), -1 when a picture is missing;
                          T (with SWITCH): the largest delay from an IDR's
                          arrival to the next picture, over the IDRs that
                          came 2.5 s or more after the last switch, -1
                          when there is none
Exits 1 on a pipeline error.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

CAPS = ("application/x-rtp,media=video,encoding-name=H264,payload=96,"
        "clock-rate=90000")


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def is_idr_start(data):
    """The RTP packet starts an IDR picture's NAL unit (single or FU-A)."""
    if len(data) < 14 or (data[0] & 0xC0) != 0x80:
        return False
    off = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if off + 4 > len(data):
            return False
        off += 4 + 4 * ((data[off + 2] << 8) | data[off + 3])
    if off + 2 > len(data):
        return False
    t = data[off] & 0x1F
    if t == 5:
        return True
    if t == 28:
        return (data[off + 1] & 0x80) != 0 and (data[off + 1] & 0x1F) == 5
    return False


def main(a):
    if len(a) not in (7, 8):
        sys.exit(__doc__)
    switches = []
    if len(a) == 8:
        for sw in a[7].split(","):
            t, lim = sw.split(":")
            switches.append((float(t), int(lim)))
    secs = float(a[0])
    limit, rewrite, mode = int(a[1]), a[2], a[3]
    port, fport, work = int(a[4]), int(a[5]), a[6]
    Gst.init(None)

    idr_t, frame_t = [], []
    last_ts = [None]
    lock = threading.Lock()
    failed = [False]

    viewer = Gst.parse_launch(
        "ebpfprioritysrc name=src address=127.0.0.1 port=%d "
        "priority-limit=%d rewrite-sps=%s mode=%s caps=\"%s\" ! tee name=t "
        "t. ! queue ! rtph264depay ! avdec_h264 name=dec ! "
        "fakesink sync=false async=false "
        "t. ! queue ! udpsink host=127.0.0.1 port=%d sync=false async=false"
        % (port, limit, rewrite, mode, CAPS, fport))

    def on_src(pad, info):
        buf = info.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        if ok:
            data = bytes(m.data)
            buf.unmap(m)
            if is_idr_start(data):
                ts = data[4:8]
                if ts != last_ts[0]:
                    last_ts[0] = ts
                    with lock:
                        idr_t.append(time.monotonic())
                        out("idr n=%d t=%.3f" % (len(idr_t), idr_t[-1]))
        return Gst.PadProbeReturn.OK

    def on_dec(pad, info):
        with lock:
            frame_t.append(time.monotonic())
            out("frame n=%d t=%.3f" % (len(frame_t), frame_t[-1]))
        return Gst.PadProbeReturn.OK

    viewer.get_by_name("src").get_static_pad("src").add_probe(
        Gst.PadProbeType.BUFFER, on_src)
    viewer.get_by_name("dec").get_static_pad("src").add_probe(
        Gst.PadProbeType.BUFFER, on_dec)

    sdp = os.path.join(work, "x.sdp")
    with open(sdp, "w") as f:
        f.write("v=0\no=- 0 0 IN IP4 127.0.0.1\ns=sps\nc=IN IP4 127.0.0.1\n"
                "t=0 0\nm=video %d RTP/AVP 96\na=rtpmap:96 H264/90000\n"
                "a=fmtp:96 packetization-mode=1\n" % fport)
    ffmpeg_log = open(os.path.join(work, "ffmpeg.log"), "w")
    ff = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info",
         "-protocol_whitelist", "file,udp,rtp", "-reorder_queue_size", "0",
         "-analyzeduration", "0", "-probesize", "32", "-threads", "1",
         "-i", sdp, "-vf", "showinfo", "-f", "null", "-"],
        stdout=subprocess.DEVNULL, stderr=ffmpeg_log)

    sender = Gst.parse_launch(
        "videotestsrc is-live=true pattern=ball ! "
        "video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! "
        "x264enc bframes=2 b-adapt=false key-int-max=60 "
        "speed-preset=ultrafast ! video/x-h264,profile=main ! "
        "rtph264pay config-interval=-1 pt=96 mtu=1200 ! "
        "udpsink host=127.0.0.1 port=%d sync=true" % port)

    loop = GLib.MainLoop()

    def on_msg(bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            sys.stderr.write("error from %s: %s (%s)\n"
                             % (msg.src.get_name(), err.message, dbg))
            failed[0] = True
            loop.quit()

    for p in (viewer, sender):
        bus = p.get_bus()
        bus.add_signal_watch()
        bus.connect("message", on_msg)

    viewer.set_state(Gst.State.PLAYING)
    # ffmpeg opens its socket after reading the SDP
    time.sleep(1.0)

    def start_sender():
        sender.set_state(Gst.State.PLAYING)
        return False

    def stop_sender():
        sender.set_state(Gst.State.NULL)
        return False

    GLib.timeout_add(0, start_sender)
    last_switch = [None]

    def set_limit(lim):
        viewer.get_by_name("src").set_property("priority-limit", lim)
        last_switch[0] = time.monotonic()
        out("limit %d t=%.3f" % (lim, last_switch[0]))
        return False

    for t, lim in switches:
        GLib.timeout_add(int(t * 1000), set_limit, lim)
    GLib.timeout_add(int(secs * 1000), stop_sender)
    GLib.timeout_add(int(secs * 1000) + 1500, loop.quit)
    loop.run()

    stats = viewer.get_by_name("src").get_property("stats")
    os.kill(ff.pid, signal.SIGKILL)
    ff.wait()
    ffmpeg_log.close()
    sender.set_state(Gst.State.NULL)
    viewer.set_state(Gst.State.NULL)
    with open(os.path.join(work, "ffmpeg.log")) as f:
        fframes = sum(1 for ln in f if "Parsed_showinfo" in ln and " n:" in ln)
    out("ffmpeg frames=%d" % fframes)

    with lock:
        if len(frame_t) >= len(idr_t) and idr_t:
            delay = max(frame_t[i] - idr_t[i] for i in range(len(idr_t)))
            delay_ms = int(delay * 1000)
        else:
            delay_ms = -1
        tail = -1
        if last_switch[0] is not None:
            for t in idr_t:
                if t < last_switch[0] + 2.5:
                    continue
                nxt = [f for f in frame_t if f >= t]
                d = int((nxt[0] - t) * 1000) if nxt else 100000
                tail = max(tail, d)
        out("summary idrs=%d frames=%d ffmpeg=%d max-delay-ms=%d "
            "sps-rewritten=%d sps-kept=%d tail-delay-ms=%d"
            % (len(idr_t), len(frame_t), fframes, delay_ms,
               stats.get_value("sps-rewritten"),
               stats.get_value("sps-kept"), tail))
    return 1 if failed[0] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
