"""The control protocol: JSON lines, one request and one response each.

    -> {"id": 1, "cmd": "setFault", "addr": "192.0.2.11", "kind": "refused"}
    <- {"id": 1, "ok": true, "result": null}

Two transports carry it: the daemon's stdin/stdout (used by lab.ts; EOF on
stdin means the owner died, so the lab tears itself down), and an abstract
Unix socket "@eyb-lab-PID" for `lab.py up` / `lab.py ctl` (abstract: no file
to leave behind).
"""

import json
import os
import socket


def socket_name(pid):
    return "\0eyb-lab-" + str(pid)


class LineChannel:
    """Reads JSON requests from an fd, writes responses to another."""

    def __init__(self, loop, rfd, wfd, handle, on_close):
        self.loop, self.rfd, self.wfd = loop, rfd, wfd
        self.handle = handle
        self.on_close = on_close
        self.buf = b""
        os.set_blocking(rfd, False)
        loop.add_reader(rfd, self._readable)

    def _readable(self):
        try:
            data = os.read(self.rfd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                self._request(line)

    def _request(self, line):
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            response = {"id": req_id, "ok": True, "result": self.handle(req)}
        except Exception as e:  # any bad request is answered, never fatal
            response = {"id": req_id, "ok": False, "error": f"{type(e).__name__}: {e}"}
        self.send(response)

    def send(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        try:
            # Responses are small; a blocking write is fine and keeps order.
            os.set_blocking(self.wfd, True)
            while data:
                data = data[os.write(self.wfd, data):]
        except OSError:
            self.close()

    def close(self):
        if self.rfd is None:
            return
        self.loop.remove_reader(self.rfd)
        rfd, self.rfd = self.rfd, None
        self.on_close(self, rfd)


class SocketControl:
    """Accepts control connections on the abstract socket @eyb-lab-PID."""

    def __init__(self, loop, pid, handle):
        self.loop, self.handle = loop, handle
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(socket_name(pid))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.conns = {}
        loop.add_reader(self.sock.fileno(), self._accept)

    def _accept(self):
        conn, _ = self.sock.accept()
        fd = conn.fileno()
        self.conns[fd] = conn
        LineChannel(self.loop, fd, fd, self.handle, self._closed)

    def _closed(self, _channel, fd):
        conn = self.conns.pop(fd, None)
        if conn is not None:
            conn.close()

    def close(self):
        for conn in self.conns.values():
            self.loop.remove_reader(conn.fileno())
            conn.close()
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()


def request(pid, req, timeout=10.0):
    """Client side of the socket transport: send one request, return the response."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(socket_name(pid))
        sock.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("lab closed the control connection")
            buf += chunk
        return json.loads(buf.split(b"\n", 1)[0])
