/**
 * The SSRF corpus: addresses and names that `denyAddresses(INTERNAL_CATEGORIES)` must refuse before any SYN, each
 * row with where the trick comes from. Sources, by the short names used below:
 * - PATT: PayloadsAllTheThings, "Server Side Request Forgery" (README and its "Bypass" sections).
 * - HT: HackTricks, "URL Format Bypass" (SSRF).
 * - OWASP: OWASP SSRF Prevention Cheat Sheet.
 * - netmask: CVE-2021-28918 / CVE-2021-29418 (octal and hexadecimal IPv4 read as decimal).
 * - private-ip: CVE-2020-28360 and its follow-up issues (short, hex and octal forms; 0.0.0.0/8).
 * - node-ip: CVE-2023-42282 / CVE-2024-29415 (`ip.isPublic` on hex, octal, IPv4-mapped and `::` forms).
 * - ipaddr.js: its issues on IPv4-mapped and IPv4-compatible IPv6 classification.
 * - ssrf-filter: the ssrf-req-filter / request-filtering-agent issue trackers (rebinding, IPv6 forms, NAT64).
 * - RFC: the RFC that assigns the range (6890, 6598, 2544, 4291, 3056, 4380, 6052, 8215, 6761).
 * - cloud: the metadata endpoints cloud providers document (AWS, GCP, Azure, Alibaba, Oracle).
 *
 * A host may be refused in two ways, and both are before any SYN: as input (a `RangeError` naming the field, for
 * forms eyeballs does not take as an address, such as `127.1`), or by the policy (a `ConnectError` whose message says
 * "refused by policy" and names the range). Names are resolved by a fake resolver that reads numeric forms as
 * getaddrinfo's `inet_aton` does and maps the corpus's names to the internal addresses they resolve to (rebinding).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import { ConnectError } from "../../src/base/errors.ts";
import { denyAddresses, INTERNAL_CATEGORIES } from "../../src/addresses/policy.ts";
import type { Dialer, Family, Resolver } from "../../src/base/types.ts";

type Row = [host: string, source: string, resolvesTo?: string[]];

/** IPv4 hosts in every spelling the sources list. */
const IPV4: Row[] = [
  ["127.0.0.1", "PATT"],
  ["127.0.0.2", "PATT"],
  ["127.255.255.254", "RFC"],
  ["127.1", "PATT"],
  ["127.0.1", "PATT"],
  ["2130706433", "PATT"],
  ["0x7f000001", "PATT"],
  ["0x7f.0x0.0x0.0x1", "HT"],
  ["0x7f.1", "private-ip"],
  ["0177.0.0.1", "netmask"],
  ["0177.1", "private-ip"],
  ["017700000001", "PATT"],
  ["00000177.00000000.00000000.00000001", "HT"],
  ["0", "PATT"],
  ["0.0.0.0", "PATT"],
  ["0.0.0.1", "private-ip"],
  ["0x0", "node-ip"],
  ["10.0.0.1", "RFC"],
  ["10.255.255.255", "RFC"],
  ["012.0.0.1", "netmask"],
  ["0xa.0.0.1", "node-ip"],
  ["167772161", "HT"],
  ["172.16.0.1", "RFC"],
  ["172.31.255.254", "RFC"],
  ["0xac.0x10.0.1", "HT"],
  ["192.168.0.1", "RFC"],
  ["192.168.1.1", "PATT"],
  ["3232235777", "HT"],
  ["0xc0a80101", "HT"],
  ["0300.0250.1.1", "netmask"],
  ["100.64.0.1", "RFC"],
  ["100.127.255.254", "RFC"],
  ["100.100.100.200", "cloud"],
  ["198.18.0.1", "RFC"],
  ["198.19.255.254", "RFC"],
  ["169.254.169.254", "cloud"],
  ["169.254.170.2", "cloud"],
  ["169.254.0.1", "RFC"],
  ["2852039166", "PATT"],
  ["0xa9fea9fe", "PATT"],
  ["0251.0376.0251.0376", "PATT"],
  ["0xa9.0xfe.0xa9.0xfe", "HT"],
  ["169.254.43518", "HT"],
  ["224.0.0.1", "RFC"],
  ["239.255.255.250", "RFC"],
  ["255.255.255.255", "RFC"],
  ["127.0.0.1.", "ssrf-filter"],
  ["169.254.169.254.", "ssrf-filter"],
];

/** IPv6 hosts, IPv4 inside IPv6 in every form, and zone ids. */
const IPV6: Row[] = [
  ["::1", "PATT"],
  ["[::1]", "PATT"],
  ["0:0:0:0:0:0:0:1", "HT"],
  ["0000:0000:0000:0000:0000:0000:0000:0001", "HT"],
  ["::", "PATT"],
  ["[::]", "PATT"],
  ["0:0:0:0:0:0:0:0", "HT"],
  ["::ffff:127.0.0.1", "PATT"],
  ["[::ffff:127.0.0.1]", "PATT"],
  ["::ffff:7f00:1", "ipaddr.js"],
  ["0:0:0:0:0:ffff:7f00:1", "node-ip"],
  ["0000:0000:0000:0000:0000:ffff:7f00:0001", "node-ip"],
  ["::FFFF:7F00:1", "ipaddr.js"],
  ["::ffff:169.254.169.254", "PATT"],
  ["::ffff:a9fe:a9fe", "PATT"],
  ["::ffff:10.0.0.1", "ipaddr.js"],
  ["::ffff:192.168.1.1", "ipaddr.js"],
  ["::ffff:0.0.0.0", "node-ip"],
  ["::127.0.0.1", "ipaddr.js"],
  ["::7f00:1", "ipaddr.js"],
  ["::10.0.0.1", "ipaddr.js"],
  ["::ffff:0:127.0.0.1", "RFC"],
  ["::ffff:0:a9fe:a9fe", "RFC"],
  ["2002:7f00:1::", "ssrf-filter"],
  ["2002:7f00:0001::1", "ssrf-filter"],
  ["2002:a9fe:a9fe::", "ssrf-filter"],
  ["2002:c0a8:101::1", "ssrf-filter"],
  ["2002:a00:1::1", "ssrf-filter"],
  ["2001:0:4136:e378:8000:63bf:80ff:fffe", "RFC"], // Teredo, client 127.0.0.1 inverted
  ["2001:0:4136:e378:8000:63bf:f5ff:fffe", "RFC"], // Teredo, client 10.0.0.1 inverted
  ["64:ff9b::127.0.0.1", "ssrf-filter"],
  ["64:ff9b::7f00:1", "ssrf-filter"],
  ["64:ff9b::a9fe:a9fe", "ssrf-filter"],
  ["64:ff9b::10.0.0.1", "ssrf-filter"],
  ["64:ff9b:1::a00:1", "RFC"],
  ["64:ff9b:1::808:808", "RFC"],
  ["fe80::1", "PATT"],
  ["fe80::a9fe:a9fe", "PATT"],
  ["fe80::1%eth0", "HT"],
  ["[fe80::1%25eth0]", "HT"],
  ["fc00::1", "RFC"],
  ["fd00::1", "RFC"],
  ["fd00:ec2::254", "cloud"],
  ["fec0::1", "RFC"],
  ["ff02::1", "RFC"],
  ["2001:2::1", "RFC"],
];

/** Names that resolve to internal addresses: public wildcard services, metadata names, rebinding, localhost. */
const NAMES: Row[] = [
  ["localhost", "RFC", ["::1", "127.0.0.1"]],
  ["LOCALHOST", "RFC", ["::1", "127.0.0.1"]],
  ["localhost.", "RFC", ["::1", "127.0.0.1"]],
  ["api.localhost", "RFC", ["::1", "127.0.0.1"]],
  ["localhost.localdomain", "HT", ["127.0.0.1"]],
  ["ip6-localhost", "HT", ["::1"]],
  ["localtest.me", "PATT", ["127.0.0.1"]],
  ["customer1.app.localhost.my.company.127.0.0.1.nip.io", "PATT", ["127.0.0.1"]],
  ["127.0.0.1.nip.io", "PATT", ["127.0.0.1"]],
  ["169.254.169.254.nip.io", "PATT", ["169.254.169.254"]],
  ["10.0.0.1.sslip.io", "HT", ["10.0.0.1"]],
  ["spoofed.burpcollaborator.net", "PATT", ["127.0.0.1"]],
  ["metadata.google.internal", "cloud", ["169.254.169.254"]],
  ["metadata", "cloud", ["169.254.169.254"]],
  ["instance-data", "cloud", ["169.254.169.254"]],
  ["metadata.azure.internal", "cloud", ["169.254.169.254"]],
  ["7f000001.c0a80001.rbndr.us", "ssrf-filter", ["127.0.0.1"]], // rebinding: the answer alternates
  ["a9fea9fe.08080808.rbndr.us", "ssrf-filter", ["169.254.169.254"]],
  ["make-127-0-0-1-rr.1u.ms", "ssrf-filter", ["127.0.0.1"]],
  ["internal.example.test", "OWASP", ["10.0.0.5"]],
  ["dual.example.test", "OWASP", ["192.168.0.10", "fd00::10"]],
  ["mapped.example.test", "ipaddr.js", ["::ffff:127.0.0.1"]],
  ["nat64.example.test", "ssrf-filter", ["64:ff9b::a9fe:a9fe"]],
  ["cgnat.example.test", "RFC", ["100.64.1.1"]],
  ["bench.example.test", "RFC", ["198.18.0.10"]],
  ["zero.example.test", "private-ip", ["0.0.0.0"]],
  ["multicast.example.test", "RFC", ["224.0.0.251", "ff02::fb"]],
];

/** getaddrinfo's reading of a numeric IPv4 host (inet_aton: 1 to 4 parts, decimal, 0x hex or 0 octal), if it is one. */
function inetAton(host: string): string | undefined {
  const parts = host.split(".");
  if (parts.length > 4 || parts.some((p) => !/^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(p))) return undefined;
  const values = parts.map((p) => (/^0x/i.test(p) ? parseInt(p, 16) : /^0/.test(p) ? parseInt(p, 8) || 0 : Number(p)));
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return undefined;
  let n = last;
  values.forEach((v, i) => (n += v * 2 ** (8 * (3 - i))));
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

const named = new Map(NAMES.map(([host, , addresses]) => [host.toLowerCase().replace(/\.$/, ""), addresses!]));
const resolver: Resolver = {
  resolve(hostname: string, family: Family) {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    const addresses = named.get(name) ?? [inetAton(name) ?? "192.0.2.80"]; // an unknown name: a documentation one
    return Promise.resolve(addresses.filter((a) => a.includes(":") === (family === 6)));
  },
};

describe("the SSRF corpus: INTERNAL_CATEGORIES refuses each before any SYN", () => {
  it(`has ${IPV4.length + IPV6.length + NAMES.length} rows from ${new Set([...IPV4, ...IPV6, ...NAMES].map((r) => r[1])).size} sources`, () => {
    assert.ok(IPV4.length + IPV6.length + NAMES.length >= 100);
  });

  for (const [host, source] of [...IPV4, ...IPV6, ...NAMES]) {
    it(`${host} (${source})`, async () => {
      let dials = 0;
      const dialer: Dialer<string> = {
        dial: (target) => {
          dials++;
          return Promise.resolve(target.address);
        },
        close: () => {},
      };
      const error = await connect({
        hostname: host,
        port: 80,
        dialer,
        resolver,
        history: false,
        addressPolicy: denyAddresses(INTERNAL_CATEGORIES),
      }).then(() => undefined, (e: unknown) => e);
      assert.equal(dials, 0, `${host} was dialled`);
      if (error instanceof ConnectError) {
        assert.match(error.message, /refused by policy/, error.message);
      } else {
        assert.ok(error instanceof RangeError || error instanceof TypeError, `${host}: ${error}`);
        assert.match(String(error.message), /hostname/, "the error names the field");
      }
    });
  }
});
