/**
 * The system resolver: `getaddrinfo` through `node:dns`'s `lookup`, asked
 * once per family. It honours /etc/hosts, nsswitch and gai.conf, as the
 * runtimes' own connects do. Works under Node, Deno and Bun.
 *
 * @module
 */

import type { Family, Resolver } from "../base/types.ts";
import { nodeDns } from "../runtime/lazy_modules.ts";
import type { HostsTable } from "./hosts_file.ts";
import { configStamp, readConfigText } from "./config_files.ts";

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
  resolve(hostname: string, family: Family, signal: AbortSignal): Promise<string[]> {
    if (isLocalhost(hostname)) return Promise.resolve([family === 6 ? "::1" : "127.0.0.1"]);
    return Promise.all([nodeDns(), pinnedToOtherFamily(hostname, family)]).then(([dns, pinned]) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        if (pinned) return resolve([]);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        // verbatim: the system's order (gai.conf, RFC 6724). Without it Deno's lookup reverses IPv4 answers.
        dns.lookup(hostname, { family, all: true, verbatim: true }, (error, addresses) => {
          signal.removeEventListener("abort", onAbort);
          if (error) reject(error);
          else resolve(addresses.filter((a) => a.family === family).map((a) => a.address));
        });
      })
    );
  },
};

interface HostsView {
  readonly table: HostsTable;
  readonly filesFirst: boolean;
  readonly stamp: string;
}
let hostsView: HostsView | undefined;
let hostsCheckedAt = -Infinity;
let hostsLoading: Promise<HostsView> | undefined;

/** /etc/hosts and whether nsswitch.conf asks it first, re-read when either changes (looked at every 2 s at most). */
async function loadHosts(): Promise<HostsView> {
  hostsCheckedAt = performance.now();
  const stamp = `${await configStamp("/etc/hosts")} ${await configStamp("/etc/nsswitch.conf")}`;
  if (hostsView?.stamp !== stamp) {
    // Loaded at the first lookup, not at import: the Deno entry imports this module and keeps its start light.
    const [hosts, nsswitch, { parseHosts }, { hostsSources }] = await Promise.all([
      readConfigText("/etc/hosts"),
      readConfigText("/etc/nsswitch.conf"),
      import("./hosts_file.ts"),
      import("./nsswitch.ts"),
    ]);
    // No hosts line: glibc's default is "dns [!UNAVAIL=return] files", DNS first.
    hostsView = { table: parseHosts(hosts), filesFirst: hostsSources(nsswitch)?.[0] === "files", stamp };
  }
  return hostsView;
}

/** True when /etc/hosts, asked first, lists `name` for the other family only. Unreadable files: false. */
async function pinnedToOtherFamily(name: string, family: Family): Promise<boolean> {
  try {
    const view = hostsView && performance.now() - hostsCheckedAt < 2000
      ? hostsView
      : await (hostsLoading ??= loadHosts().finally(() => hostsLoading = undefined));
    return view.filesFirst && view.table.get(name.toLowerCase())?.[family].length === 0;
  } catch {
    return false; // no permission to read them (Deno without --allow-read): getaddrinfo decides
  }
}

/**
 * `localhost`, `LOCALHOST.`, `app.localhost`: the names RFC 6761 reserves for loopback.
 */
export function isLocalhost(hostname: string): boolean {
  return /(^|\.)localhost\.?$/i.test(hostname);
}
