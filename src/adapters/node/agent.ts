/**
 * `http.Agent` and `https.Agent` whose connections come from eyeballs. All of
 * the base Agent stays: keep-alive, `maxSockets`, `maxFreeSockets`, the free
 * socket pool, socket timeouts. Only `createConnection` changes: it races,
 * then hands the winning socket (TLS on it for HTTPS) to the Agent through
 * its documented callback.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type { Duplex } from "node:stream";
import type { RaceSettings } from "../../core/connect.ts";
import type { Resolver } from "../../core/types.ts";
import { connect, type NodeConnectOptions } from "./connect.ts";
import { connectTls, type NodeTlsOptions, TLS_KEYS } from "./tls.ts";

/** Race settings for an agent's connects (`signal` is per request, so it is not one of them). */
export interface AgentRaceSettings extends Omit<RaceSettings, "signal"> {
  /** Resolves names. Default: the system resolver. */
  readonly resolver?: Resolver;
}

/** Options of {@linkcode EyeballsAgent}: `http.AgentOptions` plus `race`. */
export interface EyeballsAgentOptions extends http.AgentOptions {
  /** How the agent's connects race. */
  readonly race?: AgentRaceSettings;
}

/** Options of {@linkcode EyeballsHttpsAgent}: `https.AgentOptions` plus `race`. */
export interface EyeballsHttpsAgentOptions extends https.AgentOptions {
  /** How the agent's connects race. */
  readonly race?: AgentRaceSettings;
}

type Created = (error: Error | null, socket: Duplex) => void;
type RequestOptions = http.ClientRequestArgs & Record<string, unknown>;

/** What a request's options say about the TCP connection, in the adapter's terms. */
function tcpOptions(options: RequestOptions, defaultPort: number, race: AgentRaceSettings): NodeConnectOptions {
  const family = options.family === 4 || options.family === 6 ? options.family : undefined;
  return {
    ...race,
    host: options.host ?? options.hostname ?? "localhost",
    port: options.port ?? defaultPort,
    ...(family !== undefined && { family }),
    ...(typeof options.localAddress === "string" && { localAddress: options.localAddress }),
    ...(typeof options.noDelay === "boolean" && { noDelay: options.noDelay }),
    ...(options.keepAlive === true && { keepAlive: true, keepAliveInitialDelay: Number(options.keepAliveMsecs ?? 0) }),
  };
}

/** Hands a connect's outcome to the Agent, arming its socket timeout as net.createConnection would. */
function handOver(connecting: Promise<net.Socket>, options: RequestOptions, created: Created): void {
  connecting.then((socket) => {
    if (typeof options.timeout === "number" && options.timeout > 0) socket.setTimeout(options.timeout);
    created(null, socket);
  }, (error) => created(error, undefined as never));
}

/**
 * An `http.Agent` that connects with eyeballs.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { EyeballsAgent } from "@eyeballs/connect/node";
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

  /** Races to the request's host and passes the winner to `created`; returns nothing (the Agent waits). */
  override createConnection(options: RequestOptions, created: Created): undefined {
    handOver(connect(tcpOptions(options, 80, this.#race)), options, created);
    return undefined;
  }
}

/**
 * An `https.Agent` that connects with eyeballs and runs TLS on the winner.
 * The Agent's TLS options (`ca`, `cert`, `key`, `rejectUnauthorized`,
 * `servername`, `ALPNProtocols`...) apply; SNI defaults to the host name.
 * TLS sessions are not resumed across connections (keep-alive reuse is).
 *
 * @example
 * ```ts
 * import https from "node:https";
 * import { EyeballsHttpsAgent } from "@eyeballs/connect/node";
 * const agent = new EyeballsHttpsAgent({ keepAlive: true });
 * https.get("https://example.com/", { agent }, (res) => res.resume());
 * ```
 */
export class EyeballsHttpsAgent extends https.Agent {
  readonly #race: AgentRaceSettings;

  constructor(options: EyeballsHttpsAgentOptions = {}) {
    const { race = {}, ...agentOptions } = options;
    super(agentOptions);
    this.#race = race;
  }

  /** Races, runs TLS on the winner and passes it to `created`; returns nothing (the Agent waits). */
  override createConnection(options: RequestOptions, created: Created): undefined {
    const tlsOptions: Record<string, unknown> = {};
    for (const key of TLS_KEYS) {
      if (options[key] !== undefined && options[key] !== null) tlsOptions[key] = options[key];
    }
    if (tlsOptions.servername === "") delete tlsOptions.servername; // Node's "no SNI" for an IP host
    const connecting = connectTls({ ...tcpOptions(options, 443, this.#race), ...tlsOptions } as NodeTlsOptions);
    handOver(connecting, options, created);
    return undefined;
  }
}
