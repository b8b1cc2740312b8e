/**
 * The DNS part of the benchmark, in the lab: do lookups block each other
 * (getaddrinfo's thread pool against the stub resolver), and do repeated
 * connects skip the lookup while the answer is fresh (the DNS cache)?
 * Runs bench/dns_runner.ts on each runtime in the client namespace.
 *
 * @module
 */

import type { ExecResult, Lab } from "../tests/lab/lab.ts";
import { formatMs, median } from "./stats.ts";

type Runtime = "deno" | "bun" | "node";

/** The lab names this part sets up. */
const HEALTHY = "healthy.dns.lab.test";
const STALLED = "stalled.dns.lab.test";
const CACHED = "ttl.dns.lab.test";
const TTL_S = 3;
/** One-way delay for this part: RTT 20 ms, so a lookup costs a visible round trip. */
export const DNS_DELAY_MS = 10;

interface StallLine {
  part: "stall";
  resolver: string;
  usual: number[];
  blocked: number[];
}
interface CacheLine {
  part: "cache";
  variant: string;
  host: string;
  ms: number[];
  afterTtl?: number;
}

/**
 * Runs both measurements on every runtime and returns the report section.
 * `command(rt)` starts dns_runner on runtime `rt`; `exec` runs it in the lab.
 */
export async function dnsPart(
  lab: Lab,
  runtimes: readonly Runtime[],
  command: (rt: Runtime) => [string, string[]],
  exec: (cmd: string, args: string[], timeoutMs: number) => Promise<ExecResult>,
  log: (s: string) => void,
): Promise<string> {
  await lab.setDelay(DNS_DELAY_MS);
  const [v4, v6] = [lab.servers.v4[0], lab.servers.v6[0]];
  await lab.setDns(HEALTHY, { A: [v4], AAAA: [v6] });
  await lab.setDns(STALLED, { A: [v4], AAAA: { fail: "silent" } });
  for (const variant of ["native", "eyeballs-system", "eyeballs-cached-stub"]) {
    await lab.setDns(`${variant}.${CACHED}`, { A: { addrs: [v4], ttl: TTL_S }, AAAA: { addrs: [v6], ttl: TTL_S } });
  }
  const stallRows: string[] = [];
  const cacheRows: string[] = [];
  const port = String(lab.info.ports[0]);
  for (const rt of runtimes) {
    const [cmd, pre] = command(rt);
    const stall = await exec(cmd, [...pre, "stall", HEALTHY, STALLED, port], 120_000);
    if (stall.code !== 0) log(`  ! dns stall on ${rt}: exit ${stall.code} ${stall.stderr.trim().split("\n").pop()}`);
    for (const line of lines<StallLine>(stall.stdout, "stall")) {
      const usual = median(line.usual);
      const blocked = median(line.blocked);
      stallRows.push(
        `| ${rt} | ${line.resolver} | ${spread(line.usual)} | ${spread(line.blocked)} | ${
          (blocked / usual).toFixed(2)
        }× | ${line.blocked.map((x) => x.toFixed(0)).join(", ")} |`,
      );
    }
    await lab.dnsQueries({ reset: true });
    const cached = await exec(cmd, [...pre, "cache", CACHED, port, String(TTL_S)], 120_000);
    if (cached.code !== 0) log(`  ! dns cache on ${rt}: exit ${cached.code} ${cached.stderr.trim().split("\n").pop()}`);
    const queries = await lab.dnsQueries({ reset: true });
    const results = lines<CacheLine>(cached.stdout, "cache");
    const native = results.find((x) => x.variant === "native");
    for (const line of results) {
      const asked = queries.filter(([name]) => name === line.host).length;
      const later = line.ms.slice(1);
      const ratio = native ? `${(median(later) / median(native.ms.slice(1))).toFixed(2)}×` : "—";
      const after = line.afterTtl === undefined ? "" : `${line.afterTtl.toFixed(1)} ms`;
      cacheRows.push(
        `| ${rt} | ${line.variant} | ${line.ms[0].toFixed(1)} ms | ${spread(later)} | ${ratio} | ${asked} | ${after} |`,
      );
    }
    log(`  dns ${rt}: ${((stall.ms + cached.ms) / 1000).toFixed(1)} s`);
  }
  await lab.resetDns();
  return [
    "## DNS: lookups blocking each other, and the cache",
    "",
    `Lab link RTT ${2 * DNS_DELAY_MS} ms; resolv.conf \`timeout:1 attempts:1\`; port ${port}.`,
    "",
    `**Stall.** eyeballs connects to \`${HEALTHY}\` (one A, one AAAA): the usual time is the median of 7 sequential connects after 2 warm-up ones; ` +
    `"blocked" is one connect started 10 ms after 8 concurrent connects to \`${STALLED}\`, whose AAAA query is never answered ` +
    "(3 trials, 1.5 s apart so the stalled lookups end). system = getaddrinfo through node:dns (a 4-thread pool under Node and Bun); " +
    "stub = eyeballs' stub resolver (UDP through node:dgram, on Bun Bun.udpSocket; no thread pool). Target: blocked ≤ 1.1× usual.",
    "",
    "| Runtime | Resolver | usual (median, range) | blocked (median, range) | blocked ÷ usual | blocked trials (ms) |",
    "|---|---|--:|--:|--:|---|",
    ...stallRows,
    "",
    `**Cache.** 8 sequential connects (connect, close) to a name whose answers have a TTL of ${TTL_S} s, each variant on its own name; ` +
    "ratio = median of connects 2..8 ÷ the runtime's own (target ≤ 0.6× for the cached stub). " +
    `"DNS queries" is what the lab's DNS server received for that name (A and AAAA count one each), the after-TTL connect included: ` +
    `the cached stub should ask twice (A + AAAA) at the first connect and twice again after ${TTL_S} s.`,
    "",
    "| Runtime | Connect | 1st | 2..8 (median, range) | ratio 2..8 ÷ native | DNS queries | connect after the TTL |",
    "|---|---|--:|--:|--:|--:|--:|",
    ...cacheRows,
  ].join("\n");
}

/** "12.3 ms (11.9–14.0 ms)": the median and the range. */
function spread(values: readonly number[]): string {
  return `${formatMs(median(values))} (${formatMs(Math.min(...values))}–${formatMs(Math.max(...values))})`;
}

function lines<T>(stdout: string, part: string): T[] {
  return stdout.split("\n").flatMap((line) => {
    try {
      const o = line.startsWith("{") ? JSON.parse(line) : undefined;
      return o?.part === part ? [o as T] : [];
    } catch {
      return [];
    }
  });
}
