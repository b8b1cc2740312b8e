import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  discoverNat64Prefix,
  extractNat64,
  nat64Resolver,
  parseNat64Prefix,
  prefixOfIpv4OnlyAnswer,
  synthesizeNat64,
  WELL_KNOWN_NAT64_PREFIX,
} from "../../src/addresses/nat64.ts";
import type { Family, Resolver } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";

// RFC 6052 §2.4, the examples table: 192.0.2.33 under each prefix.
const RFC6052_EXAMPLES: Array<[prefix: string, synthesized: string]> = [
  ["2001:db8::/32", "2001:db8:c000:221::"],
  ["2001:db8:100::/40", "2001:db8:1c0:2:21::"],
  ["2001:db8:122::/48", "2001:db8:122:c000:2:2100::"],
  ["2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"],
  ["2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"],
  ["2001:db8:122:344::/96", "2001:db8:122:344::c000:221"], // written 2001:db8:122:344::192.0.2.33 in the RFC
];

describe("RFC 6052 address synthesis", () => {
  for (const [text, synthesized] of RFC6052_EXAMPLES) {
    it(`192.0.2.33 under ${text}`, () => {
      const prefix = parseNat64Prefix(text);
      assert.equal(synthesizeNat64("192.0.2.33", prefix), synthesized);
      assert.equal(extractNat64(synthesized, prefix), "192.0.2.33");
    });
  }

  it("the well-known prefix", () => {
    assert.equal(synthesizeNat64("192.0.2.33", WELL_KNOWN_NAT64_PREFIX), "64:ff9b::c000:221");
    assert.equal(extractNat64("2001:db8::1", WELL_KNOWN_NAT64_PREFIX), undefined);
  });

  it("rejects bad prefixes, naming the field", () => {
    assert.throws(() => parseNat64Prefix("64:ff9b::/80"), /nat64Prefix must be an IPv6 prefix of length 32/);
    assert.throws(() => parseNat64Prefix("192.0.2.0/96"), /nat64Prefix/);
    assert.throws(() => parseNat64Prefix(42, "x"), /^RangeError: x must/);
    assert.deepEqual(parseNat64Prefix("2001:db8:122:344:ffff::/64"), { prefix: "2001:db8:122:344::", length: 64 });
  });
});

describe("RFC 7050 prefix discovery", () => {
  it("finds the prefix length from where 192.0.0.170/171 sits", () => {
    for (const [text] of RFC6052_EXAMPLES) {
      const prefix = parseNat64Prefix(text);
      assert.deepEqual(prefixOfIpv4OnlyAnswer(synthesizeNat64("192.0.0.170", prefix)), prefix);
      assert.deepEqual(prefixOfIpv4OnlyAnswer(synthesizeNat64("192.0.0.171", prefix)), prefix);
    }
    assert.equal(prefixOfIpv4OnlyAnswer("2001:db8::1"), undefined);
  });

  it("asks ipv4only.arpa once, shares and caches the answer, and gives up on silence", async () => {
    const clock = new FakeClock();
    const asked: string[] = [];
    const resolver: Resolver = {
      resolve: (name: string, family: Family) => {
        asked.push(`${name}/${family}`);
        return Promise.resolve(["64:ff9b::c000:aa", "64:ff9b::c000:ab"]);
      },
    };
    const signal = new AbortController().signal;
    const [a, b] = await Promise.all([
      discoverNat64Prefix(resolver, clock, signal),
      discoverNat64Prefix(resolver, clock, signal),
    ]);
    assert.deepEqual(a, WELL_KNOWN_NAT64_PREFIX);
    assert.deepEqual(b, WELL_KNOWN_NAT64_PREFIX);
    assert.deepEqual(asked, ["ipv4only.arpa/6"]);
    await clock.advance(599_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked.length, 1, "cached for 10 minutes");
    await clock.advance(2_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked.length, 2, "asked again once expired");

    const silent: Resolver = { resolve: () => new Promise(() => {}) };
    const pending = discoverNat64Prefix(silent, clock, signal);
    await clock.advance(2_000);
    assert.equal(await pending, undefined);
  });

  it("keeps the prefix for the TTL of the ipv4only.arpa answer when the resolver reports one", async () => {
    const clock = new FakeClock();
    let asked = 0;
    const resolver: Resolver = {
      resolve: () => Promise.reject(new Error("resolveWithTtl must be preferred")),
      resolveWithTtl: () => {
        asked++;
        return Promise.resolve({ addresses: ["64:ff9b::c000:aa"], ttl: 90 });
      },
    };
    const signal = new AbortController().signal;
    assert.deepEqual(await discoverNat64Prefix(resolver, clock, signal), WELL_KNOWN_NAT64_PREFIX);
    await clock.advance(89_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked, 1, "kept within the TTL");
    await clock.advance(1_000);
    assert.deepEqual(await discoverNat64Prefix(resolver, clock, signal), WELL_KNOWN_NAT64_PREFIX);
    assert.equal(asked, 2, "asked again once the TTL ran out, not after the fixed 10 minutes");
  });

  it("a TTL longer than the fixed lifetime is honoured too; a TTL of 0 (unknown) gets the fixed lifetime", async () => {
    const clock = new FakeClock();
    let asked = 0;
    let ttl = 3_600;
    const resolver: Resolver = {
      resolve: () => Promise.reject(new Error("unused")),
      resolveWithTtl: () => {
        asked++;
        return Promise.resolve({ addresses: ["2001:db8:122:344::c000:ab"], ttl });
      },
    };
    const signal = new AbortController().signal;
    assert.deepEqual(await discoverNat64Prefix(resolver, clock, signal), parseNat64Prefix("2001:db8:122:344::/96"));
    await clock.advance(3_599_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked, 1, "kept for the hour the TTL says, beyond the fixed 10 minutes");
    ttl = 0; // what autoResolver reports when it falls back to getaddrinfo
    await clock.advance(1_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked, 2, "asked again once the hour ran out");
    await clock.advance(599_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked, 2, "TTL 0: kept for the fixed 10 minutes");
    await clock.advance(1_000);
    await discoverNat64Prefix(resolver, clock, signal);
    assert.equal(asked, 3);
  });

  it("no AAAA for ipv4only.arpa means no NAT64", async () => {
    const clock = new FakeClock();
    const resolver: Resolver = { resolve: () => Promise.reject(Object.assign(new Error("x"), { code: "ENOTFOUND" })) };
    assert.equal(await discoverNat64Prefix(resolver, clock, new AbortController().signal), undefined);
  });
});

describe("NAT64 resolver", () => {
  const table = (answers: Partial<Record<Family, string[] | Error>>): Resolver => ({
    resolve: (_n: string, family: Family) => {
      const answer = answers[family] ?? [];
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  });
  const signal = new AbortController().signal;

  it("keeps a AAAA answer (native or DNS64)", async () => {
    const r = nat64Resolver(table({ 6: ["2001:db8::1"], 4: ["192.0.2.1"] }), WELL_KNOWN_NAT64_PREFIX);
    assert.deepEqual(await r.resolve("x", 6, signal), ["2001:db8::1"]);
  });

  it("synthesizes from the A answer of an A-only name, leaving out what cannot be translated", async () => {
    const r = nat64Resolver(
      table({ 4: ["192.0.2.1", "127.0.0.1"] }),
      WELL_KNOWN_NAT64_PREFIX,
      (a) => a !== "127.0.0.1",
    );
    assert.deepEqual(await r.resolve("x", 6, signal), ["64:ff9b::c000:201"]);
  });

  it("reports the AAAA failure when both fail", async () => {
    const r = nat64Resolver(table({ 6: new Error("aaaa failed"), 4: new Error("a failed") }), WELL_KNOWN_NAT64_PREFIX);
    await assert.rejects(r.resolve("x", 6, signal), /aaaa failed/);
    const empty = nat64Resolver(table({ 4: new Error("a failed") }), WELL_KNOWN_NAT64_PREFIX);
    await assert.rejects(empty.resolve("x", 6, signal), /a failed/);
  });
});
