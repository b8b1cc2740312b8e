/**
 * A history kept in a JSON file, so that short-lived processes (the CLI, a
 * cron job, a serverless function) learn from the ones before them.
 * `node:fs` works under Deno, Bun and Node; it is loaded at the first read,
 * not at import, so processes that never use a file store do not pay for it.
 *
 * @module
 */

import { builtinModule } from "../../runtime/lazy_modules.ts";
import {
  type AddressOutcome,
  checkHistoryOptions,
  type History,
  historyKey,
  type HostHistory,
  isExpired,
  type NetworkRtt,
  networkRttOf,
  type StoredAddress,
  type StoredHost,
  updateStoredHost,
  viewOfStoredHost,
} from "../../history/history.ts";
import { describe } from "../../base/checks.ts";

/** Options of {@linkcode FileHistory}. */
export interface FileHistoryOptions {
  /** How long an entry lives, in ms, from its first outcome. Default 10 minutes. */
  readonly ttl?: number;
  /** How many host and port pairs the file keeps per network; the least recently recorded go first. Default 1000. */
  readonly maxHosts?: number;
  /** How many networks the file keeps history for; the least recently recorded go first. Default 4. */
  readonly maxNetworks?: number;
  /** Wall-clock time in ms (entries are shared between processes). Default `Date.now`. */
  readonly now?: () => number;
}

/** A file larger than this is not read (it cannot be ours: 4 networks of 1000 hosts of 32 addresses stay under 16 MB). */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
/** 2: partitions per network. A format-1 file (hosts only) is read as the unknown network's partition. */
const FORMAT = 2;
const STATES = new Set(["connected", "lost", "failed"]);

/**
 * A {@linkcode History} in a JSON file. Every lookup reads the file and
 * every record rewrites it atomically (a temporary file renamed over it),
 * so a reader never sees half a file. A missing, unreadable or corrupt file
 * is an empty history (and the next record replaces it); invalid entries are
 * dropped one by one. What was learned on one network (the `network` the
 * adapters pass) is kept apart from the others. When two processes record at the same moment, one of
 * the two updates may be lost, never the file. The file is created with
 * mode 0600: it lists the hosts this user connects to.
 *
 * Reads and writes are synchronous: the file is small, and a record is on
 * disk when `connect` returns, so a process may exit right after.
 *
 * @example
 * ```ts
 * import { connect, FileHistory } from "@eyeballs/connect/node";
 * const history = new FileHistory("/tmp/eyeballs-history.json");
 * const socket = await connect({ host: "example.com", port: 443, history });
 * ```
 */
export class FileHistory implements History {
  /** The file's path. */
  readonly path: string;
  readonly #ttl: number;
  readonly #maxHosts: number;
  readonly #maxNetworks: number;
  readonly #now: () => number;

  /** A history in `path`; throws a TypeError or RangeError naming a bad argument. Nothing is read yet. */
  constructor(path: string, options: FileHistoryOptions = {}) {
    if (typeof path !== "string") throw new TypeError(`FileHistory: path must be a string, got ${describe(path)}`);
    if (path === "" || path.includes("\0")) {
      throw new RangeError(`FileHistory: path must be a file name, got ${describe(path)}`);
    }
    ({ ttl: this.#ttl, maxHosts: this.#maxHosts, maxNetworks: this.#maxNetworks } = checkHistoryOptions(
      options,
      "FileHistory",
    ));
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new TypeError(`FileHistory: now must be a function, got ${describe(options.now)}`);
    }
    this.path = path;
    this.#now = options.now ?? Date.now;
  }

  /** What the file knows of `host` on `port` on `network`, or undefined. */
  lookup(host: string, port: number, network?: string): HostHistory | undefined {
    const stored = this.#read().get(network ?? "")?.hosts.get(historyKey(host, port));
    const now = this.#now();
    return stored === undefined || isExpired(stored, now, this.#ttl) ? undefined : viewOfStoredHost(stored, now);
  }

  /** What the file knows of `network`'s RTTs (`networkRttOf` over its live hosts), or undefined with too few hosts. */
  networkRtt(network?: string): NetworkRtt | undefined {
    const hosts = this.#read().get(network ?? "")?.hosts;
    return hosts === undefined ? undefined : networkRttOf(hosts.values(), this.#now(), this.#ttl);
  }

  /** Learns from one race on `network` and rewrites the file. Throws when the file cannot be written. */
  record(host: string, port: number, outcomes: readonly AddressOutcome[], network?: string): void {
    if (outcomes.length === 0) return;
    const now = this.#now();
    const networks = this.#read();
    const id = network ?? "";
    const hosts = networks.get(id)?.hosts ?? new Map<string, StoredHost>();
    const key = historyKey(host, port);
    hosts.set(key, updateStoredHost(hosts.get(key), outcomes, now, this.#ttl));
    networks.set(id, { usedAt: now, hosts });
    const kept = [...networks].sort(([, a], [, b]) => b.usedAt - a.usedAt).slice(0, this.#maxNetworks)
      .map(([name, partition]) => {
        const live = [...partition.hosts].filter(([, h]) => !isExpired(h, now, this.#ttl))
          .sort(([, a], [, b]) => b.usedAt - a.usedAt)
          .slice(0, this.#maxHosts);
        return [name, { usedAt: partition.usedAt, hosts: Object.fromEntries(live) }] as const;
      })
      .filter(([, partition]) => Object.keys(partition.hosts).length > 0);
    this.#write({ eyeballsHistory: FORMAT, networks: Object.fromEntries(kept) });
  }

  /** The file's partitions; an empty map when it is missing, too big or not ours. */
  #read(): Map<string, Partition> {
    const networks = new Map<string, Partition>();
    let text: string;
    try {
      const { readFileSync, statSync } = nodeFs();
      if (statSync(this.path).size > MAX_FILE_BYTES) return networks;
      text = readFileSync(this.path, "utf8");
    } catch {
      return networks; // missing or unreadable: nothing known yet
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return networks; // corrupt: start afresh
    }
    const file = data as { eyeballsHistory?: unknown; hosts?: unknown; networks?: unknown };
    if (typeof file !== "object" || file === null) return networks;
    if (file.eyeballsHistory === 1) { // before partitions: what it knows was learned on some network, call it unknown
      const hosts = storedHosts(file.hosts);
      if (hosts.size) networks.set("", { usedAt: Math.max(...[...hosts.values()].map((h) => h.usedAt)), hosts });
      return networks;
    }
    if (file.eyeballsHistory !== FORMAT || typeof file.networks !== "object" || file.networks === null) {
      return networks;
    }
    for (const [name, value] of Object.entries(file.networks)) {
      const partition = value as { usedAt?: unknown; hosts?: unknown } | null;
      if (typeof partition !== "object" || partition === null || !isTime(partition.usedAt)) continue;
      networks.set(name, { usedAt: partition.usedAt, hosts: storedHosts(partition.hosts) });
    }
    return networks;
  }

  #write(data: unknown): void {
    const temp = `${this.path}.${crypto.randomUUID()}.tmp`; // same directory: rename stays atomic
    const { renameSync, unlinkSync, writeFileSync } = nodeFs();
    try {
      writeFileSync(temp, JSON.stringify(data), { mode: 0o600 });
      renameSync(temp, this.path);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      const { dirname } = builtinModule<typeof import("node:path")>("node:path");
      throw new Error(`FileHistory: cannot write ${this.path} (in ${dirname(this.path)})`, { cause: error });
    }
  }
}

type Fs = typeof import("node:fs");
let fs: Fs | undefined;
const nodeFs = (): Fs => (fs ??= builtinModule<Fs>("node:fs"));

const isTime = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
const isMs = (value: unknown): value is number => isTime(value) && value >= 0;

/** One network's part of the file. */
interface Partition {
  /** When it was last recorded: the networks' LRU order. */
  readonly usedAt: number;
  /** Host and port to entry. */
  readonly hosts: Map<string, StoredHost>;
}

/** The valid entries of a file's `hosts` object; invalid ones are dropped one by one. */
function storedHosts(value: unknown): Map<string, StoredHost> {
  const hosts = new Map<string, StoredHost>();
  if (typeof value !== "object" || value === null) return hosts;
  for (const [key, entry] of Object.entries(value)) {
    const stored = storedHost(entry);
    if (stored) hosts.set(key, stored);
  }
  return hosts;
}

/** A stored host read from the file, or undefined when any part of it is not what a store writes. */
function storedHost(value: unknown): StoredHost | undefined {
  const host = value as Partial<StoredHost> | null;
  if (typeof host !== "object" || host === null || !isTime(host.createdAt) || !isTime(host.usedAt)) return undefined;
  if (!Array.isArray(host.addresses)) return undefined;
  const addresses: StoredAddress[] = [];
  for (const a of host.addresses as Partial<StoredAddress>[]) {
    if (typeof a !== "object" || a === null || typeof a.address !== "string" || !STATES.has(a.state!)) return undefined;
    if (!isTime(a.at)) return undefined;
    const rtt = isMs(a.srttMs) && isMs(a.rttvarMs) ? { srttMs: a.srttMs, rttvarMs: a.rttvarMs } : {};
    addresses.push({ address: a.address, state: a.state!, at: a.at, ...rtt });
  }
  return { createdAt: host.createdAt, usedAt: host.usedAt, addresses };
}
