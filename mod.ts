/**
 * eyeballs: connect to multi-homed servers fast, the Happy Eyeballs way
 * (RFC 8305), on Deno, Bun and Node.
 *
 * This entry point is the runtime-agnostic core: {@linkcode connect} races
 * attempts through any {@linkcode Dialer} and {@linkcode Resolver}. For a
 * ready connect on your runtime import `@eyeballs/connect/deno`,
 * `@eyeballs/connect/node` or `@eyeballs/connect/bun`.
 *
 * @example
 * ```ts
 * import { connect, halving } from "@eyeballs/connect";
 * const { conn, attempts } = await connect({
 *   hostname: "192.0.2.1", port: 80, schedule: halving(500),
 *   dialer: { dial: (t) => Promise.resolve(t.address), close: () => {} },
 * });
 * ```
 *
 * @module
 */

export { connect, MAX_ATTEMPTS_IN_FLIGHT } from "./src/connect/connect.ts";
export type { Connected, ConnectOptions, RaceSettings } from "./src/connect/connect.ts";
export {
  defaultSchedule,
  fixedDelay,
  halving,
  MAX_ATTEMPT_DELAY,
  MIN_ATTEMPT_DELAY,
  RFC8305_ATTEMPT_DELAY,
} from "./src/race/schedule.ts";
export type { Schedule, ScheduleState } from "./src/race/schedule.ts";
export { RESOLUTION_DELAY } from "./src/connect/resolve.ts";
export {
  defaultHistory,
  HISTORY_MAX_HOSTS,
  HISTORY_MAX_NETWORKS,
  HISTORY_TTL,
  isExpired,
  MemoryHistory,
  outcomesOf,
  updateStoredHost,
  viewOfStoredHost,
} from "./src/history/history.ts";
export type {
  AddressOutcome,
  AddressState,
  History,
  HostHistory,
  KnownAddress,
  MemoryHistoryOptions,
  StoredAddress,
  StoredHost,
} from "./src/history/history.ts";
export { RTT_DELAY_MARGIN, rttAttemptDelay } from "./src/history/in_race.ts";
export { networkId } from "./src/history/network.ts";
export { cachingResolver } from "./src/dns/cache.ts";
export type { CachingResolver, DnsCacheOptions } from "./src/dns/cache.ts";
export { AttemptError, ConnectError, reasonOf, ResolveError } from "./src/base/errors.ts";
export {
  ADDRESS_CATEGORIES,
  classifyAddress,
  denyAddresses,
  INTERNAL_CATEGORIES,
  nat64Translatable,
  PolicyRefusal,
} from "./src/addresses/policy.ts";
export type { AddressCategory, AddressClass, AddressPolicy, DenyOptions } from "./src/addresses/policy.ts";
export { AddressSelector, DEFAULT_POLICY_TABLE } from "./src/addresses/rfc6724.ts";
export type { PolicyRow, SourceAddress } from "./src/addresses/rfc6724.ts";
export {
  extractNat64,
  IPV4ONLY_ARPA,
  NAT64_PREFIX_LIFETIME,
  parseNat64Prefix,
  prefixOfIpv4OnlyAnswer,
  synthesizeNat64,
  WELL_KNOWN_NAT64_PREFIX,
} from "./src/addresses/nat64.ts";
export type { Nat64Prefix, Nat64PrefixLength } from "./src/addresses/nat64.ts";
export type {
  Attempt,
  AttemptOutcome,
  Clock,
  ConnectEvent,
  Dialer,
  Family,
  ResolvedAddresses,
  Resolver,
  ServiceAnswer,
  ServiceEndpoint,
  ServiceParams,
  ServiceRecord,
  Target,
} from "./src/base/types.ts";
