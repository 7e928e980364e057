#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rtcp-tool: RTCP for the feedback-plane e2e tests (e2e-rtcp*.sh,
e2e-latejoin.sh). Plain Python, no GStreamer (rtpbin-viewer.py is the
one that needs gi).

  rtcp-tool.py listen PORT FILE SECONDS [HOST:FPORT]
      Receives on 0.0.0.0:PORT for SECONDS, one line per datagram to FILE
      (flushed): "t=UNIX from=IP:PORT len=N" then one item per RTCP packet:
      "SR:ssrc:ntp:rtp:packets:octets", "RR:ssrc:nblocks",
      "RB:media_ssrc:fraction:lost:jitter:lsr:ext_highest_seq", "PLI:media_ssrc",
      "FIR:media_ssrc:seq", "PT<n>", or "BAD" for what does not parse.
      With HOST:FPORT, each datagram is then forwarded there as it is (a
      capture in front of the sender's rtpbin).
  rtcp-tool.py flood MEDIA_BASE N INTERVAL SECONDS HOST PORT
      N subscribers at MEDIA_BASE + 2i: binds their media ports (learns the
      media SSRC from the first RTP packet on MEDIA_BASE) and their
      media port + 1, from which each sends a PLI every INTERVAL seconds
      for SECONDS to HOST:PORT. Prints "sent=K ssrc=S".
  rtcp-tool.py send HOST PORT BIND KIND...
      From port BIND (0: any) one datagram per KIND: pli:SSRC,
      fir:SSRC:SEQ (valid), sr:SSRC (a sender report of SSRC, now,
      counts 0: the relay rewrites them per viewer), truncated, badlen,
      version1, garbage.
  rtcp-tool.py srcounts PORT SECONDS TOL_MS FILE
      One listener for a subscriber's media port PORT and PORT + 1 (where
      the relay sends the SRs): receives on both for SECONDS with the
      kernel's receive timestamps (SO_TIMESTAMPNS), then puts every
      datagram of both in arrival order and writes one line per SR to
      FILE: "t=KERNEL-TIME SR:ssrc:ntp:rtp:packets:octets rx=P:O
      early=P:O late=P:O": P RTP packets of that SSRC with O payload
      octets (RFC 3550: no header, CSRC, extension or padding) arrived
      before the SR; early: those of them within TOL_MS before it; late:
      those that arrived within TOL_MS after it. Last line "total=P:O".
  rtcp-tool.py keyframes PORT FILE SECONDS
      Receives H.264 RTP (RFC 6184) on 0.0.0.0:PORT for SECONDS; one line
      per IDR picture to FILE (flushed), when its first packet with an IDR
      slice (NAL type 5: single, in a STAP-A, or an FU-A start) arrives:
      "t=UNIX ssrc=S ts=RTP-TIMESTAMP". An IDR picture is a new RTP
      timestamp of its SSRC with an IDR slice.
"""
import socket
import struct
import sys
import time


def pli(sender, media):
    return struct.pack("!BBHII", 0x81, 206, 2, sender, media)


def parse(data):
    items = []
    off = 0
    while off + 4 <= len(data):
        b0, pt, length = struct.unpack_from("!BBH", data, off)
        end = off + 4 * (length + 1)
        if (b0 >> 6) != 2 or end > len(data):
            items.append("BAD")
            break
        cnt = b0 & 0x1f
        body = data[off + 4:end]
        if pt == 200 and len(body) >= 24:
            ssrc, hi, lo, rtp, pc, oc = struct.unpack_from("!IIIIII", body)
            items.append("SR:%u:%u:%u:%u:%u" % (ssrc, (hi << 32) | lo, rtp, pc, oc))
            blocks = body[24:]
        elif pt == 201 and len(body) >= 4:
            ssrc = struct.unpack_from("!I", body)[0]
            items.append("RR:%u:%u" % (ssrc, cnt))
            blocks = body[4:]
        else:
            blocks = b""
            if pt == 206 and cnt == 1 and len(body) >= 8:
                items.append("PLI:%u" % struct.unpack_from("!I", body, 4)[0])
            elif pt == 206 and cnt == 4 and len(body) >= 16:
                m, seq = struct.unpack_from("!IB", body, 8)
                items.append("FIR:%u:%u" % (m, seq))
            else:
                items.append("PT%u" % pt)
        if pt in (200, 201):
            for i in range(cnt):
                if len(blocks) < 24 * (i + 1):
                    break
                m, fl, lost_hi, lost_lo, ext, jit, lsr, _dlsr = struct.unpack_from(
                    "!IBBHIIII", blocks, 24 * i)
                lost = (lost_hi << 16) | lost_lo
                if lost & 0x800000:
                    lost -= 1 << 24
                items.append("RB:%u:%u:%d:%u:%u:%u" % (m, fl, lost, jit, lsr, ext))
        off = end
    return items


def receive(port, secs, rcvbuf=0):
    """Yields (data, source address) of each datagram received on
    0.0.0.0:PORT for SECS seconds (SO_RCVBUF RCVBUF when not 0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("0.0.0.0", port))
    end = time.time() + secs
    while True:
        left = end - time.time()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            yield s.recvfrom(65536)
        except socket.timeout:
            return


def listen(port, path, secs, forward=None):
    fwd = None
    if forward:
        host, fport = forward.rsplit(":", 1)
        fwd = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM), (host, int(fport)))
    with open(path, "w") as out:
        for data, src in receive(port, secs):
            out.write("t=%.3f from=%s:%d len=%d %s\n" % (
                time.time(), src[0], src[1], len(data), " ".join(parse(data))))
            out.flush()
            if fwd:
                fwd[0].sendto(data, fwd[1])


def has_idr(payload):
    if not payload:
        return False
    t = payload[0] & 0x1f
    if t == 5:
        return True
    if t == 28:                         # FU-A: start bit and type
        return len(payload) >= 2 and payload[1] & 0x80 and payload[1] & 0x1f == 5
    if t == 24:                         # STAP-A: 16-bit sizes
        off = 1
        while off + 3 <= len(payload):
            size = struct.unpack_from("!H", payload, off)[0]
            if size and payload[off + 2] & 0x1f == 5:
                return True
            off += 2 + size
    return False


def rtp_payload(data):
    if len(data) < 12 or data[0] >> 6 != 2 or 192 <= data[1] <= 223:
        return None
    off = 12 + 4 * (data[0] & 0x0f)
    if data[0] & 0x10 and off + 4 <= len(data):
        off += 4 + 4 * struct.unpack_from("!H", data, off + 2)[0]
    end = len(data)
    if data[0] & 0x20 and end > off:
        end -= data[-1]
    return data[off:end] if off < end else None


def keyframes(port, path, secs):
    seen = set()
    with open(path, "w") as out:
        for data, _src in receive(port, secs, 1 << 21):
            payload = rtp_payload(data)
            if payload is None or not has_idr(payload):
                continue
            ts, ssrc = struct.unpack_from("!II", data, 4)
            if (ssrc, ts) in seen:
                continue
            seen.add((ssrc, ts))
            out.write("t=%.3f ssrc=%u ts=%u\n" % (time.time(), ssrc, ts))
            out.flush()


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)     # Linux


def srcounts(port, secs, tol_ms, path):
    import select
    socks = []
    for p in (port, port + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind(("0.0.0.0", p))
        s.setblocking(False)
        socks.append(s)
    events = []                         # (kernel time, is RTCP, data)
    end = time.time() + secs
    while True:
        left = end - time.time()
        if left <= 0:
            break
        ready, _, _ = select.select(socks, [], [], left)
        for s in ready:
            while True:
                try:
                    data, anc, _flags, _src = s.recvmsg(65536, 64)
                except BlockingIOError:
                    break
                t = time.time()
                for level, kind, val in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", val[:16])
                        t = sec + nsec * 1e-9
                events.append((t, s is socks[1], data))
    events.sort(key=lambda e: e[0])
    tol = tol_ms / 1000.0
    rtp = [(t, struct.unpack_from("!I", d, 8)[0], len(rtp_payload(d) or b""))
           for t, r, d in events if not r and rtp_payload(d) is not None]
    with open(path, "w") as out:
        for t, r, d in events:
            if not r:
                continue
            for item in parse(d):
                if not item.startswith("SR:"):
                    continue
                ssrc = int(item.split(":")[1])
                rx = [0, 0]
                early = [0, 0]
                late = [0, 0]
                for tr, s, n in rtp:
                    if s != ssrc:
                        continue
                    if tr < t:
                        rx[0] += 1
                        rx[1] += n
                        if tr >= t - tol:
                            early[0] += 1
                            early[1] += n
                    elif tr < t + tol:
                        late[0] += 1
                        late[1] += n
                out.write("t=%.6f %s rx=%d:%d early=%d:%d late=%d:%d\n" % (
                    t, item, rx[0], rx[1], early[0], early[1], late[0], late[1]))
        out.write("total=%d:%d\n" % (len(rtp), sum(n for _t, _s, n in rtp)))


def flood(base, n, interval, secs, host, port):
    media, rtcp = [], []
    for i in range(n):
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        m.bind(("0.0.0.0", base + 2 * i))
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r.bind(("0.0.0.0", base + 2 * i + 1))
        media.append(m)
        rtcp.append(r)
    media[0].settimeout(10)
    while True:
        data = media[0].recv(4096)
        if len(data) >= 12 and data[0] >> 6 == 2 and not 192 <= data[1] <= 223:
            ssrc = struct.unpack_from("!I", data, 8)[0]
            break
    sent = 0
    end = time.time() + secs
    while time.time() < end:
        for i, r in enumerate(rtcp):
            r.sendto(pli(0x5ee00000 + i, ssrc), (host, port))
            sent += 1
        time.sleep(interval)
    print("sent=%d ssrc=%u" % (sent, ssrc))


def send(host, port, bind, kinds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", bind))
    for k in kinds:
        if k.startswith("pli:"):
            d = pli(0x0bad0001, int(k[4:]))
        elif k.startswith("fir:"):      # fir:MEDIA_SSRC:SEQ (RFC 5104 4.3.1)
            _, m, q = k.split(":")
            d = struct.pack("!BBHIIIB3x", 0x84, 206, 4, 0x0bad0005, 0,
                            int(m), int(q))
        elif k.startswith("sr:"):       # RFC 3550 6.4.1, no report block
            t = time.time() + 2208988800
            d = struct.pack("!BBHIIIIII", 0x80, 200, 6, int(k[3:]),
                            int(t), int((t % 1) * (1 << 32)), 0, 0, 0)
        elif k == "truncated":          # says 3 words, has 1
            d = pli(0x0bad0002, 1)[:8]
        elif k == "badlen":             # length field 5 in a 12-byte packet
            d = struct.pack("!BBHII", 0x81, 206, 5, 0x0bad0003, 1)
        elif k == "version1":
            d = struct.pack("!BBHII", 0x41, 206, 2, 0x0bad0004, 1)
        elif k == "garbage":
            d = b"\x80\xc8\x00"
        else:
            sys.exit("unknown kind " + k)
        s.sendto(d, (host, port))


def main(a):
    if len(a) in (4, 5) and a[0] == "listen":
        listen(int(a[1]), a[2], float(a[3]), a[4] if len(a) == 5 else None)
    elif len(a) == 7 and a[0] == "flood":
        flood(int(a[1]), int(a[2]), float(a[3]), float(a[4]), a[5], int(a[6]))
    elif len(a) == 5 and a[0] == "srcounts":
        srcounts(int(a[1]), float(a[2]), float(a[3]), a[4])
    elif len(a) == 4 and a[0] == "keyframes":
        keyframes(int(a[1]), a[2], float(a[3]))
    elif len(a) >= 5 and a[0] == "send":
        send(a[1], int(a[2]), int(a[3]), a[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
