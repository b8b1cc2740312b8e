"""The link between the client and server namespaces: a userspace delay line.

Each namespace has a TUN device; every packet one side sends is read here,
held for the one-way delay, and written into the other side. Because every
packet passes through this code, it also counts the client's SYNs and applies
the per-address faults, with no need for tc/netem or nftables.

Faults act where the server address would be, i.e. after the client->server
delay, and forged answers travel back with the server->client delay, so a
"refused" RST arrives one full RTT after the SYN, as on a real network.
"""

import ipaddress
import os

from evloop import now_ms
from packets import Packet, icmp_unreachable_for, tcp_rst_for

# Only documentation prefixes may cross the link; anything else (e.g. IPv6
# multicast from the kernel) is dropped so nothing can leak anywhere.
# Also the NAT64 well-known prefix, but only with 192.0.2.0/24 inside (RFC 6052): the NAT64 scenarios.
ALLOWED = [ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8::/32"),
           ipaddress.ip_network("64:ff9b::c000:200/120")]

FAULT_KINDS = ("none", "blackhole", "refused", "unreachable", "slow", "mtu")

# "mtu": packets from the address larger than this are dropped, with no Packet Too Big (a path-MTU blackhole).
MTU_BLACKHOLE_BYTES = 1280


def _allowed(addr):
    return addr is not None and any(addr in net for net in ALLOWED)


class Fault:
    """What happens to traffic for one server address."""

    def __init__(self, kind, ms=0, code="host"):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if kind == "slow" and not ms > 0:
            raise ValueError("fault 'slow' needs ms > 0")
        if kind == "unreachable" and code not in ("host", "net", "port", "admin"):
            raise ValueError(f"unknown unreachable code {code!r}")
        self.kind, self.ms, self.code = kind, ms, code

    def describe(self):
        return {"kind": self.kind, "ms": self.ms, "code": self.code}


class DelayLine:
    """Moves packets between two TUN fds with a delay, faults and SYN counts."""

    def __init__(self, loop, client_fd, server_fd, delay_ms, routers):
        self.loop = loop
        self.client_fd = client_fd
        self.server_fd = server_fd
        self.delay_ms = float(delay_ms)
        self.routers = routers  # {4: IPv4Address, 6: IPv6Address}: source of forged ICMP
        self.faults = {}
        self.syn_counts = {}
        self.packets = {"c2s": 0, "s2c": 0, "dropped": 0, "forged": 0}
        loop.add_reader(client_fd, self._from_client)
        loop.add_reader(server_fd, self._from_server)

    def set_fault(self, addr, fault):
        addr = ipaddress.ip_address(addr)
        if not _allowed(addr):
            raise ValueError(f"{addr} is outside the lab's prefixes")
        if fault.kind == "none":
            self.faults.pop(addr, None)
        else:
            self.faults[addr] = fault

    def take_syn_counts(self, reset):
        counts = {str(a): n for a, n in self.syn_counts.items()}
        if reset:
            self.syn_counts.clear()
        return counts

    def _read_all(self, fd):
        # Drain the device: several packets may be queued per wake-up.
        while True:
            try:
                yield os.read(fd, 65536)
            except BlockingIOError:
                return

    def _from_client(self):
        for raw in self._read_all(self.client_fd):
            pkt = Packet(raw)
            if not (_allowed(pkt.src) and _allowed(pkt.dst)):
                self.packets["dropped"] += 1
                continue
            if pkt.is_syn:
                self.syn_counts[pkt.dst] = self.syn_counts.get(pkt.dst, 0) + 1
            self.packets["c2s"] += 1
            self.loop.call_later(self.delay_ms, self._arrive_at_server, pkt)

    def _arrive_at_server(self, pkt):
        fault = self.faults.get(pkt.dst)
        if fault is None or fault.kind in ("slow", "mtu"):  # both act on what the server sends
            self._write(self.server_fd, pkt.raw)
        elif fault.kind == "blackhole":
            self.packets["dropped"] += 1
        elif fault.kind == "refused":
            if pkt.is_syn:
                self._send_back(tcp_rst_for(pkt))
            else:
                # Packets of connections made before the fault still get through.
                self._write(self.server_fd, pkt.raw)
        elif fault.kind == "unreachable":
            if pkt.is_icmp_error:
                self.packets["dropped"] += 1
            else:
                source = pkt.dst if fault.code == "port" else self.routers[pkt.version]
                self._send_back(icmp_unreachable_for(pkt, fault.code, source))

    def _send_back(self, raw):
        self.packets["forged"] += 1
        self.loop.call_later(self.delay_ms, self._write, self.client_fd, raw)

    def _from_server(self):
        for raw in self._read_all(self.server_fd):
            pkt = Packet(raw)
            if not (_allowed(pkt.src) and _allowed(pkt.dst)):
                self.packets["dropped"] += 1
                continue
            self.packets["s2c"] += 1
            delay = self.delay_ms
            fault = self.faults.get(pkt.src)
            if fault is not None and fault.kind == "mtu" and len(raw) > MTU_BLACKHOLE_BYTES:
                self.packets["dropped"] += 1
                continue
            if fault is not None and fault.kind == "slow" and pkt.is_synack:
                # Slow accept: the handshake's answer is held back, so the
                # client's connect() completes `ms` later than the RTT.
                delay += fault.ms
            self.loop.call_later(delay, self._write, self.client_fd, raw)

    def _write(self, fd, raw):
        try:
            os.write(fd, raw)
        except OSError:
            # The device is gone (teardown) or its queue is full: a lost packet.
            self.packets["dropped"] += 1
