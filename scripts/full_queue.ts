/**
 * A TCP listener that never answers: its accept queue is full, so Linux
 * drops every new SYN and a connect to it hangs (retransmitting its SYN)
 * until the client gives up. This is how a blackholed address behaves, on
 * loopback and without root.
 *
 * Node, Deno and Bun servers accept connections on their own, which would
 * drain the queue, so the listener lives in a small `python3` child (stdlib
 * only): it binds, listens with a backlog of 0, never accepts, and fills its
 * own queue with connects. It exits when its stdin closes (so also when the
 * parent dies, whatever the cause), on SIGTERM, or when `stop()` is called.
 *
 * Only `node:child_process` is used, so this module works under Deno, Bun
 * and Node (from the npm build).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";

/**
 * The child's program. argv: host, port (0 = any free port).
 *
 * Each filler connect that completes sits in the accept queue; the first one
 * still pending after FILL_WAIT seconds proves the queue is full (its SYN
 * was dropped). Only then is the port printed.
 */
const PYTHON = String.raw`
import select, signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
listener = socket.socket(family, socket.SOCK_STREAM)
listener.bind((host, port))
listener.listen(0)
address = listener.getsockname()[:2]
FILL_WAIT = 0.2
fillers = []
for _ in range(16):
    filler = socket.socket(family, socket.SOCK_STREAM)
    filler.setblocking(False)
    filler.connect_ex(address)
    fillers.append(filler)
    _, writable, _ = select.select([], [filler], [], FILL_WAIT)
    if not writable:
        break
    if filler.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
        sys.exit("eyeballs full_queue: a filler connect failed")
else:
    sys.exit("eyeballs full_queue: the accept queue never filled up")
print(address[1], flush=True)
try:
    while sys.stdin.buffer.read(4096):
        pass
except OSError:
    pass
`;

/** How long `stop()` waits for the child to leave before it kills it. */
const STOP_GRACE_MS = 2000;

/** A running full-queue listener. */
export interface FullQueueListener {
  /** The port it listens on. */
  readonly port: number;
  /** The python child's process id (to check that it is gone). */
  readonly pid: number;
  /** Ends the listener's process; resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a listener on `host` (an IP literal, e.g. `"::1"` or
 * `"127.0.0.1"`; not a name) whose accept queue is full: connects to it hang. `port`
 * defaults to 0, any free port. Rejects if python3 is missing or the bind
 * fails (the message carries python's error).
 *
 * The child does not keep the calling process alive: a forgotten listener
 * ends with its parent. Call `stop()` to end it earlier.
 *
 * @example
 * ```ts
 * import { startFullQueueListener } from "./full_queue.ts";
 * const dead = await startFullQueueListener("::1");
 * // net.connect({ host: "::1", port: dead.port }) now hangs
 * await dead.stop();
 * ```
 */
export function startFullQueueListener(host: string, port = 0): Promise<FullQueueListener> {
  // An IP literal only: a name would send python to DNS.
  if (
    typeof host !== "string" || !(/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || /^[\da-fA-F:.]*:[\da-fA-F:.]*$/.test(host))
  ) {
    return Promise.reject(new TypeError(`host must be an IP address literal, got ${JSON.stringify(host)}`));
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new RangeError(`port must be an integer from 0 to 65535, got ${port}`));
  }
  const child = spawn("python3", ["-c", PYTHON, host, String(port)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return new Promise<FullQueueListener>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const fail = (why: string) => {
      child.kill("SIGKILL");
      reject(new Error(`full-queue listener on ${host} port ${port}: ${why}`));
    };
    child.once("error", (e) => fail(e.message)); // python3 missing
    // A pipe to a child that died (EPIPE) must not crash the parent.
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.on("error", () => {});
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => (stderr += text));
    child.stdout!.setEncoding("utf8");
    const onData = (text: string) => {
      stdout += text;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      child.stdout!.off("data", onData);
      child.off("exit", onEarlyExit);
      const bound = Number(stdout.slice(0, newline));
      if (!Number.isInteger(bound) || bound <= 0) return fail(`unexpected output ${JSON.stringify(stdout)}`);
      release(child);
      let stopping: Promise<void> | undefined;
      resolve({ port: bound, pid: child.pid!, stop: () => (stopping ??= stop(child, exited)) });
    };
    const onEarlyExit = () => {
      // Let the last stderr chunk arrive before reporting it.
      setTimeout(() => fail(lastLine(stderr) || `python3 exited with ${child.exitCode ?? child.signalCode}`), 20);
    };
    child.stdout!.on("data", onData);
    child.once("exit", onEarlyExit);
  });
}

/** The last non-empty line of python's stderr: the exception, without the traceback. */
function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}

/**
 * Lets the parent exit while the listener runs: the child and its pipes no
 * longer hold the event loop. When the parent exits, the child's stdin
 * closes and it leaves too.
 */
function release(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

/** Closes the child's stdin (its cue to leave), and kills it if it lingers. Never waits forever. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.ref(); // keep the parent alive until the child is really gone
  child.stdin?.end();
  if (await within(exited, STOP_GRACE_MS)) return;
  child.kill("SIGKILL");
  await within(exited, STOP_GRACE_MS); // SIGKILL cannot fail; a lost exit event must not hang the caller
}

/** Whether `promise` settles within `ms`; the timer is cleared either way. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
