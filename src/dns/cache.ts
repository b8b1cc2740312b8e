/**
 * A DNS cache in front of any {@linkcode Resolver}: an answer is reused for
 * as long as its TTL says, and concurrent lookups of the same name and
 * family share one query. Only resolvers that report TTLs
 * (`resolveWithTtl`) are cached; others pass straight through.
 *
 * @module
 */

import { systemClock } from "../race/clock.ts";
import type { Clock, Family, ResolvedAddresses, Resolver } from "../base/types.ts";
import { requireInteger, requireObject } from "../base/checks.ts";

/** Options for {@linkcode cachingResolver}. */
export interface DnsCacheOptions {
  /** Most names × families kept; the oldest entry goes first. Default 1000. */
  readonly maxEntries?: number;
  /** An upper bound on any TTL, in seconds (undici and cacheable-lookup cap too). Default 3600. */
  readonly maxTtl?: number;
  /**
   * Serve-stale (RFC 8767), in seconds: an answer past its TTL is still served for this long after it expired, while
   * a fresh lookup runs in the background, so a resolver that is down or slow does not stall connects. Default 0:
   * never past the TTL.
   */
  readonly serveStale?: number;
  /** The clock; tests inject a fake one. */
  readonly clock?: Clock;
}

/**
 * What a {@linkcode CachingResolver} has done since it was made (or last cleared).
 *
 * @example
 * ```ts
 * import { autoResolver, cachingResolver, type DnsCacheStats } from "@eyeballs/connect/dns";
 * const stats: DnsCacheStats = cachingResolver(autoResolver).stats(); // all 0 at first
 * ```
 */
export interface DnsCacheStats {
  /** Answers cached now (names × families). */
  readonly entries: number;
  /** Lookups answered from the cache (stale answers included). */
  readonly hits: number;
  /** Lookups that went to the inner resolver. */
  readonly misses: number;
  /** Answers dropped to keep `maxEntries`. */
  readonly evictions: number;
  /** Lookups answered with a stale answer (serve-stale). */
  readonly stale: number;
}

/** A {@linkcode Resolver} with a cache you can inspect and clear. */
export interface CachingResolver extends Resolver {
  /** Resolves like the inner resolver, with the TTL the answer has left. */
  resolveWithTtl(hostname: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses>;
  /** How many answers are cached now (expired ones included until next asked). */
  readonly size: number;
  /** Forgets every answer (the statistics too). */
  clear(): void;
  /** Forgets the answers for `hostname`, both families. */
  delete(hostname: string): void;
  /** Looks `hostname` up in both families now, so that the next connect finds it cached; never rejects. */
  prefetch(hostname: string): Promise<void>;
  /** Entries, hits, misses, evictions and stale answers so far. */
  stats(): DnsCacheStats;
}

interface Entry {
  readonly addresses: string[];
  readonly expiresAt: number;
}

interface Shared {
  readonly answer: Promise<ResolvedAddresses>;
  readonly controller: AbortController;
  waiting: number;
}

/**
 * Wraps `inner` with a cache honouring each answer's TTL. A TTL of 0 is
 * never cached (unlike `Bun.connect`); errors and empty answers are not
 * cached either, so a name that comes back is seen at once. A caller's abort
 * stops only its own wait; the shared query is cancelled when every caller
 * waiting on it has gone.
 *
 * @example
 * ```ts
 * import { cachingResolver } from "@eyeballs/connect";
 * const inner = {
 *   resolve: () => Promise.resolve(["192.0.2.1"]),
 *   resolveWithTtl: () => Promise.resolve({ addresses: ["192.0.2.1"], ttl: 60 }),
 * };
 * const resolver = cachingResolver(inner, { maxEntries: 100 });
 * await resolver.resolve("db.example", 4, new AbortController().signal); // asks inner
 * await resolver.resolve("db.example", 4, new AbortController().signal); // from the cache for 60 s
 * ```
 */
export function cachingResolver(inner: Resolver, options: DnsCacheOptions = {}): CachingResolver {
  requireObject(inner as unknown, "resolver");
  requireObject(options as unknown, "options");
  const maxEntries = options.maxEntries ?? 1000;
  const maxTtl = options.maxTtl ?? 3600;
  requireInteger(maxEntries, "maxEntries", 1, Infinity);
  requireInteger(maxTtl, "maxTtl", 0, Infinity);
  const serveStale = options.serveStale ?? 0;
  requireInteger(serveStale, "serveStale", 0, Infinity);
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Shared>();
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  let stale = 0;

  const ask = (key: string, hostname: string, family: Family): Shared => {
    const controller = new AbortController();
    const answer = inner.resolveWithTtl!(hostname, family, controller.signal).then((a) => {
      const ttl = Math.min(a.ttl, maxTtl);
      if (ttl > 0 && a.addresses.length > 0 && !controller.signal.aborted) {
        entries.delete(key); // re-inserted last: the Map's order is the eviction order
        entries.set(key, { addresses: a.addresses, expiresAt: clock.now() + ttl * 1000 });
        if (entries.size > maxEntries) {
          entries.delete(entries.keys().next().value!);
          evictions++;
        }
      }
      return { addresses: a.addresses, ttl };
    });
    const shared = { answer, controller, waiting: 0 };
    inFlight.set(key, shared);
    const done = () => {
      if (inFlight.get(key) === shared) inFlight.delete(key);
    };
    answer.then(done, done);
    return shared;
  };

  const resolveWithTtl = (hostname: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses> => {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!inner.resolveWithTtl) {
      return inner.resolve(hostname, family, signal).then((addresses) => ({ addresses, ttl: 0 }));
    }
    // Case does not matter in DNS; a trailing dot does: "db." is absolute, "db" goes through the search list.
    const key = `${family} ${hostname.toLowerCase()}`;
    const hit = entries.get(key);
    if (hit) {
      const left = hit.expiresAt - clock.now();
      if (left > 0) {
        hits++;
        entries.delete(key); // used: last to be evicted
        entries.set(key, hit);
        return Promise.resolve({ addresses: [...hit.addresses], ttl: Math.ceil(left / 1000) });
      }
      if (-left < serveStale * 1000) {
        // RFC 8767: the stale answer now (TTL 0: not to be cached further), a fresh one for the next lookup.
        hits++;
        stale++;
        if (!inFlight.has(key)) ask(key, hostname, family).answer.catch(() => {});
        return Promise.resolve({ addresses: [...hit.addresses], ttl: 0 });
      }
      entries.delete(key);
    }
    misses++;
    const shared = inFlight.get(key) ?? ask(key, hostname, family);
    shared.waiting++;
    return new Promise((resolve, reject) => {
      let gone = false;
      const leave = () => {
        if (gone) return false;
        gone = true;
        signal.removeEventListener("abort", onAbort);
        shared.waiting--;
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        if (shared.waiting === 0) {
          shared.controller.abort(signal.reason);
          if (inFlight.get(key) === shared) inFlight.delete(key);
        }
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      shared.answer.then(
        (a) => {
          if (leave()) resolve({ addresses: [...a.addresses], ttl: a.ttl });
        },
        (error) => {
          if (leave()) reject(error);
        },
      );
    });
  };

  return {
    resolveWithTtl,
    resolve: (hostname, family, signal) => resolveWithTtl(hostname, family, signal).then((a) => a.addresses),
    // HTTPS/SVCB records pass through, uncached: without them a cached stub (autoResolver) would never ask for any.
    ...(inner.resolveServices && {
      resolveServices: (hostname: string, port: number, signal: AbortSignal, scheme?: string) =>
        inner.resolveServices!(hostname, port, signal, scheme),
    }),
    get size() {
      return entries.size;
    },
    clear: () => {
      entries.clear();
      hits =
        misses =
        evictions =
        stale =
          0;
    },
    delete: (hostname) => {
      for (const family of [4, 6]) entries.delete(`${family} ${String(hostname).toLowerCase()}`);
    },
    prefetch: async (hostname) => {
      const signal = new AbortController().signal;
      await Promise.allSettled(([6, 4] as const).map((family) => resolveWithTtl(hostname, family, signal)));
    },
    stats: () => ({ entries: entries.size, hits, misses, evictions, stale }),
  };
}
