/**
 * Run by bench/lookup.ts inside the lab's client namespace: REPEAT lookups of NAME (all addresses) by
 * `dns.lookup` (getaddrinfo every time), by eyeballs' `lookup` (the stub resolver with its TTL cache), and by a
 * cacheable-lookup-style cache (node:dns's c-ares `Resolver` with `ttl: true`, answers kept for their TTL). Prints one
 * JSON line per variant: the first lookup's time and the median of the others, in ms.
 *
 *   lookup_runner.ts NAME REPEAT
 *
 * @module
 */

import dns from "node:dns";
import { lookup } from "../src/clients/lookup.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const [name, repeat] = [argv[0], Number(argv[1])];

const resolver = new dns.promises.Resolver();
const cache = new Map<string, { addresses: string[]; expiresAt: number }>();
/** cacheable-lookup's approach: resolve4/resolve6 with TTLs, both at once, kept until the TTL runs out. */
async function cacheableStyle(host: string): Promise<string[]> {
  const hit = cache.get(host);
  if (hit && hit.expiresAt > performance.now()) return hit.addresses;
  const [v6, v4] = await Promise.all([
    resolver.resolve6(host, { ttl: true }).catch(() => []),
    resolver.resolve4(host, { ttl: true }).catch(() => []),
  ]);
  const all = [...v6, ...v4];
  const ttl = Math.min(...all.map((a) => a.ttl));
  const addresses = all.map((a) => a.address);
  if (ttl > 0) cache.set(host, { addresses, expiresAt: performance.now() + ttl * 1000 });
  return addresses;
}

const variants: Array<[string, () => Promise<unknown>]> = [
  ["dns.lookup", () => dns.promises.lookup(name, { all: true })],
  ["eyeballs lookup", () => lookup.promise(name, { all: true })],
  ["cacheable-lookup style", () => cacheableStyle(name)],
];

for (const [variant, run] of variants) {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  console.log(JSON.stringify({ variant, firstMs: times[0], repeatMedianMs: rest[Math.floor(rest.length / 2)] }));
}
if (!g.Deno) g.process.exit(0);
