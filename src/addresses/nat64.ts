/**
 * NAT64 (RFC 8305 §7): on an IPv6-only network, reach IPv4 destinations
 * through the network's translator by writing each IPv4 address into its
 * IPv6 prefix (RFC 6052), the prefix learnt from the AAAA answer for
 * `ipv4only.arpa` (RFC 7050).
 *
 * @module
 */

import { addressBytes, formatIPv6Bytes, parseAddressList, parseIp } from "./ip.ts";
import type { Clock, Resolver } from "../base/types.ts";

/** The prefix lengths RFC 6052 §2.2 defines. */
export type Nat64PrefixLength = 32 | 40 | 48 | 56 | 64 | 96;

/**
 * A NAT64 prefix: where the translator expects IPv4 addresses.
 *
 * @example
 * ```ts
 * import type { Nat64Prefix } from "@eyeballs/connect/addresses";
 * const wellKnown: Nat64Prefix = { prefix: "64:ff9b::", length: 96 };
 * ```
 */
export interface Nat64Prefix {
  /** The prefix's address, canonical IPv6 text. */
  readonly prefix: string;
  /** Its length in bits. */
  readonly length: Nat64PrefixLength;
}

/** Where RFC 6052 §2.2 puts the four IPv4 bytes for each prefix length; byte 8 (bits 64 to 71, "u") stays zero. */
const LAYOUT: Readonly<Record<Nat64PrefixLength, readonly number[]>> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

/**
 * The well-known prefix 64:ff9b::/96 (RFC 6052 §2.1).
 *
 * @example
 * ```ts
 * import { synthesizeNat64, WELL_KNOWN_NAT64_PREFIX } from "@eyeballs/connect/addresses";
 * synthesizeNat64("192.0.2.33", WELL_KNOWN_NAT64_PREFIX); // "64:ff9b::c000:221"
 * ```
 */
export const WELL_KNOWN_NAT64_PREFIX: Nat64Prefix = { prefix: "64:ff9b::", length: 96 };

/**
 * Parses "prefix/length" (length 32, 40, 48, 56, 64 or 96); throws a
 * RangeError naming `field` otherwise.
 *
 * @example
 * ```ts
 * import { parseNat64Prefix } from "@eyeballs/connect/addresses";
 * parseNat64Prefix("2001:DB8:100::/40"); // { prefix: "2001:db8:100::", length: 40 }
 * ```
 */
export function parseNat64Prefix(text: unknown, field = "nat64Prefix"): Nat64Prefix {
  const match = typeof text === "string" ? /^([^/]+)\/(\d+)$/.exec(text) : null;
  const ip = match ? parseIp(match[1]) : undefined;
  const length = Number(match?.[2]) as Nat64PrefixLength;
  if (!ip || ip.family !== 6 || !(length in LAYOUT)) {
    throw new RangeError(
      `${field} must be an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 ("64:ff9b::/96"), got ${
        JSON.stringify(text)
      }`,
    );
  }
  const bytes = addressBytes(ip.address);
  for (let bit = length; bit < 128; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7)); // keep only the prefix bits
  return { prefix: formatIPv6Bytes(bytes), length };
}

/**
 * The IPv6 address through which `prefix`'s translator reaches `ipv4`
 * (RFC 6052 §2.2; the suffix is zero).
 *
 * @example
 * ```ts
 * import { synthesizeNat64 } from "@eyeballs/connect/addresses";
 * synthesizeNat64("192.0.2.33", { prefix: "2001:db8:122::", length: 48 }); // "2001:db8:122:c000:2:2100::"
 * ```
 */
export function synthesizeNat64(ipv4: string, prefix: Nat64Prefix): string {
  const v4 = addressBytes(ipv4);
  const bytes = addressBytes(prefix.prefix);
  bytes.fill(0, prefix.length / 8);
  LAYOUT[prefix.length].forEach((at, i) => (bytes[at] = v4[12 + i]));
  return formatIPv6Bytes(bytes);
}

/**
 * The IPv4 address inside `address` when it lies in `prefix`, else undefined
 * (RFC 6052 §2.3).
 *
 * @example
 * ```ts
 * import { extractNat64, WELL_KNOWN_NAT64_PREFIX } from "@eyeballs/connect/addresses";
 * extractNat64("64:ff9b::7f00:1", WELL_KNOWN_NAT64_PREFIX); // "127.0.0.1"
 * ```
 */
export function extractNat64(address: string, prefix: Nat64Prefix): string | undefined {
  const bytes = addressBytes(address);
  const base = addressBytes(prefix.prefix);
  for (let i = 0; i < prefix.length / 8; i++) if (bytes[i] !== base[i]) return undefined;
  return LAYOUT[prefix.length].map((at) => bytes[at]).join(".");
}

/** RFC 7050 §2: the name whose AAAA answer reveals the NAT64 prefix. */
export const IPV4ONLY_ARPA = "ipv4only.arpa";

/** RFC 7050 §2: the well-known IPv4 addresses of `ipv4only.arpa`. */
const WELL_KNOWN_IPV4 = ["192.0.0.170", "192.0.0.171"];

/**
 * The NAT64 prefix a DNS64 server used to synthesize `address` for
 * `ipv4only.arpa`: the position of 192.0.0.170 or .171 in it gives the
 * length (RFC 7050 §3). Undefined when neither is found.
 *
 * @example
 * ```ts
 * import { prefixOfIpv4OnlyAnswer } from "@eyeballs/connect/addresses";
 * prefixOfIpv4OnlyAnswer("64:ff9b::c000:aa"); // { prefix: "64:ff9b::", length: 96 }
 * ```
 */
export function prefixOfIpv4OnlyAnswer(address: string): Nat64Prefix | undefined {
  const bytes = addressBytes(address);
  for (const length of [96, 64, 56, 48, 40, 32] as const) {
    if (length < 96 && bytes[8] !== 0) continue; // the "u" octet must be zero
    const ipv4 = LAYOUT[length].map((at) => bytes[at]).join(".");
    if (!WELL_KNOWN_IPV4.includes(ipv4)) continue;
    bytes.fill(0, length / 8);
    return { prefix: formatIPv6Bytes(bytes), length };
  }
  return undefined;
}

/**
 * How long a discovered prefix is kept, in ms, when the resolver reports no
 * TTL (getaddrinfo gives none): 10 minutes. A resolver with
 * `resolveWithTtl` (the stub resolver, the DNS cache) gets its answer's TTL
 * instead (RFC 7050 §3.2 and §4: the prefix is valid for the TTL of the
 * `ipv4only.arpa` AAAA record). A reported TTL of 0 counts as unknown.
 *
 * @example
 * ```ts
 * import { NAT64_PREFIX_LIFETIME } from "@eyeballs/connect/addresses";
 * NAT64_PREFIX_LIFETIME / 60_000; // 10
 * ```
 */
export const NAT64_PREFIX_LIFETIME = 600_000;
/** The longest a reported TTL keeps a prefix, in ms: one day, so that a huge TTL cannot pin a stale prefix. */
const MAX_PREFIX_TTL = 86_400_000;
/** How long discovery waits for the `ipv4only.arpa` answer before going on without NAT64, in ms. */
const NAT64_DISCOVERY_TIMEOUT = 2_000;
/** How long "this network has no NAT64" is kept, in ms: short, so that a network that gains one is noticed soon. */
const NO_PREFIX_LIFETIME = 30_000;

interface Discovery {
  prefix: Promise<Nat64Prefix | undefined>;
  expiresAt: number;
}
const discoveries = new WeakMap<Resolver, Discovery>();

/**
 * The network's NAT64 prefix, asked of `resolver` as the AAAA records of
 * `ipv4only.arpa` (RFC 7050) and kept per resolver for the answer's TTL
 * when the resolver reports one (`resolveWithTtl`), else for
 * {@linkcode NAT64_PREFIX_LIFETIME}; "no NAT64" is kept 30 s. Concurrent
 * callers share one lookup. Never throws: undefined means no NAT64.
 */
export function discoverNat64Prefix(
  resolver: Resolver,
  clock: Clock,
  signal: AbortSignal,
): Promise<Nat64Prefix | undefined> {
  const cached = discoveries.get(resolver);
  if (cached && clock.now() < cached.expiresAt) return untilAborted(cached.prefix, signal);
  // The lookup outlives one connect's abort only as a shared promise: it gets its own signal.
  const entry: { prefix?: Promise<Nat64Prefix | undefined>; expiresAt: number } = { expiresAt: Infinity };
  const lookup = async () => {
    try {
      // Its own signal: other connects may share this lookup after this one's abort.
      const stop = new AbortController();
      let cancelTimer = () => {};
      const timedOut = new Promise<never>((_, reject) => {
        cancelTimer = clock.setTimer(() => {
          stop.abort();
          reject(new Error("no answer"));
        }, NAT64_DISCOVERY_TIMEOUT);
      });
      const query = resolver.resolveWithTtl
        ? resolver.resolveWithTtl(IPV4ONLY_ARPA, 6, stop.signal)
        : resolver.resolve(IPV4ONLY_ARPA, 6, stop.signal).then((addresses) => ({ addresses, ttl: undefined }));
      const answer = await Promise.race([query, timedOut]).finally(cancelTimer);
      const prefix = parseAddressList(answer.addresses, 6).map(prefixOfIpv4OnlyAnswer).find((p) => p !== undefined);
      entry.expiresAt = clock.now() + (prefix ? prefixLifetime(answer.ttl) : NO_PREFIX_LIFETIME);
      return prefix;
    } catch {
      entry.expiresAt = clock.now() + NO_PREFIX_LIFETIME;
      return undefined;
    }
  };
  entry.prefix = lookup();
  discoveries.set(resolver, entry as Discovery);
  return untilAborted(entry.prefix, signal);
}

/**
 * The shared discovery as one caller waits for it: each caller, the first or one that joins later, stops waiting on
 * its own abort (its timeout, its signal) while the lookup goes on for the others.
 */
function untilAborted(prefix: Promise<Nat64Prefix | undefined>, signal: AbortSignal): Promise<Nat64Prefix | undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(undefined);
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    prefix.then((found) => {
      signal.removeEventListener("abort", onAbort);
      resolve(found);
    });
  });
}

/**
 * How long a prefix learnt with `ttl` seconds left is kept, in ms: the TTL
 * when known, else the fixed lifetime. A TTL of 0 counts as unknown: the
 * default resolvers report 0 when they fall back to getaddrinfo, and asking
 * `ipv4only.arpa` before every connect would cost a round trip each time.
 */
function prefixLifetime(ttl: number | undefined): number {
  if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0) return NAT64_PREFIX_LIFETIME;
  return Math.min(ttl * 1000, MAX_PREFIX_TTL);
}

/**
 * A resolver for an IPv6-only host behind NAT64: asked for IPv6, it returns
 * the AAAA answer when there is one (native IPv6, or DNS64 already
 * synthesized), else the A answer written into `prefix` (RFC 8305 §7.2),
 * leaving out the IPv4 addresses `translatable` rejects.
 * Both lookups start at once, so an A-only name costs no extra round trip.
 */
export function nat64Resolver(
  resolver: Resolver,
  prefix: Nat64Prefix,
  translatable: (ipv4: string) => boolean = () => true,
): Resolver {
  return {
    async resolve(hostname, family, signal) {
      const v4 = resolver.resolve(hostname, 4, signal).then((list) => parseAddressList(list, 4));
      v4.catch(() => {}); // not awaited when the AAAA answer suffices
      if (family === 4) return v4;
      let failure: unknown;
      try {
        const v6 = await resolver.resolve(hostname, 6, signal);
        if (Array.isArray(v6) && v6.length) return v6;
      } catch (error) {
        failure = error;
      }
      try {
        return (await v4).filter(translatable).map((a) => synthesizeNat64(a, prefix));
      } catch (error) {
        throw failure ?? error; // a failed AAAA lookup explains more than the A one
      }
    },
  };
}
