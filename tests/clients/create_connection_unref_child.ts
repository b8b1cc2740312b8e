/**
 * A child process for create_connection_vs_net.test.ts: one connect to a
 * name whose lookup never answers, unref'd at once while it resolves. It
 * must exit by itself, as a process does with an unref'd `net.Socket`.
 * argv: "net" | "eyeballs".
 */

import net from "node:net";
import process from "node:process";
import { createConnection } from "../../src/clients/create_connection.ts";

const which = process.argv.at(-1);
const socket = which === "net"
  ? net.createConnection({ host: "never.test", port: 80, lookup: () => {} })
  : createConnection({
    host: "never.test",
    port: 80,
    resolver: { resolve: () => new Promise(() => {}) },
    connectTimeout: 60_000, // the race's timer: without unref() it would hold the process for a minute
  });
socket.on("error", (error) => {
  console.error(`${which}: ${error.message}`);
  process.exit(2);
});
socket.unref();
