/**
 * `/etc/hosts` (hosts(5)): names mapped to addresses, looked up per family,
 * as glibc's `files` source answers getaddrinfo. Runtime-free.
 *
 * @module
 */

import { parseIp } from "../addresses/ip.ts";
import type { Family } from "../base/types.ts";

/** A parsed hosts file: lowercase name → its addresses of each family, in file order. */
export type HostsTable = ReadonlyMap<string, { readonly 4: readonly string[]; readonly 6: readonly string[] }>;

/**
 * Parses the text of a hosts file. Each line is an address followed by a
 * canonical name and aliases; `#` starts a comment; lines whose first field
 * is not an IP literal (or has a zone) are skipped. Addresses are kept
 * canonical, in file order, without duplicates.
 */
export function parseHosts(text: string): HostsTable {
  const table = new Map<string, { 4: string[]; 6: string[] }>();
  for (const raw of text.split("\n")) {
    const [address, ...names] = raw.replace(/#.*$/, "").trim().split(/\s+/);
    const ip = address ? parseIp(address) : undefined;
    if (!ip || address.startsWith("[")) continue;
    for (const name of names) {
      const key = normalize(name);
      if (!key) continue;
      const entry = table.get(key) ?? { 4: [], 6: [] };
      table.set(key, entry);
      if (!entry[ip.family].includes(ip.address)) entry[ip.family].push(ip.address);
    }
  }
  return table;
}

/**
 * The addresses `table` gives `name` in `family` (case-insensitive; a
 * trailing dot is part of the name, as in glibc's `files` source, so
 * `db.lab.` does not match a line for `db.lab`), or `undefined` when the
 * file does not list the name at all. A name listed only for the other family gets an empty array:
 * getaddrinfo (AF_UNSPEC, glibc's `files` source) then answers from the
 * file alone and asks DNS for neither family.
 */
export function hostsLookup(table: HostsTable, name: string, family: Family): readonly string[] | undefined {
  return table.get(normalize(name))?.[family];
}

/** Case does not matter; a trailing dot does (glibc compares the names as written, ignoring case). */
function normalize(name: string): string {
  return name.toLowerCase();
}
