/**
 * What the first DNS lookup of a process costs with each DNS client a runtime offers, beside eyeballs' stub resolver
 * (issue 18: which part of a first connect's cost is the runtime's): in the lab (RTT 20 ms), both families of a
 * healthy name, a fresh process per sample (bench/dns_first_runner.ts; Node runs it with the pinned Node 22's type
 * stripping).
 *
 *   flock /tmp/eyeballs-lab.lock deno run -A bench/dns_first.ts [--samples 7]
 *
 * @module
 */

import { Lab, labUnavailable } from "../tests/lab/lab.ts";
import { formatMs, median } from "./stats.ts";

const at = Deno.args.indexOf("--samples");
const SAMPLES = at >= 0 ? Number(Deno.args[at + 1]) : 7;
const runner = new URL("./dns_first_runner.ts", import.meta.url).pathname;
const bin = (name: string) => new URL(`../node_modules/${name}`, import.meta.url).pathname;

const CLIENTS: [string, string, string[], string[]][] = [
  ["deno", Deno.execPath(), ["run", "-A", "--quiet", runner], ["stub", "getaddrinfo", "deno-resolveDns"]],
  ["bun", bin(".bin/bun"), [runner], ["stub", "stub-cares", "getaddrinfo", "c-ares"]],
  ["node 22", bin("node22/bin/node"), ["--experimental-strip-types", "--no-warnings", runner], [
    "stub",
    "stub-cares",
    "getaddrinfo",
    "c-ares",
  ]],
];

const skip = labUnavailable();
if (skip) {
  console.log(`skipped: ${skip}`);
  Deno.exit(0);
}
const lab = await Lab.start({ delayMs: 10, count: 2, ports: [80] });
try {
  await lab.setDns("first.lab.test", { A: lab.servers.v4, AAAA: lab.servers.v6 });
  console.log(`# The first DNS lookup of a process, A and AAAA at once (lab RTT 20 ms, median of ${SAMPLES})\n`);
  console.log("| runtime | client | load | first lookup | second lookup |\n|---|---|--:|--:|--:|");
  for (const [runtime, cmd, pre, modes] of CLIENTS) {
    for (const mode of modes) {
      const got: { importMs: number; firstMs: number; secondMs: number }[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const r = await lab.exec(cmd, [...pre, mode, "first.lab.test"], { timeoutMs: 30_000 });
        const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
        if (line) got.push(JSON.parse(line));
        else console.error(`${runtime} ${mode}: ${r.stderr.trim().split("\n").pop()}`);
      }
      if (!got.length) continue;
      const cell = (pick: (x: (typeof got)[number]) => number) => formatMs(median(got.map(pick)));
      console.log(
        `| ${runtime} | ${mode} | ${cell((x) => x.importMs)} | ${cell((x) => x.firstMs)} | ${
          cell((x) => x.secondMs)
        } |`,
      );
    }
  }
} finally {
  await lab.stop();
}
