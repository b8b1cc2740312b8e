/**
 * The shapes of the WinterTC Sockets API (the `connect()` of Cloudflare
 * Workers and the WinterTC draft), as `@eyeballs/connect/socket` returns
 * them on every runtime.
 *
 * @module
 */

import type { RaceSettings } from "../connect/connect.ts";
import type { Resolver } from "../base/types.ts";

/**
 * Where to connect: a DNS name or an IP literal, and a port.
 *
 * @example
 * ```ts
 * import type { SocketAddress } from "@eyeballs/connect/socket";
 * const address: SocketAddress = { hostname: "example.com", port: 443 };
 * ```
 */
export interface SocketAddress {
  /** A DNS name or an IP literal (no brackets). */
  readonly hostname: string;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
}

/**
 * `"off"`: plain TCP. `"on"`: TLS from the start. `"starttls"`: plain TCP
 * now, upgraded later by {@linkcode Socket.startTls}.
 *
 * @example
 * ```ts
 * import type { SecureTransport } from "@eyeballs/connect/socket";
 * const mode: SecureTransport = "starttls";
 * ```
 */
export type SecureTransport = "off" | "on" | "starttls";

/**
 * TLS settings for `secureTransport: "on"` and {@linkcode Socket.startTls}.
 *
 * @example
 * ```ts
 * import type { TlsOptions } from "@eyeballs/connect/socket";
 * const tls: TlsOptions = { expectedServerHostname: "mail.example.com" };
 * ```
 */
export interface TlsOptions {
  /** The name the certificate must carry, and the SNI sent. Default: the hostname connected to. */
  readonly expectedServerHostname?: string;
  /** Extra trusted CA certificates, PEM (an eyeballs extension: tests and private CAs). */
  readonly caCerts?: readonly string[];
}

/**
 * Options of {@linkcode connect}: the Sockets API's own, plus every race
 * setting of eyeballs (`timeout`, `signal`, `schedule`...) and a resolver.
 *
 * @example
 * ```ts
 * import type { SocketOptions } from "@eyeballs/connect/socket";
 * const options: SocketOptions = { allowHalfOpen: true, timeout: 5000 };
 * ```
 */
export interface SocketOptions extends RaceSettings, TlsOptions {
  /** Default `"off"`. */
  readonly secureTransport?: SecureTransport;
  /**
   * With `secureTransport: "on"`: `"tls"` (the default) races to the first finished TLS handshake, so a path that
   * connects and then stalls, or presents a bad certificate, fails that attempt only (Happy Eyeballs v3); `"tcp"`
   * races TCP and runs TLS on the winner alone.
   */
  readonly raceUntil?: "tcp" | "tls";
  /**
   * Default false: when the peer ends its side (EOF), the writable side is
   * closed too. True keeps it open until you close it.
   */
  readonly allowHalfOpen?: boolean;
  /** Resolves names. Default: the system's getaddrinfo, per family. */
  readonly resolver?: Resolver;
}

/**
 * What {@linkcode Socket.opened} resolves to once connected.
 *
 * @example
 * ```ts
 * import type { SocketInfo } from "@eyeballs/connect/socket";
 * const info: SocketInfo = { remoteAddress: "[::1]:8080", localAddress: "[::1]:50000" };
 * ```
 */
export interface SocketInfo {
  /** The address that won the race, as `address:port` (IPv6 in brackets). */
  readonly remoteAddress: string | null;
  /** The local end, as `address:port`, when the runtime tells. */
  readonly localAddress: string | null;
}

/**
 * A connection in the Sockets API's shape: web streams, promises for its
 * opening and closing, and an upgrade to TLS.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/socket";
 * const socket = connect({ hostname: "localhost", port: 8080 });
 * const writer = socket.writable.getWriter();
 * await writer.write(new TextEncoder().encode("PING\r\n"));
 * await socket.close();
 * ```
 */
export interface Socket {
  /** Bytes from the peer. Not read from the network faster than you read it. */
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * Bytes to the peer: strings (sent as UTF-8), ArrayBuffers and any
   * ArrayBufferView, as workerd takes them. A write resolves once the
   * runtime accepted it; closing it sends FIN.
   */
  readonly writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  /** Resolves once connected; rejects if the connect fails (a `ConnectError` naming every address). */
  readonly opened: Promise<SocketInfo>;
  /**
   * Resolves once the connection is released: at `close()`, at the peer's FIN or RST read from `readable` (with
   * `allowHalfOpen: false`), or once both directions ended. Rejects only when the connection could not be made.
   */
  readonly closed: Promise<void>;
  /** Whether this socket is the result of {@linkcode Socket.startTls}. */
  readonly upgraded: boolean;
  /** The mode this socket was opened with. */
  readonly secureTransport: SecureTransport;
  /**
   * Cancels `readable`, aborts `writable` with `reason` (writes not yet taken by the runtime are dropped), rejects a
   * pending `opened` with `reason`, releases the connection, and returns {@linkcode Socket.closed}.
   */
  close(reason?: unknown): Promise<void>;
  /**
   * Upgrades a `secureTransport: "starttls"` socket to TLS and returns the
   * new socket; this one is released to it and cannot be used any more. May
   * be called before `opened` settles; writes already queued are sent in
   * plain text first. Without options, it uses the TLS options given to
   * `connect()`.
   */
  startTls(options?: TlsOptions): Socket;
}
