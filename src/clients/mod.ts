/**
 * eyeballs under Node's clients: `createConnection` (the stream factory pg,
 * mysql2 and ioredis take), `EyeballsAgent` / `EyeballsHttpsAgent` for
 * `node:http` / `node:https`, and `undiciConnector` for undici and `fetch`.
 *
 * A subpath of its own because these extend or load `node:http`,
 * `node:https`, `node:stream` and `node:tls`, which are slow to load in a
 * fresh process: `import { connect } from "@eyeballs/connect/node"` loads
 * none of them.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { EyeballsAgent } from "@eyeballs/connect/node/clients";
 * http.get("http://example.com/", { agent: new EyeballsAgent({ keepAlive: true }) }, (res) => res.resume());
 * ```
 *
 * @module
 */

export {
  createConnection,
  type CreateConnectionOptions,
  EyeballsSocket,
  EyeballsTlsSocket,
} from "./create_connection.ts";
export {
  type AgentRaceSettings,
  EyeballsAgent,
  type EyeballsAgentOptions,
  EyeballsHttpsAgent,
  type EyeballsHttpsAgentOptions,
} from "./agent.ts";
export {
  type UndiciConnectCallback,
  type UndiciConnectOptions,
  undiciConnector,
  type UndiciConnectorOptions,
} from "./undici.ts";
export {
  createLookup,
  installLookup,
  type Lookup,
  lookup,
  type LookupAddress,
  type LookupCallback,
  type LookupOptions,
  type LookupSettings,
} from "./lookup.ts";
