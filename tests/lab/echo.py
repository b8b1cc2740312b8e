"""TCP listeners for the live server addresses: a banner line, then echo.

One wildcard listener per port and family covers every server address. On
accept the server writes "eyb-lab ADDR PORT\n" (the address the client
reached, so a test can tell which attempt won), then echoes what it reads.
"""

import socket


class EchoServer:
    """Banner + echo on each listening socket, driven by the shared loop."""

    MAX_CONNS = 256  # a bound, so a runaway test cannot exhaust fds

    def __init__(self, loop, listeners):
        self.loop = loop
        self.listeners = listeners
        self.conns = {}
        self.accepted = 0
        for sock in listeners:
            loop.add_reader(sock.fileno(), lambda s=sock: self._accept(s))

    def _accept(self, listener):
        while True:
            try:
                conn, _peer = listener.accept()
            except BlockingIOError:
                return
            if len(self.conns) >= self.MAX_CONNS:
                conn.close()
                continue
            self.accepted += 1
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            local = conn.getsockname()
            try:
                conn.send(f"eyb-lab {local[0]} {local[1]}\n".encode())
            except OSError:
                conn.close()
                continue
            self.conns[conn.fileno()] = conn
            self.loop.add_reader(conn.fileno(), lambda c=conn: self._echo(c))

    def _echo(self, conn):
        try:
            data = conn.recv(65536)
            if data:
                # Small test payloads: a short send is not worth buffering for.
                conn.send(data)
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        self._close(conn)

    def _close(self, conn):
        self.loop.remove_reader(conn.fileno())
        self.conns.pop(conn.fileno(), None)
        conn.close()

    def close(self):
        for conn in list(self.conns.values()):
            self._close(conn)
        for sock in self.listeners:
            self.loop.remove_reader(sock.fileno())
            sock.close()


def open_listener(family, port):
    """A non-blocking wildcard listener in the current namespace."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.setblocking(False)
    sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    sock.listen(128)
    return sock
