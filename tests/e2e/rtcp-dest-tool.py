#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rtcp-dest-tool: the rtcp-mux viewer of e2e-rtcp-dest.sh.

  rtcp-dest-tool.py mux PORT FILE SECONDS HOST RTCP_PORT
      Receives on 0.0.0.0:PORT for SECONDS: RTP and RTCP multiplexed on
      one port (RFC 5761: the second byte 192..223 is RTCP). For each SR
      it answers, from PORT itself, an RR about the SR's SSRC with LSR (the
      SR's NTP middle 32 bits) and DLSR (the time since, 1/65536 s) to
      HOST:RTCP_PORT, so the relay can attribute it by its RTCP port (the
      media port) and compute an RTT. Writes one summary line to FILE
      (appended, flushed) after each SR and every 200 RTP packets, and at
      the end: "rtp=N srs=S rrs=R lost=L dup=D other=O ssrcs=K", where
      lost/dup come from each SSRC's sequence numbers and other counts the
      datagrams that are neither RTCP nor RTP version 2.
"""
import random
import socket
import struct
import sys
import time


def rr(sender, media, lsr, dlsr):
    # V=2, RC=1, PT=201, length 7: sender SSRC, one report block
    return struct.pack("!BBHI", 0x81, 201, 7, sender) + struct.pack(
        "!IIIIII", media, 0, 0, 0, lsr, dlsr)


def mux(port, path, secs, host, rtcp_port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.bind(("0.0.0.0", port))
    me = random.randint(1, 0xffffffff)
    n = {"rtp": 0, "srs": 0, "rrs": 0, "lost": 0, "dup": 0, "other": 0}
    last = {}
    end = time.time() + secs
    with open(path, "a") as out:
        def line():
            out.write(" ".join("%s=%d" % kv for kv in n.items())
                      + " ssrcs=%d\n" % len(last))
            out.flush()
        while True:
            left = end - time.time()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data = s.recv(65536)
            except socket.timeout:
                break
            if len(data) >= 8 and data[0] >> 6 == 2 and 192 <= data[1] <= 223:
                if data[1] == 200 and len(data) >= 28:
                    ssrc, hi, lo = struct.unpack_from("!III", data, 4)
                    n["srs"] += 1
                    lsr = ((hi & 0xffff) << 16) | (lo >> 16)
                    s.sendto(rr(me, ssrc, lsr, 0), (host, rtcp_port))
                    n["rrs"] += 1
                    line()
                continue
            if len(data) < 12 or data[0] >> 6 != 2:
                n["other"] += 1
                continue
            seq, = struct.unpack_from("!H", data, 2)
            ssrc, = struct.unpack_from("!I", data, 8)
            n["rtp"] += 1
            if ssrc in last:
                d = (seq - last[ssrc]) & 0xffff
                if d == 0 or d > 0x8000:
                    n["dup"] += 1
                    continue
                n["lost"] += d - 1
            last[ssrc] = seq
            if n["rtp"] % 200 == 0:
                line()
        line()


def main(a):
    if len(a) == 6 and a[0] == "mux":
        mux(int(a[1]), a[2], float(a[3]), a[4], int(a[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
