import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AddressSelector,
  DEFAULT_POLICY_TABLE,
  type PolicyRow,
  selectorFor,
  type SourceAddress,
} from "../../src/addresses/rfc6724.ts";

// RFC 6724 §10.2, one row per example: the candidate source addresses, the destinations in the order
// the resolver gave them, and the order (with the source chosen for each) the RFC says results.
const RFC6724_EXAMPLES: Array<{
  rule: string;
  policyTable?: readonly PolicyRow[];
  sources: (string | SourceAddress)[];
  destinations: string[];
  expected: Array<[destination: string, source: string]>;
}> = [
  {
    rule: "prefer matching scope (global IPv6 source)",
    sources: ["2001:db8:1::2", "fe80::1", "169.254.13.78"],
    destinations: ["2001:db8:1::1", "198.51.100.121"],
    expected: [["2001:db8:1::1", "2001:db8:1::2"], ["198.51.100.121", "169.254.13.78"]],
  },
  {
    rule: "prefer matching scope (only a link-local IPv6 source)",
    sources: ["fe80::1", "198.51.100.117"],
    destinations: ["2001:db8:1::1", "198.51.100.121"],
    expected: [["198.51.100.121", "198.51.100.117"], ["2001:db8:1::1", "fe80::1"]],
  },
  {
    rule: "prefer higher precedence",
    sources: ["2001:db8:1::2", "fe80::1", "10.1.2.4"],
    destinations: ["10.1.2.3", "2001:db8:1::1"],
    expected: [["2001:db8:1::1", "2001:db8:1::2"], ["10.1.2.3", "10.1.2.4"]],
  },
  {
    rule: "prefer smaller scope",
    sources: ["2001:db8:1::2", "fe80::2"],
    destinations: ["2001:db8:1::1", "fe80::1"],
    expected: [["fe80::1", "fe80::2"], ["2001:db8:1::1", "2001:db8:1::2"]],
  },
  {
    rule: "avoid deprecated addresses",
    sources: ["2001:db8:1::2", { address: "fe80::2", deprecated: true }],
    destinations: ["fe80::1", "2001:db8:1::1"],
    expected: [["2001:db8:1::1", "2001:db8:1::2"], ["fe80::1", "fe80::2"]],
  },
  {
    rule: "longest matching prefix",
    sources: ["2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"],
    destinations: ["2001:db8:3ffe::1", "2001:db8:1::1"],
    expected: [["2001:db8:1::1", "2001:db8:1::2"], ["2001:db8:3ffe::1", "2001:db8:3f44::2"]],
  },
  {
    rule: "prefer matching label",
    sources: ["2002:c633:6401::2", "fe80::2"],
    destinations: ["2001:db8:1::1", "2002:c633:6401::1"],
    expected: [["2002:c633:6401::1", "2002:c633:6401::2"], ["2001:db8:1::1", "2002:c633:6401::2"]],
  },
  {
    rule: "prefer higher precedence (native over 6to4)",
    sources: ["2002:c633:6401::2", "2001:db8:1::2", "fe80::2"],
    destinations: ["2002:c633:6401::1", "2001:db8:1::1"],
    expected: [["2001:db8:1::1", "2001:db8:1::2"], ["2002:c633:6401::1", "2002:c633:6401::2"]],
  },
  // §10.3: IPv4 preferred (::ffff:0:0/96 at precedence 100)
  {
    rule: "§10.3 example 1: prefer IPv4 table, matching scope unchanged",
    policyTable: withRow({ prefix: "::ffff:0:0/96", precedence: 100, label: 4 }),
    sources: ["2001:db8::2", "fe80::1", "169.254.13.78"],
    destinations: ["198.51.100.121", "2001:db8::1"],
    expected: [["2001:db8::1", "2001:db8::2"], ["198.51.100.121", "169.254.13.78"]],
  },
  {
    rule: "§10.3 example 2: prefer IPv4 table, matching scope unchanged",
    policyTable: withRow({ prefix: "::ffff:0:0/96", precedence: 100, label: 4 }),
    sources: ["fe80::1", "198.51.100.117"],
    destinations: ["2001:db8::1", "198.51.100.121"],
    expected: [["198.51.100.121", "198.51.100.117"], ["2001:db8::1", "fe80::1"]],
  },
  {
    rule: "§10.3 example 3: prefer IPv4 table, higher precedence now IPv4",
    policyTable: withRow({ prefix: "::ffff:0:0/96", precedence: 100, label: 4 }),
    sources: ["2001:db8::2", "fe80::1", "10.1.2.4"],
    destinations: ["2001:db8::1", "10.1.2.3"],
    expected: [["10.1.2.3", "10.1.2.4"], ["2001:db8::1", "2001:db8::2"]],
  },
  // §10.4: link-local below global (fe80::/10 at precedence 33, label 1)
  {
    rule: "§10.4 example 1: link-local after global",
    policyTable: withRow({ prefix: "fe80::/10", precedence: 33, label: 1 }),
    sources: ["2001:db8::2", "fe80::2"],
    destinations: ["fe80::1", "2001:db8::1"],
    expected: [["2001:db8::1", "2001:db8::2"], ["fe80::1", "fe80::2"]],
  },
  {
    rule: "§10.4 example 2: a deprecated source still loses",
    policyTable: withRow({ prefix: "fe80::/10", precedence: 33, label: 1 }),
    sources: [{ address: "2001:db8::2", deprecated: true }, "fe80::2"],
    destinations: ["2001:db8::1", "fe80::1"],
    expected: [["fe80::1", "fe80::2"], ["2001:db8::1", "2001:db8::2"]],
  },
  // §10.6: ULA preference. The default table puts a global destination before a ULA one (precedence 40 over 3);
  // a site row fd11:1111:1111::/48 (precedence 45, label 14) puts the site's own ULAs first, and only those.
  {
    rule: "§10.6 example 1: global before ULA (default table)",
    sources: ["2001:db8:1::1", "fd11:1111:1111:1::1"],
    destinations: ["fd22:2222:2222:2::2", "2001:db8:2::2"],
    expected: [["2001:db8:2::2", "2001:db8:1::1"], ["fd22:2222:2222:2::2", "fd11:1111:1111:1::1"]],
  },
  {
    rule: "§10.6 example 2: a site ULA row leaves another site's ULA after global",
    policyTable: withRow({ prefix: "fd11:1111:1111::/48", precedence: 45, label: 14 }),
    sources: ["2001:db8:1::1", "fd11:1111:1111:1::1"],
    destinations: ["fd22:2222:2222:2::2", "2001:db8:2::2"],
    expected: [["2001:db8:2::2", "2001:db8:1::1"], ["fd22:2222:2222:2::2", "fd11:1111:1111:1::1"]],
  },
  {
    rule: "§10.6 example 3: a site ULA row puts the site's own ULA first",
    policyTable: withRow({ prefix: "fd11:1111:1111::/48", precedence: 45, label: 14 }),
    sources: ["2001:db8:1::1", "fd11:1111:1111:1::1"],
    destinations: ["2001:db8:2::2", "fd11:1111:1111:2::2"],
    expected: [["fd11:1111:1111:2::2", "fd11:1111:1111:1::1"], ["2001:db8:2::2", "2001:db8:1::1"]],
  },
  // §10.7: 6to4
  {
    rule: "§10.7 example 1: NATed IPv4 before 6to4-relayed IPv6 (matching label)",
    sources: ["2002:c633:6401::2", "10.1.2.3"],
    destinations: ["2001:db8:1::1", "203.0.113.1"],
    expected: [["203.0.113.1", "10.1.2.3"], ["2001:db8:1::1", "2002:c633:6401::2"]],
  },
  {
    rule: "§10.7 example 2: a site's own 6to4 prefix before NATed IPv4",
    policyTable: withRow({ prefix: "2002:c633:6401::/48", precedence: 45, label: 14 }),
    sources: ["2002:c633:6401:1::1", "10.1.2.3"],
    destinations: ["203.0.113.1", "2002:c633:6401:2::2"],
    expected: [["2002:c633:6401:2::2", "2002:c633:6401:1::1"], ["203.0.113.1", "10.1.2.3"]],
  },
];

/** The default policy table with `row` replacing the row of the same prefix, or added. */
function withRow(row: PolicyRow): PolicyRow[] {
  return [...DEFAULT_POLICY_TABLE.filter((r) => r.prefix !== row.prefix), row];
}

// RFC 6724 §10.1, one row per example: which source address a destination gets (RFC 6724 §5).
const SOURCE_EXAMPLES: Array<{
  rule: string;
  policyTable?: PolicyRow[];
  destination: string;
  sources: SourceAddress[];
  expected: string;
}> = [
  {
    rule: "prefer appropriate scope (global destination)",
    destination: "2001:db8:1::1",
    sources: [{ address: "2001:db8:3::1" }, { address: "fe80::1" }],
    expected: "2001:db8:3::1",
  },
  {
    rule: "prefer appropriate scope (site-local multicast destination)",
    destination: "ff05::1",
    sources: [{ address: "2001:db8:3::1" }, { address: "fe80::1" }],
    expected: "2001:db8:3::1",
  },
  {
    rule: "prefer same address, even deprecated",
    destination: "2001:db8:1::1",
    sources: [{ address: "2001:db8:1::1", deprecated: true }, { address: "2001:db8:2::1" }],
    expected: "2001:db8:1::1",
  },
  {
    rule: "prefer appropriate scope over avoiding deprecated",
    destination: "fe80::1",
    sources: [{ address: "fe80::2", deprecated: true }, { address: "2001:db8:1::1" }],
    expected: "fe80::2",
  },
  {
    rule: "longest matching prefix",
    destination: "2001:db8:1::1",
    sources: [{ address: "2001:db8:1::2" }, { address: "2001:db8:3::2" }],
    expected: "2001:db8:1::2",
  },
  {
    rule: "prefer home address",
    destination: "2001:db8:1::1",
    sources: [{ address: "2001:db8:1::2" }, { address: "2001:db8:3::2", home: true }],
    expected: "2001:db8:3::2",
  },
  {
    rule: "prefer matching label",
    destination: "2002:c633:6401::1",
    sources: [{ address: "2002:c633:6401::d5e3:7953:13eb:22e8" }, { address: "2001:db8:1::2" }],
    expected: "2002:c633:6401:0:d5e3:7953:13eb:22e8", // the RFC's text, in RFC 5952 form
  },
  {
    // The RFC reaches it by rule 7 (temporary addresses, unknown here); rule 8 picks the same one.
    rule: "prefer temporary address",
    destination: "2001:db8:1::d5e3:0:0:1",
    sources: [{ address: "2001:db8:1::2" }, { address: "2001:db8:1::d5e3:7953:13eb:22e8" }],
    expected: "2001:db8:1:0:d5e3:7953:13eb:22e8",
  },
  {
    // RFC 6724 §10.6 example 4 (its text prints the destination as "ff00:1"; ff00::1 is meant). ULAs have global
    // scope, so without the fc00::/7 row rule 8 would pick the ULA (6 common bits against 0); the labels decide.
    rule: "§10.6 example 4: prefer matching label over a ULA's longer match",
    destination: "ff00::1",
    sources: [{ address: "2001:db8:1::1" }, { address: "fd11:1111:1111:1::1" }],
    expected: "2001:db8:1::1",
  },
  {
    rule: "§10.6 example 4 also holds under the site ULA table of §10.6",
    policyTable: withRow({ prefix: "fd11:1111:1111::/48", precedence: 45, label: 14 }),
    destination: "ff00::1",
    sources: [{ address: "2001:db8:1::1" }, { address: "fd11:1111:1111:1::1" }],
    expected: "2001:db8:1::1",
  },
];

describe("RFC 6724 §10.1 and §10.6 examples (source address selection)", () => {
  for (const row of SOURCE_EXAMPLES) {
    it(row.rule, () => {
      const options = { policyTable: row.policyTable };
      assert.equal(new AddressSelector(row.sources, options).sourceFor(row.destination), row.expected);
      assert.equal(new AddressSelector([...row.sources].reverse(), options).sourceFor(row.destination), row.expected);
    });
  }
});

describe("RFC 6724 §10.2, §10.3, §10.4, §10.6 and §10.7 examples (destination address selection)", () => {
  for (const row of RFC6724_EXAMPLES) {
    it(row.rule, () => {
      const selector = new AddressSelector(row.sources, { policyTable: row.policyTable });
      const sorted = selector.sort(row.destinations);
      assert.deepEqual(sorted.map((d) => [d, selector.sourceFor(d)]), row.expected);
      // The order must not depend on the order the resolver gave.
      assert.deepEqual(selector.sort([...row.destinations].reverse()), sorted);
    });
  }
});

describe("hosts without global IPv6 (rules 1 and 2, 5)", () => {
  const cases: Array<{ host: string; sources: string[]; leading: 4 | 6 }> = [
    { host: "link-local IPv6 only", sources: ["::1", "127.0.0.1", "fe80::1", "192.0.2.2"], leading: 4 },
    { host: "ULA IPv6 only", sources: ["::1", "127.0.0.1", "fd00::2", "fe80::1", "192.0.2.2"], leading: 4 },
    { host: "no IPv6 at all", sources: ["127.0.0.1", "192.0.2.2"], leading: 4 },
    { host: "6to4 IPv6 only", sources: ["2002:c000:202::1", "192.0.2.2"], leading: 4 },
    { host: "global IPv6", sources: ["::1", "2001:db8::2", "fe80::1", "192.0.2.2"], leading: 6 },
    { host: "IPv6 only", sources: ["::1", "2001:db8::2"], leading: 6 },
  ];
  for (const { host, sources, leading } of cases) {
    it(`${host}: IPv${leading} first`, () => {
      const selector = new AddressSelector(sources);
      assert.equal(selector.leadingFamily, leading);
      const sorted = selector.sort(["2001:db8:5::1", "198.51.100.1"]);
      assert.equal(sorted[0].includes(":") ? 6 : 4, leading);
    });
  }

  it("the default table puts even a ULA destination after IPv4 (rule 6: precedence 3 < 35)", () => {
    const selector = new AddressSelector(["fd00::2", "192.0.2.2"]);
    assert.deepEqual(selector.sort(["fd00::53", "198.51.100.1"]), ["198.51.100.1", "fd00::53"]);
  });

  it("a family with no source at all is tried last (rule 1)", () => {
    const selector = new AddressSelector(["2001:db8::2"]);
    assert.deepEqual(selector.sort(["192.0.2.1", "2001:db8::1"]), ["2001:db8::1", "192.0.2.1"]);
    assert.equal(selector.sourceFor("192.0.2.1"), undefined);
    assert.equal(selector.hasIPv4Route, false);
  });

  it("only a loopback or link-local IPv4 source is no IPv4 route", () => {
    assert.equal(new AddressSelector(["127.0.0.1", "169.254.1.1", "2001:db8::2"]).hasIPv4Route, false);
    assert.equal(new AddressSelector(["10.0.0.2"]).hasIPv4Route, true);
  });

  it("loopback destinations: ::1 before 127.0.0.1 (precedence 50 over 35)", () => {
    const selector = new AddressSelector(["::1", "127.0.0.1", "192.0.2.2"]);
    assert.deepEqual(selector.sort(["127.0.0.1", "::1"]), ["::1", "127.0.0.1"]);
  });
});

describe("the system's order within a family", () => {
  it("is kept where the rules see no difference (rule 10)", () => {
    const selector = new AddressSelector(["2001:db8::2", "192.0.2.2"]);
    const v4 = ["198.51.100.9", "192.0.2.77", "203.0.113.5"]; // rule 9 is not applied to IPv4
    assert.deepEqual(selector.sort(v4), v4);
    const v6 = ["2001:db8:0:1::9", "2001:db8:0:2::1"]; // both share 48 bits with the source's /64: a tie
    assert.deepEqual(selector.sort(v6), v6);
  });

  it("is changed where a rule says so (Teredo after native)", () => {
    const selector = new AddressSelector(["2001:db8::2", "192.0.2.2"]);
    assert.deepEqual(selector.sort(["2001:0:4136:e378::1", "2001:db8::1"]), ["2001:db8::1", "2001:0:4136:e378::1"]);
  });

  it("rule 9 stops at the source's prefix length", () => {
    const wide = new AddressSelector([{ address: "2001:db8:1::2", prefixLength: 32 }, "2001:db8:2::2"]);
    // with a /32 the first source matches no more than 32 bits; the second, its own /64, matches more
    assert.equal(wide.sourceFor("2001:db8:1::1"), "2001:db8:1::2");
  });
});

describe("sourceAddresses checks", () => {
  it("names the bad entry", () => {
    assert.throws(() => new AddressSelector(["192.0.2.1", "nope"]), /sourceAddresses\[1\] must be an IP address/);
    assert.throws(() => new AddressSelector("x" as never), /sourceAddresses must be an array/);
    assert.throws(
      () => new AddressSelector([{ address: "2001:db8::1", prefixLength: 129 }]),
      /sourceAddresses\[0\]\.prefixLength must be an integer from 0 to 128/,
    );
  });

  it("checks a policy table, naming the bad row", () => {
    assert.throws(
      () => new AddressSelector([], { policyTable: [{ prefix: "10.0.0.0/8", precedence: 1, label: 1 }] }),
      /policyTable\[0\]\.prefix must be an IPv6 "address\/length"/,
    );
    assert.throws(
      () => new AddressSelector([], { policyTable: [{ prefix: "::1/128", precedence: 1, label: 1 }] }),
      /policyTable needs a ::\/0 row/,
    );
  });

  it("builds one selector per array", () => {
    const sources = ["192.0.2.2"];
    assert.equal(selectorFor(sources), selectorFor(sources));
    assert.notEqual(selectorFor(sources), selectorFor([...sources]));
  });
});
