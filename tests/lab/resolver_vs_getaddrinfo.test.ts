/**
 * Differential suite: eyeballs' resolvers against glibc's getaddrinfo.
 *
 * In the lab's client namespace, whose /etc/resolv.conf, /etc/hosts and
 * /etc/nsswitch.conf (`ip netns exec` bind-mounts /etc/netns/NAME/* over
 * /etc) this test writes for each configuration, a matrix of names is asked
 * through `getent ahosts` (getaddrinfo, AF_UNSPEC) and through the stub and
 * auto resolvers (tests/lab/gai_client.ts, under the runtime running this
 * file). The address sets of each family must agree; a name glibc cannot
 * resolve must give eyeballs no address. Order within a family is not
 * compared: glibc sorts by RFC 6724 (and gai.conf), eyeballs sorts later,
 * in the race.
 *
 * Deliberate differences (docs/known-limits.md says why), skipped by name:
 * - `*.localhost` and `localhost.` are loopback in eyeballs (RFC 6761 §6.3);
 *   glibc asks /etc/hosts (which lists `localhost` without the dot) and DNS.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable } from "./lab.ts";
import { fromSource, runtime } from "../helpers/cli_entry.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

const here = dirname(fileURLToPath(import.meta.url));
const client = join(here, fromSource ? "gai_client.ts" : "gai_client.js");
const command = (): [string, string[]] =>
  runtime === "deno" ? [process.execPath, ["run", "-A", "--quiet", client]] : [process.execPath, [client]];

const HOSTS = [
  "127.0.0.1 localhost",
  "::1 localhost ip6-localhost",
  "192.0.2.30 pinned.test", // DNS has other addresses of both families for it
  "192.0.2.32 both.test",
  "2001:db8::32 both.test",
].join("\n") + "\n";

/** Names every configuration asks. */
const NAMES = [
  "a.corp.test", // in DNS, both families
  "a", // relative, dotless: through the search list
  "A.CORP.TEST", // case
  "api.example.test", // relative with dots: as given first under ndots:1, search first under ndots:5
  "api.example.test.", // absolute: never through the search list
  "db", // dotless name that exists as given and in a search domain
  "db.", // absolute dotless name
  "pinned.test", // hosts: IPv4 only; DNS: both
  "both.test", // hosts: both families
  "pinned.test.", // absolute, in hosts
  "localhost.", // absolute localhost
  "x", // NXDOMAIN in the first search domain, found in the second
  "y", // SERVFAIL in the first search domain, found in the second
  "clean.test", // TC over UDP, no records: TCP
  "cut.test", // TC over UDP, counts past the end of the datagram: TCP
  "big.test", // 40 AAAA records: over 512 bytes
  "www.alias.test", // a CNAME chain of two
  "WWW.Alias.Test.", // the same, absolute and in another case
  "www", // relative, through the search list, then the chain
  "dangling.test", // a CNAME to a name that does not exist
  "nx.test", // NXDOMAIN
  "nodata.test", // known name, no records
  "localhost",
  "app.localhost", // deliberate difference: RFC 6761
  "192.0.2.20", // IPv4 literal
  "2001:db8::20", // IPv6 literal
  "127.1", // inet_aton's short form
  "0x7f.1", // hex
  "017700000001", // octal, one number
];

/** Names for the configurations whose first server is dead (each lookup there waits out a timeout). */
const FEW = ["a.corp.test", "a", "api.example.test.", "pinned.test", "nx.test"];

const base = "options timeout:1 attempts:1";
const CONFIGS: Array<{ id: string; resolvConf: string; names: string[] }> = [
  { id: "ndots1", resolvConf: `nameserver 192.0.2.53\nsearch bad.test corp.test\n${base} ndots:1\n`, names: NAMES },
  { id: "ndots5", resolvConf: `nameserver 192.0.2.53\nsearch bad.test corp.test\n${base} ndots:5\n`, names: NAMES },
  {
    id: "v6-server rotate",
    resolvConf:
      "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch corp.test\noptions rotate timeout:1 attempts:2\n",
    names: NAMES,
  },
  {
    id: "first server dead",
    resolvConf: `nameserver 192.0.2.99\nnameserver 192.0.2.53\nsearch corp.test\n${base}\n`,
    names: FEW,
  },
  {
    id: "dead server, attempts 2",
    resolvConf: "nameserver 192.0.2.99\nsearch corp.test\noptions timeout:1 attempts:2\n",
    names: ["a.corp.test"],
  },
];

/** Deliberate differences: the name, and why (docs/known-limits.md). */
const DELIBERATE: Record<string, string> = {
  "app.localhost": "RFC 6761 §6.3: eyeballs answers loopback for *.localhost; glibc asks DNS",
  "localhost.": "RFC 6761 §6.3: the absolute localhost is loopback too; glibc's files source does not match it",
};

/** Deliberate differences of `lookup` from `dns.lookup` (docs/clients.md): the name and family asked, and why. */
const DELIBERATE_LOOKUP: Record<string, string> = {
  "pinned.test family 6": "a name the hosts file lists is answered from it alone, for every family; " +
    "glibc asks DNS for the family the file lacks when only that family is asked",
};

describe("resolver vs getaddrinfo (lab)", { skip: skip ?? false, timeout: 300_000 }, () => {
  let lab: Lab;
  const results: Record<string, Record<string, Record<string, Record<string, string[] | string>>>> = {};

  before(async () => {
    lab = await Lab.start({ count: 8 });
    const zone: Record<string, Parameters<Lab["setDns"]>[1]> = {
      "a.corp.test": { A: ["192.0.2.20"], AAAA: ["2001:db8::20"] },
      "api.example.test": { A: ["192.0.2.21"] },
      "api.example.test.corp.test": { A: ["192.0.2.66"] }, // what a wildcard in the search domain answers
      "api.example.test.bad.test": { A: ["192.0.2.67"] },
      "db": { A: ["192.0.2.23"] },
      "db.corp.test": { A: ["192.0.2.22"] },
      "pinned.test": { A: ["192.0.2.31"], AAAA: ["2001:db8::31"] },
      "both.test": { A: ["192.0.2.33"], AAAA: ["2001:db8::33"] },
      "x.corp.test": { A: ["192.0.2.24"] },
      "y.bad.test": { A: { fail: "servfail" }, AAAA: { fail: "servfail" } },
      "y.corp.test": { A: ["192.0.2.25"] },
      "clean.test": { A: { addrs: ["192.0.2.26", "192.0.2.27"], truncate: "clean" } },
      "cut.test": { A: { addrs: ["192.0.2.26", "192.0.2.27"], truncate: "cut" } },
      "big.test": { AAAA: Array.from({ length: 40 }, (_, i) => `2001:db8::1:${i.toString(16)}`) },
      "nodata.test": { A: [] },
      "www.alias.test": { CNAME: "edge.alias.test" },
      "edge.alias.test": { CNAME: "a.corp.test" },
      "www.corp.test": { CNAME: "edge.alias.test" }, // a relative name reaching a chain through the search list
      "dangling.test": { CNAME: "nowhere.test" },
    };
    for (const [name, rules] of Object.entries(zone)) await lab.setDns(name, rules);
    const etc = `/etc/netns/${lab.clientNs}`;
    const nsswitch = readFileSync(join(etc, "nsswitch.conf"), "utf8");
    assert.match(nsswitch, /^hosts:\s+files dns$/m);
    writeFileSync(join(etc, "hosts"), HOSTS);
    const [cmd, args] = command();
    for (const config of CONFIGS) {
      writeFileSync(join(etc, "resolv.conf"), config.resolvConf);
      // lookup beside dns.lookup where every server answers: a dead server's timeouts are the resolvers' case above.
      const lookups = !config.id.includes("dead");
      const r = await lab.exec(cmd, args, {
        input: JSON.stringify({ names: config.names, lookups }),
        timeoutMs: 240_000,
      });
      assert.equal(r.code, 0, r.stderr);
      results[config.id] = JSON.parse(r.stdout.trim().split("\n").pop()!);
    }
  });
  after(async () => {
    await lab?.stop();
  });

  /** Addresses per family or an error code, from a `dns.lookup`-shaped function. */
  type Side = Record<string, string[] | string>;
  /**
   * Each family's addresses as a set: order is RFC 6724's business, not compared here, and glibc repeats an address
   * (127.0.0.1 for `localhost` with family 4, from the hosts file's two lines) where eyeballs never does.
   */
  const sorted = (side: Side): Side =>
    Object.fromEntries(
      Object.entries(side).map(([f, list]) => [f, typeof list === "string" ? list : [...new Set(list)].sort()]),
    );

  /** The addresses of one family as a sorted list; an error is no address. */
  const set = (side: string[] | string) => (typeof side === "string" ? [] : [...side].sort());

  it("gives the same addresses as getaddrinfo for every name and configuration (deliberate differences aside)", () => {
    const differences: string[] = [];
    let compared = 0;
    let deliberate = 0;
    for (const config of CONFIGS) {
      for (const name of config.names) {
        const row = results[config.id][name];
        for (const resolver of ["stub", "auto", "system"]) {
          compared++;
          const same = [4, 6].every((f) => JSON.stringify(set(row.glibc[f])) === JSON.stringify(set(row[resolver][f])));
          if (same) continue;
          const line = `${config.id} ${name} ${resolver}: glibc ${JSON.stringify(row.glibc)} eyeballs ${
            JSON.stringify(row[resolver])
          }`;
          if (DELIBERATE[name]) deliberate++;
          else differences.push(line);
        }
      }
    }
    console.log(
      `resolver vs getaddrinfo: ${compared} comparisons (name × configuration × resolver), ${deliberate} deliberate differences`,
    );
    assert.deepEqual(differences, []);
  });

  it("lookup gives what the runtime's dns.lookup gives: addresses per family, or its error code (deliberate differences aside)", () => {
    const differences: string[] = [];
    let compared = 0;
    for (const config of CONFIGS.filter((c) => !c.id.includes("dead"))) {
      for (const name of config.names) {
        if (DELIBERATE[name]) continue;
        const row = results[config.id][name] as unknown as Record<"dnsLookup" | "lookup", Record<string, Side>>;
        for (const family of ["0", "4", "6"]) {
          if (DELIBERATE_LOOKUP[`${name} family ${family}`]) continue;
          compared++;
          const [theirs, ours] = [row.dnsLookup[family], row.lookup[family]];
          if (JSON.stringify(sorted(theirs)) === JSON.stringify(sorted(ours))) continue;
          // inet_aton's forms asked as IPv6: Node says EAI_ADDRFAMILY, as eyeballs does; Deno 2.9 ENOTFOUND, Bun 1.4 EBADFAMILY.
          const code = { deno: "ENOTFOUND", bun: "EBADFAMILY", node: undefined }[runtime];
          if (ours[4] === "EAI_ADDRFAMILY" && theirs[4] === code) continue;
          differences.push(
            `${config.id} ${name} family ${family}: dns.lookup ${JSON.stringify(theirs)} lookup ${
              JSON.stringify(ours)
            }`,
          );
        }
      }
    }
    console.log(`lookup vs dns.lookup: ${compared} comparisons (name × configuration × family)`);
    assert.deepEqual(differences, []);
  });

  it("compares real answers: the cases the matrix is for resolve as intended (not failing on both sides)", () => {
    const glibc = (config: string, name: string) => results[config][name].glibc;
    assert.deepEqual(glibc("ndots1", "api.example.test"), { 4: ["192.0.2.21"], 6: [] });
    assert.deepEqual(glibc("ndots5", "api.example.test"), { 4: ["192.0.2.67"], 6: [] }); // the first search domain
    assert.deepEqual(glibc("ndots5", "api.example.test."), { 4: ["192.0.2.21"], 6: [] }); // absolute
    assert.deepEqual(glibc("ndots1", "pinned.test"), { 4: ["192.0.2.30"], 6: [] }); // the hosts pin alone
    assert.deepEqual(glibc("ndots1", "y"), { 4: ["192.0.2.25"], 6: [] }); // past the SERVFAIL
    assert.deepEqual(glibc("ndots1", "www"), { 4: ["192.0.2.20"], 6: ["2001:db8::20"] }); // search, then CNAMEs
    assert.deepEqual(glibc("ndots1", "cut.test"), { 4: ["192.0.2.26", "192.0.2.27"], 6: [] });
    assert.equal(glibc("ndots1", "big.test")[6].length, 40);
    assert.deepEqual(glibc("ndots1", "0x7f.1"), { 4: ["127.0.0.1"], 6: [] });
    assert.deepEqual(glibc("first server dead", "a"), { 4: ["192.0.2.20"], 6: ["2001:db8::20"] });
    assert.equal(typeof glibc("dead server, attempts 2", "a.corp.test")[4], "string");
  });

  it("under Deno, asks Deno.resolveDns exactly where getaddrinfo would ask DNS for the name as given", {
    skip: runtime !== "deno" && "Deno.resolveDns is Deno's",
  }, () => {
    const via = (config: string, name: string) => results[config][name].viaDeno;
    // The name as given comes first, and has addresses: Deno's client answers.
    assert.deepEqual(via("ndots1", "a.corp.test"), ["A", "AAAA"]);
    assert.deepEqual(via("ndots1", "A.CORP.TEST"), ["A", "AAAA"]);
    assert.deepEqual(via("ndots1", "www.alias.test"), ["A", "AAAA"]); // through the CNAME chain
    assert.deepEqual(via("ndots1", "api.example.test"), ["A"]); // no AAAA as given: getaddrinfo tries the search list
    assert.deepEqual(via("ndots5", "api.example.test."), ["A"]);
    assert.deepEqual(via("ndots5", "db."), ["A"]); // absolute: never through the search list
    assert.deepEqual(via("ndots1", "big.test"), ["AAAA"]);
    assert.deepEqual(via("first server dead", "a.corp.test"), ["A", "AAAA"]);
    // The search list first (fewer dots than ndots, or no dot), the hosts file, a number, or no address: getaddrinfo.
    for (const name of ["api.example.test", "a.corp.test"]) assert.deepEqual(via("ndots5", name), []);
    for (const name of ["a", "db", "pinned.test", "both.test", "pinned.test.", "0x7f.1", "nx.test"]) {
      assert.deepEqual(via("ndots1", name), [], name);
    }
    assert.deepEqual(via("ndots1", "cut.test"), []); // Deno's client cannot read the cut answer: getaddrinfo does
  });

  it("sees the deliberate differences it documents (so the list does not go stale)", () => {
    const pinned = results.ndots1["pinned.test"] as unknown as Record<"dnsLookup" | "lookup", Record<string, Side>>;
    assert.deepEqual(pinned.dnsLookup[6], { 4: [], 6: ["2001:db8::31"] });
    assert.deepEqual(pinned.lookup[6], { 4: "ENOTFOUND", 6: "ENOTFOUND" });
    const row = results.ndots1["app.localhost"];
    assert.deepEqual(row.stub, { 4: ["127.0.0.1"], 6: ["::1"] });
    assert.equal(typeof row.glibc[4], "string", JSON.stringify(row.glibc)); // NXDOMAIN from the lab's DNS
  });
});
