/**
 * The CLI's help text and the one-line hint printed after a usage error.
 *
 * @module
 */

/**
 * The full `--help` text.
 */
export const USAGE = `eyeballs: connect to HOST PORT the Happy Eyeballs way (RFC 8305) and show how.

Usage: eyeballs [options] HOST PORT

Resolves HOST (both IPv6 and IPv4, in parallel; on port 443 its HTTPS
records too, under Node and Bun with their stub resolver), races
connection attempts to its addresses, prints a timeline of every attempt,
then closes the connection: it only measures connects. On a terminal it
shows the race live while attempts are pending (address, elapsed time,
what failed). HTTPS records (RFC 9460) are listed by group (priority),
with the alias followed, each endpoint skipped and each record ignored,
and why.

Options:
  --json                  One JSON object per connection on stdout (one line each)
  --repeat N              Connect N times, one after another (default 1)
  --schedule NAME         Delay between attempt starts:
                            default  halving from 250 ms, floor 10 ms (the library's default)
                            rfc8305  a fixed delay: --attempt-delay, default 250 ms
                                     (clamped to RFC 8305's 10 ms .. 2 s)
                            halving  the ISC article: --attempt-delay (default 500 ms),
                                     halved each time the timer expires
  --attempt-delay MS      The delay for rfc8305 or halving; alone, it means rfc8305
  --timeout MS            Give up after MS in all, resolution included (default: none)
  --family 4|6            Only use IPv4 or only IPv6
  --resolution-delay MS   How long an IPv4 answer waits for the IPv6 one (default 50)
  --max-attempts-in-flight N  At most N attempts connecting at once (default 48)
  --history FILE          Learn from and remember earlier connects in FILE (JSON), across runs;
                          without it, --repeat connects share an in-memory history
  --history-ttl MS        How long history remembers a host (default 600000, 10 minutes)
  --no-history            Neither use nor record history
  --deny LIST             Refuse addresses before any SYN (against SSRF): internal (every
                            special-purpose range but documentation), all, or a comma list of
                            unspecified, loopback, private, cgnat, benchmarking, link-local, unique-local,
                            multicast, broadcast, documentation (IPv4 forms in IPv6 included)
  --tls                   Race until a TLS handshake completes (not just TCP); show its time,
                          the ALPN protocol agreed and the certificate's subject and issuer
  --ca FILE               With --tls: also trust the CA certificates of this PEM file
  --alpn LIST             With --tls: offer these ALPN protocols, comma-separated (h2,http/1.1);
                          HTTPS records offering none of them are skipped
  --servername NAME       With --tls: send NAME as SNI and check the certificate against it
                          (default HOST)
  -h, --help              Show this help
  -V, --version           Show the version

Exit status: 0 connected (every time), 1 a connect failed, 2 bad arguments.

Examples:
  eyeballs example.com 443
  eyeballs --json --repeat 3 --schedule rfc8305 localhost 8080
  eyeballs --deny internal example.com 443
  eyeballs --tls --alpn h2,http/1.1 example.com 443
  eyeballs --json --tls --ca test-ca.pem --servername db.internal 10.0.0.5 5432`;

/**
 * The hint printed under a usage error.
 */
export const USAGE_HINT = "usage: eyeballs [options] HOST PORT  (eyeballs --help for more)";
