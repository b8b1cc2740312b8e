/**
 * `lookup`: Node's `dns.lookup` contract, answered by eyeballs' resolvers, for the clients that take only a `lookup`
 * function (`net.connect`, `http.request`, undici's `connect.lookup`, many drivers).
 *
 * @module
 */

import type { Family, Resolver } from "../base/types.ts";
import { describe } from "../base/checks.ts";
import { parseInetAton, parseIp } from "../addresses/ip.ts";
import { type AddressPolicy, refusalOf } from "../addresses/policy.ts";
import { selectorFor, type SourceAddress } from "../addresses/rfc6724.ts";
import { RESOLUTION_DELAY } from "../race/schedule.ts";
import { autoResolver } from "../dns/auto.ts";
import { systemSourceAddresses } from "../adapters/shared/source_addresses.ts";

/** One address as `dns.lookup` gives it with `all: true`. */
export interface LookupAddress {
  /** The address, canonical. */
  readonly address: string;
  /** 4 or 6. */
  readonly family: Family;
}

/**
 * `dns.lookup`'s options: a family number, or an object.
 *
 * @example
 * ```ts
 * import { lookup, type LookupOptions } from "@eyeballs/connect/node/clients";
 * const options: LookupOptions = { family: 0, all: true, order: "ipv4first" };
 * const addresses = await lookup.promise("localhost", options);
 * ```
 */
export type LookupOptions = number | {
  /** 0 (both, the default), 4, 6, or "IPv4" / "IPv6". */
  readonly family?: number | "IPv4" | "IPv6";
  /** Every address instead of the first. */
  readonly all?: boolean;
  /** getaddrinfo flags: accepted and ignored, as eyeballs does not call getaddrinfo with them. */
  readonly hints?: number;
  /** "verbatim" (eyeballs' order: RFC 6724), "ipv4first" or "ipv6first". */
  readonly order?: "verbatim" | "ipv4first" | "ipv6first";
  /** true: "verbatim"; false: "ipv4first" (Node's older default). */
  readonly verbatim?: boolean;
};

/** What a `lookup` calls back with: an address and its family, or every address with `all`. */
export type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: Family,
) => void;

/** A function of `dns.lookup`'s shape, with `promise` as `dns.promises.lookup`. */
export interface Lookup {
  (hostname: string, callback: LookupCallback): void;
  (hostname: string, options: LookupOptions, callback: LookupCallback): void;
  /** `dns.promises.lookup`'s shape. */
  promise(hostname: string, options?: LookupOptions): Promise<LookupAddress | LookupAddress[]>;
}

/** Where a {@linkcode createLookup}'s answers come from. */
export interface LookupSettings {
  /** Default `autoResolver`: the hosts file, then the stub resolver with its TTL cache (or getaddrinfo). */
  readonly resolver?: Resolver;
  /** Refuses addresses before they are handed out; all refused is an error naming the policy. */
  readonly addressPolicy?: AddressPolicy;
  /** This host's addresses, for RFC 6724 order. Default: read from the interfaces. */
  readonly sourceAddresses?: readonly (string | SourceAddress)[];
  /** How long one family's answer waits for the other's, in ms. Default 50 (RFC 8305's Resolution Delay). */
  readonly resolutionDelay?: number;
}

/**
 * Makes a function with `dns.lookup`'s contract, answered by eyeballs: both families asked at once, the slower answer
 * awaited for at most the Resolution Delay once the other has addresses, RFC 6724 order, the address policy.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { denyAddresses, INTERNAL_CATEGORIES } from "@eyeballs/connect";
 * import { createLookup } from "@eyeballs/connect/node/clients";
 * const lookup = createLookup({ addressPolicy: denyAddresses(INTERNAL_CATEGORIES) });
 * http.get({ host: "example.com", path: "/", lookup }, (res) => res.resume());
 * ```
 */
export function createLookup(settings: LookupSettings = {}): Lookup {
  const resolver = settings.resolver ?? autoResolver;
  const resolutionDelay = settings.resolutionDelay ?? RESOLUTION_DELAY;
  const answer = async (hostname: string, options: ReturnType<typeof readOptions>): Promise<LookupAddress[]> => {
    const literal = parseIp(hostname);
    // A literal is its own answer, whatever family was asked for (as dns.lookup does). getaddrinfo also takes
    // inet_aton's forms (127.1, 0x7f.1) as IPv4 literals, answered as a dotted quad.
    if (literal) return [{ address: hostname.replace(/^\[|\]$/g, ""), family: literal.family }];
    const aton = parseInetAton(hostname);
    if (aton && options.family === 6) throw lookupError("EAI_ADDRFAMILY", hostname); // Node's, from getaddrinfo
    if (aton) return [{ address: aton.address, family: 4 }];
    const families: Family[] = options.family ? [options.family] : [6, 4];
    const found = await resolveFamilies(resolver, hostname, families, resolutionDelay);
    if (found.addresses.length === 0) throw lookupError(found.code ?? "ENOTFOUND", hostname);
    let addresses = found.addresses;
    if (settings.addressPolicy) {
      const refused: string[] = [];
      addresses = addresses.filter((a) => {
        const why = refusalOf(settings.addressPolicy!, a.address, a.family);
        if (why !== undefined) refused.push(`${a.address} (${why})`);
        return why === undefined;
      });
      if (addresses.length === 0) {
        throw Object.assign(lookupError("ENOTFOUND", hostname), {
          message: `getaddrinfo ENOTFOUND ${hostname}: every address was refused by the address policy: ${
            refused.join(", ")
          }`,
        });
      }
    }
    return ordered(addresses, options.order, settings.sourceAddresses ?? systemSourceAddresses());
  };

  function lookup(hostname: string, options: LookupOptions | LookupCallback, callback?: LookupCallback): void {
    if (typeof options === "function") [options, callback] = [{}, options];
    if (typeof callback !== "function") {
      throw new TypeError(`callback must be a function, got ${describe(callback)}`);
    }
    if (typeof hostname !== "string") throw new TypeError(`hostname must be a string, got ${describe(hostname)}`);
    const read = readOptions(options);
    const done = callback;
    if (hostname === "") {
      // dns.lookup's answer for an empty name: no address, no error.
      queueMicrotask(() => read.all ? done(null, []) : done(null, null as never, (read.family || 4) as Family));
      return;
    }
    answer(hostname, read).then(
      (addresses) => read.all ? done(null, addresses) : done(null, addresses[0].address, addresses[0].family),
      (error) => done(error, read.all ? [] : undefined as never),
    );
  }
  lookup.promise = (hostname: string, options: LookupOptions = {}) => {
    if (typeof hostname !== "string") {
      return Promise.reject(new TypeError(`hostname must be a string, got ${describe(hostname)}`));
    }
    let read: ReturnType<typeof readOptions>;
    try {
      read = readOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return answer(hostname, read).then((addresses) => (read.all ? addresses : addresses[0]));
  };
  return lookup as Lookup;
}

/**
 * A `lookup` with the default settings.
 *
 * @example
 * ```ts
 * import net from "node:net";
 * import { lookup } from "@eyeballs/connect/node/clients";
 * const socket = net.connect({ host: "localhost", port: 6379, lookup });
 * ```
 */
export const lookup: Lookup = createLookup();

/**
 * Makes `lookup` the default of an `http.Agent` or `https.Agent` (every connection it opens resolves through it), as
 * cacheable-lookup's `install` does. Node then makes the connection attempts itself, with its own 250 ms attempt
 * timeout: where a client takes a socket factory or an agent, `createConnection` or `EyeballsAgent` race instead.
 *
 * @example
 * ```ts
 * import https from "node:https";
 * import { installLookup } from "@eyeballs/connect/node/clients";
 * const agent = installLookup(new https.Agent({ keepAlive: true }));
 * ```
 */
export function installLookup<A extends object>(agent: A, use: Lookup = lookup): A {
  // http.Agent keeps the options it hands to each connection in `options` (not in its typings).
  const options = (agent as { options?: unknown } | null)?.options;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`agent must be an http.Agent or https.Agent, got ${describe(agent)}`);
  }
  (options as { lookup?: Lookup }).lookup = use;
  return agent;
}

function readOptions(options: LookupOptions): {
  family: 0 | Family;
  all: boolean;
  order: "verbatim" | "ipv4first" | "ipv6first";
} {
  if (typeof options === "number") return { family: checkFamily(options), all: false, order: "verbatim" };
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be a number or an object, got ${describe(options)}`);
  }
  const family = checkFamily(
    options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family ?? 0,
  );
  if (options.all !== undefined && typeof options.all !== "boolean") {
    throw new TypeError(`options.all must be a boolean, got ${describe(options.all)}`);
  }
  if (options.hints !== undefined && (typeof options.hints !== "number" || !Number.isInteger(options.hints))) {
    throw new TypeError(`options.hints must be an integer, got ${describe(options.hints)}`);
  }
  if (options.order !== undefined && !["verbatim", "ipv4first", "ipv6first"].includes(options.order)) {
    throw new TypeError(`options.order must be "verbatim", "ipv4first" or "ipv6first", got ${describe(options.order)}`);
  }
  if (options.verbatim !== undefined && typeof options.verbatim !== "boolean") {
    throw new TypeError(`options.verbatim must be a boolean, got ${describe(options.verbatim)}`);
  }
  const order = options.order ?? (options.verbatim === false ? "ipv4first" : "verbatim");
  return { family, all: options.all === true, order };
}

function checkFamily(family: unknown): 0 | Family {
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new TypeError(`options.family must be 0, 4, 6, "IPv4" or "IPv6", got ${describe(family)}`);
  }
  return family;
}

/**
 * Both families at once. Once one family has given addresses, the other gets at most `resolutionDelay` ms more
 * (RFC 8305's Resolution Delay); then the answer is what has come. A lookup's answer is final (no late address can
 * join it as one joins eyeballs' race), so the wait is the same whichever family answers first.
 */
function resolveFamilies(
  resolver: Resolver,
  hostname: string,
  families: readonly Family[],
  resolutionDelay: number,
): Promise<{ addresses: LookupAddress[]; code?: string }> {
  const controller = new AbortController();
  return new Promise((resolve) => {
    const answers = new Map<Family, LookupAddress[]>();
    const codes: string[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      controller.abort(); // a lookup still running is no longer wanted
      const addresses = families.flatMap((f) => answers.get(f) ?? []);
      const code = codes.includes("EAI_AGAIN") ? "EAI_AGAIN" : codes[0] === "ENODATA" ? "ENOTFOUND" : codes[0];
      resolve({ addresses, code });
    };
    const settled = () => {
      if (families.every((f) => answers.has(f))) return finish();
      const some = [...answers.values()].some((list) => list.length > 0);
      if (some && timer === undefined) timer = setTimeout(finish, resolutionDelay);
    };
    for (const family of families) {
      resolver.resolve(hostname, family, controller.signal).then((list) => {
        answers.set(family, list.map((address) => ({ address, family })));
      }, (error: { code?: unknown }) => {
        answers.set(family, []);
        codes.push(typeof error?.code === "string" ? error.code : "ENOTFOUND");
      }).then(settled);
    }
  });
}

function ordered(
  addresses: LookupAddress[],
  order: "verbatim" | "ipv4first" | "ipv6first",
  sources: readonly (string | SourceAddress)[],
): LookupAddress[] {
  const selector = sources.length ? selectorFor(sources) : undefined;
  const sorted = selector
    ? [...addresses].sort((a, b) => selector.compare(a.address, b.address))
    : [...addresses].sort((a, b) => b.family - a.family); // IPv6 first, as eyeballs' race leads
  if (order === "verbatim") return sorted;
  const first = order === "ipv4first" ? 4 : 6;
  return sorted.sort((a, b) => (a.family === first ? 0 : 1) - (b.family === first ? 0 : 1));
}

/** libuv's numbers for getaddrinfo's errors, as `dns.lookup`'s errors carry them. */
const ERRNO: Record<string, number | undefined> = { EAI_ADDRFAMILY: -3000, EAI_AGAIN: -3001, ENOTFOUND: -3008 };

/** The error `dns.lookup` gives: `getaddrinfo CODE hostname`, with `code`, `syscall` and `hostname`. */
function lookupError(code: string, hostname: string): NodeJS.ErrnoException & { hostname: string } {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), {
    code,
    errno: ERRNO[code],
    syscall: "getaddrinfo",
    hostname,
  });
}
