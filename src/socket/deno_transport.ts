/**
 * {@linkcode Transport} over a `Deno.Conn` (TCP, or TLS after an upgrade).
 *
 * @module
 */

import type { SocketInfo, TlsOptions } from "./types.ts";
import { endpoint, type Transport } from "./transport.ts";

/** Bytes asked of the kernel per read. */
const READ_SIZE = 64 * 1024;

/**
 * Wraps a connected Deno connection.
 */
export function denoTransport(
  conn: Deno.TcpConn | Deno.TlsConn,
  plain?: { remoteAddr: Deno.Addr; localAddr: Deno.Addr },
): Transport {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const addr = (a: Deno.Addr) => (a.transport === "tcp" ? endpoint(a.hostname, a.port) : null);
  // A TLS connection may not tell its ends: the plain connection under it did.
  const info = (): SocketInfo => ({
    remoteAddress: addr(conn.remoteAddr) ?? (plain && addr(plain.remoteAddr)) ?? null,
    localAddress: addr(conn.localAddr) ?? (plain && addr(plain.localAddr)) ?? null,
  });
  /** A read is in progress: Deno.startTls cannot take the connection while one runs. */
  let reading = false;
  return {
    async read() {
      const buffer = new Uint8Array(READ_SIZE);
      reading = true;
      try {
        const n = await conn.read(buffer);
        return n === null ? null : buffer.subarray(0, n);
      } catch (error) {
        if (closed) return null; // our own close() interrupted the read
        throw error;
      } finally {
        reading = false;
      }
    },
    async write(chunk) {
      for (let done = 0; done < chunk.length;) done += await conn.write(chunk.subarray(done));
    },
    async closeWrite() {
      await conn.closeWrite();
    },
    close,
    info,
    async startTls(hostname: string, options: TlsOptions) {
      const plainEnds = { remoteAddr: conn.remoteAddr, localAddr: conn.localAddr };
      if (reading) {
        // Deno.startTls refuses a connection with a read in flight, and Deno cannot cancel one without closing.
        close();
        throw new TypeError(
          "startTls: a read() was still pending on the plain socket, and Deno cannot hand a connection with a read " +
            "in flight to TLS; read nothing more after the server's go-ahead before calling startTls()",
        );
      }
      let secure: Deno.TlsConn;
      try {
        secure = await Deno.startTls(conn as Deno.TcpConn, {
          hostname,
          caCerts: options.caCerts ? [...options.caCerts] : undefined,
        });
      } catch (error) {
        close();
        throw error;
      }
      try {
        await secure.handshake();
      } catch (error) {
        secure.close();
        throw error;
      }
      return denoTransport(secure, plainEnds);
    },
  };
}
