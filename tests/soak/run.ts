/**
 * Runs the soak in this process and prints its reports: what scripts/soak.ts
 * starts under Bun (`bun tests/soak/run.ts`) and Node
 * (`node npm_test/tests/soak/run.js`). Works under Deno too.
 *
 *   run.ts [--races N] [--seed S] [--concurrency C] [--adapter node,deno] [--json]
 *
 * N defaults to SOAK_RACES, else 10000. Without --adapter: the Node adapter,
 * plus the Deno adapter under Deno. --json prints one line of JSON (for
 * scripts/soak.ts) instead of readable lines. Exit status 1 on any leak.
 */

import process from "node:process";
import { type AdapterName, problems, runSoak, type SoakReport } from "./soak.ts";

/** The value after `--name`, or undefined. */
function flag(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

/** A positive integer from a flag or env, or the fallback; throws on garbage. */
function count(text: string | undefined, what: string, fallback: number | undefined): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a whole number, got ${JSON.stringify(text)}`);
  }
  return n;
}

async function main(args: readonly string[]): Promise<number> {
  const races = count(flag(args, "races") ?? process.env.SOAK_RACES, "--races", 10_000)!;
  const seed = count(flag(args, "seed"), "--seed", undefined);
  const concurrency = count(flag(args, "concurrency"), "--concurrency", 20)!;
  const adapters = (flag(args, "adapter")?.split(",") ??
    ("Deno" in globalThis ? ["node", "deno"] : ["node"])) as AdapterName[];
  const reports: SoakReport[] = [];
  for (const adapter of adapters) {
    reports.push(await runSoak({ races, seed, concurrency, adapter }));
  }
  if (args.includes("--json")) console.log(JSON.stringify(reports));
  else {
    for (const r of reports) {
      console.log(JSON.stringify(r, null, 1));
      for (const p of problems(r)) console.log(`LEAK/PROBLEM: ${p}`);
    }
  }
  return reports.some((r) => problems(r).length) ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code), (e) => {
  console.error(`soak: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 2;
});
