/**
 * A child process for create_connection_vs_net.test.ts: one connect to a
 * blackholed port, unref'd at once while connecting. It must exit by
 * itself, as a process does with an unref'd `net.Socket`.
 * argv: "net" | "eyeballs", the port.
 */

import net from "node:net";
import process from "node:process";
import { createConnection } from "../../src/clients/create_connection.ts";

const [which, port] = process.argv.slice(-2);
const socket = which === "net" ? net.createConnection({ host: "127.0.0.1", port: Number(port) }) : createConnection({
  host: "blackholed.test",
  port: Number(port),
  // Two answers, so that the race also has its schedule's timer; a minute's bound, so that it has its timeout.
  resolver: { resolve: (_name, family) => Promise.resolve(family === 4 ? ["127.0.0.1"] : ["::ffff:127.0.0.1"]) },
  timeout: 60_000,
});
socket.on("error", (error) => {
  console.error(`${which}: ${error.message}`);
  process.exit(2);
});
socket.unref();
