/**
 * Real servers, real clients: PostgreSQL through pg.Client and pg.Pool,
 * MariaDB through mysql2 (connection and pool), Redis through ioredis, each
 * handed eyeballs' createConnection in one line. The name "db.test"
 * resolves to a blackholed ::1 first (a listener whose accept queue is full:
 * connects hang), then 127.0.0.1, so the race decides. Node and Bun.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import pg from "pg";
import mysql from "mysql2/promise";
import { createConnection, type EyeballsSocket } from "../../src/clients/mod.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { Resolver } from "../../src/base/types.ts";
import { type FullQueueListener, startFullQueueListener } from "../../scripts/full_queue.ts";
import { eventually, runtime } from "./helpers.ts";
import { type RealServer, serversUnavailable, startMariadb, startPostgres, startRedis } from "./real_servers.ts";

const skip = runtime === "deno" ? "skip: the driver tests run under Node and Bun" : serversUnavailable();
if (skip) console.log(`drivers: ${skip}`);

// ioredis by path, as undici: the package is CommonJS.
const { default: Redis, AbstractConnector } = createRequire(import.meta.url)("ioredis") as typeof import("ioredis");

/** "db.test": the blackholed ::1 first, then 127.0.0.1. */
const dbResolver: Resolver = {
  resolve: (_name, family) => Promise.resolve(family === 6 ? ["::1"] : ["127.0.0.1"]),
};
/** "dead.test": only the blackholed ::1. */
const deadResolver: Resolver = {
  resolve: (_name, family) => Promise.resolve(family === 6 ? ["::1"] : []),
};
/** A short delay keeps the suite quick; the race is the same at any delay. */
const race = { resolver: dbResolver, schedule: fixedDelay(100) };

/** Remembers every socket createConnection handed out, to check that each one is closed in the end. */
const handedOut: EyeballsSocket[] = [];
function eyeballs(port: number, resolver = dbResolver): EyeballsSocket {
  const socket = createConnection({ ...race, resolver, host: "db.test", port });
  handedOut.push(socket);
  return socket;
}

async function allClosed(): Promise<boolean> {
  return await eventually(() => handedOut.every((s) => s.destroyed), 5000);
}

/** Starts a server and a blackhole on ::1 at the same port. */
async function withBlackhole(start: () => Promise<RealServer>): Promise<[RealServer, FullQueueListener]> {
  const server = await start();
  try {
    return [server, await startFullQueueListener("::1", server.port)];
  } catch (error) {
    await server.stop();
    throw error;
  }
}

describe("PostgreSQL 15 through pg", { skip }, () => {
  let server: RealServer;
  let blackhole: FullQueueListener;
  before(async () => ([server, blackhole] = await withBlackhole(startPostgres)));
  after(async () => {
    await blackhole?.stop();
    await server?.stop();
  });

  it("pg.Client: a real query over the raced connection", async () => {
    const client = new pg.Client({
      user: "postgres",
      database: "postgres",
      stream: () => eyeballs(server.port),
    } as pg.ClientConfig);
    await client.connect();
    const { rows } = await client.query("SELECT inet_server_addr()::text AS addr, 1 + 1 AS two");
    assert.deepEqual(rows, [{ addr: "127.0.0.1/32", two: 2 }]);
    await client.end();
    assert.ok(await allClosed(), "a socket was left open");
  });

  it("pg.Pool: queries, and its connectionTimeoutMillis stops the race", async () => {
    const pool = new pg.Pool({
      user: "postgres",
      database: "postgres",
      max: 2,
      stream: () => eyeballs(server.port),
    } as pg.PoolConfig);
    const results = await Promise.all([1, 2, 3].map((n) => pool.query("SELECT $1::int AS n", [n])));
    assert.deepEqual(results.map((r) => r.rows[0].n), [1, 2, 3]);
    await pool.end();

    const stalled = new pg.Pool({
      user: "postgres",
      connectionTimeoutMillis: 300,
      stream: () => eyeballs(server.port, deadResolver),
    } as pg.PoolConfig);
    await assert.rejects(stalled.query("SELECT 1"), /timeout/i);
    const last = handedOut[handedOut.length - 1];
    assert.ok(await eventually(() => last.destroyed), "the pool's timeout did not stop the race");
    assert.equal(last.connecting, false);
    await stalled.end();
    assert.ok(await allClosed(), "a socket was left open");
  });
});

describe("MariaDB 10.11 through mysql2", { skip }, () => {
  let server: RealServer;
  let blackhole: FullQueueListener;
  before(async () => ([server, blackhole] = await withBlackhole(startMariadb)));
  after(async () => {
    await blackhole?.stop();
    await server?.stop();
  });

  it("connection: a real query over the raced connection", async () => {
    const connection = await mysql.createConnection({ user: "root", stream: () => eyeballs(server.port) } as never);
    const [rows] = await connection.query("SELECT 1 + 1 AS two");
    assert.deepEqual(rows, [{ two: 2 }]);
    await connection.end();
    assert.ok(await allClosed(), "a socket was left open");
  });

  it("pool: its synchronous stream factory gets a socket at once; queries run; end() closes all", async () => {
    const pool = mysql.createPool({ user: "root", connectionLimit: 2, stream: () => eyeballs(server.port) } as never);
    const results = await Promise.all([1, 2, 3].map((n) => pool.query("SELECT ? AS n", [n])));
    assert.deepEqual(results.map(([rows]) => (rows as { n: number }[])[0].n), [1, 2, 3]);
    await pool.end();
    assert.ok(await allClosed(), "a socket was left open");
  });
});

describe("Redis 7 through ioredis", { skip }, () => {
  let server: RealServer;
  let blackhole: FullQueueListener;
  before(async () => ([server, blackhole] = await withBlackhole(startRedis)));
  after(async () => {
    await blackhole?.stop();
    await server?.stop();
  });

  /** The one line: an ioredis Connector whose stream is eyeballs'. */
  const connectorFor = (port: number, resolver = dbResolver) =>
    class extends AbstractConnector {
      connect() {
        this.connecting = true;
        // ioredis types its stream as net.Socket; it uses only the net.Socket surface eyeballs' socket has.
        this.stream = eyeballs(port, resolver) as never;
        return Promise.resolve(this.stream);
      }
    };

  it("a real command over the raced connection; disconnect() leaves nothing open", async () => {
    const redis = new Redis({ Connector: connectorFor(server.port), lazyConnect: true } as never);
    await redis.connect();
    assert.equal(await redis.set("eyeballs", "yes"), "OK");
    assert.equal(await redis.get("eyeballs"), "yes");
    redis.disconnect();
    assert.ok(await allClosed(), "disconnect() left the socket open");
  });

  it("connectTimeout holds while the race is on (the stream reports connecting)", async () => {
    const redis = new Redis({
      Connector: connectorFor(server.port, deadResolver),
      connectTimeout: 300,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    } as never);
    redis.on("error", () => {});
    await assert.rejects(redis.connect(), /ETIMEDOUT|Connection is closed/);
    redis.disconnect();
    assert.ok(await allClosed(), "a socket was left open");
  });
});
