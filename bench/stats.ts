/**
 * Small statistics and formatting helpers for the benchmark tables.
 *
 * @module
 */

/** One connect as a client process reported it. */
export interface Sample {
  readonly ok: boolean;
  readonly ms: number;
  readonly timeout?: boolean;
  readonly error?: string;
  readonly address?: string;
}

/** The median of numbers (NaN for none). Infinity is allowed and sorts last. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2) return sorted[mid];
  const [a, b] = [sorted[mid - 1], sorted[mid]];
  return a === Infinity || b === Infinity ? Infinity : (a + b) / 2;
}

/**
 * The median connect of some samples, where a failed connect counts as
 * slower than any success. Returns the time, or the failure the median
 * landed on (so a mostly-hanging client reads "timeout", not a number).
 */
export function sampleMedian(samples: readonly Sample[]): { ms: number; failure?: string } {
  if (samples.length === 0) return { ms: NaN };
  const ms = median(samples.map((s) => (s.ok ? s.ms : Infinity)));
  if (ms !== Infinity) return { ms };
  const failed = samples.filter((s) => !s.ok);
  const timeout = failed.some((s) => s.timeout);
  return { ms, failure: timeout ? "timeout" : failed[0]?.error ?? "failed" };
}

/** Milliseconds for a table cell: "0.42 ms", "12.3 ms", "205 ms", "1.23 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** A median cell: the time, "> 10 s (timeout)", or "fail: CODE", plus a count of failures when some. */
export function formatMedian(samples: readonly Sample[], timeoutMs: number): string {
  if (samples.length === 0) return "—";
  const { ms, failure } = sampleMedian(samples);
  const bad = samples.filter((s) => !s.ok).length;
  const note = bad ? ` (${bad}/${samples.length} failed)` : "";
  if (failure === "timeout") return `> ${timeoutMs / 1000} s (timeout)${bad < samples.length ? note : ""}`;
  if (failure) return `fail: ${failure.slice(0, 40)}${bad < samples.length ? note : ""}`;
  return formatMs(ms) + note;
}

/** eyeballs median / native median, bounded when one side did not connect. */
export function formatRatio(eye: readonly Sample[], native: readonly Sample[], timeoutMs: number): string {
  if (eye.length === 0 || native.length === 0) return "—";
  const e = sampleMedian(eye);
  const n = sampleMedian(native);
  if (Number.isFinite(e.ms) && Number.isFinite(n.ms)) return `${(e.ms / n.ms).toFixed(2)}×`;
  // The native connect hung: it took at least the cap.
  if (Number.isFinite(e.ms) && n.failure === "timeout") return `< ${(e.ms / timeoutMs).toFixed(2)}×`;
  return "n/a";
}
