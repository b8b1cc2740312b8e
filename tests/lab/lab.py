#!/usr/bin/env python3
"""eyeballs network lab: two namespaces, a delay line, scripted DNS and faults.

    python3 tests/lab/lab.py check                 can this machine run the lab?
    python3 tests/lab/lab.py up [--delay-ms N]     start a lab in the background
    python3 tests/lab/lab.py ctl '{"cmd":"info"}'  send one control request to it
    python3 tests/lab/lab.py exec CMD [ARGS...]    run CMD in its client namespace
    python3 tests/lab/lab.py down [--all]          stop it (--all: every lab) and clean stale ones
    python3 tests/lab/lab.py serve [...]           run in the foreground, control on stdin/stdout
                                                   (what lab.ts uses; EOF on stdin = tear down)

See docs/lab.md. Needs root, /dev/net/tun and iproute2; python3 stdlib only.
"""

import sys

# Importing the sibling modules must not leave __pycache__ in the work tree.
sys.dont_write_bytecode = True

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import control  # noqa: E402
import netns  # noqa: E402
import topology  # noqa: E402


def _daemon_args(args):
    return ["--delay-ms", str(args.delay_ms), "--count", str(args.count),
            "--ports", ",".join(str(p) for p in args.ports)]


def cmd_serve(args):
    from daemon import Daemon

    reason = topology.is_usable()
    if reason:
        print(json.dumps({"error": f"lab: skipped: {reason}"}), flush=True)
        return 2
    d = Daemon(delay_ms=args.delay_ms, count=args.count, ports=args.ports)
    if args.socket:
        d.attach_socket()
    else:
        d.attach_stdio()

    def ready(info):
        print(json.dumps({"ready": info}), flush=True)
        if args.socket:
            # Detached: our starter reads only the ready line, then goes away,
            # and must not be kept waiting for our stdout/stderr to close.
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.close(devnull)

    d.run(ready)
    return 0


def cmd_up(args):
    netns.remove_stale()
    proc = subprocess.Popen(
        [sys.executable, "-B", os.path.abspath(__file__), "serve", "--socket", *_daemon_args(args)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    line = proc.stdout.readline()
    proc.stdout.close()
    try:
        msg = json.loads(line)
    except ValueError:
        # No ready line: the daemon died while building; show why.
        print("lab: daemon failed to start\n" + proc.stderr.read().decode(), file=sys.stderr)
        return 1
    finally:
        if proc.stderr:
            proc.stderr.close()
    if "ready" not in msg:
        print(msg.get("error", msg), file=sys.stderr)
        return 1
    print(json.dumps(msg["ready"], indent=2))
    return 0


def _socket_labs():
    """Pids of live daemons started by `up` (they have a control socket)."""
    pids = []
    for pid in netns.lab_namespaces():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"lab.py") for a in argv) and b"--socket" in argv:
            pids.append(pid)
    return sorted(pids)


def _pick_lab(args):
    pids = [args.pid] if args.pid else _socket_labs()
    if len(pids) != 1:
        raise SystemExit(f"lab: expected one running lab started by `up`, found {pids}; use --pid")
    return pids[0]


def cmd_ctl(args):
    pid = _pick_lab(args)
    response = control.request(pid, json.loads(args.request))
    print(json.dumps(response, indent=2))
    return 0 if response.get("ok") else 1


def cmd_exec(args):
    pid = _pick_lab(args)
    client, _ = netns.names_for(pid)
    os.execvp("ip", ["ip", "netns", "exec", client, *args.command])


def cmd_down(args):
    owners = netns.lab_namespaces()
    targets = [p for p in owners if netns.owner_alive(p)] if args.all else _socket_labs()
    for pid in targets:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(netns.owner_alive(p) for p in targets):
        time.sleep(0.05)
    for pid in targets:
        if netns.owner_alive(pid):
            os.kill(pid, signal.SIGKILL)  # it would not stop: clean up after it below
            time.sleep(0.1)
        for name in netns.names_for(pid):
            netns.remove(name)
    stale = netns.remove_stale()
    print(json.dumps({"stopped": targets, "staleRemoved": stale}))
    return 0


def cmd_check(_args):
    reason = topology.is_usable()
    print(f"lab: skipped: {reason}" if reason else "lab: ok")
    return 1 if reason else 0


def main(argv):
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    def lab_options(p):
        p.add_argument("--delay-ms", type=float, default=0, help="one-way link delay (ms)")
        p.add_argument("--count", type=int, default=8, help="server addresses per family")
        p.add_argument("--ports", type=lambda s: [int(x) for x in s.split(",") if x],
                       default=[80, 443], help="comma-separated listener ports")

    p = sub.add_parser("serve")
    lab_options(p)
    p.add_argument("--socket", action="store_true", help="control via @eyb-lab-PID, not stdin")
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("up")
    lab_options(p)
    p.set_defaults(fn=cmd_up)
    p = sub.add_parser("down")
    p.add_argument("--all", action="store_true", help="also labs owned by running tests")
    p.set_defaults(fn=cmd_down)
    p = sub.add_parser("ctl")
    p.add_argument("--pid", type=int)
    p.add_argument("request", help='JSON, e.g. \'{"cmd":"synCounts"}\'')
    p.set_defaults(fn=cmd_ctl)
    p = sub.add_parser("exec")
    p.add_argument("--pid", type=int)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_exec)
    p = sub.add_parser("check")
    p.set_defaults(fn=cmd_check)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
