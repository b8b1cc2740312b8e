import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeQuery, parseResponse, RCODE } from "../../src/dns/message.ts";

/** Bytes from hex, spaces ignored; "'text'" is ASCII. */
function bytes(spec: string): Uint8Array {
  const out: number[] = [];
  for (const part of spec.match(/'[^']*'|[0-9a-f]{2}/gi) ?? []) {
    if (part.startsWith("'")) { for (const c of part.slice(1, -1)) out.push(c.charCodeAt(0)); }
    else out.push(parseInt(part, 16));
  }
  return new Uint8Array(out);
}

const HEADER = (flags: string, an: number, ns = 0) =>
  `12 34 ${flags} 00 01 00 ${an.toString(16).padStart(2, "0")} 00 ${ns.toString(16).padStart(2, "0")} 00 00`;
const WWW_AAAA = "03 'www' 07 'example' 03 'com' 00 00 1c 00 01"; // at offset 12; "example.com" at 16
const question = { id: 0x1234, name: "www.example.com", family: 6 as const };

describe("encodeQuery", () => {
  it("writes the ID, RD, one question, the labels, AAAA and IN", () => {
    assert.deepEqual(
      encodeQuery(question),
      bytes(`12 34 01 00 00 01 00 00 00 00 00 00 ${WWW_AAAA}`),
    );
  });
  it("asks type A for family 4 and drops a trailing dot", () => {
    assert.deepEqual(
      encodeQuery({ id: 1, name: "a.b.", family: 4 }),
      bytes("00 01 01 00 00 01 00 00 00 00 00 00 01 'a' 01 'b' 00 00 01 00 01"),
    );
  });
  it("adds an EDNS0 OPT record offering the UDP payload size when asked (RFC 6891)", () => {
    assert.deepEqual(
      encodeQuery(question, 1232),
      bytes(`12 34 01 00 00 01 00 00 00 00 00 01 ${WWW_AAAA} 00 00 29 04 d0 00 00 00 00 00 00`),
    );
  });
  it("refuses names it cannot send, naming the name", () => {
    for (const name of ["", "a..b", "x".repeat(64) + ".com", "é.example", "a b.example", "a.".repeat(127) + "a"]) {
      assert.throws(() => encodeQuery({ id: 1, name, family: 4 }), TypeError, name);
    }
  });
});

describe("parseResponse", () => {
  const cnameThenAaaa = bytes(
    `${HEADER("81 80", 2)} ${WWW_AAAA}` +
      " c0 0c 00 05 00 01 00 00 01 2c 00 02 c0 10" + // www CNAME example.com, TTL 300
      " c0 10 00 1c 00 01 00 00 00 3c 00 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01", // AAAA, TTL 60
  );

  it("follows a compressed CNAME and keeps the smallest TTL", () => {
    assert.deepEqual(parseResponse(cnameThenAaaa, question), {
      rcode: RCODE.noError,
      truncated: false,
      addresses: ["2001:db8::1"],
      ttl: 60,
    });
  });
  it("compares the question's name without regard to case", () => {
    assert.equal(parseResponse(cnameThenAaaa, { ...question, name: "WWW.Example.COM." })?.addresses.length, 1);
  });
  it("ignores an answer to another ID, another name, another type, or a query", () => {
    assert.equal(parseResponse(cnameThenAaaa, { ...question, id: 0x1235 }), undefined);
    assert.equal(parseResponse(cnameThenAaaa, { ...question, name: "mail.example.com" }), undefined);
    assert.equal(parseResponse(cnameThenAaaa, { ...question, family: 4 }), undefined);
    assert.equal(parseResponse(encodeQuery(question), question), undefined);
    assert.equal(parseResponse(bytes("12 34 81"), question), undefined);
  });
  it("uses only records on the CNAME chain (no out-of-bailiwick extras)", () => {
    const extra = bytes(
      `${HEADER("81 80", 1)} ${WWW_AAAA}` +
        " 04 'evil' 00 00 1c 00 01 00 00 00 3c 00 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 66",
    );
    assert.deepEqual(parseResponse(extra, question)?.addresses, []);
  });
  it("reports truncation (TC) so the caller retries over TCP", () => {
    assert.equal(parseResponse(bytes(`${HEADER("83 80", 0)} ${WWW_AAAA}`), question)?.truncated, true);
  });
  it("reports truncation (TC) even when the header counts more records than the datagram holds (a cut body)", () => {
    // Three AAAA records counted, one and a half present: the server cut the datagram at its limit.
    const cut = bytes(
      `${HEADER("83 80", 3)} ${WWW_AAAA}` +
        " c0 0c 00 1c 00 01 00 00 00 3c 00 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01" +
        " c0 0c 00 1c 00 01 00 00 00 3c 00 10 20 01",
    );
    assert.deepEqual(parseResponse(cut, question), { rcode: RCODE.noError, truncated: true, addresses: [], ttl: 0 });
    // Not even the whole question: still not an answer to it.
    assert.equal(parseResponse(bytes(`${HEADER("83 80", 3)} 03 'www' 07`), question), undefined);
  });
  it("reads FORMERR without a question (a server that does not know EDNS0), so the caller asks without it", () => {
    assert.deepEqual(parseResponse(bytes("12 34 81 01 00 00 00 00 00 00 00 00"), question), {
      rcode: RCODE.formErr,
      truncated: false,
      addresses: [],
      ttl: 0,
    });
    assert.equal(parseResponse(bytes("12 35 81 01 00 00 00 00 00 00 00 00"), question), undefined); // another ID
  });
  it("reads NXDOMAIN with the SOA's negative TTL: min(TTL, MINIMUM)", () => {
    const nx = bytes(
      `${HEADER("81 83", 0, 1)} ${WWW_AAAA}` +
        " c0 10 00 06 00 01 00 00 0e 10 00 1a" + // example.com SOA, TTL 3600, rdlength 26
        " 01 'a' 00 01 'b' 00 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 1e", // MINIMUM 30
    );
    assert.deepEqual(parseResponse(nx, question), { rcode: RCODE.nxDomain, truncated: false, addresses: [], ttl: 30 });
  });
  it("reads a TTL with the top bit set as 0 (RFC 2181 §8)", () => {
    const odd = bytes(
      `${HEADER("81 80", 1)} ${WWW_AAAA}` +
        " c0 0c 00 1c 00 01 80 00 00 00 00 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02",
    );
    assert.deepEqual(parseResponse(odd, question)?.ttl, 0);
  });
  it("rejects a compression loop and a record running past the end", () => {
    const loop = bytes(`${HEADER("81 80", 1)} ${WWW_AAAA} c0 21 00 1c`);
    assert.equal(parseResponse(loop, question), undefined);
    const short = bytes(`${HEADER("81 80", 1)} ${WWW_AAAA} c0 0c 00 1c 00 01 00 00 00 3c 00 10 20 01`);
    assert.equal(parseResponse(short, question), undefined);
  });
  it("skips an address record of the wrong length", () => {
    const bad = bytes(`${HEADER("81 80", 1)} ${WWW_AAAA} c0 0c 00 1c 00 01 00 00 00 3c 00 04 c0 00 02 01`);
    assert.deepEqual(parseResponse(bad, question)?.addresses, []);
  });
  it("reads A records as dotted quads", () => {
    const a = bytes(
      "00 07 81 80 00 01 00 01 00 00 00 00 01 'a' 00 00 01 00 01 c0 0c 00 01 00 01 00 00 00 05 00 04 c0 00 02 07",
    );
    assert.deepEqual(parseResponse(a, { id: 7, name: "a", family: 4 }), {
      rcode: 0,
      truncated: false,
      addresses: ["192.0.2.7"],
      ttl: 5,
    });
  });
});
