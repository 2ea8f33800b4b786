#!/usr/bin/env python3
"""A lying DNS server on loopback for tests/integration/dns_hostile.sh: it answers each
question by the first label of its name, badly on purpose. Bounded: it stops by itself
after the given number of seconds.

  garbage.*   random octets (c-ares drops it: no answer to the query, RFC 5452)
  mismatch.*  a well-formed answer to another question (dropped the same way)
  broken.*    the right question, then a record cut short
  loop.*      a CNAME loop (loop -> loop2 -> loop)
  servfail.*  SERVFAIL
  silent.*    no answer at all
  long.*      a CNAME chain of 12 links
  ok.*        one A record, 198.18.0.1, TTL 5
"""
import os
import socket
import struct
import sys
import time


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(msg):
    """(name, qtype, end offset) of the query's question."""
    off, labels = 12, []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode(errors="replace"))
        off += 1 + n
    qtype = struct.unpack("!H", msg[off + 1:off + 3])[0]
    return ".".join(labels), qtype, off + 5


def rr(owner, rtype, ttl, rdata):
    return name_wire(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer(msg):
    qid = msg[:2]
    name, qtype, end = question(msg)
    q = msg[12:end]
    kind = name.split(".")[0]
    head = lambda rcode, an: qid + struct.pack("!BBHHHH", 0x84, rcode, 1, an, 0, 0)
    if kind == "garbage":
        return os.urandom(48)
    if kind == "mismatch":
        other = name_wire("elsewhere." + name) + struct.pack("!HH", qtype, 1)
        return head(0, 1) + other + rr("elsewhere." + name, 1, 5, bytes([198, 18, 0, 9]))
    if kind == "broken":
        return head(0, 1) + q + name_wire(name) + struct.pack("!HHIH", 1, 1, 5, 4) + b"\xc6\x12"
    if kind == "loop":
        base = name.split(".", 1)[1]
        return head(0, 2) + q + rr(name, 5, 5, name_wire("loop2." + base)) + \
            rr("loop2." + base, 5, 5, name_wire(name))
    if kind == "servfail":
        return head(2, 0) + q
    if kind == "silent":
        return None
    if kind == "long":
        base = name.split(".", 1)[1]
        chain, prev = b"", name
        for k in range(12):
            nxt = "l%d.%s" % (k, base)
            chain += rr(prev, 5, 5, name_wire(nxt))
            prev = nxt
        return head(0, 12) + q + chain
    if kind == "ok" and qtype == 1:
        return head(0, 1) + q + rr(name, 1, 5, bytes([198, 18, 0, 1]))
    return head(3, 0) + q  # NXDOMAIN, no SOA


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    end = time.time() + seconds
    while time.time() < end:
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            out = answer(msg)
        except Exception:  # a query we cannot read: no answer
            out = None
        if out:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
