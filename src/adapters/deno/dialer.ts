/**
 * Deno's dialer and connection kind: `Deno.connect` per attempt, the
 * options `Deno.connect` takes, socket options through the conn's setters.
 *
 * @module
 */

import type { Dialer, Target } from "../../base/types.ts";
import { NEVER_ABORTED } from "../../race/race.ts";
import type { AdapterKind } from "../shared/connect.ts";
import type { SocketOptions } from "../shared/options.ts";
import { systemResolver } from "../../dns/system.ts";
import { abortSignalClock } from "../../race/clock.ts";

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
    Deno.connect({
      hostname: target.address,
      port: target.port,
      transport: "tcp",
      signal: signal === NEVER_ABORTED ? undefined : signal, // nothing to listen for
    }),
  close(conn: Deno.TcpConn): void {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  },
};

/** Deno's connection kind: `Deno.connect`'s options, its dialer, socket options through the conn's setters. */
export const DENO: AdapterKind<Deno.TcpConn> = {
  shape: { hostField: "hostname", socket: ["noDelay", "keepAlive"], ignored: { transport: "tcp" } },
  resolver: systemResolver, // no thread-pool stall under Deno, and the stub would need --allow-read
  dialer: () => denoDialer,
  clock: abortSignalClock, // Deno's own web timers: its setTimeout loads node:timers at its first call
  tune(conn: Deno.TcpConn, options: SocketOptions): void {
    if (options.noDelay !== undefined) conn.setNoDelay(options.noDelay);
    if (options.keepAlive !== undefined) conn.setKeepAlive(options.keepAlive);
  },
};
