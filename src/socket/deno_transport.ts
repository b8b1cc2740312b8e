/**
 * {@linkcode Transport} over a `Deno.Conn` (TCP, or TLS after an upgrade).
 *
 * @module
 */

import type { TlsOptions } from "./types.ts";
import { endpoint, type Transport } from "./transport.ts";

/** Bytes asked of the kernel per read. */
const READ_SIZE = 64 * 1024;

/**
 * Wraps a connected Deno connection.
 */
export function denoTransport(conn: Deno.TcpConn | Deno.TlsConn): Transport {
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
  return {
    async read() {
      const buffer = new Uint8Array(READ_SIZE);
      try {
        const n = await conn.read(buffer);
        return n === null ? null : buffer.subarray(0, n);
      } catch (error) {
        if (closed) return null; // our own close() interrupted the read
        throw error;
      }
    },
    async write(chunk) {
      for (let done = 0; done < chunk.length;) done += await conn.write(chunk.subarray(done));
    },
    async closeWrite() {
      await conn.closeWrite();
    },
    close,
    info() {
      return { remoteAddress: addr(conn.remoteAddr), localAddress: addr(conn.localAddr) };
    },
    async startTls(hostname: string, options: TlsOptions) {
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
      return denoTransport(secure);
    },
  };
}
