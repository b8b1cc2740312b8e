/**
 * The Resolution Delay and the attempt delay's floor, measured in the lab (docs/schedule.md, "HEv3's numbers"):
 * eyeballs' choices (Resolution Delay 50 ms, floor 10 ms) against curl's 25 ms Resolution Delay and the draft's
 * recommended 100 ms floor. Each cell is the median of RUNS fresh processes; SYNs are counted by the lab.
 *
 *   flock /tmp/eyeballs-lab.lock deno run -A bench/delays.ts [--runs 5]
 *
 * @module
 */

import { Lab, labUnavailable } from "../tests/lab/lab.ts";

const runsIndex = Deno.args.indexOf("--runs");
const RUNS = runsIndex >= 0 ? Number(Deno.args[runsIndex + 1]) : 5;
const client = new URL("./delays_client.ts", import.meta.url).pathname;

interface Cell {
  ms: number;
  syns: number;
  v6: number;
  fails: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(lab: Lab, name: string, rd: number, floor: number, first = 250): Promise<Cell> {
  const ms: number[] = [];
  const syns: number[] = [];
  let v6 = 0;
  let fails = 0;
  for (let i = 0; i < RUNS; i++) {
    await lab.resetSynCounts();
    const r = await lab.exec(Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      client,
      name,
      "80",
      `${rd}`,
      `${first}`,
      `${floor}`,
    ], {
      timeoutMs: 60_000,
    });
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    syns.push(Object.values(await lab.synCounts({ reset: true })).reduce((a, b) => a + b, 0));
    if (!out.ok) fails++;
    else {
      ms.push(out.ms);
      if (String(out.address).includes(":")) v6++;
    }
  }
  return { ms: ms.length ? median(ms) : NaN, syns: median(syns), v6, fails };
}

const fmt = (c: Cell) =>
  `${c.ms.toFixed(0)} ms, ${c.syns} SYN, IPv6 won ${c.v6}/${RUNS}${c.fails ? `, ${c.fails} failed` : ""}`;

const skip = labUnavailable();
if (skip) {
  console.log(`skipped: ${skip}`);
  Deno.exit(0);
}
const lab = await Lab.start({ delayMs: 10, count: 8, ports: [80] });
try {
  console.log(
    `# Resolution Delay and attempt-delay floor (Deno ${Deno.version.deno}, ${RUNS} runs per cell, medians)\n`,
  );
  console.log("## Resolution Delay: 25 ms (curl) vs 50 ms (RFC 8305, eyeballs), RTT 20 ms, AAAA late by X ms\n");
  console.log("| AAAA late by | RD 25 | RD 50 |\n|---|---|---|");
  for (const late of [0, 15, 30, 45, 100]) {
    await lab.reset();
    await lab.setDelay(10);
    await lab.setDns("late.lab.test", { A: lab.servers.v4, AAAA: { addrs: lab.servers.v6, delayMs: late } });
    const a = await measure(lab, "late.lab.test", 25, 10);
    const b = await measure(lab, "late.lab.test", 50, 10);
    console.log(`| ${late} ms | ${fmt(a)} | ${fmt(b)} |`);
  }
  console.log("\n## Attempt-delay floor: 10 ms (RFC 8305 minimum, eyeballs) vs 100 ms (the draft's recommendation)\n");
  console.log("| case | floor 10 | floor 100 |\n|---|---|---|");
  for (const rtt of [200, 400, 600]) {
    await lab.reset();
    await lab.setDelay(rtt / 2);
    const a = await measure(lab, "dual.lab.test", 50, 10);
    const b = await measure(lab, "dual.lab.test", 50, 100);
    console.log(`| healthy 8+8, RTT ${rtt} ms | ${fmt(a)} | ${fmt(b)} |`);
  }
  await lab.reset();
  await lab.setDelay(10);
  const [live, ...dead] = lab.servers.v4;
  await lab.setDns("dead7.lab.test", { A: [...dead, live] });
  for (const address of dead) await lab.setFault(address, "blackhole");
  const a = await measure(lab, "dead7.lab.test", 50, 10);
  const b = await measure(lab, "dead7.lab.test", 50, 100);
  console.log(`| 7 of 8 dead (v4 only), RTT 20 ms | ${fmt(a)} | ${fmt(b)} |`);
} finally {
  await lab.stop();
}
