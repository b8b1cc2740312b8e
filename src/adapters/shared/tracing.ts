/**
 * The race on `node:diagnostics_channel`, as undici and `net` publish theirs, so APM and OpenTelemetry
 * instrumentation see races without an `onEvent` callback. Channels:
 *
 * - `eyeballs:connect:start`: `{ host, port }`, when a connect begins;
 * - `eyeballs:attempt:start`: `{ host, port, attempt }`, as each attempt starts;
 * - `eyeballs:attempt:end`: `{ host, port, attempt, outcome, error? }`, as each attempt ends (won, failed, lost,
 *   aborted);
 * - `eyeballs:connect:end`: `{ host, port, address, family, ms, attempts }`, with the winner;
 * - `eyeballs:connect:error`: `{ host, port, error }`, when the connect fails.
 *
 * Published on Node and Bun. Deno is left out: loading its `node:diagnostics_channel` sets up its Node-compatible
 * `process`, which would cost every first connect (docs/performance.md). With no subscriber nothing is built.
 *
 * @module
 */

import type { ConnectEvent } from "../../base/types.ts";
import type { Connected } from "../../connect/options.ts";

/**
 * The channel names, for `diagnostics_channel.subscribe`.
 *
 * @example
 * ```ts
 * import dc from "node:diagnostics_channel";
 * import { TRACE_CHANNELS } from "@eyeballs/connect/node";
 * dc.subscribe(TRACE_CHANNELS.connectEnd, (message) => console.log(message));
 * ```
 */
export const TRACE_CHANNELS = {
  connectStart: "eyeballs:connect:start",
  attemptStart: "eyeballs:attempt:start",
  attemptEnd: "eyeballs:attempt:end",
  connectEnd: "eyeballs:connect:end",
  connectError: "eyeballs:connect:error",
} as const;

interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

let channels: Record<keyof typeof TRACE_CHANNELS, Channel> | null | undefined;
/** The same channels as a list, made once: the check below runs on every connect. */
let channelList: readonly Channel[] = [];

/** The channels, made once, where the runtime has them cheaply (Node, Bun); null elsewhere. */
function traceChannels(): Record<keyof typeof TRACE_CHANNELS, Channel> | null {
  if (channels !== undefined) return channels;
  const g = globalThis as { Deno?: unknown; process?: { getBuiltinModule?(id: string): unknown } };
  const dc = g.Deno === undefined
    ? g.process?.getBuiltinModule?.("node:diagnostics_channel") as { channel(name: string): Channel } | undefined
    : undefined;
  channels = dc
    ? Object.fromEntries(
      Object.entries(TRACE_CHANNELS).map(([key, name]) => [key, dc.channel(name)]),
    ) as Record<keyof typeof TRACE_CHANNELS, Channel>
    : null;
  channelList = channels ? Object.values(channels) : [];
  return channels;
}

/** True when any channel has a subscriber; no allocation, since it runs on every connect. */
function anySubscriber(): boolean {
  for (let i = 0; i < channelList.length; i++) if (channelList[i].hasSubscribers) return true;
  return false;
}

/** What one traced connect publishes; undefined when nobody listens (the connect then pays nothing). */
export interface Trace {
  /** Chained before the caller's own `onEvent`. */
  onEvent(event: ConnectEvent): void;
  /** The outcome of the connect, published once. */
  settle<Conn>(outcome: Promise<Connected<Conn> | Conn>): void;
}

const ENDS: Record<string, string> = {
  "attempt-failed": "failed",
  "attempt-won": "won",
  "attempt-lost": "lost",
  "attempt-aborted": "aborted",
};

/** Starts tracing one connect to `host:port` if anyone subscribes to any channel. */
export function startTrace(host: string, port: number): Trace | undefined {
  const c = traceChannels();
  if (!c || !anySubscriber()) return undefined;
  if (c.connectStart.hasSubscribers) c.connectStart.publish({ host, port });
  return {
    onEvent(event) {
      if (event.type === "attempt-start" && c.attemptStart.hasSubscribers) {
        c.attemptStart.publish({ host, port, attempt: event.attempt });
      } else if (event.type in ENDS && c.attemptEnd.hasSubscribers) {
        const { attempt } = event as { attempt: unknown; error?: unknown };
        const error = (event as { error?: unknown }).error;
        c.attemptEnd.publish({ host, port, attempt, outcome: ENDS[event.type], ...(error !== undefined && { error }) });
      }
    },
    settle(outcome) {
      outcome.then((result) => {
        if (!c.connectEnd.hasSubscribers) return;
        const { address, family, ms, attempts } = result as Connected<unknown>;
        c.connectEnd.publish({ host, port, address, family, ms, attempts });
      }, (error) => {
        if (c.connectError.hasSubscribers) c.connectError.publish({ host, port, error });
      });
    },
  };
}
