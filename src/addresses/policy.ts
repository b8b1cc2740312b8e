/**
 * Address policy: a check that sees every address before it is dialled and
 * can refuse it (against SSRF). The presets know the special-purpose ranges
 * of both families and every IPv6 form that carries an IPv4 address
 * (IPv4-mapped, IPv4-compatible, IPv4-translated, 6to4, Teredo, NAT64), since
 * attackers use each of them to reach 127.0.0.1 through a filter that only
 * knows dotted quads.
 *
 * @module
 */

import { addressBytes, parseAddressList } from "./ip.ts";
import type { Family, Resolver } from "../base/types.ts";
import { AttemptError } from "../base/errors.ts";
import { extractNat64, type Nat64Prefix, parseNat64Prefix } from "./nat64.ts";

/**
 * Decides whether one resolved (or literal) address may be dialled: `true`
 * allows it; `false`, or a string saying why, refuses it. Anything else, and
 * an exception, also refuses it (the policy fails closed).
 *
 * @example
 * ```ts
 * import type { AddressPolicy } from "@eyeballs/connect";
 * const onlyDocumentation: AddressPolicy = (address) =>
 *   address.startsWith("192.0.2.") || "not in 192.0.2.0/24";
 * ```
 */
export type AddressPolicy = (address: string, family: Family) => boolean | string;

/** The kinds of special-purpose address the presets know. */
export type AddressCategory =
  | "unspecified"
  | "loopback"
  | "private"
  | "cgnat"
  | "benchmarking"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "broadcast"
  | "documentation";

/**
 * Every category: what {@linkcode denyAddresses} refuses by default.
 *
 * @example
 * ```ts
 * import { ADDRESS_CATEGORIES } from "@eyeballs/connect/addresses";
 * ADDRESS_CATEGORIES.includes("cgnat"); // true
 * ```
 */
export const ADDRESS_CATEGORIES: readonly AddressCategory[] = [
  "unspecified",
  "loopback",
  "private",
  "cgnat",
  "benchmarking",
  "link-local",
  "unique-local",
  "multicast",
  "broadcast",
  "documentation",
];

/**
 * Every category but `documentation`: the internal networks an SSRF would
 * reach. Tests and labs that use the documentation prefixes can still run.
 *
 * @example
 * ```ts
 * import { denyAddresses, INTERNAL_CATEGORIES } from "@eyeballs/connect";
 * const policy = denyAddresses(INTERNAL_CATEGORIES);
 * policy("10.0.0.1", 4); // "private"
 * ```
 */
export const INTERNAL_CATEGORIES: readonly AddressCategory[] = ADDRESS_CATEGORIES.filter((c) => c !== "documentation");

type Range = readonly [category: AddressCategory, prefix: string, length: number];

// IPv4 ranges, as offsets into the IPv4-mapped form (RFC 6890 and the RFCs named).
const V4_RANGES: readonly Range[] = [
  ["unspecified", "0.0.0.0", 8], // "this network", RFC 1122
  ["loopback", "127.0.0.0", 8],
  ["private", "10.0.0.0", 8], // RFC 1918
  ["private", "172.16.0.0", 12],
  ["private", "192.168.0.0", 16],
  ["cgnat", "100.64.0.0", 10], // RFC 6598
  ["benchmarking", "198.18.0.0", 15], // RFC 2544: network test labs, routed inside some clouds
  ["link-local", "169.254.0.0", 16], // RFC 3927
  ["multicast", "224.0.0.0", 4],
  ["broadcast", "255.255.255.255", 32],
  ["documentation", "192.0.2.0", 24], // RFC 5737
  ["documentation", "198.51.100.0", 24],
  ["documentation", "203.0.113.0", 24],
];

const V6_RANGES: readonly Range[] = [
  ["unspecified", "::", 128],
  ["loopback", "::1", 128],
  ["link-local", "fe80::", 10],
  ["private", "fec0::", 10], // site-local, deprecated by RFC 3879: the IPv6 analogue of RFC 1918
  ["unique-local", "fc00::", 7], // RFC 4193
  // RFC 8215 local-use IPv4/IPv6 translation: the operator chooses where the IPv4 address sits (/48 to /96), so no
  // position can be checked; the translator reaches the domain's own IPv4 networks, so the whole prefix is local.
  ["private", "64:ff9b:1::", 48],
  ["multicast", "ff00::", 8],
  ["benchmarking", "2001:2::", 48], // RFC 5180
  ["documentation", "2001:db8::", 32], // RFC 3849
  ["documentation", "3fff::", 20], // RFC 9637
];

/** An IPv6 form that carries an IPv4 address: its prefix, and where the IPv4 bytes sit. */
interface Embedding {
  readonly name: string;
  readonly prefix: Uint8Array;
  readonly length: number;
  /** The IPv4 address inside the 16 bytes. */
  readonly extract: (bytes: Uint8Array) => number[];
}

const last4 = (bytes: Uint8Array) => [...bytes.subarray(12, 16)];
const embeddings = (): readonly Embedding[] => [
  { name: "IPv4-mapped", prefix: addressBytes("::ffff:0:0"), length: 96, extract: last4 },
  { name: "IPv4-translated", prefix: addressBytes("::ffff:0:0:0"), length: 96, extract: last4 }, // RFC 2765
  { name: "IPv4-compatible", prefix: addressBytes("::"), length: 96, extract: last4 }, // RFC 4291 §2.5.5.1
  { name: "NAT64", prefix: addressBytes("64:ff9b::"), length: 96, extract: last4 }, // RFC 6052
  { name: "6to4", prefix: addressBytes("2002::"), length: 16, extract: (b) => [...b.subarray(2, 6)] }, // RFC 3056
  // Teredo (RFC 4380): the client's IPv4 address, inverted, in the last 32 bits.
  { name: "Teredo", prefix: addressBytes("2001::"), length: 32, extract: (b) => last4(b).map((x) => x ^ 0xff) },
];

/**
 * True when the first `length` bits of `bytes` equal those of `prefix` (both 16 bytes).
 */
export function inPrefix(bytes: Uint8Array, prefix: Uint8Array, length: number): boolean {
  let bit = 0;
  for (; bit + 8 <= length; bit += 8) if (bytes[bit / 8] !== prefix[bit / 8]) return false;
  if (bit === length) return true;
  const mask = (0xff << (8 - (length - bit))) & 0xff;
  return (bytes[bit / 8] & mask) === (prefix[bit / 8] & mask);
}

interface CompiledRange {
  readonly category: AddressCategory;
  readonly prefix: Uint8Array;
  readonly length: number;
}

const compile = (ranges: readonly Range[], offset: number): readonly CompiledRange[] =>
  ranges.map(([category, prefix, length]) => ({ category, prefix: addressBytes(prefix), length: length + offset }));
const WELL_KNOWN_PREFIX_TEXT = "64:ff9b::";

/** The tables as bytes, parsed at the first check rather than at import (a fresh process would pay ~1 ms). */
interface Tables {
  readonly v4: readonly CompiledRange[];
  readonly v6: readonly CompiledRange[];
  readonly embeddings: readonly Embedding[];
  /** See {@linkcode nonGlobalV4Ranges}. */
  readonly nonGlobalV4: readonly CompiledRange[];
}
let compiled: Tables | undefined;
const tables = (): Tables =>
  compiled ??= {
    v4: compile(V4_RANGES, 96),
    v6: compile(V6_RANGES, 0),
    embeddings: embeddings(),
    nonGlobalV4: compile(nonGlobalV4Ranges, 96),
  };

/** What {@linkcode classifyAddress} found. */
export interface AddressClass {
  /** The special-purpose range the address belongs to. */
  readonly category: AddressCategory;
  /** For an IPv4 address inside IPv6: the form ("IPv4-mapped", "6to4"...) and the IPv4 address. */
  readonly embedded?: { readonly form: string; readonly ipv4: string };
}

/**
 * The special-purpose range `address` (canonical, either family) falls in,
 * looking through every IPv6 form that embeds an IPv4 address; undefined
 * for an ordinary (global unicast) address. `nat64Prefixes` adds NAT64
 * prefixes ("2001:db8:64::/96") besides the well-known 64:ff9b::/96.
 *
 * @example
 * ```ts
 * import { classifyAddress } from "@eyeballs/connect/addresses";
 * classifyAddress("::ffff:127.0.0.1"); // { category: "loopback", embedded: { form: "IPv4-mapped", ipv4: "127.0.0.1" } }
 * classifyAddress("2002:a00:1::1")?.category; // "private" (6to4 of 10.0.0.1)
 * ```
 */
export function classifyAddress(
  address: string,
  nat64Prefixes: readonly Nat64Prefix[] = [],
): AddressClass | undefined {
  const bytes = addressBytes(address);
  const table = tables();
  if (!address.includes(":")) {
    const v4 = rangeOf(table.v4, bytes);
    return v4 ? { category: v4 } : undefined;
  }
  // ::1 and :: are IPv6's own loopback and unspecified, not IPv4-compatible forms.
  const embedded = bytes.subarray(0, 15).every((b) => b === 0) ? [] : [
    ...table.embeddings
      .filter((e) => inPrefix(bytes, e.prefix, e.length))
      .map((e) => [e.name, e.extract(bytes).join(".")]),
    ...nat64Prefixes.map((p) => ["NAT64", extractNat64(address, p)]).filter(([, ipv4]) => ipv4 !== undefined),
  ];
  for (const [form, ipv4] of embedded as [string, string][]) {
    const inner = rangeOf(table.v4, addressBytes(ipv4));
    if (inner) return { category: inner, embedded: { form, ipv4 } };
  }
  const v6 = rangeOf(table.v6, bytes);
  return v6 ? { category: v6 } : undefined;
}

function rangeOf(table: readonly CompiledRange[], bytes: Uint8Array): AddressCategory | undefined {
  return table.find((r) => inPrefix(bytes, r.prefix, r.length))?.category;
}

/** Options of {@linkcode denyAddresses}. */
export interface DenyOptions {
  /** NAT64 prefixes of this network besides 64:ff9b::/96 ("2001:db8:64::/96"), whose IPv4 content is checked too. */
  readonly nat64Prefixes?: readonly string[];
}

/**
 * A preset policy that refuses every address in one of `categories`
 * (default: all of {@linkcode ADDRESS_CATEGORIES}), in either family and in
 * every IPv6 form of an IPv4 range. The refusal says which range and form.
 * Use {@linkcode INTERNAL_CATEGORIES} to let documentation prefixes through.
 *
 * @example
 * ```ts
 * import { denyAddresses } from "@eyeballs/connect";
 * const policy = denyAddresses(["loopback", "private"]);
 * policy("::ffff:127.0.0.1", 6); // "loopback (IPv4-mapped 127.0.0.1)"
 * policy("192.0.2.1", 4);        // true
 * ```
 */
export function denyAddresses(
  categories: readonly AddressCategory[] = ADDRESS_CATEGORIES,
  options: DenyOptions = {},
): AddressPolicy {
  if (!Array.isArray(categories)) throw new TypeError("categories must be an array of address categories");
  for (const c of categories) {
    if (!ADDRESS_CATEGORIES.includes(c)) {
      throw new RangeError(`unknown address category ${JSON.stringify(c)}; known: ${ADDRESS_CATEGORIES.join(", ")}`);
    }
  }
  const extra = (options.nat64Prefixes ?? []).map((text, i) => parseNat64Prefix(text, `nat64Prefixes[${i}]`));
  const denied = new Set(categories);
  return (address) => {
    const found = classifyAddress(address, extra);
    if (!found || !denied.has(found.category)) return true;
    return found.embedded ? `${found.category} (${found.embedded.form} ${found.embedded.ipv4})` : found.category;
  };
}

/**
 * `policy`, seeing through the NAT64 `prefix` in use: an IPv6 address under
 * it is refused when `policy` refuses the IPv4 address inside it, and is
 * then checked itself. connect wraps the `addressPolicy` with the discovered
 * (or configured) prefix, so that a DNS64 answer for an internal IPv4
 * address under a network-specific prefix is refused like the well-known
 * one, without the caller naming the prefix.
 */
export function seeThroughNat64(policy: AddressPolicy, prefix: Nat64Prefix): AddressPolicy {
  return (address, family) => {
    const ipv4 = family === 6 ? extractNat64(address, prefix) : undefined;
    const why = ipv4 === undefined ? undefined : refusalOf(policy, ipv4, 4);
    return why === undefined ? policy(address, family) : `${why} (NAT64 ${ipv4})`;
  };
}

/** IPv4 ranges no translator reaches: this host's own or its link's. */
const UNTRANSLATABLE = new Set<AddressCategory>(["unspecified", "loopback", "link-local", "multicast", "broadcast"]);

/**
 * Non-global IPv4 ranges of RFC 5735 §3 that no preset category covers:
 * with the categories, what RFC 6052 §3.1 keeps out of the well-known prefix.
 * (192.88.99.0/24, the 6to4 relay anycast, is listed there too but is
 * globally routed, so it stays translatable.)
 */
const nonGlobalV4Ranges: readonly Range[] = [
  ["unspecified", "192.0.0.0", 24], // IETF protocol assignments (RFC 6890); the category is not used
  ["unspecified", "198.18.0.0", 15], // benchmarking (RFC 2544)
  ["unspecified", "240.0.0.0", 4], // reserved
];

/**
 * Whether `ipv4` should be reached through the NAT64 `prefix`: never a
 * loopback, link-local, unspecified, multicast or broadcast address, which
 * no translator reaches; and under the well-known prefix 64:ff9b::/96 only a
 * global address (RFC 6052 §3.1: not RFC 1918, CGNAT, documentation,
 * benchmarking or reserved space). A network-specific prefix carries private
 * and documentation addresses (labs use 2001:db8:64::/96 for 192.0.2.0/24).
 *
 * @example
 * ```ts
 * import { nat64Translatable, parseNat64Prefix, WELL_KNOWN_NAT64_PREFIX } from "@eyeballs/connect/addresses";
 * nat64Translatable("127.0.0.1", WELL_KNOWN_NAT64_PREFIX); // false
 * nat64Translatable("10.0.0.1", WELL_KNOWN_NAT64_PREFIX);  // false
 * nat64Translatable("192.0.2.1", WELL_KNOWN_NAT64_PREFIX); // false (documentation: not global)
 * nat64Translatable("192.0.2.1", parseNat64Prefix("2001:db8:64::/96")); // true
 * ```
 */
export function nat64Translatable(ipv4: string, prefix: Nat64Prefix): boolean {
  const bytes = addressBytes(ipv4);
  const { v4, nonGlobalV4 } = tables();
  const category = rangeOf(v4, bytes);
  if (category !== undefined && UNTRANSLATABLE.has(category)) return false;
  const wellKnown = prefix.length === 96 && prefix.prefix === WELL_KNOWN_PREFIX_TEXT;
  return !wellKnown || (category === undefined && rangeOf(nonGlobalV4, bytes) === undefined);
}

/**
 * Why `policy` refuses `address`, or undefined when it allows it. A policy
 * that throws or returns something else than `true` refuses (fails closed).
 */
export function refusalOf(policy: AddressPolicy, address: string, family: Family): string | undefined {
  let verdict: unknown;
  try {
    verdict = policy(address, family);
  } catch (error) {
    return `the policy threw: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (verdict === true) return undefined;
  return typeof verdict === "string" && verdict ? verdict : "refused";
}

/**
 * The cause of an address refused by the `addressPolicy`: it appears in the
 * {@linkcode ConnectError} as "refused by policy (why)", and no SYN was sent.
 *
 * @example
 * ```ts
 * import { PolicyRefusal } from "@eyeballs/connect/addresses";
 * new PolicyRefusal("loopback").message; // "refused by policy (loopback)"
 * ```
 */
export class PolicyRefusal extends Error {
  /** What the policy said. */
  readonly why: string;

  /** A refusal for the reason `why`. */
  constructor(why: string) {
    super(`refused by policy (${why})`);
    this.name = "PolicyRefusal";
    this.why = why;
  }
}

/**
 * Checks one address; an {@linkcode AttemptError} caused by a
 * {@linkcode PolicyRefusal} when `policy` refuses it, else undefined.
 */
export function checkAddress(
  policy: AddressPolicy,
  address: string,
  family: Family,
  port: number,
): AttemptError | undefined {
  const why = refusalOf(policy, address, family);
  return why === undefined ? undefined : new AttemptError(address, family, port, new PolicyRefusal(why));
}

/**
 * `resolver`, with every answer passed through `policy`: refused addresses
 * are left out of the answer and reported to `onRefused`. Since the check
 * runs on each answer the race will dial, a name that changes its answer
 * between lookups (DNS rebinding) is checked again every time.
 */
export function policyResolver(
  resolver: Resolver,
  policy: AddressPolicy,
  port: number,
  onRefused: (error: AttemptError) => void,
): Resolver {
  return {
    async resolve(hostname, family, signal) {
      const answer = parseAddressList(await resolver.resolve(hostname, family, signal), family);
      return answer.filter((address) => {
        const refused = checkAddress(policy, address, family, port);
        if (refused) onRefused(refused);
        return !refused;
      });
    },
  };
}
