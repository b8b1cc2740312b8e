/**
 * Happy Eyeballs v3 in the lab (RTT 20 ms), eyeballs beside each runtime's own connect, on Deno, Bun and Node:
 *
 * - hints: A and AAAA 400 ms late, the HTTPS record's hints at once;
 * - alias: an AliasMode HTTPS record, the name itself without A or AAAA;
 * - h3 skipped: the first HTTPS endpoint is `alpn="h3" no-default-alpn` on blackholed addresses, a TCP client skips it;
 * - TLS: a healthy name, the first TLS connect of a process;
 * - MTU: TLS with the IPv6 path blackholed above 1280 bytes (no Packet Too Big).
 *
 *   flock /tmp/eyeballs-lab.lock deno run -A bench/hev3.ts [--runs 5]
 *
 * Each connect is a fresh process (bench/hev3_client.ts; Node runs its compiled copy) giving the time to the
 * connected (or TLS-finished) socket, the import excluded. Prints a Markdown table; `npm run bench` includes it.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable } from "../tests/lab/lab.ts";
import { testCa } from "../tests/helpers/test_ca.ts";
import { buildForNode, type NodeBuild } from "./node_build.ts";
import { median } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const flag = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const RUNS = flag("--runs", 5);
const TLS_PORT = 8443;
const TLS_NAME = "eyeballs.test"; // a name the test CA's server certificate carries
const WAIT_MS = 3000;

type Runtime = "deno" | "bun" | "node";
const RUNTIMES: Runtime[] = ["deno", "bun", "node"];

interface Case {
  readonly id: string;
  readonly title: string;
  readonly host: string;
  readonly port: number;
  readonly tls?: boolean;
  /** Also time the runtime's own TCP connect and then its own TLS on it (the first TLS connect's accounting). */
  readonly tcpThenTls?: boolean;
  /** Addresses a connect should not touch: their SYNs are counted. */
  avoid?(lab: Lab): string[];
  setup(lab: Lab): Promise<void>;
}

const CASES: Case[] = [
  {
    id: "hints",
    title: "A/AAAA 400 ms late, hints in the HTTPS record",
    host: "hints.lab.test",
    port: 443,
    async setup(lab) {
      const [[v6], [v4]] = [lab.servers.v6, lab.servers.v4];
      await lab.setDns("hints.lab.test", {
        A: { addrs: [v4], delayMs: 400 },
        AAAA: { addrs: [v6], delayMs: 400 },
        HTTPS: { records: [{ priority: 1, target: ".", params: { alpn: ["h2"], ipv6hint: [v6], ipv4hint: [v4] } }] },
      });
    },
  },
  {
    id: "alias",
    title: "AliasMode HTTPS record; the name has no A/AAAA",
    host: "alias.lab.test",
    port: 443,
    async setup(lab) {
      await lab.setDns("alias.lab.test", { HTTPS: { records: [{ priority: 0, target: "svc.lab.test" }] } });
      await lab.setDns("svc.lab.test", { A: [lab.servers.v4[1]], AAAA: [lab.servers.v6[1]] });
    },
  },
  {
    id: "h3-skip",
    title: 'first endpoint `alpn="h3" no-default-alpn` (its addresses blackholed), then h2',
    host: "h3.lab.test",
    port: 443,
    avoid: (lab) => [lab.servers.v4[3], lab.servers.v6[3]],
    async setup(lab) {
      const [v4, v6] = [lab.servers.v4, lab.servers.v6];
      await lab.setDns("h3.lab.test", {
        A: [v4[2]],
        AAAA: [v6[2]],
        HTTPS: {
          records: [
            {
              priority: 1,
              target: "quic.lab.test",
              params: { alpn: ["h3"], "no-default-alpn": true, ipv4hint: [v4[3]], ipv6hint: [v6[3]] },
            },
            { priority: 2, target: ".", params: { alpn: ["h2"] } },
          ],
        },
      });
      await lab.setDns("quic.lab.test", { A: [v4[3]], AAAA: [v6[3]] });
      for (const address of [v4[3], v6[3]]) await lab.setFault(address, "blackhole");
    },
  },
  {
    id: "tls",
    title: "TLS, healthy (the first TLS connect of a process)",
    host: TLS_NAME,
    port: TLS_PORT,
    tls: true,
    tcpThenTls: true,
    async setup(lab) {
      await lab.setDns(TLS_NAME, { A: [lab.servers.v4[0]], AAAA: [lab.servers.v6[0]] });
    },
  },
  {
    id: "mtu-tls",
    title: "TLS, IPv6 path-MTU blackhole (above 1280 bytes, no Packet Too Big)",
    host: TLS_NAME,
    port: TLS_PORT,
    tls: true,
    async setup(lab) {
      await lab.setDns(TLS_NAME, { A: [lab.servers.v4[0]], AAAA: [lab.servers.v6[0]] });
      await lab.setFault(lab.servers.v6[0], "mtu");
    },
  },
];

const deno = join(root, "node_modules", ".bin", "deno");
const bun = join(root, "node_modules", ".bin", "bun");

/** How to start one client of `rt` in `mode` for case `c`. */
function command(build: NodeBuild, rt: Runtime, mode: string, c: Case, caFile: string): [string, string[]] {
  const args = [mode, c.host, String(c.port), String(WAIT_MS), ...(c.tls ? [caFile] : [])];
  const source = join(root, "bench", "hev3_client.ts");
  if (rt === "deno") return [deno, ["run", "-A", "--quiet", source, ...args]];
  if (rt === "bun") return [bun, [source, ...args]];
  return ["node", [join(build.benchDir, "hev3_client.js"), ...args]];
}

interface Outcome {
  ok: boolean;
  ms: number;
  address?: string;
  error?: string;
}

/** One process: what it reached, and the SYNs it sent to `avoid`'s addresses. */
async function once(lab: Lab, cmd: [string, string[]], avoid: string[]): Promise<Outcome & { syns: number }> {
  await lab.resetSynCounts();
  const r = await lab.exec(cmd[0], cmd[1], {
    timeoutMs: 60_000,
    env: { ...Deno.env.toObject(), DENO_NO_UPDATE_CHECK: "1" },
    cwd: root,
  });
  const syns = await lab.synCounts({ reset: true });
  let out: Outcome;
  try {
    out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
  } catch {
    out = { ok: false, ms: NaN, error: `exit ${r.code}: ${r.stderr.trim().split("\n").pop()}` };
  }
  return { ...out, syns: avoid.reduce((sum, a) => sum + (syns[a] ?? 0), 0) };
}

/** A cell: median ms of the successful connects, where they went, and the failures. */
function cell(outcomes: (Outcome & { syns: number })[], avoid: boolean): string {
  const ok = outcomes.filter((o) => o.ok);
  const where = [...new Set(ok.map((o) => o.address))].join(", ");
  const failed = outcomes.length - ok.length;
  const errors = [...new Set(outcomes.filter((o) => !o.ok).map((o) => o.error))].join("; ");
  const syns = avoid ? `, ${median(outcomes.map((o) => o.syns))} SYNs to them` : "";
  return ok.length
    ? `${median(ok.map((o) => o.ms)).toFixed(0)} ms via ${where}${
      failed ? ` (${failed} failed: ${errors})` : ""
    }${syns}`
    : `failed ${failed}/${outcomes.length}: ${errors}${syns}`;
}

/** Runs every case on every runtime; the Markdown section. */
export async function hev3Section(runs = RUNS, log: (s: string) => void = console.error): Promise<string> {
  const skip = labUnavailable();
  if (skip) return `## Happy Eyeballs v3 (lab)\n\nSkipped: ${skip}.`;
  const build = await buildForNode(root);
  const lab = await Lab.start({ delayMs: 10, count: 4, ports: [443] });
  const dir = mkdtempSync(join(tmpdir(), "eyeballs-hev3-"));
  let server: ChildProcess | undefined;
  try {
    const ca = await testCa();
    // The CA twice after the leaf: a first flight well over 1280 bytes.
    writeFileSync(join(dir, "chain.pem"), [ca.serverCert, ca.caCert, ca.caCert].map((p) => p.trim()).join("\n") + "\n");
    writeFileSync(join(dir, "key.pem"), ca.serverKey);
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, ca.caCert);
    const serverArgs = [join(root, "tests", "lab", "tls_server.mjs"), join(dir, "chain.pem"), join(dir, "key.pem")];
    server = spawn("ip", ["netns", "exec", lab.serverNs, "node", ...serverArgs, String(TLS_PORT)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.on("data", (chunk) => String(chunk).includes("ready") && resolve());
      server!.once("exit", (code) => reject(new Error(`the TLS server exited (${code})`)));
    });
    const rows = [
      "| case | runtime | own connect | own TCP, then own TLS on it | eyeballs |",
      "|---|---|---|---|---|",
    ];
    for (const c of CASES) {
      await lab.reset();
      await c.setup(lab);
      const avoid = c.avoid?.(lab) ?? [];
      for (const rt of RUNTIMES) {
        const modes = c.tcpThenTls ? ["native", "tcp-then-tls", "eyeballs"] : ["native", "eyeballs"];
        const results: Record<string, (Outcome & { syns: number })[]> = {};
        for (let i = 0; i < runs; i++) {
          for (const mode of modes) {
            (results[mode] ??= []).push(await once(lab, command(build, rt, mode, c, caFile), avoid));
          }
        }
        const show = (mode: string) => results[mode] ? cell(results[mode], avoid.length > 0) : "—";
        rows.push(`| ${c.title} | ${rt} | ${show("native")} | ${show("tcp-then-tls")} | ${show("eyeballs")} |`);
        log(`  hev3 ${c.id} ${rt}: done`);
      }
    }
    return [
      "## Happy Eyeballs v3 (lab, RTT 20 ms)",
      "",
      `A fresh process per connect, ${runs} per cell, the import excluded; median time to the connected socket (with TLS: ` +
      `to the finished handshake), and the addresses reached. eyeballs: the runtime's adapter, ALPN h2 and http/1.1 ` +
      `offered, no history; for TCP the stub resolver (it asks the HTTPS record), for TLS the adapter's default (the ` +
      `stub on Node and Bun, systemResolver on Deno). Own connect: \`Deno.connect\` / \`Bun.connect\` / \`net.connect\`; ` +
      `with TLS \`Deno.connectTls\` / \`tls.connect\`, given ${WAIT_MS / 1000} s; "own TCP, then own TLS on it" = ` +
      `\`Deno.connect\` + \`Deno.startTls\` / \`net.connect\` + \`tls.connect({ socket })\`, what each of eyeballs' attempts does.`,
      "",
      ...rows,
    ].join("\n");
  } finally {
    server?.kill("SIGKILL");
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
    await build.remove();
  }
}

if (import.meta.main) console.log(await hev3Section());
