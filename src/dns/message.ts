/**
 * The DNS wire format (RFC 1035 §4), only as much as a stub resolver asking
 * for A or AAAA needs: build one query, and read the answer to it, checked
 * against the question (ID, name, type, class), following CNAMEs and keeping
 * the smallest TTL. Runtime-free: bytes in, values out.
 *
 * @module
 */

import { parseIp } from "../addresses/ip.ts";
import type { Family, ServiceParams, ServiceRecord } from "../base/types.ts";

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
  /** The family, which picks the record type (A or AAAA) unless `type` is given. */
  readonly family: Family;
  /** Another record type to ask for: {@linkcode SVCB_TYPE} or {@linkcode HTTPS_TYPE}. */
  readonly type?: number;
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
  view.setUint16(12 + name.length, question.type ?? RECORD_TYPE[question.family]);
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
 * `onRecord`, when given, takes each record of the asked type on the owner
 * name instead of reading it as an address (SVCB and HTTPS).
 */
export function decodeResponse(
  bytes: Uint8Array,
  question: DnsQuestion,
  onRecord?: (record: DnsRecord) => void,
): DnsAnswer | undefined {
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
  const type = question.type ?? RECORD_TYPE[question.family];
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
  let used = 0;
  for (const r of records) {
    if (r.section !== "answer" || r.type !== type || r.class !== CLASS_IN || !sameName(r.name, owner)) continue;
    if (onRecord) {
      onRecord(r);
      used++;
      ttl = Math.min(ttl, r.ttl);
      continue;
    }
    const address = formatAddress(bytes.subarray(r.dataAt, r.dataAt + r.length), question.family);
    if (address === undefined) continue;
    addresses.push(address);
    ttl = Math.min(ttl, r.ttl);
  }
  if (addresses.length === 0 && used === 0) ttl = negativeTtl(bytes, view, records);
  return { rcode, truncated: false, addresses, ttl: ttl === Infinity ? 0 : ttl };
}

export interface DnsRecord {
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

/** RFC 9460: the SVCB record type. */
export const SVCB_TYPE = 64;
/** RFC 9460: the HTTPS record type (SVCB for the https scheme). */
export const HTTPS_TYPE = 65;

/** The SvcParamKeys this parser understands (RFC 9460 §14.3.2): `mandatory` may name only these. */
const KNOWN_KEYS = new Set([0, 1, 2, 3, 4, 5, 6]);
const KEY_NAMES = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"];

/**
 * A malformed SVCB or HTTPS record: the only error {@linkcode parseServiceRecord} throws.
 */
export class SvcbFormatError extends Error {
  /** A malformed record, `reason` saying what is wrong. */
  constructor(reason: string) {
    super(reason);
    this.name = "SvcbFormatError";
  }
}

/**
 * Decodes the RDATA of one SVCB or HTTPS record (RFC 9460 §2.2): SvcPriority,
 * TargetName (uncompressed, §2.2), SvcParams in strictly increasing key
 * order, each value checked as §7 requires. `owner` replaces a TargetName of
 * "." in ServiceMode. AliasMode's SvcParams are ignored (§2.4.2). A record
 * whose `mandatory` names a key this parser does not understand, or a key
 * that is not in the record, or whose `no-default-alpn` comes without `alpn`,
 * is refused too (§8, §7.1.1). Throws only {@linkcode SvcbFormatError}.
 */
export function parseServiceRecord(rdata: Uint8Array, owner = ""): ServiceRecord {
  if (rdata.length < 3) throw new SvcbFormatError("record shorter than a priority and a target");
  const view = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  const priority = view.getUint16(0);
  const labels: string[] = [];
  let at = 2;
  for (;;) {
    if (at >= rdata.length) throw new SvcbFormatError("TargetName runs past the record");
    const length = rdata[at];
    if (length === 0) break;
    if (length & 0xc0) throw new SvcbFormatError("TargetName is compressed (RFC 9460 §2.2 forbids it)");
    if (at + 1 + length > rdata.length) throw new SvcbFormatError("TargetName runs past the record");
    labels.push(String.fromCharCode(...rdata.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  at += 1;
  const named = labels.join(".");
  if (named.length > 253) throw new SvcbFormatError("TargetName longer than 253 characters");
  if (priority === 0) return { priority, target: named === "" ? "." : named, params: NO_PARAMS };
  const target = named === "" ? owner : named;
  const values = new Map<number, Uint8Array>();
  let lastKey = -1;
  while (at < rdata.length) {
    if (at + 4 > rdata.length) throw new SvcbFormatError("SvcParam header runs past the record");
    const key = view.getUint16(at);
    const length = view.getUint16(at + 2);
    if (key <= lastKey) throw new SvcbFormatError(`SvcParam key ${key} out of order (after ${lastKey})`);
    if (key === 65535) throw new SvcbFormatError("SvcParam key 65535 is reserved");
    if (at + 4 + length > rdata.length) throw new SvcbFormatError(`SvcParam ${keyName(key)} runs past the record`);
    values.set(key, new Uint8Array(rdata.subarray(at + 4, at + 4 + length))); // a plain copy, even of a Buffer
    lastKey = key;
    at += 4 + length;
  }
  return { priority, target, params: decodeParams(values) };
}

const NO_PARAMS: ServiceParams = Object.freeze({ noDefaultAlpn: false, unknown: Object.freeze([]) });

function keyName(key: number): string {
  return KEY_NAMES[key] ?? `key${key}`;
}

function decodeParams(values: Map<number, Uint8Array>): ServiceParams {
  const params: {
    -readonly [K in keyof ServiceParams]: ServiceParams[K];
  } = { noDefaultAlpn: false, unknown: [] };
  const unknown: { key: number; value: Uint8Array }[] = [];
  for (const [key, value] of values) {
    const name = keyName(key);
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    switch (key) {
      case 0: {
        if (value.length === 0 || value.length % 2) throw new SvcbFormatError("mandatory: length not a nonzero even");
        const keys: number[] = [];
        for (let i = 0; i < value.length; i += 2) {
          const listed = view.getUint16(i);
          if (listed === 0) throw new SvcbFormatError("mandatory lists mandatory");
          if (keys.length && listed <= keys[keys.length - 1]) {
            throw new SvcbFormatError("mandatory keys not in strictly increasing order");
          }
          keys.push(listed);
        }
        params.mandatory = keys;
        break;
      }
      case 1: {
        if (value.length === 0) throw new SvcbFormatError("alpn: empty");
        const ids: string[] = [];
        for (let i = 0; i < value.length;) {
          const length = value[i];
          if (length === 0 || i + 1 + length > value.length) throw new SvcbFormatError("alpn: bad protocol id length");
          ids.push(String.fromCharCode(...value.subarray(i + 1, i + 1 + length)));
          i += 1 + length;
        }
        params.alpn = ids;
        break;
      }
      case 2:
        if (value.length !== 0) throw new SvcbFormatError("no-default-alpn: must have no value");
        params.noDefaultAlpn = true;
        break;
      case 3:
        if (value.length !== 2) throw new SvcbFormatError("port: length not 2");
        params.port = view.getUint16(0);
        break;
      case 4:
      case 6: {
        const size = key === 4 ? 4 : 16;
        if (value.length === 0 || value.length % size) {
          throw new SvcbFormatError(`${name}: length not a nonzero multiple of ${size}`);
        }
        const addresses: string[] = [];
        for (let i = 0; i < value.length; i += size) {
          const address = formatAddress(value.subarray(i, i + size), key === 4 ? 4 : 6);
          if (address === undefined) throw new SvcbFormatError(`${name}: bad address`);
          addresses.push(address);
        }
        if (key === 4) params.ipv4hint = addresses;
        else params.ipv6hint = addresses;
        break;
      }
      case 5:
        if (value.length === 0) throw new SvcbFormatError("ech: empty");
        params.ech = value;
        break;
      default:
        unknown.push({ key, value });
    }
  }
  params.unknown = unknown;
  for (const key of params.mandatory ?? []) {
    if (!values.has(key)) throw new SvcbFormatError(`mandatory ${keyName(key)} is not in the record`);
    if (!KNOWN_KEYS.has(key)) throw new SvcbFormatError(`mandatory ${keyName(key)} is not supported`);
  }
  if (params.noDefaultAlpn && params.alpn === undefined) {
    throw new SvcbFormatError("no-default-alpn without alpn");
  }
  return params;
}

/** What a response says about an SVCB or HTTPS question. */
export interface DnsServiceAnswer {
  /** The response code (see {@linkcode RCODE}). */
  readonly rcode: number;
  /** TC: the answer did not fit; ask again over TCP. */
  readonly truncated: boolean;
  /** The usable records on the owner name (after CNAMEs), in the server's order. */
  readonly records: ServiceRecord[];
  /** Records left out, and why (malformed, an unsupported mandatory key). */
  readonly skipped: { readonly reason: string }[];
  /** As {@linkcode DnsAnswer.ttl}. */
  readonly ttl: number;
}

/**
 * Reads the response to an SVCB or HTTPS `question` (its `type` set), as
 * {@linkcode parseResponse} reads an address answer: `undefined` when it is
 * not a response to it. A bad record is skipped with its reason, never thrown;
 * when an AliasMode record is present, ServiceMode records are ignored (RFC
 * 9460 §2.4.2).
 */
export function parseServiceResponse(bytes: Uint8Array, question: DnsQuestion): DnsServiceAnswer | undefined {
  let answer: DnsAnswer | undefined;
  const found: DnsRecord[] = [];
  try {
    answer = decodeResponse(bytes, question, (record) => found.push(record));
  } catch {
    return undefined;
  }
  if (answer === undefined) return undefined;
  const records: ServiceRecord[] = [];
  const skipped: { reason: string }[] = [];
  for (const record of found) {
    try {
      records.push(parseServiceRecord(bytes.subarray(record.dataAt, record.dataAt + record.length), record.name));
    } catch (error) {
      skipped.push({ reason: `${record.name}: ${(error as Error).message}` });
    }
  }
  const alias = records.filter((r) => r.priority === 0);
  const { rcode, truncated, ttl } = answer;
  return { rcode, truncated, records: alias.length ? alias : records, skipped, ttl };
}
