"""The lab's address plan and the building of its two namespaces.

    client ns eyb-c-PID                              server ns eyb-s-PID
    eyb0: 192.0.2.1, 2001:db8::1   <-- delay line -->  eyb0: 192.0.2.10.., 2001:db8::10..
    routes: 192.0.2.0/24, 2001:db8::/32 -> eyb0        DNS 192.0.2.53, 2001:db8::53
    resolv.conf: nameserver 192.0.2.53                 routes: client /32, /128 -> eyb0

Only documentation prefixes are used and there is no default route, so a
process in the client namespace can reach nothing but the lab.
"""

import os
import subprocess

import netns

CLIENT_V4 = "192.0.2.1"
CLIENT_V6 = "2001:db8::1"
DNS_V4 = "192.0.2.53"
DNS_V6 = "2001:db8::53"
# Sources of forged ICMP errors: a "router" address that no namespace owns.
ROUTER_V4 = "192.0.2.254"
ROUTER_V6 = "2001:db8::fe"
FIRST_SERVER = 10  # server addresses: 192.0.2.10.. and 2001:db8::10..
MAX_SERVERS = 32  # up to .41 / ::41, below the DNS server's .53 / ::53
IFNAME = "eyb0"

RESOLV_CONF = (
    "# eyeballs lab: the lab's own DNS server, answers within the lab only\n"
    f"nameserver {DNS_V4}\n"
    # Fail fast: a silent server costs one 1 s timeout, not 5 s x 2 tries.
    "options timeout:1 attempts:1 ndots:1\n"
)
HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"


def server_addrs(count):
    """The first `count` server addresses of each family, as strings.

    Address i is 192.0.2.(10+i) and 2001:db8::(10+i), written with the same
    digits in both families (192.0.2.12 <-> 2001:db8::12) so logs read easily.
    """
    if not 1 <= count <= MAX_SERVERS:
        raise ValueError(f"server address count must be 1..{MAX_SERVERS}")
    v4 = [f"192.0.2.{FIRST_SERVER + i}" for i in range(count)]
    v6 = [f"2001:db8::{FIRST_SERVER + i}" for i in range(count)]
    return v4, v6


def _nsswitch():
    """The host's nsswitch.conf with hosts resolved by files + our DNS only.

    Any other hosts source (systemd-resolved, mdns...) would bypass the lab.
    """
    lines = []
    try:
        with open("/etc/nsswitch.conf") as f:
            lines = [l for l in f.read().splitlines() if not l.strip().startswith("hosts:")]
    except OSError:
        lines = ["passwd: files", "group: files"]
    return "\n".join(lines + ["hosts: files dns"]) + "\n"


def client_etc_files():
    return {"resolv.conf": RESOLV_CONF, "hosts": HOSTS, "nsswitch.conf": _nsswitch()}


def configure_client(name):
    netns.run_ip(["-n", name, "-batch", "-"], input_text="\n".join([
        f"link set {IFNAME} up",
        f"addr add {CLIENT_V4}/32 dev {IFNAME}",
        f"addr add {CLIENT_V6}/128 dev {IFNAME} nodad",
        f"route add 192.0.2.0/24 dev {IFNAME} src {CLIENT_V4}",
        f"route add 2001:db8::/32 dev {IFNAME} src {CLIENT_V6}",
    ]) + "\n")


def configure_server(name, v4, v6):
    cmds = [f"link set {IFNAME} up"]
    for a in v4 + [DNS_V4]:
        cmds.append(f"addr add {a}/32 dev {IFNAME}")
    for a in v6 + [DNS_V6]:
        # nodad: usable at once (DAD would make bind() fail for a second).
        cmds.append(f"addr add {a}/128 dev {IFNAME} nodad")
    cmds.append(f"route add {CLIENT_V4}/32 dev {IFNAME}")
    cmds.append(f"route add {CLIENT_V6}/128 dev {IFNAME}")
    netns.run_ip(["-n", name, "-batch", "-"], input_text="\n".join(cmds) + "\n")


def is_usable():
    """None if this machine can run the lab, else a short reason."""
    def ok(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True).returncode == 0
        except OSError:
            return False

    checks = [
        ("not Linux", lambda: os.uname().sysname == "Linux"),
        ("not root", lambda: os.geteuid() == 0),
        ("no /dev/net/tun", lambda: os.path.exists("/dev/net/tun")),
        ("no iproute2 (ip netns)", lambda: ok("ip", "netns", "list")),
        ("no netns (cannot create one)", lambda: ok("unshare", "--net", "true")),
        # A TUN device in a throwaway namespace proves TUNSETIFF is allowed.
        ("no /dev/net/tun (cannot create a TUN device)",
         lambda: ok("unshare", "--net", "ip", "tuntap", "add", IFNAME, "mode", "tun")),
    ]
    return next((reason for reason, check in checks if not check()), None)
