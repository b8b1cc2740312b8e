/**
 * eyeballs under Node's clients, in Bun: `createConnection` (the stream
 * factory pg, mysql2 and ioredis take), `EyeballsAgent` /
 * `EyeballsHttpsAgent` for `node:http` / `node:https`, and `undiciConnector`
 * for npm undici. Bun runs them on its `node:net` and `node:tls`, so they are
 * the Node adapter's, with the same option names (`host`, as
 * `net.createConnection` and the clients spell it).
 *
 * A subpath of its own because these load `node:http` and `node:https`
 * (about 10 ms each in a fresh Bun process): `import { connect } from
 * "@eyeballs/connect/bun"` loads neither.
 *
 * @example
 * ```ts
 * import { createConnection } from "@eyeballs/connect/bun/clients";
 * const socket = createConnection({ host: "localhost", port: 6379 }, () => socket.end("PING\r\n"));
 * ```
 *
 * @module
 */

export {
  type AgentRaceSettings,
  createConnection,
  type CreateConnectionOptions,
  createLookup,
  EyeballsAgent,
  type EyeballsAgentOptions,
  EyeballsHttpsAgent,
  type EyeballsHttpsAgentOptions,
  EyeballsSocket,
  EyeballsTlsSocket,
  installLookup,
  type Lookup,
  lookup,
  type LookupAddress,
  type LookupCallback,
  type LookupOptions,
  type LookupSettings,
  type UndiciConnectCallback,
  type UndiciConnectOptions,
  undiciConnector,
  type UndiciConnectorOptions,
} from "./mod.ts";
