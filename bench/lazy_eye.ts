/**
 * The "Lazy Eye Inspection" case (IMC 2025) in the lab: IPv6 is X ms slower than IPv4 (its SYN-ACK held back X ms),
 * and the switch point is the smallest X at which a client connects over IPv4. Measured for eyeballs on a host it
 * has never met, (a) on a network it knows nothing of and (b) on a network whose RTTs it knows (the same process
 * first connects to three other hosts in the lab), beside `Deno.connect` and Node's `net.connect`
 * (autoSelectFamily). Then the price of (b): the SYNs a healthy far host gets on a near network.
 *
 *   flock /tmp/eyeballs-lab.lock deno run -A bench/lazy_eye.ts [--runs 3] [--rtt 20]
 *
 * Each probe is a fresh process (bench/client.ts; Node runs its compiled copy); a probe's family is the majority of
 * RUNS processes. The switch point is found by bisection to 5 ms between X = 0 (IPv6 wins) and 600 ms.
 * docs/history.md has the figures.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable } from "../tests/lab/lab.ts";
import { buildForNode, type NodeBuild } from "./node_build.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const flag = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const RUNS = flag("--runs", 3);
const RTT = flag("--rtt", 20);
const PORT = 80;
const WARM = ["warm1.lab.test", "warm2.lab.test", "warm3.lab.test"];

/** One kind of client: how to start it for a connect to `host`, after warming with `warm` hosts. */
interface Client {
  readonly name: string;
  command(build: NodeBuild, hosts: string[]): [string, string[]];
  readonly warm: boolean;
}

const deno = join(root, "node_modules", ".bin", "deno");
/** The machine's node (the first on PATH outside node_modules, as scripts/test.ts picks it), not the pinned ones. */
const node = (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir && !dir.includes("node_modules"))
  .map((dir) => join(dir, "node")).find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  }) ?? "node";
const denoClient = (mode: string, hosts: string[]): [string, string[]] => [
  deno,
  [
    "run",
    "-A",
    "--quiet",
    join(root, "bench", "client.ts"),
    mode,
    hosts.join(","),
    `${PORT}`,
    `${hosts.length}`,
    "5000",
  ],
];
const CLIENTS: Client[] = [
  { name: "eyeballs, new host, network unknown", warm: false, command: (_, h) => denoClient("eyeballs", h) },
  { name: "eyeballs, new host, network known", warm: true, command: (_, h) => denoClient("eyeballs", h) },
  { name: "Deno.connect", warm: false, command: (_, h) => denoClient("native", h) },
  {
    name: "Node net.connect (autoSelectFamily)",
    warm: false,
    command: (build, h) => [node, [join(build.benchDir, "client.js"), "native", h.join(","), `${PORT}`, "1", "5000"]],
  },
];

/** The last connect's line of one client process: which address it reached, in how long. */
async function once(lab: Lab, command: [string, string[]]): Promise<{ address?: string; ms?: number }> {
  const r = await lab.exec(command[0], command[1], {
    timeoutMs: 60_000,
    env: { ...Deno.env.toObject(), DENO_NO_UPDATE_CHECK: "1" },
    cwd: root,
  });
  const last = r.stdout.trim().split("\n").pop() ?? "{}";
  try {
    const out = JSON.parse(last);
    return out.ok ? { address: out.address, ms: out.ms } : {};
  } catch {
    return {};
  }
}

/** How many of RUNS processes reached IPv4 with IPv6 `x` ms slower. */
async function v4Wins(lab: Lab, build: NodeBuild, client: Client, x: number): Promise<number> {
  await lab.setFault(lab.servers.v6[0], x > 0 ? "slow" : "none", { ms: x });
  let wins = 0;
  for (let i = 0; i < RUNS; i++) {
    const hosts = client.warm ? [...WARM, "lazy.lab.test"] : ["lazy.lab.test"];
    const { address } = await once(lab, client.command(build, hosts));
    if (address !== undefined && !address.includes(":")) wins++;
  }
  return wins;
}

/** The switch point, by bisection: [the largest X seen where IPv6 won, the smallest where IPv4 won]. */
async function switchPoint(lab: Lab, build: NodeBuild, client: Client): Promise<[number, number]> {
  let [lo, hi] = [0, 600];
  const majority = (wins: number) => wins * 2 > RUNS;
  if (majority(await v4Wins(lab, build, client, lo))) return [lo, lo];
  if (!majority(await v4Wins(lab, build, client, hi))) return [hi, Infinity];
  while (hi - lo > 5) {
    const mid = Math.round((lo + hi) / 2);
    const wins = await v4Wins(lab, build, client, mid);
    console.error(`  ${client.name}: X = ${mid} ms → IPv4 ${wins}/${RUNS}`);
    if (majority(wins)) hi = mid;
    else lo = mid;
  }
  return [lo, hi];
}

/** SYNs to far.lab.test's addresses (one per family, or four) for one connect to it, median of RUNS processes. */
async function farSyns(lab: Lab, warm: boolean, farRtt: number, perFamily: number): Promise<number> {
  const v4 = lab.servers.v4.slice(4, 4 + perFamily);
  const v6 = lab.servers.v6.slice(4, 4 + perFamily);
  await lab.setDns("far.lab.test", { A: v4, AAAA: v6 });
  for (const address of [...v4, ...v6]) await lab.setFault(address, "slow", { ms: farRtt - RTT });
  const counts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const hosts = warm ? [...WARM, "far.lab.test"] : ["far.lab.test"];
    await lab.resetSynCounts();
    await once(lab, denoClient("eyeballs", hosts));
    const syns = await lab.synCounts({ reset: true });
    counts.push([...v4, ...v6].reduce((sum, a) => sum + (syns[a] ?? 0), 0));
  }
  for (const address of [...v4, ...v6]) await lab.setFault(address, "none");
  return counts.sort((a, b) => a - b)[Math.floor(counts.length / 2)];
}

/** The switch points and the far hosts' SYNs, as a Markdown section. */
export async function lazyEyeSection(): Promise<string> {
  const skip = labUnavailable();
  if (skip) return `## Lazy Eye Inspection (lab)\n\nSkipped: ${skip}.`;
  const out: string[] = [];
  const build = await buildForNode(root);
  const lab = await Lab.start({ delayMs: RTT / 2, count: 8, ports: [PORT] });
  try {
    const version = new Deno.Command(node, { args: ["--version"], stdout: "piped" }).outputSync();
    out.push(
      `## Lazy Eye Inspection (lab, RTT ${RTT} ms, Deno ${Deno.version.deno}, Node ${
        new TextDecoder().decode(version.stdout).trim()
      }, ${RUNS} processes per probe)\n`,
    );
    await lab.setDns("lazy.lab.test", { A: [lab.servers.v4[0]], AAAA: [lab.servers.v6[0]] });
    for (const [i, name] of WARM.entries()) {
      await lab.setDns(name, { A: [lab.servers.v4[i + 1]], AAAA: [lab.servers.v6[i + 1]] });
    }
    out.push("| client | switches to IPv4 when IPv6 is slower by |\n|---|---|");
    for (const client of CLIENTS) {
      const [lo, hi] = await switchPoint(lab, build, client);
      out.push(`| ${client.name} | ${lo}–${hi} ms |`);
    }
    await lab.setFault(lab.servers.v6[0], "none");

    out.push(`\n### The price: SYNs to a healthy far host (both families equally far), network RTT ${RTT} ms\n`);
    out.push("| far host RTT | 1+1 addresses, network unknown | network known | 4+4, unknown | 4+4, known |");
    out.push("|---|---|---|---|---|");
    for (const farRtt of [60, 100, 150, 200, 300]) {
      const cells = [];
      for (const perFamily of [1, 4]) {
        for (const warm of [false, true]) cells.push(await farSyns(lab, warm, farRtt, perFamily));
      }
      out.push(`| ${farRtt} ms | ${cells.join(" | ")} |`);
    }
  } finally {
    await lab.stop();
    await build.remove();
  }
  return out.join("\n");
}

if (import.meta.main) console.log(await lazyEyeSection());
