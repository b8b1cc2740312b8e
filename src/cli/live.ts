/**
 * The CLI's live view on a terminal: while the race runs, one line per
 * attempt (which address, pending for how long, or how it ended), redrawn
 * in place; erased when the race is over, so the static timeline follows.
 *
 * @module
 */

import { reasonOf } from "../base/errors.ts";
import type { ConnectEvent, Family } from "../base/types.ts";

const bracketed = (address: string, family: Family) => (family === 6 ? `[${address}]` : address);
const ms = (value: number) => `${value.toFixed(0)} ms`;

/**
 * The live lines at `nowMs` (ms since the connect started), from the
 * events so far: how each family resolved (and the HTTPS/SVCB records:
 * how many, each endpoint skipped and each record ignored, with why), then
 * each attempt as pending (with its age) or ended (with its outcome and
 * reason).
 */
export function renderLive(events: readonly ConnectEvent[], nowMs: number, options: LiveOptions = {}): string[] {
  const resolved: string[] = [];
  const notes: string[] = [];
  const rows = new Map<number, string[]>();
  for (const event of events) {
    if (event.type === "service-records") {
      const usable = event.records.filter((r) => r.priority > 0).length;
      const ignored = event.skipped.length ? `, ${event.skipped.length} ignored` : "";
      resolved.push(`HTTPS: ${usable} record${usable === 1 ? "" : "s"}${ignored}`);
      for (const { reason } of event.skipped) notes.push(`HTTPS record ignored: ${reason}`);
    } else if (event.type === "endpoint-skipped") {
      notes.push(`HTTPS endpoint ${event.target} (priority ${event.priority}) skipped: ${event.reason}`);
    } else if (event.type === "hints-replaced" && event.dropped.length) {
      notes.push(`hints for ${event.target} dropped: ${event.dropped.join(", ")}`);
    } else if (event.type === "resolved") {
      resolved.push(`IPv${event.family}: ${event.addresses.length} address${event.addresses.length === 1 ? "" : "es"}`);
    } else if (event.type === "resolve-failed") {
      resolved.push(`IPv${event.family}: failed (${reasonOf(event.error)})`);
    } else if ("attempt" in event && event.type !== "late-connection-closed") {
      const { attempt } = event;
      const where = `#${attempt.index + 1} ${bracketed(attempt.address, attempt.family)}`;
      if (event.type === "attempt-start") {
        rows.set(attempt.index, [where, options.tls ? "pending (TCP, then TLS)" : "pending", ms(nowMs - event.atMs)]);
      } else {
        const outcome = event.type.slice("attempt-".length);
        const why = event.type === "attempt-failed" ? `: ${reasonOf(event.error)}` : "";
        rows.set(attempt.index, [where, outcome, `after ${ms(event.atMs - attempt.startMs)}${why}`]);
      }
    }
  }
  const head = `  ${resolved.length ? `resolved ${resolved.join(", ")}` : "resolving…"} (${ms(nowMs)})`;
  const table = [...rows.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
  const width = [0, 1].map((i) => Math.max(0, ...table.map((r) => r[i].length)));
  return [
    head,
    ...notes.map((n) => `  ${n}`),
    ...table.map((r) => `  ${r[0].padEnd(width[0])}  ${r[1].padEnd(width[1])}  ${r[2]}`),
  ];
}

/** What the live view shows besides the race. */
export interface LiveOptions {
  /** `--tls`: an attempt is pending until its TLS handshake is done. */
  readonly tls?: boolean;
}

/**
 * Where a live view draws, and its clock.
 */
export interface LiveTarget {
  /** Writes raw text (escape codes included) to the terminal. */
  write(text: string): void;
  /** Milliseconds since the connect started. */
  now(): number;
}

/**
 * Redraws every this many ms, so pending attempts' ages count up.
 */
export const LIVE_REFRESH_MS = 100;

/**
 * A live view in progress: {@linkcode LiveView.update} redraws it in place
 * (cursor up, clear to the end of the screen), {@linkcode LiveView.stop}
 * erases it.
 */
export class LiveView {
  #events: readonly ConnectEvent[] = [];
  #drawn = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #target: LiveTarget;
  readonly #options: LiveOptions;

  /** Starts redrawing every {@linkcode LIVE_REFRESH_MS} (the timer does not keep the process alive). */
  constructor(target: LiveTarget, refresh = true, options: LiveOptions = {}) {
    this.#target = target;
    this.#options = options;
    if (refresh) {
      this.#timer = setInterval(() => this.#draw(), LIVE_REFRESH_MS);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Draws the view for the events so far. */
  update(events: readonly ConnectEvent[]): void {
    this.#events = events;
    this.#draw();
  }

  /** Stops redrawing and erases the view. */
  stop(): void {
    clearInterval(this.#timer);
    this.#target.write(this.#erase());
    this.#drawn = 0;
  }

  #erase(): string {
    // To the first column of the first drawn line, then clear to the end of the screen.
    return this.#drawn ? `\x1b[${this.#drawn}F\x1b[J` : "\r\x1b[J";
  }

  #draw(): void {
    const lines = renderLive(this.#events, this.#target.now(), this.#options);
    this.#target.write(this.#erase() + lines.join("\n") + "\n");
    this.#drawn = lines.length;
  }
}
