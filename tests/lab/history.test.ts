/**
 * History in the network lab: the `eyeballs` CLI in the client namespace,
 * under the runtime running this file (deno, bun, or node on the npm build),
 * as in scenarios.test.ts. IPv6 is blackholed; connects after the first must
 * go straight to IPv4 (one attempt, one SYN each), within one process
 * (in-memory history, --repeat) and across processes (--history FILE). What
 * that saves in time is measured by the bench (`v6-blackhole` rows), not here.
 * And once an entry expires, an IPv6 path that came back is used again.
 *
 * Set EYB_LAB_VERBOSE=1 to print the measured figures.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Lab, labUnavailable, waitGone } from "./lab.ts";
import { mainFile, runtime } from "../helpers/cli_entry.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

/** One-way delay: RTT 20 ms, as in the measurements. */
const DELAY = 10;
/** Connects per process in the --repeat cases. */
const REPEAT = 8;
const SCENARIO = { timeout: 120_000 };
const verbose = !!process.env.EYB_LAB_VERBOSE;

interface Record {
  address?: string;
  family?: 4 | 6;
  ms?: number;
  attempts: { address: string; outcome: string; startMs: number }[];
}

describe(`history in the network lab (${runtime})`, { skip: skip ?? false }, () => {
  let lab: Lab;
  let v4: string[];
  let v6: string[];
  let dir: string;

  /** Runs `eyeballs --json ...args` in the client namespace; every connect must succeed. */
  async function eyeballs(args: string[]): Promise<Record[]> {
    const argv = runtime === "deno" ? ["run", "-A", "--no-lock", mainFile, ...args] : [mainFile, ...args];
    const r = await lab.exec(process.execPath, [...argv, "--json"], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `eyeballs ${args.join(" ")}: status ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim().split("\n").map((line) => JSON.parse(line));
  }

  /** A name with one address per family, so SYN counts are per connect. */
  async function name(label: string): Promise<string> {
    const host = `${label}.lab.test`;
    await lab.setDns(host, { AAAA: [v6[0]], A: [v4[0]] });
    return host;
  }

  const note = (scenario: string, figures: unknown) => {
    if (verbose) console.log(`history[${runtime}] ${scenario}: ${JSON.stringify(figures)}`);
  };

  before(async () => {
    lab = await Lab.start({ delayMs: DELAY });
    ({ v4, v6 } = lab.servers);
    dir = mkdtempSync(join(tmpdir(), "eyeballs-lab-history-"));
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    const pid = lab?.info.pid;
    await lab?.stop();
    if (pid) assert.deepEqual(await waitGone(pid), [], "the lab left something behind");
  });

  it(
    "IPv6 blackholed, one process (--repeat): connects 2..N go straight to IPv4, 1 attempt and 1 SYN each",
    SCENARIO,
    async () => {
      await lab.reset();
      const host = await name("repeat");
      await lab.setFault(v6[0], "blackhole");
      const records = await eyeballs([host, "80", "--repeat", String(REPEAT)]);
      const syns = await lab.synCounts({ reset: true });
      const later = records.slice(1).map((r) => r.ms!);
      note("repeat", { first: records[0].ms, later, syns });
      assert.equal(records[0].attempts[0].address, v6[0], "the first connect tries IPv6 first");
      for (const r of records.slice(1)) {
        assert.deepEqual(r.attempts.map((a) => `${a.address} ${a.outcome}`), [`${v4[0]} won`]);
      }
      assert.deepEqual(syns, { [v6[0]]: 1, [v4[0]]: REPEAT }, "one SYN per connect, IPv6 only once");
    },
  );

  it("IPv6 blackholed, separate processes with --history FILE: the same", SCENARIO, async () => {
    await lab.reset();
    const host = await name("file");
    await lab.synCounts({ reset: true });
    await lab.setFault(v6[0], "blackhole");
    const file = join(dir, "across.json");
    const records: Record[] = [];
    for (let i = 0; i < 5; i++) records.push(...await eyeballs([host, "80", "--history", file]));
    const syns = await lab.synCounts({ reset: true });
    const later = records.slice(1).map((r) => r.ms!);
    note("file", { first: records[0].ms, later, syns });
    assert.equal(records[0].attempts.length, 2);
    for (const r of records.slice(1)) {
      assert.deepEqual(r.attempts.map((a) => `${a.address} ${a.outcome}`), [`${v4[0]} won`]);
    }
    assert.deepEqual(syns, { [v6[0]]: 1, [v4[0]]: records.length });
  });

  it("recovery: an IPv6 path that comes back is used again once its entry expires", SCENARIO, async () => {
    await lab.reset();
    const host = await name("recover");
    const file = join(dir, "recover.json");
    const ttl = 4000;
    const args = [host, "80", "--history", file, "--history-ttl", String(ttl)];
    await lab.setFault(v6[0], "blackhole");
    const [broken] = await eyeballs(args);
    const learned = Date.now(); // the entry was written just before the process exited
    assert.equal(broken.address, v4[0]);
    await lab.setFault(v6[0], "none"); // the IPv6 path is back
    await lab.synCounts({ reset: true });
    const [within] = await eyeballs(args);
    const synsWithin = await lab.synCounts({ reset: true });
    // Within the TTL history still sends it to IPv4, and IPv6 gets no SYN.
    assert.equal(within.address, v4[0]);
    assert.deepEqual(synsWithin, { [v4[0]]: 1 });
    await new Promise((r) => setTimeout(r, Math.max(0, learned + ttl + 200 - Date.now())));
    const [after] = await eyeballs(args);
    const synsAfter = await lab.synCounts({ reset: true });
    note("recovery", { broken: broken.ms, within: within.ms, after: after.ms, synsAfter });
    assert.equal(after.address, v6[0], "IPv6 leads again once the entry expired");
    assert.deepEqual(synsAfter, { [v6[0]]: 1 });
  });

  it(
    "a network change starts afresh: new client addresses, IPv6 is tried again; back home, home's lesson",
    SCENARIO,
    async () => {
      await lab.reset();
      const host = await name("moved");
      const file = join(dir, "moved.json");
      const args = [host, "80", "--history", file];
      await lab.setFault(v6[0], "blackhole");
      const [learning] = await eyeballs(args);
      assert.equal(learning.address, v4[0]);
      const [known] = await eyeballs(args);
      assert.deepEqual(known.attempts.map((a) => `${a.address} ${a.outcome}`), [`${v4[0]} won`], "history applies");
      await lab.synCounts({ reset: true });
      // Another network: the client gains addresses of other prefixes (a new lease on another link).
      const moved = ["198.51.100.7/24", "2001:db8:77::7/64"];
      for (const cidr of moved) {
        assert.equal(
          (await lab.exec("ip", ["addr", "add", cidr, "dev", "eyb0", ...(cidr.includes(":") ? ["nodad"] : [])])).code,
          0,
        );
      }
      try {
        const [away] = await eyeballs(args);
        const synsAway = await lab.synCounts({ reset: true });
        note("moved", { learning: learning.ms, known: known.ms, away: away.ms, synsAway });
        assert.equal(
          away.attempts[0].address,
          v6[0],
          "on the new network IPv6 leads again: history was not carried over",
        );
        assert.equal(away.address, v4[0]);
        assert.deepEqual(synsAway[v6[0]] >= 1, true);
      } finally {
        for (const cidr of moved) {
          await lab.exec("ip", ["addr", "del", cidr, "dev", "eyb0"]);
        }
      }
      await lab.synCounts({ reset: true });
      const [home] = await eyeballs(args);
      assert.deepEqual(home.attempts.map((a) => `${a.address} ${a.outcome}`), [`${v4[0]} won`], "home's history kept");
      assert.deepEqual(await lab.synCounts({ reset: true }), { [v4[0]]: 1 });
    },
  );
});
