/**
 * Racing to the TLS handshake (Happy Eyeballs v3): an attempt is done when
 * its handshake is, not when TCP connects. A path that connects and then
 * stalls (an IPv6 path-MTU blackhole drops the server's large first flight)
 * does not win the race; the schedule starts the next attempt meanwhile, and
 * a failed handshake fails its attempt like a failed connect.
 *
 * @module
 */

import type { Dialer, Target } from "../../base/types.ts";
import { describe } from "../../base/checks.ts";
import { AttemptError, ConnectError } from "../../base/errors.ts";
import { TlsHandshakeError } from "./handshake.ts";

/**
 * Where a TLS connect's race ends and its losers are cancelled: `"tls"` (the
 * default) at the first finished handshake, `"tcp"` at the first TCP
 * connection, with the handshake on that one alone (what `tls.connect`,
 * `Deno.connectTls` and Bun do).
 */
export type RaceUntil = "tcp" | "tls";

/** Checks `raceUntil`, naming the field. */
export function checkRaceUntil(value: unknown): RaceUntil {
  if (value === undefined) return "tls";
  if (value !== "tcp" && value !== "tls") {
    throw new RangeError(`raceUntil must be "tcp" or "tls", got ${describe(value)}`);
  }
  return value;
}

/** How long each raced TLS connection's handshake took, from its TCP connection on (see {@linkcode handshakeMs}). */
const handshakes = new WeakMap<object, number>();

/**
 * Milliseconds from `conn`'s TCP connection to its finished TLS handshake,
 * when a TLS race (`raceUntil: "tls"`, the default) made it; else undefined.
 * The CLI's `--tls` reports it.
 */
export function handshakeMs(conn: object): number | undefined {
  return handshakes.get(conn);
}

/**
 * A dialer whose attempt is a TCP connect and then a TLS handshake. `handshake`
 * runs TLS on the connected socket, rejects on failure, and stops (releasing
 * the socket) when `signal` aborts; its failure is this attempt's, a
 * {@linkcode TlsHandshakeError} naming the address.
 */
export function tlsRaceDialer<Tcp, Tls>(
  tcp: Dialer<Tcp>,
  host: string,
  handshake: (conn: Tcp, target: Target, signal: AbortSignal) => Promise<Tls>,
  closeTls: (conn: Tls) => void,
): Dialer<Tls> {
  return {
    async dial(target: Target, signal: AbortSignal): Promise<Tls> {
      const conn = await tcp.dial(target, signal);
      const connectedAt = performance.now();
      try {
        const secure = await handshake(conn, target, signal);
        if (typeof secure === "object" && secure !== null) handshakes.set(secure, performance.now() - connectedAt);
        return secure;
      } catch (error) {
        tcp.close(conn); // closing twice is harmless; leaking the socket is not
        if (signal.aborted && error === signal.reason) throw error;
        throw error instanceof TlsHandshakeError
          ? error
          : new TlsHandshakeError(host, target.address, target.port, error);
      }
    },
    close: closeTls,
  };
}

/**
 * A failed TLS race in which some attempt connected and then failed its
 * handshake is reported as a {@linkcode TlsHandshakeError} (as `tls.connect`
 * reports it): the server was reached, and TLS is what failed. Its message
 * names each address whose handshake failed; `errors` keeps every error of
 * the race. Anything else stays the race's error.
 */
export function tlsRaceError(error: unknown): unknown {
  if (!(error instanceof ConnectError)) return error;
  const tls = error.errors
    .map((e) => e instanceof AttemptError ? e.cause : undefined)
    .filter((c): c is TlsHandshakeError => c instanceof TlsHandshakeError);
  if (tls.length === 0) return error;
  const [first] = tls;
  const combined = new TlsHandshakeError(first.host, first.address, first.port, first.cause);
  if (tls.length > 1) {
    combined.message = `TLS with ${first.host} port ${first.port} failed on every address it reached: ` +
      tls.map((e) => `${e.address}: ${reasonText(e.cause)}`).join("; ");
  }
  return Object.assign(combined, { errors: error.errors });
}

function reasonText(cause: unknown): string {
  return cause instanceof Error ? cause.message : describe(cause);
}

/**
 * `options` with the ALPN protocols its TLS connect offers (`offered`, when a list of strings) as the race's `alpn`,
 * unless `alpn` is set: an HTTPS record whose endpoint speaks none of them is then skipped, as HEv3 asks.
 */
export function offeringAlpn(options: unknown, offered: unknown): unknown {
  if (typeof options !== "object" || options === null || (options as { alpn?: unknown }).alpn !== undefined) {
    return options; // the checks name what is wrong with it
  }
  if (!Array.isArray(offered) || offered.length === 0 || !offered.every((id) => typeof id === "string")) return options;
  return { ...options, alpn: offered };
}
