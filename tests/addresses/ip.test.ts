import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAddressList, parseIp } from "../../src/addresses/ip.ts";

describe("IP literals", () => {
  const cases: Array<[string, string | undefined, (4 | 6)?]> = [
    ["192.0.2.1", "192.0.2.1", 4],
    ["0.0.0.0", "0.0.0.0", 4],
    ["255.255.255.255", "255.255.255.255", 4],
    ["256.0.0.1", undefined],
    ["192.0.2", undefined],
    ["192.0.2.01", undefined], // leading zeros are ambiguous (octal in some parsers)
    ["::1", "::1", 6],
    ["[::1]", "::1", 6],
    ["::", "::", 6],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1", 6],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 6], // first of equal runs
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", 6], // a single zero group stays
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1", 6],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201", 6],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", 6],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["1::2::3", undefined],
    ["1:2:3:4:5:6:7::8", undefined], // "::" must stand for at least one group
    ["12345::", undefined],
    ["fe80::1%eth0", undefined],
    ["[::1", undefined],
    ["example.com", undefined],
    ["", undefined],
  ];
  for (const [text, address, family] of cases) {
    it(`${JSON.stringify(text)} → ${address ?? "not an IP"}`, () => {
      const ip = parseIp(text);
      assert.deepEqual(ip, address === undefined ? undefined : { address, family });
    });
  }

  it("checks a resolver's answer", () => {
    assert.deepEqual(parseAddressList(["2001:DB8::1", "::1"], 6), ["2001:db8::1", "::1"]);
    assert.throws(() => parseAddressList("192.0.2.1", 4), { name: "TypeError", message: /array/ });
    assert.throws(() => parseAddressList([null], 4), { name: "TypeError", message: /null/ });
  });
});
