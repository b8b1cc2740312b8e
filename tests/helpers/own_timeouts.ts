/**
 * Counting eyeballs' own `setTimeout` calls: on Deno the first one in a process loads its node:timers, so the paths
 * that a first connect takes there must set none.
 */

/**
 * Runs `body` with `setTimeout` counting the calls made from eyeballs' sources (a stack through `/src/`), then puts the
 * real one back; resolves to `body`'s result and the count.
 *
 * @example
 * ```ts
 * const { result, calls } = await countOwnTimeouts(() => connect({ hostname: "localhost", port }));
 * ```
 */
export async function countOwnTimeouts<T>(body: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const g = globalThis as unknown as { setTimeout: (...args: unknown[]) => unknown };
  const real = g.setTimeout;
  let calls = 0;
  g.setTimeout = (...args: unknown[]) => {
    if (new Error().stack?.includes("/src/")) calls++;
    return real(...args);
  };
  try {
    return { result: await body(), calls };
  } finally {
    g.setTimeout = real;
  }
}
