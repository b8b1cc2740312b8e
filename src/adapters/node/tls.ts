/**
 * TLS on the winner, for Node (and Bun, which shares node:tls): the TCP race
 * first, then `tls.connect({ socket })` on the connection that won.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import type { RaceSettings } from "../../connect/connect.ts";
import { parseIp } from "../../addresses/ip.ts";
import type { Resolver, Target } from "../../base/types.ts";
import { type AdapterKind, connectForClient } from "../shared/connect.ts";
import { guardHandshake, TlsHandshakeError } from "../shared/handshake.ts";
import { discardSocket, netKind } from "../shared/net_dialer.ts";
import type { OptionShape, SocketOptions } from "../shared/options.ts";
import { builtinModule } from "../../runtime/lazy_modules.ts";
import { checkRaceUntil, offeringAlpn, type RaceUntil, tlsRaceDialer, tlsRaceError } from "../shared/tls_race.ts";

export { TlsHandshakeError } from "../shared/handshake.ts";

/**
 * `node:tls`, loaded at the first TLS connect rather than at import: it is slow to load, and most programs that
 * import the adapter never use TLS through it.
 */
export const nodeTls = (): typeof tls => builtinModule<typeof tls>("node:tls");

/**
 * The `tls.connect` options a caller may set on a raced connection: every client option of `tls.connect` and of
 * `tls.createSecureContext`, but the ones the race owns (`host`, `port`, `path`, `socket`, `lookup`, `timeout`).
 *
 * @example
 * ```ts
 * import { connectTls, type TlsSettings } from "@eyeballs/connect/node";
 * const settings: TlsSettings = { ALPNProtocols: ["h2", "http/1.1"], minVersion: "TLSv1.3" };
 * const socket = await connectTls({ host: "example.com", port: 443, ...settings });
 * ```
 */
export type TlsSettings = Pick<
  tls.ConnectionOptions,
  | "servername"
  | "ALPNProtocols"
  | "ca"
  | "cert"
  | "key"
  | "pfx"
  | "passphrase"
  | "rejectUnauthorized"
  | "checkServerIdentity"
  | "minVersion"
  | "maxVersion"
  | "ciphers"
  | "session"
  | "secureContext"
  | "crl"
  | "sigalgs"
  | "ecdhCurve"
  | "secureOptions"
  | "secureProtocol"
  | "minDHSize"
  | "pskCallback"
  | "enableTrace"
  | "privateKeyEngine"
  | "privateKeyIdentifier"
  | "clientCertEngine"
  | "sessionIdContext"
>;

/** The keys of {@linkcode TlsSettings}, accepted by the option check. */
export const TLS_KEYS: readonly string[] = [
  "servername",
  "ALPNProtocols",
  "ca",
  "cert",
  "key",
  "pfx",
  "passphrase",
  "rejectUnauthorized",
  "checkServerIdentity",
  "minVersion",
  "maxVersion",
  "ciphers",
  "session",
  "secureContext",
  "crl",
  "sigalgs",
  "ecdhCurve",
  "secureOptions",
  "secureProtocol",
  "minDHSize",
  "pskCallback",
  "enableTrace",
  "privateKeyEngine",
  "privateKeyIdentifier",
  "clientCertEngine",
  "sessionIdContext",
];

/** The request options an agent hands its factory that belong to the TCP connection or the request, not to TLS. */
export const NOT_TLS_KEYS: ReadonlySet<string> = new Set([
  "host",
  "hostname",
  "port",
  "path",
  "socket",
  "lookup",
  "family",
  "hints",
  "localAddress",
  "localPort",
  "timeout",
  "signal",
  "agent",
  "createConnection",
  "autoSelectFamily",
  "autoSelectFamilyAttemptTimeout",
  "noDelay",
  "keepAlive",
  "keepAliveInitialDelay",
  "allowHalfOpen",
]);

/**
 * Options for {@linkcode connectTls}: those of the Node adapter's `connect`
 * plus the TLS settings. SNI (`servername`) defaults to `host` when it is a
 * name, and is left out for an IP literal (RFC 6066 forbids IP addresses in
 * SNI); the certificate is checked against `host` either way.
 *
 * @example
 * ```ts
 * import { connectTls, type NodeTlsOptions } from "@eyeballs/connect/node";
 * const options: NodeTlsOptions = { host: "db.example", port: 5433, ca: ["-----BEGIN CERTIFICATE-----..."] };
 * const socket = await connectTls(options);
 * ```
 */
export interface NodeTlsOptions extends RaceSettings, SocketOptions, TlsSettings {
  /** A DNS name or an IP literal, without a port. */
  readonly host: string;
  /**
   * Where the race ends: `"tls"` (default) at the first finished handshake, so a path that connects and then
   * stalls loses; `"tcp"` at the first TCP connection, the handshake then on that one alone.
   */
  readonly raceUntil?: RaceUntil;
  /** The TCP port, or a string of digits. */
  readonly port: number | string;
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf says
   * `hosts: files dns`, else `systemResolver` (getaddrinfo). The same under Node, Bun and Deno's `node:net`.
   */
  readonly resolver?: Resolver;
}

/**
 * Races to `host:port` until a TLS handshake is done (certificate checked,
 * ALPN agreed): each attempt is TCP and then TLS, so a path whose handshake
 * stalls or fails does not win (`raceUntil: "tcp"` races TCP alone, then runs
 * TLS on the winner). `timeout` and `signal` cover the handshakes too. When
 * every handshake fails, the error is a {@linkcode TlsHandshakeError} naming
 * each address; every connection is closed.
 *
 * @example
 * ```ts
 * import { connectTls } from "@eyeballs/connect/node";
 * const socket = await connectTls({ host: "example.com", port: 443, ALPNProtocols: ["http/1.1"] });
 * socket.end("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
 * ```
 */
export function connectTls(options: NodeTlsOptions): Promise<tls.TLSSocket> {
  return connectTlsAs(options, "host");
}

/** The TLS kind per host field, built once: its shape keys the option checks' cache (a connect is hot). */
const tlsKinds = new Map<OptionShape["hostField"], AdapterKind<net.Socket>>();

function tlsKind(hostField: OptionShape["hostField"]): AdapterKind<net.Socket> {
  let kind = tlsKinds.get(hostField);
  if (kind === undefined) {
    const tcp = netKind(hostField, [...TLS_KEYS, "raceUntil"]);
    kind = {
      ...tcp,
      dialer(checked) {
        if (checkRaceUntil(checked.extra.raceUntil) === "tcp") return tcp.dialer(checked);
        return racingTls(tcp, tlsSettingsOf(checked.extra)).dialer(checked);
      },
    };
    tlsKinds.set(hostField, kind);
  }
  return kind;
}

/**
 * `tcp` with each attempt running TLS (`settings`) on its connection: an attempt is done when its handshake is
 * (Happy Eyeballs v3), and the winner is a `tls.TLSSocket`. For the clients' sockets (the https Agent's).
 */
export function racingTls(tcp: AdapterKind<net.Socket>, settings: TlsSettings): AdapterKind<net.Socket> {
  return {
    ...tcp,
    dialer(checked) {
      const host = checked.race.hostname as string;
      return tlsRaceDialer(tcp.dialer(checked), host, nodeHandshake(host, settings), discardSocket);
    },
  };
}

/** The TLS settings among the extra options: all but `raceUntil`, which is eyeballs'. */
function tlsSettingsOf(extra: Record<string, unknown>): TlsSettings {
  const { raceUntil: _, ...settings } = extra;
  return settings as TlsSettings;
}

/** TLS on one attempt's socket: resolves at `secureConnect`; a failure or an abort destroys the socket. */
function nodeHandshake(host: string, settings: TlsSettings) {
  return (conn: net.Socket, target: Target, signal: AbortSignal): Promise<tls.TLSSocket> =>
    new Promise((resolve, reject) => {
      const secure = nodeTls().connect({
        ...settings,
        socket: conn,
        host: certHost(host),
        servername: sniFor(host, settings.servername),
      });
      const done = () => {
        secure.off("secureConnect", onSecure);
        secure.off("error", onError);
        signal.removeEventListener("abort", onAbort);
      };
      const onSecure = () => {
        done();
        resolve(secure);
      };
      const onError = (error: Error) => {
        done();
        discardSocket(secure);
        reject(new TlsHandshakeError(host, target.address, target.port, error));
      };
      const onAbort = () => {
        done();
        discardSocket(secure);
        reject(signal.reason);
      };
      secure.once("secureConnect", onSecure);
      secure.once("error", onError);
      signal.addEventListener("abort", onAbort, { once: true });
    });
}

/** {@linkcode connectTls} with the host field as the runtime names it (Bun: `hostname`). */
export async function connectTlsAs(options: unknown, hostField: OptionShape["hostField"]): Promise<tls.TLSSocket> {
  let connected: Awaited<ReturnType<typeof connectForClient<net.Socket>>>;
  try {
    const offered = (options as { ALPNProtocols?: unknown } | null)?.ALPNProtocols;
    connected = await connectForClient(offeringAlpn(options, offered), tlsKind(hostField));
  } catch (error) {
    throw tlsRaceError(error);
  }
  if (checkRaceUntil(connected.extra.raceUntil) === "tls") return connected.conn as tls.TLSSocket;
  const { conn, host, address, port } = connected;
  const settings = tlsSettingsOf(connected.extra);
  const secure = nodeTls().connect({
    ...settings,
    socket: conn,
    host: certHost(host),
    servername: sniFor(host, settings.servername),
  });
  const handshake = new Promise<tls.TLSSocket>((resolve, reject) => {
    const onSecure = () => {
      secure.off("error", onError);
      resolve(secure);
    };
    const onError = (error: Error) => {
      secure.off("secureConnect", onSecure);
      discardSocket(secure);
      discardSocket(conn);
      reject(new TlsHandshakeError(host, address, port, error));
    };
    secure.once("secureConnect", onSecure);
    secure.once("error", onError);
  });
  const { timeout, signal } = options as RaceSettings;
  return guardHandshake(handshake, {
    timeout,
    signal,
    elapsedMs: connected.ms,
    cancel: () => {
      discardSocket(secure);
      discardSocket(conn);
    },
  });
}

/** The name a certificate is checked against: an IPv6 literal without its brackets, as `tls.connect` wants it. */
export function certHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** SNI: the caller's choice, else the host, when it is a name: never an IP literal (RFC 6066 §3, Node's DEP0123). */
export function sniFor(host: string, servername: string | undefined): string | undefined {
  const name = servername || host;
  if (parseIp(name)) return undefined;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
