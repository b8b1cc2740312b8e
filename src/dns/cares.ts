/**
 * One DNS question to one server through Node's own DNS client, c-ares
 * (`node:dns`'s `Resolver`), for the stub resolver: c-ares is set up when
 * Node starts, where eyeballs' own UDP pays for Node's first UDP socket
 * (docs/performance.md). eyeballs keeps what c-ares is not asked for: the
 * hosts file, the search list, rotation and the cache.
 *
 * Where c-ares cannot say what the stub needs (an answer it cannot read:
 * `EBADRESP`, `EFORMERR`, …), the question goes to eyeballs' own
 * {@linkcode exchange} instead.
 *
 * @module
 */

import { type DnsAnswer, RCODE } from "./message.ts";
import type { Family } from "../base/types.ts";
import { parseIp } from "../addresses/ip.ts";
import { nodeDns } from "../runtime/lazy_modules.ts";
import { bounded, exchange } from "./exchange.ts";
import type { DnsTransport } from "./stub.ts";

/** The part of `node:dns` used here. */
export interface CaresModule {
  Resolver: new (options: { timeout: number; tries: number }) => CaresResolver;
}

/** The part of a `node:dns` `Resolver` used here. */
export interface CaresResolver {
  setServers(servers: string[]): void;
  resolve4(name: string, options: { ttl: true }, callback: CaresCallback): void;
  resolve6(name: string, options: { ttl: true }, callback: CaresCallback): void;
  cancel(): void;
}

type CaresCallback = (error: (Error & { code?: string }) | null, records: { address: string; ttl: number }[]) => void;

/**
 * Asks `server` for the `family` records of `name` through c-ares, with the
 * same contract as {@linkcode exchange}: rejects with code `ETIMEOUT` after
 * `timeoutMs`, or with the signal's reason on abort (the query cancelled).
 */
export const caresExchange: DnsTransport = async (server, name, family, timeoutMs, signal) =>
  exchangeWith(await nodeDns(), server, name, family, timeoutMs, signal);

/** {@linkcode caresExchange} on a given `node:dns` and fallback (tests pass fakes). */
export async function exchangeWith(
  dns: CaresModule,
  server: string,
  name: string,
  family: Family,
  timeoutMs: number,
  signal: AbortSignal,
  fallback: typeof exchange = exchange,
): Promise<DnsAnswer> {
  const outcome = await bounded<DnsAnswer | "fallback">(timeoutMs, signal, `query to ${server}`, (settle) => {
    const resolver = new dns.Resolver({ timeout: Math.max(1, Math.ceil(timeoutMs)), tries: 1 });
    let pending = true;
    try {
      resolver.setServers([server]);
    } catch {
      settle(undefined, "fallback"); // a server c-ares does not take (a scoped address): ask it ourselves
      return () => {};
    }
    const absolute = name.endsWith(".") ? name : `${name}.`; // c-ares must not apply a search list of its own
    const onAnswer: CaresCallback = (error, records) => {
      pending = false;
      if (!error) return settle(undefined, addressesOf(records, family));
      // No answer from this server: the stub moves on to the next, as after its own timeout.
      if (error.code === "ETIMEOUT" || error.code === "ECONNREFUSED") return settle(error);
      settle(undefined, answerFor(error.code) ?? "fallback");
    };
    if (family === 6) resolver.resolve6(absolute, { ttl: true }, onAnswer);
    else resolver.resolve4(absolute, { ttl: true }, onAnswer);
    return () => {
      if (pending) resolver.cancel();
    };
  });
  if (outcome !== "fallback") return outcome;
  return fallback(server, name, family, timeoutMs, signal);
}

/** The answer a c-ares error code stands for, or undefined when it says nothing the stub can use. */
function answerFor(code: string | undefined): DnsAnswer | undefined {
  const rcode = code === "ENODATA"
    ? RCODE.noError
    : code === "ENOTFOUND"
    ? RCODE.nxDomain
    : code === "ESERVFAIL"
    ? RCODE.servFail
    : code === "EREFUSED"
    ? RCODE.refused
    : undefined;
  // c-ares gives no SOA for a negative answer: TTL 0 (the cache keeps no negative answers anyway).
  return rcode === undefined ? undefined : { rcode, truncated: false, addresses: [], ttl: 0 };
}

/** c-ares' records as the stub's answer: canonical addresses of the family, the smallest TTL. */
function addressesOf(records: { address: string; ttl: number }[], family: Family): DnsAnswer {
  const addresses: string[] = [];
  let ttl = Infinity;
  for (const record of records) {
    const ip = parseIp(record.address);
    if (ip?.family !== family) continue;
    addresses.push(ip.address);
    ttl = Math.min(ttl, record.ttl);
  }
  return { rcode: RCODE.noError, truncated: false, addresses, ttl: ttl === Infinity ? 0 : ttl };
}
