/**
 * The scale part of the benchmark: 10,000 connects in flight at once on
 * loopback, eyeballs against the runtime's own connect; then 1,000 eyeballs
 * connects at once to a name whose IPv6 address drops SYNs. Runs
 * bench/scale_runner.ts, one process per measurement, with the fd limit raised.
 *
 * @module
 */

import { formatMs, median } from "./stats.ts";

type Runtime = "deno" | "bun" | "node";

/** Connects in flight at once, and for the blackholed-IPv6 name. */
export const FLOOD = 10_000;
export const BLACKHOLED = 1_000;
/** Processes per variant: the order alternates, so drift lands on both. */
const RUNS = 5; // 3 left medians at the mercy of one slow process on a shared machine

interface Line {
  runtime: string;
  part: string;
  variant?: string;
  n: number;
  ms: number;
  failed: number;
  firstFailure?: string;
  rssBase: number;
  heapBase: number;
  rssPeak: number;
  heapPeak: number;
  lagMaxMs: number;
  lagP99Ms: number;
  fdsBefore: number;
  fdsAfter: number;
  overV4?: number;
  timersSet?: number;
  timersPeak?: number;
  timersLiveAfter?: number;
}

/**
 * Runs the scale measurements on every runtime and returns the report section.
 * `run(rt, args)` runs scale_runner on runtime `rt` with a raised fd limit.
 */
export async function scalePart(
  runtimes: readonly Runtime[],
  run: (rt: Runtime, args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>,
  log: (s: string) => void,
): Promise<string> {
  const floodRows: string[] = [];
  const holeRows: string[] = [];
  const perConnect = (bytes: number, n: number) => `${(bytes / n / 1024).toFixed(1)} KiB`;
  for (const rt of runtimes) {
    // node:net to one IP is what the Node and Bun adapters dial with; on Node it is the native connect.
    const variants = rt === "node" ? ["native", "eyeballs"] : ["native", "net", "eyeballs"];
    const got: Record<string, Line[]> = { native: [], net: [], eyeballs: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const variant of i % 2 ? [...variants].reverse() : variants) {
        const r = await run(rt, ["flood", variant, String(FLOOD)]);
        const line = parse(r.stdout);
        if (r.code !== 0 || !line) {
          log(`  ! scale ${rt} ${variant}: exit ${r.code} ${r.stderr.trim().split("\n").pop()}`);
        } else got[variant].push(line);
      }
    }
    const native = got.native.map((x) => x.ms);
    const net = got.net.map((x) => x.ms);
    for (const variant of variants) {
      const xs = got[variant];
      if (!xs.length) continue;
      const ms = xs.map((x) => x.ms);
      const rss = median(xs.map((x) => x.rssPeak - x.rssBase));
      const heap = median(xs.map((x) => x.heapPeak - x.heapBase));
      const ratio = variant !== "eyeballs" ? "" : [
        native.length ? `${(median(native) / median(ms)).toFixed(2)}× vs native` : "",
        net.length ? `${(median(net) / median(ms)).toFixed(2)}× vs node:net` : "",
      ].filter(Boolean).join("; ");
      floodRows.push(
        `| ${rt} | ${variant === "net" ? "node:net" : variant} | ${formatMs(median(ms))} (${
          ms.map((x) => x.toFixed(0)).join(", ")
        }) | ${ratio} | ${xs.reduce((a, x) => a + x.failed, 0)} | ${perConnect(rss, FLOOD)} | ${
          perConnect(heap, FLOOD)
        } | ${formatMs(median(xs.map((x) => x.lagMaxMs)))} | ${xs.map((x) => x.fdsAfter - x.fdsBefore).join(", ")} |`,
      );
    }
    const r = await run(rt, ["blackhole", String(BLACKHOLED)]);
    const hole = parse(r.stdout);
    if (r.code !== 0 || !hole) log(`  ! scale ${rt} blackhole: exit ${r.code} ${r.stderr.trim().split("\n").pop()}`);
    else {
      holeRows.push(
        `| ${rt} | ${
          formatMs(hole.ms)
        } | ${hole.overV4} of ${hole.n} | ${hole.failed} | ${hole.timersSet} | ${hole.timersPeak} | ${hole.timersLiveAfter} | ${
          formatMs(hole.lagP99Ms)
        } / ${formatMs(hole.lagMaxMs)} | ${perConnect(hole.rssPeak - hole.rssBase, hole.n)} | ${
          hole.fdsAfter - hole.fdsBefore
        } |`,
      );
    }
    log(`  scale ${rt} done`);
  }
  return [
    "## Scale (loopback)",
    "",
    `**${
      FLOOD.toLocaleString("en")
    } connects in flight at once** to 127.0.0.1, from one process (fd limit raised to 20000 with \`ulimit -n\`); ` +
    "a python child accepts and holds every connection. One process per measurement, " +
    `${RUNS} per variant, alternating order; each process makes one warm-up connect first. ` +
    "Total = from the first connect call until every promise settled. Throughput ratio = baseline total ÷ eyeballs total, medians (target ≥ 0.9× vs native); node:net (one IP, autoSelectFamily off) is what the Node and Bun adapters dial with. " +
    "Memory per pending connect = (peak − before) ÷ connects, sampled every 10 ms, median over processes. " +
    "fds left = open fds 500 ms after closing every socket, minus before (per process).",
    "",
    "| Runtime | Connect | total (median; each run) | baseline ÷ eyeballs (throughput) | failed | peak RSS per connect | peak heap per connect | event-loop delay max | fds left |",
    "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ...floodRows,
    "",
    `**A name with a blackholed IPv6 address, ${
      BLACKHOLED.toLocaleString("en")
    } eyeballs connects at once**: ::1 is a listener with a full accept queue ` +
    "(the kernel drops its SYNs), 127.0.0.1 on the same port accepts; the resolver answers both at once; default schedule, timeout 10 s. " +
    "Timers = eyeballs' own (counted through the `clock` option): set in all, most alive at once, alive after. " +
    "Event-loop delay = lateness of a 10 ms interval, p99 / max.",
    "",
    "| Runtime | total | landed over IPv4 | failed | timers set | timers peak | timers after | event-loop delay p99 / max | peak RSS per connect | fds left |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ...holeRows,
  ].join("\n");
}

function parse(stdout: string): Line | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  return line ? JSON.parse(line) : undefined;
}
