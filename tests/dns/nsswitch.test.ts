import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostsSources, stubMatchesSystem } from "../../src/dns/nsswitch.ts";

describe("nsswitch hosts line", () => {
  it("lists the sources with their actions, lowercase, comments dropped", () => {
    assert.deepEqual(
      hostsSources("# hosts: dns\npasswd: files\nHosts:  files MDNS4_minimal [NOTFOUND=return] dns # mdns\n"),
      ["files", "mdns4_minimal", "[notfound=return]", "dns"],
    );
    assert.equal(hostsSources("passwd: files\n"), undefined);
  });
  it("lets the stub stand in only for exactly `files dns`", () => {
    assert.equal(stubMatchesSystem("hosts:          files dns\n"), true);
    for (
      const text of [
        "hosts: dns files\n",
        "hosts: files myhostname dns\n",
        "hosts: files resolve [!UNAVAIL=return] dns\n",
        "hosts: files dns [NOTFOUND=return]\n",
        "hosts: files\n",
        "",
      ]
    ) {
      assert.equal(stubMatchesSystem(text), false, text);
    }
  });
});
