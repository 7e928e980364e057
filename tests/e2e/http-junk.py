#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""http-junk.py HOST PORT: a bounded flood of junk HTTP at HOST:PORT (only
ever loopback or a test's namespace), for e2e-metrics-http.sh. Phases, each
followed by one good GET /metrics that must answer 200 within 3 s:
  random   500 connections of random bytes (up to 4 KiB), then closed
  lines    twice: malformed request lines, bad versions, NULs, bare LF, a missing
           Host, absurd Content-Length and chunk sizes
  huge     20 requests with a 256 KiB header line or URI
  pipeline 50 connections of 20 pipelined requests (good and bad), closed
           before reading the answers
  idle     100 connections that send half a request and stay open while
           the good GET is made
Prints one line per phase, "phase NAME ok" or "phase NAME FAILED: why";
exits 1 if any failed."""
import random
import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
rng = random.Random(15)


def connect():
    s = socket.create_connection((HOST, PORT), timeout=3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    return s


def fire(data, read=False):
    """Sends data, optionally reads (bounded) what comes back, closes."""
    try:
        s = connect()
        try:
            s.sendall(data)
            if read:
                s.settimeout(0.3)
                got = 0
                while got < 1 << 20:
                    b = s.recv(65536)
                    if not b:
                        break
                    got += len(b)
        except OSError:
            pass  # the server may close on us: that is fine
        finally:
            s.close()
    except OSError as e:
        raise SystemExit(f"cannot connect to {HOST}:{PORT}: {e}")


def good_get():
    t0 = time.monotonic()
    s = connect()
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    dt = time.monotonic() - t0
    if not data.startswith(b"HTTP/1.0 200"):
        return f"answer {data[:40]!r}"
    if b"ebpfrelay_subscribers" not in data:
        return "no metrics in the answer"
    if dt > 3:
        return f"answer took {dt:.1f} s"
    return None


def phase(name, fn):
    t0 = time.monotonic()
    try:
        fn()
        err = good_get()
    except Exception as e:  # noqa: BLE001 (any failure is the verdict)
        err = f"{type(e).__name__}: {e}"
    print(f"phase {name} " + ("ok" if err is None else f"FAILED: {err}")
          + f" ({time.monotonic() - t0:.1f} s)", flush=True)
    return err is None


def p_random():
    for _ in range(500):
        fire(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))


LINES = [
    b"FOO BAR\r\n\r\n", b"GET\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\n\r\n", b"\0\0\0\0\r\n\r\n",
    b"GET /metrics\nHost: x\n\n", b"GET /../../etc/passwd HTTP/1.0\r\n\r\n",
    b"GET /metrics?x=%zz HTTP/1.0\r\n\r\n", b"GET /%00 HTTP/1.0\r\n\r\n",
    b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nab",
    b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"fffffffffffffffff\r\nab\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    b"GET http://evil/metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT 127.0.0.1:22 HTTP/1.1\r\n\r\n", b"\r\n\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 2000 + b"\r\n",
]


def p_lines():
    for _ in range(2):
        for data in LINES:
            fire(data, read=True)


def p_huge():
    for i in range(20):
        if i % 2:
            fire(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * (256 << 10)
                 + b"\r\n\r\n", read=True)
        else:
            fire(b"GET /" + b"m" * (256 << 10) + b" HTTP/1.1\r\n\r\n",
                 read=True)


def p_pipeline():
    reqs = [b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
            b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", b"junk\r\n\r\n"]
    for _ in range(50):
        fire(b"".join(rng.choice(reqs) for _ in range(20)))


def p_idle():
    held = []
    try:
        for _ in range(100):
            s = connect()
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost:")
            held.append(s)
        err = good_get()
        if err:
            raise RuntimeError("with 100 idle connections: " + err)
    finally:
        for s in held:
            s.close()


ok = True
for name, fn in [("random", p_random), ("lines", p_lines), ("huge", p_huge),
                 ("pipeline", p_pipeline), ("idle", p_idle)]:
    ok = phase(name, fn) and ok
sys.exit(0 if ok else 1)
