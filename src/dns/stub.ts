/**
 * A stub DNS resolver that needs no thread pool: /etc/hosts first, then the
 * nameservers of /etc/resolv.conf over UDP (TCP when truncated), with its
 * search list, `timeout`, `attempts`, `ndots` and `rotate`. Each answer
 * carries its TTL, so a cache can honour it. Works under Deno, Bun and Node.
 *
 * Why: `getaddrinfo` (the system resolver) runs on libuv's 4-thread pool
 * under Node and Bun; a few lookups that hang (an AAAA never answered) hold
 * every thread, and every other lookup in the process waits behind them.
 *
 * @module
 */

import { type DnsAnswer, type DnsServiceAnswer, HTTPS_TYPE, RCODE, SVCB_TYPE } from "./message.ts";
import { hostsLookup, type HostsTable, parseHosts } from "./hosts_file.ts";
import { parseResolvConf, type ResolvConf, searchNames } from "./resolv_conf.ts";
import type { Family, ResolvedAddresses, Resolver, ServiceAnswer } from "../base/types.ts";
import { requireObject } from "../base/checks.ts";
import { exchange, exchangeService } from "./exchange.ts";
import { readConfigText, watchConfig } from "./config_files.ts";
import { isLocalhost } from "./system.ts";

/** Where {@linkcode createStubResolver} reads its configuration. */
export interface StubResolverOptions {
  /** Path of the resolv.conf to read. Default `/etc/resolv.conf`. */
  readonly resolvConf?: string;
  /** Path of the hosts file to read first. Default `/etc/hosts`. */
  readonly hostsFile?: string;
}

/** A resolver whose answers carry their TTL. */
export interface StubResolver extends Resolver {
  /** The addresses and their TTL in seconds (0 for /etc/hosts and `localhost`). */
  resolveWithTtl(hostname: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses>;
  /** The HTTPS or SVCB records (RFC 9460) for `hostname` on `port`: see {@linkcode serviceQuestion}, {@linkcode followAliases}. */
  resolveServices(
    hostname: string,
    port: number,
    signal: AbortSignal,
    scheme?: string,
  ): Promise<ServiceAnswer | undefined>;
}

interface Config {
  conf: ResolvConf;
  hosts: HostsTable;
}

/**
 * Makes a stub resolver reading `resolvConf` and `hostsFile`. Both are read
 * at the first lookup and again whenever their modification time changes
 * (checked at most every 2 s). A missing resolv.conf means a local server
 * (127.0.0.1, ::1), a missing hosts file an empty one, as in glibc.
 *
 * Errors carry getaddrinfo's codes: `ENOTFOUND` (NXDOMAIN for every search
 * name), or `EAI_AGAIN` (SERVFAIL, REFUSED or no answer from every server;
 * its `cause` is the last one). As in glibc, SERVFAIL for one search name
 * moves on to the next (`EAI_AGAIN` if none has the name); no answer or
 * REFUSED ends the search. A name with no address in the family
 * (NODATA) resolves to an empty list.
 *
 * @example
 * ```ts
 * import { createStubResolver } from "@eyeballs/connect/node";
 * const resolver = createStubResolver({ resolvConf: "/etc/resolv.conf" });
 * const { addresses, ttl } = await resolver.resolveWithTtl("example.com", 6, new AbortController().signal);
 * ```
 */
export function createStubResolver(options: StubResolverOptions = {}): StubResolver {
  return createStubResolverWith(options, exchange);
}

/** One question to one server, as {@linkcode exchange} asks it (tests pass a fake). */
export type DnsTransport = (
  server: string,
  name: string,
  family: Family,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<DnsAnswer>;

/** The texts of the stub's two files, read together. */
export interface StubFiles {
  readonly resolvConf: string;
  readonly hosts: string;
}

/** Reads resolv.conf and the hosts file, each once, together (a missing file reads as ""). */
export async function readStubFiles(resolvPath: string, hostsPath: string): Promise<StubFiles> {
  const [resolvConf, hosts] = await Promise.all([readConfigText(resolvPath), readConfigText(hostsPath)]);
  return { resolvConf, hosts };
}

function configOf(files: StubFiles): Config {
  return { conf: parseResolvConf(files.resolvConf), hosts: parseHosts(files.hosts) };
}

/**
 * {@linkcode createStubResolver} over a given transport instead of the
 * network: for tests, which script the servers' answers. `files`: the
 * texts of its two files, already read by whoever chose the stub. Not
 * exported by the package.
 */
export function createStubResolverWith(
  options: StubResolverOptions,
  transport: DnsTransport,
  files?: StubFiles,
): StubResolver {
  requireObject(options as unknown, "options");
  const resolvPath = options.resolvConf ?? "/etc/resolv.conf";
  const hostsPath = options.hostsFile ?? "/etc/hosts";
  // One reading shared by concurrent lookups (A and AAAA), and again when a file changes.
  const load = watchConfig(
    [resolvPath, hostsPath],
    async () => configOf(await readStubFiles(resolvPath, hostsPath)),
    { first: files && configOf(files) },
  );
  let next = 0; // the server to ask first, under `options rotate`

  const ask = async (conf: ResolvConf, name: string, family: Family, signal: AbortSignal) => {
    const servers = conf.nameservers;
    const first = conf.rotate ? next++ % servers.length : 0;
    let failure: unknown;
    let lastServfail = false;
    for (let round = 0; round < conf.attempts; round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(first + i) % servers.length];
        try {
          const answer = await transport(server, name, family, conf.timeout * 1000, signal);
          if (answer.rcode === RCODE.noError || answer.rcode === RCODE.nxDomain) return answer;
          failure = new Error(`${answer.rcode === RCODE.refused ? "REFUSED" : "SERVFAIL"} from ${server}`);
          lastServfail = answer.rcode === RCODE.servFail;
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          failure = error;
          lastServfail = false;
        }
      }
    }
    // getaddrinfo's code for "no usable answer": errors then read the same with either resolver.
    // `servfail`: the last server said SERVFAIL (not silence, not REFUSED): the search goes on.
    throw Object.assign(dnsError("EAI_AGAIN", name, failure), { cause: failure, servfail: lastServfail });
  };

  const resolveWithTtl = async (hostname: string, family: Family, signal: AbortSignal) => {
    if (signal.aborted) throw signal.reason;
    if (isLocalhost(hostname)) return { addresses: [family === 6 ? "::1" : "127.0.0.1"], ttl: 0 };
    const { hosts, conf } = await load();
    // Listed in the file for either family: the file alone answers (a pin for one family must not be bypassed).
    const fromHosts = hostsLookup(hosts, hostname, family);
    if (fromHosts) return { addresses: [...fromHosts], ttl: 0 };
    let nodata: ResolvedAddresses | undefined;
    let servfail: unknown;
    for (const name of searchNames(hostname, conf)) {
      let answer;
      try {
        answer = await ask(conf, name, family, signal);
      } catch (error) {
        // glibc's res_search: SERVFAIL for one candidate moves on to the next; silence ends the search.
        if (!(error as { servfail?: boolean }).servfail) throw error;
        servfail ??= error;
        continue;
      }
      if (answer.addresses.length > 0) return { addresses: answer.addresses, ttl: answer.ttl };
      if (answer.rcode === RCODE.noError) nodata ??= { addresses: [], ttl: answer.ttl };
    }
    if (nodata) return nodata;
    if (servfail) throw servfail;
    throw dnsError("ENOTFOUND", hostname);
  };

  const askService = async (conf: ResolvConf, name: string, type: number, signal: AbortSignal) => {
    const servers = conf.nameservers;
    const first = conf.rotate ? next++ % servers.length : 0;
    let failure: unknown;
    for (let round = 0; round < conf.attempts; round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(first + i) % servers.length];
        try {
          const answer = await exchangeService(server, name, type, conf.timeout * 1000, signal);
          if (answer.rcode === RCODE.noError || answer.rcode === RCODE.nxDomain) return answer;
          failure = new Error(`${answer.rcode === RCODE.refused ? "REFUSED" : "SERVFAIL"} from ${server}`);
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          failure = error;
        }
      }
    }
    throw dnsError("EAI_AGAIN", name, failure);
  };

  const resolveServices = async (hostname: string, port: number, signal: AbortSignal, scheme?: string) => {
    if (signal.aborted) throw signal.reason;
    const question = serviceQuestion(hostname, port, scheme);
    if (question === undefined || isLocalhost(hostname)) return undefined;
    const { hosts, conf } = await load();
    // A name the hosts file pins is not asked of DNS for addresses: nor for services.
    if (hostsLookup(hosts, hostname, 6) !== undefined || hostsLookup(hosts, hostname, 4) !== undefined) {
      return undefined;
    }
    return followAliases(question, (name, type) => askService(conf, name, type, signal), (name) => {
      return searchNames(name, conf);
    });
  };

  return {
    resolveWithTtl,
    resolve: async (hostname, family, signal) => (await resolveWithTtl(hostname, family, signal)).addresses,
    resolveServices,
  };
}

/** How many AliasMode records are followed before the chain counts as a loop (RFC 9460 §2.4.2 asks for a bound). */
export const MAX_ALIAS_CHAIN = 8;

/**
 * What to ask for the services of `hostname` on `port` (RFC 9460 §9.1, §2.3):
 * HTTPS for the name itself on port 443 (scheme `https` or none); HTTPS at
 * `_port._https.name` for https on another port; SVCB at `_port._scheme.name`
 * for another scheme. Undefined (nothing to ask) for no scheme on a port
 * other than 443, or a scheme that is not a DNS label.
 */
export function serviceQuestion(
  hostname: string,
  port: number,
  scheme?: string,
): { name: string; type: number } | undefined {
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (scheme === undefined || scheme === "https") {
    if (port === 443) return { name, type: HTTPS_TYPE };
    return scheme === "https" ? { name: `_${port}._https.${name}`, type: HTTPS_TYPE } : undefined;
  }
  if (!/^[a-z0-9][a-z0-9-]{0,61}$/i.test(scheme)) return undefined;
  return { name: `_${port}._${scheme.toLowerCase()}.${name}`, type: SVCB_TYPE };
}

/**
 * Asks for `question`, following AliasMode records (a new question for the
 * target, same type) at most {@linkcode MAX_ALIAS_CHAIN} times; a loop, a
 * chain too long, or an alias to "." (no service) ends with no records and a
 * reason. A failed query (SERVFAIL, no answer) is no records, with its reason:
 * the race then runs on A and AAAA. `names` expands the first name (the
 * search list); targets are absolute.
 */
export async function followAliases(
  question: { name: string; type: number },
  ask: (name: string, type: number) => Promise<DnsServiceAnswer>,
  names: (name: string) => readonly string[],
): Promise<ServiceAnswer> {
  const skipped: { reason: string }[] = [];
  const seen = new Set<string>();
  let ttl = Infinity;
  let candidates: readonly string[] = names(question.name);
  for (let hops = 0; hops <= MAX_ALIAS_CHAIN; hops++) {
    let answer: DnsServiceAnswer | undefined;
    let name = candidates[0] ?? question.name;
    try {
      for (name of candidates) {
        answer = await ask(name, question.type);
        if (answer.rcode === RCODE.noError) break;
      }
    } catch (error) {
      skipped.push({ reason: `${name}: ${error instanceof Error ? error.message : String(error)}` });
      return { name, records: [], skipped, ttl: 0 };
    }
    if (answer === undefined || answer.rcode !== RCODE.noError) return { name, records: [], skipped, ttl: 0 };
    seen.add(name.toLowerCase());
    skipped.push(...answer.skipped);
    ttl = Math.min(ttl, answer.ttl);
    const alias = answer.records.find((r) => r.priority === 0);
    if (alias === undefined) {
      const found = { name, records: answer.records, skipped, ttl: ttl === Infinity ? 0 : ttl };
      return hops > 0 ? { ...found, aliased: true } : found;
    }
    if (alias.target === ".") {
      skipped.push({ reason: `${name}: AliasMode to "." (no service)` });
      return { name, records: [], skipped, ttl };
    }
    if (seen.has(alias.target.toLowerCase())) {
      skipped.push({ reason: `${name}: alias loop back to ${alias.target}` });
      return { name, records: [], skipped, ttl: 0 };
    }
    candidates = [alias.target];
  }
  skipped.push({ reason: `${question.name}: alias chain longer than ${MAX_ALIAS_CHAIN}` });
  return { name: question.name, records: [], skipped, ttl: 0 };
}

/**
 * The stub resolver on the system's own files, /etc/resolv.conf and /etc/hosts.
 *
 * @example
 * ```ts
 * import { connect, stubResolver } from "@eyeballs/connect/node";
 * const socket = await connect({ host: "example.com", port: 443, resolver: stubResolver });
 * ```
 */
export const stubResolver: StubResolver = createStubResolver();

function dnsError(code: string, name: string, why?: unknown): Error {
  const detail = why instanceof Error ? ` (${why.message})` : "";
  return Object.assign(new Error(`${code}: ${name}${detail}`), { code, hostname: name });
}
