/**
 * The system resolver: `getaddrinfo` through `node:dns`'s `lookup`, asked
 * once per family. It honours /etc/hosts, nsswitch and gai.conf, as the
 * runtimes' own connects do. Works under Node, Deno and Bun.
 *
 * @module
 */

import type { Family, Resolver } from "../base/types.ts";
import { nodeDns } from "../runtime/lazy_modules.ts";

/**
 * Resolves one family with `dns.lookup(name, { family, all: true, verbatim: true })`,
 * keeping the system resolver's order.
 *
 * `localhost` and names under `.localhost` are answered here, with `::1` and
 * `127.0.0.1` (RFC 6761 §6.3): asked for one family, getaddrinfo would send
 * the name to the DNS server whenever /etc/hosts lists it only for the other.
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
    return nodeDns().then((dns) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
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

/**
 * `localhost`, `LOCALHOST.`, `app.localhost`: the names RFC 6761 reserves for loopback.
 */
export function isLocalhost(hostname: string): boolean {
  return /(^|\.)localhost\.?$/i.test(hostname);
}
