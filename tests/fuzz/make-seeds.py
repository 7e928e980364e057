#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make-seeds.py [DIR]: writes the seed corpus of tests/fuzz (DIR, default
the corpus/ folder next to it): a few valid inputs per target. The files
are checked in; run this again only when the formats change."""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")


def hdr(count, pt, body):
    assert len(body) % 4 == 0
    return struct.pack("!BBH", 0x80 | count, pt, len(body) // 4) + body


def sr(ssrc, blocks=()):
    body = struct.pack("!IIIIII", ssrc, 0xe9000001, 0x12340000, 4096, 10, 4096)
    return hdr(len(blocks), 200, body + b"".join(blocks))


def rb(media, lost=0, lsr=0x00011234, dlsr=65536):
    return struct.pack("!IIIIII", media, lost & 0xffffff, 1000, 5, lsr, dlsr)


def rr(ssrc, blocks=()):
    return hdr(len(blocks), 201, struct.pack("!I", ssrc) + b"".join(blocks))


def sdes(ssrc, cname=b"viewer@host"):
    item = struct.pack("!BB", 1, len(cname)) + cname + b"\0"
    item += b"\0" * (-len(item) % 4)
    return hdr(1, 202, struct.pack("!I", ssrc) + item)


def pli(s, m):
    return hdr(1, 206, struct.pack("!II", s, m))


def fir(s, m, seq):
    return hdr(4, 206, struct.pack("!IIIB3x", s, 0, m, seq))


def nack(s, m, pid, blp):
    return hdr(1, 205, struct.pack("!IIHH", s, m, pid, blp))


def bye(ssrc):
    return hdr(1, 203, struct.pack("!I", ssrc))


def app(ssrc, name=b"TEST", data=b"abcd"):
    return hdr(0, 204, struct.pack("!I", ssrc) + name + data)


M = 0x11223344
viewer = {
    "rr-sdes": rr(0x01020304, [rb(M)]) + sdes(0x01020304),
    "rr-pli": rr(0x01020304) + pli(0x01020304, M),
    "reduced-pli": pli(0x0a0b0c0d, M),
    "fir": rr(0x0a0b0c0d) + fir(0x0a0b0c0d, M, 3),
    "nack": rr(0x05060708, [rb(M, -2)]) + nack(0x05060708, M, 100, 0x8001),
    "sr-bye": sr(0x01020304, [rb(M)]) + bye(0x01020304),
}
sender = {
    "sr": sr(0x11223345),
    "sr-sdes": sr(0x11223345, [rb(0xabcdef01)]) + sdes(0x11223345, b"sender"),
    "two-sr": sr(0x11223345) + sr(0x11223346) + sdes(0x11223345),
    "rr-app": rr(0x11223345, [rb(1)]) + app(0x11223345),
    "sr-bye": sr(0x11223347) + bye(0x11223347),
}


def ebrs(sub, a0, a1, a2, cookie=b"\0" * 16, tail=b""):
    body = struct.pack("!I", 0x01020304) + b"EBRS" + bytes([1, a0, a1, a2]) + cookie + tail
    return struct.pack("!BBH", 0x80 | sub, 204, len(body) // 4) + body


control = {
    "subscribe": ebrs(1, 3, 0, 0),
    "subscribe-token": ebrs(1, 0, 1, 5, b"C" * 16, b"hello\0\0\0"),
    "challenge": ebrs(2, 0, 0, 0, b"K" * 16),
    "ack": ebrs(3, 0, 0, 2, b"K" * 16, struct.pack("!I", 5000)),
    "ack-refused": ebrs(3, 1, 1, 0, b"K" * 16, struct.pack("!I", 5000)),
    "unsubscribe": ebrs(4, 0, 0, 0, b"K" * 16),
}


def rtp(pt, seq, ts, ssrc, payload, m=0, ext=b""):
    b0 = 0x80 | (0x10 if ext else 0)
    return struct.pack("!BBHII", b0, (m << 7) | pt, seq, ts, ssrc) + ext + payload


def pkts(*ps):
    return b"".join(struct.pack("!H", len(p)) + p for p in ps)


# frame marking, one-byte form, id 3: I=1 (0x40 << ?) S bit etc.
fm_ext = struct.pack("!HH", 0xbede, 1) + bytes([0x30, 0xa0, 0, 0])
classify = {
    "h264": bytes([0x13, 2]) + pkts(rtp(96, 1, 9000, 7, bytes([0x65]) + b"\0" * 40),
                                    rtp(96, 2, 9000, 7, bytes([0x41]) + b"\0" * 40),
                                    rtp(96, 3, 12000, 7, bytes([0x01]) + b"\0" * 20)),
    "vp8": bytes([0x10, 7]) + pkts(rtp(97, 10, 100, 9, bytes([0x10, 0x00]) + b"\0" * 30),
                                   rtp(97, 11, 100, 9, bytes([0x00, 0x01]) + b"\0" * 30),
                                   rtp(97, 12, 200, 9, bytes([0x30, 0x01]) + b"\0" * 30)),
    "framemarking": bytes([0x13, 0]) + pkts(rtp(100, 5, 1, 3, b"\0" * 10, ext=fm_ext)),
    "rtcp-and-junk": bytes([0x10, 1]) + pkts(sr(5), b"\x80", b"\x00" * 12),
}
viewer_in = {k: bytes([i]) + v for i, (k, v) in enumerate(viewer.items())}

cookie = {
    "basic": bytes([15]) + b"S" * 64 + bytes([10, 200, 11, 2]) + struct.pack("!H", 6000)
    + struct.pack("!q", 12345) + b"\0" * 16,
    "zero": b"\0" * 95,
}

for target, seeds in (("rtcp-viewer", viewer_in), ("rtcp-sender", sender),
                      ("control", control), ("classify", classify),
                      ("cookie", cookie)):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
