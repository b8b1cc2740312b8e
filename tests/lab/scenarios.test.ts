/**
 * eyeballs against misbehaving networks: the `eyeballs` CLI runs inside the
 * lab's client namespace (tests/lab/lab.ts, docs/lab.md) under the runtime
 * running this file (deno test → deno, bun test → bun, node on the npm build
 * → node), so the three test runs cover the three runtimes.
 *
 * Assertions are about behaviour (who won, which attempt was aborted, SYNs
 * per address) with generous time bounds: the machine is shared and noisy.
 * Set EYB_LAB_VERBOSE=1 to print the measured figures of each scenario.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { type ExecResult, Lab, labUnavailable, waitGone } from "./lab.ts";
import { mainFile, runtime } from "../helpers/cli_entry.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

/** One-way delay of the link for every scenario but the high-latency one: RTT 100 ms. */
const DELAY = 50;
const RTT = 2 * DELAY;
/** Runtime start-up inside the namespace, on top of what the CLI measures itself. */
const STARTUP_SLACK = 3000;
/** Per scenario; bun's runner would otherwise stop a test after 5 s. */
const SCENARIO = { timeout: 60_000 };
/** EYB_LAB_ONLY=REGEX runs only the matching scenarios (deno's --filter cannot reach them). */
const only = process.env.EYB_LAB_ONLY ? new RegExp(process.env.EYB_LAB_ONLY) : undefined;

interface AttemptRecord {
  address: string;
  family: 4 | 6;
  startMs: number;
  endMs: number | null;
  outcome: "won" | "lost" | "failed" | "aborted";
  error: string | null;
}

interface JsonLine {
  host: string;
  port: number;
  address?: string;
  family?: 4 | 6;
  ms?: number;
  error?: string;
  attempts: AttemptRecord[];
}

interface Run extends ExecResult {
  records: JsonLine[];
}

const verbose = !!process.env.EYB_LAB_VERBOSE;
/** Prints the figures a scenario measured (EYB_LAB_VERBOSE=1). */
function note(scenario: string, figures: unknown): void {
  if (verbose) console.log(`scenario[${runtime}] ${scenario}: ${JSON.stringify(figures)}`);
}

/** The attempts as a short timeline for notes and assertion messages. */
function timeline(r: JsonLine): string {
  return r.attempts.map((a) => `${a.address} ${a.startMs}..${a.endMs} ${a.outcome}${a.error ? ` (${a.error})` : ""}`)
    .join("; ");
}

/**
 * The reason eyeballs can give for an ICMP unreachable. Bun 1.4's node:net reports
 * EHOSTUNREACH and ENETUNREACH as ECONNREFUSED (errno -111; EACCES comes through), so under
 * Bun the library can only say "refused" (a runtime bug, not eyeballs').
 */
const unreachable = (reason: "host unreachable" | "network unreachable") => (runtime === "bun" ? "refused" : reason);

/** How an address appears in the library's error messages. */
const named = (address: string) => (address.includes(":") ? `[${address}]` : address);

/** `it` with the scenario timeout, honouring EYB_LAB_ONLY. */
function scenario(name: string, fn: () => Promise<void>, options: { skip?: string | false; todo?: string } = {}): void {
  const skipped = options.skip || (only && !only.test(name) ? "not in EYB_LAB_ONLY" : false);
  it(name, { ...SCENARIO, skip: skipped, ...(options.todo && { todo: options.todo }) }, fn);
}

describe(`eyeballs CLI in the network lab (${runtime})`, { skip: skip ?? false }, () => {
  let lab: Lab;
  let v4: string[];
  let v6: string[];

  /** Runs `eyeballs ...args` in the client namespace and parses its JSON lines. */
  async function eyeballs(args: string[], timeoutMs = 20_000): Promise<Run> {
    const argv = runtime === "deno" ? ["run", "-A", "--no-lock", mainFile, ...args] : [mainFile, ...args];
    const r = await lab.exec(process.execPath, argv, { timeoutMs });
    assert.ok(!r.timedOut, `eyeballs ${args.join(" ")} hung (killed after ${timeoutMs} ms)\n${r.stderr}`);
    let records: JsonLine[];
    try {
      records = r.stdout.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
    } catch {
      throw new assert.AssertionError({ message: `not JSON lines:\n${r.stdout}\n${r.stderr}` });
    }
    return { ...r, records };
  }

  /** Runs one connect that must succeed and returns its record. */
  async function connected(args: string[]): Promise<{ rec: JsonLine; run: Run }> {
    const run = await eyeballs([...args, "--json"]);
    assert.equal(run.code, 0, `eyeballs ${args.join(" ")} failed:\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.records.length, 1, run.stdout);
    return { rec: run.records[0], run };
  }

  /** Runs one connect that must fail and returns its record. */
  async function failed(args: string[]): Promise<{ rec: JsonLine & { error: string }; run: Run }> {
    const run = await eyeballs([...args, "--json"]);
    assert.equal(run.code, 1, `eyeballs ${args.join(" ")} should fail with status 1:\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.records.length, 1, run.stdout);
    const rec = run.records[0];
    assert.ok(typeof rec.error === "string" && rec.error, run.stdout);
    return { rec: { ...rec, error: rec.error }, run };
  }

  /** Sockets (but listeners and TIME-WAIT) in a namespace whose local or peer address is in `addrs`. */
  function sockets(ns: string, addrs: string[]): string[] {
    const r = spawnSync("ip", ["netns", "exec", ns, "ss", "-tanH"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const host = (end: string) => end.slice(0, end.lastIndexOf(":")).replace(/^\[|\]$/g, "");
    return r.stdout.split("\n").filter((line) => {
      const [state, , , local, peer] = line.trim().split(/\s+/);
      if (!state || state === "LISTEN" || state === "TIME-WAIT") return false;
      return addrs.includes(host(local)) || addrs.includes(host(peer));
    });
  }

  /**
   * Waits until no connection to a server address is left in either namespace. On a slow
   * link the last packets of the previous scenario (an ACK, a reset answering a late SYN-ACK)
   * are still on their way when its process has exited.
   */
  async function quiet(ms: number): Promise<string[]> {
    const all = [...v4, ...v6];
    const deadline = Date.now() + ms;
    let left = [...sockets(lab.serverNs, all), ...sockets(lab.clientNs, all)];
    while (left.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = [...sockets(lab.serverNs, all), ...sockets(lab.clientNs, all)];
    }
    return left;
  }

  /** Back to a healthy dual-stack lab with an RTT of 100 ms and no connection around. */
  async function fresh(): Promise<void> {
    await lab.setDelay(DELAY);
    await lab.reset();
    assert.deepEqual(await quiet(5000), [], "connections left over by the previous scenario");
  }

  before(async () => {
    lab = await Lab.start({ delayMs: DELAY });
    ({ v4, v6 } = lab.servers);
  });

  after(async () => {
    const pid = lab?.info.pid;
    await lab?.stop();
    if (pid) assert.deepEqual(await waitGone(pid), [], "the lab left something behind");
  });

  scenario("healthy dual-stack: IPv6 wins with exactly one SYN", async () => {
    await fresh();
    const { rec, run } = await connected(["dual.lab.test", "80"]);
    const syns = await lab.synCounts();
    note("healthy", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
    assert.equal(rec.family, 6, timeline(rec));
    assert.equal(rec.address, v6[0]);
    assert.equal(rec.attempts.length, 1, timeline(rec));
    assert.deepEqual(syns, { [v6[0]]: 1 });
  });

  scenario("IPv6 blackholed: IPv4 starts one attempt delay later, IPv6 aborted", async () => {
    await fresh();
    for (const a of v6) await lab.setFault(a, "blackhole");
    const { rec, run } = await connected(["dual.lab.test", "80", "--schedule", "rfc8305", "--attempt-delay", "250"]);
    const syns = await lab.synCounts();
    note("v6-blackholed", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
    assert.equal(rec.family, 4, timeline(rec));
    assert.equal(rec.attempts.length, 2, timeline(rec));
    const [first, second] = rec.attempts;
    assert.equal(first.address, v6[0]);
    assert.equal(first.outcome, "aborted");
    assert.equal(second.outcome, "won");
    const gap = second.startMs - first.startMs;
    assert.ok(gap >= 245 && gap < 250 + 300, `IPv4 started ${gap} ms after IPv6, expected about 250`);
    // Lookup (1 RTT) + 250 + connect (1 RTT): far below the kernel's own 1 s SYN retransmit.
    assert.ok(rec.ms! >= 250, `connected after ${rec.ms} ms: before the attempt delay`);
    // No retransmit either: the IPv6 attempt was closed before it was 1 s old.
    assert.deepEqual(syns, { [v6[0]]: 1, [rec.address!]: 1 });
  });

  for (const [kind, reason] of [["refused", "refused"], ["unreachable", unreachable("host unreachable")]] as const) {
    scenario(`IPv6 ${kind}: the next attempt starts at once, not after the delay`, async () => {
      await fresh();
      for (const a of v6) await lab.setFault(a, kind);
      // A 2 s delay makes "at once" unambiguous.
      const { rec, run } = await connected(["dual.lab.test", "80", "--schedule", "rfc8305", "--attempt-delay", "2000"]);
      const syns = await lab.synCounts();
      note(`v6-${kind}`, { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
      assert.equal(rec.family, 4, timeline(rec));
      assert.equal(rec.attempts.length, 2, timeline(rec));
      const [first, second] = rec.attempts;
      assert.equal(first.outcome, "failed");
      assert.equal(first.error, reason);
      // The error comes back after one RTT, and the next attempt follows it at once.
      assert.ok(first.endMs! - first.startMs >= RTT - 10, timeline(rec));
      const wait = second.startMs - first.endMs!;
      assert.ok(wait >= 0 && wait < 100, `next attempt ${wait} ms after the failure`);
      assert.ok(rec.ms! < 2000, `connected after ${rec.ms} ms: waited for the delay`);
      assert.deepEqual(syns, { [v6[0]]: 1, [rec.address!]: 1 });
    });
  }

  scenario("7 of 8 addresses blackholed: the halving schedule starts all 8 within 2 x 500 ms", async () => {
    await fresh();
    // One family, so the order is the DNS answer's: the live address is tried last.
    await lab.setDns("eight.lab.test", { AAAA: v6 });
    for (const a of v6.slice(0, 7)) await lab.setFault(a, "blackhole");
    const { rec, run } = await connected(["eight.lab.test", "80", "--schedule", "halving", "--attempt-delay", "500"]);
    const syns = await lab.synCounts();
    note("7-of-8-dead", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
    assert.equal(rec.address, v6[7], timeline(rec));
    assert.deepEqual(rec.attempts.map((a) => a.address), v6, timeline(rec));
    const t0 = rec.attempts[0].startMs;
    // Delays 500, 250, 125, 62, 31, 15, 7: the 8th starts at +990 ms, all within 1000.
    const article = [500, 250, 125, 62, 31, 15, 7];
    rec.attempts.forEach((a, i) => {
      assert.ok(a.startMs - t0 < 1000 + 150, `attempt ${i + 1} started at +${a.startMs - t0} ms`);
      // Each start keeps to its deadline, counted from the first start (a late timer does not
      // push the later ones back, so one gap may be shorter than its nominal delay).
      const deadline = article.slice(0, i).reduce((sum, ms) => sum + ms, 0);
      assert.ok(a.startMs - t0 >= deadline - 3, `attempt ${i + 1} at +${a.startMs - t0} ms, before +${deadline}`);
      assert.equal(a.outcome, i === 7 ? "won" : "aborted", timeline(rec));
    });
    // One SYN per address, plus the kernel's retransmit (its first RTO is 1 s) for an attempt
    // that stayed pending longer than that: only the first, alive from +0 until the 8th
    // connected at about +990 + RTT. Within 80 ms of the 1 s mark either count is fine.
    for (const a of rec.attempts) {
      const age = a.endMs! - a.startMs;
      const expected = age < 920 ? [1] : age > 1080 ? [2] : [1, 2];
      assert.ok(
        expected.includes(syns[a.address]),
        `${a.address}: ${syns[a.address]} SYNs after ${age.toFixed(0)} ms pending, expected ${expected}`,
      );
    }
  });

  scenario("default schedule, healthy two-address name at RTT 190 ms: exactly 1 SYN", async () => {
    await fresh();
    await lab.setDns("two.lab.test", { AAAA: [v6[0]], A: [v4[0]] });
    await lab.setDelay(95);
    try {
      for (let i = 0; i < 3; i++) {
        const { rec, run } = await connected(["two.lab.test", "80"]);
        const syns = await lab.synCounts({ reset: true });
        note("default rtt190", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
        // The connect takes one RTT (190 ms), under the first delay (250 ms): no second attempt.
        assert.equal(rec.address, v6[0], timeline(rec));
        assert.equal(rec.attempts.length, 1, timeline(rec));
        assert.deepEqual(syns, { [v6[0]]: 1 });
      }
    } finally {
      await lab.setDelay(DELAY);
    }
  });

  scenario("default schedule, IPv6 blackholed: IPv4 starts 250 ms after IPv6, 1 SYN each", async () => {
    await fresh();
    const healthy = await connected(["dual.lab.test", "80"]);
    await lab.synCounts({ reset: true });
    for (const a of v6) await lab.setFault(a, "blackhole");
    const { rec, run } = await connected(["dual.lab.test", "80"]);
    const syns = await lab.synCounts();
    note("default v6-blackholed", { healthy: healthy.rec.ms, ms: rec.ms, wall: Math.round(run.ms), syns });
    assert.equal(rec.family, 4, timeline(rec));
    assert.deepEqual(rec.attempts.map((a) => [a.family, a.outcome]), [[6, "aborted"], [4, "won"]], timeline(rec));
    const gap = rec.attempts[1].startMs - rec.attempts[0].startMs;
    assert.ok(gap >= 245 && gap < 250 + 150, `IPv4 started ${gap} ms after IPv6, expected 250`);
    assert.deepEqual(syns, { [v6[0]]: 1, [rec.address!]: 1 });
    // How long it took is the benchmark's (its target: 1.05 × (250 + healthy)).
  });

  scenario("default schedule, 7 of 8 addresses blackholed: all 8 started by +503 ms, 1 SYN each", async () => {
    await fresh();
    await lab.setDns("eight.lab.test", { AAAA: v6 }); // one family: the live address is tried last
    for (const a of v6.slice(0, 7)) await lab.setFault(a, "blackhole");
    const { rec, run } = await connected(["eight.lab.test", "80"]);
    const syns = await lab.synCounts();
    note("default 7-of-8-dead", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
    assert.deepEqual(rec.attempts.map((a) => a.address), v6, timeline(rec));
    assert.deepEqual(rec.attempts.map((a) => a.outcome), [...Array(7).fill("aborted"), "won"], timeline(rec));
    // Deadlines 250, 125, 62, 31, 15, 10, 10 apart: +503 ms for the 8th, where a fixed 250 ms
    // (and Deno's and Node's own connects) need +1750 ms.
    const t0 = rec.attempts[0].startMs;
    const deadlines = [0, 250, 375, 437, 468, 483, 493, 503];
    rec.attempts.forEach((a, i) => {
      assert.ok(a.startMs - t0 >= deadlines[i] - 3, `attempt ${i + 1} at +${a.startMs - t0}, before +${deadlines[i]}`);
      assert.ok(a.startMs - t0 < deadlines[i] + 200, `attempt ${i + 1} at +${a.startMs - t0}, due +${deadlines[i]}`);
    });
    for (let i = 1; i < 8; i++) assert.ok(rec.attempts[i].startMs - rec.attempts[i - 1].startMs >= 9.5, timeline(rec));
    // Every dead attempt was aborted before the kernel's 1 s SYN retransmit.
    assert.deepEqual(syns, Object.fromEntries(v6.map((a) => [a, 1])));
    assert.ok(rec.ms! < 1000, `connected after ${rec.ms} ms`);
  });

  scenario(
    "default settings, 12 of 13 addresses blackholed: the 13th starts on schedule, no wait for a slot",
    async () => {
      await fresh();
      const dead = [...v6.slice(0, 6), ...v4.slice(0, 6)];
      await lab.setDns("thirteen.lab.test", { AAAA: v6.slice(0, 6), A: v4.slice(0, 7) });
      for (const a of dead) await lab.setFault(a, "blackhole");
      const { rec, run } = await connected(["thirteen.lab.test", "80"]);
      const syns = await lab.synCounts();
      note("default 12-of-13-dead", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
      assert.equal(rec.address, v4[6], timeline(rec));
      assert.equal(rec.attempts.length, 13, timeline(rec));
      assert.deepEqual(rec.attempts.map((a) => a.outcome), [...Array(12).fill("aborted"), "won"], timeline(rec));
      // None made room for a later one (a cap of 8 held the 9th until the 1st was 2 s old): each lost to the winner.
      for (const a of rec.attempts.slice(0, 12)) assert.doesNotMatch(a.error ?? "", /make room/, timeline(rec));
      const t0 = rec.attempts[0].startMs;
      assert.ok(rec.attempts[12].startMs - t0 >= 553 - 3, timeline(rec));
      assert.ok(rec.attempts[12].startMs - t0 < 2000, `the 13th waited for a slot: ${timeline(rec)}`);
      // Every dead attempt was aborted before the kernel's 1 s SYN retransmit.
      assert.deepEqual(syns, Object.fromEntries([...dead, v4[6]].map((a) => [a, 1])));
    },
  );

  scenario("more silent addresses than the cap, the live one last: connects in seconds, not minutes", async () => {
    await fresh();
    await lab.setDns("capped.lab.test", { AAAA: v6 });
    for (const a of v6.slice(0, 7)) await lab.setFault(a, "blackhole");
    const { rec, run } = await connected(["capped.lab.test", "80", "--max-attempts-in-flight", "4"]);
    const syns = await lab.synCounts();
    note("cap 4, 7 silent", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
    assert.equal(rec.address, v6[7], timeline(rec));
    assert.deepEqual(rec.attempts.map((a) => a.address), v6, timeline(rec));
    // Four start on the schedule; each later one takes the slot of the oldest when it is 2 s old
    // (the kernel would give up on it only after two minutes).
    const made = rec.attempts.slice(0, 4);
    for (const a of made) {
      assert.equal(a.outcome, "aborted", timeline(rec));
      assert.match(a.error ?? "", /make room/, timeline(rec));
      assert.ok(a.endMs! - a.startMs >= 1995, `${a.address} made room after ${a.endMs! - a.startMs} ms`);
    }
    const t0 = rec.attempts[0].startMs;
    assert.ok(rec.attempts[4].startMs - t0 >= 1995 && rec.attempts[4].startMs - t0 < 2000 + 300, timeline(rec));
    assert.equal(syns[v6[7]], 1, JSON.stringify(syns));
  });

  scenario("AAAA answer 200 ms late: IPv4 starts after the Resolution Delay, late IPv6 joins", async () => {
    await fresh();
    await lab.setDns("late6.lab.test", { A: v4, AAAA: { addrs: v6, delayMs: 200 } });
    // IPv4 blackholed, so the race is still on when the IPv6 addresses arrive.
    for (const a of v4) await lab.setFault(a, "blackhole");
    const { rec, run } = await connected(["late6.lab.test", "80"]);
    const syns = await lab.synCounts();
    note("late-aaaa", { ms: rec.ms, wall: Math.round(run.ms), syns, timeline: timeline(rec) });
    assert.ok(rec.attempts.length >= 2, timeline(rec));
    const [first, second] = rec.attempts;
    assert.equal(first.family, 4, timeline(rec));
    // The A answer takes one RTT, then waits the 50 ms Resolution Delay, but not for the
    // AAAA answer, which cannot arrive before 200 ms + one RTT.
    assert.ok(first.startMs >= RTT + 50 - 5, `IPv4 started at ${first.startMs} ms: did not wait 50 ms for AAAA`);
    assert.ok(first.startMs < 200 + RTT - 20, `IPv4 started at ${first.startMs} ms: waited for AAAA`);
    // The AAAA answer (about +300 ms) is in before the default's first delay (250 ms) has
    // passed (about +400 ms): IPv6 is next, ahead of the other IPv4 addresses.
    assert.equal(second.family, 6, timeline(rec));
    assert.ok(second.startMs >= 200 + RTT - 5, timeline(rec));
    assert.equal(rec.family, 6, timeline(rec));
    assert.equal(first.outcome, "aborted");
    assert.ok(second.startMs - first.startMs >= 245, timeline(rec));
    assert.equal(syns[first.address], 1);
    assert.equal(syns[rec.address!], 1);
  });

  scenario("all addresses dead: one error naming every address and its reason, within --timeout", async () => {
    await fresh();
    const reasons = new Map<string, string>();
    const faults = [
      ...v6.map((a, i) => [a, i < 4 ? "blackhole" : "unreachable", "host"] as const),
      ...v4.map((a, i) => [a, i < 4 ? "refused" : "unreachable", "net"] as const),
    ];
    const reasonOf = {
      blackhole: "timed out",
      refused: "refused",
      host: unreachable("host unreachable"),
      net: unreachable("network unreachable"),
    };
    for (const [address, kind, code] of faults) {
      await lab.setFault(address, kind, { code });
      reasons.set(address, kind === "unreachable" ? reasonOf[code] : reasonOf[kind]);
    }
    const { rec, run } = await failed(["dual.lab.test", "80", "--timeout", "3000"]);
    const syns = await lab.synCounts();
    note("all-dead", { wall: Math.round(run.ms), syns, error: rec.error, timeline: timeline(rec) });
    assert.match(rec.error, /^timed out after 3000 ms to dual\.lab\.test port 80:/);
    assert.equal(rec.attempts.length, 16, timeline(rec));
    const lines = rec.error.split("\n").slice(1).map((l) => l.trim());
    assert.equal(lines.length, 16, rec.error);
    for (const [address, reason] of reasons) {
      assert.ok(lines.includes(`${named(address)} port 80: ${reason}`), `${address} (${reason}) in:\n${rec.error}`);
      const attempt = rec.attempts.find((a) => a.address === address)!;
      assert.equal(attempt.outcome, reason === "timed out" ? "aborted" : "failed", timeline(rec));
    }
    // Refused and unreachable addresses were tried once; a blackholed one also got the
    // kernel's SYN retransmits while it waited (timing depends on the kernel: 1 s, then
    // 1 s or 2 s apart), and all stopped with the race.
    for (const [address, reason] of reasons) {
      if (reason === "timed out") assert.ok(syns[address] >= 1 && syns[address] <= 4, JSON.stringify(syns));
      else assert.equal(syns[address], 1, `${address}: ${JSON.stringify(syns)}`);
    }
    // The process gives up at the timeout, not at the kernel's two minutes.
    assert.ok(run.ms >= 3000 && run.ms < 3000 + STARTUP_SLACK, `exited after ${run.ms} ms`);
  });

  scenario("keeps the resolver's order in each family and interleaves the families", async () => {
    await fresh();
    const a = [v4[3], v4[0], v4[6], v4[1]];
    const aaaa = [v6[5], v6[2]];
    await lab.setDns("order.lab.test", { A: a, AAAA: aaaa });
    for (const address of [...a, ...aaaa]) await lab.setFault(address, "refused");
    const { rec, run } = await failed(["order.lab.test", "80"]);
    note("order", { wall: Math.round(run.ms), order: rec.attempts.map((x) => x.address) });
    // RFC 8305 §4: one IPv6, one IPv4, then alternating, each family in getaddrinfo's order
    // (which, for these addresses, is the DNS answer's: `getent ahosts` shows the same).
    // Deno 2.9's node:dns.lookup reverses IPv4 answers unless asked for verbatim order: this catches a regression.
    assert.deepEqual(rec.attempts.map((x) => x.address), [aaaa[0], a[0], aaaa[1], a[1], a[2], a[3]]);
  });

  scenario("all addresses refused, no timeout: fails as soon as the last one does", async () => {
    await fresh();
    for (const a of v4) await lab.setFault(a, "refused");
    const { rec, run } = await failed(["v4.lab.test", "80"]);
    note("all-refused", { wall: Math.round(run.ms), error: rec.error, timeline: timeline(rec) });
    assert.match(rec.error, /^could not connect to v4\.lab\.test port 80:/);
    for (const a of v4) assert.match(rec.error, new RegExp(`^  ${a.replaceAll(".", "\\.")} port 80: refused$`, "m"));
    // Each refusal takes one RTT and starts the next attempt at once: ~8 RTTs in all.
    assert.ok(run.ms < 8 * RTT + STARTUP_SLACK, `exited after ${run.ms} ms`);
  });

  scenario("NXDOMAIN or SERVFAIL for one family: connects with the other", async () => {
    await fresh();
    const cases = [
      { name: "nx6.lab.test", rules: { A: v4, AAAA: { fail: "nxdomain" as const } }, family: 4 },
      { name: "sf6.lab.test", rules: { A: v4, AAAA: { fail: "servfail" as const } }, family: 4 },
      { name: "nx4.lab.test", rules: { A: { fail: "nxdomain" as const }, AAAA: v6 }, family: 6 },
      { name: "sf4.lab.test", rules: { A: { fail: "servfail" as const }, AAAA: v6 }, family: 6 },
    ];
    for (const c of cases) {
      await lab.setDns(c.name, c.rules);
      const { rec, run } = await connected([c.name, "80", "--timeout", "5000"]);
      note(`dns-one-family ${c.name}`, { ms: rec.ms, wall: Math.round(run.ms), timeline: timeline(rec) });
      assert.equal(rec.family, c.family, `${c.name}: ${timeline(rec)}`);
      assert.equal(rec.attempts.length, 1, `${c.name}: ${timeline(rec)}`);
      // The failed family costs nothing: no waiting for a timeout.
      assert.ok(rec.ms! < 1000, `${c.name}: connected after ${rec.ms} ms`);
    }
  });

  scenario("NXDOMAIN or SERVFAIL for both families: the error names each family and the reason", async () => {
    await fresh();
    await lab.setDns("nx.lab.test", { A: { fail: "nxdomain" }, AAAA: { fail: "nxdomain" } });
    await lab.setDns("sf.lab.test", { A: { fail: "servfail" }, AAAA: { fail: "servfail" } });
    // glibc reports SERVFAIL as EAI_AGAIN (a temporary failure), not as a server failure.
    for (
      const [name, reason] of [["nx.lab.test", /not found/], [
        "sf.lab.test",
        /DNS server failed or did not answer/,
      ]] as const
    ) {
      const { rec, run } = await failed([name, "80", "--timeout", "5000"]);
      note(`dns-both ${name}`, { wall: Math.round(run.ms), error: rec.error });
      assert.equal(rec.attempts.length, 0);
      const lines = rec.error.split("\n").slice(1);
      assert.equal(lines.length, 2, rec.error);
      for (const record of ["IPv6 (AAAA)", "IPv4 (A)"]) {
        const line = lines.find((l) => l.includes(`${name} ${record}:`));
        assert.ok(line, `${record} missing in:\n${rec.error}`);
        assert.match(line, reason);
      }
      assert.ok(run.ms < 5000, `exited after ${run.ms} ms`);
    }
  });

  scenario("DNS silent: fails within --timeout with an error naming both lookups", async () => {
    await fresh();
    await lab.setDns("quiet.lab.test", { A: { fail: "silent" }, AAAA: { fail: "silent" } });
    // 700 ms is below glibc's own 1 s (resolv.conf timeout:1): eyeballs' timeout decides, and
    // the process exits although getaddrinfo is still waiting in the background.
    const short = await failed(["quiet.lab.test", "80", "--timeout", "700"]);
    note("dns-silent timeout 700", { wall: Math.round(short.run.ms), error: short.rec.error });
    assert.match(short.rec.error, /^timed out after 700 ms to quiet\.lab\.test port 80:/);
    assert.match(short.rec.error, /quiet\.lab\.test IPv6 \(AAAA\)/);
    assert.match(short.rec.error, /quiet\.lab\.test IPv4 \(A\)/);
    assert.ok(short.run.ms >= 700 && short.run.ms < 700 + STARTUP_SLACK, `exited after ${short.run.ms} ms`);
    // With a longer timeout, the resolver's own failure (about 1 s) ends it first.
    const long = await failed(["quiet.lab.test", "80", "--timeout", "8000"]);
    note("dns-silent timeout 8000", { wall: Math.round(long.run.ms), error: long.rec.error });
    assert.match(long.rec.error, /^could not connect to quiet\.lab\.test port 80:/);
    assert.match(long.rec.error, /quiet\.lab\.test IPv6 \(AAAA\): \S/);
    assert.match(long.rec.error, /quiet\.lab\.test IPv4 \(A\): \S/);
    assert.ok(long.run.ms < 8000, `exited after ${long.run.ms} ms`);
  });

  scenario("high latency (RTT 600 ms), default schedule: connects, and a started attempt is never killed", async () => {
    await fresh();
    await lab.setDelay(300);
    try {
      // Dual-stack, healthy: the default's delays (250, 125, 62...) are all shorter than the
      // RTT, so the other attempts start at +250, +375... and may reach all 16 addresses (the
      // default cap, 48, holds none back). The first attempt, still pending rather than killed,
      // connects at +600 ms and wins. One SYN per attempt, none retransmitted.
      const dual = await connected(["dual.lab.test", "80"]);
      const dualSyns = await lab.synCounts({ reset: true });
      note("rtt600 dual", { ms: dual.rec.ms, syns: dualSyns, timeline: timeline(dual.rec) });
      assert.equal(dual.rec.address, v6[0], timeline(dual.rec));
      assert.equal(dual.rec.attempts[0].outcome, "won", timeline(dual.rec));
      assert.equal(dual.rec.attempts[1].family, 4);
      assert.ok(dual.rec.attempts.length >= 2 && dual.rec.attempts.length <= 16, timeline(dual.rec));
      assert.ok(dual.rec.attempts.slice(1).every((a) => a.outcome === "aborted"), timeline(dual.rec));
      assert.ok(dual.rec.attempts[1].startMs - dual.rec.attempts[0].startMs >= 245, timeline(dual.rec));
      assert.deepEqual(dualSyns, Object.fromEntries(dual.rec.attempts.map((a) => [a.address, 1])));

      // One healthy family with one address: no other attempt exists, so exactly 1 SYN.
      await lab.setDns("one.lab.test", { A: [v4[2]] });
      const one = await connected(["one.lab.test", "80"]);
      const oneSyns = await lab.synCounts({ reset: true });
      note("rtt600 one address", { ms: one.rec.ms, syns: oneSyns, timeline: timeline(one.rec) });
      assert.equal(one.rec.address, v4[2]);
      assert.deepEqual(oneSyns, { [v4[2]]: 1 });
      // Lookup and connect: one RTT each.
      assert.ok(one.rec.ms! >= 2 * 600 - 10, `connected after ${one.rec.ms} ms`);

      // The first address of a healthy single-family name must win even when later attempts
      // have already started (8 addresses, RTT > every delay).
      const single = await connected(["v6.lab.test", "80"]);
      const singleSyns = await lab.synCounts({ reset: true });
      note("rtt600 v6 only", { ms: single.rec.ms, syns: singleSyns, timeline: timeline(single.rec) });
      assert.equal(single.rec.address, v6[0], timeline(single.rec));
      assert.deepEqual(singleSyns, Object.fromEntries(single.rec.attempts.map((a) => [a.address, 1])));

      // RTT 400 ms: the price of the default's short delays (history's RTT-based delays remove
      // it). The article's halving(500) sends 1 SYN; the default one per delay that passed
      // before the connect (+250, +375), each to a different address and never retransmitted.
      await lab.setDelay(200);
      const calm = await connected(["dual.lab.test", "80"]);
      const calmSyns = await lab.synCounts({ reset: true });
      const article = await connected(["dual.lab.test", "80", "--schedule", "halving", "--attempt-delay", "500"]);
      const articleSyns = await lab.synCounts({ reset: true });
      note("rtt400 dual", { default: calm.rec.ms, syns: calmSyns, halving500: article.rec.ms, articleSyns });
      assert.equal(calm.rec.address, v6[0], timeline(calm.rec));
      assert.deepEqual(calmSyns, Object.fromEntries(calm.rec.attempts.map((a) => [a.address, 1])));
      assert.ok(calm.rec.attempts.length >= 2 && calm.rec.attempts.length <= 4, timeline(calm.rec));
      assert.equal(article.rec.address, v6[0], timeline(article.rec));
      assert.deepEqual(articleSyns, { [v6[0]]: 1 });
    } finally {
      await lab.setDelay(DELAY);
    }
  });

  scenario("high latency (RTT 600 ms): eyeballs connects where Node's autoSelectFamily gives up", async () => {
    await fresh();
    // IPv6 healthy but 600 ms away, IPv4 refused. Node kills the IPv6 attempt after its
    // 250 ms attempt timeout; only its last address (IPv4) may take its time, and fails.
    await lab.setDns("far.lab.test", { AAAA: [v6[1]], A: [v4[1]] });
    await lab.setFault(v4[1], "refused");
    await lab.setDelay(300);
    try {
      const script = `
        import net from "node:net";
        const s = net.connect({ host: "far.lab.test", port: 80, autoSelectFamily: true });
        s.on("connect", () => { console.log(JSON.stringify({ ok: true, address: s.remoteAddress })); s.destroy(); });
        s.on("error", (e) => console.log(JSON.stringify({ ok: false, code: e.code, errors: e.errors?.map((x) => x.code) })));`;
      const node = await lab.exec(process.execPath, ["--input-type=module", "-e", script], { timeoutMs: 20_000 });
      const nodeResult = JSON.parse(node.stdout.trim());
      const ours = await connected(["far.lab.test", "80"]);
      note("rtt600 vs node", {
        node: nodeResult,
        nodeWall: Math.round(node.ms),
        ms: ours.rec.ms,
        timeline: timeline(ours.rec),
      });
      assert.equal(nodeResult.ok, false, `Node connected: ${node.stdout}`);
      assert.equal(ours.rec.address, v6[1], timeline(ours.rec));
      assert.equal(ours.rec.attempts[0].outcome, "won");
    } finally {
      await lab.setDelay(DELAY);
    }
  }, { skip: runtime === "node" ? false : "shows Node's own net.connect: runs under Node only" });

  scenario("abort mid-race (--timeout): the process exits at once and no half-open attempt survives", async () => {
    await fresh();
    // Every address answers its SYN 2 s late: the attempts are pending when the timeout fires,
    // and the server holds each in SYN-RECV until the client's kernel, which no longer has
    // the socket, answers the late SYN-ACK with a reset.
    const addrs = [...v6.slice(4), ...v4.slice(4)];
    await lab.setDns("abort.lab.test", { AAAA: v6.slice(4), A: v4.slice(4) });
    for (const a of addrs) await lab.setFault(a, "slow", { ms: 2000 });
    const acceptedBefore = (await lab.stats()).accepted;
    const { rec, run } = await failed([
      "abort.lab.test",
      "80",
      "--timeout",
      "800",
      "--schedule",
      "rfc8305",
      "--attempt-delay",
      "100",
    ]);
    const halfOpen = sockets(lab.serverNs, addrs);
    const clientLeft = sockets(lab.clientNs, addrs);
    let serverLeft = halfOpen;
    const deadline = Date.now() + 8000;
    while (serverLeft.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      serverLeft = sockets(lab.serverNs, addrs);
    }
    const syns = await lab.synCounts();
    const accepted = (await lab.stats()).accepted - acceptedBefore;
    note("abort", {
      wall: Math.round(run.ms),
      attempts: rec.attempts.length,
      halfOpenAtExit: halfOpen.length,
      syns,
      accepted,
      timeline: timeline(rec),
    });
    assert.match(rec.error, /^timed out after 800 ms/);
    assert.ok(rec.attempts.length >= 3, timeline(rec));
    for (const a of rec.attempts) assert.equal(a.outcome, "aborted", timeline(rec));
    assert.ok(run.ms >= 800 && run.ms < 800 + STARTUP_SLACK, `exited after ${run.ms} ms`);
    assert.deepEqual(clientLeft, [], "sockets left in the client namespace");
    // The check sees half-open connections at all (else it proves nothing)...
    assert.ok(halfOpen.length > 0, "no half-open connection on the server at exit");
    // ...and every one of them goes away.
    assert.deepEqual(serverLeft, [], "half-open connections left on the server");
    assert.equal(accepted, 0, "a handshake completed after the race ended");
    // One SYN per attempt: none was retransmitted, as a socket left open would be at 1 s.
    for (const a of rec.attempts) assert.equal(syns[a.address], 1, `${a.address}: ${JSON.stringify(syns)}`);
    assert.equal(Object.keys(syns).length, rec.attempts.length, JSON.stringify(syns));
  });

  scenario("aborted losers are closed at once, while the process lives on (--repeat)", async () => {
    await fresh();
    // Each connect aborts one attempt to a blackholed IPv6 address. A socket left open
    // would retransmit its SYN after 1 s, well within the 4 connects (~2 s).
    await lab.setDns("loser.lab.test", { AAAA: [v6[3]], A: [v4[3]] });
    await lab.setFault(v6[3], "blackhole");
    const run = await eyeballs([
      "loser.lab.test",
      "80",
      "--json",
      "--repeat",
      "4",
      "--no-history", // else connects 2..4 would skip the blackholed address
      "--schedule",
      "rfc8305",
      "--attempt-delay",
      "250",
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const syns = await lab.synCounts();
    note("repeat-losers", { wall: Math.round(run.ms), syns, ms: run.records.map((r) => r.ms) });
    assert.equal(run.records.length, 4);
    for (const r of run.records) {
      assert.equal(r.address, v4[3], timeline(r));
      assert.equal(r.attempts[0].outcome, "aborted", timeline(r));
    }
    assert.deepEqual(syns, { [v6[3]]: 4, [v4[3]]: 4 });
  });
});
