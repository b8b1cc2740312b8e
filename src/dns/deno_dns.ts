/**
 * Deno's own DNS client (`Deno.resolveDns`) for the system resolver, where
 * its answer is getaddrinfo's: it needs no `node:dns`, whose import and the
 * `process` set-up of its first lookup cost a fresh Deno process far more
 * than the query (docs/performance.md).
 *
 * @module
 */

import { parseIp } from "../addresses/ip.ts";
import type { Family } from "../base/types.ts";

/** The part of the `Deno` namespace used here. */
interface DenoDns {
  resolveDns(query: string, type: "A" | "AAAA", options: { signal: AbortSignal }): Promise<string[]>;
  permissions: {
    querySync(descriptor: { name: "net" } | { name: "read"; path: string } | { name: "env"; variable: string }): {
      state: string;
    };
  };
  env: { get(name: string): string | undefined };
}

const deno = (globalThis as { Deno?: Partial<DenoDns> }).Deno;

/**
 * The `family` addresses DNS gives the absolute `name` through
 * `Deno.resolveDns`, or undefined where that cannot stand for getaddrinfo:
 * not Deno; a permission not granted (asking would prompt); glibc's
 * `RES_OPTIONS` or `LOCALDOMAIN` set (Deno's client does not read them); no
 * address (NXDOMAIN, NODATA and SERVFAIL are one error here, and getaddrinfo
 * goes on through the search list); any error, a timeout included (Deno's
 * client also times out on an answer it cannot read, where glibc reads it).
 * Rejects with the signal's reason on abort.
 */
export async function denoAddresses(name: string, family: Family, signal: AbortSignal): Promise<string[] | undefined> {
  if (!deno?.resolveDns || !granted(deno as DenoDns)) return undefined;
  let found: string[];
  try {
    found = await deno.resolveDns(name, family === 6 ? "AAAA" : "A", { signal });
  } catch {
    if (signal.aborted) throw signal.reason;
    return undefined;
  }
  const addresses = found.map((a) => parseIp(a)).filter((ip) => ip?.family === family).map((ip) => ip!.address);
  return addresses.length ? addresses : undefined;
}

/** The files glibc reads and Deno's client reads too: both must be readable, or the two could see different ones. */
const FILES = ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"];

/** Every permission granted already (a query never prompts), and glibc's environment overrides unset. */
function granted(deno: DenoDns): boolean {
  try {
    const { querySync } = deno.permissions;
    if (querySync({ name: "net" }).state !== "granted") return false;
    if (FILES.some((path) => querySync({ name: "read", path }).state !== "granted")) return false;
    for (const variable of ["RES_OPTIONS", "LOCALDOMAIN"]) {
      if (querySync({ name: "env", variable }).state !== "granted" || deno.env.get(variable)) return false;
    }
    return true;
  } catch {
    return false;
  }
}
