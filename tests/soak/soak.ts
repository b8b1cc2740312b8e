/**
 * The leak soak: many races on loopback through the real adapters, with
 * aborts at random moments and a mix of refused, dead (full accept queue)
 * and live (banner server) addresses, a few races at a time so that they
 * overlap. The process's file descriptors and, where the runtime can tell,
 * its handles are counted before and after: nothing may leak.
 *
 * Runs unchanged on Deno, Bun and Node (from the npm build). Used reduced by
 * soak.test.ts and full size by scripts/soak.ts (through run.ts).
 *
 * Only 127.0.0.1 and ::1 are ever dialled.
 */

import { readdirSync, readlinkSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { startFullQueueListener } from "../../scripts/full_queue.ts";
import { connect as nodeConnect } from "../../src/adapters/node/mod.ts";
import { denoDialer, systemResolver } from "../../src/adapters/deno/mod.ts";
import { connect } from "../../src/connect/connect.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { Family, Resolver } from "../../src/base/types.ts";
import { openFds, startBannerServer } from "../helpers/loopback.ts";

/** What an address does when dialled. */
export type State = "live" | "dead" | "refused";

/** Which adapter a soak goes through. */
export type AdapterName = "node" | "deno";

/** How a soak runs. */
export interface SoakOptions {
  /** How many races in all. */
  readonly races: number;
  /** How many races run at once. Default 20. */
  readonly concurrency?: number;
  /** Seed of the PRNG that picks every race's scenario. Default: a random one (reported). */
  readonly seed?: number;
  /** The adapter to race through. */
  readonly adapter: AdapterName;
}

/** Handle counts by kind, e.g. { TCPSocketWrap: 2 }; undefined where the runtime cannot say. */
export type Handles = Record<string, number> | undefined;

/** What a soak measured. */
export interface SoakReport {
  readonly runtime: string;
  readonly adapter: AdapterName;
  readonly races: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly won: number;
  readonly failed: number;
  readonly aborted: number;
  readonly timedOut: number;
  /** Winners the soak closed (must equal `won`). */
  readonly winnersClosed: number;
  /** Errors that reached the top level (e.g. a socket "error" event with no listener). */
  readonly uncaught: number;
  /** Attempts started, over all races (from onEvent). */
  readonly attempts: number;
  readonly fdsBefore: number | undefined;
  readonly fdsAfter: number | undefined;
  /** Fds open after but not before, with what they point at (for a leak's diagnosis). */
  readonly newFds: readonly string[];
  readonly handlesBefore: Handles;
  readonly handlesAfter: Handles;
  /** How handles were counted, or why they were not. */
  readonly handleSource: string;
  /** The races alone, from the baseline to the last race's end. */
  readonly seconds: number;
  /** Everything: listeners up, warm-up, races, settling, teardown. */
  readonly wallSeconds: number;
  /** Anything that should not happen: a wrong winner, an odd error, an unclosable winner. */
  readonly unexpected: readonly string[];
  /** Connections the dialer returned that nobody closed (Deno adapter: counted exactly). */
  readonly unclosed: number;
  /**
   * Connections Deno.connect opened but never returned: it checks its signal
   * after connecting and drops the connection, unclosed, when the abort
   * landed in between (a Deno 2.9 bug). Each holds 2 fds here (the client's
   * and the banner server's side), and nothing of eyeballs can reach it.
   */
  readonly droppedByDeno: number;
}

/** The runtime this code runs on. */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}

/**
 * A small seeded PRNG (xorshift32): the same seed gives the same sequence of
 * scenarios on every runtime, so a failing soak can be replayed.
 */
export function prng(seed: number): () => number {
  let x = (seed >>> 0) || 0x9e3779b9; // xorshift is stuck at 0
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** Bun's heap statistics (bun:jsc), loaded by {@linkcode loadBunStats} under Bun only. */
let bunStats: { heapStats(): { objectTypeCounts: Record<string, number> } } | undefined;

/** Loads bun:jsc under Bun; a no-op elsewhere. The specifier is a variable so other runtimes never resolve it. */
export async function loadBunStats(): Promise<void> {
  if (!("Bun" in globalThis) || bunStats) return;
  const specifier = "bun:jsc";
  bunStats = await import(specifier).catch(() => undefined);
}

/** Native socket objects Bun keeps, counted after a full GC: what Bun can tell in place of handles. */
const BUN_KINDS = /^(TCPSocket|TLSSocket|Listener|SocketHandlers)$/;

/** Handles the runtime reports, tallied by kind. */
export function countHandles(): { handles: Handles; source: string } {
  const tally = (names: string[], into: Record<string, number> = {}) => {
    for (const name of names) into[name] = (into[name] ?? 0) + 1;
    return into;
  };
  const g = globalThis as {
    Deno?: { internal?: symbol } & Record<symbol, { core?: { resources?: () => Record<string, string> } }>;
    Bun?: { gc(force: boolean): void };
  };
  if (g.Bun) {
    // Bun's getActiveResourcesInfo() and _getActiveHandles() are stubs that return [].
    if (!bunStats) return { handles: undefined, source: "none: bun:jsc did not load" };
    g.Bun.gc(true);
    const handles: Record<string, number> = {};
    for (const [kind, n] of Object.entries(bunStats.heapStats().objectTypeCounts)) {
      if (BUN_KINDS.test(kind)) handles[kind] = n;
    }
    return {
      handles,
      source: "bun:jsc heapStats() socket objects after Bun.gc(true) (getActiveResourcesInfo() is a stub)",
    };
  }
  const info = typeof process.getActiveResourcesInfo === "function" ? process.getActiveResourcesInfo() : undefined;
  if (g.Deno) {
    // Deno 2 removed Deno.resources; its resource table is only reachable through Deno[Deno.internal].
    const internal = g.Deno.internal;
    const resources = internal ? g.Deno[internal]?.core?.resources?.() : undefined;
    const handles = tally(info ?? []);
    if (resources) tally(Object.values(resources).map((r) => `rid:${r}`), handles);
    return {
      handles,
      source: "process.getActiveResourcesInfo() + Deno[Deno.internal].core.resources() (internal API)",
    };
  }
  return info ? { handles: tally(info), source: "process.getActiveResourcesInfo()" } : {
    handles: undefined,
    source: "none: process.getActiveResourcesInfo() is missing",
  };
}

/** What each open fd points at ("socket:[123]", "pipe:[45]"...), or undefined without /proc. */
function fdTargets(): Map<string, string> | undefined {
  try {
    const targets = new Map<string, string>();
    for (const fd of readdirSync("/proc/self/fd")) {
      try {
        targets.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
      } catch {
        // closed while listing (the listing's own fd)
      }
    }
    return targets;
  } catch {
    return undefined;
  }
}

/** Drops kinds counted 0, as the runtimes list only kinds that exist. */
const withoutZeros = (h: Handles): Handles => h && Object.fromEntries(Object.entries(h).filter(([, n]) => n !== 0));

const sameHandles = (a: Handles, b: Handles) =>
  a === undefined || b === undefined ||
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One port on which ::1 and 127.0.0.1 each behave as `states` says. */
interface Place {
  readonly port: number;
  readonly states: Record<Family, State>;
}

/** A port free on both loopback addresses (nothing listens, so a connect is refused). */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const other = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      other.once("error", () => resolve(false));
      other.listen({ host: "::1", port }, () => resolve(true));
    });
    if (ok) await new Promise((resolve) => other.close(resolve));
    if (ok) return port;
  }
  throw new Error("no port free on both 127.0.0.1 and ::1");
}

/** Sets up every combination of states for ::1 and 127.0.0.1; returns the places and a teardown. */
async function startPlaces(): Promise<{ places: Place[]; stop(): Promise<void> }> {
  for (let tries = 1;; tries++) {
    try {
      return await startPlacesOnce();
    } catch (e) {
      // Places are set up in parallel, so two may pick the same free port: rare, and worth a retry.
      if (tries === 3) throw e;
    }
  }
}

async function startPlacesOnce(): Promise<{ places: Place[]; stop(): Promise<void> }> {
  const states: State[] = ["live", "dead", "refused"];
  const stops: Array<() => Promise<void>> = [];
  const places: Place[] = [];
  const host = (family: Family) => (family === 6 ? "::1" : "127.0.0.1");
  const listen = async (family: Family, state: State, port: number): Promise<number> => {
    if (state === "live") {
      const server = await startBannerServer(host(family), port);
      stops.push(() => server.close());
      return server.port;
    }
    const dead = await startFullQueueListener(host(family), port);
    stops.push(() => dead.stop());
    return dead.port;
  };
  const setUp = async (s6: State, s4: State): Promise<Place> => {
    let port: number;
    if (s6 === "refused") port = s4 === "refused" ? await freePort() : await listen(4, s4, await freePort());
    else {
      port = await listen(6, s6, await freePort());
      if (s4 !== "refused") await listen(4, s4, port);
    }
    return { port, states: { 6: s6, 4: s4 } };
  };
  try {
    // In parallel (each python child takes about a second to start); the port nobody
    // listens on is picked last, so that no other place can land on it.
    const busy = states.flatMap((s6) => states.map((s4) => [s6, s4])).filter(([s6, s4]) =>
      s6 !== s4 || s6 !== "refused"
    );
    // allSettled: on a failure, every listener still starting must be up (and in stops) before the teardown.
    for (const result of await Promise.allSettled(busy.map(([s6, s4]) => setUp(s6, s4)))) {
      if (result.status === "rejected") throw result.reason;
      places.push(result.value);
    }
    places.push(await setUp("refused", "refused"));
    if (new Set(places.map((p) => p.port)).size !== places.length) throw new Error("two places share a port");
  } catch (e) {
    await Promise.all(stops.map((stop) => stop()));
    throw e;
  }
  return { places, stop: async () => void await Promise.all(stops.map((stop) => stop())) };
}

/** One race's scenario, drawn from the PRNG. */
interface Scenario {
  readonly place: Place;
  /** "name" resolves both families through the soak's resolver; otherwise an IP literal. */
  readonly host: "name" | "127.0.0.1" | "::1";
  readonly preferredFamily: Family;
  readonly delay: number;
  readonly timeout: number;
  /** Per family: how long the resolver takes (0: at once, in the same turn). */
  readonly lookupMs: Record<Family, number>;
  /** When the soak aborts: undefined for never, -1 in the same turn as the call, else ms. */
  readonly abortAt: number | undefined;
}

function draw(random: () => number, places: readonly Place[]): Scenario {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const r = random();
  const abortRoll = random();
  return {
    place: pick(places),
    host: r < 0.7 ? "name" : r < 0.85 ? "127.0.0.1" : "::1",
    preferredFamily: random() < 0.5 ? 6 : 4,
    delay: 10 + Math.floor(random() * 40),
    timeout: 20 + Math.floor(random() * 130),
    lookupMs: { 6: pick([0, 0, 1, 3, 8]), 4: pick([0, 0, 1, 3, 8]) },
    abortAt: abortRoll < 0.6 ? undefined : abortRoll < 0.65 ? -1 : Math.floor(random() * 120),
  };
}

/** A resolver for the soak's name that answers after `lookupMs` and honours the signal. */
function soakResolver(lookupMs: Record<Family, number>): Resolver {
  return {
    resolve: (_name, family, signal) =>
      new Promise((resolve, reject) => {
        const answer = [family === 6 ? "::1" : "127.0.0.1"];
        if (signal.aborted) return reject(signal.reason);
        if (lookupMs[family] === 0) return resolve(answer);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal.reason);
        };
        const timer = setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve(answer);
        }, lookupMs[family]);
        signal.addEventListener("abort", onAbort, { once: true });
      }),
  };
}

/** An adapter as the soak uses it: connect, and close what was won. */
interface Under<Conn> {
  connect(options: Record<string, unknown> & { host: string; port: number }): Promise<Conn>;
  /** Closes a winner; returns whether it is closed now. */
  close(conn: Conn): boolean;
  /** Connections the dialer returned and nobody has closed yet, where the soak can count them. */
  unclosed(): number;
}

function adapterUnderSoak(name: AdapterName): Under<unknown> {
  if (name === "node") {
    const under: Under<net.Socket> = {
      connect: ({ host, port, ...rest }) => nodeConnect({ host, port, ...rest }),
      close: (socket) => (socket.destroy(), socket.destroyed),
      unclosed: () => 0, // destroyed sockets show in the fd and handle counts
    };
    return under as Under<unknown>;
  }
  if (!("Deno" in globalThis)) throw new Error("the deno adapter runs only under Deno");
  // The Deno adapter's own parts, with its dialer counted: every connection Deno.connect
  // returns must be closed, by the race or by the soak, which tells our leaks from Deno's.
  const open = new Set<Deno.TcpConn>();
  const dialer = {
    dial: (target: Parameters<typeof denoDialer.dial>[0], signal: AbortSignal) =>
      denoDialer.dial(target, signal).then((conn) => (open.add(conn), conn)),
    close: (conn: Deno.TcpConn) => (open.delete(conn), denoDialer.close(conn)),
  };
  const under: Under<Deno.TcpConn> = {
    connect: ({ host, port, resolver, ...rest }) =>
      connect({ hostname: host, port, dialer, resolver: (resolver as Resolver) ?? systemResolver, ...rest })
        .then(({ conn }) => conn),
    close: (conn) => {
      open.delete(conn);
      conn.close();
      try {
        conn.close(); // a second close must throw BadResource: proof the first one worked
        return false;
      } catch {
        return true;
      }
    },
    unclosed: () => open.size,
  };
  return under as Under<unknown>;
}

/**
 * Waits until the fd count and the handles are back to the baseline
 * (closing is asynchronous in some runtimes), for up to `maxMs`.
 */
async function settleTo(fds: number | undefined, handles: Handles, maxMs = 5000) {
  const started = Date.now();
  for (;;) {
    const nowFds = openFds();
    const nowHandles = countHandles().handles;
    const done = (fds === undefined || nowFds === undefined || nowFds <= fds) && sameHandles(handles, nowHandles);
    if (done || Date.now() - started > maxMs) return { fds: nowFds, handles: nowHandles };
    await sleep(50);
  }
}

/** Outcome tallies of a batch of races. */
type Counts = ReturnType<typeof newCounts>;
const newCounts = () => ({ won: 0, failed: 0, aborted: 0, timedOut: 0, winnersClosed: 0, attempts: 0, uncaught: 0 });

/** Runs the soak and reports what it measured; never throws for a leak (the caller judges). */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const concurrency = options.concurrency ?? 20;
  const seed = options.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
  const random = prng(seed);
  const wallStarted = performance.now();
  const under = adapterUnderSoak(options.adapter);
  await loadBunStats();
  const { places, stop } = await startPlaces();
  const counts = newCounts();
  const unexpected: string[] = [];
  const leaked: string[] = [];
  let before: { fds: number | undefined; handles: Handles } = { fds: undefined, handles: undefined };
  let after = before;
  let source = "";
  let seconds = 0;
  // An error nobody listens for (a socket's late "error" event) would kill the process:
  // count it as a problem instead, with its message, so the run can finish and say so.
  const onUncaught = (error: unknown) => {
    counts.uncaught++;
    if (counts.uncaught <= 5) unexpected.push(`uncaught: ${(error as Error)?.stack ?? String(error)}`);
  };
  process.on("uncaughtException", onUncaught);
  try {
    const one = async (index: number, scenario: Scenario, counts: Counts) => {
      const { place } = scenario;
      const controller = new AbortController();
      const reason = new Error(`soak abort ${index}`);
      let abortTimer: ReturnType<typeof setTimeout> | undefined;
      const pending = under.connect({
        host: scenario.host === "name" ? "soak.test" : scenario.host,
        port: place.port,
        resolver: soakResolver(scenario.lookupMs),
        preferredFamily: scenario.preferredFamily,
        schedule: fixedDelay(scenario.delay),
        timeout: scenario.timeout,
        signal: controller.signal,
        onEvent: (e: { type: string }) => void (e.type === "attempt-start" && counts.attempts++),
      });
      if (scenario.abortAt === -1) controller.abort(reason);
      else if (scenario.abortAt !== undefined) {
        abortTimer = setTimeout(() => controller.abort(reason), scenario.abortAt);
      }
      const families: Family[] = scenario.host === "name" ? [6, 4] : [scenario.host === "::1" ? 6 : 4];
      try {
        const conn = await pending;
        counts.won++;
        const address = (conn as { remoteAddress?: string; remoteAddr?: { hostname: string } }).remoteAddress ??
          (conn as { remoteAddr?: { hostname: string } }).remoteAddr?.hostname;
        const family: Family = address?.includes(":") ? 6 : 4;
        if (place.states[family] !== "live") {
          unexpected.push(`race ${index}: won on ${address}, which is ${place.states[family]}`);
        }
        if (under.close(conn)) counts.winnersClosed++;
        else unexpected.push(`race ${index}: the winner did not close`);
      } catch (error) {
        const e = error as AggregateError;
        if (error === reason) counts.aborted++;
        else if (e?.name === "ConnectError" && error instanceof AggregateError) {
          const timedOut = /^timed out after \d+ ms/.test(e.message);
          if (timedOut) counts.timedOut++;
          else counts.failed++;
          // Only refusals can end a race early with no winner: a live address would have won.
          if (!timedOut && families.some((f) => place.states[f] !== "refused")) {
            unexpected.push(`race ${index}: failed although ${JSON.stringify(place.states)}: ${e.message}`);
          }
          if (e.errors.length === 0 || !e.message.includes(`port ${place.port}`)) {
            unexpected.push(`race ${index}: an error that names no address: ${e.message}`);
          }
        } else unexpected.push(`race ${index}: unexpected ${e?.name}: ${e?.message ?? String(error)}`);
      } finally {
        clearTimeout(abortTimer);
      }
    };

    /** Runs `races` races, `concurrency` at a time, drawing scenarios in race order. */
    const batch = async (races: number, random: () => number, counts: Counts) => {
      let next = 0;
      const worker = async () => {
        while (next < races) {
          const index = next++;
          await one(index, draw(random, places), counts); // drawn in index order, so the seed replays
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, races) }, worker));
    };

    // A warm-up first: runtimes allocate some internals (Bun a pipe, thread pools) on
    // first use and keep them; those are not leaks, so the baseline comes after.
    await batch(Math.min(40, options.races), prng(seed ^ 0x5eed), newCounts());
    await sleep(100); // let the setup's and warm-up's own closes finish before the baseline
    before = { fds: openFds(), handles: countHandles().handles };
    const targetsBefore = fdTargets();
    source = countHandles().source;
    const started = performance.now();
    await batch(options.races, random, counts);
    seconds = (performance.now() - started) / 1000;
    after = await settleTo(before.fds, before.handles);
    const targetsAfter = fdTargets();
    if (targetsBefore && targetsAfter) {
      for (const [fd, target] of targetsAfter) {
        if (targetsBefore.get(fd) !== target) leaked.push(`fd ${fd} -> ${target}`);
      }
    }
  } finally {
    process.off("uncaughtException", onUncaught);
    await stop();
  }
  const unclosed = under.unclosed();
  return {
    runtime: runtimeName(),
    adapter: options.adapter,
    races: options.races,
    concurrency,
    seed,
    ...counts,
    fdsBefore: before.fds,
    fdsAfter: after.fds,
    handlesBefore: before.handles,
    handlesAfter: after.handles,
    handleSource: source,
    newFds: leaked,
    seconds,
    wallSeconds: (performance.now() - wallStarted) / 1000,
    unexpected,
    unclosed,
    // Only when every returned connection was closed can an extra connection resource be Deno's own drop.
    droppedByDeno: unclosed === 0
      ? Math.max(0, countOf(after.handles, "rid:tcpStream") - countOf(before.handles, "rid:tcpStream"))
      : 0,
  };
}

const countOf = (handles: Handles, kind: string) => handles?.[kind] ?? 0;

/** Everything wrong with a report: leaks, miscounts, unexpected outcomes. Empty when clean. */
export function problems(r: SoakReport): string[] {
  const found: string[] = [];
  if (r.unclosed) found.push(`${r.unclosed} connections the dialer returned were never closed`);
  // What Deno.connect dropped is Deno's (see droppedByDeno); anything beyond it is a leak.
  const dropped = r.droppedByDeno;
  const expected = r.fdsBefore === undefined ? undefined : r.fdsBefore + 2 * dropped;
  if (expected !== undefined && r.fdsAfter !== expected) {
    found.push(`file descriptors: ${r.fdsBefore} before, ${r.fdsAfter} after (${dropped} dropped by Deno.connect)`);
  }
  const handlesAfter = dropped && r.handlesAfter
    ? {
      ...r.handlesAfter,
      "rid:tcpStream": countOf(r.handlesAfter, "rid:tcpStream") - dropped,
      TCPSocketWrap: countOf(r.handlesAfter, "TCPSocketWrap") - dropped, // the server's side
    }
    : r.handlesAfter;
  if (!sameHandles(r.handlesBefore, withoutZeros(handlesAfter))) {
    found.push(`handles: ${JSON.stringify(r.handlesBefore)} before, ${JSON.stringify(r.handlesAfter)} after`);
  }
  const total = r.won + r.failed + r.aborted + r.timedOut;
  if (total !== r.races) found.push(`${total} outcomes counted for ${r.races} races`);
  if (r.uncaught) found.push(`${r.uncaught} uncaught errors`);
  if (r.winnersClosed !== r.won) found.push(`${r.won} winners, ${r.winnersClosed} closed`);
  found.push(...r.unexpected.slice(0, 10));
  if (r.unexpected.length > 10) found.push(`...and ${r.unexpected.length - 10} more`);
  return found;
}
