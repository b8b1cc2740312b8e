/** A scripted dialer for race tests, timed by a fake clock. */

import type { Clock, Dialer, Target } from "../../src/base/types.ts";

/** What dialing one address does, `after` ms after the dial starts. */
export type Script =
  | { connect: number }
  | { fail: number; code?: string }
  | { hang: true };

/** A fake connection; `closed` tells whether the race closed it. */
export interface FakeConn {
  readonly address: string;
  closed: boolean;
}

/** A dialer that follows `scripts` per address and records everything. */
export class FakeDialer implements Dialer<FakeConn> {
  readonly dialed: string[] = [];
  readonly conns: FakeConn[] = [];
  readonly signals = new Map<string, AbortSignal>();
  readonly #clock: Clock;
  readonly #scripts: Record<string, Script>;

  constructor(clock: Clock, scripts: Record<string, Script>) {
    this.#clock = clock;
    this.#scripts = scripts;
  }

  dial(target: Target, signal: AbortSignal): Promise<FakeConn> {
    this.dialed.push(target.address);
    this.signals.set(target.address, signal);
    const script = this.#scripts[target.address] ?? { hang: true };
    return new Promise((resolve, reject) => {
      let cancel = () => {};
      signal.addEventListener("abort", () => {
        cancel();
        reject(signal.reason);
      }, { once: true });
      if ("connect" in script) {
        cancel = this.#clock.setTimer(() => {
          const conn = { address: target.address, closed: false };
          this.conns.push(conn);
          resolve(conn);
        }, script.connect);
      } else if ("fail" in script) {
        cancel = this.#clock.setTimer(() => {
          reject(Object.assign(new Error(`connect ${script.code ?? "ECONNREFUSED"} ${target.address}`), {
            code: script.code ?? "ECONNREFUSED",
          }));
        }, script.fail);
      }
    });
  }

  close(conn: FakeConn): void {
    conn.closed = true;
  }

  /** Connections made and not closed. */
  get open(): FakeConn[] {
    return this.conns.filter((c) => !c.closed);
  }
}

/** A resolver answering from a table, each answer `after` ms late (on the fake clock). */
export function fakeResolver(
  clock: Clock,
  answers: { 4?: string[] | Error; 6?: string[] | Error; delay4?: number; delay6?: number; hang?: boolean },
) {
  const calls: number[] = [];
  return {
    calls,
    resolve(_hostname: string, family: 4 | 6, signal: AbortSignal): Promise<string[]> {
      calls.push(family);
      return new Promise((resolve, reject) => {
        let cancel = () => {};
        signal.addEventListener("abort", () => {
          cancel();
          reject(signal.reason);
        }, { once: true });
        if (answers.hang) return;
        const answer = answers[family] ?? [];
        const ms = answers[`delay${family}`] ?? 0;
        cancel = clock.setTimer(() => (answer instanceof Error ? reject(answer) : resolve(answer)), ms);
      });
    },
  };
}
