/**
 * The first connect of a fresh process, taken apart. One measurement per
 * process:
 *
 *   first_runner.ts native|eyeballs HOST PORT   import (eyeballs only), then one connect
 *   first_runner.ts module SPECIFIER            the first import of one runtime module (node:dns, …)
 *
 * Prints one JSON line: `startMs` (the runner's first line, from the
 * process's time origin), `importMs` (loading the adapter), `connectMs` (the
 * first connect, lookup included), `totalMs` (from the first line to the
 * connected socket).
 *
 * @module
 */

// Nothing is imported statically: every module this measures is loaded below, on the clock.
const startMs = performance.now();
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";

async function main(): Promise<Record<string, unknown>> {
  const [what, host, portText] = args;
  if (what === "module") {
    const t = performance.now();
    await import(host);
    return { startMs, module: host, importMs: performance.now() - t };
  }
  const port = Number(portText);
  const t0 = performance.now();
  let close: () => void;
  let importMs = 0;
  if (what === "native") {
    if (runtime === "deno") {
      const conn = await g.Deno.connect({ hostname: host, port });
      close = () => conn.close();
    } else if (runtime === "bun") {
      const socket = await g.Bun.connect({ hostname: host, port, socket: { data() {}, error() {} } });
      close = () => socket.end();
    } else {
      const net = await import("node:net");
      const socket = net.connect({ host, port });
      await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      close = () => socket.destroy();
    }
  } else {
    const path = `../src/adapters/${runtime}/mod.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`;
    const mod = await import(path);
    importMs = performance.now() - t0;
    if (runtime === "deno") {
      const conn = await mod.connect({ hostname: host, port });
      close = () => conn.close();
    } else {
      const socket = await mod.connect(runtime === "node" ? { host, port } : { hostname: host, port });
      close = () => socket.destroy();
    }
  }
  const done = performance.now();
  close();
  return { startMs, variant: what, host, importMs, connectMs: done - t0 - importMs, totalMs: done - startMs };
}

const result = await main();
console.log(JSON.stringify({ runtime, ...result }));
if (g.Deno) g.Deno.exit(0);
else g.process.exit(0);
