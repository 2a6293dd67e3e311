/**
 * `openssh`: the OpenSSH server (sshd) from Debian's package, in the foreground
 * (`sshd -D -e`), with Debian's /etc/ssh/sshd_config (UsePAM yes, KbdInteractiveAuthentication
 * no, X11Forwarding yes, PrintMotd no, AcceptEnv, the sftp subsystem) and everything else at
 * OpenSSH's defaults. The lab adds only its address and port, an ed25519 host key generated
 * into the lab directory, and a pid file there; the host's /etc/ssh/sshd_config.d is not
 * included. sshd runs as root, as it expects; its compiled-in privilege-separation directory
 * /run/sshd (an empty directory that Debian's service creates at start) is created when
 * missing: the one path outside the lab directory this target touches.
 *
 * The client agent can send only fixed bytes, so it never gets past the key exchange: every
 * connection it opens stays unauthenticated. What sshd_config(5) says happens to such a
 * connection, and what the certification is expected to find:
 * - LoginGraceTime (default 120 s): "The server disconnects after this time if the user has
 *   not successfully logged in", counted from the connection's start whatever the traffic:
 *   a vanished, frozen or silent client, and a partial banner, are released 120 s after
 *   connecting, by the per-connection sshd process exiting (its FIN);
 * - TCPKeepAlive yes: SO_KEEPALIVE with the OS timers (7200 s, 75 s, 9 probes), far later
 *   than LoginGraceTime for these connections;
 * - ClientAliveInterval 0 (no server-alive messages); when set, those messages go "through
 *   the encrypted channel", that is only after authentication: the `client-alive-15` variant
 *   therefore measures the same as the default here, and says so;
 * - an RST or FIN from the client ends its sshd process at once;
 * - MaxStartups 10:30:100: beyond 10 unauthenticated connections, new ones are dropped at
 *   random (30 %, rising to all at 100), so the churn scenarios (hundreds of clients) cannot
 *   run against it as configured;
 * - no large response: before authentication the server sends only its banner and its
 *   KEXINIT, so the scenarios that need one are skipped.
 *
 * The exchange: the request is the client's identification string (RFC 4253 §4.2); the
 * server's answer is its KEXINIT (§7.1), and `until` matches that packet's end, so nothing is
 * left unread to turn the client's close into an RST (the server's own banner arrives at
 * connect, before any request). The end is fixed for a given sshd: the last name-list
 * (compression, "none,zlib@openssh.com"), two empty language lists, first_kex_packet_follows,
 * the reserved word and the padding, all zero before encryption starts (packet.c). The
 * padding length follows from the packet's length, which depends on sshd's algorithm lists:
 * 9 bytes for OpenSSH 9.2p1 Debian-2+deb12u10 with one ed25519 host key (the target's test
 * checks it). One identification string per connection: a second one is read as a binary
 * packet of absurd length, and sshd closes the connection. Hence `oneRequestPerConnection`:
 * the other clients open a new connection per probe, and whether a connection survived an
 * outage is judged by its state on both ends, not by another exchange.
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import {
  defineTarget,
  type StartContext,
  type StartSpec,
  type TargetVariant,
} from "../lib/target/define_target.ts";

const BINARY = "/usr/sbin/sshd";

/** Zero bytes after the compression list: 4 + 4 (empty language lists), 1, 4, padding 9. */
const KEXINIT_TRAILING_ZEROS = 4 + 4 + 1 + 4 + 9;
const KEXINIT_END = "none,zlib@openssh.com" + "\0".repeat(KEXINIT_TRAILING_ZEROS);
const CLIENT_IDENTIFICATION = "SSH-2.0-clientdown\r\n";

/** Makes /run/sshd and the lab's ed25519 host key when missing, then becomes sshd (same pid). */
const PREPARE_AND_EXEC = 'set -e; key="$1/ssh_host_ed25519_key"; shift; ' +
  "mkdir -p -m 0755 /run/sshd; " +
  '[ -f "$key" ] || ssh-keygen -q -t ed25519 -N "" -C clientdown-lab -f "$key"; exec "$@"';

function config({ address, port, dir }: StartContext, tuning: readonly string[]): string {
  return [
    // sshd takes the first value it reads for a keyword: the variant's lines come first.
    ...tuning,
    "# The lab's address, host key and pid file.",
    `Port ${port}`,
    `ListenAddress ${address}`,
    `HostKey ${dir}/openssh/ssh_host_ed25519_key`,
    `PidFile ${dir}/openssh/sshd.pid`,
    "# Debian's /etc/ssh/sshd_config, without its Include of /etc/ssh/sshd_config.d.",
    "KbdInteractiveAuthentication no",
    "UsePAM yes",
    "X11Forwarding yes",
    "PrintMotd no",
    "AcceptEnv LANG LC_*",
    "Subsystem\tsftp\t/usr/lib/openssh/sftp-server",
    "",
  ].join("\n");
}

/** A `start` running sshd with `tuning` lines at the top of its configuration. */
function startWith(tuning: readonly string[]): (context: StartContext) => StartSpec {
  return (context) => ({
    files: { "openssh/sshd_config": config(context, tuning) },
    argv: [
      "sh",
      "-c",
      PREPARE_AND_EXEC,
      "sh",
      `${context.dir}/openssh`,
      BINARY,
      "-D",
      "-e",
      "-f",
      `${context.dir}/openssh/sshd_config`,
    ],
  });
}

function variant(title: string, tuning: readonly string[], knobs: Record<string, string>) {
  return { title, knobs, start: startWith(tuning) } satisfies TargetVariant;
}

/** The OpenSSH server, Debian's configuration. */
export default defineTarget({
  id: "openssh",
  title: "OpenSSH server (Debian configuration; connections never authenticate)",
  install: { binary: BINARY, debianPackage: "openssh-server" },
  port: 22,
  runsAs: "sshd",
  start: startWith([]),
  version: async () => {
    // `sshd -V` prints e.g. "OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026" on stderr.
    const { stderr } = await run([BINARY, "-V"]);
    return /OpenSSH_(\S+?),/.exec(stderr)?.[1] ?? "unknown";
  },
  protocol: {
    request: { send: CLIENT_IDENTIFICATION, until: KEXINIT_END },
    oneRequestPerConnection: true,
    partialRequest: CLIENT_IDENTIFICATION.slice(0, 10),
  },
  knobs: {
    "LoginGraceTime": "120 s from connect, then closed: every connection of the test client",
    "ClientAliveInterval / ClientAliveCountMax": "0 (off) / 3; after authentication only",
    "TCPKeepAlive": "yes: SO_KEEPALIVE with the OS timers (7200 s, 75 s, 9 probes)",
    "MaxStartups": "10:30:100 unauthenticated connections (random early drop)",
    "large response": "none before authentication: those scenarios are skipped",
  },
  variants: {
    "client-alive-15": variant(
      "ClientAliveInterval 15, ClientAliveCountMax 3 (after authentication only)",
      ["ClientAliveInterval 15", "ClientAliveCountMax 3"],
      {
        "ClientAliveInterval / ClientAliveCountMax":
          "15 s / 3; after authentication only, so not for the test client's connections",
      },
    ),
    "login-grace-time-30": variant("LoginGraceTime 30", ["LoginGraceTime 30"], {
      "LoginGraceTime": "30 s from connect, then closed: every connection of the test client",
    }),
  },
});
