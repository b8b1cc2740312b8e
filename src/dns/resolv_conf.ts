/**
 * `/etc/resolv.conf` (resolv.conf(5)), read the way glibc reads it, for the
 * fields a stub resolver uses: nameservers, the search list, and the
 * `timeout`, `attempts`, `ndots` and `rotate` options. Runtime-free.
 *
 * @module
 */

import { parseIp } from "../addresses/ip.ts";

/** What a stub resolver takes from resolv.conf. */
export interface ResolvConf {
  /** Nameserver addresses, canonical, in file order (glibc uses at most 3). */
  readonly nameservers: string[];
  /** Domains tried for a relative name (`search`, or the last `domain`). */
  readonly search: string[];
  /** Seconds to wait for one server's answer (default 5, at most 30). */
  readonly timeout: number;
  /** Rounds over the server list (default 2, at most 5). */
  readonly attempts: number;
  /** Names with at least this many dots are tried as given first (default 1, at most 15). */
  readonly ndots: number;
  /** Spread queries over the servers instead of always asking the first. */
  readonly rotate: boolean;
}

/** glibc's limit on nameservers (MAXNS). */
const MAX_NAMESERVERS = 3;

/**
 * Parses the text of a resolv.conf. With no `nameserver` line, the server is
 * the local one (`127.0.0.1` and `::1`), as in glibc. Unknown lines and
 * options are ignored, as glibc does; nameservers with a zone are skipped.
 */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  let timeout = 5, attempts = 2, ndots = 1, rotate = false;
  for (const raw of text.split("\n")) {
    const [keyword, ...args] = raw.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (keyword === "nameserver" && args[0] !== undefined) {
      const ip = parseIp(args[0]);
      if (ip && nameservers.length < MAX_NAMESERVERS) nameservers.push(ip.address);
    } else if (keyword === "search") search = args.filter(Boolean);
    else if (keyword === "domain" && args[0]) search = [args[0]];
    else if (keyword === "options") {
      for (const option of args) {
        const [name, value] = option.split(":", 2);
        const n = Number(value);
        const valid = value !== undefined && /^\d+$/.test(value);
        if (name === "timeout" && valid) timeout = Math.min(Math.max(n, 1), 30);
        else if (name === "attempts" && valid) attempts = Math.min(Math.max(n, 1), 5);
        else if (name === "ndots" && valid) ndots = Math.min(n, 15);
        else if (name === "rotate") rotate = true;
      }
    }
  }
  if (nameservers.length === 0) nameservers.push("127.0.0.1", "::1");
  search = search.map((d) => d.replace(/\.$/, "")).filter((d) => d.length > 0);
  return { nameservers, search, timeout, attempts, ndots, rotate };
}

/**
 * The names to ask for `name`, in order (glibc's res_search): an absolute
 * name (trailing dot) only as given; a name with at least `ndots` dots as
 * given, then with each search domain; a shorter one with each search domain
 * first, then as given.
 */
export function searchNames(name: string, conf: Pick<ResolvConf, "search" | "ndots">): string[] {
  if (name.endsWith(".")) return [name.slice(0, -1)];
  const withDomains = conf.search.map((domain) => `${name}.${domain}`);
  const dots = name.split(".").length - 1;
  return dots >= conf.ndots ? [name, ...withDomains] : [...withDomains, name];
}
