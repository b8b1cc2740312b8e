/**
 * Real database servers for the driver tests: PostgreSQL 15, MariaDB 10.11
 * and Redis 7 from Debian packages, installed here when running as root
 * (apt-get update once, then install; fast when already installed), started
 * on 127.0.0.1 only, on free ports, with their data in a temp dir, and
 * stopped afterwards (SIGKILL as the last resort: nothing is left running).
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const POSTGRES = "/usr/lib/postgresql/15/bin/postgres";
const INITDB = "/usr/lib/postgresql/15/bin/initdb";
const MARIADBD = "/usr/sbin/mariadbd";
const MARIADB_INSTALL_DB = "/usr/bin/mariadb-install-db";
const REDIS = "/usr/bin/redis-server";
/** By its path, like the servers: root's PATH may lack /usr/sbin (`su` without `-`, a bare CI environment). */
const RUNUSER = "/usr/sbin/runuser";
const PACKAGES = ["postgresql-15", "mariadb-server", "redis-server"];

/** Why the real-server tests cannot run here, or undefined when the servers are installed (installing them if needed). */
export function serversUnavailable(): string | undefined {
  return debianPackagesUnavailable(
    PACKAGES,
    [POSTGRES, INITDB, MARIADBD, MARIADB_INSTALL_DB, REDIS],
    "real-server tests",
  );
}

/**
 * Why `files` are missing for `what`, or undefined once they are there: installs Debian's `packages` with apt-get
 * when some file is missing and this process is root (apt-get update once, then install; fast when installed).
 */
export function debianPackagesUnavailable(
  packages: readonly string[],
  files: readonly string[],
  what: string,
): string | undefined {
  const missing = () => files.filter((f) => !existsSync(f));
  if (missing().length === 0) return undefined;
  if (process.getuid?.() !== 0) return `skip: ${what} need root to install ${packages.join(", ")}`;
  // dpkg needs the sbin folders on PATH (ldconfig, start-stop-daemon), which a bare environment may lack.
  const path = [process.env.PATH, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"].filter(Boolean);
  const env = { ...process.env, PATH: path.join(":"), DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { env, stdio: "ignore", timeout: 300_000 });
  const install = update.status === 0 &&
    spawnSync("apt-get", ["install", "-y", "-qq", ...packages], { env, stdio: "ignore", timeout: 600_000 });
  if (!install || install.status !== 0 || missing().length > 0) {
    return `skip: apt-get could not install ${packages.join(", ")} (missing ${missing().join(", ")})`;
  }
  return undefined;
}

/** A running server. */
export interface RealServer {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 whose number is also free on ::1 (the dead first address goes there). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = net.createServer().once("error", reject).listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const v6Free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer().once("error", () => resolve(false)).listen(port, "::1", () => {
        probe.close(() => resolve(true));
      });
    });
    if (v6Free) return port;
  }
  throw new Error("no free port on both 127.0.0.1 and ::1");
}

/** Waits until something accepts on 127.0.0.1:port, or the child exits, or 30 s pass. */
async function accepting(port: number, child: ChildProcess, name: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${log().slice(-800)}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not accept on port ${port} within 30 s: ${log().slice(-800)}`);
}

/** Starts `command` and returns a server handle whose stop() ends it (and its data dir). */
async function start(
  name: string,
  port: number,
  dir: string,
  command: string,
  args: string[],
  signal: NodeJS.Signals = "SIGTERM",
): Promise<RealServer> {
  let output = "";
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    })();
  try {
    await accepting(port, child, name, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, port, stop };
}

/** Runs a setup command, throwing its output when it fails. */
function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed: ${result.error ?? ""}${result.stdout}${result.stderr}`);
  }
}

/**
 * A fresh temporary folder for one server, removed when setting the server up fails (initdb, a port, the start);
 * once the server runs, its `stop` removes it.
 */
async function inServerDir(prefix: string, setUp: (dir: string) => Promise<RealServer>): Promise<RealServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await setUp(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** PostgreSQL 15 as the postgres user (it refuses root), trust auth on loopback, fsync off. */
export function startPostgres(): Promise<RealServer> {
  return inServerDir("eyeballs-pg-", async (dir) => {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, uid, gid);
    const data = join(dir, "data");
    run(RUNUSER, ["-u", "postgres", "--", INITDB, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
    const port = await freePort();
    // runuser passes the stop signal on to postgres, its only child.
    return start("postgres", port, dir, RUNUSER, [
      "-u",
      "postgres",
      "--",
      POSTGRES,
      "-D",
      data,
      "-k",
      dir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "shared_buffers=16MB",
    ], "SIGINT"); // fast shutdown: SIGTERM would wait for every client to leave
  });
}

/** MariaDB 10.11 without grant tables (any user, no password), loopback only. */
export function startMariadb(): Promise<RealServer> {
  return inServerDir("eyeballs-mariadb-", async (dir) => {
    const data = join(dir, "data");
    run(MARIADB_INSTALL_DB, [
      "--no-defaults",
      `--datadir=${data}`,
      "--user=root",
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
    ]);
    const port = await freePort();
    return start("mariadb", port, dir, MARIADBD, [
      "--no-defaults",
      `--datadir=${data}`,
      `--socket=${join(dir, "mysqld.sock")}`,
      `--pid-file=${join(dir, "mysqld.pid")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--user=root",
      "--skip-grant-tables",
      "--skip-name-resolve",
      "--skip-log-bin",
      "--innodb-buffer-pool-size=16M",
    ]);
  });
}

/** Redis 7, no persistence, loopback only. */
export function startRedis(): Promise<RealServer> {
  return inServerDir("eyeballs-redis-", async (dir) => {
    const port = await freePort();
    return start("redis", port, dir, REDIS, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
    ]);
  });
}
