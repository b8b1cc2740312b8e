/**
 * TLS on the winner for Deno: the TCP race with `Deno.connect`, then
 * `Deno.startTls` on the connection that won.
 *
 * @module
 */

import type { RaceSettings } from "../../connect/connect.ts";
import type { Resolver } from "../../base/types.ts";
import { adapterConnect } from "../shared/connect.ts";
import { guardHandshake, TlsHandshakeError } from "../shared/handshake.ts";
import { DENO, denoDialer } from "./dialer.ts";

export { TlsHandshakeError } from "../shared/handshake.ts";

/**
 * Options for {@linkcode connectTls}: those of the Deno adapter's `connect`
 * plus `Deno.startTls`'s. The certificate is checked against `hostname` (SNI
 * too, when it is a name). Deno 2.9's `startTls` takes no client
 * certificate: use `Deno.connectTls` (no race) where one is required.
 *
 * @example
 * ```ts
 * import { connectTls, type DenoTlsOptions } from "@eyeballs/connect/deno";
 * const options: DenoTlsOptions = { hostname: "example.com", port: 443, alpnProtocols: ["h2", "http/1.1"] };
 * const conn = await connectTls(options);
 * ```
 */
export interface DenoTlsOptions extends RaceSettings {
  /** A DNS name or an IP literal, without a port. */
  readonly hostname: string;
  /** The TCP port, or a string of digits. */
  readonly port: number | string;
  /** Only `"tcp"`. */
  readonly transport?: "tcp";
  /** Set on the TCP connection. */
  readonly noDelay?: boolean;
  /** Set on the TCP connection. */
  readonly keepAlive?: boolean;
  /** Root certificates (PEM) trusted in addition to the system's. */
  readonly caCerts?: string[];
  /** ALPN protocols to offer; the agreed one is in `handshake().alpnProtocol`. */
  readonly alpnProtocols?: string[];
  /** Resolves names. Default `systemResolver` (getaddrinfo, honours /etc/hosts), as Deno's `connect`. */
  readonly resolver?: Resolver;
}

/** Deno's kind with the TLS options. */
const DENO_TLS = { ...DENO, shape: { ...DENO.shape, extra: ["caCerts", "alpnProtocols"] } };

/**
 * Races TCP to `hostname:port`, then runs `Deno.startTls` on the winner and
 * resolves once the handshake is done. `timeout` and `signal` cover the
 * handshake too. A failed handshake is a {@linkcode TlsHandshakeError}
 * naming the host and the address; the connection is closed.
 *
 * @example
 * ```ts
 * import { connectTls } from "@eyeballs/connect/deno";
 * const conn = await connectTls({ hostname: "example.com", port: 443, alpnProtocols: ["http/1.1"] });
 * await conn.write(new TextEncoder().encode("HEAD / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"));
 * ```
 */
export async function connectTls(options: DenoTlsOptions): Promise<Deno.TlsConn> {
  const connected = await adapterConnect(options, DENO_TLS);
  const { conn, host, address, port } = connected;
  const { caCerts, alpnProtocols } = connected.extra as Pick<DenoTlsOptions, "caCerts" | "alpnProtocols">;
  const hostname = host.startsWith("[") ? host.slice(1, -1) : host.replace(/\.$/, "");
  let secure: Deno.TlsConn | undefined;
  let cancelled = false;
  const handshake = (async () => {
    try {
      secure = await Deno.startTls(conn, { hostname, caCerts, alpnProtocols });
      if (cancelled) throw new Error("cancelled");
      await secure.handshake();
      return secure;
    } catch (error) {
      closeQuietly(secure);
      denoDialer.close(conn);
      throw new TlsHandshakeError(host, address, port, error);
    }
  })();
  return guardHandshake(handshake, {
    timeout: options.timeout,
    signal: options.signal,
    elapsedMs: connected.ms,
    cancel: () => {
      cancelled = true;
      handshake.catch(() => {}); // its failure is the cancellation's
      if (secure) closeQuietly(secure);
      else denoDialer.close(conn);
    },
  });
}

function closeQuietly(conn: Deno.TlsConn | undefined): void {
  try {
    conn?.close();
  } catch {
    // Already closed.
  }
}
