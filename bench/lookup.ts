/**
 * `lookup` beside `dns.lookup` and cacheable-lookup-style caching (issue 17): repeat lookups of one name in the lab
 * (RTT 20 ms, TTL 30 s), one fresh process per runtime, side by side in one run.
 *
 *   flock /tmp/eyeballs-lab.lock deno run -A bench/lookup.ts [--repeat 50]
 *
 * @module
 */

import { Lab, labUnavailable } from "../tests/lab/lab.ts";

const at = Deno.args.indexOf("--repeat");
const REPEAT = at >= 0 ? Number(Deno.args[at + 1]) : 50;
const runner = new URL("./lookup_runner.ts", import.meta.url).pathname;
/** The lookups, side by side per runtime, as a Markdown section. */
export async function lookupSection(repeat = REPEAT): Promise<string> {
  const skip = labUnavailable();
  if (skip) return `## lookup beside dns.lookup (lab)\n\nSkipped: ${skip}.`;
  const out: string[] = [];
  const lab = await Lab.start({ delayMs: 10, count: 2, ports: [80] });
  try {
    await lab.setDns("cached.lab.test", {
      A: { addrs: lab.servers.v4, ttl: 30 },
      AAAA: { addrs: lab.servers.v6, ttl: 30 },
    });
    out.push(`## lookup of cached.lab.test, ${repeat} in a row (lab RTT 20 ms, TTL 30 s)\n`);
    out.push("| runtime | variant | first | repeat (median) |\n|---|---|--:|--:|");
    // Node runs the TypeScript runner with type stripping: the pinned Node 22 has it, Node 20 does not.
    const node = new URL("../node_modules/node22/bin/node", import.meta.url).pathname;
    for (
      const [runtime, cmd, args] of [
        ["deno", Deno.execPath(), ["run", "-A", "--quiet", runner]],
        ["bun", new URL("../node_modules/.bin/bun", import.meta.url).pathname, [runner]],
        ["node 22", node, ["--experimental-strip-types", "--no-warnings", runner]],
      ] as const
    ) {
      const r = await lab.exec(cmd, [...args, "cached.lab.test", String(repeat)], { timeoutMs: 120_000 });
      if (r.code !== 0) {
        out.push(`| ${runtime} | (did not run: ${r.stderr.trim().split("\n").pop()}) | | |`);
        continue;
      }
      for (const line of r.stdout.trim().split("\n").filter((l) => l.startsWith("{"))) {
        const { variant, firstMs, repeatMedianMs } = JSON.parse(line);
        out.push(`| ${runtime} | ${variant} | ${firstMs.toFixed(1)} ms | ${repeatMedianMs.toFixed(2)} ms |`);
      }
    }
  } finally {
    await lab.stop();
  }
  return out.join("\n");
}

if (import.meta.main) console.log(await lookupSection());
