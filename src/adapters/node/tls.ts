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
import type { Resolver } from "../../base/types.ts";
import { adapterConnect, type AdapterKind } from "../shared/connect.ts";
import { guardHandshake, TlsHandshakeError } from "../shared/handshake.ts";
import { discardSocket, netKind } from "../shared/net_dialer.ts";
import type { OptionShape, SocketOptions } from "../shared/options.ts";
import { builtinModule } from "../../runtime/lazy_modules.ts";

export { TlsHandshakeError } from "../shared/handshake.ts";

/**
 * `node:tls`, loaded at the first TLS connect rather than at import: it costs a fresh process 5 to 7 ms
 * (Node, Bun), and most programs that import the adapter never use TLS through it.
 *
 * @example
 * ```ts
 * import { nodeTls } from "./tls.ts";
 * const roots = nodeTls().rootCertificates;
 * ```
 */
export const nodeTls = (): typeof tls => builtinModule<typeof tls>("node:tls");

/**
 * The `tls.connect` options that make sense on a raced connection.
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
];

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
  /** The TCP port, or a string of digits. */
  readonly port: number | string;
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf says
   * `hosts: files dns`, else `systemResolver` (getaddrinfo). The same under Node, Bun and Deno's `node:net`.
   */
  readonly resolver?: Resolver;
}

/**
 * Races TCP to `host:port`, then runs TLS on the winner and resolves once
 * the handshake is done (certificate checked, ALPN agreed). `timeout` and
 * `signal` cover the handshake too. A failed handshake is a
 * {@linkcode TlsHandshakeError} naming the host and the address; the
 * connection is closed.
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
  if (kind === undefined) tlsKinds.set(hostField, kind = netKind(hostField, TLS_KEYS));
  return kind;
}

/** {@linkcode connectTls} with the host field as the runtime names it (Bun: `hostname`). */
export async function connectTlsAs(options: unknown, hostField: OptionShape["hostField"]): Promise<tls.TLSSocket> {
  const connected = await adapterConnect(options, tlsKind(hostField));
  const { conn, host, address, port } = connected;
  const settings = connected.extra as TlsSettings;
  const secure = nodeTls().connect({ ...settings, socket: conn, host, servername: sniFor(host, settings.servername) });
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

/** SNI: the caller's choice, else the host when it is a name (never an IP: RFC 6066 §3). */
export function sniFor(host: string, servername: string | undefined): string | undefined {
  if (servername !== undefined) return servername;
  if (parseIp(host)) return undefined;
  return host.endsWith(".") ? host.slice(0, -1) : host;
}
