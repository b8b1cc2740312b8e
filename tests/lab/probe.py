#!/usr/bin/env python3
"""A measuring client for the lab, run inside the client namespace.

    probe.py connect ADDR PORT [--timeout S]   one TCP connect; time and errno
    probe.py rtt ADDR PORT [--count N]         connect, read banner, time N echoes
    probe.py resolve NAME [--family 4|6|any]   getaddrinfo (glibc, via resolv.conf)

Prints one JSON object. It exists so the lab's self-test checks the lab with
a plain OS client, independent of the eyeballs library.
"""

import argparse
import errno
import json
import socket
import sys
import time


def _ms(t0):
    return round((time.monotonic() - t0) * 1000.0, 2)


def _family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def _error(e):
    code = e.errno if isinstance(e, OSError) and e.errno else None
    if isinstance(e, socket.timeout):
        return "ETIMEDOUT"
    return errno.errorcode.get(code, type(e).__name__)


def connect(addr, port, timeout):
    sock = socket.socket(_family(addr), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    t0 = time.monotonic()
    try:
        sock.connect((addr, port))
        return sock, {"ok": True, "ms": _ms(t0)}
    except OSError as e:
        sock.close()
        return None, {"ok": False, "ms": _ms(t0), "error": _error(e)}


def cmd_connect(args):
    sock, result = connect(args.addr, args.port, args.timeout)
    if sock:
        sock.close()
    return result


def _readline(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def cmd_rtt(args):
    sock, result = connect(args.addr, args.port, args.timeout)
    if not sock:
        return result
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        result["connectMs"] = result.pop("ms")
        result["banner"] = _readline(sock)
        samples = []
        for i in range(args.count):
            t0 = time.monotonic()
            sock.sendall(f"ping {i}\n".encode())
            _readline(sock)
            samples.append(_ms(t0))
        result["echoMs"] = samples
    return result


def cmd_resolve(args):
    family = {"4": socket.AF_INET, "6": socket.AF_INET6, "any": socket.AF_UNSPEC}[args.family]
    t0 = time.monotonic()
    try:
        infos = socket.getaddrinfo(args.name, 80, family, socket.SOCK_STREAM)
    except socket.gaierror as e:
        names = {v: k for k, v in vars(socket).items() if k.startswith("EAI_") and isinstance(v, int)}
        return {"ok": False, "ms": _ms(t0), "error": names.get(e.errno, str(e.errno))}
    return {"ok": True, "ms": _ms(t0), "addrs": [i[4][0] for i in infos]}


def main(argv):
    parser = argparse.ArgumentParser(prog="probe.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name, fn in (("connect", cmd_connect), ("rtt", cmd_rtt)):
        p = sub.add_parser(name)
        p.add_argument("addr")
        p.add_argument("port", type=int)
        p.add_argument("--timeout", type=float, default=5.0)
        p.add_argument("--count", type=int, default=3)
        p.set_defaults(fn=fn)
    p = sub.add_parser("resolve")
    p.add_argument("name")
    p.add_argument("--family", choices=("4", "6", "any"), default="any")
    p.set_defaults(fn=cmd_resolve)
    args = parser.parse_args(argv)
    print(json.dumps(args.fn(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
