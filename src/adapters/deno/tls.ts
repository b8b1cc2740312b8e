/**
 * TLS for Deno: each attempt is `Deno.connect` and then `Deno.startTls`, and
 * the race ends at the first finished handshake.
 *
 * @module
 */

import type { RaceSettings } from "../../connect/connect.ts";
import type { Resolver } from "../../base/types.ts";
import { type AdapterKind, connectForClient } from "../shared/connect.ts";
import { checkRaceUntil, offeringAlpn, type RaceUntil, tlsRaceDialer, tlsRaceError } from "../shared/tls_race.ts";
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
  /** Where the race ends: `"tls"` (default) at the first finished handshake, `"tcp"` at the first TCP connection. */
  readonly raceUntil?: RaceUntil;
}

/** Deno's kind with the TLS options. */
type TlsExtra = Pick<DenoTlsOptions, "caCerts" | "alpnProtocols" | "raceUntil">;

const DENO_TLS: AdapterKind<Deno.TcpConn | Deno.TlsConn> = {
  ...DENO,
  shape: { ...DENO.shape, extra: ["caCerts", "alpnProtocols", "raceUntil"] },
  dialer(checked) {
    const { caCerts, alpnProtocols, raceUntil } = checked.extra as TlsExtra;
    if (checkRaceUntil(raceUntil) === "tcp") return denoDialer;
    const host = checked.race.hostname as string;
    const hostname = certName(host);
    return tlsRaceDialer<Deno.TcpConn, Deno.TlsConn>(denoDialer, host, async (conn, target, signal) => {
      DENO.tune(conn, checked.socket); // a TlsConn has no setNoDelay: the TCP connection takes the socket options
      const secure = await Deno.startTls(conn, { hostname, caCerts, alpnProtocols });
      const onAbort = () => closeQuietly(secure);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await secure.handshake();
        if (signal.aborted) throw signal.reason;
        tcpEnds.set(secure, { remoteAddr: conn.remoteAddr, localAddr: conn.localAddr });
        return secure;
      } catch (error) {
        closeQuietly(secure);
        throw signal.aborted ? signal.reason : new TlsHandshakeError(host, target.address, target.port, error);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }, closeQuietly);
  },
  tune: (conn, socket) => "setNoDelay" in conn && DENO.tune(conn, socket), // a TLS winner was tuned in its dial
};

/** The TCP connection's ends under each raced TLS connection: a `TlsConn` from `Deno.startTls` may not tell them. */
const tcpEnds = new WeakMap<Deno.TlsConn, { remoteAddr: Deno.Addr; localAddr: Deno.Addr }>();

/** The ends of the TCP connection under `conn`, when the race made it (the socket API reports them). */
export function tcpEndsOf(conn: Deno.TlsConn): { remoteAddr: Deno.Addr; localAddr: Deno.Addr } | undefined {
  return tcpEnds.get(conn);
}

/** The name the certificate is checked against: no brackets, no trailing dot. */
function certName(host: string): string {
  return host.startsWith("[") ? host.slice(1, -1) : host.replace(/\.$/, "");
}

/**
 * Connects like the Deno adapter's `connect` and runs TLS: each attempt is
 * TCP and then the handshake, and the first finished handshake wins, so a
 * path whose handshake stalls or fails does not (`raceUntil: "tcp"` races TCP
 * alone, then runs TLS on the winner). `timeout` and `signal` cover the
 * handshakes too. When every handshake fails, the error is a
 * {@linkcode TlsHandshakeError} naming each address.
 *
 * @example
 * ```ts
 * import { connectTls } from "@eyeballs/connect/deno";
 * const conn = await connectTls({ hostname: "example.com", port: 443, alpnProtocols: ["http/1.1"] });
 * ```
 */
export async function connectTls(options: DenoTlsOptions): Promise<Deno.TlsConn> {
  let connected;
  try {
    connected = await connectForClient(offeringAlpn(options, options?.alpnProtocols), DENO_TLS);
  } catch (error) {
    throw tlsRaceError(error);
  }
  const { caCerts, alpnProtocols, raceUntil } = connected.extra as TlsExtra;
  if (checkRaceUntil(raceUntil) === "tls") return connected.conn as Deno.TlsConn;
  const conn = connected.conn as Deno.TcpConn;
  const { host, address, port } = connected;
  const hostname = certName(host);
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
