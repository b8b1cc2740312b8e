/**
 * {@linkcode Transport} over a connected `net.Socket` (Node and Bun), read
 * in paused mode so the kernel's buffer, not ours, holds unread data.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import { isIP } from "node:net";
import { builtinModule } from "../runtime/lazy_modules.ts";
import type { TlsOptions } from "./types.ts";
import { endpoint, type Transport } from "./transport.ts";

/**
 * Wraps a connected socket. Half-open is always allowed underneath: the
 * Socket decides when the writable side closes, as the Sockets API says.
 */
export function nodeTransport(socket: net.Socket): Transport {
  socket.allowHalfOpen = true;
  let failure: Error | undefined;
  socket.on("error", (error) => (failure ??= error));
  /** Resolves at the socket's next event that may change what read() or write() sees. */
  const next = (events: string[]) =>
    new Promise<void>((resolve) => {
      const done = () => {
        for (const e of events) socket.off(e, done);
        resolve();
      };
      for (const e of events) socket.once(e, done);
    });
  const closedError = () => failure ?? new Error("the socket is closed");

  return {
    async read() {
      for (;;) {
        if (failure) throw failure;
        const chunk = socket.read() as Uint8Array | null;
        if (chunk !== null) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (socket.readableEnded || socket.destroyed) return null;
        await next(["readable", "end", "close", "error"]);
      }
    },
    async write(chunk) {
      if (failure || socket.destroyed) throw closedError();
      if (socket.write(chunk)) return;
      await next(["drain", "close", "error"]);
      if (failure || socket.destroyed) throw closedError();
    },
    async closeWrite() {
      if (socket.writableFinished) return;
      socket.end();
      await next(["finish", "close", "error"]);
      if (!socket.writableFinished) throw closedError();
    },
    close() {
      socket.destroy();
    },
    info() {
      return {
        remoteAddress: endpoint(socket.remoteAddress, socket.remotePort),
        localAddress: endpoint(socket.localAddress, socket.localPort),
      };
    },
    startTls(hostname: string, options: TlsOptions) {
      // node:tls at the first startTls, not at import (a fresh process pays 5 to 7 ms for it).
      const nodeTls = builtinModule<typeof tls>("node:tls");
      return new Promise((resolve, reject) => {
        const secure = nodeTls.connect({
          socket,
          host: hostname,
          // SNI carries names only (RFC 6066).
          servername: isIP(hostname) ? undefined : hostname,
          ca: options.caCerts ? [...nodeTls.rootCertificates, ...options.caCerts] : undefined,
        });
        const onError = (error: Error) => {
          secure.destroy();
          socket.destroy();
          reject(error);
        };
        secure.once("error", onError);
        secure.once("secureConnect", () => {
          secure.off("error", onError);
          resolve(nodeTransport(secure));
        });
      });
    },
  };
}
