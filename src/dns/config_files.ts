/**
 * Reading the resolver's small configuration files (/etc/resolv.conf,
 * /etc/hosts, /etc/nsswitch.conf) with each runtime's cheapest call: Bun's
 * `Bun.file`, Deno's `Deno.readTextFileSync`, Node's `node:fs`: loading
 * `node:fs` costs a fresh Bun or Deno process far more than reading the
 * files (docs/performance.md). The permissions are the same (Deno:
 * `--allow-read`).
 *
 * @module
 */

import { nodeFs } from "../runtime/lazy_modules.ts";

interface BunFiles {
  file(path: string): { text(): Promise<string>; readonly lastModified: number };
}
interface DenoFiles {
  readTextFileSync(path: string): string;
  statSync(path: string): { mtime: Date | null };
  errors: { NotFound: new (...args: never[]) => Error };
}

const bun = (globalThis as { Bun?: Partial<BunFiles> }).Bun;
const deno = (globalThis as { Deno?: Partial<DenoFiles> }).Deno;

/**
 * The file's text; "" when it does not exist (glibc's defaults apply). Any
 * other error (no permission: Deno without `--allow-read`) is thrown.
 */
export async function readConfigText(path: string): Promise<string> {
  try {
    if (bun?.file) return await bun.file(path).text();
    if (deno?.readTextFileSync) return deno.readTextFileSync(path);
    return (await nodeFs()).readFileSync(path, "utf8");
  } catch (error) {
    if (isNotFound(error)) return "";
    throw error;
  }
}

/**
 * A value that changes when the file is modified, created or removed
 * (its modification time; a constant when it does not exist or cannot be read).
 */
export async function configStamp(path: string): Promise<number> {
  try {
    if (bun?.file) return bun.file(path).lastModified;
    if (deno?.statSync) return deno.statSync(path).mtime?.getTime() ?? -1;
    return (await nodeFs()).statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function isNotFound(error: unknown): boolean {
  if (deno?.errors && error instanceof deno.errors.NotFound) return true;
  return (error as { code?: string } | null)?.code === "ENOENT";
}

/** How often, at most, the files' stamps are looked at again, in ms. */
export const RECHECK_MS = 2000;

/**
 * A value made from configuration files by `read`, made once and again only when one of `paths` has changed (their
 * stamps are looked at every {@linkcode RECHECK_MS} at most). Concurrent callers share one reading; a reading that
 * throws rejects its callers and is tried again at the next call. `first`: a value already read (at `now()`).
 */
export function watchConfig<T>(
  paths: readonly string[],
  read: () => Promise<T>,
  { first, now = () => performance.now() }: { first?: T; now?: () => number } = {},
): () => Promise<T> {
  let value = first;
  let stamp: string | undefined; // taken before `value` was read; none for a first reading
  let checkedAt = first === undefined ? -Infinity : now();
  let loading: Promise<T> | undefined;
  const reload = async (): Promise<T> => {
    checkedAt = now();
    // The first reading takes no stamp (a fresh process's first stat is slow): the next check stamps the files,
    // then reads them again.
    const current = value === undefined ? undefined : (await Promise.all(paths.map(configStamp))).join(" ");
    if (value === undefined || current !== stamp) {
      value = await read();
      stamp = current;
    }
    return value;
  };
  return () =>
    value !== undefined && now() - checkedAt < RECHECK_MS
      ? Promise.resolve(value)
      : (loading ??= reload().finally(() => loading = undefined));
}
