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
import type {
  Clock,
  ConnectEvent,
  Family,
  Resolver,
  ServiceAnswer,
  ServiceEndpoint,
  ServiceRecord,
} from "../base/types.ts";

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
  /** HTTPS/SVCB records to ask beside the addresses (draft-ietf-happy-happyeyeballs-v3 §4); none: A/AAAA only. */
  readonly services?: ServiceLookup;
}

/** How resolution asks for and uses HTTPS/SVCB records. */
export interface ServiceLookup {
  /** Asks for the records (the resolver's `resolveServices`, bound to the name, port and scheme). */
  readonly lookup: (signal: AbortSignal) => Promise<ServiceAnswer | undefined>;
  /** The port dialled when a record has no `port`. */
  readonly port: number;
  /** The ALPN ids the caller speaks; undefined: any protocol over TCP. */
  readonly alpn?: readonly string[];
  /** The scheme's default ALPN id, offered unless `no-default-alpn` (RFC 9460 §7.1.1): "http/1.1" for HTTPS. */
  readonly defaultAlpn?: string;
  /** Orders records of equal priority (RFC 9460 §2.4.1: at random); tests make it deterministic. */
  readonly shuffle?: <T>(items: T[]) => T[];
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
  /** The HTTPS/SVCB endpoint `address` was added for, if any. */
  endpointOf(address: string): ServiceEndpoint | undefined;
}

/**
 * Resolves `hostname` in every family of `options.families` in parallel,
 * adds the addresses to `queue` as they arrive, and ends the queue once every
 * family has answered or failed. Never throws: failures are kept for
 * {@linkcode Resolution.failures}.
 */
export function resolveInto(queue: AddressQueue, options: ResolveOptions): Resolution {
  const { hostname, families, resolver, clock, signal, services } = options;
  const [preferred] = families;
  const failed = new Map<Family, ResolveError>();
  const answered = new Set<Family>();
  // Answers waiting: for the preferred family (the Resolution Delay), and, with HTTPS records asked, for them too.
  const held: Array<{ family: Family; add: () => void }> = [];
  let preferredDone = families.length < 2;
  let servicesDone = services === undefined;
  let cancelDelay = () => {};
  const since = () => clock.now() - options.startedAt;
  const emit = (event: ConnectEvent) => {
    try {
      options.emit(event);
    } catch {
      // An observer's error is no lookup's: the answer still counts.
    }
  };
  const endpoints = services ? new Endpoints(queue, services, hostname, since, emit) : undefined;

  const deliverable = (family: Family) => servicesDone && (family === preferred || preferredDone);
  const flush = () => {
    for (let i = 0; i < held.length;) {
      if (deliverable(held[i].family)) held.splice(i, 1)[0].add();
      else i++;
    }
    if (held.length === 0) cancelDelay();
  };
  const release = () => { // the delay is over, or nothing is left to wait for
    preferredDone = servicesDone = true;
    flush();
  };

  const lookup = async (family: Family) => {
    try {
      const addresses = canonicalAnswer(await resolver.resolve(hostname, family, signal), family);
      if (signal.aborted) return; // the connect is over: nothing more to add or tell
      answered.add(family);
      emit({ type: "resolved", atMs: since(), family, addresses }); // when it arrived, even if held
      const add = () => {
        if (queue.ended || signal.aborted) return;
        if (endpoints) endpoints.ownAnswer(family, addresses);
        else queue.add(family, addresses);
      };
      if (deliverable(family)) add();
      else {
        held.push({ family, add });
        if (held.length === 1) cancelDelay = clock.setTimer(release, options.resolutionDelay);
      }
    } catch (cause) {
      const failure = new ResolveError(hostname, family, signal.aborted ? signal.reason : cause);
      failed.set(family, failure);
      if (!signal.aborted) emit({ type: "resolve-failed", atMs: since(), family, error: failure });
      if (endpoints && !signal.aborted) endpoints.ownAnswer(family, []); // its hints stay: nothing confirms them
    } finally {
      if (family === preferred) {
        preferredDone = true;
        flush();
      }
    }
  };

  const serviceLookup = async () => {
    let answer: ServiceAnswer | undefined;
    try {
      answer = await services!.lookup(signal);
    } catch (error) {
      if (!signal.aborted) {
        const reason = `HTTPS/SVCB lookup failed: ${error instanceof Error ? error.message : String(error)}`;
        emit({ type: "service-records", atMs: since(), name: hostname, records: [], skipped: [{ reason }] });
      }
    }
    let targets: Promise<unknown> | undefined;
    if (answer && !signal.aborted && !queue.ended) {
      targets = endpoints!.records(answer, (target, family) => resolver.resolve(target, family, signal));
    }
    // The name's own addresses (no record, or a later group) wait for the targets' answers too, as for the
    // records: up to the Resolution Delay (hints are in the queue already).
    await targets;
    servicesDone = true;
    flush();
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
  // Sent in the draft's order: HTTPS first, then the families.
  const lookups = services ? [serviceLookup(), ...families.map(lookup)] : families.map(lookup);
  Promise.all(lookups).then(finish, finish);
  return {
    get settled() {
      return settled;
    },
    failures: () =>
      families.filter((f) => !answered.has(f)).map((f) =>
        failed.get(f) ?? new ResolveError(hostname, f, signal.aborted ? signal.reason : "no answer yet")
      ),
    endpointOf: (address) => endpoints?.of(address),
  };
}

/** Fisher-Yates with Math.random: records of equal priority in random order (RFC 9460 §2.4.1). */
function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** ALPN ids that only run over QUIC: a TCP connect cannot use an endpoint offering nothing else. */
const overQuic = (id: string) => /^h3(-|$)/.test(id);

/** One usable ServiceMode record, as the race uses it: its group (order), port and target. */
interface Endpoint extends ServiceEndpoint {
  readonly group: number;
}

/**
 * The HTTPS/SVCB side of one resolution (draft-ietf-happy-happyeyeballs-v3 §4): endpoints by target, their
 * hints in the queue until the target's real answer replaces them, addresses grouped by record priority.
 */
class Endpoints {
  readonly #queue: AddressQueue;
  readonly #services: ServiceLookup;
  readonly #hostname: string;
  readonly #since: () => number;
  readonly #emit: (event: ConnectEvent) => void;
  /** Usable endpoints by target (lower case); the first (lowest group) per target. */
  readonly #byTarget = new Map<string, Endpoint>();
  readonly #byAddress = new Map<string, Endpoint>();
  /** Hints in the queue, per family and target, not yet confirmed by a real answer. */
  readonly #hints: Record<Family, Map<string, string[]>> = { 4: new Map(), 6: new Map() };
  /** The name's own A/AAAA answers, once in. */
  readonly #own: Partial<Record<Family, string[]>> = {};

  constructor(
    queue: AddressQueue,
    services: ServiceLookup,
    hostname: string,
    since: () => number,
    emit: (event: ConnectEvent) => void,
  ) {
    this.#queue = queue;
    this.#services = services;
    this.#hostname = hostname.toLowerCase().replace(/\.$/, "");
    this.#since = since;
    this.#emit = emit;
  }

  of(address: string): ServiceEndpoint | undefined {
    const endpoint = this.#byAddress.get(address);
    if (endpoint === undefined) return undefined;
    const { target, priority, port, alpn, ech } = endpoint;
    return ech === undefined ? { target, priority, port, alpn } : { target, priority, port, alpn, ech };
  }

  /** The name's own A or AAAA answer: in its endpoint's group when a record targets the name, else last. */
  ownAnswer(family: Family, addresses: string[]): void {
    this.#own[family] = addresses;
    if (this.#queue.ended) return;
    const endpoint = this.#byTarget.get(this.#hostname);
    if (endpoint) this.#confirm(endpoint, family, addresses);
    else if (addresses.length) this.#queue.add(family, addresses);
  }

  /** The HTTPS/SVCB answer: endpoints chosen, hints queued; resolves once every other target's lookups are over. */
  records(answer: ServiceAnswer, resolve: (target: string, family: Family) => Promise<string[]>): Promise<unknown> {
    const { records, skipped } = answer;
    this.#emit({ type: "service-records", atMs: this.#since(), name: answer.name, records, skipped });
    const byPriority = new Map<number, ServiceRecord[]>();
    for (const record of records) {
      if (record.priority === 0) continue; // AliasMode: the resolver follows it
      byPriority.set(record.priority, [...byPriority.get(record.priority) ?? [], record]);
    }
    const shuffle = this.#services.shuffle ?? shuffled;
    const ordered = [...byPriority.keys()].sort((a, b) => a - b).flatMap((p) => shuffle([...byPriority.get(p)!]));
    const lookups: Promise<unknown>[] = [];
    ordered.forEach((record, group) => {
      const alpn = this.#usableAlpn(record);
      const target = record.target.toLowerCase().replace(/\.$/, "");
      if (alpn === undefined) {
        const offered = [...record.params.alpn ?? [], ...record.params.noDefaultAlpn ? [] : ["(default)"]];
        const reason = `no ALPN in common: the endpoint offers ${offered.join(",")}, the caller ${
          this.#services.alpn?.join(",") ?? "any protocol over TCP"
        }`;
        this.#emit({ type: "endpoint-skipped", atMs: this.#since(), target, priority: record.priority, reason });
        return;
      }
      if (this.#byTarget.has(target)) return; // the same target at a lower priority: already in
      const port = record.params.port ?? this.#services.port;
      const ech = record.params.ech;
      const endpoint: Endpoint = ech === undefined
        ? { target, priority: record.priority, port, alpn, group }
        : { target, priority: record.priority, port, alpn, ech, group };
      this.#start(endpoint, record, resolve, lookups);
    });
    // RFC 9460 §3: after an alias chain, its final name with no SvcParams, after its records, before the name's own.
    const final = answer.name.toLowerCase().replace(/\.$/, "");
    if (answer.aliased && final !== this.#hostname && !this.#byTarget.has(final)) {
      const alpn = this.#usableAlpn({ priority: 1, target: final, params: { noDefaultAlpn: false, unknown: [] } }) ??
        [];
      const endpoint: Endpoint = { target: final, priority: 0, port: this.#services.port, alpn, group: ordered.length };
      this.#start(endpoint, undefined, resolve, lookups);
    }
    return Promise.all(lookups);
  }

  /** Puts `endpoint` in: its hints queued, its target's own A and AAAA asked (pushed to `lookups`). */
  #start(
    endpoint: Endpoint,
    record: ServiceRecord | undefined,
    resolve: (target: string, family: Family) => Promise<string[]>,
    lookups: Promise<unknown>[],
  ): void {
    const { target } = endpoint;
    this.#byTarget.set(target, endpoint);
    for (const family of [6, 4] as const) {
      const own = target === this.#hostname ? this.#own[family] : undefined;
      if (own) this.#confirm(endpoint, family, own); // the real answer is in already: hints not needed
      else {
        const hints = (family === 6 ? record?.params.ipv6hint : record?.params.ipv4hint) ?? [];
        if (hints.length) this.#add(endpoint, family, [...hints], true);
      }
      if (target !== this.#hostname) {
        lookups.push(
          resolve(target, family).then(
            (list) => canonicalAnswer(list, family),
            () => [] as string[], // the target's failed lookup: its hints stay, as for a missing answer
          ).then((addresses) => {
            if (!this.#queue.ended) this.#confirm(endpoint, family, addresses);
          }),
        );
      }
    }
  }

  /** `record`'s ALPN ids the caller speaks (record order), or undefined when there is none: skip it. */
  #usableAlpn(record: ServiceRecord): string[] | undefined {
    const { alpn = [], noDefaultAlpn } = record.params;
    const { alpn: offered, defaultAlpn } = this.#services;
    const protocols = noDefaultAlpn || defaultAlpn === undefined ? [...alpn] : [...alpn, defaultAlpn];
    if (offered === undefined) {
      if (!noDefaultAlpn) return protocols; // the scheme's default protocol runs over TCP
      return protocols.some((id) => !overQuic(id)) ? protocols.filter((id) => !overQuic(id)) : undefined;
    }
    const common = protocols.filter((id) => offered.includes(id));
    return common.length ? [...new Set(common)] : undefined;
  }

  /** The real answer for `endpoint`'s target in `family`: it replaces the hints; hints it lacks are dropped. */
  #confirm(endpoint: Endpoint, family: Family, addresses: string[]): void {
    const hints = this.#hints[family].get(endpoint.target);
    if (hints) {
      this.#hints[family].delete(endpoint.target);
      const confirmed = new Set(addresses);
      const dropped = this.#queue.drop(family, hints.filter((a) => !confirmed.has(a)));
      for (const address of dropped) this.#byAddress.delete(address);
      this.#emit({ type: "hints-replaced", atMs: this.#since(), target: endpoint.target, family, dropped });
    }
    if (addresses.length) this.#add(endpoint, family, addresses, false);
  }

  #add(endpoint: Endpoint, family: Family, addresses: string[], hints: boolean): void {
    if (this.#queue.ended) return;
    if (hints) this.#hints[family].set(endpoint.target, addresses);
    for (const address of addresses) {
      const known = this.#byAddress.get(address);
      if (known === undefined || endpoint.group < known.group) this.#byAddress.set(address, endpoint);
    }
    this.#queue.addEndpoint(family, addresses, endpoint.group, endpoint.port);
  }
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
