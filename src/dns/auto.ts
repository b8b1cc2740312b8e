/**
 * The resolver the Node and Bun adapters use when none is given: the stub
 * resolver behind a TTL cache when it gives the same answers as
 * getaddrinfo (nsswitch `hosts: files dns`), and getaddrinfo otherwise.
 * Decided once, at the first lookup.
 *
 * Why not always getaddrinfo: under Node and Bun it runs on a 4-thread pool,
 * so a few lookups that hang stall every lookup in the process (measured in
 * bench/dns.ts). Why not always the stub: nsswitch may add sources it cannot
 * see (mDNS, systemd-resolved's `resolve`, LDAP, `myhostname`).
 *
 * @module
 */

import { type CachingResolver, cachingResolver, type DnsCacheStats } from "./cache.ts";
import { stubMatchesSystem } from "./nsswitch.ts";
import type { Family, ResolvedAddresses, Resolver } from "../base/types.ts";
import { createStubResolverWith, readStubFiles } from "./stub.ts";
import { caresExchange } from "./cares.ts";
import { exchange } from "./exchange.ts";
import { isLocalhost, systemResolver } from "./system.ts";
import { readConfigText } from "./config_files.ts";

/**
 * The wire on Node: c-ares, ready when Node starts, where Node's first UDP socket is slow to open. Not on Bun, whose
 * own UDP socket opens at once and whose c-ares says ENOTFOUND for NODATA too; nor on Deno, whose `node:dns` Resolver
 * reports NXDOMAIN, NODATA, SERVFAIL and REFUSED as one error (docs/performance.md).
 */
const onNode = (globalThis as { Deno?: unknown }).Deno === undefined &&
  (globalThis as { Bun?: unknown }).Bun === undefined;

let chosen: Promise<Resolver> | undefined;
/** The stub's cache, once chosen. */
let cache: CachingResolver | undefined;

/**
 * The stub (cached) when /etc/nsswitch.conf says `hosts: files dns` and /etc/resolv.conf is there; else getaddrinfo.
 * The three files are read at once, and the stub starts from what was read: one round of reads, not two.
 */
async function choose(): Promise<Resolver> {
  try {
    const [nsswitch, files] = await Promise.all([
      readConfigText("/etc/nsswitch.conf"),
      readStubFiles("/etc/resolv.conf", "/etc/hosts"),
    ]);
    // No nsswitch.conf (musl, macOS) or no (or an empty) resolv.conf: only getaddrinfo knows what to do.
    if (files.resolvConf.trim() !== "" && stubMatchesSystem(nsswitch)) {
      return cache = cachingResolver(createStubResolverWith({}, onNode ? caresExchange : exchange, files));
    }
  } catch {
    // Unreadable: getaddrinfo.
  }
  return systemResolver;
}

/**
 * The default resolver of the Node and Bun adapters (see the module notes).
 * Pass `resolver: systemResolver` to always use getaddrinfo.
 *
 * @example
 * ```ts
 * import { autoResolver } from "@eyeballs/connect/node";
 * const v6 = await autoResolver.resolve("localhost", 6, new AbortController().signal); // ["::1"]
 * ```
 */
export const autoResolver: Resolver & {
  resolveWithTtl(hostname: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses>;
  /** The cache's statistics when the stub was chosen (all 0 with getaddrinfo, which has no TTLs to cache). */
  stats(): DnsCacheStats;
  /** Looks `hostname` up in both families now, into the cache; never rejects. */
  prefetch(hostname: string): Promise<void>;
  /** Forgets the cached answers for `hostname`. */
  delete(hostname: string): void;
  /** Forgets every cached answer. */
  clear(): void;
  resolveServices: NonNullable<Resolver["resolveServices"]>;
} = {
  async resolve(hostname, family, signal) {
    if (isLocalhost(hostname)) return systemResolver.resolve(hostname, family, signal); // no files to read
    return (await (chosen ??= choose())).resolve(hostname, family, signal);
  },
  async resolveWithTtl(hostname, family, signal) {
    if (isLocalhost(hostname)) return { addresses: await systemResolver.resolve(hostname, family, signal), ttl: 0 };
    const resolver = await (chosen ??= choose());
    if (resolver.resolveWithTtl) return resolver.resolveWithTtl(hostname, family, signal);
    return { addresses: await resolver.resolve(hostname, family, signal), ttl: 0 };
  },
  stats: () => cache?.stats() ?? { entries: 0, hits: 0, misses: 0, evictions: 0, stale: 0 },
  async prefetch(hostname) {
    const resolver = await (chosen ??= choose());
    if (cache && resolver === cache) await cache.prefetch(hostname);
  },
  delete: (hostname) => cache?.delete(hostname),
  clear: () => cache?.clear(),
  // HTTPS records only where the stub was chosen: getaddrinfo cannot ask for them, and the race runs as before.
  async resolveServices(hostname, port, signal, scheme) {
    if (isLocalhost(hostname)) return undefined;
    return (await (chosen ??= choose())).resolveServices?.(hostname, port, signal, scheme);
  },
};
