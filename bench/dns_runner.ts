/**
 * The DNS runner, run inside the lab's client namespace on each runtime:
 *
 *   dns_runner.ts stall HEALTHY STALLED PORT   lookups blocking each other
 *   dns_runner.ts cache NAME PORT TTL_S        repeated connects within and after the TTL
 *
 * stall: for each resolver (system getaddrinfo, the stub), the usual time of
 * a connect to HEALTHY, then trials of: 8 connects to STALLED (its AAAA is
 * never answered) started at once, and one connect to HEALTHY 10 ms later.
 * Between trials it waits for the stalled lookups to end (glibc gives up
 * after resolv.conf's timeout, 1 s in the lab).
 *
 * cache: 8 connects in a row to NAME with the runtime's own connect, with
 * eyeballs (system resolver), and with eyeballs on `cachingResolver(stubResolver)`;
 * then, after TTL_S + 0.5 s, one more cached connect (the driver counts the
 * queries the lab's DNS server saw).
 *
 * Prints JSON lines.
 *
 * @module
 */

import { cachingResolver } from "../src/dns/cache.ts";
import type { Resolver } from "../src/base/types.ts";
import { createStubResolver } from "../src/dns/stub.ts";
import { systemResolver } from "../src/dns/system.ts";
import { type Connector, exit, hostOption, nativeConnector, runtimeName, runtimeVersion } from "./connectors.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** eyeballs through this runtime's adapter, with `resolver`. */
async function eyeballsWith(resolver: Resolver): Promise<Connector> {
  const rt = runtimeName();
  if (rt === "deno") {
    const { connect } = await import("../src/adapters/deno/mod.ts");
    return async (hostname, port, timeout) => {
      const conn = await connect({ hostname, port, timeout, resolver });
      return { address: conn.remoteAddr.hostname, close: () => conn.close() };
    };
  }
  const { connect } = rt === "bun"
    ? await import("../src/adapters/bun/mod.ts")
    : await import("../src/adapters/node/mod.ts");
  return async (host, port, timeout) => {
    // deno-lint-ignore no-explicit-any
    const socket = await (connect as any)({ ...hostOption(rt, host), port, timeout, resolver });
    return { address: String(socket.remoteAddress), close: () => socket.destroy() };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed(dial: Connector, host: string, port: number): Promise<number> {
  const t0 = performance.now();
  const conn = await dial(host, port, 10_000);
  const ms = performance.now() - t0;
  conn.close();
  return ms;
}

async function stall(healthy: string, stalled: string, port: number): Promise<void> {
  const resolvers: Array<[string, Resolver]> = [["system", systemResolver], ["stub", createStubResolver()]];
  for (const [name, resolver] of resolvers) {
    const dial = await eyeballsWith(resolver);
    for (let i = 0; i < 2; i++) await timed(dial, healthy, port); // warm-up
    const usual: number[] = [];
    for (let i = 0; i < 7; i++) usual.push(await timed(dial, healthy, port));
    const blocked: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      const background = Array.from({ length: 8 }, () => timed(dial, stalled, port).catch(() => NaN));
      await sleep(10);
      blocked.push(await timed(dial, healthy, port));
      await Promise.all(background);
      await sleep(1500); // the hung getaddrinfo calls end after resolv.conf's timeout (1 s)
    }
    console.log(JSON.stringify({ part: "stall", resolver: name, usual, blocked }));
  }
}

async function cache(name: string, port: number, ttlSeconds: number): Promise<void> {
  const variants: Array<[string, Connector]> = [
    ["native", nativeConnector()],
    ["eyeballs system", await eyeballsWith(systemResolver)],
    ["eyeballs cached stub", await eyeballsWith(cachingResolver(createStubResolver()))],
  ];
  for (const [variant, dial] of variants) {
    const host = `${variant.replaceAll(" ", "-")}.${name}`;
    const ms: number[] = [];
    for (let i = 0; i < 8; i++) ms.push(await timed(dial, host, port));
    let afterTtl: number | undefined;
    if (variant === "eyeballs cached stub") {
      await sleep(ttlSeconds * 1000 + 500);
      afterTtl = await timed(dial, host, port);
    }
    console.log(JSON.stringify({ part: "cache", variant, host, ms, afterTtl }));
  }
}

async function main(argv: string[]): Promise<number> {
  console.log(JSON.stringify({ meta: { runtime: runtimeVersion() } }));
  if (argv[0] === "stall") await stall(argv[1], argv[2], Number(argv[3]));
  else if (argv[0] === "cache") await cache(argv[1], Number(argv[2]), Number(argv[3]));
  else throw new Error(`unknown part ${argv[0]}`);
  return 0;
}

const args = typeof process !== "undefined" ? process.argv.slice(2) : g.Deno.args;
exit(await main(args));
