/**
 * Resolution (RFC 8305 §3): ask for both families at once and feed answers
 * into the race's queue as they come. An answer for the other family than
 * the preferred one waits up to the Resolution Delay for the preferred one,
 * so that a quick IPv4 answer does not always beat a slightly slower IPv6
 * one; any answer arriving later still joins the race.
 *
 * @module
 */

import { ResolveError } from "../base/errors.ts";
import { parseAddressList } from "../addresses/ip.ts";
import type { AddressQueue } from "../race/queue.ts";
import type { Clock, ConnectEvent, Family, Resolver } from "../base/types.ts";

/** What resolution needs. */
export interface ResolveOptions {
  /** The name to look up. */
  readonly hostname: string;
  /** The families to ask for, the preferred one first. */
  readonly families: readonly Family[];
  /** Looks up one family. */
  readonly resolver: Resolver;
  /** How long an answer for another family waits for the preferred one. */
  readonly resolutionDelay: number;
  /** Stops the lookups. */
  readonly signal: AbortSignal;
  /** Time and timers. */
  readonly clock: Clock;
  /** The clock time that `atMs` counts from. */
  readonly startedAt: number;
  /** Told of every answer (when it arrives) and failure, until `signal` aborts. Its throws are ignored. */
  readonly emit: (event: ConnectEvent) => void;
}

/** A resolution under way. */
export interface Resolution {
  /**
   * One {@linkcode ResolveError} per family that failed so far, and, for a
   * family still unanswered, one whose cause is the abort reason (or "no
   * answer yet").
   */
  failures(): ResolveError[];
  /** True once every lookup has ended and every held answer is in the queue (or dropped): nothing uses the signal. */
  readonly settled: boolean;
}

/**
 * Resolves `hostname` in every family of `options.families` in parallel,
 * adds the addresses to `queue` as they arrive, and ends the queue once every
 * family has answered or failed. Never throws: failures are kept for
 * {@linkcode Resolution.failures}.
 */
export function resolveInto(queue: AddressQueue, options: ResolveOptions): Resolution {
  const { hostname, families, resolver, clock, signal } = options;
  const [preferred] = families;
  const failed = new Map<Family, ResolveError>();
  const answered = new Set<Family>();
  const held: Array<() => void> = []; // answers waiting for the preferred family
  let preferredDone = families.length < 2;
  let cancelDelay = () => {};
  const since = () => clock.now() - options.startedAt;
  const emit = (event: ConnectEvent) => {
    try {
      options.emit(event);
    } catch {
      // An observer's error is no lookup's: the answer still counts.
    }
  };

  const release = () => {
    preferredDone = true;
    cancelDelay();
    for (const add of held.splice(0)) add();
  };

  const lookup = async (family: Family) => {
    try {
      const addresses = canonicalAnswer(await resolver.resolve(hostname, family, signal), family);
      if (signal.aborted) return; // the connect is over: nothing more to add or tell
      answered.add(family);
      emit({ type: "resolved", atMs: since(), family, addresses }); // when it arrived, even if held
      const add = () => {
        if (!queue.ended && !signal.aborted) queue.add(family, addresses);
      };
      if (family === preferred || preferredDone) add();
      else {
        held.push(add);
        if (held.length === 1) cancelDelay = clock.setTimer(release, options.resolutionDelay);
      }
    } catch (cause) {
      const failure = new ResolveError(hostname, family, signal.aborted ? signal.reason : cause);
      failed.set(family, failure);
      if (!signal.aborted) emit({ type: "resolve-failed", atMs: since(), family, error: failure });
    } finally {
      if (family === preferred) release();
    }
  };

  // Once the connect is over, a held answer is dropped and its timer cancelled: nothing runs after.
  const drop = () => {
    held.length = 0;
    cancelDelay();
  };
  let settled = false;
  const finish = () => {
    settled = true;
    signal.removeEventListener("abort", drop);
    release();
    if (!queue.ended) queue.end();
  };
  signal.addEventListener("abort", drop, { once: true });
  Promise.all(families.map(lookup)).then(finish, finish);
  return {
    get settled() {
      return settled;
    },
    failures: () =>
      families.filter((f) => !answered.has(f)).map((f) =>
        failed.get(f) ?? new ResolveError(hostname, f, signal.aborted ? signal.reason : "no answer yet")
      ),
  };
}

/** Canonical forms of answers seen lately, per family: a warm connect to a name gets the same answer every time. */
const canonical = { 4: new Map<string, string>(), 6: new Map<string, string>() };
const CANONICAL_MAX = 512;

/**
 * {@linkcode parseAddressList}, with each address parsed once while it keeps coming back (a fresh array every
 * call: the queue and observers may keep or change it). Strings are immutable, so a remembered form stays valid.
 */
function canonicalAnswer(list: unknown, family: Family): string[] {
  if (!Array.isArray(list)) return parseAddressList(list, family); // throws, naming what came
  const known = canonical[family];
  const addresses: string[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const seen = typeof list[i] === "string" ? known.get(list[i]) : undefined;
    if (seen === undefined) return remember(list, family, known);
    addresses[i] = seen;
  }
  return addresses;
}

function remember(list: unknown[], family: Family, known: Map<string, string>): string[] {
  const addresses = parseAddressList(list, family); // throws on a bad entry: nothing remembered
  if (known.size + list.length > CANONICAL_MAX) known.clear();
  list.forEach((raw, i) => known.set(raw as string, addresses[i]));
  return addresses;
}
