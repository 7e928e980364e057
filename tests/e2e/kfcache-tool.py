#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kfcache-tool: what a viewer received, for e2e-kfcache.sh. Plain Python.

  kfcache-tool.py capture PORT FILE SECONDS
      Receives RTP on 127.0.0.1:PORT (a tee's copy of what the viewer's
      udpsrc got) for SECONDS; one line per datagram to FILE (flushed):
      "t=UNIX seq=N ts=T ssrc=S key=0|1", key 1 when the payload holds an
      SPS or an IDR slice (H.264, RFC 6184: single NAL, STAP-A, FU-A start).
  kfcache-tool.py check FILE
      The sequence numbers of FILE, in arrival order, must be one
      contiguous run (mod 2^16, one SSRC), each once, and the first packet
      must be a key one. Prints "packets=N first=A last=B gaps=G dups=D
      reordered=R first_key=K" and exits 0 when it holds, 1 when not.
"""
import socket
import struct
import sys
import time


def nal_types(payload):
    if not payload:
        return []
    t = payload[0] & 0x1f
    if t == 24:                         # STAP-A
        out, off = [], 1
        while off + 2 < len(payload):
            n = struct.unpack_from("!H", payload, off)[0]
            if n == 0 or off + 2 + n > len(payload):
                break
            out.append(payload[off + 2] & 0x1f)
            off += 2 + n
        return out
    if t == 28 and len(payload) > 1:    # FU-A: its start carries the type
        return [payload[1] & 0x1f] if payload[1] & 0x80 else []
    return [t]


def rtp_payload(d):
    if len(d) < 12 or d[0] >> 6 != 2:
        return None
    off = 12 + 4 * (d[0] & 0x0f)
    if d[0] & 0x10 and len(d) >= off + 4:
        off += 4 + 4 * struct.unpack_from("!H", d, off + 2)[0]
    end = len(d) - (d[-1] if d[0] & 0x20 else 0)
    return d[off:end] if off <= end else None


def capture(port, path, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", port))
    end = time.time() + secs
    with open(path, "w") as f:
        while True:
            left = end - time.time()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            p = rtp_payload(d)
            if p is None:
                continue
            seq, ts, ssrc = struct.unpack_from("!HII", d, 2)
            key = int(any(t in (5, 7) for t in nal_types(p)))
            f.write("t=%.6f seq=%d ts=%d ssrc=%d key=%d\n"
                    % (time.time(), seq, ts, ssrc, key))
            f.flush()


def check(path):
    rows = []
    for line in open(path):
        kv = dict(x.split("=", 1) for x in line.split())
        rows.append((int(kv["seq"]), int(kv["ssrc"]), int(kv["key"])))
    if not rows:
        print("packets=0")
        return 1
    first = rows[0][0]
    seen, gaps, dups, reordered, expect = set(), 0, 0, 0, first
    for seq, _, _ in rows:
        off = (seq - first) & 0xffff
        if off in seen:
            dups += 1
            continue
        if seq != expect:
            reordered += 1
        seen.add(off)
        expect = (seq + 1) & 0xffff
    top = max(seen)
    gaps = top + 1 - len(seen)
    ssrcs = len(set(r[1] for r in rows))
    print("packets=%d first=%d last=%d gaps=%d dups=%d reordered=%d "
          "first_key=%d ssrcs=%d" % (len(rows), first, (first + top) & 0xffff,
                                     gaps, dups, reordered, rows[0][2], ssrcs))
    return 0 if gaps == 0 and dups == 0 and rows[0][2] and ssrcs == 1 else 1


def main(a):
    if len(a) == 4 and a[0] == "capture":
        capture(int(a[1]), a[2], float(a[3]))
        return 0
    if len(a) == 2 and a[0] == "check":
        return check(a[1])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
