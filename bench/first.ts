/**
 * The first-connect part of the benchmark: a fresh process per sample,
 * timed from its first line to the first connected socket, eyeballs against
 * the runtime's own connect, on loopback and (when the lab runs) to a name in
 * the lab; and the first import of each runtime module the adapters load.
 * Runs bench/first_runner.ts.
 *
 * @module
 */

import net from "node:net";
import { formatMs, median } from "./stats.ts";

type Runtime = "deno" | "bun" | "node";

/** Fresh processes per cell; variants alternate. */
const SAMPLES = 9;
const MODULES = ["node:net", "node:dns", "node:dgram", "node:fs"];
/** First uses timed by first_runner's `part` (its PARTS). */
const FIRST_USES = [
  "first setTimeout",
  "first touch of process",
  "crypto.getRandomValues",
  "network interfaces",
  "read nsswitch.conf, resolv.conf, hosts",
  "dns.lookup (first call, an IP)",
  "UDP socket, one datagram sent",
];

interface Line {
  variant?: string;
  module?: string;
  host?: string;
  startMs: number;
  importMs: number;
  connectMs: number;
  totalMs: number;
  secondMs?: number;
}

type Run = (rt: Runtime, args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/** Listens on 127.0.0.1 and ::1 (one port) and drops what it accepts. */
async function listen(): Promise<{ port: number; close(): void }> {
  const servers: net.Server[] = [];
  const one = (host: string, port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer((c) => c.destroy()).once("error", reject);
      s.listen({ host, port }, () => resolve(s));
    });
  servers.push(await one("127.0.0.1", 0));
  const port = (servers[0].address() as net.AddressInfo).port;
  servers.push(await one("::1", port));
  return { port, close: () => servers.forEach((s) => s.close()) };
}

/** A package entry (deno.json `exports`), and the file a runtime's user loads for it. */
export interface Entry {
  readonly key: string;
  readonly source: string;
}
/** How to import one file on `rt` in a fresh process, with no compile cache (first_runner's `module`). */
export type ImportRun = (rt: Runtime, file: string) => ReturnType<Run>;

/** The entries a user of `rt` imports: every one but the other runtimes' adapters. */
export function entriesOf(rt: Runtime, entries: readonly Entry[]): Entry[] {
  const others = (["deno", "bun", "node"] as const).filter((r) => r !== rt);
  return entries.filter(({ key }) => !others.some((o) => key === `./${o}` || key.startsWith(`./${o}/`)));
}

/** The first import of each package entry on each runtime (median of 5 fresh processes): the table's rows. */
async function entryRows(
  runtimes: readonly Runtime[],
  entries: readonly Entry[],
  run: ImportRun,
  log: (s: string) => void,
) {
  const ms = new Map<string, Partial<Record<Runtime, number>>>(entries.map((e) => [e.key, {}]));
  for (const rt of runtimes) {
    for (const entry of entriesOf(rt, entries)) {
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await run(rt, entry.source);
        const line = parse(result.stdout);
        if (!line) throw new Error(`import of ${entry.key} on ${rt} failed: ${result.stderr.slice(-500)}`);
        xs.push(line.importMs);
      }
      ms.get(entry.key)![rt] = median(xs);
    }
    log(`  entries ${rt} done`);
  }
  const cell = (x: number | undefined) => (x === undefined ? "—" : formatMs(x));
  return entries.map((e) => `| \`${e.key}\` | ${runtimes.map((rt) => cell(ms.get(e.key)![rt])).join(" | ")} |`);
}

/**
 * Runs the measurements; `run(rt, args)` starts first_runner on `rt` in a fresh process, `importRun` imports one
 * package entry there.
 */
export async function firstPart(
  runtimes: readonly Runtime[],
  run: Run,
  entries: readonly Entry[],
  importRun: ImportRun,
  log: (s: string) => void,
): Promise<string> {
  const server = await listen();
  const rows: string[] = [];
  const moduleRows: string[] = [];
  try {
    for (const rt of runtimes) {
      for (const host of ["127.0.0.1", "localhost"]) rows.push(...await compare(rt, host, server.port, run, log));
      for (const [kind, names] of [["module", MODULES], ["part", FIRST_USES]] as const) {
        for (const name of names) {
          const xs: number[] = [];
          for (let i = 0; i < 5; i++) {
            const line = parse((await run(rt, [kind, name])).stdout);
            if (line) xs.push(line.importMs);
          }
          const what = kind === "module" ? `import \`${name}\`` : name;
          if (xs.length) moduleRows.push(`| ${rt} | ${what} | ${formatMs(median(xs))} |`);
        }
      }
      log(`  first ${rt} done`);
    }
  } finally {
    server.close();
  }
  const entryLines = await entryRows(runtimes, entries, importRun, log);
  return [
    "## First connect in a fresh process (loopback)",
    "",
    `One fresh process per sample, ${SAMPLES} per cell (after one untimed run of each), variants alternating. ${COLUMNS} Host namespace, a listener on 127.0.0.1 and ::1.`,
    "",
    HEADER,
    ...rows,
    "",
    "The first import of each runtime module the adapters use, and the first use of what a name's first connect needs, " +
    "each alone in a fresh process (median of 5):",
    "",
    "| Runtime | What | first time |",
    "|---|---|--:|",
    ...moduleRows,
    "",
    "The import of each package entry, alone in a fresh process without a compile cache (median of 5): on Deno from " +
    "the TypeScript sources (as from JSR; `--no-code-cache`, the transpiled files cached), on Bun and Node the npm " +
    "build (the bundles in layers of scripts/bundle.ts). Issue 18's target: at most 3 ms for `./node` on Node and " +
    "`./deno` on Deno. — = another runtime's adapter.",
    "",
    `| Entry | ${runtimes.join(" | ")} |`,
    `|---|${runtimes.map(() => "--:").join("|")}|`,
    ...entryLines,
  ].join("\n");
}

/**
 * The issue's measure on a real round trip: from the import to the first connected socket, to a healthy dual-stack
 * name in the lab (`run` starts first_runner in the lab's client namespace; the lab is reset, at its base delay).
 */
export async function firstLabPart(
  runtimes: readonly Runtime[],
  name: string,
  rttMs: number,
  run: Run,
  log: (s: string) => void,
  condition = "healthy",
): Promise<string> {
  const rows: string[] = [];
  const phases: string[] = [];
  for (const rt of runtimes) {
    rows.push(...await compare(rt, name, 80, run, log));
    phases.push(await timelineRow(rt, name, run));
    log(`  first (lab, ${condition}, RTT ${rttMs} ms) ${rt} done`);
  }
  return [
    `## First connect in a fresh process (lab, a name, ${condition}, RTT ${rttMs} ms)`,
    "",
    `One fresh process per sample in the lab's client namespace, ${SAMPLES} per cell (after one untimed run of each), variants alternating, to \`${name}\` ` +
    `(8 A and 8 AAAA records from the lab's DNS server, resolv.conf and nsswitch \`hosts: files dns\` of the lab), port 80, ` +
    `link RTT ${rttMs} ms. ${COLUMNS} "2nd" = a second connect in the same process after closing the first.`,
    "",
    HEADER,
    ...rows,
    "",
    `Where eyeballs' first connect goes, by its race's events (\`connectWithTimeline\`, the import apart; median of ${SAMPLES} fresh processes): ` +
    `"set-up" = from the call to the race's start (options, history, network id); "DNS" = the race's start to the first answer; ` +
    `"to attempt" = the first answer to the first attempt's start (the Resolution Delay when AAAA is last); "TCP" = the winning attempt; ` +
    `"after" = the winner to the caller.`,
    "",
    "| Runtime | set-up | DNS | to attempt | TCP | after | total |",
    "|---|--:|--:|--:|--:|--:|--:|",
    ...phases,
  ].join("\n");
}

/** One row of phases of eyeballs' first connect to `host` on `rt` (median of SAMPLES fresh processes). */
async function timelineRow(rt: Runtime, host: string, run: Run): Promise<string> {
  const cols: number[][] = [[], [], [], [], [], []];
  for (let i = 0; i < SAMPLES; i++) {
    const line = parse((await run(rt, ["timeline", host, "80"])).stdout) as
      | (Line & { raceMs: number; events: [string, number][] })
      | undefined;
    if (!line) continue;
    const at = (type: string) => line.events.find(([t]) => t === type)?.[1];
    const [resolved, start, won] = [at("resolved"), at("attempt-start"), at("attempt-won")];
    if (resolved === undefined || start === undefined || won === undefined) continue;
    const setup = line.totalMs - line.raceMs; // the race's clock starts after the set-up
    [setup, resolved, start - resolved, won - start, line.raceMs - won, line.totalMs].forEach((v, k) =>
      cols[k].push(v)
    );
  }
  return `| ${rt} | ${cols.map((xs) => xs.length ? formatMs(median(xs)) : "—").join(" | ")} |`;
}

const COLUMNS =
  `"start" = the runner's first line, measured from the process's time origin (runtime start-up, the same for both); ` +
  `"import" = loading the eyeballs adapter (every module it needs, no network), for native \`node:net\` on Node and nothing on Deno and Bun; ` +
  `"connect" = the first connect, lookup included; ` +
  `"total" = from the import to the first connected socket; "eyeballs ÷ own" = eyeballs' median total, then its median ` +
  `connect (the import excluded: the issue's measure, target ≤ 1.05×), each over the runtime's own. ` +
  "native = `Deno.connect`, `Bun.connect`, Node `net.connect`; on Bun also node-net = `node:net`, which the Bun adapter dials with.";

const HEADER = [
  "| Runtime | Host | Connect | start | import | connect | total (median, range) | eyeballs ÷ own: total / connect | 2nd |",
  "|---|---|---|--:|--:|--:|--:|--:|--:|",
].join("\n");

/** What each runtime's first connect is compared with: its own; on Bun also the `node:net` its adapter dials with. */
const OWN: Record<Runtime, string[]> = { deno: ["native"], bun: ["native", "node-net"], node: ["native"] };

/** Table rows for the runtime's own connects and eyeballs to `host`, alternating fresh processes. */
async function compare(rt: Runtime, host: string, port: number, run: Run, log: (s: string) => void): Promise<string[]> {
  const variants = [...OWN[rt], "eyeballs"];
  const got: Record<string, Line[]> = Object.fromEntries(variants.map((v) => [v, []]));
  for (const variant of variants) await run(rt, [variant, host, String(port)]); // caches warm, not timed
  for (let i = 0; i < SAMPLES; i++) {
    for (const variant of i % 2 ? [...variants].reverse() : variants) {
      const r = await run(rt, [variant, host, String(port)]);
      const line = parse(r.stdout);
      if (r.code !== 0 || !line) log(`  ! first ${rt} ${variant} ${host}: ${r.stderr.trim().split("\n").pop()}`);
      else got[variant].push(line);
    }
  }
  const rows: string[] = [];
  const medianOf = (variant: string, pick: (x: Line) => number) => median(got[variant].map(pick));
  for (const variant of variants) {
    const xs = got[variant];
    if (!xs.length) continue;
    const totals = xs.map((x) => x.totalMs);
    const total = median(totals);
    const ms = (pick: (x: Line) => number | undefined) => {
      const values = xs.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? formatMs(median(values)) : "—";
    };
    const range = `${formatMs(Math.min(...totals))}–${formatMs(Math.max(...totals))}`;
    const ratio = (own: string) =>
      `${(total / medianOf(own, (x) => x.totalMs)).toFixed(2)}× / ${
        (medianOf("eyeballs", (x) => x.connectMs) / medianOf(own, (x) => x.connectMs)).toFixed(2)
      }×`;
    const ratios = variant === "eyeballs" && got.eyeballs.length
      ? OWN[rt].filter((own) => got[own].length).map((own) => `${ratio(own)}${own === "native" ? "" : ` (${own})`}`)
        .join("; ")
      : "";
    rows.push(
      `| ${rt} | ${host} | ${variant} | ${ms((x) => x.startMs)} | ${ms((x) => x.importMs)} | ${
        ms((x) => x.connectMs)
      } | ${formatMs(total)} (${range}) | ${ratios} | ${ms((x) => x.secondMs)} |`,
    );
  }
  return rows;
}

function parse(stdout: string): Line | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  return line ? JSON.parse(line) : undefined;
}
