/** A manual clock for schedule tests: time moves only when the test says so. */

import type { Clock } from "../../src/base/types.ts";

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
}

/** Lets every pending promise callback run (one macrotask turn, a few times over). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Lets pending promise callbacks run without any real timer: `turns` microtask
 * turns. Enough for code whose only waits are promises and the fake clock.
 */
export async function drainMicrotasks(turns = 200): Promise<void> {
  for (let i = 0; i < turns; i++) await null;
}

/** A fake {@linkcode Clock}: `advance()` fires due timers in time order. */
export class FakeClock implements Clock {
  readonly #lateness: (ms: number, index: number) => number;
  #now = 0;
  #seq = 0;
  #timers = new Set<Timer>();

  /**
   * `lateness` ms are added to every timer, as a busy event loop fires timers
   * late; a function gets each timer's delay and index (0 for the first timer
   * set) and returns its lateness, for uneven stalls.
   */
  constructor(options: { lateness?: number | ((ms: number, index: number) => number) } = {}) {
    const { lateness = 0 } = options;
    this.#lateness = typeof lateness === "number" ? () => lateness : lateness;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const seq = this.#seq++;
    const timer = { at: this.#now + ms + this.#lateness(ms, seq), seq, callback };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing each due timer at its own time, in the
   * order they were set when due together, and letting promises settle after
   * each one, as the runtimes drain microtasks between timer callbacks.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!due.length) break;
      this.#now = due[0].at;
      const [timer] = due;
      this.#timers.delete(timer);
      timer.callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /**
   * Jumps from timer to timer (draining microtasks after each) until `done()`
   * holds, no timer is left, or the next is due after `horizon`. Fast: no
   * real timer is waited for, so code under test must not use any.
   */
  async runUntil(done: () => boolean, horizon = Infinity): Promise<void> {
    await drainMicrotasks();
    while (!done()) {
      const [timer] = [...this.#timers].sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!timer || timer.at > horizon) return;
      this.#now = Math.max(this.#now, timer.at);
      this.#timers.delete(timer);
      timer.callback();
      await drainMicrotasks();
    }
  }
}
