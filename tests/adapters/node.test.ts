import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { connect, systemResolver } from "../../src/adapters/node/mod.ts";
import { loopbackSuite } from "../helpers/loopback.ts";
import { readSocket } from "../helpers/socket_io.ts";

// node:net exists under Node, Deno and Bun, so this suite runs on all three.
loopbackSuite<net.Socket>("node", false, {
  connect: (host, port, extra) => connect({ host, port, ...extra }),
  send: (socket, text) => new Promise((resolve) => socket.write(text, () => resolve())),
  receive: readSocket,
  close: (socket) => socket.destroy(),
});

describe("node adapter options", () => {
  it("names its own field, host", async () => {
    await assert.rejects(connect({ host: "", port: 80 }), { name: "RangeError", message: /^host must not be empty/ });
    await assert.rejects(connect({ port: 80 } as never), { name: "TypeError", message: /^host must be a string/ });
    await assert.rejects(connect(undefined as never), { name: "TypeError", message: /^options must be an object/ });
  });
});

describe("system resolver", () => {
  it("answers the localhost names itself, never asking DNS", async () => {
    const signal = new AbortController().signal;
    for (const name of ["localhost", "LOCALHOST.", "app.localhost"]) {
      assert.deepEqual(await systemResolver.resolve(name, 6, signal), ["::1"], name);
      assert.deepEqual(await systemResolver.resolve(name, 4, signal), ["127.0.0.1"], name);
    }
  });
});
