/**
 * One benchmark client process, run inside the lab's client namespace:
 *
 *   client.ts eyeballs|native HOST PORT REPEAT TIMEOUT_MS [HISTORY]
 *
 * HOST may be a comma-separated list: connect i goes to its (i mod n)th
 * name (bench/lazy_eye.ts warms history with other hosts this way).
 *
 * HISTORY (eyeballs only): `off` for `history: false`, a file name for a
 * FileHistory there; omitted, the library's default (in memory).
 *
 * Connects REPEAT times in a row (closing each connection before the next,
 * as a library user would) and prints one JSON line per connect:
 * `{"i":0,"ok":true,"ms":12.3,"address":"2001:db8::10"}` or
 * `{"i":0,"ok":false,"ms":...,"timeout":true,"error":"..."}`. The first line
 * describes the process (`{"meta":{...}}`).
 *
 * Works on Deno and Bun from source and on Node from the compiled copy.
 *
 * @module
 */

import { type Connector, exit, eyeballsConnector, nativeConnector, netDefaults, runtimeVersion } from "./connectors.ts";

async function main(argv: string[]): Promise<number> {
  const [mode, host, portText, repeatText, timeoutText, history] = argv;
  const port = Number(portText);
  const repeat = Number(repeatText);
  const timeoutMs = Number(timeoutText);
  if ((mode !== "eyeballs" && mode !== "native") || !host || !(port > 0) || !(repeat > 0) || !(timeoutMs > 0)) {
    console.error("usage: client.ts eyeballs|native HOST PORT REPEAT TIMEOUT_MS [off|HISTORY_FILE]");
    return 2;
  }
  const hosts = host.split(",");
  const dial: Connector = mode === "eyeballs" ? await eyeballsConnector(history) : nativeConnector();
  console.log(JSON.stringify({ meta: { runtime: runtimeVersion(), mode, net: netDefaults() } }));
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    try {
      const conn = await dial(hosts[i % hosts.length], port, timeoutMs);
      const ms = performance.now() - t0;
      conn.close();
      console.log(JSON.stringify({ i, ok: true, ms, address: conn.address }));
    } catch (e) {
      const ms = performance.now() - t0;
      const err = e as { name?: string; code?: string; message?: string };
      const timeout = err?.name === "TimeoutError";
      console.log(
        JSON.stringify({ i, ok: false, ms, timeout, error: err?.code ?? String(err?.message ?? e).split("\n")[0] }),
      );
      // A connect that hangs this long would hang again: stop here, and leave
      // at once (a pending Bun.connect cannot be cancelled).
      if (timeout) return 0;
    }
  }
  return 0;
}

// Argument vector after the script, the same on every runtime.
const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
exit(await main(args));
