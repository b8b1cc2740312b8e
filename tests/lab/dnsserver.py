"""The lab's DNS server (UDP, and TCP for long answers), scripted per name and type.

A rule for (name, A|AAAA|HTTPS|SVCB) says what to do with a query:
  {"addrs": [...]}             answer these addresses (an empty list: NODATA)
  {"records": [...]}           HTTPS/SVCB only: answer these records (RFC 9460
                               wire format), each {"priority": N, "target":
                               "name" or ".", "params": {...}} with params
                               mandatory (key names), alpn (list),
                               no-default-alpn (true), port, ipv4hint,
                               ipv6hint (lists), ech (base64), keyNNNNN (hex);
                               or {"rdataHex": "..."} sent as it is (bad records)
  {"delayMs": N}               answer N ms late (combine with any other field)
  {"fail": "nxdomain"}         answer NXDOMAIN
  {"fail": "servfail"}         answer SERVFAIL
  {"fail": "refused"}          answer REFUSED
  {"fail": "silent"}           never answer
  {"ttl": N}                   answer with TTL N seconds (default 0)
  {"ednsFormerr": true}         answer a query carrying EDNS0 (an OPT record) with
                               FORMERR and no question, as a server without EDNS does
  {"truncate": "clean"}        over UDP, set TC and send the header and question only
  {"truncate": "cut"}          over UDP, set TC and keep the full counts, but cut the
                               body in the middle of a record (a server cutting at its
                               size limit); over TCP both answer in full
A name may instead be an alias: {"CNAME": "target.name"} answers every type with
the CNAME record, then what the target (followed up to 8 aliases) answers.
A name with no rule is NXDOMAIN; a known name without a rule for the asked
type gets NODATA (NOERROR, no answers), as a real zone would.
"""

import base64
import ipaddress
import socket
import struct

TYPES = {"A": 1, "AAAA": 28, "SVCB": 64, "HTTPS": 65}
SVC_KEYS = {"mandatory": 0, "alpn": 1, "no-default-alpn": 2, "port": 3, "ipv4hint": 4, "ech": 5, "ipv6hint": 6}
RCODES = {"nxdomain": 3, "servfail": 2, "refused": 5}
FAILS = ("nxdomain", "servfail", "refused", "silent")
TTL = 0  # default: answers must not be cached between scenarios


def normalize_name(name):
    return name.lower().rstrip(".")


def parse_rule(rtype, rule):
    """Validate a rule from the control channel; a bare list means addresses."""
    if isinstance(rule, list):
        rule = {"addrs": rule}
    if not isinstance(rule, dict):
        raise ValueError(f"{rtype}: rule must be a list of addresses or an object")
    service = rtype in ("HTTPS", "SVCB")
    known = {"addrs", "delayMs", "fail", "ttl", "truncate", "ednsFormerr"} | ({"records"} if service else set())
    unknown = set(rule) - known
    if unknown or (service and "addrs" in rule):
        raise ValueError(f"{rtype}: unknown rule fields {sorted(unknown or ['addrs'])}")
    fail = rule.get("fail")
    if fail is not None and fail not in FAILS:
        raise ValueError(f"{rtype}: fail must be one of {FAILS}")
    version = 4 if rtype == "A" else 6
    addrs = []
    if service:
        addrs = [encode_svcb(r) for r in rule.get("records", [])]
    for a in rule.get("addrs", []):
        ip = ipaddress.ip_address(a)
        if ip.version != version:
            raise ValueError(f"{rtype}: {a} is not an IPv{version} address")
        addrs.append(ip.packed)
    delay = float(rule.get("delayMs", 0))
    if delay < 0:
        raise ValueError(f"{rtype}: delayMs must be >= 0")
    truncate = rule.get("truncate")
    if truncate not in (None, "clean", "cut"):
        raise ValueError(f"{rtype}: truncate must be \"clean\" or \"cut\"")
    ttl = rule.get("ttl", TTL)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 0x7FFFFFFF:
        raise ValueError(f"{rtype}: ttl must be an integer from 0 to 2147483647")
    edns_formerr = rule.get("ednsFormerr", False)
    if not isinstance(edns_formerr, bool):
        raise ValueError(f"{rtype}: ednsFormerr must be true or false")
    return {"addrs": addrs, "delayMs": delay, "fail": fail, "ttl": ttl, "truncate": truncate,
            "ednsFormerr": edns_formerr}


def _encode_name(name):
    if name in (".", ""):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 1 <= len(raw) <= 63:
            raise ValueError(f"bad label in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def encode_svcb(record):
    """One SVCB/HTTPS RDATA (RFC 9460 section 2.2) from its JSON form; keys sorted as the RFC requires."""
    if not isinstance(record, dict):
        raise ValueError("a record must be an object")
    if "rdataHex" in record:
        return bytes.fromhex(record["rdataHex"])
    unknown = set(record) - {"priority", "target", "params"}
    if unknown:
        raise ValueError(f"unknown record fields {sorted(unknown)}")
    priority = record.get("priority", 1)
    if not isinstance(priority, int) or not 0 <= priority <= 0xFFFF:
        raise ValueError("priority must be 0..65535")
    params = []
    for name, value in (record.get("params") or {}).items():
        if name in SVC_KEYS:
            key = SVC_KEYS[name]
        elif name.startswith("key") and name[3:].isdigit():
            key = int(name[3:])
        else:
            raise ValueError(f"unknown SvcParam {name!r}")
        if name == "mandatory":
            data = b"".join(struct.pack("!H", SVC_KEYS[k]) for k in sorted(value, key=SVC_KEYS.get))
        elif name == "alpn":
            data = b"".join(bytes([len(a)]) + a.encode("ascii") for a in value)
        elif name == "no-default-alpn":
            data = b""
        elif name == "port":
            data = struct.pack("!H", value)
        elif name in ("ipv4hint", "ipv6hint"):
            version = 4 if name == "ipv4hint" else 6
            ips = [ipaddress.ip_address(a) for a in value]
            if any(ip.version != version for ip in ips):
                raise ValueError(f"{name}: not all IPv{version} addresses")
            data = b"".join(ip.packed for ip in ips)
        elif name == "ech":
            data = base64.b64decode(value)
        else:
            data = bytes.fromhex(value)
        params.append((key, data))
    out = struct.pack("!H", priority) + _encode_name(record.get("target", "."))
    for key, data in sorted(params):
        out += struct.pack("!HH", key, len(data)) + data
    return out


def _read_name(msg, offset):
    labels = []
    while True:
        length = msg[offset]
        if length == 0:
            return ".".join(labels), offset + 1
        if length & 0xC0:
            raise ValueError("compressed name in question")
        labels.append(msg[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length


class DnsServer:
    """Answers queries on the given UDP sockets from a table of rules."""

    def __init__(self, loop, udp_sockets, tcp_listeners):
        self.loop = loop
        self.zone = {}  # name -> {"A": rule, "AAAA": rule}
        self.queries = []  # (name, type) log, for tests that check what was asked
        self.tcp_conns = {}
        for sock in udp_sockets:
            loop.add_reader(sock.fileno(), lambda s=sock: self._on_udp(s))
        for sock in tcp_listeners:
            loop.add_reader(sock.fileno(), lambda s=sock: self._on_tcp_accept(s))

    def set_name(self, name, rules):
        """Replace all rules of one name; rules maps "A"/"AAAA" to a rule."""
        parsed = {}
        for rtype, rule in rules.items():
            if rtype == "CNAME":
                if not isinstance(rule, str) or not rule.strip("."):
                    raise ValueError("CNAME: the target must be a name")
                parsed["CNAME"] = normalize_name(rule)
                continue
            if rtype not in TYPES:
                raise ValueError(f"record type must be A, AAAA, HTTPS or SVCB, not {rtype!r}")
            parsed[rtype] = parse_rule(rtype, rule)
        self.zone[normalize_name(name)] = parsed

    def remove_name(self, name):
        self.zone.pop(normalize_name(name), None)

    def _on_udp(self, sock):
        while True:
            try:
                msg, peer = sock.recvfrom(4096)
            except BlockingIOError:
                return
            self._handle(msg, 512, lambda reply, s=sock, p=peer: _sendto(s, reply, p))

    def _on_tcp_accept(self, listener):
        # A client retries over TCP when a UDP answer was truncated (TC).
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        self.tcp_conns[conn.fileno()] = [conn, b""]
        self.loop.add_reader(conn.fileno(), lambda c=conn: self._on_tcp_data(c))

    def _on_tcp_data(self, conn):
        entry = self.tcp_conns.get(conn.fileno())
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data or entry is None:
            self._close_tcp(conn)
            return
        entry[1] += data
        while len(entry[1]) >= 2 and len(entry[1]) >= 2 + struct.unpack_from("!H", entry[1])[0]:
            size = struct.unpack_from("!H", entry[1])[0]
            msg, entry[1] = entry[1][2 : 2 + size], entry[1][2 + size :]
            self._handle(msg, 65535, lambda reply, c=conn: _send_tcp(c, reply))

    def _close_tcp(self, conn):
        if self.tcp_conns.pop(conn.fileno(), None) is not None:
            self.loop.remove_reader(conn.fileno())
        conn.close()

    def close(self):
        for conn, _ in list(self.tcp_conns.values()):
            self._close_tcp(conn)

    def _handle(self, msg, max_size, send):
        tcp = max_size > 512
        try:
            qid, flags, qdcount = struct.unpack_from("!HHH", msg, 0)
            if flags & 0x8000 or qdcount != 1:
                return
            name, end = _read_name(msg, 12)
            qtype, _qclass = struct.unpack_from("!HH", msg, end)
        except (struct.error, IndexError, ValueError):
            return
        question = msg[12 : end + 4]
        # EDNS0 (RFC 6891): an OPT record (root owner, type 41) right after the question; its class is
        # the client's UDP payload size, up to which a UDP answer may grow.
        arcount = struct.unpack_from("!H", msg, 10)[0]
        edns = arcount >= 1 and len(msg) >= end + 9 and msg[end + 4 : end + 7] == b"\x00\x00\x29"
        if edns and max_size == 512:
            max_size = max(512, min(struct.unpack_from("!H", msg, end + 7)[0], 4096))
        type_name = next((k for k, v in TYPES.items() if v == qtype), str(qtype))
        self.queries.append([normalize_name(name), type_name])
        rules = self.zone.get(normalize_name(name))
        aliases = []  # (owner, target) of each CNAME followed
        while rules is not None and "CNAME" in rules and len(aliases) < 8:
            owner = aliases[-1][1] if aliases else normalize_name(name)
            aliases.append((owner, rules["CNAME"]))
            rules = self.zone.get(rules["CNAME"])
        rcode, addrs, delay, ttl, truncate = 0, [], 0.0, TTL, None
        if rules is None:
            rcode = RCODES["nxdomain"]
        elif type_name in rules:
            rule = rules[type_name]
            delay = rule["delayMs"]
            ttl = rule["ttl"]
            truncate = rule["truncate"] if not tcp else None  # only over UDP
            if rule["ednsFormerr"] and edns:
                send(struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x0100) | 1, 0, 0, 0, 0))
                return
            if rule["fail"] == "silent":
                return
            if rule["fail"]:
                rcode = RCODES[rule["fail"]]
            else:
                addrs = rule["addrs"]
        reply = self._reply(qid, flags, question, qtype, rcode, addrs, max_size, ttl, truncate, aliases)
        if delay > 0:
            self.loop.call_later(delay, send, reply)
        else:
            send(reply)

    @staticmethod
    def _reply(qid, qflags, question, qtype, rcode, addrs, max_size, ttl=TTL, truncate=None, aliases=()):
        # QR, AA, copy RD; RA set so stub resolvers accept it as a recursive answer.
        flags = 0x8000 | 0x0400 | (qflags & 0x0100) | 0x0080 | rcode
        answers = b""
        owner = b"\xc0\x0c"  # 0xC00C points back at the question's name
        for _, target in aliases:
            rdata = _encode_name(target)
            answers += owner + struct.pack("!HHIH", 5, 1, ttl, len(rdata)) + rdata
            owner = rdata
        for data in addrs:  # each record's RDATA: an address's bytes, or an SVCB/HTTPS record
            answers += owner + struct.pack("!HHIH", qtype, 1, ttl, len(data)) + data
        count = len(aliases) + len(addrs)
        reply = struct.pack("!HHHHHH", qid, flags, 1, count, 0, 0) + question + answers
        if truncate == "cut":
            # TC with the counts of the whole answer, and the body cut 5 bytes into its first record.
            flags |= 0x0200
            return struct.pack("!HHHHHH", qid, flags, 1, count, 0, 0) + question + answers[:5]
        if len(reply) > max_size or truncate == "clean":
            # Too big for plain UDP: set TC (the client retries over TCP).
            flags |= 0x0200
            reply = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + question
        return reply




def _sendto(sock, reply, peer):
    try:
        sock.sendto(reply, peer)
    except OSError:
        pass


def _send_tcp(conn, reply):
    try:
        # Replies are small; the socket buffer takes them whole.
        conn.send(struct.pack("!H", len(reply)) + reply)
    except OSError:
        pass


def open_socket(addr, kind, port=53):
    """A non-blocking UDP or listening TCP socket on addr (in the current namespace)."""
    ip = ipaddress.ip_address(addr)
    sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, kind)
    sock.setblocking(False)
    if kind == socket.SOCK_STREAM:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((str(ip), port))
    if kind == socket.SOCK_STREAM:
        sock.listen(16)
    return sock
