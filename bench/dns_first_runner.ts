/**
 * The first DNS lookup of a fresh process, both families at once, by one client (bench/dns_first.ts runs it in the
 * lab's client namespace):
 *
 *   dns_first_runner.ts stub|stub-cares|getaddrinfo|c-ares|deno-resolveDns NAME
 *
 * stub = eyeballs' stub resolver (its own UDP, the hosts file, resolv.conf); stub-cares = the same over c-ares (the
 * default resolver's wire on Node and Bun); getaddrinfo = `dns.lookup` per family;
 * c-ares = `new dns.Resolver()` `resolve4`/`resolve6` with TTLs (Node, Bun); deno-resolveDns = `Deno.resolveDns`
 * (Deno). Prints `{"importMs":..,"firstMs":..,"secondMs":..}`: loading what it needs, the first lookup of both
 * families, and a second one of another name's worth (the same name, uncached by the runtime's resolvers).
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, name] = g.Deno ? g.Deno.args : g.process.argv.slice(2);

type Lookup = () => Promise<unknown>;

async function load(): Promise<Lookup> {
  if (mode === "stub" || mode === "stub-cares") {
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    const { createStubResolverWith } = await import(`../src/dns/stub.${ext}`);
    const { exchange } = await import(`../src/dns/exchange.${ext}`);
    const { caresExchange } = await import(`../src/dns/cares.${ext}`);
    const signal = new AbortController().signal;
    return () => {
      const stub = createStubResolverWith({}, mode === "stub" ? exchange : caresExchange); // no cache: each lookup asks
      return Promise.all([stub.resolveWithTtl(name, 4, signal), stub.resolveWithTtl(name, 6, signal)]);
    };
  }
  if (mode === "deno-resolveDns") {
    return () => Promise.all([g.Deno.resolveDns(name, "A"), g.Deno.resolveDns(name, "AAAA")]);
  }
  const dns = await import("node:dns");
  if (mode === "getaddrinfo") {
    return () => Promise.all([4, 6].map((family) => dns.promises.lookup(name, { family, all: true }).catch(() => [])));
  }
  const resolver = new dns.promises.Resolver();
  return () =>
    Promise.all([resolver.resolve4(name, { ttl: true }), resolver.resolve6(name, { ttl: true }).catch(() => [])]);
}

const t0 = performance.now();
const lookup = await load();
const t1 = performance.now();
await lookup();
const t2 = performance.now();
await lookup();
const t3 = performance.now();
console.log(JSON.stringify({ mode, importMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2 }));
if (g.Deno) g.Deno.exit(0);
else g.process.exit(0);
