/**
 * The differential suite: one table of scripts, each run against
 * `net.createConnection` and eyeballs' `createConnection` on a loopback
 * server; the sequences of events and the end states must be the same.
 * A row may name a difference, and only one that docs/clients.md documents.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createConnection } from "../../src/clients/create_connection.ts";
import { startFullQueueListener } from "../../scripts/full_queue.ts";
import { runtime } from "../helpers/cli_entry.ts";

/** Either factory, called as a client calls `net.createConnection`. */
type Factory = (options: Record<string, unknown>, listener?: () => void) => net.Socket;

const FACTORIES: Record<"net" | "eyeballs", Factory> = {
  net: (options, listener) => net.createConnection(options as unknown as net.NetConnectOpts, listener),
  eyeballs: (options, listener) =>
    createConnection(options as unknown as Parameters<typeof createConnection>[0], listener) as unknown as net.Socket,
};

/** What the server does with each connection. */
type ServerKind =
  | "echo" // echoes, and ends when the client ends
  | "closes" // ends the connection at once (FIN), without a byte
  | "greets" // sends "hello\n", then echoes
  | "silent" // accepts and waits
  | "refused" // nothing listens on the port
  | "blackhole"; // SYNs are dropped: the connect never completes

/** One row of the table. */
interface Row {
  readonly name: string;
  readonly server: ServerKind;
  /** Options besides `host` and `port`. */
  readonly options?: Record<string, unknown>;
  /** Reads the data (a 'data' listener); by default nobody reads. */
  readonly reads?: boolean;
  /** `signal`: a live one the script may abort, or one aborted before the call. */
  readonly signal?: "live" | "aborted";
  /** Drives the socket right after the factory returned it. */
  readonly script?: (socket: net.Socket, controller: AbortController) => void | Promise<void>;
  /** How long to wait for 'close' before taking the end state (the socket may rightly stay open). Default 2000. */
  readonly settleMs?: number;
  /** The end state to compare, besides `destroyed`. */
  readonly state?: (socket: net.Socket, port: number) => Record<string, unknown>;
}

/** A server of one kind on 127.0.0.1, and how to stop it. */
async function startServer(kind: ServerKind): Promise<{ port: number; stop(): Promise<void> }> {
  if (kind === "blackhole") {
    const listener = await startFullQueueListener("127.0.0.1");
    return { port: listener.port, stop: () => listener.stop() };
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    if (kind === "closes") socket.end();
    if (kind === "greets") socket.write("hello\n");
    if (kind === "echo" || kind === "greets") socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const stop = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  if (kind === "refused") await stop();
  return { port, stop };
}

/** The events a script saw, in order, and the socket's end state. */
interface Outcome {
  events: string[];
  state: Record<string, unknown>;
}

const LISTENED = ["lookup", "connect", "ready", "end", "finish", "timeout", "error", "close"] as const;

/** Runs one row against one factory. */
async function play(row: Row, factory: Factory): Promise<Outcome> {
  const server = await startServer(row.server);
  const events: string[] = [];
  let socket: net.Socket | undefined;
  try {
    const controller = new AbortController();
    const signal = row.signal === "aborted" ? AbortSignal.abort(new Error("gave up before")) : controller.signal;
    socket = factory({ host: "127.0.0.1", port: server.port, ...row.options, ...(row.signal && { signal }) });
    const s = socket;
    const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
    for (const name of LISTENED) {
      s.on(name, (arg: unknown) => {
        if (name === "error") events.push(`error ${(arg as { code?: string }).code ?? (arg as Error).name}`);
        else if (name === "close") events.push(arg ? "close (error)" : "close");
        else events.push(name);
      });
    }
    if (row.reads) {
      s.on("data", () => {
        if (events.at(-1) !== "data") events.push("data");
      });
    }
    await row.script?.(s, controller);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, row.settleMs ?? 2000)))]);
    clearTimeout(timer);
    const state = { destroyed: s.destroyed, ...row.state?.(s, server.port) };
    return { events: [...events], state }; // not the closing's events, which follow
  } finally {
    socket?.destroy();
    await server.stop();
  }
}

/** The table. Rows are added per behaviour; each says what both factories must do alike. */
const ROWS: readonly Row[] = [
  {
    name: "the peer closes and nobody reads: 'end', then the socket ends its side and closes",
    server: "closes",
    state: (s) => ({ readyState: s.readyState }),
  },
  {
    name: "end() while connecting: it connects, sends its FIN and closes",
    server: "echo",
    script: (s) => void s.end(),
    state: (s) => ({ readyState: s.readyState, connecting: s.connecting }),
  },
  {
    name: "end(data) while connecting: the data goes out, then the FIN",
    server: "echo",
    reads: true,
    script: (s) => void s.end("bye\n"),
    state: (s) => ({ bytesWritten: s.bytesWritten, bytesRead: s.bytesRead }),
  },
  {
    name: "an abort after connect destroys the socket with an AbortError",
    server: "silent",
    signal: "live",
    script: async (s, controller) => {
      await new Promise((resolve) => s.once("connect", resolve));
      controller.abort(new Error("the caller gave up"));
    },
  },
];

describe("createConnection vs net.createConnection", () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const expected = await play(row, FACTORIES.net);
      const actual = await play(row, FACTORIES.eyeballs);
      assert.deepEqual(actual, expected);
    });
  }

  // Bun 1.4.4's own net.Socket keeps the process alive while connecting, unref'd or not (docs/known-limits.md).
  const unrefSkip = runtime === "bun" && "Bun's net.Socket.unref() does not release a connecting socket";
  it("unref() while the race is on lets the process exit, as net's does", { skip: unrefSkip }, async () => {
    const blackhole = await startFullQueueListener("127.0.0.1");
    after(() => blackhole.stop());
    for (const which of ["net", "eyeballs"] as const) {
      assert.equal(await exits(which, blackhole.port), "exited", `${which}: the process stays alive`);
    }
  });
});

/** This file's twin that runs one unref'd connect in a process of its own. */
const CHILD = fileURLToPath(
  new URL(`./create_connection_unref_child.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
);

/** Starts the child; "exited" when it exits by itself within 8 s (it would stay a minute if held). */
function exits(which: "net" | "eyeballs", port: number): Promise<"exited" | "alive"> {
  const args = runtime === "deno" ? ["run", "-A", CHILD] : [CHILD];
  const child = spawn(process.execPath, [...args, which, String(port)], { stdio: ["ignore", "inherit", "inherit"] });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill();
      resolve("alive");
    }, 8000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve("exited");
    });
  });
}
