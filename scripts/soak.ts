/**
 * The full leak soak on all three runtimes, with one table at the end.
 *
 *   deno run -A scripts/soak.ts [--races N] [--seed S] [--concurrency C] [--no-build]
 *   (deno task soak / npm run soak; N defaults to SOAK_RACES, else 10000)
 *
 * Deno runs it in this process (the Node adapter, then the Deno adapter);
 * Bun runs tests/soak/run.ts; Node runs the same file compiled by
 * scripts/build_npm.ts (built first with --no-test, unless --no-build and a
 * build is there). Every runtime gets the same seed, printed first, so a
 * run can be replayed. Exit status 1 if anything leaked or went wrong.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { problems, runSoak, type SoakReport } from "../tests/soak/soak.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The value after `--name`, or undefined. */
function flag(name: string): string | undefined {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}

function whole(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a whole number, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** Runs a child with its stderr shown; returns its reports (the last stdout line) or the reason it failed. */
async function child(label: string, cmd: string, args: string[]): Promise<SoakReport[] | string> {
  console.log(`\n--- ${label}: ${cmd} ${args.join(" ")}`);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd: root, stdin: "null", stdout: "piped", stderr: "inherit" }).output();
  } catch (e) {
    return `cannot run ${cmd}: ${e instanceof Error ? e.message : e}`;
  }
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  try {
    return JSON.parse(lines.at(-1) ?? "");
  } catch {
    return `exit ${out.code}, no report; output: ${lines.slice(-5).join(" | ")}`;
  }
}

/** Handles as "kind n, kind n", or n/a. */
function handleText(h: SoakReport["handlesBefore"]): string {
  if (!h) return "n/a";
  return String(Object.values(h).reduce((a, b) => a + b, 0));
}

function table(reports: SoakReport[]): string {
  const head = [
    "runtime",
    "adapter",
    "races",
    "won",
    "failed",
    "aborted",
    "timed out",
    "closed",
    "dropped by Deno.connect",
    "fds before",
    "fds after",
    "handles before",
    "handles after",
    "race s",
    "total s",
    "verdict",
  ];
  const rows = reports.map((r) => [
    r.runtime,
    r.adapter,
    String(r.races),
    String(r.won),
    String(r.failed),
    String(r.aborted),
    String(r.timedOut),
    String(r.winnersClosed),
    String(r.droppedByDeno),
    String(r.fdsBefore ?? "n/a"),
    String(r.fdsAfter ?? "n/a"),
    handleText(r.handlesBefore),
    handleText(r.handlesAfter),
    r.seconds.toFixed(1),
    r.wallSeconds.toFixed(1),
    problems(r).length ? "LEAK/PROBLEM" : "clean",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

async function main(): Promise<number> {
  const races = whole(flag("races") ?? Deno.env.get("SOAK_RACES"), "--races", 10_000);
  const seed = whole(flag("seed"), "--seed", Math.floor(Math.random() * 0x1_0000_0000));
  const concurrency = whole(flag("concurrency"), "--concurrency", 20);
  console.log(`soak: ${races} races per runtime and adapter, ${concurrency} at a time, seed ${seed}`);
  const common = ["--races", String(races), "--seed", String(seed), "--concurrency", String(concurrency), "--json"];
  const reports: SoakReport[] = [];
  const failures: string[] = [];

  // Deno first, in this process, before any child process adds fds of its own.
  for (const adapter of ["node", "deno"] as const) {
    console.log(`\n--- deno (this process), ${adapter} adapter`);
    reports.push(await runSoak({ races, seed, concurrency, adapter }));
  }

  const bun = await child("bun", join(root, "node_modules", ".bin", "bun"), ["tests/soak/run.ts", ...common]);
  if (typeof bun === "string") failures.push(`bun: ${bun}`);
  else reports.push(...bun);

  const built = join(root, "npm_test", "tests", "soak", "run.js");
  let haveBuild = Deno.args.includes("--no-build") && (await Deno.stat(built).catch(() => undefined)) !== undefined;
  if (!haveBuild) {
    console.log("\n--- building npm/ for node (scripts/build_npm.ts --no-test)");
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/build_npm.ts", "--no-test"],
      cwd: root,
      stdin: "null",
    }).output();
    haveBuild = code === 0;
    if (!haveBuild) failures.push(`node: the npm build failed (exit ${code})`);
  }
  if (haveBuild) {
    const node = await child("node", "node", [built, ...common]);
    if (typeof node === "string") failures.push(`node: ${node}`);
    else reports.push(...node);
  }

  console.log(`\nsoak results, seed ${seed}. Handles are summed over kinds: Node and Deno from`);
  console.log(
    "process.getActiveResourcesInfo(), Deno adds its resource table, Bun counts its socket objects after a GC.\n",
  );
  console.log(table(reports));
  for (const r of reports) {
    for (const p of problems(r)) console.log(`${r.runtime} ${r.adapter} adapter: ${p}`);
    if (r.newFds.length) console.log(`${r.runtime} ${r.adapter} adapter: new fds ${r.newFds.join(", ")}`);
    if (!r.handlesBefore) console.log(`${r.runtime}: handles not counted (${r.handleSource})`);
  }
  for (const f of failures) console.log(f);
  return failures.length || reports.some((r) => problems(r).length) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
