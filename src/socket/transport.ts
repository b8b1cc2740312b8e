/**
 * The few operations {@linkcode Socket} needs from a runtime's connection.
 * Each runtime supplies one (`deno_transport.ts`, `node_transport.ts`).
 *
 * @module
 */

import type { SocketInfo, TlsOptions } from "./types.ts";

/**
 * A connected byte stream, both directions, pull-based.
 */
export interface Transport {
  /** The next chunk from the peer, or null at EOF. Reads nothing until called: that is the backpressure. */
  read(): Promise<Uint8Array | null>;
  /** Resolves once the runtime accepted all of `chunk` (after its buffer drained, if it was full). */
  write(chunk: Uint8Array): Promise<void>;
  /** Sends FIN: no more writes; reading goes on. */
  closeWrite(): Promise<void>;
  /** Releases the connection at once. Idempotent. */
  close(): void;
  /** Addresses of both ends. */
  info(): SocketInfo;
  /** Hands this connection to TLS; this transport must not be used any more. */
  startTls(hostname: string, options: TlsOptions): Promise<Transport>;
}

/**
 * `address:port`, with an IPv6 address in brackets, or null if unknown.
 */
export function endpoint(address: string | undefined, port: number | undefined): string | null {
  if (address === undefined || port === undefined) return null;
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
