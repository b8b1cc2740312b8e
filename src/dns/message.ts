/**
 * The DNS wire format (RFC 1035 §4), only as much as a stub resolver asking
 * for A or AAAA needs: build one query, and read the answer to it, checked
 * against the question (ID, name, type, class), following CNAMEs and keeping
 * the smallest TTL. Runtime-free: bytes in, values out.
 *
 * @module
 */

import { parseIp } from "../addresses/ip.ts";
import type { Family } from "../base/types.ts";

/** The record type asked for each family: A (1) for IPv4, AAAA (28) for IPv6. */
export const RECORD_TYPE: Readonly<Record<Family, number>> = { 4: 1, 6: 28 };
const CNAME = 5;
const SOA = 6;
const CLASS_IN = 1;

/** The response codes a stub resolver tells apart (RFC 1035 §4.1.1). */
export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;

/** One question: what a response must echo to be accepted. */
export interface DnsQuestion {
  /** The 16-bit message ID. */
  readonly id: number;
  /** The name asked, without the trailing dot. */
  readonly name: string;
  /** The family, which picks the record type. */
  readonly family: Family;
}

/** What a response says about the question. */
export interface DnsAnswer {
  /** The response code (see {@linkcode RCODE}). */
  readonly rcode: number;
  /** TC: the answer did not fit; ask again over TCP (its records are not read: `addresses` is empty). */
  readonly truncated: boolean;
  /** The addresses of the asked family, canonical, in the server's order. */
  readonly addresses: string[];
  /**
   * Seconds the answer may be kept: the smallest TTL of the records used (the
   * CNAME chain included); for a negative answer, the SOA's negative TTL
   * (RFC 2308 §5), or 0 without an SOA.
   */
  readonly ttl: number;
}

/**
 * Encodes a recursive query (RD set) for the A or AAAA records of `name`,
 * with an EDNS0 OPT record offering `udpPayload` bytes when it is above 0
 * (RFC 6891; 1232 is the DNS Flag Day 2020 size, which needs no IP
 * fragmentation).
 * Throws a TypeError for a name that cannot be sent: an empty label, a label
 * over 63 bytes, a name over 253 characters, or a non-ASCII character
 * (internationalised names must come as A-labels, `xn--…`).
 */
export function encodeQuery(question: DnsQuestion, udpPayload = 0): Uint8Array {
  const name = encodeName(question.name);
  const opt = udpPayload > 0 ? OPT_SIZE : 0;
  const bytes = new Uint8Array(12 + name.length + 4 + opt);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, question.id);
  view.setUint16(2, 0x0100); // RD: the server recurses for us
  view.setUint16(4, 1); // QDCOUNT
  bytes.set(name, 12);
  view.setUint16(12 + name.length, RECORD_TYPE[question.family]);
  view.setUint16(14 + name.length, CLASS_IN);
  if (opt) {
    // RFC 6891 §6.1.2: an OPT record (root owner, type 41) whose class is our UDP payload size.
    view.setUint16(10, 1); // ARCOUNT
    const at = 16 + name.length;
    view.setUint16(at + 1, OPT);
    view.setUint16(at + 3, udpPayload);
  }
  return bytes;
}

/** The OPT pseudo-record's type (RFC 6891). */
const OPT = 41;
/** Root owner (1), type, class, TTL (extended RCODE, version, flags), RDLENGTH 0. */
const OPT_SIZE = 11;

/** The name as length-prefixed labels, ending with the root label. */
function encodeName(name: string): Uint8Array {
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) throw new TypeError(`DNS name ${JSON.stringify(name)}: bad length`);
  const labels = bare.split(".");
  const out = new Uint8Array(bare.length + 2);
  let at = 0;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) {
      throw new TypeError(`DNS name ${JSON.stringify(name)}: a label is empty or over 63 bytes`);
    }
    out[at++] = label.length;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (c > 0x7e || c <= 0x20) throw new TypeError(`DNS name ${JSON.stringify(name)}: not an ASCII name`);
      out[at++] = c;
    }
  }
  out[at] = 0;
  return out;
}

/**
 * Reads the response to `question`. Returns `undefined` when the bytes are
 * not a response to it (another ID, not a response, another question, or
 * malformed): the caller keeps waiting, so a forged or stray datagram cannot
 * end the lookup.
 */
export function parseResponse(bytes: Uint8Array, question: DnsQuestion): DnsAnswer | undefined {
  try {
    return decodeResponse(bytes, question);
  } catch (error) {
    if (error instanceof DnsParseError) return undefined; // truncated mid-record, a pointer loop: not usable
    throw error; // anything else is a bug here, not a bad packet
  }
}

/** A response that cannot be read: cut short, a pointer loop, a name too long, a bad label type. */
export class DnsParseError extends Error {
  /** `reason` says what is wrong and where. */
  constructor(reason: string) {
    super(`malformed DNS response: ${reason}`);
    this.name = "DnsParseError";
  }
}

/**
 * {@linkcode parseResponse}, but a malformed response throws a
 * {@linkcode DnsParseError} (and nothing else) instead of giving
 * `undefined`; a well-formed response to another question still gives
 * `undefined`. Work is bounded by the packet: names are at most 255 bytes
 * and 64 compression pointers, every record is at least 11 bytes.
 */
export function decodeResponse(bytes: Uint8Array, question: DnsQuestion): DnsAnswer | undefined {
  if (bytes.length < 12) throw new DnsParseError(`${bytes.length} bytes, shorter than a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  if (view.getUint16(0) !== question.id || !(flags & 0x8000)) return undefined;
  // A server that does not know EDNS may answer FORMERR without the question (RFC 6891 §7): the caller asks
  // again without EDNS, so a forged one costs one more query, no more.
  if ((flags & 0x0f) === RCODE.formErr && view.getUint16(4) === 0) {
    return { rcode: RCODE.formErr, truncated: false, addresses: [], ttl: 0 };
  }
  if (view.getUint16(4) !== 1) return undefined;
  const type = RECORD_TYPE[question.family];
  const [qname, afterName] = readName(bytes, 12);
  need(bytes, afterName + 4, "question");
  if (!sameName(qname, question.name) || view.getUint16(afterName) !== type) return undefined;
  if (view.getUint16(afterName + 2) !== CLASS_IN) return undefined;
  const rcode = flags & 0x0f;
  // TC before the body: a truncated datagram may count records it does not hold, and the
  // caller asks again over TCP anyway (RFC 1035 §4.2.1). Its records are never used.
  if (flags & 0x0200) return { rcode, truncated: true, addresses: [], ttl: 0 };
  const answerCount = view.getUint16(6);
  const authorityCount = view.getUint16(8);

  let at = afterName + 4;
  const records: DnsRecord[] = [];
  for (let i = 0; i < answerCount + authorityCount; i++) {
    const record = readRecord(bytes, view, at);
    records.push({ ...record, section: i < answerCount ? "answer" : "authority" });
    at = record.end;
  }

  // Follow the CNAME chain from the question's name; use only records on it.
  let owner = question.name;
  let ttl = Infinity;
  for (let hops = 0; hops < 16; hops++) {
    const alias = records.find((r) => r.section === "answer" && r.type === CNAME && sameName(r.name, owner));
    if (!alias) break;
    ttl = Math.min(ttl, alias.ttl);
    owner = readName(bytes, alias.dataAt)[0];
  }
  const addresses: string[] = [];
  for (const r of records) {
    if (r.section !== "answer" || r.type !== type || r.class !== CLASS_IN || !sameName(r.name, owner)) continue;
    const address = formatAddress(bytes.subarray(r.dataAt, r.dataAt + r.length), question.family);
    if (address === undefined) continue;
    addresses.push(address);
    ttl = Math.min(ttl, r.ttl);
  }
  if (addresses.length === 0) ttl = negativeTtl(bytes, view, records);
  return { rcode, truncated: false, addresses, ttl: ttl === Infinity ? 0 : ttl };
}

interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  dataAt: number;
  length: number;
  end: number;
  section?: "answer" | "authority";
}

function readRecord(bytes: Uint8Array, view: DataView, at: number): DnsRecord {
  const [name, afterName] = readName(bytes, at);
  need(bytes, afterName + 10, "record header");
  const length = view.getUint16(afterName + 8);
  const end = afterName + 10 + length;
  need(bytes, end, "record data");
  // RFC 2181 §8: a TTL with the top bit set is read as 0.
  const raw = view.getUint32(afterName + 4);
  return {
    name,
    type: view.getUint16(afterName),
    class: view.getUint16(afterName + 2),
    ttl: raw > 0x7fffffff ? 0 : raw,
    dataAt: afterName + 10,
    length,
    end,
  };
}

/** RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) seconds. */
function negativeTtl(bytes: Uint8Array, view: DataView, records: DnsRecord[]): number {
  const soa = records.find((r) => r.section === "authority" && r.type === SOA);
  if (!soa) return 0;
  const [, afterMname] = readName(bytes, soa.dataAt);
  const [, afterRname] = readName(bytes, afterMname);
  if (afterRname + 20 > soa.end) throw new DnsParseError(`SOA at ${soa.dataAt} shorter than its fields`);
  return Math.min(soa.ttl, view.getUint32(afterRname + 16));
}

/** Throws unless the packet holds `end` bytes (`what` names the part cut short). */
function need(bytes: Uint8Array, end: number, what: string): void {
  if (end > bytes.length) throw new DnsParseError(`${what} past the end (${end} > ${bytes.length} bytes)`);
}

/** Compression pointers followed in one name at most (a loop ends here). */
const MAX_JUMPS = 64;
/** A name's wire length at most (RFC 1035 §3.1): bounds the work and memory of reading one. */
const MAX_NAME = 255;

/**
 * Reads a possibly compressed name at `at`; returns it and the offset after
 * it (in place). A dot inside a label is escaped (`\.`), so a label cannot
 * pass for two.
 */
function readName(bytes: Uint8Array, at: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  let size = 1; // the root label
  for (let jumps = 0; jumps <= MAX_JUMPS;) {
    need(bytes, at + 1, "name");
    const length = bytes[at];
    if (length === 0) return [labels.join("."), end < 0 ? at + 1 : end];
    if ((length & 0xc0) === 0xc0) {
      need(bytes, at + 2, "compression pointer");
      if (end < 0) end = at + 2;
      at = ((length & 0x3f) << 8) | bytes[at + 1];
      jumps++;
      continue;
    }
    if (length & 0xc0) throw new DnsParseError(`label type ${length >> 6} at ${at}`);
    need(bytes, at + 1 + length, "label");
    size += 1 + length;
    if (size > MAX_NAME) throw new DnsParseError(`a name over ${MAX_NAME} bytes at ${at}`);
    labels.push(String.fromCharCode(...bytes.subarray(at + 1, at + 1 + length)).replaceAll(".", "\\."));
    at += 1 + length;
  }
  throw new DnsParseError(`over ${MAX_JUMPS} compression pointers (a loop) in a name`);
}

/** DNS names compare case-insensitively (ASCII only), without the trailing dot. */
function sameName(a: string, b: string): boolean {
  const strip = (n: string) => (n.endsWith(".") ? n.slice(0, -1) : n).toLowerCase();
  return strip(a) === strip(b);
}

function formatAddress(data: Uint8Array, family: Family): string | undefined {
  if (family === 4) return data.length === 4 ? data.join(".") : undefined;
  if (data.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((data[i] << 8) | data[i + 1]).toString(16));
  return parseIp(groups.join(":"))?.address;
}
