import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { networkId } from "../../src/history/network.ts";
import { defaultGateways } from "../../src/adapters/shared/source_addresses.ts";

const HOME = [
  { address: "127.0.0.1", prefixLength: 8 },
  { address: "::1", prefixLength: 128 },
  { address: "192.168.1.20", prefixLength: 24 },
  { address: "2001:db8:1:2::20", prefixLength: 64 },
  { address: "fe80::1234", prefixLength: 64 },
];

describe("networkId", () => {
  it("is stable on one network: a new lease or a new temporary address in the same prefixes is the same network", () => {
    const home = networkId(HOME, ["192.168.1.1", "fe80::1"]);
    assert.match(home!, /^[0-9a-f]{16}$/);
    const renewed = [
      { address: "2001:db8:1:2:a:b:c:d", prefixLength: 64 }, // RFC 8981 temporary address
      { address: "192.168.1.77", prefixLength: 24 },
      { address: "fe80::9", prefixLength: 64 }, // link-local: says nothing
    ];
    assert.equal(networkId(renewed, ["fe80::1", "192.168.1.1"]), home); // order does not matter
  });

  it("changes with a prefix, a gateway, or a family gained or lost", () => {
    const home = networkId(HOME, ["192.168.1.1", "fe80::1"]);
    const ids = [
      networkId(HOME.map((s) => s.address === "192.168.1.20" ? { address: "10.1.0.20", prefixLength: 24 } : s), [
        "192.168.1.1",
        "fe80::1",
      ]),
      networkId(HOME, ["192.168.1.254", "fe80::1"]),
      networkId(HOME, ["192.168.1.1"]),
      networkId(HOME.filter((s) => !s.address.startsWith("2001:")), ["192.168.1.1", "fe80::1"]),
    ];
    for (const id of ids) assert.notEqual(id, home);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("an address without a prefix length counts whole; plain strings are accepted", () => {
    assert.notEqual(networkId(["192.0.2.1"]), networkId(["192.0.2.2"]));
    assert.equal(networkId(["192.0.2.1"]), networkId([{ address: "192.0.2.1" }]));
  });

  it("undefined when nothing names the network: only loopback and link-local, or nothing readable", () => {
    assert.equal(networkId([]), undefined);
    assert.equal(networkId(HOME.filter((s) => /^(127|::1|fe80)/.test(s.address))), undefined);
    assert.equal(networkId([{ address: "not an address", prefixLength: 3 }], ["nor this"]), undefined);
  });
});

describe("defaultGateways", () => {
  const ROUTE = [
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
    "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0",
    "",
  ].join("\n");
  const ROUTE6 = [
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0",
    "20010db8000100020000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0",
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo",
    "",
  ].join("\n");
  const files: Record<string, string> = { "/proc/net/route": ROUTE, "/proc/net/ipv6_route": ROUTE6 };

  it("reads the next hops of the default routes of both families from Linux's tables", () => {
    const gateways = defaultGateways((path) => files[path]);
    assert.deepEqual(gateways, ["192.168.1.1", "fe80:0000:0000:0000:0000:0000:0000:0001"]);
    assert.equal(networkId(HOME, gateways), networkId(HOME, ["192.168.1.1", "fe80::1"])); // canonical before hashing
  });

  it("is empty when the tables cannot be read (not Linux, no permission) or are garbage", () => {
    assert.deepEqual(
      defaultGateways(() => {
        throw new Error("ENOENT");
      }),
      [],
    );
    assert.deepEqual(defaultGateways(() => "garbage\n\0\0\n00000000 zz"), []);
  });
});
