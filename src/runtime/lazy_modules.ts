/**
 * Runtime modules loaded on first use, not at import: a connect to an IP
 * literal never needs `node:dns`, `node:dgram` or `node:fs`, and each costs
 * a fresh process time to load (docs/performance.md). Each is loaded once:
 * on Node and Bun with `process.getBuiltinModule` (no ES module namespace to
 * build), on Deno with `import()` (its `process` global is slow to set up).
 *
 * @module
 */

type Dns = typeof import("node:dns");
type Dgram = typeof import("node:dgram");
type Fs = typeof import("node:fs");
type Net = typeof import("node:net");

/**
 * A runtime module loaded synchronously at its first use, for code that cannot await (FileHistory's sync
 * store, the per-connect source addresses): `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno 2).
 */
export function builtinModule<T>(id: string): T {
  return (globalThis as unknown as { process: { getBuiltinModule(id: string): T } }).process.getBuiltinModule(id);
}

/** `process` on Node and Bun when it has `getBuiltinModule`; undefined on Deno, where touching it sets it up. */
const builtins = (globalThis as { Deno?: unknown }).Deno === undefined
  ? (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process
  : undefined;

/** The module `id` from the runtime's table when it has one, else from `load` (an `import()` of the same id). */
function loadBuiltin<T>(id: string, load: () => Promise<T>): Promise<T> {
  return builtins?.getBuiltinModule ? Promise.resolve(builtins.getBuiltinModule(id) as T) : load();
}

let dns: Promise<Dns> | undefined;
let dgram: Promise<Dgram> | undefined;
let fs: Promise<Fs> | undefined;
let net: Promise<Net> | undefined;

/**
 * `node:dns`, loaded at the first call.
 */
export const nodeDns = (): Promise<Dns> => (dns ??= loadBuiltin("node:dns", () => import("node:dns")));

/**
 * `node:dgram`, loaded at the first call.
 */
export const nodeDgram = (): Promise<Dgram> => (dgram ??= loadBuiltin("node:dgram", () => import("node:dgram")));

/**
 * `node:fs`, loaded at the first call.
 */
export const nodeFs = (): Promise<Fs> => (fs ??= loadBuiltin("node:fs", () => import("node:fs")));

/**
 * `node:net`, loaded at the first call (the stub resolver needs it only for truncated answers).
 */
export const nodeNet = (): Promise<Net> => (net ??= loadBuiltin("node:net", () => import("node:net")));

let fill: ((bytes: Uint16Array) => Uint16Array) | undefined;

/**
 * Fills `bytes` from the runtime's CSPRNG by its cheapest first use: `node:crypto` on Node, whose Web Crypto sets
 * itself up at its first call, and Web Crypto on Deno and Bun, where loading `node:crypto` costs more
 * (docs/performance.md).
 */
export function randomFill(bytes: Uint16Array): Uint16Array {
  if (fill === undefined) {
    const onNode = builtins?.getBuiltinModule && (globalThis as { Bun?: unknown }).Bun === undefined;
    const nodeCrypto = onNode ? builtins!.getBuiltinModule!("node:crypto") as typeof import("node:crypto") : undefined;
    fill = nodeCrypto ? (b) => nodeCrypto.randomFillSync(b) : (b) => crypto.getRandomValues(b);
  }
  return fill(bytes);
}
