/**
 * The stub resolver against the lab's DNS server, run inside the client
 * namespace (tests/lab/stub_client.ts) under the runtime running this file.
 * Behaviour only; its timing (lookups not blocking each other, the cache's
 * gain) is measured by the benchmark (bench/dns.ts).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable } from "./lab.ts";
import { fromSource, runtime } from "../helpers/cli_entry.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

const here = dirname(fileURLToPath(import.meta.url));
const client = join(here, fromSource ? "stub_client.ts" : "stub_client.js");
const command = (): [string, string[]] =>
  runtime === "deno" ? [process.execPath, ["run", "-A", "--quiet", client]] : [process.execPath, [client]];

/** The wires to drive: the stub's own everywhere; c-ares (the default resolver's wire) on Node, which uses it. */
const wires = runtime === "node" ? ["own", "cares"] : ["own"];

for (const wire of wires) {
  describe(`stub resolver in the lab, over ${wire === "own" ? "its own UDP and TCP" : "c-ares"}`, {
    skip: skip ?? false,
    timeout: 120_000,
  }, () => {
    let lab: Lab;
    let dir: string;
    // deno-lint-ignore no-explicit-any
    let out: Record<string, any>;
    let queries: Array<[string, string]>;
    const asked = (name: string) => queries.filter(([n]) => n === name).length;

    before(async () => {
      lab = await Lab.start({ delayMs: 5, count: 32 });
      dir = mkdtempSync(join(tmpdir(), "eyb-stub-"));
      const hostsFile = join(dir, "hosts");
      writeFileSync(hostsFile, "192.0.2.12 pinned.lab.test\n");
      await lab.setDns("pinned.lab.test", { A: ["192.0.2.13"], AAAA: ["2001:db8::13"] });
      await lab.setDns("big.lab.test", { AAAA: lab.servers.v6 });
      await lab.setDns("old.lab.test", { A: { addrs: ["192.0.2.16"], ednsFormerr: true } });
      await lab.setDns("clean.lab.test", { A: { addrs: ["192.0.2.14", "192.0.2.15"], truncate: "clean" } });
      await lab.setDns("cut.lab.test", { A: { addrs: ["192.0.2.14", "192.0.2.15"], truncate: "cut" } });
      await lab.setDns("ttl.lab.test", { A: { addrs: ["192.0.2.10"], ttl: 30 } });
      await lab.setDns("cached.lab.test", { A: { addrs: ["192.0.2.10"], ttl: 2 } });
      await lab.setDns("broken.lab.test", { A: { fail: "servfail" } });
      await lab.setDns("quiet.lab.test", { A: { fail: "silent" }, AAAA: { fail: "silent" } });
      await lab.setDns("stalled.lab.test", { A: ["192.0.2.11"], AAAA: { fail: "silent" } });
      await lab.dnsQueries({ reset: true });
      const [cmd, args] = command();
      const r = await lab.exec(cmd, [...args, hostsFile, String(lab.info.ports[0]), wire], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      queries = await lab.dnsQueries();
    });
    after(async () => {
      await lab?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("answers from the lab's server, in its order", () => {
      assert.deepEqual(out.dual6.value.addresses, lab.servers.v6);
    });
    if (wire === "own") {
      it("takes an answer over 512 bytes in one UDP datagram, offering EDNS0's 1232 bytes", () => {
        assert.equal(out.big6.value.addresses.length, 32); // 925 bytes
        assert.equal(asked("big.lab.test"), 1, "one UDP query, no TCP");
      });
      it("asks again without EDNS0 when the server answers FORMERR to it (RFC 6891 §7)", () => {
        assert.deepEqual(out.oldServer4.value?.addresses, ["192.0.2.16"], JSON.stringify(out.oldServer4));
        assert.equal(asked("old.lab.test"), 2);
      });
    } else {
      // c-ares (as Node ships it) offers no EDNS0: a long answer comes over TCP, and an old server answers at once.
      it("takes an answer over 512 bytes over TCP after a truncated UDP answer (c-ares offers no EDNS0)", () => {
        assert.equal(out.big6.value.addresses.length, 32);
        assert.equal(asked("big.lab.test"), 2, "one UDP query, one TCP query");
      });
      it("gets its answer from a server that does not know EDNS0 with one query", () => {
        assert.deepEqual(out.oldServer4.value?.addresses, ["192.0.2.16"], JSON.stringify(out.oldServer4));
        assert.equal(asked("old.lab.test"), 1);
      });
    }
    it("retries over TCP at once for a truncated answer, clean or cut (counts past the end of the datagram)", () => {
      for (const name of ["clean", "cut"]) {
        assert.deepEqual(
          out[`${name}4`].value?.addresses,
          ["192.0.2.14", "192.0.2.15"],
          JSON.stringify(out[`${name}4`]),
        );
        const n = queries.filter(([q]) => q === `${name}.lab.test`);
        // c-ares cannot read the cut datagram (EBADRESP): the stub's own wire asks again, over UDP, then TCP.
        const expected = wire === "cares" && name === "cut" ? 3 : 2;
        assert.equal(
          n.length,
          expected,
          `${name}: one UDP query, one TCP query, not a UDP retry: ${JSON.stringify(n)}`,
        );
      }
    });
    it("reports the answer's TTL", () => {
      assert.deepEqual(out.ttl4.value, { addresses: ["192.0.2.10"], ttl: 30 });
    });
    it("tells NODATA (no addresses) from NXDOMAIN and SERVFAIL (errors with a code)", () => {
      assert.deepEqual(out.nodata.value.addresses, []);
      assert.equal(out.nx.code, "ENOTFOUND");
      assert.equal(out.servfail.code, "EAI_AGAIN");
      assert.match(out.servfail.error, /SERVFAIL from 192\.0\.2\.53/);
    });
    it("answers a name the hosts file lists from the file alone, for both families, as glibc does", () => {
      assert.deepEqual(out.fromHosts.value, { addresses: ["192.0.2.12"], ttl: 0 });
      assert.deepEqual(out.hostsOtherFamily.value, { addresses: [], ttl: 0 });
      assert.equal(asked("pinned.lab.test"), 0);
    });
    it("ends a lookup to a silent server on abort, with the caller's reason", () => {
      assert.match(out.silentAborted.error, /caller gave up/);
    });
    it("connects to a healthy name while 8 connects wait for an AAAA answer that never comes", () => {
      assert.equal(out.healthy.value, "2001:db8::10");
      for (const s of out.stalled) assert.equal(s.value, "192.0.2.11", JSON.stringify(s));
    });
    it("leaves no socket open: aborted lookups and finished races close theirs", () => {
      // UDP and TCP sockets only (see inetSockets in stub_client.ts: Deno opens Unix sockets of its own).
      assert.deepEqual(out.sockets.after, out.sockets.before, JSON.stringify(out.sockets));
    });
    it("lets the cache skip the query within the TTL and ask again after it", () => {
      assert.equal(asked("cached.lab.test"), 2);
    });
  });
}
