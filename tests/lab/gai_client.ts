/**
 * Run by tests/lab/resolver_vs_getaddrinfo.test.ts inside the lab's client
 * namespace (whose /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf the
 * test wrote): asks each name of stdin's JSON list through glibc
 * (`getent ahosts`, getaddrinfo with AF_UNSPEC) and through the stub, auto
 * and system resolvers, each behind connect's host check (IP literal
 * forms); and, when asked (`lookups`), through the runtime's `dns.lookup` and
 * eyeballs' `lookup` (`all: true`, family 0, 4 and 6). Under Deno it also
 * notes which record types `Deno.resolveDns` answered for the system
 * resolver (`viaDeno`). Prints one JSON object.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import dns from "node:dns";
import { readFileSync } from "node:fs";
import { createStubResolver } from "../../src/dns/stub.ts";
import { autoResolver } from "../../src/dns/auto.ts";
import { systemResolver } from "../../src/dns/system.ts";
import { requireHost } from "../../src/connect/validate.ts";
import type { Family, Resolver } from "../../src/base/types.ts";
import { lookup, type LookupAddress } from "../../src/clients/lookup.ts";

/** What one way of resolving gave: addresses per family, or the error code. */
type Side = Record<Family, string[] | string>;

/** The names to ask, and whether to ask `dns.lookup` and eyeballs' `lookup` too. */
const { names, lookups }: { names: string[]; lookups: boolean } = JSON.parse(readFileSync(0, "utf8"));
const stub = createStubResolver();

/** getaddrinfo(AF_UNSPEC) through getent: addresses per family in glibc's order, or the exit status. */
function glibc(name: string): Side {
  const r = spawnSync("getent", ["ahosts", name], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) return { 4: `exit ${r.status}`, 6: `exit ${r.status}` };
  const side: Record<Family, string[]> = { 4: [], 6: [] };
  for (const line of r.stdout.split("\n")) {
    const address = line.split(/\s+/)[0];
    if (!address) continue;
    const family = address.includes(":") ? 6 : 4;
    if (!side[family].includes(address)) side[family].push(address);
  }
  return side;
}

async function eyeballs(resolver: Resolver, name: string): Promise<Side> {
  const literal = (() => {
    try {
      return requireHost(name).literal;
    } catch (error) {
      return (error as Error).message;
    }
  })();
  if (typeof literal === "string") return { 4: `refused: ${literal}`, 6: `refused: ${literal}` };
  if (literal) {
    return { 4: literal.family === 4 ? [literal.address] : [], 6: literal.family === 6 ? [literal.address] : [] };
  }
  const side = async (family: Family) => {
    try {
      return await resolver.resolve(name, family, new AbortController().signal);
    } catch (error) {
      return String((error as { code?: string }).code ?? error);
    }
  };
  // Both families at once, as connect asks them.
  const [v4, v6] = await Promise.all([side(4), side(6)]);
  return { 4: v4, 6: v6 };
}

/** One `dns.lookup`-shaped function with `all: true`, per family asked (0, 4, 6): addresses per family, or the code. */
async function lookupSides(
  fn: (name: string, options: { all: true; family: 0 | Family }) => Promise<LookupAddress[]>,
  name: string,
): Promise<Record<0 | Family, Side>> {
  const side = async (family: 0 | Family): Promise<Side> => {
    try {
      const found = await fn(name, { all: true, family });
      const byFamily = (f: Family) => found.filter((a) => a.family === f).map((a) => a.address);
      return { 4: byFamily(4), 6: byFamily(6) };
    } catch (error) {
      const code = String((error as { code?: string }).code ?? error);
      return { 4: code, 6: code };
    }
  };
  return { 0: await side(0), 4: await side(4), 6: await side(6) };
}

/** The record types `Deno.resolveDns` answered with addresses since the last look (Deno only). */
const viaDeno = new Set<string>();
const denoNs = (globalThis as { Deno?: { resolveDns(...args: unknown[]): Promise<string[]> } }).Deno;
if (denoNs) {
  const own = denoNs.resolveDns.bind(denoNs);
  denoNs.resolveDns = async (...args: unknown[]) => {
    const found = await own(...args);
    if (found.length) viaDeno.add(String(args[1]));
    return found;
  };
}

const out: Record<string, Record<string, unknown>> = {};
for (const name of names) {
  const glibcSide = glibc(name);
  const [stubSide, autoSide] = [await eyeballs(stub, name), await eyeballs(autoResolver, name)];
  viaDeno.clear();
  const systemSide = await eyeballs(systemResolver, name);
  out[name] = {
    glibc: glibcSide,
    stub: stubSide,
    auto: autoSide,
    system: systemSide,
    ...(denoNs && { viaDeno: [...viaDeno].sort() }),
    ...(lookups && {
      dnsLookup: await lookupSides((n, o) => dns.promises.lookup(n, o) as Promise<LookupAddress[]>, name),
      lookup: await lookupSides((n, o) => lookup.promise(n, o) as Promise<LookupAddress[]>, name),
    }),
  };
}
console.log(JSON.stringify(out));
