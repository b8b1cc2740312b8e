/**
 * The scale runner: many connects in flight at once, in one process, on
 * loopback. One variant per process, so that memory figures do not mix.
 *
 *   scale_runner.ts flood native|net|eyeballs N N connects at once to 127.0.0.1 (a python server holds them);
 *                                               net = node:net to one IP, what the Node and Bun adapters dial with
 *   scale_runner.ts blackhole N                 N eyeballs connects at once to a name whose IPv6 address
 *                                               (::1, a full accept queue) drops SYNs; IPv4 (127.0.0.1) answers
 *
 * Prints one JSON line. The caller raises the fd limit (`ulimit -n`).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import type { Clock, Resolver } from "../src/base/types.ts";
import { startFullQueueListener } from "../scripts/full_queue.ts";
import {
  type Connector,
  exit,
  hostOption,
  nativeConnector,
  netSingle,
  runtimeName,
  runtimeVersion,
} from "./connectors.ts";

/** A server in a python child: accepts on 127.0.0.1 and holds every connection until the client closes it. */
const HOLD_SERVER = String.raw`
import selectors, socket, sys
sel = selectors.DefaultSelector()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(65535); ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ); sel.register(sys.stdin, selectors.EVENT_READ)
print(ls.getsockname()[1], flush=True)
while True:
    for key, _ in sel.select():
        if key.fileobj is sys.stdin:
            if not sys.stdin.buffer.read1(4096): sys.exit(0)
        elif key.fileobj is ls:
            while True:
                try: c, _ = ls.accept()
                except BlockingIOError: break
                c.setblocking(False); sel.register(c, selectors.EVENT_READ)
        else:
            try: data = key.fileobj.recv(4096)
            except OSError: data = b""
            if not data: sel.unregister(key.fileobj); key.fileobj.close()
`;

function startHoldServer(port: number): Promise<{ port: number; stop(): void }> {
  const child = spawn("python3", ["-c", HOLD_SERVER, String(port)], { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once(
      "data",
      (d: Uint8Array) => resolve({ port: Number(new TextDecoder().decode(d).trim()), stop: () => child.stdin!.end() }),
    );
  });
}

const openFds = () => {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
};

/** Samples memory and event-loop lateness every 10 ms until stopped. */
function sampler() {
  const base = process.memoryUsage();
  let peakRss = base.rss, peakHeap = base.heapUsed;
  const lags: number[] = [];
  let expected = performance.now() + 10;
  const sample = () => {
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + 10;
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const id = setInterval(sample, 10);
  // Called once every connect has settled, before any is closed: the loop may not have turned
  // in between (10,000 connects can complete in one I/O phase), so this is the sample that counts.
  return () => {
    sample();
    clearInterval(id);
    lags.sort((a, b) => a - b);
    return {
      rssBase: base.rss,
      heapBase: base.heapUsed,
      rssPeak: peakRss,
      heapPeak: peakHeap,
      lagMaxMs: lags[lags.length - 1] ?? 0,
      lagP99Ms: lags[Math.floor(lags.length * 0.99)] ?? 0,
    };
  };
}

/** A clock that counts eyeballs' live timers (set, not yet fired or cancelled). */
function countingClock(): Clock & { live: number; peak: number; set: number } {
  const clock = {
    live: 0,
    peak: 0,
    set: 0,
    now: () => performance.now(),
    setTimer(callback: () => void, ms: number) {
      clock.live++;
      clock.set++;
      clock.peak = Math.max(clock.peak, clock.live);
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          clock.live--;
        }
      };
      const id = setTimeout(() => {
        finish();
        callback();
      }, ms);
      return () => {
        finish();
        clearTimeout(id);
      };
    },
  };
  return clock;
}

/** The adapter's connect with extra options, reduced to a remote address and a close. */
async function eyeballs(extra: Record<string, unknown>): Promise<Connector> {
  const rt = runtimeName();
  if (rt === "deno") {
    const { connect } = await import("../src/adapters/deno/mod.ts");
    return async (hostname, port) => {
      const conn = await connect({ hostname, port, ...extra });
      return { address: conn.remoteAddr.hostname, close: () => conn.close() };
    };
  }
  const { connect } = rt === "bun"
    ? await import("../src/adapters/bun/mod.ts")
    : await import("../src/adapters/node/mod.ts");
  return async (host, port) => {
    // deno-lint-ignore no-explicit-any
    const socket = await (connect as any)({ ...hostOption(rt, host), port, ...extra });
    return { address: String(socket.remoteAddress), close: () => socket.destroy() };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flood(variant: string, n: number): Promise<Record<string, unknown>> {
  const server = await startHoldServer(0);
  const dial = variant === "native" ? nativeConnector() : variant === "net" ? netSingle : await eyeballs({});
  await (await dial("127.0.0.1", server.port)).close(); // warm: lazy modules, JIT
  await sleep(100);
  const fdsBefore = openFds();
  const stop = sampler();
  const t0 = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: n }, () => dial("127.0.0.1", server.port)));
  const ms = performance.now() - t0;
  const memory = stop();
  const failures = settled.filter((s) => s.status === "rejected") as PromiseRejectedResult[];
  for (const s of settled) if (s.status === "fulfilled") s.value.close();
  await sleep(500);
  const fdsAfter = openFds();
  server.stop();
  return {
    part: "flood",
    variant,
    n,
    ms,
    failed: failures.length,
    firstFailure: failures[0] ? String(failures[0].reason) : undefined,
    ...memory,
    fdsBefore,
    fdsAfter,
  };
}

async function blackhole(n: number): Promise<Record<string, unknown>> {
  const dead = await startFullQueueListener("::1");
  const live = net.createServer((s) => {
    s.on("error", () => {});
    s.resume();
  });
  await new Promise<void>((resolve) => live.listen({ host: "127.0.0.1", port: dead.port, backlog: 4096 }, resolve));
  const resolver: Resolver = {
    resolve: (_name, family) => Promise.resolve(family === 6 ? ["::1"] : ["127.0.0.1"]),
  };
  const clock = countingClock();
  const dial = await eyeballs({ resolver, clock, timeout: 10_000 });
  await (await dial("warm.example", dead.port)).close();
  await sleep(100);
  const fdsBefore = openFds();
  clock.peak = clock.live;
  clock.set = 0;
  const stop = sampler();
  const t0 = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: n }, () => dial("blackholed6.example", dead.port)));
  const ms = performance.now() - t0;
  const memory = stop();
  const fulfilled = settled.filter((s) => s.status === "fulfilled") as PromiseFulfilledResult<{ address: string }>[];
  const overV4 = fulfilled.filter((s) => s.value.address.replace(/^::ffff:/, "") === "127.0.0.1").length;
  for (const s of settled) if (s.status === "fulfilled") (s.value as { close(): void }).close();
  await sleep(500);
  const result = {
    part: "blackhole",
    n,
    ms,
    overV4,
    failed: n - fulfilled.length,
    timersSet: clock.set,
    timersPeak: clock.peak,
    timersLiveAfter: clock.live,
    ...memory,
    fdsBefore,
    fdsAfter: openFds(),
  };
  live.close();
  await dead.stop();
  return result;
}

async function main(argv: string[]): Promise<number> {
  const result = argv[0] === "flood"
    ? await flood(argv[1], Number(argv[2]))
    : argv[0] === "blackhole"
    ? await blackhole(Number(argv[1]))
    : undefined;
  if (!result) throw new Error(`unknown part ${argv[0]}`);
  console.log(JSON.stringify({ runtime: runtimeVersion(), ...result }));
  return 0;
}

exit(await main(process.argv.slice(2)));
