import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ADDRESS_CATEGORIES,
  classifyAddress,
  denyAddresses,
  INTERNAL_CATEGORIES,
  nat64Translatable,
  refusalOf,
  seeThroughNat64,
} from "../../src/addresses/policy.ts";
import { parseNat64Prefix, synthesizeNat64, WELL_KNOWN_NAT64_PREFIX } from "../../src/addresses/nat64.ts";

// [address, category, embedded form] for every range, in both families and every IPv6 form of IPv4.
const CLASSES: Array<[string, string | undefined, string?]> = [
  ["0.0.0.0", "unspecified"],
  ["::", "unspecified"],
  ["127.0.0.1", "loopback"],
  ["127.255.0.9", "loopback"],
  ["::1", "loopback"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["fec0::1", "private"],
  ["100.64.0.1", "cgnat"],
  ["100.127.255.255", "cgnat"],
  ["169.254.169.254", "link-local"], // the cloud metadata endpoint
  ["fe80::1", "link-local"],
  ["fd00::1", "unique-local"],
  ["fc00::1", "unique-local"],
  ["224.0.0.1", "multicast"],
  ["ff02::1", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["192.0.2.1", "documentation"],
  ["198.51.100.1", "documentation"],
  ["203.0.113.1", "documentation"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation"],
  ["::ffff:127.0.0.1", "loopback", "IPv4-mapped"],
  ["::ffff:10.0.0.1", "private", "IPv4-mapped"],
  ["::127.0.0.1", "loopback", "IPv4-compatible"],
  ["::ffff:0:a9fe:a9fe", "link-local", "IPv4-translated"],
  ["2002:7f00:1::", "loopback", "6to4"],
  ["2002:a9fe:a9fe::1", "link-local", "6to4"],
  ["64:ff9b::7f00:1", "loopback", "NAT64"],
  ["64:ff9b::a00:1", "private", "NAT64"],
  ["2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback", "Teredo"], // client 127.0.0.1, inverted
  // RFC 8215 local-use NAT64: the operator picks where the IPv4 sits, so the whole /48 is local (issue 15, item 21).
  ["64:ff9b:1::a00:1", "private"],
  ["64:ff9b:1:7f00:1::", "private"],
  ["64:ff9b:1::808:808", "private"],
  // ordinary addresses
  ["8.8.8.8", undefined],
  ["172.32.0.1", undefined],
  ["100.128.0.1", undefined],
  ["2606:4700::1", undefined],
  ["2002:808:808::1", undefined], // 6to4 of 8.8.8.8
  ["64:ff9b::808:808", undefined],
];

describe("address classes", () => {
  for (const [address, category, form] of CLASSES) {
    it(`${address}: ${category ?? "ordinary"}${form ? ` (${form})` : ""}`, () => {
      const found = classifyAddress(address);
      assert.equal(found?.category, category);
      assert.equal(found?.embedded?.form, form);
    });
  }

  it("looks through a network's own NAT64 prefix when told", () => {
    const policy = denyAddresses(INTERNAL_CATEGORIES, { nat64Prefixes: ["2001:db8:64::/48"] });
    assert.equal(policy("2001:db8:64:7f00:0:100::", 6), "loopback (NAT64 127.0.0.1)");
    assert.equal(denyAddresses(INTERNAL_CATEGORIES)("2001:db8:64:7f00:0:100::", 6), true);
    assert.throws(() => denyAddresses([], { nat64Prefixes: ["2001:db8::/33"] }), /nat64Prefixes\[0\]/);
  });
});

describe("denyAddresses", () => {
  it("refuses every category by default, with the reason", () => {
    const policy = denyAddresses();
    assert.equal(policy("10.0.0.1", 4), "private");
    assert.equal(policy("2002:7f00:1::", 6), "loopback (6to4 127.0.0.1)");
    assert.equal(policy("192.0.2.1", 4), "documentation");
    assert.equal(policy("8.8.8.8", 4), true);
  });

  it("INTERNAL_CATEGORIES let documentation prefixes through", () => {
    const policy = denyAddresses(INTERNAL_CATEGORIES);
    assert.equal(policy("192.0.2.1", 4), true);
    assert.equal(policy("2001:db8::1", 6), true);
    assert.equal(policy("::ffff:127.0.0.1", 6), "loopback (IPv4-mapped 127.0.0.1)");
    assert.equal(ADDRESS_CATEGORIES.length, INTERNAL_CATEGORIES.length + 1);
  });

  it("rejects unknown categories", () => {
    assert.throws(() => denyAddresses(["loopbak" as never]), /unknown address category "loopbak"/);
  });

  it("a policy that throws or answers nonsense refuses (fails closed)", () => {
    assert.equal(refusalOf(() => true, "192.0.2.1", 4), undefined);
    assert.equal(refusalOf(() => false, "192.0.2.1", 4), "refused");
    assert.equal(refusalOf(() => "nope", "192.0.2.1", 4), "nope");
    assert.equal(refusalOf(() => 1 as never, "192.0.2.1", 4), "refused");
    assert.equal(
      refusalOf(
        () => {
          throw new Error("boom");
        },
        "192.0.2.1",
        4,
      ),
      "the policy threw: boom",
    );
  });
});

describe("which IPv4 addresses NAT64 may carry", () => {
  const custom = parseNat64Prefix("2001:db8:64::/96");
  it("never this host's or its link's", () => {
    for (const prefix of [custom, WELL_KNOWN_NAT64_PREFIX]) {
      for (const ipv4 of ["0.0.0.0", "127.0.0.1", "169.254.1.1", "224.0.0.1", "255.255.255.255"]) {
        assert.equal(nat64Translatable(ipv4, prefix), false, `${ipv4} under ${prefix.prefix}`);
      }
    }
  });

  it("only global addresses under the well-known prefix (RFC 6052 §3.1, RFC 5735 §3)", () => {
    const nonGlobal = [
      "10.0.0.1",
      "172.16.0.1",
      "192.168.1.1",
      "100.64.0.1",
      "192.0.2.10",
      "198.51.100.1",
      "203.0.113.1",
      "192.0.0.8",
      "198.18.0.1",
      "240.0.0.1",
    ];
    for (const ipv4 of nonGlobal) {
      assert.equal(nat64Translatable(ipv4, WELL_KNOWN_NAT64_PREFIX), false, ipv4);
      assert.equal(nat64Translatable(ipv4, custom), true, `${ipv4} under a network-specific prefix`);
    }
    for (const ipv4 of ["8.8.8.8", "172.32.0.1", "100.128.0.1", "192.88.99.1"]) {
      assert.equal(nat64Translatable(ipv4, WELL_KNOWN_NAT64_PREFIX), true, ipv4);
    }
  });
});

describe("a policy that sees through the NAT64 prefix in use", () => {
  // Network-specific prefixes of every length: denyAddresses alone does not know them.
  for (const text of ["2001:db8:64::/96", "2001:db8:122:344::/64", "2001:db8:100::/40", "2001:db8::/32"]) {
    it(`refuses internal IPv4 addresses under ${text}, allows the rest`, () => {
      const prefix = parseNat64Prefix(text);
      const plain = denyAddresses(INTERNAL_CATEGORIES);
      const policy = seeThroughNat64(plain, prefix);
      for (
        const [ipv4, category] of [["10.0.0.1", "private"], ["127.0.0.1", "loopback"], [
          "169.254.169.254",
          "link-local",
        ]]
      ) {
        const synthesized = synthesizeNat64(ipv4, prefix);
        assert.equal(plain(synthesized, 6), true, `without the prefix ${synthesized} passes`);
        assert.equal(policy(synthesized, 6), `${category} (NAT64 ${ipv4})`);
      }
      assert.equal(policy(synthesizeNat64("192.0.2.10", prefix), 6), true);
      assert.equal(policy("10.0.0.1", 4), "private", "other addresses are checked as before");
    });
  }

  it("still checks the IPv6 address itself, and hands the caller's policy the IPv4 inside", () => {
    const seen: string[] = [];
    const prefix = parseNat64Prefix("2001:db8:64::/96");
    const policy = seeThroughNat64((address, family) => {
      seen.push(`${address}/${family}`);
      return family === 4 || "only IPv4 here";
    }, prefix);
    assert.equal(policy("2001:db8:64::c000:20a", 6), "only IPv4 here");
    assert.deepEqual(seen, ["192.0.2.10/4", "2001:db8:64::c000:20a/6"]);
  });
});
