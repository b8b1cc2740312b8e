/**
 * The system resolver: `getaddrinfo` through `node:dns`'s `lookup`, asked
 * once per family. It honours /etc/hosts, nsswitch and gai.conf, as the
 * runtimes' own connects do. Works under Node, Deno and Bun; under Deno, a
 * name whose answer getaddrinfo would take from DNS as given is asked
 * through `Deno.resolveDns` first (./deno_dns.ts).
 *
 * @module
 */

import type { Family, Resolver } from "../base/types.ts";
import { nodeDns } from "../runtime/lazy_modules.ts";
import type { HostsTable } from "./hosts_file.ts";
import { readConfigText, watchConfig } from "./config_files.ts";
import { denoAddresses } from "./deno_dns.ts";

/**
 * Resolves one family with `dns.lookup(name, { family, all: true, verbatim: true })`,
 * keeping the system resolver's order.
 *
 * `localhost` and names under `.localhost` are answered here, with `::1` and
 * `127.0.0.1` (RFC 6761 §6.3): asked for one family, getaddrinfo would send
 * the name to the DNS server whenever /etc/hosts lists it only for the other.
 *
 * A name /etc/hosts lists for the other family only resolves to no address,
 * without a lookup (when nsswitch.conf puts `files` first): asked for that
 * family alone, getaddrinfo would ask DNS and bypass the pin, which a
 * connect (AF_UNSPEC) never does.
 *
 * Under Deno, a name getaddrinfo would first ask DNS for as given
 * (nsswitch.conf `files dns`, not in /etc/hosts, at least `ndots` dots) is
 * asked through `Deno.resolveDns`, which needs no `node:dns`; when that gives
 * no address, getaddrinfo is asked (docs/known-limits.md lists what differs).
 *
 * `getaddrinfo` cannot be cancelled: on abort the promise rejects at once,
 * and the lookup finishes in the background (it holds no socket of ours).
 *
 * @example
 * ```ts
 * import { systemResolver } from "@eyeballs/connect/node";
 * const v4 = await systemResolver.resolve("localhost", 4, new AbortController().signal);
 * // ["127.0.0.1"]
 * ```
 */
export const systemResolver: Resolver = {
  async resolve(hostname: string, family: Family, signal: AbortSignal): Promise<string[]> {
    if (isLocalhost(hostname)) return [family === 6 ? "::1" : "127.0.0.1"];
    const view = await systemView();
    if (signal.aborted) throw signal.reason;
    if (onDeno && view && dnsFirst(view, hostname)) {
      const found = await denoAddresses(hostname.endsWith(".") ? hostname : `${hostname}.`, family, signal);
      if (found) return found;
    }
    if (view?.filesFirst && view.hosts.get(hostname.toLowerCase())?.[family].length === 0) return [];
    const dns = await nodeDns();
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      // verbatim: the system's order (gai.conf, RFC 6724). Without it Deno's lookup reverses IPv4 answers.
      dns.lookup(hostname, { family, all: true, verbatim: true }, (error, addresses) => {
        signal.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(addresses.filter((a) => a.family === family).map((a) => a.address));
      });
    });
  },
};

const onDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

/** What glibc reads from /etc, as far as the system resolver needs it. */
interface SystemView {
  readonly hosts: HostsTable;
  /** nsswitch.conf asks /etc/hosts first. */
  readonly filesFirst: boolean;
  /** nsswitch.conf asks /etc/hosts, then DNS, and nothing else. */
  readonly filesThenDns: boolean;
  /** resolv.conf's `ndots`; undefined when it cannot be read. */
  readonly ndots: number | undefined;
}

/** The view, re-read when a file changes (looked at every 2 s at most). */
const watchedView = watchConfig(["/etc/hosts", "/etc/nsswitch.conf", "/etc/resolv.conf"], readView);

/** The view; undefined when the files cannot be read. */
async function systemView(): Promise<SystemView | undefined> {
  try {
    return await watchedView();
  } catch {
    return undefined; // no permission to read them (Deno without --allow-read): getaddrinfo decides
  }
}

async function readView(): Promise<SystemView> {
  // Loaded at the first lookup, not at import: the Deno entry imports this module and keeps its start light.
  const [hosts, nsswitch, resolvConf, { parseHosts }, { hostsSources, stubMatchesSystem }, { parseResolvConf }] =
    await Promise.all([
      readConfigText("/etc/hosts"),
      readConfigText("/etc/nsswitch.conf"),
      readConfigText("/etc/resolv.conf").catch(() => undefined),
      import("./hosts_file.ts"),
      import("./nsswitch.ts"),
      import("./resolv_conf.ts"),
    ]);
  // No hosts line: glibc's default is "dns [!UNAVAIL=return] files", DNS first.
  return {
    hosts: parseHosts(hosts),
    filesFirst: hostsSources(nsswitch)?.[0] === "files",
    filesThenDns: stubMatchesSystem(nsswitch),
    ndots: resolvConf === undefined ? undefined : parseResolvConf(resolvConf).ndots,
  };
}

/** A label glibc's `res_hnok` accepts and every DNS client reads alike: letters, digits, inner hyphens. */
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i;
/** A label inet_aton reads as a number: a dotted name of such labels is an address to getaddrinfo. */
const NUMBER = /^(0x[0-9a-f]*|[0-9]+)$/i;

/**
 * True when getaddrinfo's first step for `name` is to ask DNS for the name as given: nsswitch.conf says
 * `files dns`, /etc/hosts does not list it, and it has a dot and is absolute or has at least `ndots` dots (otherwise
 * the search list comes first). DNS's addresses for that question are then getaddrinfo's answer.
 */
function dnsFirst(view: SystemView, name: string): boolean {
  if (!view.filesThenDns || view.ndots === undefined) return false;
  const bare = name.replace(/\.$/, "").toLowerCase();
  const labels = bare.split(".");
  if (!name.includes(".") || !labels.every((l) => LABEL.test(l)) || labels.every((l) => NUMBER.test(l))) return false;
  if (view.hosts.has(bare) || view.hosts.has(`${bare}.`)) return false;
  return name.endsWith(".") || labels.length - 1 >= view.ndots;
}

/**
 * `localhost`, `LOCALHOST.`, `app.localhost`: the names RFC 6761 reserves for loopback.
 */
export function isLocalhost(hostname: string): boolean {
  return /(^|\.)localhost\.?$/i.test(hostname);
}
