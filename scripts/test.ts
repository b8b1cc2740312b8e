/**
 * Runs every check and every test on Deno, Bun and Node, then prints the
 * skipped count and, last, one line `N passed, N failed` summed over the
 * runtimes.
 *
 *   deno run -A scripts/test.ts      (what `npm test` and `deno task test` do)
 *
 * Order, one phase at a time (the lab tests share network namespaces and the
 * machine has two cores): `deno lint`, `deno fmt --check`, the JSR publish
 * dry run, `deno check` of the scripts and of the README's examples,
 * `deno test`, `bun test`, then scripts/build_npm.ts, which builds npm/ (the
 * bundled package) and runs the same test files on Node 20, 22 and 24 against
 * tsc's per-file output of the same sources (npm_test/), and last the
 * consumer test (scripts/consumer_test.ts: the packed tarball installed in a
 * scratch project).
 *
 * Node versions: Node 20 is the machine's (the one running npm); 22 and 24
 * are the pinned `node22` and `node24` dev packages, run by absolute path.
 * Each Node phase gets a PATH whose first `node` is its own version, so a
 * test that spawns `node` runs that version too. (Those packages also
 * declare a `node` bin; scripts/postinstall.mjs removes its link, but this
 * runner does not rely on that.) Each phase prints the version it ran.
 *
 * Node 22 and 24 run every test but tests/lab and tests/soak: the lab and
 * the soak test the network and the race, which do not depend on the Node
 * version, and take most of the time; they run on Node 20, Deno and Bun.
 *
 * Each runner keeps its normal console output; counts come from the JUnit
 * XML each one writes on the side. A test case counts once, as a leaf: a
 * `describe` block is not a test. A runner that exits non-zero without any
 * failing case (a file that does not load, a type error, a crash) counts as
 * one failure, so a broken phase can never pass silently.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** Outcome counts of one phase. */
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** One test case read from a JUnit report. */
interface Case {
  name: string;
  status: "passed" | "failed" | "skipped";
}

/**
 * Longest a phase may run, in seconds (env EYEBALLS_PHASE_TIMEOUT, default
 * 20 min): a hung test must fail the run well inside CI's 90 minutes rather
 * than use them all up.
 */
const phaseTimeout = Number(Deno.env.get("EYEBALLS_PHASE_TIMEOUT") ?? 1200);

/** Process group of the phase running now, ended on Ctrl-C or SIGTERM. */
let current: Deno.ChildProcess | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    if (current) killGroup(current);
    Deno.exit(130);
  });
}

function killGroup(child: Deno.ChildProcess): void {
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch { /* already gone */ }
}

/**
 * Runs a command with inherited stdio; returns its exit code. It gets its
 * own process group (`detached`), so that a timeout ends it together with
 * whatever it started (build_npm.ts starts node, node starts one process per
 * test file).
 */
async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<number> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      env,
      cwd: root,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
      detached: true,
    }).spawn();
  } catch (e) {
    console.error(`cannot run ${cmd}: ${e instanceof Error ? e.message : e}`);
    return 127;
  }
  current = child;
  const timer = setTimeout(() => {
    console.error(
      `\n${cmd} ${args[0]}: still running after ${phaseTimeout}s, stopped`,
    );
    killGroup(child);
  }, phaseTimeout * 1000);
  try {
    return (await child.status).code;
  } finally {
    clearTimeout(timer);
    current = undefined;
  }
}

function decodeXml(text: string): string {
  return text.replace(
    /&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi,
    (_, e: string) => {
      const named: Record<string, string> = {
        lt: "<",
        gt: ">",
        amp: "&",
        quot: '"',
        apos: "'",
      };
      if (e[0] !== "#") return named[e.toLowerCase()];
      return String.fromCodePoint(
        e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)),
      );
    },
  );
}

/**
 * Reads the `<testcase>` elements of a JUnit report, flat, in document order.
 * Deliberately tiny: the three runners write simple, well-formed XML.
 */
export function parseJUnit(xml: string): Case[] {
  const cases: Case[] = [];
  const tag = /<testcase\b([^>]*?)(\/?)>|<\/testcase>|<(failure|error|skipped)\b/g;
  let open: Case | undefined;
  for (const m of xml.matchAll(tag)) {
    if (m[0].startsWith("<testcase")) {
      const name = decodeXml(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? "");
      const c: Case = { name, status: "passed" };
      cases.push(c);
      open = m[2] === "/" ? undefined : c;
    } else if (m[0] === "</testcase>") {
      open = undefined;
    } else if (open) {
      // A failure outranks a skip written in the same case.
      if (m[3] === "skipped") {
        open.status = open.status === "failed" ? "failed" : "skipped";
      } else open.status = "failed";
    }
  }
  return cases;
}

/**
 * Deno reports node:test suites as tests named `a`, `a > b`, `a > b > c`:
 * keep only names that no other case extends, i.e. the leaves.
 */
export function denoLeaves(cases: Case[]): Case[] {
  const parents = new Set<string>();
  for (const c of cases) {
    const parts = c.name.split(" > ");
    for (let i = 1; i < parts.length; i++) {
      parents.add(parts.slice(0, i).join(" > "));
    }
  }
  return cases.filter((c) => !parents.has(c.name));
}

/**
 * Tallies cases. A non-zero exit with no failing case, or a runtime that ran
 * no case at all, counts as one failure.
 */
export function tally(cases: Case[], exitCode: number): Counts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) counts[c.status]++;
  if ((exitCode !== 0 || cases.length === 0) && counts.failed === 0) {
    counts.failed = 1;
  }
  return counts;
}

async function readReport(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return ""; // the runner died before writing it: its exit code tells
  }
}

/** Lists the `*.test.ts` files under tests/, sorted: the same files for every runtime. */
function testFiles(dir = "tests"): string[] {
  const found: string[] = [];
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(join(root, dir))];
  } catch { /* no such directory */ }
  for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) found.push(...testFiles(rel));
    else if (e.isFile && e.name.endsWith(".test.ts")) found.push(rel);
  }
  return found;
}

/** Script folders that only `deno check` would otherwise never type-check. */
function scriptDirs(): string[] {
  return ["scripts", "bench"].filter((d) => {
    try {
      return Deno.statSync(join(root, d)).isDirectory;
    } catch {
      return false;
    }
  });
}

/** A phase: a title, whether it is a check (not tests), and its runner. */
type Phase = [string, "check" | "tests", (tmp: string) => Promise<Counts>];

/** A check passes or fails as a whole; it adds no passed test. */
const checked = (code: number): Counts => ({
  passed: 0,
  failed: code === 0 ? 0 : 1,
  skipped: 0,
});

/** A Node binary the test command runs, and the major version it must be. */
interface NodeVersion {
  major: number;
  path: string | undefined;
  /** Test folders left out on this version (see the module comment). */
  skip: string[];
}

/** Test folders only the first Node version runs. */
const NODE_SLOW_DIRS = ["tests/lab", "tests/soak"];

/**
 * Node 20: the node that runs npm (`npm_node_execpath`), else the first
 * `node` on PATH outside node_modules/.bin. 22 and 24: the pinned packages.
 */
function nodeVersions(): NodeVersion[] {
  const pinned = (name: string) => join(root, "node_modules", name, "bin", "node");
  return [
    { major: 20, path: Deno.env.get("npm_node_execpath") ?? systemNode(), skip: [] },
    { major: 22, path: pinned("node22"), skip: NODE_SLOW_DIRS },
    { major: 24, path: pinned("node24"), skip: NODE_SLOW_DIRS },
  ];
}

function systemNode(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir || dir.includes("node_modules")) continue;
    try {
      if (Deno.statSync(join(dir, "node")).isFile) return join(dir, "node");
    } catch { /* not here */ }
  }
  return undefined;
}

/** `node --version` of a binary, or undefined if it does not run. */
async function versionOf(path: string): Promise<string | undefined> {
  try {
    const { code, stdout } = await new Deno.Command(path, { args: ["--version"], stdout: "piped" }).output();
    return code === 0 ? new TextDecoder().decode(stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The environment of a Node phase: PATH starts with a folder whose only
 * entry is `node`, the version under test.
 */
async function nodeEnv(tmp: string, node: string, major: number): Promise<Record<string, string>> {
  const dir = join(tmp, `node${major}-bin`);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.remove(join(dir, "node")).catch(() => {});
  await Deno.symlink(node, join(dir, "node"));
  return { PATH: `${dir}:${Deno.env.get("PATH") ?? ""}` };
}

/** One Node phase: the npm build's tests on that version (the first one also builds). */
function nodePhase(version: NodeVersion, first: boolean): Phase {
  const title = `node ${version.major} --test (npm build${
    version.skip.length ? `, without ${version.skip.join(", ")}` : ""
  })`;
  return [title, "tests", async (tmp) => {
    const path = version.path;
    const actual = path && await versionOf(path);
    if (!path || !actual) {
      console.error(`no Node ${version.major} found (${path ?? "not on PATH"}); run npm ci`);
      return { passed: 0, failed: 1, skipped: 0 };
    }
    console.log(`node --version: ${actual} (${path})`);
    if (!actual.startsWith(`v${version.major}.`)) {
      console.error(`expected Node ${version.major}, ${path} is ${actual}`);
      return { passed: 0, failed: 1, skipped: 0 };
    }
    const report = join(tmp, `node${version.major}.xml`);
    const args = ["run", "-A", "scripts/build_npm.ts", "--node", path, "--junit", report];
    if (!first) args.push("--no-build");
    for (const dir of version.skip) args.push("--skip", dir);
    const code = await run(Deno.execPath(), args, await nodeEnv(tmp, path, version.major));
    return tally(parseJUnit(await readReport(report)), code);
  }];
}

const phases: Phase[] = [
  ["deno lint", "check", async () => checked(await run(Deno.execPath(), ["lint"]))],
  ["deno fmt --check", "check", async () => checked(await run(Deno.execPath(), ["fmt", "--check"]))],
  // JSR's own checks (type check, slow types, file list) work offline;
  // --allow-dirty so that uncommitted work can be tested too.
  [
    "jsr publish --dry-run",
    "check",
    async () =>
      checked(
        await run(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"]),
      ),
  ],
  // `deno run` does not type-check, so the scripts are checked here.
  [
    "deno check scripts",
    "check",
    async () => checked(await run(Deno.execPath(), ["check", ...scriptDirs()])),
  ],
  // Every TypeScript block of README.md, against this checkout's exports.
  [
    "deno check README examples",
    "check",
    async () => checked(await run(Deno.execPath(), ["run", "-A", "scripts/check_readme.ts"])),
  ],
  ["deno test", "tests", async (tmp) => {
    const report = join(tmp, "deno.xml");
    const code = await run(Deno.execPath(), [
      "test",
      "-A",
      `--junit-path=${report}`,
      ...testFiles(),
    ]);
    return tally(denoLeaves(parseJUnit(await readReport(report))), code);
  }],
  ["bun test", "tests", async (tmp) => {
    const report = join(tmp, "bun.xml");
    const code = await run(bunPath(), [
      "test",
      // Bun alone stops a test after 5 s; lab scenarios legitimately take longer.
      "--timeout=120000",
      "--reporter=junit",
      `--reporter-outfile=${report}`,
      // "./" makes bun take them as paths, not name filters.
      ...testFiles().map((f) => `./${f}`),
    ]);
    return tally(parseJUnit(await readReport(report)), code);
  }],
  ...nodeVersions().map((version, i) => nodePhase(version, i === 0)),
  // The packed tarball, installed as a user would, on every Node version.
  ["consumer (npm pack, install, ESM, require, tsc, bin)", "tests", async (tmp) => {
    const report = join(tmp, "consumer.xml");
    const nodes = nodeVersions().flatMap((v) => (v.path ? ["--node", v.path] : []));
    const code = await run(Deno.execPath(), ["run", "-A", "scripts/consumer_test.ts", "--junit", report, ...nodes]);
    return tally(parseJUnit(await readReport(report)), code);
  }],
];

/**
 * The pinned bun. Its npm wrapper is replaced by the real binary only by the
 * package's postinstall; if install scripts were skipped, use the platform
 * package's binary directly.
 */
function bunPath(): string {
  const direct = join(
    root,
    "node_modules",
    "@oven",
    `bun-${Deno.build.os}-x64`,
    "bin",
    "bun",
  );
  try {
    if (Deno.build.arch === "x86_64" && Deno.statSync(direct).isFile) {
      return direct;
    }
  } catch { /* not there: postinstall moved it */ }
  return bin("bun");
}

async function main(): Promise<number> {
  const tmp = await Deno.makeTempDir({ prefix: "eyeballs-test-" });
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  const lines: string[] = [];
  if (testFiles().length === 0) {
    console.error("no tests/**/*.test.ts file found");
    return 1;
  }
  try {
    for (const [title, kind, phase] of phases) {
      console.log(`\n=== ${title} ===`);
      const started = performance.now();
      const c = await phase(tmp);
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      const result = kind === "check"
        ? (c.failed ? "FAILED" : "ok")
        : `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
      lines.push(`${title}: ${result} (${secs}s)`);
      total.passed += c.passed;
      total.failed += c.failed;
      total.skipped += c.skipped;
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  console.log("\n=== summary ===");
  for (const line of lines) console.log(line);
  if (total.passed + total.failed === 0) {
    console.log("no test ran");
    total.failed = 1;
  }
  console.log(`${total.skipped} skipped`);
  // The last line, which CI reads.
  console.log(`${total.passed} passed, ${total.failed} failed`);
  return total.failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
