import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStubResolverWith, type DnsTransport } from "../../src/dns/stub.ts";
import type { DnsAnswer } from "../../src/dns/message.ts";
import { connect } from "../../src/connect/connect.ts";
import type { Family, Target } from "../../src/base/types.ts";

/** A zone: "name/family" → addresses (["servfail"]: SERVFAIL); a name absent from every key is NXDOMAIN. */
type Zone = Record<string, string[]>;

/** A transport answering from `zone`, recording each question as "name/family". */
function fakeDns(zone: Zone) {
  const asked: string[] = [];
  const transport: DnsTransport = (_server, name, family: Family): Promise<DnsAnswer> => {
    asked.push(`${name}/${family}`);
    const known = Object.keys(zone).some((k) => k.startsWith(`${name.toLowerCase()}/`));
    const addresses = zone[`${name.toLowerCase()}/${family}`] ?? [];
    if (addresses[0] === "servfail") return Promise.resolve({ rcode: 2, truncated: false, addresses: [], ttl: 0 });
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

  it("goes on to the next search domain after SERVFAIL from every server, as glibc's res_search does", async () => {
    const dns = fakeDns({ "y.bad.test/4": ["servfail"], "y.corp.test/4": ["192.0.2.25"] });
    await withFiles("nameserver 192.0.2.53\nsearch bad.test corp.test\noptions attempts:1\n", "", async (files) => {
      const stub = createStubResolverWith(files, dns.transport);
      assert.deepEqual(await stub.resolve("y", 4, open()), ["192.0.2.25"]);
      assert.deepEqual(dns.asked, ["y.bad.test/4", "y.corp.test/4"]);
    });
  });

  it("ends with EAI_AGAIN (not ENOTFOUND) when a SERVFAIL was seen and no candidate had the name", async () => {
    const dns = fakeDns({ "z.bad.test/4": ["servfail"] });
    await withFiles("nameserver 192.0.2.53\nsearch bad.test corp.test\noptions attempts:1\n", "", async (files) => {
      const stub = createStubResolverWith(files, dns.transport);
      await assert.rejects(stub.resolve("z", 4, open()), { code: "EAI_AGAIN" });
      assert.deepEqual(dns.asked, ["z.bad.test/4", "z.corp.test/4", "z/4"]);
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

describe("IPv4 literals in the forms getaddrinfo (inet_aton) accepts", () => {
  it("are dialled as the address they spell, without a resolver", async () => {
    const dialed: string[] = [];
    const dialer = {
      dial: (target: Target) => (dialed.push(target.address), Promise.resolve({ address: target.address })),
      close: () => {},
    };
    for (const hostname of ["127.1", "0x7f.1", "017700000001", "0x7F000001", "127.0.1", "2130706433", "0177.0.0.1"]) {
      await connect({ hostname, port: 80, dialer });
    }
    assert.deepEqual(dialed, Array(7).fill("127.0.0.1"));
  });

  it("are refused past their range, as inet_aton refuses them", async () => {
    const dialer = { dial: () => Promise.reject(new Error("no dial")), close: () => {} };
    for (const hostname of ["256.1.1.1", "1.2.3.256", "1.16777216", "4294967296", "08.1.1.1"]) {
      await assert.rejects(connect({ hostname, port: 80, dialer }), { name: "RangeError" }, hostname);
    }
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

describe("the stub resolver's files", () => {
  it("starts from files already read (the default resolver's one round of reads), not from the paths", async () => {
    const dns = fakeDns({ "remote.test/4": ["192.0.2.20"] });
    await withFiles("nameserver 192.0.2.53\n", "192.0.2.7 pinned.test\n", async (paths) => {
      const given = { resolvConf: "nameserver 192.0.2.53\n", hosts: "192.0.2.8 pinned.test\n" };
      const stub = createStubResolverWith(paths, dns.transport, given);
      assert.deepEqual(await stub.resolve("pinned.test", 4, open()), ["192.0.2.8"], "the given hosts text");
      assert.deepEqual(await stub.resolve("remote.test", 4, open()), ["192.0.2.20"]);
      assert.deepEqual(dns.asked, ["remote.test/4"]);
    });
  });
});
