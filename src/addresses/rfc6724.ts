/**
 * RFC 6724 destination address selection: which addresses of a name to try
 * first, across both families, given the host's own (source) addresses.
 * Pure: the adapters supply the sources. IPv4 addresses are handled in their
 * IPv4-mapped form, as the RFC does, so one policy table serves both families.
 *
 * @module
 */

import { addressBytes, parseIp } from "./ip.ts";
import { inPrefix } from "./policy.ts";
import type { Family } from "../base/types.ts";
import { describe } from "../base/checks.ts";

/**
 * One address of this host, a candidate source address (RFC 6724 §4).
 * The flags are optional: runtimes do not report them.
 *
 * @example
 * ```ts
 * import type { SourceAddress } from "@eyeballs/connect/addresses";
 * const source: SourceAddress = { address: "2001:db8::2", prefixLength: 64, deprecated: true };
 * ```
 */
export interface SourceAddress {
  /** The address, IPv4 or IPv6 (no zone). */
  readonly address: string;
  /** Its subnet's prefix length (rule 9 compares no further); default 64 for IPv6, 32 for IPv4. */
  readonly prefixLength?: number;
  /** A deprecated address (RFC 4862): rule 3 avoids it. */
  readonly deprecated?: boolean;
  /** A Mobile IPv6 home address: rule 4 prefers it. */
  readonly home?: boolean;
  /** Reached through an encapsulating transition mechanism (a tunnel): rule 7 prefers native. */
  readonly tunnel?: boolean;
}

/**
 * One row of an RFC 6724 policy table.
 *
 * @example
 * ```ts
 * import type { PolicyRow } from "@eyeballs/connect/addresses";
 * const preferIPv4: PolicyRow = { prefix: "::ffff:0:0/96", precedence: 100, label: 4 };
 * ```
 */
export interface PolicyRow {
  /** "address/length", IPv6 (IPv4 rows are written in IPv4-mapped form). */
  readonly prefix: string;
  /** Higher goes first (rule 6). */
  readonly precedence: number;
  /** Sources and destinations with equal labels match (rule 5). */
  readonly label: number;
}

/**
 * RFC 6724 §2.1, the default policy table.
 *
 * @example
 * ```ts
 * import { AddressSelector, DEFAULT_POLICY_TABLE } from "@eyeballs/connect/addresses";
 * // RFC 6724 §10.3: prefer IPv4
 * const policyTable = DEFAULT_POLICY_TABLE.map((r) => r.prefix === "::ffff:0:0/96" ? { ...r, precedence: 100 } : r);
 * new AddressSelector(["2001:db8::2", "10.1.2.4"], { policyTable }).sort(["2001:db8::1", "10.1.2.3"]);
 * // ["10.1.2.3", "2001:db8::1"]
 * ```
 */
export const DEFAULT_POLICY_TABLE: readonly PolicyRow[] = [
  { prefix: "::1/128", precedence: 50, label: 0 },
  { prefix: "::/0", precedence: 40, label: 1 },
  { prefix: "::ffff:0:0/96", precedence: 35, label: 4 }, // IPv4-mapped: all of IPv4
  { prefix: "2002::/16", precedence: 30, label: 2 }, // 6to4
  { prefix: "2001::/32", precedence: 5, label: 5 }, // Teredo
  { prefix: "fc00::/7", precedence: 3, label: 13 }, // unique local
  { prefix: "::/96", precedence: 1, label: 3 }, // IPv4-compatible (deprecated)
  { prefix: "fec0::/10", precedence: 1, label: 11 }, // site-local (deprecated)
  { prefix: "3ffe::/16", precedence: 1, label: 12 }, // 6bone (returned)
];

interface CompiledRow {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly precedence: number;
  readonly label: number;
}

/** The table checked and ordered longest prefix first, as lookups need. */
function compileTable(table: readonly PolicyRow[], field: string): CompiledRow[] {
  if (!Array.isArray(table)) throw new TypeError(`${field} must be an array, got ${describe(table)}`);
  const rows = table.map((row, i) => {
    const match = typeof row?.prefix === "string" ? /^(.+)\/(\d{1,3})$/.exec(row.prefix) : null;
    const ip = match ? parseIp(match[1]) : undefined;
    const length = Number(match?.[2]);
    if (!ip || ip.family !== 6 || length > 128) {
      throw new TypeError(`${field}[${i}].prefix must be an IPv6 "address/length", got ${describe(row?.prefix)}`);
    }
    for (const key of ["precedence", "label"] as const) {
      if (!Number.isFinite(row[key])) throw new TypeError(`${field}[${i}].${key} must be a number`);
    }
    return { bytes: addressBytes(ip.address), length, precedence: row.precedence, label: row.label };
  });
  if (!rows.some((r) => r.length === 0)) throw new RangeError(`${field} needs a ::/0 row (every address must match)`);
  return rows.sort((a, b) => b.length - a.length);
}

let defaultTable: CompiledRow[] | undefined;
/** {@linkcode DEFAULT_POLICY_TABLE} compiled at its first use, not at import: a literal connect never needs it. */
const compiledDefaultTable = () => (defaultTable ??= compileTable(DEFAULT_POLICY_TABLE, "policyTable"));

/** RFC 4291 §2.7 / RFC 6724 §3.1 scope values. */
const LINK_LOCAL = 0x2, SITE_LOCAL = 0x5, GLOBAL = 0xe;

/** What the rules need to know of one address, computed once. */
interface Facts {
  readonly address: string;
  readonly family: Family;
  readonly bytes: Uint8Array;
  readonly scope: number;
  readonly label: number;
  readonly precedence: number;
}

interface Source extends Facts {
  readonly prefixLength: number;
  readonly deprecated: boolean;
  readonly home: boolean;
  readonly tunnel: boolean;
}

/** A destination with the source address the host would use for it (undefined: unusable). */
interface Destination extends Facts {
  readonly source: Source | undefined;
}

/** A source address as given and checked; its label and precedence are looked up when a comparison needs them. */
type GivenSource = Omit<Source, "label" | "precedence">;

function factsOf(address: string, family: Family, table: readonly CompiledRow[]): Facts {
  const bytes = addressBytes(address);
  return { address, family, bytes, scope: scopeOf(bytes, family), ...policyOf(bytes, table) };
}

/** The label and precedence of the longest matching prefix (the table has a ::/0 row, so one always matches). */
function policyOf(bytes: Uint8Array, table: readonly CompiledRow[]): { label: number; precedence: number } {
  const row = table.find((r) => inPrefix(bytes, r.bytes, r.length))!;
  return { label: row.label, precedence: row.precedence };
}

/** RFC 6724 §3.1 (IPv6) and §3.2 (IPv4: loopback and 169.254/16 are link-local, the rest global). */
function scopeOf(b: Uint8Array, family: Family): number {
  if (family === 4) return b[12] === 127 || (b[12] === 169 && b[13] === 254) ? LINK_LOCAL : GLOBAL;
  if (b[0] === 0xff) return b[1] & 0x0f; // multicast carries its scope
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return LINK_LOCAL;
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return SITE_LOCAL;
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return LINK_LOCAL; // ::1
  return GLOBAL;
}

/** How many leading bits `a` and `b` share. */
function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const diff = a[i] ^ b[i];
    if (diff) return i * 8 + Math.clz32(diff) - 24;
  }
  return 128;
}

/** `prefer(x, y)`: -1 when only x holds (x first), 1 when only y holds, else 0. */
const prefer = (x: boolean, y: boolean) => (x === y ? 0 : x ? -1 : 1);

/**
 * RFC 6724 destination address selection over a fixed set of source
 * addresses. {@linkcode compare} sorts destinations (rules 1 to 10);
 * it is cheap after the first look at an address (facts are cached).
 *
 * Deliberate choices: rule 5 of source selection (outgoing interface) is
 * skipped, as no runtime reports routes; rule 9 (longest matching prefix) is
 * applied to IPv6 only, as Go does, since on IPv4 it defeats DNS round robin
 * (RFC 6724 §6 allows implementations this; glibc applies it to both).
 *
 * @example
 * ```ts
 * import { AddressSelector } from "@eyeballs/connect/addresses";
 * // A host with only a link-local IPv6 address: IPv4 goes first (rule 2).
 * const selector = new AddressSelector(["fe80::1", "198.51.100.117"]);
 * selector.sort(["2001:db8:1::1", "198.51.100.121"]); // ["198.51.100.121", "2001:db8:1::1"]
 * ```
 */
export class AddressSelector {
  // The policy table, the sources' labels and the leading family are worked out at the first comparison, not
  // here: an adapter builds a selector on every first connect, and one to an IP literal only asks for the routes.
  readonly #given: readonly GivenSource[];
  readonly #customTable: readonly CompiledRow[] | undefined;
  #sources: readonly Source[] | undefined;
  #leadingFamily: Family | undefined;
  readonly #cache = new Map<string, Destination>();
  /** True when some source address can reach global IPv4 destinations (NAT64 is then not needed). */
  readonly hasIPv4Route: boolean;
  /** True when some source address can reach global IPv6 destinations (NAT64 needs one). */
  readonly hasIPv6Route: boolean;
  /** True when the host has no source address at all: the order is then left alone. */
  readonly empty: boolean;

  /**
   * A selector for a host with `sources`, under `policyTable` (default {@linkcode DEFAULT_POLICY_TABLE});
   * throws a TypeError naming `field` for a bad entry.
   */
  constructor(
    sources: readonly (string | SourceAddress)[],
    { field = "sourceAddresses", policyTable }: { field?: string; policyTable?: readonly PolicyRow[] } = {},
  ) {
    this.#customTable = policyTable ? compileTable(policyTable, "policyTable") : undefined;
    if (!Array.isArray(sources)) throw new TypeError(`${field} must be an array, got ${describe(sources)}`);
    this.#given = sources.map((entry, i): GivenSource => {
      const spec = typeof entry === "string" ? { address: entry } : entry;
      const ip = typeof spec?.address === "string" ? parseIp(spec.address) : undefined;
      if (!ip) throw new TypeError(`${field}[${i}] must be an IP address, got ${describe(spec?.address ?? entry)}`);
      const max = ip.family === 6 ? 128 : 32;
      const length = spec.prefixLength ?? (ip.family === 6 ? 64 : 32);
      if (!Number.isInteger(length) || length < 0 || length > max) {
        throw new RangeError(`${field}[${i}].prefixLength must be an integer from 0 to ${max}, got ${length}`);
      }
      const bytes = addressBytes(ip.address);
      return {
        address: ip.address,
        family: ip.family,
        bytes,
        scope: scopeOf(bytes, ip.family),
        prefixLength: ip.family === 6 ? length : length + 96,
        deprecated: spec.deprecated === true,
        home: spec.home === true,
        tunnel: spec.tunnel === true,
      };
    });
    this.empty = this.#given.length === 0;
    this.hasIPv4Route = this.#given.some((s) => s.family === 4 && s.scope === GLOBAL);
    this.hasIPv6Route = this.#given.some((s) => s.family === 6 && s.scope === GLOBAL);
  }

  /** The family to lead with before any answer arrives: the better of a typical global destination of each family. */
  get leadingFamily(): Family {
    return this.#leadingFamily ??= this.compare("2001:db8::1", "192.0.2.1") > 0 ? 4 : 6;
  }

  get #table(): readonly CompiledRow[] {
    return this.#customTable ?? compiledDefaultTable();
  }

  /** The sources with their label and precedence, looked up at the first comparison. */
  #withPolicy(): readonly Source[] {
    const table = this.#table;
    return this.#sources ??= this.#given.map((s) => ({ ...s, ...policyOf(s.bytes, table) }));
  }

  /** The source address the host would use for `destination` (RFC 6724 §5), or undefined when none can. */
  sourceFor(destination: string): string | undefined {
    return this.#destination(destination).source?.address;
  }

  /** `addresses` (canonical, any family) in RFC 6724 order; ties keep their order. */
  sort(addresses: readonly string[]): string[] {
    return [...addresses].sort((a, b) => this.compare(a, b));
  }

  /**
   * Negative when destination `a` should be tried before `b`, positive for
   * the reverse, 0 when RFC 6724 has no preference (rule 10: keep the order).
   */
  compare(a: string, b: string): number {
    const da = this.#destination(a), db = this.#destination(b);
    const sa = da.source, sb = db.source;
    // Rule 1: avoid unusable destinations.
    if (!sa || !sb) return prefer(sa !== undefined, sb !== undefined);
    return prefer(da.scope === sa.scope, db.scope === sb.scope) || // rule 2: matching scope
      prefer(!sa.deprecated, !sb.deprecated) || // rule 3: avoid deprecated sources
      prefer(sa.home, sb.home) || // rule 4: home addresses
      prefer(da.label === sa.label, db.label === sb.label) || // rule 5: matching label
      db.precedence - da.precedence || // rule 6: higher precedence
      prefer(!sa.tunnel, !sb.tunnel) || // rule 7: native transport
      da.scope - db.scope || // rule 8: smaller scope
      (da.family === 6 && db.family === 6 // rule 9: longest matching prefix (IPv6 only, see above)
        ? matchLength(db, sb) - matchLength(da, sa)
        : 0);
  }

  #destination(address: string): Destination {
    let found = this.#cache.get(address);
    if (found) return found;
    const facts = factsOf(address, address.includes(":") && !address.startsWith("::ffff:") ? 6 : 4, this.#table);
    found = { ...facts, source: this.#chooseSource(facts) };
    if (this.#cache.size >= 1024) this.#cache.clear(); // a long-lived selector must not grow without end
    this.#cache.set(address, found);
    return found;
  }

  /** RFC 6724 §5: the best source of the destination's family (rule 5, outgoing interface, is unknown here). */
  #chooseSource(d: Facts): Source | undefined {
    let best: Source | undefined;
    for (const s of this.#withPolicy()) {
      if (s.family !== d.family) continue;
      if (!best || compareSources(s, best, d) < 0) best = s;
    }
    return best;
  }
}

/** Negative when source `a` suits destination `d` better than `b` (RFC 6724 §5 rules 1, 2, 3, 4, 6, 8). */
function compareSources(a: Source, b: Source, d: Facts): number {
  const scope = a.scope < b.scope ? (a.scope < d.scope ? 1 : -1) : a.scope > b.scope ? (b.scope < d.scope ? -1 : 1) : 0;
  return prefer(a.address === d.address, b.address === d.address) || // rule 1: same address
    scope || // rule 2: appropriate scope
    prefer(!a.deprecated, !b.deprecated) || // rule 3
    prefer(a.home, b.home) || // rule 4
    prefer(a.label === d.label, b.label === d.label) || // rule 6: matching label
    commonPrefixLength(b.bytes, d.bytes) - commonPrefixLength(a.bytes, d.bytes); // rule 8
}

/** CommonPrefixLen(D, Source(D)), no longer than the source's prefix (rule 9). */
function matchLength(d: Facts, s: Source): number {
  return Math.min(commonPrefixLength(d.bytes, s.bytes), s.prefixLength);
}

const selectors = new WeakMap<readonly unknown[], AddressSelector>();

/**
 * The selector for `sources`, built once per array: an adapter that reuses
 * its array pays for the parsing once, not per connect.
 */
export function selectorFor(sources: readonly (string | SourceAddress)[], field?: string): AddressSelector {
  let selector = selectors.get(sources);
  if (!selector) selectors.set(sources, selector = new AddressSelector(sources, { field }));
  return selector;
}
