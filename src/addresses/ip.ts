/**
 * IP literals: recognise them, and write them in one canonical form so that
 * duplicates compare equal ("2001:DB8:0::1" and "2001:db8::1" are one address).
 *
 * @module
 */

import type { Family } from "../base/types.ts";

/** An IP literal in canonical form, with its family. */
export interface IpLiteral {
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  readonly address: string;
  /** 4 or 6. */
  readonly family: Family;
}

/**
 * Parses an IPv4 or IPv6 literal (IPv6 optionally in brackets) into its
 * canonical form, or returns `undefined` when `text` is not an IP literal.
 * Zone identifiers (`fe80::1%eth0`) are not accepted.
 */
export function parseIp(text: string): IpLiteral | undefined {
  if (DOTTED_QUAD.test(text)) return { address: text, family: 4 }; // already canonical: no leading zeros
  if (!text.includes(":")) return undefined; // a name: every IPv6 literal has a colon
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v6 = parseIPv6(bare);
  return v6 ? { address: formatIPv6(v6), family: 6 } : undefined;
}

/** A dotted-quad IPv4 literal: four octets of 0 to 255, none with a leading zero. One test: a connect is hot. */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The four octets of a dotted-quad IPv4 literal, or undefined. */
function parseIPv4(text: string): number[] | undefined {
  return DOTTED_QUAD.test(text) ? text.split(".").map(Number) : undefined;
}

/** The eight 16-bit groups of an IPv6 literal, or undefined. */
function parseIPv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = halves.map(parseGroups);
  if (groups.some((g) => g === undefined)) return undefined;
  const [head, tail = []] = groups as number[][];
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

/** Colon-separated hex groups, the last of which may be an IPv4 tail. */
function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIPv4(part);
      if (!v4) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** RFC 5952 text: lower case, no leading zeros, the longest zero run as "::". */
function formatIPv6(groups: number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  }
  let best = { start: -1, length: 1 }; // runs of one zero group stay as "0"
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j + 1;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(":");
  const head = hex.slice(0, best.start).join(":");
  const tail = hex.slice(best.start + best.length).join(":");
  return `${head}::${tail}`;
}

/**
 * Checks a resolver's answer: an array of IP addresses of `family`. Returns
 * them in canonical form; throws a TypeError naming the first bad entry.
 */
export function parseAddressList(list: unknown, family: Family): string[] {
  if (!Array.isArray(list)) {
    throw new TypeError(`expected an array of IPv${family} addresses, got ${typeof list}`);
  }
  return list.map((entry) => {
    const ip = typeof entry === "string" ? parseIp(entry) : undefined;
    if (ip?.family !== family) {
      throw new TypeError(`not an IPv${family} address: ${JSON.stringify(entry) ?? String(entry)}`);
    }
    return ip.address;
  });
}

/**
 * The 16 bytes of a canonical address; IPv4 as its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`), so that both families share one table (RFC 6724 §2).
 */
export function addressBytes(address: string): Uint8Array {
  const bytes = new Uint8Array(16);
  const v4 = parseIPv4(address);
  if (v4) {
    bytes[10] = bytes[11] = 0xff;
    bytes.set(v4, 12);
    return bytes;
  }
  const groups = parseIPv6(address);
  if (!groups) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/**
 * The canonical IPv6 text of 16 bytes.
 */
export function formatIPv6Bytes(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  return formatIPv6(groups);
}

/**
 * An IPv4 address in a form inet_aton(3) accepts, which getaddrinfo (and so
 * `net.connect`, curl, ping) takes as a literal: 1 to 4 parts, each decimal,
 * octal (leading 0) or hex (0x), the last filling the remaining bytes
 * (`127.1`, `0x7f.1`, `017700000001`). Canonical dotted quad out (so an
 * address policy sees the real address), or undefined.
 *
 * @example
 * ```ts ignore
 * parseInetAton("127.1"); // { address: "127.0.0.1", family: 4 }
 * parseInetAton("0x7f.1"); // { address: "127.0.0.1", family: 4 }
 * parseInetAton("example.com"); // undefined
 * ```
 */
export function parseInetAton(value: string): IpLiteral | undefined {
  const parts = value.split(".");
  if (parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = /^0x[0-9a-f]+$/i.test(part)
      ? parseInt(part.slice(2), 16)
      : /^0[0-7]*$/.test(part)
      ? parseInt(part, 8)
      : /^[1-9][0-9]*$/.test(part)
      ? Number(part)
      : NaN;
    if (!Number.isSafeInteger(n)) return undefined;
    numbers.push(n);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  const bytes = [...numbers];
  for (let i = 3 - numbers.length; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return parseIp(bytes.join("."));
}
