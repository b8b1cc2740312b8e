/**
 * Run by tests/lab/client_kinds.test.ts inside the lab's client namespace: one
 * kind of client, plugged into eyeballs with the one line docs/clients.md
 * shows for it, talks to a real server in the server namespace (Redis, or
 * python's http.server) and prints one JSON line: what the server answered,
 * or the error.
 *
 *   <runtime> client_kinds_client.(ts|js) <kind> <host> <http port> <redis port> <websocket port>
 *
 * @module
 */

import http from "node:http";
import { createRequire } from "node:module";
import process from "node:process";
import { connect } from "../../src/adapters/node/mod.ts";
import { createConnection, EyeballsAgent, lookup, undiciConnector } from "../../src/clients/mod.ts";

const [kind, host, httpPortText, redisPortText, wsPortText] = process.argv.slice(-5);
const httpPort = Number(httpPortText);
const redisPort = Number(redisPortText);
const url = `http://${host}:${httpPort}/`;
const require = createRequire(import.meta.url);
// By path: Bun answers the bare "undici" with its own stand-in, which has no connect hook.
const undici: typeof import("undici") = await import(require.resolve("undici/index.js"));

/** The status of a GET through `http`, with the socket's remote address. */
function httpGet(options: http.RequestOptions): Promise<{ answer: number; remoteAddress?: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 10_000, ...options }, (res) => {
      res.resume();
      res.on("end", () => resolve({ answer: res.statusCode!, remoteAddress: res.socket?.remoteAddress }));
    }).on("error", reject).on("timeout", function (this: http.ClientRequest) {
      this.destroy(new Error("the request timed out"));
    });
  });
}

const kinds: Record<string, () => Promise<{ answer: unknown; remoteAddress?: string }>> = {
  /** A socket factory: ioredis's Connector hands over eyeballs' socket at once; ioredis's own connectTimeout runs. */
  async "socket-factory"() {
    const { default: Redis, AbstractConnector } = require("ioredis") as typeof import("ioredis");
    class EyeballsConnector extends AbstractConnector {
      connect() {
        this.connecting = true;
        // ioredis types its stream as net.Socket; it uses only the net.Socket surface eyeballs' socket has.
        this.stream = createConnection({ host, port: redisPort }) as never;
        return Promise.resolve(this.stream);
      }
    }
    const redis = new Redis({ Connector: EyeballsConnector, connectTimeout: 10_000, maxRetriesPerRequest: 0 } as never);
    try {
      const answer = await redis.ping();
      return {
        answer,
        remoteAddress: (redis as unknown as { stream: { remoteAddress?: string } }).stream.remoteAddress,
      };
    } finally {
      redis.disconnect();
    }
  },
  /** A connected socket through a callback: http.request's createConnection(options, callback), agent-less. */
  callback: () =>
    httpGet({
      createConnection: ((_options: unknown, done: (error: Error | null, socket?: unknown) => void) => {
        connect({ host, port: httpPort, timeout: 10_000 }).then((socket) => done(null, socket), done);
        return undefined;
      }) as never,
    }),
  /** An agent: http's requests race through EyeballsAgent. */
  async agent() {
    const agent = new EyeballsAgent();
    try {
      return await httpGet({ agent });
    } finally {
      agent.destroy();
    }
  },
  /** An agent under a WebSocket library: ws's handshake request goes through EyeballsAgent. */
  async "websocket-agent"() {
    // By path, as undici: Bun answers the bare "ws" with its own stand-in.
    const { default: WebSocket } = await import(require.resolve("ws")) as typeof import("ws");
    const agent = new EyeballsAgent();
    const ws = new WebSocket(`ws://${host}:${wsPortText}/`, { agent, handshakeTimeout: 10_000 });
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        ws.once("open", () => ws.send("ping"));
        ws.once("message", (data) => resolve(String(data)));
        ws.once("error", reject);
      });
      return {
        answer,
        remoteAddress: (ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress,
      };
    } finally {
      ws.terminate();
      agent.destroy();
    }
  },
  /** undici as the global dispatcher: Node's own fetch goes through it; Deno and Bun have their own fetch, so undici's. */
  async "global-dispatcher"() {
    const dispatcher = new undici.Agent({ connect: undiciConnector() });
    undici.setGlobalDispatcher(dispatcher);
    try {
      const fetch = process.versions.bun || process.versions.deno ? undici.fetch : globalThis.fetch;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return { answer: res.status };
    } finally {
      await dispatcher.close();
    }
  },
  /** lookup only: node-redis spreads its socket options into net.createConnection. */
  async "lookup-redis"() {
    const { createClient } = require("@redis/client") as typeof import("@redis/client");
    const client = createClient({
      socket: { host, port: redisPort, lookup, connectTimeout: 10_000, reconnectStrategy: false },
    });
    client.on("error", () => {}); // the failure is the connect's rejection
    await client.connect();
    try {
      return { answer: await client.ping() };
    } finally {
      client.destroy();
    }
  },
  /** lookup only: http.request. */
  "lookup-http": () => httpGet({ lookup: lookup as never, agent: false }),
  /** lookup only: undici's connect options. */
  async "lookup-undici"() {
    const dispatcher = new undici.Agent({ connect: { lookup: lookup as never, timeout: 10_000 } });
    try {
      const res = await undici.request(url, { dispatcher });
      await res.body.arrayBuffer();
      return { answer: res.statusCode };
    } finally {
      await dispatcher.close();
    }
  },
};

const run = kinds[kind];
if (!run) throw new Error(`kind must be one of ${Object.keys(kinds).join(", ")}, got ${kind}`);
try {
  console.log(JSON.stringify(await run()));
} catch (error) {
  console.log(JSON.stringify({ error: String((error as Error)?.stack ?? error) }));
  process.exitCode = 1;
}
