/**
 * The first-connect part of the benchmark: a fresh process per sample,
 * timed from its first line to the first connected socket, eyeballs against
 * the runtime's own connect; and the first import of each runtime module the
 * adapters load. Runs bench/first_runner.ts.
 *
 * @module
 */

import net from "node:net";
import { formatMs, median } from "./stats.ts";

type Runtime = "deno" | "bun" | "node";

/** Fresh processes per cell; variants alternate. */
const SAMPLES = 9;
const MODULES = ["node:net", "node:dns", "node:dgram", "node:fs"];

interface Line {
  variant?: string;
  module?: string;
  host?: string;
  startMs: number;
  importMs: number;
  connectMs: number;
  totalMs: number;
}

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

/** Runs the measurements; `run(rt, args)` starts first_runner on `rt` in a fresh process. */
export async function firstPart(
  runtimes: readonly Runtime[],
  run: (rt: Runtime, args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
  log: (s: string) => void,
): Promise<string> {
  const server = await listen();
  const rows: string[] = [];
  const moduleRows: string[] = [];
  try {
    for (const rt of runtimes) {
      for (const host of ["127.0.0.1", "localhost"]) {
        const got: Record<string, Line[]> = { native: [], eyeballs: [] };
        for (let i = 0; i < SAMPLES; i++) {
          for (const variant of i % 2 ? ["eyeballs", "native"] : ["native", "eyeballs"]) {
            const r = await run(rt, [variant, host, String(server.port)]);
            const line = parse(r.stdout);
            if (r.code !== 0 || !line) log(`  ! first ${rt} ${variant} ${host}: ${r.stderr.trim().split("\n").pop()}`);
            else got[variant].push(line);
          }
        }
        const nativeTotal = median(got.native.map((x) => x.totalMs));
        for (const variant of ["native", "eyeballs"]) {
          const xs = got[variant];
          if (!xs.length) continue;
          const total = median(xs.map((x) => x.totalMs));
          rows.push(
            `| ${rt} | ${host} | ${variant} | ${formatMs(median(xs.map((x) => x.startMs)))} | ${
              variant === "eyeballs" ? formatMs(median(xs.map((x) => x.importMs))) : "—"
            } | ${formatMs(median(xs.map((x) => x.connectMs)))} | ${formatMs(total)} (${
              formatMs(Math.min(...xs.map((x) => x.totalMs)))
            }–${formatMs(Math.max(...xs.map((x) => x.totalMs)))}) | ${
              variant === "eyeballs" ? `${(total / nativeTotal).toFixed(2)}×` : ""
            } |`,
          );
        }
      }
      for (const module of MODULES) {
        const xs: number[] = [];
        for (let i = 0; i < 5; i++) {
          const line = parse((await run(rt, ["module", module])).stdout);
          if (line) xs.push(line.importMs);
        }
        if (xs.length) moduleRows.push(`| ${rt} | \`${module}\` | ${formatMs(median(xs))} |`);
      }
      log(`  first ${rt} done`);
    }
  } finally {
    server.close();
  }
  return [
    "## First connect in a fresh process (loopback)",
    "",
    `One fresh process per sample, ${SAMPLES} per cell, variants alternating. "start" = the runner's first line, measured from the process's time origin (runtime start-up, the same for both); ` +
    `"import" = loading the eyeballs adapter (every module it needs, no network); "connect" = the first connect, lookup included; ` +
    `"total" = from the runner's first line to the connected socket, the measure the target is about (eyeballs ≤ 1.05× native). ` +
    'native = `Deno.connect`, `Bun.connect`, Node `net.connect` (its `import("node:net")` included). Host namespace, a listener on 127.0.0.1 and ::1.',
    "",
    "| Runtime | Host | Connect | start | import | connect | total (median, range) | eyeballs ÷ native |",
    "|---|---|---|--:|--:|--:|--:|--:|",
    ...rows,
    "",
    "The first import of each runtime module the adapters use, in a fresh process (median of 5):",
    "",
    "| Runtime | Module | first import |",
    "|---|---|--:|",
    ...moduleRows,
  ].join("\n");
}

function parse(stdout: string): Line | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  return line ? JSON.parse(line) : undefined;
}
