#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TCP traffic for tests/ovn/run, Python standard library only.

  tcp.py serve PORT STATUS        accept connections on PORT forever; each
                                  one is read to EOF and answered with
                                  "received N"; STATUS holds the bytes
                                  received so far over all connections
                                  (rewritten every 20 ms while they grow),
                                  "0" once listening
  tcp.py send HOST PORT BYTES     one connection that sends BYTES bytes,
                                  then waits for the answer; exits 0 if the
                                  server received them all
  tcp.py probe HOST PORT SECS     exits 0 if a connection opens within SECS
  tcp.py stream HOST PORT STATUS  one connection that sends until killed;
                                  STATUS holds the bytes sent so far
"""

import os
import socket
import sys
import threading
import time

CHUNK = b"\x5a" * 65536


def write_status(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % value)
    os.replace(tmp, path)


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.total = 0

    def add(self, n):
        with self.lock:
            self.total += n


def status_writer(counter, path):
    last = -1
    while True:
        total = counter.total
        if total != last:
            write_status(path, total)
            last = total
        time.sleep(0.02)


def serve_one(conn, counter):
    n = 0
    try:
        while True:
            data = conn.recv(262144)
            if not data:
                break
            n += len(data)
            counter.add(len(data))
        conn.sendall(b"received %d\n" % n)
    except OSError:
        pass
    finally:
        conn.close()


def serve(port, status):
    counter = Counter()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", port))
    lsock.listen(64)
    write_status(status, 0)
    threading.Thread(target=status_writer, args=(counter, status),
                     daemon=True).start()
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve_one, args=(conn, counter),
                         daemon=True).start()


def send(host, port, nbytes):
    start = time.monotonic()
    sock = socket.create_connection((host, port), timeout=30)
    left = nbytes
    while left > 0:
        chunk = CHUNK[:min(left, len(CHUNK))]
        sock.sendall(chunk)
        left -= len(chunk)
    sock.shutdown(socket.SHUT_WR)
    answer = b""
    while not answer.endswith(b"\n"):
        data = sock.recv(100)
        if not data:
            break
        answer += data
    sock.close()
    secs = time.monotonic() - start
    words = answer.split()
    got = int(words[1]) if len(words) == 2 and words[0] == b"received" else -1
    print("sent %d bytes, server received %d, %.2f s, %.0f Mbit/s"
          % (nbytes, got, secs, nbytes * 8 / secs / 1e6))
    return 0 if got == nbytes else 1


def probe(host, port, secs):
    try:
        socket.create_connection((host, port), timeout=secs).close()
    except OSError as e:
        print("no connection: %s" % e)
        return 1
    print("connected")
    return 0


def stream(host, port, status):
    sock = socket.create_connection((host, port), timeout=30)
    sock.settimeout(None)
    counter = Counter()
    threading.Thread(target=status_writer, args=(counter, status),
                     daemon=True).start()
    while True:
        sock.sendall(CHUNK)
        counter.add(len(CHUNK))


def main(argv):
    if len(argv) != 5 and not (len(argv) == 4 and argv[1] == "serve"):
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "serve":
        return serve(int(argv[2]), argv[3])
    if cmd == "send":
        return send(argv[2], int(argv[3]), int(argv[4]))
    if cmd == "probe":
        return probe(argv[2], int(argv[3]), float(argv[4]))
    if cmd == "stream":
        return stream(argv[2], int(argv[3]), argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
