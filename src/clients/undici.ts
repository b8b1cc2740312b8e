/**
 * A connector for undici: `new Agent({ connect: undiciConnector() })`, and so
 * `fetch(url, { dispatcher })` and `setGlobalDispatcher`. It follows undici's
 * contract: called as `(options, callback)` with `hostname`, `host` as
 * "host:port" and `port` as a string (empty for the protocol's default); the
 * socket or the error goes to the callback, never to an unhandled rejection.
 *
 * @module
 */

import type tls from "node:tls";
import type net from "node:net";
import type { Resolver } from "../base/types.ts";
import type { RaceSettings } from "../connect/connect.ts";
import { connect } from "../adapters/node/connect.ts";
import { certHost, connectTls, nodeTls, sniFor, TLS_KEYS, type TlsSettings } from "../adapters/node/tls.ts";
import { guardHandshake } from "../adapters/shared/handshake.ts";
import { checkRaceUntil, type RaceUntil } from "../adapters/shared/tls_race.ts";

/**
 * What undici passes to a connector (`buildConnector.Options`).
 *
 * @example
 * ```ts
 * import type { UndiciConnectOptions } from "@eyeballs/connect/node/clients";
 * const seen: UndiciConnectOptions = { hostname: "example.com", host: "example.com:8443", protocol: "https:", port: "8443" };
 * ```
 */
export interface UndiciConnectOptions {
  readonly hostname: string;
  readonly host?: string;
  readonly protocol: string;
  readonly port: string;
  readonly servername?: string;
  readonly localAddress?: string | null;
  readonly httpSocket?: net.Socket;
}

/**
 * The callback undici passes to a connector.
 *
 * @example
 * ```ts
 * import type { UndiciConnectCallback } from "@eyeballs/connect/node/clients";
 * const callback: UndiciConnectCallback = (...[error, socket]) => console.log(error ?? socket?.remoteAddress);
 * ```
 */
export type UndiciConnectCallback = (...args: [null, net.Socket | tls.TLSSocket] | [Error, null]) => void;

/**
 * Options of {@linkcode undiciConnector}: race settings and TLS settings for `https:` origins.
 *
 * @example
 * ```ts
 * import { undiciConnector, type UndiciConnectorOptions } from "@eyeballs/connect/node/clients";
 * const options: UndiciConnectorOptions = { timeout: 5000, ALPNProtocols: ["http/1.1"] };
 * const connect = undiciConnector(options);
 * ```
 */
export interface UndiciConnectorOptions extends Omit<RaceSettings, "signal">, TlsSettings {
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf says
   * `hosts: files dns`, else `systemResolver` (getaddrinfo). The same under Node, Bun and Deno's `node:net`.
   */
  readonly resolver?: Resolver;
  /** Connect timeout, resolution and TLS included. Default 10 000 ms, undici's own `connectTimeout`. */
  readonly timeout?: number;
  /** TCP keep-alive as undici's own connector sets it. Default true. */
  readonly keepAlive?: boolean;
  /** Default 60 000 ms, as undici's. */
  readonly keepAliveInitialDelay?: number;
  /** For `https:` origins: `"tls"` (the default) races to the first finished handshake, `"tcp"` to the first TCP. */
  readonly raceUntil?: RaceUntil;
}

/** undici's own connector's connect timeout. */
const UNDICI_CONNECT_TIMEOUT = 10_000;

/**
 * Makes an undici connector that races with eyeballs. `https:` origins get
 * TLS on the winner (SNI from undici's `servername`, else the host name);
 * through an HTTPS proxy (`httpSocket`), TLS runs on the tunnel instead.
 *
 * @example
 * ```ts
 * import { Agent, fetch, setGlobalDispatcher } from "undici";
 * import { undiciConnector } from "@eyeballs/connect/node/clients";
 * const dispatcher = new Agent({ connect: undiciConnector({ timeout: 5000 }) });
 * const res = await fetch("https://example.com/", { dispatcher });
 * setGlobalDispatcher(dispatcher); // or for every request
 * ```
 */
export function undiciConnector(
  options: UndiciConnectorOptions = {},
): (connectOptions: UndiciConnectOptions, callback: UndiciConnectCallback) => void {
  const { keepAlive = true, keepAliveInitialDelay = 60_000, timeout = UNDICI_CONNECT_TIMEOUT, ...rest } = options;
  checkRaceUntil(rest.raceUntil); // a bad value throws now, naming the field
  return (connectOptions, callback) => {
    let connecting: Promise<net.Socket>;
    try {
      connecting = connectFor(connectOptions, { ...rest, timeout, keepAlive, keepAliveInitialDelay });
    } catch (error) {
      return callback(error as Error, null);
    }
    connecting.then((socket) => callback(null, socket), (error) => callback(error, null));
  };
}

function connectFor(
  target: UndiciConnectOptions,
  options: Omit<UndiciConnectorOptions, "signal">,
): Promise<net.Socket> {
  const { hostname, protocol, port, servername, localAddress, httpSocket } = target;
  const secure = protocol === "https:";
  const tcp = {
    host: hostname,
    port: port === "" || port === undefined ? (secure ? 443 : 80) : port,
    noDelay: true,
    ...(localAddress ? { localAddress } : {}),
  };
  if (!secure) {
    const { keepAlive, keepAliveInitialDelay, timeout, resolver, raceUntil: _, ...race } = options as Record<
      string,
      unknown
    >;
    return connect({ ...pickRace(race), ...tcp, keepAlive, keepAliveInitialDelay, timeout, resolver } as never);
  }
  if (httpSocket) return tlsOnTunnel(httpSocket, hostname, servername, options); // one tunnel: nothing to race
  return connectTls(
    { ALPNProtocols: ["http/1.1"], ...options, ...tcp, ...(servername ? { servername } : {}) } as never,
  );
}

/** Drops the TLS settings from an options bag, for a plain connect. */
function pickRace(options: Record<string, unknown>): Record<string, unknown> {
  const race: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!TLS_SETTING_KEYS.has(key)) race[key] = value;
  }
  return race;
}

const TLS_SETTING_KEYS = new Set(TLS_KEYS);

/**
 * HTTPS through a proxy: undici already has the tunnel; TLS runs on it (nothing to race), bounded by the connector's
 * `timeout` as a raced connect is, with SNI only for a name.
 */
function tlsOnTunnel(
  socket: net.Socket,
  hostname: string,
  servername: string | undefined,
  options: TlsSettings & { timeout?: number },
): Promise<tls.TLSSocket> {
  const settings: Record<string, unknown> = {};
  for (const key of TLS_SETTING_KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) settings[key] = value;
  }
  const secure = nodeTls().connect({
    ALPNProtocols: ["http/1.1"],
    ...settings,
    socket,
    host: certHost(hostname),
    servername: sniFor(hostname, servername || settings.servername as string | undefined),
  });
  const handshake = new Promise<tls.TLSSocket>((resolve, reject) => {
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", (error) => {
      secure.destroy();
      reject(error);
    });
  });
  return guardHandshake(handshake, { timeout: options.timeout, elapsedMs: 0, cancel: () => secure.destroy() });
}
