"""Parsing and building the few IPv4/IPv6/TCP/ICMP packets the delay line needs.

Only what the faults require: recognise TCP SYNs and SYN-ACKs, and forge the
answers a real network would give (a TCP RST, an ICMP destination-unreachable).
"""

import ipaddress
import struct

TCP = 6
UDP = 17
ICMP4 = 1
ICMP6 = 58

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# ICMP destination-unreachable codes by name, per family.
# Linux maps them for a connecting TCP socket to:
#   v4: net -> ENETUNREACH, host -> EHOSTUNREACH, port -> ECONNREFUSED, admin (13) -> EHOSTUNREACH
#   v6: net (no route, 0) -> ENETUNREACH, admin (1) -> EACCES, host (addr, 3) -> EHOSTUNREACH, port (4) -> ECONNREFUSED
UNREACH_CODES = {
    4: {"net": 0, "host": 1, "port": 3, "admin": 13},
    6: {"net": 0, "admin": 1, "host": 3, "port": 4},
}


class Packet:
    """A parsed view of one IP packet (no copy of the payload)."""

    __slots__ = ("raw", "version", "src", "dst", "proto", "l4", "sport", "dport", "flags", "seq")

    def __init__(self, raw):
        self.raw = raw
        self.version = raw[0] >> 4 if raw else 0
        self.src = self.dst = None
        self.proto = None
        self.l4 = 0
        self.sport = self.dport = None
        self.flags = 0
        self.seq = 0
        if self.version == 4 and len(raw) >= 20:
            ihl = (raw[0] & 0x0F) * 4
            self.proto = raw[9]
            self.src = ipaddress.IPv4Address(raw[12:16])
            self.dst = ipaddress.IPv4Address(raw[16:20])
            self.l4 = ihl
        elif self.version == 6 and len(raw) >= 40:
            # Extension headers are not followed: the lab's own traffic has none.
            self.proto = raw[6]
            self.src = ipaddress.IPv6Address(raw[8:24])
            self.dst = ipaddress.IPv6Address(raw[24:40])
            self.l4 = 40
        else:
            self.version = 0
            return
        if self.proto == TCP and len(raw) >= self.l4 + 20:
            self.sport, self.dport, self.seq = struct.unpack_from("!HHI", raw, self.l4)
            self.flags = raw[self.l4 + 13]

    @property
    def is_syn(self):
        """A connection request: SYN without ACK."""
        return self.proto == TCP and self.flags & (SYN | ACK) == SYN

    @property
    def is_synack(self):
        return self.proto == TCP and self.flags & (SYN | ACK) == SYN | ACK

    @property
    def is_icmp_error(self):
        # Never answer an ICMP error with another one (RFC 1122 / RFC 4443).
        if self.proto == ICMP4:
            return len(self.raw) > self.l4 and self.raw[self.l4] not in (0, 8)
        if self.proto == ICMP6:
            return len(self.raw) > self.l4 and self.raw[self.l4] < 128
        return False


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _pseudo_header(version, src, dst, proto, length):
    if version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def _ip_packet(version, src, dst, proto, payload):
    """Wrap an L4 payload (checksum already set) in an IP header."""
    if version == 4:
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                             src.packed, dst.packed)
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return header + payload
    header = struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64, src.packed, dst.packed)
    return header + payload


def tcp_rst_for(syn):
    """The RST+ACK a host sends for a SYN to a closed port."""
    tcp = bytearray(struct.pack("!HHIIBBHHH", syn.dport, syn.sport, 0, (syn.seq + 1) & 0xFFFFFFFF,
                                5 << 4, RST | ACK, 0, 0, 0))
    pseudo = _pseudo_header(syn.version, syn.dst, syn.src, TCP, len(tcp))
    struct.pack_into("!H", tcp, 16, _checksum(pseudo + bytes(tcp)))
    return _ip_packet(syn.version, syn.dst, syn.src, TCP, bytes(tcp))


def icmp_unreachable_for(pkt, code_name, router):
    """An ICMP(v6) destination-unreachable about `pkt`, sent by `router`.

    The quoted packet must contain the original IP header and the TCP ports
    and sequence number, which the receiver checks before it reports the error.
    """
    code = UNREACH_CODES[pkt.version][code_name]
    if pkt.version == 4:
        quoted = pkt.raw[: pkt.l4 + 8]
        body = bytearray(struct.pack("!BBHI", 3, code, 0, 0) + quoted)
        struct.pack_into("!H", body, 2, _checksum(bytes(body)))
        return _ip_packet(4, router, pkt.src, ICMP4, bytes(body))
    quoted = pkt.raw[: 1280 - 48]
    body = bytearray(struct.pack("!BBHI", 1, code, 0, 0) + quoted)
    pseudo = _pseudo_header(6, router, pkt.src, ICMP6, len(body))
    struct.pack_into("!H", body, 2, _checksum(pseudo + bytes(body)))
    return _ip_packet(6, router, pkt.src, ICMP6, bytes(body))
