import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AttemptError, ConnectError, ResolveError } from "../../src/base/errors.ts";
import { connect } from "../../src/connect/connect.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver } from "../helpers/fake_dialer.ts";

const coded = (code: string) => Object.assign(new Error(code), { code });
const attempt = (address: string, code: string) => new AttemptError(address, 4, 80, coded(code));
const lookup = (family: 4 | 6, code: string) => new ResolveError("db.test", family, coded(code));

describe("ConnectError.code, as Node's own Happy Eyeballs error gives one (issue 15, item 15)", () => {
  const rows: Array<[string, ConnectError, string | undefined]> = [
    [
      "every attempt refused",
      new ConnectError("db.test", 80, [attempt("192.0.2.1", "ECONNREFUSED"), attempt("192.0.2.2", "ECONNREFUSED")], []),
      "ECONNREFUSED",
    ],
    [
      "the timeout ended it",
      new ConnectError("db.test", 80, [attempt("192.0.2.1", "ECONNREFUSED")], [], "timed out", true),
      "ETIMEDOUT",
    ],
    [
      "no address: the name does not exist",
      new ConnectError("db.test", 80, [lookup(6, "ENOTFOUND"), lookup(4, "ENODATA")], []),
      "ENOTFOUND",
    ],
    [
      "no address: a lookup failed for now",
      new ConnectError("db.test", 80, [lookup(6, "ENODATA"), lookup(4, "EAI_AGAIN")], []),
      "EAI_AGAIN",
    ],
    [
      "mixed: the first attempt's",
      new ConnectError("db.test", 80, [
        lookup(6, "ENOTFOUND"),
        attempt("192.0.2.1", "EHOSTUNREACH"),
        attempt("192.0.2.2", "ECONNREFUSED"),
      ], []),
      "EHOSTUNREACH",
    ],
    ["nothing to try at all", new ConnectError("db.test", 80, [], []), "ENOTFOUND"],
    [
      "every address refused by the policy",
      new ConnectError(
        "db.test",
        80,
        [attempt("10.0.0.1", "x"), attempt("127.0.0.1", "x")].map((e) => Object.assign(e, { code: "PolicyRefusal" })),
        [],
      ),
      "EACCES",
    ],
  ];
  for (const [name, error, code] of rows) {
    it(name, () => assert.equal(error.code, code));
  }

  it("a connect that times out rejects with code ETIMEDOUT", async () => {
    const clock = new FakeClock();
    const result = connect({
      hostname: "db.test",
      port: 80,
      clock,
      history: false,
      resolver: fakeResolver(clock, { 4: ["192.0.2.1"] }),
      dialer: new FakeDialer(clock, { "192.0.2.1": { hang: true } }),
      timeout: 300,
    });
    result.catch(() => {});
    await clock.advance(400);
    await assert.rejects(result, (e) => e instanceof ConnectError && e.code === "ETIMEDOUT");
  });
});
