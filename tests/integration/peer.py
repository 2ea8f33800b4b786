#!/usr/bin/env python3
"""The far side for dataplane tests, run inside the lab namespace: sends what a test asks
at sipedge's lines and prints what comes back, one line per probe, as JSON.

  peer.py answers LINE_IP LINE_PORT BAD_PORT   phone answers to requests (OPTIONS, ...)
  peer.py hostile LINE_IP LINE_PORT            malformed, truncated, oversized, non-SIP
  peer.py call LINE_IP LINE_PORT               an INVITE: every answer's status, and the SDP
"""
import json
import socket
import sys

SRC = ("198.18.0.1", 0)


def request(method, ip, port, user="100000", body=""):
    return (
        f"{method} sip:{user}@{ip}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 198.18.0.1:{{sport}};branch=z9hG4bKpeer{method}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:peer@198.18.0.1>;tag=peer1\r\n"
        f"To: <sip:{user}@{ip}>\r\n"
        f"Call-ID: peer-{method}@198.18.0.1\r\n"
        f"CSeq: 1 {method}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


def exchange(payload, ip, port, wait=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(SRC)
    s.settimeout(wait)
    data = payload.replace("{sport}", str(s.getsockname()[1])) if isinstance(payload, str) else payload
    s.sendto(data.encode() if isinstance(data, str) else data, (ip, port))
    try:
        reply, _ = s.recvfrom(65535)
        return reply.decode(errors="replace")
    except socket.timeout:
        return None
    finally:
        s.close()


def status_of(reply):
    if not reply:
        return None
    first = reply.split("\r\n", 1)[0].split(" ")
    return int(first[1]) if len(first) > 1 and first[1].isdigit() else None


def answers(ip, port, bad_port):
    out = {}
    for method in ["OPTIONS", "NOTIFY", "INVITE", "BYE", "MESSAGE", "FROBNICATE"]:
        reply = exchange(request(method, ip, port), ip, port)
        out[method] = status_of(reply)
        if method == "OPTIONS" and reply:
            out["options_has_to_tag"] = ";tag=" in reply.split("\r\nTo:", 1)[1].split("\r\n", 1)[0]
    out["unknown_line"] = status_of(exchange(request("OPTIONS", ip, bad_port), ip, bad_port))
    out["ack_answered"] = exchange(request("ACK", ip, port), ip, port, wait=0.5) is not None
    print(json.dumps(out))


def hostile(ip, port):
    ok_200 = (
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKnothing\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    probes = {
        "garbage": bytes(range(256)) * 4,
        "truncated": ok_200[:60],
        "oversized": "X" * 4000,  # the kernel fragments it: dropped as a fragment
        "dns_query": bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001"),
        "empty": b"",
        "bad_content_length": ok_200.replace("Content-Length: 0", "Content-Length: 999"),
        "stale_response": ok_200,  # well-formed, but no transaction of the line
        "binary_after_headers": ok_200.encode() + b"\x00\xff" * 100,
    }
    sent = {}
    for name, payload in probes.items():
        for _ in range(10):
            exchange(payload, ip, port, wait=0.01)
        sent[name] = 10
    # a TCP connection attempt: the dataplane speaks UDP only, the SYN is a counted drop
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.settimeout(0.3)
    try:
        t.connect((ip, port))
    except OSError:
        pass
    t.close()
    print(json.dumps(sent))


def call(ip, port):
    sdp = "v=0\r\no=- 1 1 IN IP4 198.18.0.1\r\ns=-\r\nc=IN IP4 198.18.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(SRC)
    s.settimeout(1.0)
    msg = request("INVITE", ip, port, body=sdp).replace("{sport}", str(s.getsockname()[1]))
    msg = msg.replace("Content-Length:", "Content-Type: application/sdp\r\nContent-Length:")
    s.sendto(msg.encode(), (ip, port))
    statuses, final = [], ""
    try:
        while True:
            reply = s.recvfrom(65535)[0].decode(errors="replace")
            statuses.append(status_of(reply))
            final = reply
    except socket.timeout:
        pass
    s.close()
    print(json.dumps({"statuses": statuses, "sdp_audio": "m=audio " in final,
                      "contact": "\r\nContact: <sip:" in final}))


if __name__ == "__main__":
    if sys.argv[1] == "call":
        call(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "answers":
        answers(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        hostile(sys.argv[2], int(sys.argv[3]))
