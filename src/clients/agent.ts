/**
 * `http.Agent` and `https.Agent` whose connections come from eyeballs. All of
 * the base Agent stays: keep-alive, `maxSockets`, `maxFreeSockets`, the free
 * socket pool, socket timeouts. Only `createConnection` changes: it returns
 * eyeballs' racing socket (with TLS over it for HTTPS).
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { RaceSettings } from "../connect/connect.ts";
import type { Resolver } from "../base/types.ts";
import {
  createConnection,
  type CreateConnectionOptions,
  type EyeballsSocket,
  EyeballsTlsSocket,
} from "./create_connection.ts";
import { TlsHandshakeError } from "../adapters/shared/handshake.ts";
import { certHost, NOT_TLS_KEYS, sniFor, type TlsSettings } from "../adapters/node/tls.ts";
import { checkRaceUntil, offeringAlpn, type RaceUntil } from "../adapters/shared/tls_race.ts";

/**
 * Race settings for an agent's connects (`signal` is per request, so it is not one of them).
 *
 * @example
 * ```ts
 * import { fixedDelay } from "@eyeballs/connect";
 * import { type AgentRaceSettings, EyeballsAgent } from "@eyeballs/connect/node/clients";
 * const race: AgentRaceSettings = { schedule: fixedDelay(250), timeout: 10_000 };
 * const agent = new EyeballsAgent({ keepAlive: true, race });
 * ```
 */
export interface AgentRaceSettings extends Omit<RaceSettings, "signal"> {
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf says
   * `hosts: files dns`, else `systemResolver` (getaddrinfo). The same under Node, Bun and Deno's `node:net`.
   */
  readonly resolver?: Resolver;
}

/**
 * Options of {@linkcode EyeballsAgent}: `http.AgentOptions` plus `race`.
 *
 * @example
 * ```ts
 * import { EyeballsAgent, type EyeballsAgentOptions } from "@eyeballs/connect/node/clients";
 * const options: EyeballsAgentOptions = { keepAlive: true, maxSockets: 16, race: { timeout: 5000 } };
 * const agent = new EyeballsAgent(options);
 * ```
 */
export interface EyeballsAgentOptions extends http.AgentOptions {
  /** How the agent's connects race. */
  readonly race?: AgentRaceSettings;
}

/**
 * Options of {@linkcode EyeballsHttpsAgent}: `https.AgentOptions` plus `race`.
 *
 * @example
 * ```ts
 * import { EyeballsHttpsAgent, type EyeballsHttpsAgentOptions } from "@eyeballs/connect/node/clients";
 * const options: EyeballsHttpsAgentOptions = { keepAlive: true, ca: ["-----BEGIN CERTIFICATE-----..."] };
 * const agent = new EyeballsHttpsAgent(options);
 * ```
 */
export interface EyeballsHttpsAgentOptions extends https.AgentOptions {
  /** How the agent's connects race. */
  readonly race?: AgentRaceSettings;
  /**
   * `"tls"` (the default): each attempt is TCP and then TLS, and the first finished handshake wins (Happy Eyeballs
   * v3), so a path that connects and then stalls, or presents a bad certificate, fails that attempt only. `"tcp"`:
   * TLS runs on the first TCP connection alone, as `https.Agent` does.
   */
  readonly raceUntil?: RaceUntil;
}

type RequestOptions = http.ClientRequestArgs & Record<string, unknown>;

/** What a request's options say about the TCP connection, in the adapter's terms. */
function tcpOptions(options: RequestOptions, defaultPort: number, race: AgentRaceSettings): CreateConnectionOptions {
  const family = options.family === 4 || options.family === 6 ? options.family : undefined;
  const { timeout: connectTimeout, ...settings } = race; // the race's bound; createConnection's `timeout` is net's
  return {
    ...settings,
    ...(connectTimeout !== undefined && { connectTimeout }),
    host: options.host ?? options.hostname ?? "localhost",
    port: options.port ?? defaultPort,
    ...(family !== undefined && { family }),
    ...(typeof options.localAddress === "string" && { localAddress: options.localAddress }),
    ...(typeof options.noDelay === "boolean" && { noDelay: options.noDelay }),
    ...(options.keepAlive === true && { keepAlive: true, keepAliveInitialDelay: Number(options.keepAliveMsecs ?? 0) }),
  };
}

/** Arms the Agent's socket timeout as net.createConnection would (the Agent's own timeout must hold). */
function withTimeout<S extends Duplex & { setTimeout(ms: number): unknown }>(socket: S, options: RequestOptions): S {
  if (typeof options.timeout === "number" && options.timeout > 0) socket.setTimeout(options.timeout);
  return socket;
}

/**
 * An `http.Agent` that connects with eyeballs.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { EyeballsAgent } from "@eyeballs/connect/node/clients";
 * const agent = new EyeballsAgent({ keepAlive: true, maxSockets: 8 });
 * http.get("http://localhost:8080/", { agent }, (res) => res.resume());
 * ```
 */
export class EyeballsAgent extends http.Agent {
  readonly #race: AgentRaceSettings;

  constructor(options: EyeballsAgentOptions = {}) {
    const { race = {}, ...agentOptions } = options;
    super(agentOptions);
    this.#race = race;
  }

  /**
   * Returns a socket at once, racing behind it: the Agent counts it against
   * `maxSockets` immediately (a socket passed later to the callback is
   * counted only then, so parallel requests would each open one).
   */
  override createConnection(options: RequestOptions): EyeballsSocket {
    return withTimeout(createConnection(tcpOptions(options, 80, this.#race)), options);
  }
}

/**
 * An `https.Agent` that connects with eyeballs and races to the TLS handshake
 * (`raceUntil`: each attempt is TCP and then TLS, the first finished
 * handshake wins). The Agent's TLS options (`ca`, `cert`, `key`,
 * `rejectUnauthorized`, `servername`, `ALPNProtocols`...) apply to every
 * attempt; SNI defaults to the host name. TLS sessions are not resumed
 * across connections (keep-alive reuse is).
 *
 * @example
 * ```ts
 * import https from "node:https";
 * import { EyeballsHttpsAgent } from "@eyeballs/connect/node/clients";
 * const agent = new EyeballsHttpsAgent({ keepAlive: true });
 * https.get("https://example.com/", { agent }, (res) => res.resume());
 * ```
 */
export class EyeballsHttpsAgent extends https.Agent {
  readonly #race: AgentRaceSettings;
  readonly #raceUntil: RaceUntil;

  constructor(options: EyeballsHttpsAgentOptions = {}) {
    const { race = {}, raceUntil, ...agentOptions } = options;
    const until = checkRaceUntil(raceUntil);
    super(agentOptions);
    this.#race = race;
    this.#raceUntil = until;
  }

  /**
   * Returns a socket at once (counted against `maxSockets` at once), racing
   * behind it: to the first finished TLS handshake, or with `raceUntil:
   * "tcp"` to the first TCP connection, with TLS on it. A handshake error's
   * message names the host and the address.
   */
  override createConnection(options: RequestOptions): EyeballsTlsSocket | tls.TLSSocket {
    // Every tls.connect option the request or the agent carries (crl, sigalgs, secureOptions...), as https.Agent
    // hands them on; only what belongs to the TCP connection stays with the race.
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if (!NOT_TLS_KEYS.has(key) && value !== undefined && value !== null) settings[key] = value;
    }
    const tcp = offeringAlpn(tcpOptions(options, 443, this.#race), settings.ALPNProtocols) as CreateConnectionOptions;
    if (this.#raceUntil === "tls") {
      return withTimeout(new EyeballsTlsSocket(tcp, settings as TlsSettings), options);
    }
    let won: { address: string; port: number } | undefined;
    const raw = createConnection({ ...tcp, onConnected: (c) => (won = c) });
    const host = String(tcp.host);
    const secure = tls.connect({
      ...settings,
      socket: raw,
      host: certHost(host),
      servername: sniFor(host, settings.servername as string),
    });
    secure.prependListener("error", (error: Error & { eyeballs?: true }) => {
      // The race's own errors already name every address; a TLS error gets the host and the address.
      if (won === undefined || error.eyeballs) return;
      error.message = new TlsHandshakeError(host, won.address, won.port, error).message;
      error.eyeballs = true;
    });
    return withTimeout(secure, options);
  }
}
