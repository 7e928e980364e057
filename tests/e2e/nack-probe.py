#!/usr/bin/env python3
# nack-probe.py PORT RELAY_HOST RELAY_RTCP_PORT: a subscriber's NACKs, by
# hand, against a relay that is streaming to this host's PORT (the real
# viewer stopped). It learns the stream's SSRC and its current number S
# from the live packets, then, each time counting what comes back with
# numbers behind the live stream (retransmissions: the live stream has
# passed them):
#   repeat  ten NACKs of the five numbers S-50..S-46 at once (within 1 ms,
#           less than any RTT the relay allows): each must come back once;
#   other   a NACK of S-40..S-36 naming another media SSRC: nothing;
#   storm   one datagram of 250 FCIs (PID + all 16 BLP bits: 4250 numbers
#           from S-4500 on, most of them far older than any cache): each
#           number at most once, and none named twice;
# and prints "repeat N DUPS other N storm N DUPS DISTINCT" for the shell.
# Wire format: RFC 3550 RR (no report block) + RFC 4585 generic NACK.
import socket
import struct
import sys
import time

port, host, rport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:  # room for a storm's answers (root: past rmem_max)
    rx.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
except OSError:
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
rx.bind(("0.0.0.0", port))
rx.settimeout(2.0)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ME = 0x0BADCAFE

ssrc = seq = None
for _ in range(50):
    d, _ = rx.recvfrom(2048)
    if len(d) >= 12 and d[0] >> 6 == 2 and not 192 <= d[1] <= 223:
        ssrc = struct.unpack("!I", d[8:12])[0]
        seq = struct.unpack("!H", d[2:4])[0]
if ssrc is None:
    print("no-stream")
    sys.exit(1)


def compound(media, fcis):
    rr = struct.pack("!BBHI", 0x80, 201, 1, ME)
    fb = struct.pack("!BBHII", 0x81, 205, 2 + len(fcis), ME, media)
    return rr + fb + b"".join(struct.pack("!HH", p, b) for p, b in fcis)


def collect(want, secs=0.4):
    """Counts of each number in @want that arrives within @secs."""
    got = {}
    end = time.time() + secs
    rx.settimeout(0.05)
    while time.time() < end:
        try:
            d, _ = rx.recvfrom(2048)
        except socket.timeout:
            continue
        if len(d) < 12 or struct.unpack("!I", d[8:12])[0] != ssrc:
            continue
        n = struct.unpack("!H", d[2:4])[0]
        if n in want:
            got[n] = got.get(n, 0) + 1
    return got


def behind(k):
    return (seq - k) & 0xFFFF


# repeat
nums = {behind(k) for k in range(46, 51)}
pkt = compound(ssrc, [(behind(50), 0x000F)])
for _ in range(10):
    tx.sendto(pkt, (host, rport))
got = collect(nums)
repeat_n = sum(got.values())
repeat_dups = sum(v - 1 for v in got.values() if v > 1)
# other SSRC
nums = {behind(k) for k in range(36, 41)}
tx.sendto(compound(ssrc ^ 0x5A5A5A5A, [(behind(40), 0x000F)]), (host, rport))
other_n = sum(collect(nums).values())
# storm
fcis = [(behind(4500 - 17 * i), 0xFFFF) for i in range(250)]
nums = set()
for p, _ in fcis:
    for k in range(17):
        nums.add((p + k) & 0xFFFF)
tx.sendto(compound(ssrc, fcis), (host, rport))
got = collect(nums, 1.0)
storm_n = sum(got.values())
storm_dups = sum(v - 1 for v in got.values() if v > 1)
print("repeat %d %d other %d storm %d %d %d" % (repeat_n, repeat_dups,
      other_n, storm_n, storm_dups, len(nums)))
