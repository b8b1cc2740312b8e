/**
 * Loopback servers for the socket API's tests (tests/socket/): a listener that keeps what it accepts, and the server's
 * side of a STARTTLS upgrade.
 */

import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";

/** A loopback listener and the sockets it accepted. */
export interface Server {
  port: number;
  /** Sockets accepted so far. */
  accepted: net.Socket[];
  close(): Promise<void>;
}

/** Listens on `host`, any port; `onSocket` gets each accepted socket. */
export async function listenOn(
  host: string,
  onSocket: (socket: net.Socket) => void,
  allowHalfOpen = false,
): Promise<Server> {
  const accepted: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen }, (socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted,
    close: () => {
      for (const s of accepted) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The server's side of the upgrade, over a Duplex that first gives TLS the bytes already read past the STARTTLS line:
 * a client that upgrades without waiting for an answer may have its ClientHello in the same segment.
 */
export function serverTls(plain: net.Socket, leftover: Buffer, options: tls.TLSSocketOptions): tls.TLSSocket {
  const duplex = new Duplex({
    read() {
      plain.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      plain.write(chunk, callback);
    },
    final(callback) {
      plain.end();
      callback();
    },
  });
  if (leftover.length > 0) duplex.push(leftover);
  plain.on("data", (c: Buffer) => {
    if (!duplex.push(c)) plain.pause();
  });
  plain.on("end", () => duplex.push(null));
  plain.on("close", () => duplex.destroy());
  return new tls.TLSSocket(duplex, { isServer: true, ...options });
}
