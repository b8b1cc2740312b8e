/**
 * `/etc/nsswitch.conf`'s `hosts:` line, read only to answer one question:
 * would a stub resolver (hosts file, then DNS) give the same answers as
 * getaddrinfo? Go's resolver asks the same before it bypasses libc.
 * Runtime-free.
 *
 * @module
 */

/**
 * The sources of the `hosts:` line, in order, lowercase, with any
 * `[STATUS=action]` kept as its own entry; `undefined` when there is no such
 * line.
 */
export function hostsSources(text: string): string[] | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const match = /^hosts\s*:\s*(.*)$/i.exec(line);
    if (match) return match[1].toLowerCase().match(/\[[^\]]*\]|[^\s[]+/g) ?? [];
  }
  return undefined;
}

/**
 * True when the `hosts:` sources are exactly `files dns`: then /etc/hosts
 * followed by DNS is what getaddrinfo does, and a stub resolver may stand in
 * for it. Anything else (mdns, myhostname, resolve, ldap, actions, no line)
 * keeps getaddrinfo.
 */
export function stubMatchesSystem(nsswitchText: string): boolean {
  return hostsSources(nsswitchText)?.join(" ") === "files dns";
}
