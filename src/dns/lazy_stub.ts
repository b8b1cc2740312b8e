/**
 * The stub resolver, its code loaded at the first lookup rather than at
 * import: the Deno adapter resolves with getaddrinfo unless it is told to use
 * the stub, so a process that never asks for it does not load its modules.
 *
 * @module
 */

import type { Family, ResolvedAddresses, ServiceAnswer } from "../base/types.ts";
import { requireObject } from "../base/checks.ts";
import type { StubResolver, StubResolverOptions } from "./stub.ts";

/** A {@linkcode StubResolver} that forwards to the one `load` gives, loaded once, at the first lookup. */
function forwardTo(load: () => Promise<StubResolver>): StubResolver {
  let loaded: Promise<StubResolver> | undefined;
  const real = () => (loaded ??= load());
  return {
    resolveWithTtl: async (hostname: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses> =>
      (await real()).resolveWithTtl(hostname, family, signal),
    resolve: async (hostname: string, family: Family, signal: AbortSignal): Promise<string[]> =>
      (await real()).resolve(hostname, family, signal),
    resolveServices: async (
      hostname: string,
      port: number,
      signal: AbortSignal,
      scheme?: string,
    ): Promise<ServiceAnswer | undefined> => (await real()).resolveServices(hostname, port, signal, scheme),
  };
}

/**
 * Makes a stub resolver reading `resolvConf` (default /etc/resolv.conf) and
 * `hostsFile` (default /etc/hosts): the shared stub resolver's
 * `createStubResolver`, whose code loads at the first lookup. Both files are
 * read at the first lookup and again when they change. Answers carry their
 * TTL (`resolveWithTtl`).
 *
 * @example
 * ```ts
 * import { connect, createStubResolver } from "@eyeballs/connect/deno";
 * const resolver = createStubResolver({ resolvConf: "/etc/resolv.conf", hostsFile: "/etc/hosts" });
 * const conn = await connect({ hostname: "example.com", port: 443, resolver });
 * ```
 */
export function createStubResolver(options: StubResolverOptions = {}): StubResolver {
  requireObject(options as unknown, "options");
  return forwardTo(async () => (await import("./stub.ts")).createStubResolver(options));
}

/**
 * The stub resolver on the system's own files, /etc/resolv.conf and
 * /etc/hosts (the shared `stubResolver`, loaded at its first lookup): DNS
 * over UDP (TCP when truncated) to the nameservers, no thread pool.
 *
 * @example
 * ```ts
 * import { connect, stubResolver } from "@eyeballs/connect/deno";
 * const conn = await connect({ hostname: "example.com", port: 443, resolver: stubResolver });
 * ```
 */
export const stubResolver: StubResolver = forwardTo(async () => (await import("./stub.ts")).stubResolver);
