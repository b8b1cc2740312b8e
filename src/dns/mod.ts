/**
 * The resolvers, in one place: the TTL cache that wraps any resolver, the
 * system's `getaddrinfo`, eyeballs' own stub resolver (hosts file,
 * resolv.conf, UDP and TCP), and `autoResolver`, which picks between them as
 * nsswitch.conf allows. The runtime entries (`/deno`, `/node`, `/bun`) export
 * the same resolvers.
 *
 * @example
 * ```ts
 * import { autoResolver, cachingResolver } from "@eyeballs/connect/dns";
 * const resolver = cachingResolver(autoResolver, { maxTtl: 60 });
 * const addresses = await resolver.resolve("localhost", 6, new AbortController().signal);
 * ```
 *
 * @module
 */

export { type CachingResolver, cachingResolver, type DnsCacheOptions, type DnsCacheStats } from "./cache.ts";
export { autoResolver } from "./auto.ts";
export { systemResolver } from "./system.ts";
export { createStubResolver, stubResolver } from "./lazy_stub.ts";
export type { StubResolver, StubResolverOptions } from "./stub.ts";
export type { ResolvedAddresses, ServiceAnswer, ServiceEndpoint, ServiceParams, ServiceRecord } from "../base/types.ts";
