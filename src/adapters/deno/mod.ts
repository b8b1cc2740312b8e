/**
 * eyeballs for Deno: `connect` resolves both families in parallel and races
 * the addresses with `Deno.connect`, returning a connected `Deno.TcpConn`.
 *
 * Unlike `Deno.connect` alone, a failed or silent address does not stall
 * the connect, and the system resolver's order is kept.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/deno";
 * const conn = await connect({ hostname: "localhost", port: 8080, timeout: 5000 });
 * await conn.write(new TextEncoder().encode("hello\n"));
 * conn.close();
 * ```
 *
 * @module
 */

import type { RaceSettings } from "../../core/connect.ts";
import type { Dialer, Resolver, Target } from "../../core/types.ts";
import { adapterConnect } from "../shared/connect.ts";

export { systemResolver } from "../shared/system_resolver.ts";
export { createStubResolver, stubResolver } from "../shared/stub_resolver.ts";
export type { StubResolver, StubResolverOptions } from "../shared/stub_resolver.ts";

/**
 * Dials one address with `Deno.connect`, passing the attempt's signal so an
 * abort cancels the pending connect.
 *
 * Deno 2.9 checks the signal again after a successful connect: a connect
 * that completes just as its attempt is aborted is thrown away by Deno
 * without being closed, and never reaches eyeballs (see the README's known
 * limits). Every connection `Deno.connect` does return is closed or handed
 * to the caller.
 *
 * @example
 * ```ts
 * import { denoDialer } from "@eyeballs/connect/deno";
 * const conn = await denoDialer.dial({ address: "127.0.0.1", family: 4, port: 8080 }, new AbortController().signal);
 * denoDialer.close(conn);
 * ```
 */
export const denoDialer: Dialer<Deno.TcpConn> = {
  dial: (target: Target, signal: AbortSignal): Promise<Deno.TcpConn> =>
    Deno.connect({ hostname: target.address, port: target.port, transport: "tcp", signal }),
  close(conn: Deno.TcpConn): void {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  },
};

/** Options for {@linkcode connect}: `hostname` and `port` as in `Deno.connect`, plus the race settings. */
export interface DenoConnectOptions extends RaceSettings {
  /** A DNS name or an IP literal. */
  readonly hostname: string;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
  /** Resolves names. Default {@linkcode systemResolver} (getaddrinfo, honours /etc/hosts). */
  readonly resolver?: Resolver;
}

/**
 * Connects to `hostname:port`, Happy Eyeballs style, and returns the
 * connection. Throws a TypeError or RangeError naming the bad field, a
 * `ConnectError` (an AggregateError naming every address) when nothing
 * connects, or the signal's reason on abort.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/deno";
 * const tcp = await connect({ hostname: "example.com", port: 443 });
 * const tls = await Deno.startTls(tcp, { hostname: "example.com" });
 * ```
 */
export function connect(options: DenoConnectOptions): Promise<Deno.TcpConn> {
  return adapterConnect(options, "hostname", denoDialer);
}
