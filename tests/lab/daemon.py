"""The lab daemon: builds the namespaces, runs link + DNS + listeners, tears down.

One process owns one lab. Its pid is in the namespace names, so a lab whose
daemon died (even by SIGKILL) is recognised as stale and removed by the next
one. Teardown runs on a "stop" request, on EOF of its owner's pipe, and on
SIGINT/SIGTERM/SIGHUP.
"""

import ipaddress
import os
import signal
import socket
import sys

import netns
import topology
from control import LineChannel, SocketControl
from delayline import DelayLine, Fault
from dnsserver import DnsServer, open_socket
from echo import EchoServer, open_listener
from evloop import Loop
from tun import open_tun

DEFAULT_PORTS = (80, 443)
MAX_QUERY_LOG = 10000


class Stop(Exception):
    """Raised by the signal handler to leave the event loop."""


_tearing_down = False


def _raise_stop(signum, _frame):
    if not _tearing_down:  # a signal that lands during teardown must not cut it short
        raise Stop(signal.Signals(signum).name)


class Daemon:
    """One lab. Construct, attach control channels, then run()."""

    def __init__(self, delay_ms=0, count=8, ports=DEFAULT_PORTS):
        self.pid = os.getpid()
        self.client_ns, self.server_ns = netns.names_for(self.pid)
        self.v4, self.v6 = topology.server_addrs(count)
        self.ports = list(ports)
        self.loop = Loop()
        self.fds = []
        self.sockets = []
        self.channels = []
        self.socket_control = None
        self.echo = None
        self.link = None
        self.dns = None
        self.built_ns = []
        self.delay_ms = delay_ms
        self.stale_removed = []

    # ---- building -------------------------------------------------------

    def build(self):
        self.stale_removed = netns.remove_stale()
        for name in (self.client_ns, self.server_ns):
            netns.create(name)
            self.built_ns.append(name)
        netns.write_etc(self.client_ns, topology.client_etc_files())
        with netns.entered(self.client_ns):
            client_fd = open_tun(topology.IFNAME)
        self.fds.append(client_fd)
        topology.configure_client(self.client_ns)
        with netns.entered(self.server_ns):
            server_fd = open_tun(topology.IFNAME)
            self.fds.append(server_fd)
            topology.configure_server(self.server_ns, self.v4, self.v6)
            dns_addrs = (topology.DNS_V4, topology.DNS_V6)
            udp = [open_socket(a, socket.SOCK_DGRAM) for a in dns_addrs]
            tcp = [open_socket(a, socket.SOCK_STREAM) for a in dns_addrs]
            listeners = [open_listener(fam, port) for port in self.ports
                         for fam in (socket.AF_INET, socket.AF_INET6)]
        self.sockets += udp + tcp + listeners
        routers = {4: ipaddress.ip_address(topology.ROUTER_V4), 6: ipaddress.ip_address(topology.ROUTER_V6)}
        self.link = DelayLine(self.loop, client_fd, server_fd, self.delay_ms, routers)
        self.dns = DnsServer(self.loop, udp, tcp)
        self.reset_dns()
        self.echo = EchoServer(self.loop, listeners)

    def reset_dns(self):
        """The default zone: names every scenario can start from."""
        self.dns.zone.clear()
        self.dns.set_name("dual.lab.test", {"A": self.v4, "AAAA": self.v6})
        self.dns.set_name("v4.lab.test", {"A": self.v4})
        self.dns.set_name("v6.lab.test", {"AAAA": self.v6})

    def info(self):
        return {
            "pid": self.pid,
            "clientNs": self.client_ns,
            "serverNs": self.server_ns,
            "delayMs": self.link.delay_ms,
            "client": {"v4": topology.CLIENT_V4, "v6": topology.CLIENT_V6},
            "servers": {"v4": self.v4, "v6": self.v6},
            "dnsServer": {"v4": topology.DNS_V4, "v6": topology.DNS_V6},
            "router": {"v4": topology.ROUTER_V4, "v6": topology.ROUTER_V6},
            "ports": self.ports,
            "names": sorted(self.dns.zone),
            "staleRemoved": self.stale_removed,
        }

    # ---- control --------------------------------------------------------

    def handle(self, req):
        """Execute one control request; the return value is its result."""
        cmd = req.get("cmd")
        if cmd == "info":
            return self.info()
        if cmd == "setDelay":
            ms = float(req["ms"])
            if ms < 0:
                raise ValueError("ms must be >= 0")
            self.link.delay_ms = ms
            return None
        if cmd == "setDns":
            self.dns.set_name(req["name"], req.get("rules", {}))
            return None
        if cmd == "removeDns":
            self.dns.remove_name(req["name"])
            return None
        if cmd == "resetDns":
            self.reset_dns()
            return None
        if cmd == "dnsQueries":
            log = list(self.dns.queries)
            if req.get("reset"):
                self.dns.queries.clear()
            return log
        if cmd == "setFault":
            fault = Fault(req.get("kind", "none"), float(req.get("ms", 0)), req.get("code", "host"))
            self.link.set_fault(req["addr"], fault)
            return None
        if cmd == "clearFaults":
            self.link.faults.clear()
            return None
        if cmd == "faults":
            return {str(a): f.describe() for a, f in self.link.faults.items()}
        if cmd == "synCounts":
            return self.link.take_syn_counts(bool(req.get("reset")))
        if cmd == "stats":
            return {"packets": dict(self.link.packets), "accepted": self.echo.accepted}
        if cmd == "stop":
            # Answer first, then leave the loop: the caller waits for exit.
            self.loop.call_later(0, self.loop.stop)
            return None
        raise ValueError(f"unknown command {cmd!r}")

    def attach_stdio(self):
        """Control over stdin/stdout; EOF on stdin tears the lab down."""
        chan = LineChannel(self.loop, sys.stdin.fileno(), sys.stdout.fileno(), self._handle_logged,
                           lambda _c, _fd: self.loop.stop())
        self.channels.append(chan)
        return chan

    def attach_socket(self):
        self.socket_control = SocketControl(self.loop, self.pid, self._handle_logged)

    def _handle_logged(self, req):
        if len(self.dns.queries) > MAX_QUERY_LOG:
            del self.dns.queries[: MAX_QUERY_LOG // 2]
        return self.handle(req)

    # ---- running and teardown --------------------------------------------

    def run(self, on_ready):
        """Build, call on_ready(info), serve until stopped; always tear down."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_stop)
        try:
            self.build()
            on_ready(self.info())
            self.loop.run()
        except Stop:
            pass
        finally:
            try:
                self.teardown()
            except Stop:  # raised in the few steps before teardown marks itself: start it again
                self.teardown()

    def teardown(self):
        global _tearing_down
        _tearing_down = True
        # No more signals mid-cleanup: a second Ctrl-C must not leave debris.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if self.socket_control is not None:
            self.socket_control.close()
        if self.echo is not None:
            self.echo.close()
        if self.dns is not None:
            self.dns.close()
        for sock in self.sockets:
            sock.close()
        while self.fds:
            os.close(self.fds.pop())  # non-persistent TUN devices vanish with their fd
        while self.built_ns:
            netns.remove(self.built_ns.pop())
        netns.remove(self.client_ns)  # also its /etc/netns folder, if build failed early

