"""Network namespaces of the lab: naming, entering, creating, removing.

A lab owned by process PID uses the namespaces eyb-c-PID (client) and
eyb-s-PID (server). The pid in the name lets any later lab find and remove
namespaces whose owner died without cleaning up (e.g. after SIGKILL).
"""

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import time

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
ETC_NETNS = "/etc/netns"
NAME_RE = re.compile(r"^eyb-[cs]-(\d+)$")

_libc = ctypes.CDLL(None, use_errno=True)


def names_for(pid):
    """(client, server) namespace names for an owner pid."""
    return f"eyb-c-{pid}", f"eyb-s-{pid}"


def run_ip(args, check=True, input_text=None):
    """Run `ip ARGS`; raise with its stderr on failure."""
    proc = subprocess.run(["ip", *args], input=input_text, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def list_namespaces():
    """Names from `ip netns list` (first word of each line)."""
    out = run_ip(["netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@contextlib.contextmanager
def entered(name):
    """Switch this thread into namespace `name` for the block.

    Sockets and TUN devices created inside the block belong to that namespace
    and stay there after we switch back, so one process can serve both sides.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
    try:
        _setns(target)
        yield
    finally:
        _setns(home)
        os.close(target)
        os.close(home)


def _setns(fd):
    # os.setns exists only from Python 3.12; libc's works on 3.11.
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def create(name):
    run_ip(["netns", "add", name])
    run_ip(["-n", name, "link", "set", "lo", "up"])


def write_etc(name, files):
    """Files that `ip netns exec NAME` bind-mounts over /etc (resolv.conf...)."""
    folder = os.path.join(ETC_NETNS, name)
    for _ in range(20):
        try:
            os.makedirs(folder, exist_ok=True)
            break
        except FileNotFoundError:
            # Another lab's teardown removed an empty /etc/netns between makedirs' two mkdirs: make it again.
            time.sleep(0.01)
    else:
        os.makedirs(folder, exist_ok=True)  # still failing: let the error say why
    for fname, text in files.items():
        with open(os.path.join(folder, fname), "w") as f:
            f.write(text)


def kill_members(name):
    """SIGKILL every process still inside the namespace (e.g. a hung exec)."""
    out = run_ip(["netns", "pids", name], check=False)
    for word in out.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(word), signal.SIGKILL)


def remove(name):
    """Remove a namespace and its /etc/netns folder; ignore what is already gone."""
    kill_members(name)
    for _ in range(20):
        if name not in list_namespaces():
            break
        run_ip(["netns", "del", name], check=False)
        if name in list_namespaces():
            time.sleep(0.05)
    shutil.rmtree(os.path.join(ETC_NETNS, name), ignore_errors=True)
    # Leave /etc/netns itself only if someone else uses it.
    with contextlib.suppress(OSError):
        os.rmdir(ETC_NETNS)


def owner_alive(pid):
    """True if pid runs a lab daemon (checked by cmdline, against pid reuse)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return False
    return b"lab.py" in cmdline


def lab_namespaces():
    """{owner pid: [namespace names]} for all eyb-* namespaces and /etc/netns folders."""
    found = {}
    names = set(list_namespaces())
    if os.path.isdir(ETC_NETNS):
        names.update(os.listdir(ETC_NETNS))
    for name in names:
        m = NAME_RE.match(name)
        if m:
            found.setdefault(int(m.group(1)), []).append(name)
    return found


def remove_stale():
    """Remove lab namespaces whose owner process is dead. Returns their names."""
    removed = []
    for pid, names in lab_namespaces().items():
        if pid != os.getpid() and not owner_alive(pid):
            for name in names:
                remove(name)
                removed.append(name)
    return removed
