/**
 * Node's client hooks under Bun: Bun runs them on its `node:net` and
 * `node:tls`, so they are the Node adapter's, with the same option names
 * (`host`, as `net.createConnection` and the clients spell it).
 *
 * @module
 */

export { createConnection, type CreateConnectionOptions, EyeballsSocket } from "../node/create_connection.ts";
export {
  type AgentRaceSettings,
  EyeballsAgent,
  type EyeballsAgentOptions,
  EyeballsHttpsAgent,
  type EyeballsHttpsAgentOptions,
} from "../node/agent.ts";
export {
  type UndiciConnectCallback,
  type UndiciConnectOptions,
  undiciConnector,
  type UndiciConnectorOptions,
} from "../node/undici.ts";
