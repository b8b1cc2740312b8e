/**
 * The eyeballs benchmark: how long a connect takes, and how many SYNs it
 * sends, in the lab's misbehaving networks, for eyeballs and for each
 * runtime's own connect; and what the library costs on loopback.
 *
 *   deno run -A bench/bench.ts [--runs 5] [--repeat 4] [--timeout 10000]
 *                              [--connects 10000] [--scenarios a,b] [--no-save]
 *                              [--parts overhead,first,scale,lab,dns,hev3]
 *
 * dns includes bench/lookup.ts (lookup beside dns.lookup); hev3 includes bench/hev3.ts and bench/lazy_eye.ts.
 *
 * Prints a markdown report and saves it to bench/RESULTS.md. The lab part
 * needs root (network namespaces, TUN); without it only the loopback
 * overhead part runs, and the report says why.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type ExecResult, Lab, labUnavailable } from "../tests/lab/lab.ts";
import { dnsPart } from "./dns.ts";
import { scalePart } from "./scale.ts";
import { firstLabPart, firstPart } from "./first.ts";
import { hev3Section } from "./hev3.ts";
import { lazyEyeSection } from "./lazy_eye.ts";
import { lookupSection } from "./lookup.ts";
import { buildForNode, type NodeBuild } from "./node_build.ts";
import { bundledPath, entryPoints } from "../scripts/bundle.ts";
import { formatMedian, formatRatio, median, type Sample } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Parsed command line. */
interface Options {
  runs: number;
  repeat: number;
  timeoutMs: number;
  connects: number;
  scenarios?: string[];
  parts: string[];
  save: boolean;
}

/** The parts of the benchmark, all run by default; `--parts` picks some (saved to RESULTS-<parts>.md). */
const PARTS = ["overhead", "first", "scale", "lab", "dns", "hev3"];

function parseOptions(args: string[]): Options {
  const opts: Options = { runs: 5, repeat: 4, timeoutMs: 10_000, connects: 10_000, parts: [...PARTS], save: true };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    const num = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
      return n;
    };
    if (flag === "--runs") opts.runs = num();
    else if (flag === "--repeat") opts.repeat = num();
    else if (flag === "--timeout") opts.timeoutMs = num();
    else if (flag === "--connects") opts.connects = num();
    else if (flag === "--scenarios") opts.scenarios = value().split(",");
    else if (flag === "--parts") {
      opts.parts = value().split(",");
      const unknown = opts.parts.filter((p) => !PARTS.includes(p));
      if (unknown.length) throw new Error(`--parts: unknown ${unknown.join(", ")} (known: ${PARTS.join(", ")})`);
    } else if (flag === "--no-save") opts.save = false;
    else throw new Error(`unknown option ${args[i]}`);
  }
  return opts;
}

type Runtime = "deno" | "bun" | "node";
const RUNTIMES: Runtime[] = ["deno", "bun", "node"];
type Mode = "native" | "eyeballs";
const MODES: Mode[] = ["native", "eyeballs"];

/** How to start a runner script on each runtime. */
interface Launchers {
  build: NodeBuild;
  command(
    rt: Runtime,
    script: "client" | "overhead" | "order" | "dns_runner" | "scale_runner" | "first_runner",
  ): [string, string[]];
}

function launchers(build: NodeBuild): Launchers {
  const bin = join(root, "node_modules", ".bin");
  return {
    build,
    command(rt, script) {
      if (rt === "deno") return [join(bin, "deno"), ["run", "-A", "--quiet", join(root, "bench", `${script}.ts`)]];
      if (rt === "bun") return [join(bin, "bun"), [join(root, "bench", `${script}.ts`)]];
      return [nodePath(), [join(build.benchDir, `${script}.js`)]];
    },
  };
}

function nodePath(): string {
  const r = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" });
  return r.stdout.trim() || "node";
}

/** The environment for runner processes: no Deno update check from inside the lab. */
function childEnv(): Record<string, string> {
  return { ...Deno.env.toObject(), DENO_NO_UPDATE_CHECK: "1" };
}

/** Runs a command on the host (loopback only) and collects its output. */
async function runHost(cmd: string, args: string[], timeoutMs: number): Promise<ExecResult> {
  const started = performance.now();
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", env: childEnv() }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - started,
    timedOut,
  };
}

/** JSON lines of a runner's stdout (other lines ignored). */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").flatMap((line) => {
    try {
      return line.startsWith("{") ? [JSON.parse(line)] : [];
    } catch {
      return [];
    }
  });
}

// ---------------------------------------------------------------- lab part

/** A network condition, set up on a freshly reset lab. */
interface Scenario {
  id: string;
  title: string;
  /** The name clients connect to. */
  name: string;
  setup(lab: Lab): Promise<void>;
  /** Show the address order each runtime's node:dns lookup gives for this family. */
  checkOrder?: 4 | 6;
  /** Undo what reset() does not (the link delay). */
  teardown?(lab: Lab): void | Promise<void>;
  /** The eyeballs client's HISTORY argument (client.ts) for a runtime: `off` or a file. Default: in memory. */
  history?(rt: Runtime): string;
}

/** One-way delay of the lab link for every scenario but the high-latency one (RTT 50 ms). */
const BASE_DELAY_MS = 25;
const HIGH_DELAY_MS = 300;

const faultAll = (kind: "blackhole" | "refused" | "unreachable") => async (lab: Lab) => {
  for (const a of lab.servers.v6) await lab.setFault(a, kind);
};

const SCENARIOS: Scenario[] = [
  { id: "healthy", title: "healthy dual-stack (8+8)", name: "dual.lab.test", setup: async () => {} },
  { id: "v6-blackhole", title: "IPv6 blackholed", name: "dual.lab.test", setup: faultAll("blackhole") },
  { id: "v6-refused", title: "IPv6 refused (RST)", name: "dual.lab.test", setup: faultAll("refused") },
  { id: "v6-unreachable", title: "IPv6 unreachable (ICMPv6)", name: "dual.lab.test", setup: faultAll("unreachable") },
  {
    id: "v6-blackhole-nohist",
    title: "IPv6 blackholed, history off",
    name: "dual.lab.test",
    setup: faultAll("blackhole"),
    history: () => "off",
  },
  {
    // Every process of a runtime shares one file: from the 2nd process on, the 1st connect knows too.
    id: "v6-blackhole-file",
    title: "IPv6 blackholed, FileHistory shared by the processes",
    name: "dual.lab.test",
    async setup(lab) {
      for (const rt of RUNTIMES) rmSync(benchHistoryFile(rt), { force: true });
      await faultAll("blackhole")(lab);
    },
    teardown: () => {
      for (const rt of RUNTIMES) rmSync(benchHistoryFile(rt), { force: true });
    },
    history: benchHistoryFile,
  },
  {
    id: "7of8-dead",
    title: "7 of 8 dead (v4 only, blackholed, live one last)",
    name: "dead7.lab.test",
    checkOrder: 4,
    async setup(lab) {
      const [live, ...dead] = lab.servers.v4;
      await lab.setDns("dead7.lab.test", { A: [...dead, live] });
      for (const a of dead) await lab.setFault(a, "blackhole");
    },
  },
  {
    id: "12of13-dead",
    title: "12 of 13 dead (blackholed, live IPv4 one last)",
    name: "dead12.lab.test",
    async setup(lab) {
      const dead = [...lab.servers.v6.slice(0, 6), ...lab.servers.v4.slice(0, 6)];
      await lab.setDns("dead12.lab.test", { AAAA: lab.servers.v6.slice(0, 6), A: lab.servers.v4.slice(0, 7) });
      for (const a of dead) await lab.setFault(a, "blackhole");
    },
  },
  {
    id: "aaaa-late",
    title: "AAAA answer 300 ms late",
    name: "late6.lab.test",
    async setup(lab) {
      await lab.setDns("late6.lab.test", { A: lab.servers.v4, AAAA: { addrs: lab.servers.v6, delayMs: 300 } });
    },
  },
  {
    id: "high-latency",
    title: `high latency (RTT ${2 * HIGH_DELAY_MS} ms)`,
    name: "dual.lab.test",
    setup: (lab) => lab.setDelay(HIGH_DELAY_MS),
    teardown: (lab) => lab.setDelay(BASE_DELAY_MS),
  },
];

/** The history file of a runtime's eyeballs clients in the shared-file scenario. */
function benchHistoryFile(rt: Runtime): string {
  return join(tmpdir(), `eyeballs-bench-history-${Deno.pid}-${rt}.json`);
}

/** What one client process did. */
interface Run {
  samples: Sample[];
  syns: number;
  /** True if the process itself misbehaved (crash, killed). */
  broken?: string;
}

/** All runs of one (scenario, runtime, mode). */
interface Cell {
  runs: Run[];
  /** Runs not made because earlier ones hung. */
  skipped: number;
}

const cellKey = (s: string, rt: Runtime, m: Mode) => `${s}/${rt}/${m}`;

/** Runs one client process in the lab and counts the SYNs it sent. */
async function clientRun(lab: Lab, l: Launchers, rt: Runtime, mode: Mode, sc: Scenario, opts: Options): Promise<Run> {
  const [cmd, pre] = l.command(rt, "client");
  await lab.resetSynCounts();
  const history = mode === "eyeballs" && sc.history ? [sc.history(rt)] : [];
  const args = [...pre, mode, sc.name, "80", String(opts.repeat), String(opts.timeoutMs), ...history];
  const r = await lab.exec(cmd, args, {
    timeoutMs: opts.repeat * (opts.timeoutMs + 2000) + 15_000,
    env: childEnv(),
    cwd: root,
  });
  const syns = Object.values(await lab.synCounts({ reset: true })).reduce((a, b) => a + b, 0);
  const samples = jsonLines(r.stdout).filter((o) => "i" in o) as unknown as Sample[];
  const broken = r.code !== 0 || r.timedOut
    ? `exit ${r.code ?? r.signal}${r.timedOut ? " (killed)" : ""}: ${r.stderr.trim().split("\n").pop() ?? ""}`
    : undefined;
  return { samples, syns, broken };
}

/** Meta line of a client (Node's autoSelectFamily defaults, as the process saw them). */
let nodeMeta: Record<string, unknown> | undefined;

async function labPart(lab: Lab, l: Launchers, opts: Options, log: (s: string) => void) {
  const cells = new Map<string, Cell>();
  const notes: string[] = [];
  const scenarios = SCENARIOS.filter((s) => !opts.scenarios || opts.scenarios.includes(s.id));
  // Warm each runtime once (Deno's transpile cache, disk cache) outside the timings.
  for (const rt of RUNTIMES) {
    const [cmd, pre] = l.command(rt, "client");
    const r = await lab.exec(cmd, [...pre, "native", "192.0.2.10", "80", "1", "5000"], { env: childEnv(), cwd: root });
    if (rt === "node") nodeMeta = jsonLines(r.stdout).find((o) => "meta" in o)?.meta as Record<string, unknown>;
    if (r.code !== 0) throw new Error(`${rt} client does not run: ${r.stderr}`);
  }
  for (const sc of scenarios) {
    await lab.reset();
    await sc.setup(lab);
    if (sc.checkOrder) notes.push(await resolverOrder(lab, l, sc.name, sc.checkOrder));
    const t0 = performance.now();
    for (let run = 0; run < opts.runs; run++) {
      // Interleaved: drift in the lab or the machine lands on every client alike.
      for (const rt of RUNTIMES) {
        for (const mode of MODES) {
          const key = cellKey(sc.id, rt, mode);
          const cell = cells.get(key) ?? { runs: [], skipped: 0 };
          cells.set(key, cell);
          // Two hung runs say enough; more would only burn the time budget.
          const hung = cell.runs.filter((r) => r.samples.some((s) => s.timeout)).length;
          if (hung >= 2) {
            cell.skipped++;
            continue;
          }
          const result = await clientRun(lab, l, rt, mode, sc, opts);
          if (result.broken) log(`  ! ${key} run ${run}: ${result.broken}`);
          cell.runs.push(result);
        }
      }
    }
    await sc.teardown?.(lab);
    log(`  ${sc.id}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { cells, scenarios, notes };
}

/** One line comparing getaddrinfo's order with each runtime's `dns.lookup` order for `name`. */
async function resolverOrder(lab: Lab, l: Launchers, name: string, family: 4 | 6): Promise<string> {
  const short = (a: string) => a.replace(/^192\.0\.2\.|^2001:db8::/, ".");
  const gai = await lab.exec("getent", [`ahostsv${family}`, name], { env: childEnv() });
  const sys = gai.stdout.split("\n").filter((x) => x.includes("STREAM")).map((x) => short(x.split(/\s+/)[0]));
  const parts = [`getaddrinfo (getent ahostsv${family}): ${sys.join(" ")}`];
  for (const rt of RUNTIMES) {
    const [cmd, pre] = l.command(rt, "order");
    const r = await lab.exec(cmd, [...pre, name, String(family)], { env: childEnv(), cwd: root });
    const o = jsonLines(r.stdout)[0] as { lookup?: string[] | string; verbatim?: string[] | string } | undefined;
    const show = (v?: string[] | string) => (Array.isArray(v) ? v.map(short).join(" ") : v ?? r.stderr.trim());
    parts.push(`${rt} dns.lookup: ${show(o?.lookup)}, with verbatim: ${show(o?.verbatim)}`);
  }
  return `Address order for ${name} (DNS answer: .11 … .17, then the live .10; the adapters call dns.lookup with verbatim): ${
    parts.join("; ")
  }.`;
}

/** Which family the successful connects reached: "v6", "v4", or "v6 60%". */
function wonVia(samples: Sample[]): string {
  const ok = samples.filter((s) => s.ok && s.address);
  if (ok.length === 0) return "—";
  const v6 = ok.filter((s) => s.address!.includes(":")).length;
  if (v6 === ok.length) return "v6";
  if (v6 === 0) return "v4";
  return `v6 ${Math.round((100 * v6) / ok.length)}%`;
}

function labTable(
  cells: Map<string, Cell>,
  scenarios: Scenario[],
  opts: Options,
): string {
  const rows = [
    "| Scenario | Runtime | native 1st | eyeballs 1st | ratio 1st | native 2..N | eyeballs 2..N | ratio 2..N | SYN/connect native | SYN/connect eyeballs | won via native / eyeballs |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  ];
  for (const sc of scenarios) {
    for (const rt of RUNTIMES) {
      const n = cells.get(cellKey(sc.id, rt, "native"));
      const e = cells.get(cellKey(sc.id, rt, "eyeballs"));
      if (!n || !e) continue;
      const first = (c: Cell) => c.runs.flatMap((r) => r.samples.filter((s) => (s as { i?: number }).i === 0));
      const rest = (c: Cell) => c.runs.flatMap((r) => r.samples.filter((s) => ((s as { i?: number }).i ?? 0) > 0));
      const syn = (c: Cell) => {
        const per = c.runs.filter((r) => r.samples.length).map((r) => r.syns / r.samples.length);
        return per.length ? median(per).toFixed(1) : "—";
      };
      const skipped = n.skipped + e.skipped ? ` (${n.skipped + e.skipped} runs skipped: hung)` : "";
      rows.push(
        `| ${sc.title} | ${rt}${skipped} | ${formatMedian(first(n), opts.timeoutMs)} | ${
          formatMedian(first(e), opts.timeoutMs)
        } | ${formatRatio(first(e), first(n), opts.timeoutMs)} | ${formatMedian(rest(n), opts.timeoutMs)} | ${
          formatMedian(rest(e), opts.timeoutMs)
        } | ${formatRatio(rest(e), rest(n), opts.timeoutMs)} | ${syn(n)} | ${syn(e)} | ${
          wonVia(n.runs.flatMap((r) => r.samples))
        } / ${wonVia(e.runs.flatMap((r) => r.samples))} |`,
      );
    }
  }
  return rows.join("\n");
}

// ----------------------------------------------------------- overhead part

interface OverheadLine {
  variant: string;
  round: number;
  n: number;
  ms: number;
  address: string;
  warmup: boolean;
}

/** Per runtime: what the check that nobody subscribes to the trace channels costs a connect, in ns. */
const tracingCheck = new Map<Runtime, number>();

/** Runs the loopback overhead runner per runtime; `exec` decides where (lab namespace or host). */
async function overheadPart(
  l: Launchers,
  opts: Options,
  withLocalhost: boolean,
  exec: (cmd: string, args: string[], timeoutMs: number) => Promise<ExecResult>,
  log: (s: string) => void,
): Promise<Map<Runtime, OverheadLine[]>> {
  const rounds = 20; // ratios of a few per cent: 10 rounds of 200 swung by ±10% on a shared machine
  const perRound = Math.max(1, Math.round(opts.connects / rounds));
  const out = new Map<Runtime, OverheadLine[]>();
  for (const rt of RUNTIMES) {
    const [cmd, pre] = l.command(rt, "overhead");
    const r = await exec(cmd, [...pre, String(perRound), String(rounds), withLocalhost ? "1" : "0"], 300_000);
    if (r.code !== 0) {
      log(`  ! overhead on ${rt} failed: exit ${r.code} ${r.stderr.trim().split("\n").pop()}`);
      continue;
    }
    const lines = jsonLines(r.stdout);
    out.set(rt, lines.filter((o) => "variant" in o) as unknown as OverheadLine[]);
    const tracing = lines.find((o) => "tracing" in o)?.tracing as { uncheckedNsPerConnect: number } | undefined;
    if (tracing) tracingCheck.set(rt, tracing.uncheckedNsPerConnect);
    log(`  overhead ${rt}: ${(r.ms / 1000).toFixed(1)} s`);
  }
  return out;
}

function overheadTable(results: Map<Runtime, OverheadLine[]>): string {
  const rows = [
    "| Runtime | Connect | Reached | connects/s (median of rounds) | µs per connect | eyeballs ÷ raw (median of paired rounds) |",
    "|---|---|---|--:|--:|--:|",
  ];
  // Each eyeballs variant against the raw connect on the same host, same round.
  const baselines: Record<string, string[]> = {
    "eyeballs ip": ["native ip", "node:net ip"],
    "eyeballs ip, traced": ["eyeballs ip"],
    "eyeballs localhost": ["native localhost"],
  };
  for (const [rt, lines] of results) {
    const measured = lines.filter((x) => !x.warmup);
    const byVariant = new Map<string, OverheadLine[]>();
    for (const x of measured) byVariant.set(x.variant, [...(byVariant.get(x.variant) ?? []), x]);
    const rate = (x: OverheadLine) => (x.n / x.ms) * 1000;
    for (const [variant, xs] of byVariant) {
      const rates = xs.map(rate);
      const ratios = (baselines[variant] ?? []).filter((b) => byVariant.has(b)).map((b) => {
        const base = new Map(byVariant.get(b)!.map((x) => [x.round, rate(x)]));
        const paired = xs.filter((x) => base.has(x.round)).map((x) => rate(x) / base.get(x.round)!);
        return `${median(paired).toFixed(2)}× vs ${b}`;
      });
      const total = xs.reduce((a, x) => a + x.n, 0);
      rows.push(
        `| ${rt} | ${variant} (${total}) | ${xs[xs.length - 1].address} | ${median(rates).toFixed(0)} | ${
          (1000 / median(rates) * 1000).toFixed(0)
        } | ${ratios.join("; ") || ""} |`,
      );
    }
  }
  return rows.join("\n");
}

// ------------------------------------------------------------------- main

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return (r.stdout || r.stderr || "?").trim().split("\n")[0];
}

/** The commit measured, and whether the library sources differ from it. */
function treeState(): string {
  // safe.directory: run as another user (the no-root path), git would refuse to read the repo.
  const git = ["-C", root, "-c", `safe.directory=${root}`];
  const head = spawnSync("git", [...git, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim() || "?";
  const dirty = spawnSync("git", [...git, "status", "--porcelain", "--", "src", "mod.ts"], { encoding: "utf8" })
    .stdout.split("\n").filter(Boolean).map((l) => l.slice(3));
  return `git ${head}${dirty.length ? ` with uncommitted changes in ${dirty.join(", ")}` : ""}`;
}

/** The 1-minute load average: other work on the machine is the main source of noise. */
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "?";
  }
}

function machineFacts(l: Launchers, loadAtStart: string): string[] {
  const cpu = cpus()[0]?.model ?? "?";
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${navigator.hardwareConcurrency} CPUs (nproc ${firstLine("nproc", [])}), ${cpu}, Linux ${
      firstLine("uname", ["-r"])
    }`,
    `- Runtimes: ${firstLine(l.command("deno", "client")[0], ["--version"])}; bun ${
      firstLine(l.command("bun", "client")[0], ["--version"])
    }; node ${firstLine(nodePath(), ["--version"])}`,
    `- Load average (1 min): ${loadAtStart} at start, ${loadAverage()} at end`,
    `- Tree: ${treeState()}`,
  ];
}

async function main(): Promise<number> {
  const opts = parseOptions(Deno.args);
  const command = ["deno run -A bench/bench.ts", ...Deno.args].join(" ");
  const started = performance.now();
  const loadAtStart = loadAverage();
  const log = (s: string) => console.error(s);
  const build = await buildForNode(root);
  const l = launchers(build);
  let lab: Lab | undefined;
  // Ctrl-C must still leave nothing behind: the lab and the compiled runners.
  const cleanup = async () => {
    await lab?.stop().catch(() => {});
    await build.remove();
  };
  const onSignal = () => {
    log("bench: interrupted, cleaning up");
    cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const sections: string[] = [];
    const skip = labUnavailable();
    let overhead: Map<Runtime, OverheadLine[]> | undefined;
    const want = (part: string) => opts.parts.includes(part);
    let overheadWhere: string;
    if (skip) {
      // Host namespace: loopback only. A family-6 getaddrinfo("localhost")
      // goes to the network's DNS server unless /etc/hosts maps ::1.
      const hostsV6 = /^\s*::1\s.*\blocalhost\b/m.test(await Deno.readTextFile("/etc/hosts").catch(() => ""));
      log(`${skip}: lab scenarios skipped; loopback overhead only (host namespace)`);
      if (want("overhead")) overhead = await overheadPart(l, opts, hostsV6, (c, a, t) => runHost(c, a, t), log);
      overheadWhere = `host network namespace${
        hostsV6
          ? ""
          : "; \"localhost\" rows skipped: /etc/hosts has no ::1 localhost, so eyeballs' AAAA lookup would query the network's DNS server"
      }`;
      sections.push(
        `## Lab scenarios\n\nSkipped: ${
          skip.replace(/^lab: skipped: /, "")
        }. The lab needs root, /dev/net/tun, iproute2 and python3 (see docs/lab.md).`,
      );
    } else {
      log("starting the lab…");
      lab = await Lab.start({ delayMs: BASE_DELAY_MS });
      // In the lab's client namespace localhost is 127.0.0.1 and ::1 from its own /etc/hosts,
      // so the "localhost" rows stay on loopback.
      const inLab = lab;
      const execInLab = (c: string, a: string[], t: number) =>
        inLab.exec(c, a, { timeoutMs: t, env: childEnv(), cwd: root });
      if (want("overhead")) {
        log("overhead (loopback, in the lab client namespace)…");
        overhead = await overheadPart(l, opts, true, execInLab, log);
      }
      overheadWhere = "lab client namespace (idle lab; its /etc/hosts maps localhost to 127.0.0.1 and ::1)";
      if (want("dns")) {
        log("dns (stall, cache)…");
        sections.push(await dnsPart(lab, RUNTIMES, (rt) => l.command(rt, "dns_runner"), execInLab, log));
        await lab.setDelay(BASE_DELAY_MS);
        log("lookup beside dns.lookup and a cacheable-lookup-style cache…");
        sections.push(await lookupSection(50)); // a lab of its own; the bench's stays idle meanwhile
      }
    }
    if (lab && want("lab")) {
      log("lab scenarios…");
      const { cells, scenarios, notes } = await labPart(lab, l, opts, log);
      const node = nodeMeta?.net as { autoSelectFamily?: boolean; attemptTimeout?: number } | undefined;
      sections.push(
        [
          "## Lab scenarios",
          "",
          `Median connect time, name resolution included, over ${opts.runs} client processes per cell, each connecting ${opts.repeat} times in a row ` +
          `(connect, close, next). "1st" is each process's first connect (${opts.runs} samples), "2..N" the others (${
            opts.runs * (opts.repeat - 1)
          } samples). ` +
          `Ratio = eyeballs median ÷ native median (below 1: eyeballs is faster). SYN/connect = SYNs the lab saw (retransmissions included) ÷ connects, median over processes. ` +
          `Link: one-way delay ${BASE_DELAY_MS} ms (RTT ${
            2 * BASE_DELAY_MS
          } ms) except where stated; server addresses 192.0.2.10-17 and 2001:db8::10-17; port 80. ` +
          `Every connect is capped at ${
            opts.timeoutMs / 1000
          } s; a process stops at its first timeout, and a cell stops after 2 hung processes.`,
          "",
          "native = `Deno.connect({ hostname, port })`, `Bun.connect({ hostname, port, socket })`, Node `net.connect({ host, port })` with its defaults " +
          `(Node reports net.getDefaultAutoSelectFamily() = ${node?.autoSelectFamily}, attempt timeout ${node?.attemptTimeout} ms). ` +
          "eyeballs = the runtime's adapter, `connect({ hostname|host, port, timeout })`, default settings.",
          "",
          labTable(cells, scenarios, opts),
          ...notes.flatMap((n) => ["", n]),
        ].join("\n"),
      );
    }
    if (lab && want("first")) {
      log("first connect to a name (fresh processes, lab)…");
      await lab.reset();
      await lab.setDelay(BASE_DELAY_MS);
      const inLab = lab;
      sections.push(
        await firstLabPart(RUNTIMES, "dual.lab.test", 2 * BASE_DELAY_MS, (rt, args) => {
          const [cmd, pre] = l.command(rt, "first_runner");
          return inLab.exec(cmd, [...pre, ...args], { timeoutMs: 60_000, env: childEnv(), cwd: root });
        }, log),
      );
      // Issue 18's rows: RTT 20 ms, a healthy name, IPv6 refused, IPv6 blackholed (import shown apart).
      for (
        const [condition, kind] of [["healthy", undefined], ["IPv6 refused", "refused"], [
          "IPv6 blackholed",
          "blackhole",
        ]] as const
      ) {
        await lab.reset();
        await lab.setDelay(10);
        if (kind) { for (const a of lab.servers.v6) await lab.setFault(a, kind); }
        sections.push(
          await firstLabPart(
            RUNTIMES,
            "dual.lab.test",
            20,
            (rt, args) => {
              const [cmd, pre] = l.command(rt, "first_runner");
              return inLab.exec(cmd, [...pre, ...args], { timeoutMs: 60_000, env: childEnv(), cwd: root });
            },
            log,
            condition,
          ),
        );
      }
      await lab.reset();
      await lab.setDelay(BASE_DELAY_MS);
    }
    if (want("first")) {
      log("first connect (fresh processes, host namespace)…");
      sections.push(
        await firstPart(
          RUNTIMES,
          (rt, args) => {
            const [cmd, pre] = l.command(rt, "first_runner");
            return runHost(cmd, [...pre, ...args], 60_000);
          },
          entryPoints(root).filter((e) => e.key !== "bin"),
          (rt, source) => {
            // Deno from the sources, without its V8 code cache; Bun and Node the npm build (Node 20 has no compile
            // cache, and Node 22's is off unless NODE_COMPILE_CACHE is set).
            const [cmd, pre] = l.command(rt, "first_runner");
            if (rt === "deno") {
              return runHost(cmd, [pre[0], "--no-code-cache", ...pre.slice(1), "module", join(root, source)], 60_000);
            }
            return runHost(cmd, [...pre, "module", join(dirname(build.benchDir), bundledPath(source))], 60_000);
          },
          log,
        ),
      );
    }
    if (want("scale")) {
      log("scale (loopback, host namespace)…");
      sections.push(
        await scalePart(RUNTIMES, (rt, args) => {
          const [cmd, pre] = l.command(rt, "scale_runner");
          // 10,000 sockets in one process: raise the soft fd limit (the hard one must allow it).
          return runHost("sh", ["-c", 'ulimit -n 20000 && exec "$@"', "sh", cmd, ...pre, ...args], 300_000);
        }, log),
      );
    }
    if (want("hev3")) {
      // Each starts a lab of its own (the bench's stays idle meanwhile).
      log("hev3 (HTTPS records, TLS over an MTU blackhole) and the Lazy Eye switch points…");
      sections.push(await hev3Section(opts.runs, log));
      sections.push(await lazyEyeSection());
    }
    if (overhead) {
      sections.push(
        [
          "## Core overhead (loopback)",
          "",
          `Sequential connect + close to a server in the same process on 127.0.0.1 (and ::1), ${opts.connects} connects per row in 20 interleaved rounds ` +
          `(order rotated each round, after a warm-up round). Run in the ${overheadWhere}. ` +
          `Ratio = eyeballs rate ÷ raw rate in the same round, median over rounds (target ≥ 0.95× to an IP, ≥ 1.0× to a name). ` +
          "native = the runtime's own connect; node:net = `net.connect` to one IP with autoSelectFamily off, which is what the Node and Bun adapters dial with. " +
          "traced = with a subscriber on every `diagnostics_channel` channel eyeballs publishes on (Node and Bun).",
          "",
          overheadTable(overhead),
          "",
          `Tracing with nobody subscribed: the check costs each connect ${
            [...tracingCheck].map(([rt, ns]) => `${ns.toFixed(1)} ns on ${rt}`).join(", ")
          } (a million calls, timed); a connect above takes tens of µs.`,
        ].join("\n"),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const report = [
      "# eyeballs benchmark",
      "",
      ...machineFacts(l, loadAtStart),
      `- Command: \`${command}\``,
      `- Total time: ${seconds.toFixed(0)} s`,
      "",
      ...sections.flatMap((s) => [s, ""]),
    ].join("\n");
    console.log(report);
    if (opts.save) {
      // A partial run (--parts) keeps its own file, so RESULTS.md always holds a full run.
      const name = PARTS.every(want) ? "RESULTS.md" : `RESULTS-${opts.parts.join("-")}.md`;
      const file = join(root, "bench", name);
      await Deno.writeTextFile(file, report);
      // Keep the saved file as `deno fmt` wants it (aligned tables), so the repo's fmt check stays green.
      await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", file], stdout: "null", stderr: "null" })
        .output();
      log(`saved ${relative(Deno.cwd(), file)}`);
    }
    return 0;
  } finally {
    await cleanup();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`bench: ${e instanceof Error ? e.stack ?? e.message : e}`);
    Deno.exit(1);
  }
}
