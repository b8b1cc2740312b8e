/**
 * HTTPS and SVCB records (RFC 9460) in the lab: the lab's DNS server writes
 * them in wire format (checked against `dig`, from Debian's dnsutils, which
 * the test installs when root), and the stub resolver reads them from it,
 * inside the client namespace under the runtime running this file
 * (tests/lab/svcb_client.ts).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable, type ServiceRecordRule } from "./lab.ts";
import { fromSource, mainFile, runtime } from "../helpers/cli_entry.ts";
import { debianPackagesUnavailable } from "../clients/real_servers.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

const here = dirname(fileURLToPath(import.meta.url));
const client = join(here, fromSource ? "svcb_client.ts" : "svcb_client.js");
const command = (): [string, string[]] =>
  runtime === "deno" ? [process.execPath, ["run", "-A", "--quiet", client]] : [process.execPath, [client]];
/** dig, from Debian's dnsutils, installed here when root (as the real servers are). */
const noDig = skip ?? debianPackagesUnavailable(["dnsutils"], ["/usr/bin/dig"], "the dig check");
const ECH = "AEX+DQBBAQAgACBzaGFyZWQta2V5LWZvci10ZXN0aW5nLW9ubHktMTIzNAAEAAEAAQAQcHVibGljLmxhYi50ZXN0AAA=";

describe("HTTPS/SVCB records in the lab", { skip: skip ?? false, timeout: 120_000 }, () => {
  let lab: Lab;
  // deno-lint-ignore no-explicit-any
  let out: Record<string, any>;
  let queries: Array<[string, string]>;
  let syns: Record<string, number>;

  before(async () => {
    lab = await Lab.start({ delayMs: 5 });
    const [v4, v6] = [lab.servers.v4, lab.servers.v6];
    const good: ServiceRecordRule[] = [
      {
        priority: 1,
        target: ".",
        params: {
          mandatory: ["alpn", "ipv4hint"],
          alpn: ["h2", "http/1.1"],
          port: 443,
          ipv4hint: [v4[0]],
          ech: ECH,
          ipv6hint: [v6[0]],
          key65000: "cafe",
        },
      },
      { priority: 2, target: "backup.lab.test", params: { alpn: ["h3"], "no-default-alpn": true } },
    ];
    const outOfOrder = { rdataHex: "0003" + "00" + "0003000201bb" + "0001000302" + "6832" }; // port, then alpn
    await lab.setDns("svc.lab.test", {
      A: [v4[0]],
      AAAA: [v6[0]],
      HTTPS: { ttl: 300, records: [...good, outOfOrder] },
    });
    await lab.setDns("clean.lab.test", { HTTPS: { records: good } }); // dig refuses a whole message with a bad record
    await lab.setDns("alias.lab.test", { HTTPS: { records: [{ priority: 0, target: "svc.lab.test" }] } });
    await lab.setDns("loop1.lab.test", { HTTPS: { records: [{ priority: 0, target: "loop2.lab.test" }] } });
    await lab.setDns("loop2.lab.test", { HTTPS: { records: [{ priority: 0, target: "loop1.lab.test" }] } });
    await lab.setDns("slow.lab.test", { HTTPS: { delayMs: 300, records: [{ priority: 1, target: "." }] } });
    await lab.setDns("_8053._dns.dns.lab.test", { SVCB: { records: [{ priority: 1, params: { port: 8053 } }] } });
    // A/AAAA 400 ms late; the HTTPS record's hints come at once. An h3-only endpoint ranks first, to be skipped.
    await lab.setDns("late.lab.test", {
      A: { addrs: [v4[0]], delayMs: 400 },
      AAAA: { addrs: [v6[0]], delayMs: 400 },
      HTTPS: {
        records: [
          {
            priority: 1,
            target: "quic.lab.test",
            params: { alpn: ["h3"], "no-default-alpn": true, ipv4hint: [v4[2]] },
          },
          { priority: 2, target: ".", params: { alpn: ["h2"], ipv6hint: [v6[0]], ipv4hint: [v4[0]], ech: ECH } },
        ],
      },
    });
    await lab.setDns("quic.lab.test", { A: [v4[2]] });
    await lab.setDns("hop.lab.test", { HTTPS: { records: [{ priority: 0, target: "late.lab.test" }] } });
    // An alias to a name with addresses but no HTTPS record; the alias itself has no A or AAAA.
    await lab.setDns("bare.lab.test", { HTTPS: { records: [{ priority: 0, target: "dual.lab.test" }] } });
    await lab.dnsQueries({ reset: true });
    await lab.synCounts({ reset: true });
    const [cmd, args] = command();
    const names = [
      "svc.lab.test",
      "alias.lab.test",
      "loop1.lab.test",
      "slow.lab.test",
      "dual.lab.test",
      "dns.lab.test:8053:dns",
      "svc.lab.test:80",
      "connect:late.lab.test:443",
      "connect:hop.lab.test:443",
      "connect:bare.lab.test:443",
    ];
    const r = await lab.exec(cmd, [...args, ...names], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    queries = await lab.dnsQueries();
    syns = await lab.synCounts();
  });
  after(async () => {
    await lab?.stop();
  });

  it("reads every SvcParam the server wrote; the malformed record is skipped with its reason", () => {
    const answer = out["svc.lab.test"].value;
    assert.equal(answer.name, "svc.lab.test");
    assert.equal(answer.ttl, 300);
    assert.equal(answer.records.length, 2);
    const [first, second] = answer.records;
    assert.deepEqual([first.priority, first.target], [1, "svc.lab.test"]);
    assert.deepEqual(first.params.mandatory, [1, 4]);
    assert.deepEqual(first.params.alpn, ["h2", "http/1.1"]);
    assert.equal(first.params.port, 443);
    assert.deepEqual(first.params.ipv4hint, [lab.servers.v4[0]]);
    assert.deepEqual(first.params.ipv6hint, [lab.servers.v6[0]]);
    assert.deepEqual(first.params.ech, [...Uint8Array.from(atob(ECH), (c) => c.charCodeAt(0))]);
    assert.deepEqual(first.params.unknown, [{ key: 65000, value: [0xca, 0xfe] }]);
    assert.deepEqual([second.target, second.params.alpn, second.params.noDefaultAlpn], [
      "backup.lab.test",
      ["h3"],
      true,
    ]);
    assert.equal(answer.skipped.length, 1);
    assert.match(answer.skipped[0].reason, /out of order/);
  });

  it("follows AliasMode to the target; an alias loop ends with a reason, not a hang", () => {
    assert.equal(out["alias.lab.test"].value.name, "svc.lab.test");
    assert.equal(out["alias.lab.test"].value.records.length, 2);
    assert.deepEqual(out["loop1.lab.test"].value.records, []);
    assert.match(out["loop1.lab.test"].value.skipped.at(-1).reason, /alias loop/);
  });

  it("an alias to a name without HTTPS records reaches that name's addresses (RFC 9460 §3)", () => {
    const { value, error } = out["connect:bare.lab.test:443"];
    assert.equal(error, undefined);
    assert.ok([...lab.servers.v6, ...lab.servers.v4].includes(value.address), value.address);
    assert.deepEqual([value.endpoint.target, value.endpoint.priority], ["dual.lab.test", 0]);
  });

  it("a late HTTPS answer is waited for; a name without one is NODATA: no records", () => {
    assert.equal(out["slow.lab.test"].value.records.length, 1);
    assert.deepEqual(out["dual.lab.test"].value.records, []);
  });

  it("asks SVCB at _port._scheme.name for a named service; nothing for port 80 without a scheme", () => {
    assert.deepEqual(out["dns.lab.test:8053:dns"].value.records[0].params.port, 8053);
    assert.equal(out["svc.lab.test:80"].value, undefined);
    assert.ok(queries.some(([n, t]) => n === "_8053._dns.dns.lab.test" && t === "SVCB"));
    assert.equal(queries.filter(([n]) => n === "svc.lab.test").length, 2, "svc asked twice (itself, alias target)");
  });

  it(
    "dig reads the server's HTTPS records as the stub does",
    { skip: noDig ?? false },
    async () => {
      const r = await lab.exec("dig", ["+short", "+norecurse", "@192.0.2.53", "clean.lab.test", "HTTPS"]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      const v4 = lab.servers.v4[0];
      const v6 = lab.servers.v6[0];
      const first = `1 . mandatory=alpn,ipv4hint alpn="h2,http/1.1" port=443 ipv4hint=${v4} ech=${ECH} ipv6hint=${v6}`;
      assert.ok(lines.includes(`${first} key65000="\\202\\254"`), r.stdout);
      assert.ok(lines.includes('2 backup.lab.test. alpn="h3" no-default-alpn'), r.stdout);
    },
  );

  it("A/AAAA 400 ms late, hints in the HTTPS record: connects on a hint without waiting for A/AAAA", () => {
    const { value, events, error } = out["connect:late.lab.test:443"];
    assert.equal(error, undefined);
    assert.equal(value.address, lab.servers.v6[0]);
    assert.equal(value.port, 443);
    if (process.env.EYB_LAB_VERBOSE) console.log(`svcb[${runtime}] late A/AAAA, hints: connected in ${value.ms} ms`);
    const types: string[] = events.map((e: { type: string }) => e.type);
    assert.ok(types.indexOf("service-records") < types.indexOf("attempt-start"));
    assert.equal(types.indexOf("resolved"), -1, `won before any A/AAAA answer: ${types.join(" ")}`);
    assert.deepEqual(value.endpoint.alpn, ["h2", "http/1.1"]);
    assert.equal(value.endpoint.target, "late.lab.test");
    assert.deepEqual(value.endpoint.ech, [...Uint8Array.from(atob(ECH), (c) => c.charCodeAt(0))]);
  });

  it("an h3-only endpoint (alpn=h3 no-default-alpn) is skipped by a TCP connect: an event, no SYN to its hint", () => {
    const skipped = out["connect:late.lab.test:443"].events.find((e: { type: string }) =>
      e.type === "endpoint-skipped"
    );
    assert.equal(skipped?.target, "quic.lab.test");
    assert.match(skipped.reason, /no ALPN in common/);
    assert.equal(syns[lab.servers.v4[2]] ?? 0, 0);
  });

  it(
    "the CLI shows the records by group, the h3-only endpoint skipped and why, in its timeline and in --json",
    {
      skip: runtime === "deno"
        ? "the CLI on Deno resolves with getaddrinfo, as Deno.connect does: no HTTPS records to show"
        : false,
    },
    async () => {
      const eyeballs = (...args: string[]) => lab.exec(process.execPath, [mainFile, ...args], { timeoutMs: 30_000 });
      const json = await eyeballs("--json", "--no-history", "hop.lab.test", "443");
      assert.equal(json.code, 0, json.stdout + json.stderr);
      const line = JSON.parse(json.stdout.trim());
      assert.equal(line.address, lab.servers.v6[0]);
      assert.equal(line.endpoint.target, "late.lab.test");
      assert.equal(line.endpoint.ech, ECH);
      assert.equal(line.services.name, "late.lab.test");
      assert.equal(line.services.aliasOf, "hop.lab.test");
      assert.deepEqual(line.services.records.map((r: { target: string }) => r.target), [
        "quic.lab.test",
        "late.lab.test",
      ]);
      assert.equal(line.services.skipped[0].target, "quic.lab.test");
      assert.match(line.services.skipped[0].reason, /no ALPN in common/);
      const text = await eyeballs("--no-history", "hop.lab.test", "443");
      assert.equal(text.code, 0, text.stdout + text.stderr);
      const lines = text.stdout.split("\n");
      for (
        const expected of [
          /ms {2}HTTPS records for late\.lab\.test \(alias of hop\.lab\.test, followed\): 2 records$/,
          /^ +group 1 \(priority 1\): quic\.lab\.test alpn=h3 no-default-alpn ipv4hint=/,
          /^ +group 2 \(priority 2\): late\.lab\.test alpn=h2 ipv4hint=.* ech=\(\d+ bytes\) ipv6hint=/,
          /ms {2}HTTPS endpoint skipped: quic\.lab\.test \(priority 1\): no ALPN in common/,
        ]
      ) assert.ok(lines.some((l) => expected.test(l)), `${expected}\n${text.stdout}`);
    },
  );

  it("an AliasMode name reaches its target's endpoint", () => {
    const { value, error } = out["connect:hop.lab.test:443"];
    assert.equal(error, undefined);
    assert.equal(value.address, lab.servers.v6[0]);
    assert.equal(value.endpoint.target, "late.lab.test");
  });
});
