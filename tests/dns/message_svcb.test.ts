/**
 * SVCB and HTTPS records (RFC 9460) from hand-built wire packets: every
 * SvcParam, the format checks, `mandatory`, and a property that the parser
 * throws nothing but its own error.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeQuery,
  HTTPS_TYPE,
  parseServiceRecord,
  parseServiceResponse,
  SvcbFormatError,
} from "../../src/dns/message.ts";
import { followAliases, MAX_ALIAS_CHAIN, serviceQuestion } from "../../src/dns/stub.ts";

const u16 = (n: number) => [n >> 8, n & 255];
const name = (text: string) =>
  text === "" ? [0] : [...text.split(".").flatMap((l) => [l.length, ...[...l].map((c) => c.charCodeAt(0))]), 0];
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** RDATA: priority, uncompressed target, then [key, value bytes] as given (order not fixed: tests break it). */
function rdata(priority: number, target: string, params: [number, number[]][] = []): Uint8Array {
  return new Uint8Array([
    ...u16(priority),
    ...name(target),
    ...params.flatMap(([key, value]) => [...u16(key), ...u16(value.length), ...value]),
  ]);
}

/** A response to `question` with `answers` (owner, type, ttl, rdata), owners written in full. */
function response(
  question: { id: number; name: string; type: number },
  answers: { owner: string; type: number; ttl: number; data: Uint8Array }[],
  flags = 0x8180,
): Uint8Array {
  return new Uint8Array([
    ...u16(question.id),
    ...u16(flags),
    ...u16(1),
    ...u16(answers.length),
    0,
    0,
    0,
    0,
    ...name(question.name),
    ...u16(question.type),
    ...u16(1),
    ...answers.flatMap((a) => [
      ...name(a.owner),
      ...u16(a.type),
      ...u16(1),
      0,
      0,
      ...u16(a.ttl),
      ...u16(a.data.length),
      ...a.data,
    ]),
  ]);
}

const ALPN = (...ids: string[]) => ids.flatMap((id) => [id.length, ...ascii(id)]);
const ECH = [0, 4, 0xfe, 0x0d, 0, 0];

describe("SVCB/HTTPS RDATA (RFC 9460)", () => {
  it("reads every SvcParam: mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint; unknown keys kept", () => {
    const record = parseServiceRecord(
      rdata(1, "svc.example.net", [
        [0, [...u16(1), ...u16(3)]],
        [1, ALPN("h2", "h3")],
        [2, []],
        [3, u16(8443)],
        [4, [192, 0, 2, 1, 192, 0, 2, 2]],
        [5, ECH],
        [6, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]],
        [7, ascii("/dns-query{?dns}")],
        [4000, [1, 2, 3]],
      ]),
      "example.com",
    );
    assert.equal(record.priority, 1);
    assert.equal(record.target, "svc.example.net");
    const { params } = record;
    assert.deepEqual(params.mandatory, [1, 3]);
    assert.deepEqual(params.alpn, ["h2", "h3"]);
    assert.equal(params.noDefaultAlpn, true);
    assert.equal(params.port, 8443);
    assert.deepEqual(params.ipv4hint, ["192.0.2.1", "192.0.2.2"]);
    assert.deepEqual([...params.ech!], ECH);
    assert.deepEqual(params.ipv6hint, ["2001:db8::1"]);
    assert.deepEqual(params.unknown.map((u) => [u.key, [...u.value]]), [[7, ascii("/dns-query{?dns}")], [4000, [
      1,
      2,
      3,
    ]]]);
  });

  it('ServiceMode target "." is the owner; AliasMode keeps "." (no service) and ignores its SvcParams', () => {
    assert.equal(parseServiceRecord(rdata(1, ""), "example.com").target, "example.com");
    const alias = parseServiceRecord(rdata(0, "", [[3, [1]]]), "example.com"); // a bad port, ignored in AliasMode
    assert.deepEqual([alias.priority, alias.target, alias.params.port], [0, ".", undefined]);
    assert.equal(parseServiceRecord(rdata(0, "pool.example.net")).target, "pool.example.net");
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array([0, 1]), /shorter/],
    ["target past the end", new Uint8Array([0, 1, 5, 0x61]), /TargetName runs past/],
    ["compressed target", new Uint8Array([0, 1, 0xc0, 12]), /compressed/],
    ["keys out of order", rdata(1, "", [[3, u16(443)], [1, ALPN("h2")]]), /key 1 out of order/],
    ["a duplicate key", rdata(1, "", [[1, ALPN("h2")], [1, ALPN("h3")]]), /out of order/],
    ["a truncated SvcParam", new Uint8Array([...rdata(1, "", [[3, u16(443)]]).slice(0, -1)]), /port runs past/],
    ["a truncated SvcParam header", new Uint8Array([...rdata(1, ""), 0, 1, 0]), /header runs past/],
    ["key 65535", rdata(1, "", [[65535, []]]), /reserved/],
    ["empty alpn", rdata(1, "", [[1, []]]), /alpn: empty/],
    ["alpn id of length 0", rdata(1, "", [[1, [0]]]), /alpn: bad/],
    ["alpn id past its value", rdata(1, "", [[1, [5, 0x68]]]), /alpn: bad/],
    ["no-default-alpn with a value", rdata(1, "", [[1, ALPN("h2")], [2, [0]]]), /must have no value/],
    ["no-default-alpn without alpn", rdata(1, "", [[2, []]]), /without alpn/],
    ["port of 3 bytes", rdata(1, "", [[3, [0, 1, 2]]]), /port: length/],
    ["ipv4hint of 5 bytes", rdata(1, "", [[4, [1, 2, 3, 4, 5]]]), /ipv4hint: length/],
    ["ipv6hint of 4 bytes", rdata(1, "", [[6, [1, 2, 3, 4]]]), /ipv6hint: length/],
    ["empty ech", rdata(1, "", [[5, []]]), /ech: empty/],
    ["mandatory of odd length", rdata(1, "", [[0, [0, 1, 2]]]), /mandatory: length/],
    ["mandatory listing mandatory", rdata(1, "", [[0, u16(0)]]), /lists mandatory/],
    ["mandatory out of order", rdata(1, "", [[0, [...u16(3), ...u16(1)]], [1, ALPN("h2")], [3, u16(1)]]), /order/],
    ["mandatory key missing", rdata(1, "", [[0, u16(3)]]), /mandatory port is not in the record/],
    ["mandatory key unknown", rdata(1, "", [[0, u16(9)], [9, [1]]]), /mandatory key9 is not supported/],
  ];
  for (const [what, data, reason] of bad) {
    it(`refuses ${what}, with its own error`, () => {
      assert.throws(
        () => parseServiceRecord(data, "example.com"),
        (e) => e instanceof SvcbFormatError && reason.test(e.message),
      );
    });
  }

  it("property: any bytes either parse or throw SvcbFormatError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          parseServiceRecord(bytes, "example.com");
        } catch (error) {
          if (!(error instanceof SvcbFormatError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
    // Well-formed heads with random SvcParams reach the value checks, not just the header's.
    const param = fc.tuple(fc.integer({ min: 0, max: 10 }), fc.uint8Array({ maxLength: 20 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.array(param, { maxLength: 6 }), (priority, params) => {
        const sorted = [...params].sort((a, b) => a[0] - b[0]).map(([k, v]): [number, number[]] => [k, [...v]]);
        try {
          const record = parseServiceRecord(rdata(priority, "x.test", sorted));
          assert.ok(record.priority === priority);
        } catch (error) {
          if (!(error instanceof SvcbFormatError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("SVCB/HTTPS responses", () => {
  const question = { id: 0x4242, name: "example.com", family: 4 as const, type: HTTPS_TYPE };

  it("the query asks type 65", () => {
    const query = encodeQuery(question);
    assert.deepEqual([...query.slice(-4)], [0, 65, 0, 1]);
  });

  it("reads the records of the answer; a bad one is skipped with its reason, the others kept", () => {
    const answer = parseServiceResponse(
      response(question, [
        { owner: "example.com", type: 65, ttl: 300, data: rdata(1, "", [[1, ALPN("h2")], [4, [192, 0, 2, 7]]]) },
        { owner: "example.com", type: 65, ttl: 60, data: rdata(2, "", [[3, u16(1)], [1, ALPN("h2")]]) },
        { owner: "example.com", type: 65, ttl: 200, data: rdata(3, "alt.example.com") },
      ]),
      question,
    );
    assert.ok(answer);
    assert.deepEqual(answer.records.map((r) => [r.priority, r.target]), [[1, "example.com"], [3, "alt.example.com"]]);
    assert.deepEqual(answer.records[0].params.ipv4hint, ["192.0.2.7"]);
    assert.equal(answer.skipped.length, 1);
    assert.match(answer.skipped[0].reason, /^example.com: SvcParam key 1 out of order/);
    assert.equal(answer.ttl, 60); // the smallest TTL of the records used
  });

  it("with an AliasMode record present, ServiceMode records are ignored", () => {
    const answer = parseServiceResponse(
      response(question, [
        { owner: "example.com", type: 65, ttl: 300, data: rdata(1, "") },
        { owner: "example.com", type: 65, ttl: 300, data: rdata(0, "pool.example.net") },
      ]),
      question,
    );
    assert.deepEqual(answer?.records.map((r) => [r.priority, r.target]), [[0, "pool.example.net"]]);
  });

  it("another ID, another type, or a query is not a response; garbage never throws", () => {
    const good = response(question, [{ owner: "example.com", type: 65, ttl: 1, data: rdata(1, "") }]);
    assert.equal(parseServiceResponse(good, { ...question, id: 1 }), undefined);
    assert.equal(parseServiceResponse(good, { ...question, type: 64 }), undefined);
    assert.equal(parseServiceResponse(encodeQuery(question), question), undefined);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length }), fc.uint8Array({ maxLength: 8 }), (cut, junk) => {
        const bytes = new Uint8Array([...good.slice(0, cut), ...junk]);
        const answer = parseServiceResponse(bytes, question);
        assert.ok(answer === undefined || Array.isArray(answer.records));
      }),
    );
  });
});

describe("asking for services", () => {
  it("HTTPS on 443 for the name, _port._https for https elsewhere, SVCB at _port._scheme; nothing otherwise", () => {
    assert.deepEqual(serviceQuestion("example.com.", 443), { name: "example.com", type: 65 });
    assert.deepEqual(serviceQuestion("example.com", 443, "https"), { name: "example.com", type: 65 });
    assert.deepEqual(serviceQuestion("example.com", 8443, "https"), { name: "_8443._https.example.com", type: 65 });
    assert.deepEqual(serviceQuestion("example.com", 853, "DNS"), { name: "_853._dns.example.com", type: 64 });
    assert.equal(serviceQuestion("example.com", 80), undefined);
    assert.equal(serviceQuestion("example.com", 80, "bad scheme"), undefined);
  });

  const ok = (records: { priority: number; target: string }[], ttl = 60) => ({
    rcode: 0,
    truncated: false,
    records: records.map((r) => ({ ...r, params: { noDefaultAlpn: false, unknown: [] } })),
    skipped: [],
    ttl,
  });

  it("follows AliasMode to the target's records, with the smallest TTL of the chain", async () => {
    const zone: Record<string, ReturnType<typeof ok>> = {
      "example.com": ok([{ priority: 0, target: "cdn.example.net" }], 30),
      "cdn.example.net": ok([{ priority: 1, target: "cdn.example.net" }], 300),
    };
    const asked: string[] = [];
    const answer = await followAliases({ name: "example.com", type: 65 }, (n) => {
      asked.push(n);
      return Promise.resolve(zone[n]);
    }, (n) => [n]);
    assert.deepEqual(asked, ["example.com", "cdn.example.net"]);
    assert.equal(answer.name, "cdn.example.net");
    assert.equal(answer.aliased, true);
    assert.deepEqual(answer.records.map((r) => r.priority), [1]);
    assert.equal(answer.ttl, 30);
    const direct = await followAliases(
      { name: "cdn.example.net", type: 65 },
      (n) => Promise.resolve(zone[n]),
      (n) => [n],
    );
    assert.equal(direct.aliased, undefined); // no alias followed: the name's own records
  });

  it("an alias loop, a chain past the bound, an alias to '.', and a failed query end with no records and a reason", async () => {
    const loop = await followAliases(
      { name: "a.test", type: 65 },
      (n) => Promise.resolve(ok([{ priority: 0, target: n === "a.test" ? "b.test" : "a.test" }])),
      (n) => [n],
    );
    assert.deepEqual(loop.records, []);
    assert.match(loop.skipped.at(-1)!.reason, /alias loop/);

    let asked = 0;
    const long = await followAliases({ name: "h0.test", type: 65 }, (n) => {
      asked++;
      return Promise.resolve(ok([{ priority: 0, target: `h${Number(n.slice(1, -5)) + 1}.test` }]));
    }, (n) => [n]);
    assert.equal(asked, MAX_ALIAS_CHAIN + 1);
    assert.match(long.skipped.at(-1)!.reason, /alias chain longer than 8/);

    const none = await followAliases(
      { name: "x.test", type: 65 },
      () => Promise.resolve(ok([{ priority: 0, target: "." }])),
      (n) => [n],
    );
    assert.deepEqual(none.records, []);
    assert.match(none.skipped[0].reason, /no service/);

    const failed = await followAliases(
      { name: "x.test", type: 65 },
      () => Promise.reject(new Error("EAI_AGAIN: x.test")),
      (n) => [n],
    );
    assert.deepEqual([failed.records, failed.skipped[0].reason], [[], "x.test: EAI_AGAIN: x.test"]);
  });
});
