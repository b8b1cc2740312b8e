/**
 * The first connect of a fresh process, taken apart. One measurement per
 * process:
 *
 *   first_runner.ts native|node-net|eyeballs HOST PORT   the import, then two connects in a row
 *                                               (native: the runtime's own connect; node-net: `node:net`)
 *   first_runner.ts module SPECIFIER            the first import of one runtime module (node:dns, …)
 *   first_runner.ts part NAME                   the first use of one thing a name's first connect needs
 *                                               (PARTS below), in a fresh process
 *   first_runner.ts timeline HOST PORT          eyeballs' first connect with its race's events (`events`:
 *                                               [type, atMs, family]) and `callMs`, the call to the race's start
 *
 * Prints one JSON line: `startMs` (the runner's first line, from the
 * process's time origin), `importMs` (loading the eyeballs adapter; for
 * native, `node:net` on Node and nothing on Deno and Bun), `connectMs` (the
 * first connect, lookup included), `totalMs` (from the import to the
 * first connected socket), `secondMs` (a second connect in the same process,
 * after closing the first: what a warm connect costs there).
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
  if (what === "part") {
    const part = PARTS[host];
    const before = await part.before?.();
    const t = performance.now();
    await part.run(before);
    return { startMs, module: host, importMs: performance.now() - t };
  }
  const port = Number(portText);
  if (what === "timeline") return await timeline(host, port);
  const t0 = performance.now();
  const connect = await connector(what);
  const importMs = performance.now() - t0;
  const close = await connect(host, port);
  const done = performance.now();
  close();
  const t2 = performance.now();
  (await connect(host, port))();
  const secondMs = performance.now() - t2;
  return { startMs, variant: what, host, importMs, connectMs: done - t0 - importMs, totalMs: done - t0, secondMs };
}

type Connect = (host: string, port: number) => Promise<() => void>;

/** The first connect through `connectWithTimeline`, the import apart: where its time goes, by the race's events. */
async function timeline(host: string, port: number): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const mod = await import(`../src/adapters/${runtime}/mod.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`);
  const importMs = performance.now() - t0;
  const events: [string, number, number?][] = [];
  let firstEventAt: number | undefined;
  const t1 = performance.now();
  const where = runtime === "node" ? { host } : { hostname: host };
  const connected = await mod.connectWithTimeline({
    ...where,
    port,
    onEvent: (e: { type: string; atMs: number; family?: number }) => {
      firstEventAt ??= performance.now();
      events.push([e.type, e.atMs, e.family]);
    },
  });
  const totalMs = performance.now() - t1;
  runtime === "deno" ? connected.conn.close() : connected.conn.destroy();
  return { startMs, variant: "timeline", host, importMs, totalMs, raceMs: connected.ms, events };
}

// deno-lint-ignore no-explicit-any
type Part = { before?(): any; run(before: any): unknown };
const builtin = (id: string) => g.process.getBuiltinModule(id);
const CONFIG_FILES = ["/etc/nsswitch.conf", "/etc/resolv.conf", "/etc/hosts"];

/** The first use of each thing, timed alone; `before` (untimed) loads what it needs first. */
const PARTS: Record<string, Part> = {
  "first setTimeout": { run: () => clearTimeout(setTimeout(() => {}, 1000)) },
  // Deno sets up its Node-compatible `process` at the first touch (node:dns's lookup touches it).
  "first touch of process": { run: () => g.process.pid },
  "crypto.getRandomValues": { run: () => crypto.getRandomValues(new Uint16Array(1)) },
  "network interfaces": {
    run: () => runtime === "deno" ? g.Deno.networkInterfaces() : builtin("node:os").networkInterfaces(),
  },
  "read nsswitch.conf, resolv.conf, hosts": {
    before: () => runtime === "node" ? builtin("node:fs") : undefined,
    run: (fs) =>
      Promise.all(
        CONFIG_FILES.map((f) =>
          runtime === "bun"
            ? g.Bun.file(f).text()
            : runtime === "deno"
            ? g.Deno.readTextFileSync(f)
            : fs.readFileSync(f)
        ),
      ),
  },
  "dns.lookup (first call, an IP)": {
    before: () => import("node:dns"),
    run: (dns) => new Promise((resolve) => dns.lookup("192.0.2.1", { family: 4, all: true }, resolve)),
  },
  // One datagram to the discard port on loopback, the module included: Bun.udpSocket on Bun (what the stub
  // resolver uses there), node:dgram elsewhere.
  "UDP socket, one datagram sent": {
    run: async () => {
      if (runtime === "bun") {
        const socket = await g.Bun.udpSocket({ socket: { data() {} } });
        socket.send(new Uint8Array(12), 9, "127.0.0.1");
        return socket.close();
      }
      const dgram = await import("node:dgram");
      const socket = dgram.createSocket("udp4");
      await new Promise((resolve) => socket.send(new Uint8Array(12), 9, "127.0.0.1", resolve));
      socket.close();
    },
  },
};

/** Loads what `what` connects with (timed by the caller as the import) and returns its connect. */
async function connector(what: string): Promise<Connect> {
  if (what === "native" || what === "node-net") {
    if (runtime === "deno" && what === "native") {
      return async (hostname, port) => {
        const conn = await g.Deno.connect({ hostname, port });
        return () => conn.close();
      };
    }
    if (runtime === "bun" && what === "native") {
      return async (hostname, port) => {
        const socket = await g.Bun.connect({ hostname, port, socket: { data() {}, error() {} } });
        return () => socket.end();
      };
    }
    const net = await import("node:net");
    return async (host, port) => {
      const socket = net.connect({ host, port });
      await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      return () => socket.destroy();
    };
  }
  const path = `../src/adapters/${runtime}/mod.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`;
  const mod = await import(path);
  if (runtime === "deno") {
    return async (hostname, port) => {
      const conn = await mod.connect({ hostname, port });
      return () => conn.close();
    };
  }
  return async (host, port) => {
    const socket = await mod.connect(runtime === "node" ? { host, port } : { hostname: host, port });
    return () => socket.destroy();
  };
}

const result = await main();
console.log(JSON.stringify({ runtime, ...result }));
if (g.Deno) g.Deno.exit(0);
else g.process.exit(0);
