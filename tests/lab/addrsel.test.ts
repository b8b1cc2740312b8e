/**
 * Address selection in the network lab: RFC 6724 order on a client whose
 * IPv6 is only link-local or unique-local, and NAT64 on an IPv6-only client.
 * Each scenario reshapes the client namespace of its own lab, so it starts one
 * lab for itself. Run under `flock /tmp/eyeballs-lab.lock`.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { Lab, labUnavailable } from "./lab.ts";
import { mainFile, runtime } from "../helpers/cli_entry.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

const SCENARIO = { timeout: 60_000 };

/** `ip -n NS ...`; throws with ip's message when it fails. */
function ip(ns: string, ...args: string[]): void {
  const r = spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip -n ${ns} ${args.join(" ")}: ${r.stderr}`);
}

interface Record {
  address?: string;
  error?: string;
  attempts: { address: string; outcome: string }[];
}

/** Runs `eyeballs ...args --json` in the client namespace; its one JSON line. */
async function eyeballs(lab: Lab, ...args: string[]): Promise<{ code: number | null; rec: Record; text: string }> {
  const argv = runtime === "deno" ? ["run", "-A", "--no-lock", mainFile] : [mainFile];
  const r = await lab.exec(process.execPath, [...argv, ...args, "--json"], { timeoutMs: 20_000 });
  assert.ok(!r.timedOut, `eyeballs ${args.join(" ")} hung\n${r.stderr}`);
  const line = r.stdout.trim().split("\n").filter(Boolean).pop();
  assert.ok(line, `no JSON line:\n${r.stdout}\n${r.stderr}`);
  return { code: r.code, rec: JSON.parse(line), text: `${r.stdout}\n${r.stderr}` };
}

const v6Syns = (counts: { [address: string]: number }) => Object.keys(counts).filter((a) => a.includes(":"));

describe(`address selection in the lab (${runtime})`, { skip: skip ?? false }, () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.start({ delayMs: 20, count: 2 });
  });
  after(async () => {
    await lab?.stop();
  });

  it("RFC 6724: a client with only link-local and ULA IPv6 prefers IPv4, with no IPv6 SYN", SCENARIO, async () => {
    const ns = lab.clientNs;
    await lab.reset();
    // Control: with its global IPv6 address the client leads with IPv6.
    const dual = await eyeballs(lab, "dual.lab.test", "80");
    assert.equal(dual.code, 0, dual.text);
    assert.equal(dual.rec.address, lab.servers.v6[0], dual.text);

    ip(ns, "addr", "del", "2001:db8::1/128", "dev", "eyb0");
    ip(ns, "addr", "add", "fd00:db8::1/64", "dev", "eyb0", "nodad");
    ip(ns, "addr", "add", "fe80::1/64", "dev", "eyb0", "nodad");
    try {
      await lab.resetSynCounts();
      const r = await eyeballs(lab, "dual.lab.test", "80");
      assert.equal(r.code, 0, r.text);
      assert.equal(r.rec.address, lab.servers.v4[0], r.text);
      assert.deepEqual(r.rec.attempts.map((a) => a.address), [lab.servers.v4[0]], "one attempt, IPv4");
      assert.deepEqual(v6Syns(await lab.synCounts()), [], "no IPv6 SYN");
    } finally {
      ip(ns, "addr", "del", "fd00:db8::1/64", "dev", "eyb0");
      ip(ns, "addr", "del", "fe80::1/64", "dev", "eyb0");
      ip(ns, "addr", "add", "2001:db8::1/128", "dev", "eyb0", "nodad");
      ip(ns, "route", "replace", "2001:db8::/32", "dev", "eyb0", "src", "2001:db8::1");
    }
  });

  it(
    "NAT64: on an IPv6-only client an IPv4 literal and an A-only name connect through a network-specific prefix; " +
      "the well-known prefix carries no documentation address (RFC 6052 §3.1)",
    SCENARIO,
    async () => {
      const client = lab.clientNs, server = lab.serverNs;
      await lab.reset();
      const [first, second] = lab.servers.v4; // 192.0.2.10, 192.0.2.11
      // RFC 6052 forms of those under 2001:db8:64::/96 (inside 2001:db8::/32, which the client already routes)
      const [nat1, nat2] = ["2001:db8:64::c000:20a", "2001:db8:64::c000:20b"];
      const wellKnown1 = "64:ff9b::c000:20a"; // what round 1 dialled, against §3.1
      await lab.setDns("a-only.lab.test", { A: [second] });
      // IPv6 only: no IPv4 address, the DNS server reached over IPv6.
      const resolvConf = `/etc/netns/${client}/resolv.conf`;
      const original = readFileSync(resolvConf, "utf8");
      writeFileSync(resolvConf, original.replace(/nameserver .*/, "nameserver 2001:db8::53"));
      ip(client, "addr", "del", "192.0.2.1/32", "dev", "eyb0");
      ip(client, "route", "add", "64:ff9b::/96", "dev", "eyb0", "src", "2001:db8::1");
      // The translator stand-in: the server namespace owns the synthesized addresses (its listeners are wildcards),
      // the well-known form too, so that only eyeballs' refusal to synthesize it can make that connect fail.
      for (const a of [nat1, nat2, wellKnown1]) ip(server, "addr", "add", `${a}/128`, "dev", "eyb0", "nodad");
      try {
        // Control: no ipv4only.arpa answer, no NAT64: the literal cannot be reached.
        const without = await eyeballs(lab, "--timeout", "3000", first, "80");
        assert.notEqual(without.code, 0, without.text);

        // The well-known prefix: a documentation (non-global) address is not synthesized, so still no connection.
        await lab.setDns("ipv4only.arpa", { AAAA: ["64:ff9b::c000:aa", "64:ff9b::c000:ab"] });
        await lab.resetSynCounts();
        const wellKnown = await eyeballs(lab, "--timeout", "3000", first, "80");
        assert.notEqual(wellKnown.code, 0, wellKnown.text);
        assert.deepEqual(v6Syns(await lab.synCounts()), [], "no SYN to 64:ff9b::c000:20a");

        await lab.setDns("ipv4only.arpa", { AAAA: ["2001:db8:64::c000:aa", "2001:db8:64::c000:ab"] });
        const literal = await eyeballs(lab, first, "80");
        assert.equal(literal.code, 0, literal.text);
        assert.equal(literal.rec.address, nat1, literal.text);

        const name = await eyeballs(lab, "a-only.lab.test", "80");
        assert.equal(name.code, 0, name.text);
        assert.equal(name.rec.address, nat2, name.text);
        const queries = (await lab.dnsQueries()).map((q) => q.join(" "));
        assert.ok(queries.includes("ipv4only.arpa AAAA"), queries.join(", "));
      } finally {
        for (const a of [nat1, nat2, wellKnown1]) ip(server, "addr", "del", `${a}/128`, "dev", "eyb0");
        ip(client, "route", "del", "64:ff9b::/96", "dev", "eyb0");
        ip(client, "addr", "add", "192.0.2.1/32", "dev", "eyb0");
        ip(client, "route", "replace", "192.0.2.0/24", "dev", "eyb0", "src", "192.0.2.1");
        writeFileSync(resolvConf, original);
        await lab.removeDns("ipv4only.arpa");
        await lab.removeDns("a-only.lab.test");
      }
    },
  );
});
