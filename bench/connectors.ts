/**
 * The connects the benchmark compares, for whichever runtime runs this file
 * (Deno, Bun, or Node from the compiled copy): eyeballs through its adapter,
 * and the runtime's own connect on the same host and port.
 *
 * Runtime globals are reached through `globalThis` so that the file compiles
 * for Node without Deno's or Bun's type declarations.
 *
 * @module
 */

import net from "node:net";

/** The runtime executing this code. */
export type RuntimeName = "deno" | "bun" | "node";

/** An open connection, reduced to what the benchmark needs. */
export interface Opened {
  /** The peer address it reached (for "which family won"). */
  readonly address: string;
  /** Closes it; never throws. */
  close(): void;
}

/**
 * Opens one connection to `host:port`. `timeoutMs` caps the connect (the
 * promise rejects with an error named "TimeoutError"); undefined means no cap.
 */
export type Connector = (host: string, port: number, timeoutMs?: number) => Promise<Opened>;

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** Which runtime this is. */
export function runtimeName(): RuntimeName {
  if (g.Deno?.version?.deno) return "deno";
  if (g.Bun?.version) return "bun";
  return "node";
}

/** The runtime's version string, e.g. "deno 2.9.6". */
export function runtimeVersion(): string {
  const rt = runtimeName();
  if (rt === "deno") return `deno ${g.Deno.version.deno}`;
  if (rt === "bun") return `bun ${g.Bun.version}`;
  return `node ${process.version.replace(/^v/, "")}`;
}

/** Node's Happy Eyeballs defaults as this runtime's `node:net` reports them (null where absent). */
export function netDefaults(): { autoSelectFamily: boolean | null; attemptTimeout: number | null } {
  const n = net as unknown as {
    getDefaultAutoSelectFamily?: () => boolean;
    getDefaultAutoSelectFamilyAttemptTimeout?: () => number;
  };
  return {
    autoSelectFamily: n.getDefaultAutoSelectFamily?.() ?? null,
    attemptTimeout: n.getDefaultAutoSelectFamilyAttemptTimeout?.() ?? null,
  };
}

function timeoutError(ms: number): Error {
  const e = new Error(`connect timed out after ${ms} ms`);
  e.name = "TimeoutError";
  return e;
}

/** Strips the v4-mapped prefix some runtimes report. */
function plain(address: string | undefined): string {
  return (address ?? "?").replace(/^::ffff:(?=\d+\.)/, "");
}

/** `net.connect` with the runtime's defaults (Node: autoSelectFamily as configured). */
function netConnect(extra: Partial<net.NetConnectOpts> = {}): Connector {
  return (host, port, timeoutMs) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, ...extra } as net.NetConnectOpts);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        socket.off("connect", onConnect);
        socket.off("error", onError);
      };
      const onConnect = () => {
        done();
        resolve({ address: plain(socket.remoteAddress), close: () => socket.destroy() });
      };
      const onError = (err: Error) => {
        done();
        socket.destroy();
        reject(err);
      };
      socket.on("connect", onConnect);
      socket.on("error", onError);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          socket.destroy();
          reject(timeoutError(timeoutMs));
        }, timeoutMs);
      }
    });
}

/** What a connector returns for a Deno connection, native or eyeballs'. */
function denoConnected(conn: { remoteAddr: { hostname: string }; close(): void }): Opened {
  return {
    address: plain(conn.remoteAddr.hostname),
    close: () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** `Deno.connect({ hostname, port })`, capped through its `signal` option. */
const denoNative: Connector = async (hostname, port, timeoutMs) => {
  try {
    const conn = await g.Deno.connect({
      hostname,
      port,
      signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
    });
    return denoConnected(conn);
  } catch (e) {
    if (e instanceof Error && e.name === "TimeoutError") throw timeoutError(timeoutMs!);
    throw e;
  }
};

/**
 * `Bun.connect`. It cannot be cancelled, so the cap only stops waiting: the
 * caller must end the process after a timeout (see client.ts).
 */
const bunNative: Connector = (hostname, port, timeoutMs) => {
  const pending: Promise<{ remoteAddress?: string; terminate?: () => void; end: () => void }> = g.Bun
    .connect({
      hostname,
      port,
      socket: { open() {}, data() {}, close() {}, error() {}, connectError() {} },
    });
  const opened = pending.then((s) => ({
    address: plain(s.remoteAddress),
    close: () => {
      try {
        (s.terminate ?? s.end).call(s);
      } catch { /* already closed */ }
    },
  }));
  if (timeoutMs === undefined) return opened;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const capped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(timeoutMs)), timeoutMs);
  });
  return Promise.race([opened, capped]).finally(() => clearTimeout(timer));
};

/**
 * The eyeballs adapter for this runtime, as a {@link Connector}. `history`:
 * `off` turns history off, a file name uses a FileHistory there, undefined
 * keeps the library's default (in memory, per process).
 */
export async function eyeballsConnector(history?: string): Promise<Connector> {
  const rt = runtimeName();
  if (rt === "deno") {
    const { connect, FileHistory } = await import("../src/adapters/deno/mod.ts");
    const settings = historySetting(history, FileHistory);
    return async (hostname, port, timeout) => {
      return denoConnected(await connect({ hostname, port, timeout, ...settings }));
    };
  }
  if (rt === "bun") {
    const { connect, FileHistory } = await import("../src/adapters/bun/mod.ts");
    const settings = historySetting(history, FileHistory);
    return async (hostname, port, timeout) => {
      const socket = await connect({ hostname, port, timeout, ...settings });
      return { address: plain(socket.remoteAddress), close: () => socket.destroy() };
    };
  }
  const { connect, FileHistory } = await import("../src/adapters/node/mod.ts");
  const settings = historySetting(history, FileHistory);
  return async (host, port, timeout) => {
    const socket = await connect({ host, port, timeout, ...settings });
    return { address: plain(socket.remoteAddress), close: () => socket.destroy() };
  };
}

/** The `history` option for a client's HISTORY argument. */
function historySetting<H>(history: string | undefined, FileHistory: new (path: string) => H): { history?: H | false } {
  if (history === undefined || history === "") return {};
  return { history: history === "off" ? false : new FileHistory(history) };
}

/** The host as the runtime's adapter names it (`host` for Node, `hostname` for Bun), which refuses the other name. */
export function hostOption(runtime: RuntimeName, host: string): { host: string } | { hostname: string } {
  return runtime === "node" ? { host } : { hostname: host };
}

/** The runtime's own connect: `Deno.connect`, `Bun.connect`, or Node's `net.connect`. */
export function nativeConnector(): Connector {
  const rt = runtimeName();
  if (rt === "deno") return denoNative;
  if (rt === "bun") return bunNative;
  return netConnect();
}

/**
 * `node:net` dialing one address without Happy Eyeballs: what the Node and
 * Bun adapters use per attempt, so the fair baseline for their overhead.
 */
export const netSingle: Connector = netConnect({ autoSelectFamily: false });

/** Ends the process now (pending uncancellable connects must not keep it alive). */
export function exit(code: number): never {
  if (runtimeName() === "deno") g.Deno.exit(code);
  process.exit(code);
}
