import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStubResolverWith, type DnsTransport } from "../../src/dns/stub.ts";
import type { DnsAnswer } from "../../src/dns/message.ts";
import { connect } from "../../src/connect/connect.ts";
import type { Family, Target } from "../../src/base/types.ts";

/** A zone: "name/family" → addresses; a name absent from every key is NXDOMAIN. */
type Zone = Record<string, string[]>;

/** A transport answering from `zone`, recording each question as "name/family". */
function fakeDns(zone: Zone) {
  const asked: string[] = [];
  const transport: DnsTransport = (_server, name, family: Family): Promise<DnsAnswer> => {
    asked.push(`${name}/${family}`);
    const known = Object.keys(zone).some((k) => k.startsWith(`${name.toLowerCase()}/`));
    const addresses = zone[`${name.toLowerCase()}/${family}`] ?? [];
    return Promise.resolve({ rcode: known ? 0 : 3, truncated: false, addresses, ttl: 30 });
  };
  return { transport, asked };
}

/** Runs `test` with a resolv.conf and a hosts file of the given texts in a fresh folder. */
async function withFiles(
  resolvConf: string,
  hosts: string,
  test: (files: { resolvConf: string; hostsFile: string }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "eyeballs-stub-"));
  try {
    writeFileSync(join(dir, "resolv.conf"), resolvConf);
    writeFileSync(join(dir, "hosts"), hosts);
    await test({ resolvConf: join(dir, "resolv.conf"), hostsFile: join(dir, "hosts") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const open = () => new AbortController().signal;

describe("the stub resolver's search list", () => {
  it("asks an absolute name (trailing dot) only as given, never with a search domain (glibc's res_search)", async () => {
    // A wildcard in the search domain would answer api.example.com.corp.example: the absolute name must not reach it.
    const dns = fakeDns({
      "api.example.com/4": ["192.0.2.10"],
      "api.example.com.corp.example/4": ["192.0.2.66"],
    });
    await withFiles("nameserver 192.0.2.53\nsearch corp.example\noptions ndots:5\n", "", async (files) => {
      const stub = createStubResolverWith(files, dns.transport);
      assert.deepEqual(await stub.resolve("api.example.com.", 4, open()), ["192.0.2.10"]);
      assert.deepEqual(dns.asked, ["api.example.com/4"]);
      // The same name without the dot is relative: with ndots:5 the search domain comes first.
      assert.deepEqual(await stub.resolve("api.example.com", 4, open()), ["192.0.2.66"]);
    });
  });

  it("gets the trailing dot from connect(): the host check keeps it", async () => {
    const asked: string[] = [];
    const resolver = { resolve: (name: string) => (asked.push(name), Promise.resolve(["127.0.0.1"])) };
    const dialer = {
      dial: (target: Target) => Promise.resolve({ address: target.address }),
      close: () => {},
    };
    await connect({ hostname: "api.example.com.", port: 80, dialer, resolver, family: 4 });
    assert.deepEqual(asked, ["api.example.com."]);
  });
});

describe("the stub resolver's hosts file", () => {
  it("answers a name the hosts file pins for one family from the file alone: no DNS query for the other (glibc)", async () => {
    const dns = fakeDns({ "pinned.lab/4": ["192.0.2.99"], "pinned.lab/6": ["2001:db8::99"] });
    await withFiles("nameserver 192.0.2.53\n", "192.0.2.7 pinned.lab\n", async (files) => {
      const stub = createStubResolverWith(files, dns.transport);
      assert.deepEqual(await stub.resolveWithTtl("pinned.lab", 4, open()), { addresses: ["192.0.2.7"], ttl: 0 });
      assert.deepEqual(await stub.resolveWithTtl("PINNED.lab", 6, open()), { addresses: [], ttl: 0 });
      assert.deepEqual(dns.asked, []);
    });
  });

  it("still asks DNS for a name the hosts file does not list", async () => {
    const dns = fakeDns({ "other.lab/6": ["2001:db8::5"] });
    await withFiles("nameserver 192.0.2.53\n", "192.0.2.7 pinned.lab\n", async (files) => {
      const stub = createStubResolverWith(files, dns.transport);
      assert.deepEqual(await stub.resolve("other.lab", 6, open()), ["2001:db8::5"]);
      assert.deepEqual(dns.asked, ["other.lab/6"]);
    });
  });
});
