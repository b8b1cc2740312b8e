/**
 * The eyeballs network lab, for tests: two network namespaces joined by a
 * userspace delay line, a scripted DNS server and per-address faults.
 *
 * ```ts
 * const lab = await Lab.start({ delayMs: 100 });
 * try {
 *   await lab.setDns("slow6.lab.test", { A: lab.servers.v4, AAAA: { addrs: lab.servers.v6, delayMs: 300 } });
 *   await lab.setFault(lab.servers.v6[0], "blackhole");
 *   const r = await lab.exec("eyeballs", ["slow6.lab.test", "80", "--json"]);
 * } finally {
 *   await lab.stop();
 * }
 * ```
 *
 * The work is done by a Python daemon (tests/lab/lab.py serve) that this
 * module spawns and talks to over its stdin/stdout. If this process dies,
 * the pipe closes and the daemon removes the lab by itself. See docs/lab.md.
 *
 * Portable across Deno, Bun and Node 20 (only node: built-ins, no runtime globals).
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { platform } from "node:os";
import { dirname, join, resolve } from "node:path";

/** What a server address does to traffic sent to it. */
export type FaultKind =
  | "none"
  | "blackhole"
  | "refused"
  | "unreachable"
  | "slow"
  /** A path-MTU blackhole: packets from the address over 1280 bytes are dropped, and no Packet Too Big comes back. */
  | "mtu";

/** Which ICMP destination-unreachable an "unreachable" address answers with. */
export type UnreachableCode = "host" | "net" | "port" | "admin";

/** Options of {@link Lab.setFault}. */
export interface FaultOptions {
  /** For "slow": extra milliseconds before the SYN-ACK reaches the client. */
  ms?: number;
  /** For "unreachable": the ICMP code (default "host"). */
  code?: UnreachableCode;
}

/**
 * How the DNS server answers one record type of one name: a list of
 * addresses, or an object (addresses, lateness, or a failure).
 */
export type DnsRule = string[] | {
  addrs?: string[];
  /** Answer this many ms late (on top of the link's round trip). */
  delayMs?: number;
  /** Answer with this error instead, or ("silent") never answer. */
  fail?: "nxdomain" | "servfail" | "refused" | "silent";
  /** The answer's TTL in seconds. Default 0 (nothing cached between scenarios). */
  ttl?: number;
  /** Answer a query carrying EDNS0 with FORMERR (a server that does not know EDNS). */
  ednsFormerr?: boolean;
  /** Over UDP, set TC: "clean" sends no records, "cut" keeps the counts and cuts the body mid-record. */
  truncate?: "clean" | "cut";
};

/**
 * One SVCB/HTTPS record as the lab's DNS server writes it (RFC 9460 wire format):
 * params by their presentation names (`ech` in base64, `keyNNNNN` in hex),
 * or `rdataHex`, sent as it is (for malformed records).
 */
export type ServiceRecordRule = {
  priority?: number;
  target?: string;
  params?: {
    mandatory?: string[];
    alpn?: string[];
    "no-default-alpn"?: true;
    port?: number;
    ipv4hint?: string[];
    ech?: string;
    ipv6hint?: string[];
    [key: `key${number}`]: string;
  };
} | { rdataHex: string };

/** How the DNS server answers an HTTPS or SVCB query: records, lateness, or a failure. */
export type ServiceRule = {
  records?: ServiceRecordRule[];
  delayMs?: number;
  fail?: "nxdomain" | "servfail" | "refused" | "silent";
  ttl?: number;
};

/** Rules per record type; a missing type is answered with NODATA. */
export interface DnsRules {
  A?: DnsRule;
  AAAA?: DnsRule;
  /** An alias: every type is answered with this CNAME, then the target's records. */
  CNAME?: string;
  HTTPS?: ServiceRule;
  SVCB?: ServiceRule;
}

/** Options of {@link Lab.start}. */
export interface LabOptions {
  /** One-way delay of the link in ms (RTT = 2 x delayMs). Default 0. */
  delayMs?: number;
  /** Server addresses per family, 1..32. Default 8 (192.0.2.10-17, 2001:db8::10-17). */
  count?: number;
  /** Ports with a banner+echo listener on every server address. Default [80, 443]. */
  ports?: number[];
  /** Give up starting after this many ms. Default 20000. */
  startTimeoutMs?: number;
}

/** Facts about a running lab, as reported by its daemon. */
export interface LabInfo {
  pid: number;
  clientNs: string;
  serverNs: string;
  delayMs: number;
  client: { v4: string; v6: string };
  servers: { v4: string[]; v6: string[] };
  dnsServer: { v4: string; v6: string };
  router: { v4: string; v6: string };
  ports: number[];
  names: string[];
  staleRemoved: string[];
}

/** Outcome of {@link Lab.exec}. */
export interface ExecResult {
  /** Exit code, or null if the process was ended by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Wall-clock duration in ms. */
  ms: number;
  /** True if the process was killed because timeoutMs passed. */
  timedOut: boolean;
}

/** Options of {@link Lab.exec}. */
export interface ExecOptions {
  /** Kill the process (SIGKILL) after this many ms. Default 60000. */
  timeoutMs?: number;
  /** Written to the process's stdin, which is then closed. */
  input?: string;
  /** Environment; default: this process's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Packet and connection counters of the daemon. */
export interface LabStats {
  packets: { c2s: number; s2c: number; dropped: number; forged: number };
  accepted: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** Absolute path of a file in tests/lab (works from source and from compiled JS). */
export function labFile(name: string): string {
  const candidates: string[] = [];
  const envDir = process.env.EYB_LAB_DIR;
  if (envDir) candidates.push(join(envDir, name));
  try {
    candidates.push(
      join(
        dirname(decodeURIComponent(new URL(import.meta.url).pathname)),
        name,
      ),
    );
  } catch {
    // import.meta.url is not a file URL: fall through to the cwd search.
  }
  // Compiled JS may live elsewhere (e.g. dist/): look for tests/lab from cwd up.
  let dir = process.cwd();
  for (let i = 0; i < 8; i++) {
    candidates.push(join(dir, "tests", "lab", name));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`lab: cannot find ${name} (set EYB_LAB_DIR)`);
  return resolve(found);
}

let unavailableCache: string | null | undefined;
let pythonCache: string | undefined;

/**
 * The real python3 interpreter. `python3` on PATH may be a slow wrapper
 * (pyenv's shim costs ~300 ms a start), so resolve it once.
 */
export function python(): string {
  if (pythonCache === undefined) {
    const r = spawnSync(
      "python3",
      ["-c", "import sys; print(sys.executable)"],
      { encoding: "utf8" },
    );
    pythonCache = r.status === 0 && r.stdout.trim() ? r.stdout.trim() : "python3";
  }
  return pythonCache;
}

/**
 * Why this machine cannot run the lab, as one line for a skip message
 * (e.g. "lab: skipped: not root"), or null if it can. Cached.
 */
export function labUnavailable(): string | null {
  if (unavailableCache !== undefined) return unavailableCache;
  const ok = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
  // First failing check wins; each is cheap (a few ms).
  const checks: [string, () => boolean][] = [
    ["not Linux", () => platform() === "linux"],
    ["not root", () => process.getuid?.() === 0],
    ["no /dev/net/tun", () => existsSync("/dev/net/tun")],
    ["no iproute2 (ip netns)", () => ok("ip", "netns", "list")],
    ["no netns (cannot create one)", () => ok("unshare", "--net", "true")],
    // A TUN device in a throwaway namespace proves TUNSETIFF is allowed.
    [
      "no /dev/net/tun (cannot create a TUN device)",
      () => ok("unshare", "--net", "ip", "tuntap", "add", "eyb0", "mode", "tun"),
    ],
    ["no python3", () => ok(python(), "--version")],
  ];
  const failed = checks.find(([, check]) => !check());
  unavailableCache = failed ? `lab: skipped: ${failed[0]}` : null;
  return unavailableCache;
}

/** A running lab. Create with {@link Lab.start}; always {@link Lab.stop} it. */
export class Lab {
  /** Facts reported by the daemon when it became ready. */
  readonly info: LabInfo;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #dead: Error | null = null;
  #stopping = false;

  private constructor(
    child: ChildProcess,
    info: LabInfo,
    exited: Promise<void>,
  ) {
    this.#child = child;
    this.info = info;
    this.#exited = exited;
  }

  /** Build a lab (namespaces, link, DNS, listeners) and wait until it is ready. */
  static async start(options: LabOptions = {}): Promise<Lab> {
    const skip = labUnavailable();
    if (skip) throw new Error(skip);
    const args = [
      "-B",
      labFile("lab.py"),
      "serve",
      "--delay-ms",
      String(options.delayMs ?? 0),
      "--count",
      String(options.count ?? 8),
      "--ports",
      (options.ports ?? [80, 443]).join(","),
    ];
    const child = spawn(python(), args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8192);
    });
    const exited = new Promise<void>((res) => child.once("close", () => res()));
    let lab: Lab | null = null;
    let buffered = "";
    const timeoutMs = options.startTimeoutMs ?? 20000;
    const ready = new Promise<LabInfo>((res, rej) => {
      const timer = setTimeout(() => {
        child.kill("SIGTERM"); // the daemon tears down what it built
        rej(new Error(`lab: not ready after ${timeoutMs} ms\n${stderr}`));
      }, timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        rej(err);
      });
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.trim()) continue;
          let msg;
          try {
            msg = JSON.parse(line);
          } catch {
            continue; // not protocol output (the daemon prints only JSON)
          }
          if (lab) lab.#onResponse(msg);
          else if (msg.ready) {
            clearTimeout(timer);
            res(msg.ready as LabInfo);
          } else {
            clearTimeout(timer);
            rej(new Error(msg.error ?? `lab: unexpected ${line}`));
          }
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        rej(
          new Error(
            `lab: daemon exited before ready (code ${child.exitCode})\n${stderr}`,
          ),
        );
      });
    });
    const info = await ready;
    lab = new Lab(child, info, exited);
    const self = lab;
    void exited.then(() => self.#onExit(stderr));
    self.#setRef(false);
    return lab;
  }

  /** The client namespace, where {@link Lab.exec} runs commands. */
  get clientNs(): string {
    return this.info.clientNs;
  }

  /** The server namespace (DNS, listeners; faults apply on its side of the link). */
  get serverNs(): string {
    return this.info.serverNs;
  }

  /** Server addresses per family (each has a listener on every port). */
  get servers(): { v4: string[]; v6: string[] } {
    return this.info.servers;
  }

  /** Change the one-way delay for packets sent from now on. */
  async setDelay(ms: number): Promise<void> {
    await this.#request({ cmd: "setDelay", ms });
  }

  /**
   * Set how the DNS server answers `name` (replaces its previous rules).
   * Predefined at start: dual.lab.test (all v4 + all v6), v4.lab.test, v6.lab.test.
   */
  async setDns(name: string, rules: DnsRules): Promise<void> {
    await this.#request({ cmd: "setDns", name, rules });
  }

  /** Forget a name: it becomes NXDOMAIN. */
  async removeDns(name: string): Promise<void> {
    await this.#request({ cmd: "removeDns", name });
  }

  /** Back to the predefined names only. */
  async resetDns(): Promise<void> {
    await this.#request({ cmd: "resetDns" });
  }

  /** The queries received so far as [name, type] pairs, oldest first. */
  async dnsQueries(
    options: { reset?: boolean } = {},
  ): Promise<[string, string][]> {
    return (await this.#request({
      cmd: "dnsQueries",
      reset: !!options.reset,
    })) as [string, string][];
  }

  /** Make a server address misbehave ("none" restores it). */
  async setFault(
    addr: string,
    kind: FaultKind,
    options: FaultOptions = {},
  ): Promise<void> {
    await this.#request({
      cmd: "setFault",
      addr,
      kind,
      ms: options.ms ?? 0,
      code: options.code ?? "host",
    });
  }

  /** Restore every address. */
  async clearFaults(): Promise<void> {
    await this.#request({ cmd: "clearFaults" });
  }

  /**
   * SYNs (TCP connection requests, retransmissions included) the client sent,
   * per destination address (addresses never targeted are absent).
   */
  async synCounts(
    options: { reset?: boolean } = {},
  ): Promise<Record<string, number>> {
    return (await this.#request({
      cmd: "synCounts",
      reset: !!options.reset,
    })) as Record<string, number>;
  }

  /** Zero the SYN counters. */
  async resetSynCounts(): Promise<void> {
    await this.#request({ cmd: "synCounts", reset: true });
  }

  /** Packet counters and the number of connections the listeners accepted. */
  async stats(): Promise<LabStats> {
    return (await this.#request({ cmd: "stats" })) as LabStats;
  }

  /** Undo every scenario setting: faults, DNS, SYN counts, query log. */
  async reset(): Promise<void> {
    await this.clearFaults();
    await this.resetDns();
    await this.synCounts({ reset: true });
    await this.dnsQueries({ reset: true });
  }

  /** Run a command in the client namespace and collect its output. */
  exec(
    cmd: string,
    args: string[] = [],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const started = performance.now();
    const child = spawn("ip", [
      "netns",
      "exec",
      this.info.clientNs,
      cmd,
      ...args,
    ], {
      stdio: ["pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
      cwd: options.cwd,
      // Own process group, so a timeout kills the command and its children
      // (a shell's children would otherwise hold the pipes open).
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (c: string) => (stdout += c));
    child.stderr!.on("data", (c: string) => (stderr += c));
    child.stdin!.on("error", () => {}); // the command may exit without reading
    child.stdin!.end(options.input ?? "");
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, options.timeoutMs ?? 60000);
    return new Promise((res, rej) => {
      child.once("error", (err) => {
        clearTimeout(timer);
        rej(err);
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        res({
          code,
          signal,
          stdout,
          stderr,
          ms: performance.now() - started,
          timedOut,
        });
      });
    });
  }

  /**
   * Run tests/lab/probe.py in the client namespace and parse its JSON, e.g.
   * `probe("connect", "192.0.2.10", "80")` or `probe("resolve", "dual.lab.test")`.
   */
  async probe(...args: string[]): Promise<Record<string, unknown>> {
    const r = await this.exec(python(), ["-B", labFile("probe.py"), ...args]);
    if (r.code !== 0) {
      throw new Error(`probe ${args.join(" ")} failed: ${r.stderr}`);
    }
    return JSON.parse(r.stdout);
  }

  /** Tear the lab down and wait until nothing of it is left. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true; // hold the event loop until the daemon has exited
    this.#setRef(true);
    if (!this.#dead) {
      try {
        await this.#request({ cmd: "stop" });
      } catch {
        this.#child.kill("SIGTERM"); // unresponsive: the signal also tears down
      }
      this.#child.stdin!.end();
    }
    await this.#exited;
  }

  #request(req: Record<string, unknown>): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    this.#setRef(true);
    return new Promise((res, rej) => {
      this.#pending.set(id, { resolve: res, reject: rej });
      this.#child.stdin!.write(JSON.stringify({ id, ...req }) + "\n");
    });
  }

  #onResponse(
    msg: { id: number; ok: boolean; result?: unknown; error?: string },
  ): void {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0) this.#setRef(false);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`lab: ${msg.error}`));
  }

  #onExit(stderr: string): void {
    this.#dead = new Error(
      `lab: daemon exited (code ${this.#child.exitCode})${stderr ? `\n${stderr}` : ""}`,
    );
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
  }

  // An idle lab must not keep the test process alive: if a test forgets
  // stop(), the process still exits, which closes the pipe and the daemon
  // then tears the lab down. While a request is in flight we do hold it.
  #setRef(on: boolean): void {
    if (this.#stopping) on = true;
    const handles = [
      this.#child,
      this.#child.stdout,
      this.#child.stderr,
      this.#child.stdin,
    ] as unknown as Array<
      { ref?: () => void; unref?: () => void } | null
    >;
    for (const h of handles) {
      try {
        if (on) h?.ref?.();
        else h?.unref?.();
      } catch {
        // Some runtimes lack ref/unref on pipes; then the lab just keeps the loop alive.
      }
    }
  }
}

/** Our namespaces (of any lab owned by `pid`) in `ip netns list`. */
export function namespacesOf(pid: number): string[] {
  const out = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ??
    "";
  return out.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.endsWith(`-${pid}`) && n.startsWith("eyb-"));
}

/** What a lab owned by `pid` left behind: namespaces, /etc/netns folders, its daemon. */
export function leftovers(pid: number): string[] {
  const found = namespacesOf(pid);
  for (const side of ["c", "s"]) {
    if (existsSync(`/etc/netns/eyb-${side}-${pid}`)) {
      found.push(`/etc/netns/eyb-${side}-${pid}`);
    }
  }
  if (existsSync(`/proc/${pid}`)) found.push(`process ${pid}`);
  return found;
}

/** Waits up to `ms` for a stopped lab to be gone; returns what is still left (empty when clean). */
export async function waitGone(pid: number, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  while (leftovers(pid).length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return leftovers(pid);
}
