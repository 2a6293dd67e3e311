/**
 * `varnish`: Debian's Varnish Cache (7.1) in front of a backend, with the distribution's
 * varnish.service command line (`varnishd -j unix,user=vcache -F -a :6081 -T localhost:6082
 * -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m`) and its default.vcl
 * (one backend, 127.0.0.1:8080, empty subroutines: the built-in VCL decides). The lab changes
 * only the client address (`-a <address>:6081`), the working directory (`-n`, in the lab
 * directory) and the secret (a file there). The backend Debian's VCL names is a small static
 * file server on 127.0.0.1:8080 in the server host (a Perl script the target writes, Perl being
 * part of every Debian system); it is started once varnishd listens and ends with the lab.
 * Varnish caches the small file and streams the 64 MiB one to clients as it fetches it.
 *
 * What Varnish's parameters (varnishd(1), `varnishd -x parameter`) lead one to expect toward
 * dead clients; Debian sets none of them:
 * - `timeout_idle` 5 s: "A connection is considered idle until we have received the full
 *   request headers": an idle keep-alive connection and a partial request are both closed
 *   about 5 s after the last request (or the connection's start);
 * - `idle_send_timeout` 60 s, applied as SO_SNDTIMEO on the client socket, and `send_timeout`
 *   600 s: "When 'idle_send_timeout' is hit while sending an HTTP1 response, the timeout is
 *   extended unless the total time already taken for sending the response in its entirety
 *   exceeds" send_timeout. A write that makes no progress is therefore given up at the first
 *   60 s stall that ends after 600 s of sending: a client that keeps its window at zero (and a
 *   vanished one mid-response, before the kernel's 924.6 s retransmission timeout) is
 *   released between 600 and 660 s after its response began;
 * - `tcp_keepalive_time` / `_intvl` / `_probes`: "platform dependent" defaults, read from the
 *   kernel (7200 s, 75 s, 9) and written on accepted sockets, whose SO_KEEPALIVE is what the
 *   test reads;
 * - no connection limit per address; `thread_pool_max` 5000 threads in each of 2 pools, so
 *   one dead client stalls no other; SIGPIPE is ignored.
 * The `send-timeout-10` variant sets `-p send_timeout=10 -p idle_send_timeout=10`: a reader
 * that stalls for 10 s once the response has been sending for 10 s is dropped (a slow reader
 * that keeps making progress is not).
 *
 * @module
 */

import { run } from "../lib/process/spawn.ts";
import { defineTarget, type StartContext, type StartSpec } from "../lib/target/define_target.ts";
import { HTTP_PROTOCOL, MAKE_LARGE_FILE, SITE_FILES, SITE_ROOT } from "./http/static_site.ts";

const BINARY = "/usr/sbin/varnishd";
const BACKEND_PORT = 8080;

/** Debian's /etc/varnish/default.vcl without its comments. */
const DEFAULT_VCL = `vcl 4.1;

# Debian's /etc/varnish/default.vcl (comments left out).
backend default {
    .host = "127.0.0.1";
    .port = "${BACKEND_PORT}";
}

sub vcl_recv {
}

sub vcl_backend_response {
}

sub vcl_deliver {
}
`;

/**
 * The backend: serves the files of one directory on 127.0.0.1, one forked process per
 * connection, one response per connection (`Connection: close`).
 */
const BACKEND_PL = `# Written by clientdown: the static backend Debian's default.vcl points at.
use strict;
use warnings;
use IO::Socket::INET;

my ($root, $port) = @ARGV;
$SIG{CHLD} = 'IGNORE';
my $server = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 128, ReuseAddr => 1,
) or die "backend: listen: $!\\n";
while (1) {
    my $client = $server->accept or next;
    my $pid = fork;
    if (!defined $pid || $pid) { close $client; next; }
    close $server;
    my $line = <$client> // '';
    while (my $header = <$client>) { last if $header =~ /^\\r?\\n$/; }
    my ($path) = $line =~ m{^GET (/[\\w.-]*) HTTP/1};
    my $file = defined $path ? "$root$path" : '';
    if ($file ne '' && -f $file && open(my $in, '<:raw', $file)) {
        my $size = -s $file;
        print $client "HTTP/1.1 200 OK\\r\\nContent-Type: application/octet-stream\\r\\n"
            . "Content-Length: $size\\r\\nConnection: close\\r\\n\\r\\n";
        my $buffer;
        while (read($in, $buffer, 65536)) { print $client $buffer or last; }
    } else {
        print $client "HTTP/1.1 404 Not Found\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n";
    }
    close $client;
    exit 0;
}
`;

/** Starts the backend in the background (it ends with the lab) and waits until it listens. */
const START_BACKEND = 'setsid -f perl "$1" "$2" "$3" >>"$4" 2>&1 </dev/null && ' +
  "perl -MIO::Socket::INET -e 'my $to = shift; for (1 .. 200) { " +
  "exit 0 if IO::Socket::INET->new($to); " +
  'select undef, undef, undef, 0.05 } exit 1\' "127.0.0.1:$3"';

/** `-a` takes `host:port`, an IPv6 host in brackets. */
function listenAddress(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parameters (`-p name=value`) a variant adds to Debian's command line. */
type Parameters = Record<string, string>;

function startWith(parameters: Parameters): (context: StartContext) => StartSpec {
  return ({ address, port, dir }) => ({
    files: {
      "varnish/default.vcl": DEFAULT_VCL,
      // varnishd reads the whole file as the management interface's secret.
      "varnish/secret": `${crypto.randomUUID()}\n`,
      "varnish/backend.pl": BACKEND_PL,
      ...SITE_FILES,
    },
    argv: [
      BINARY,
      "-j",
      "unix,user=vcache",
      "-F",
      "-a",
      listenAddress(address, port),
      "-T",
      "localhost:6082",
      "-f",
      `${dir}/varnish/default.vcl`,
      "-S",
      `${dir}/varnish/secret`,
      "-s",
      "malloc,256m",
      "-n",
      `${dir}/varnish/work`,
      ...Object.entries(parameters).flatMap(([name, value]) => ["-p", `${name}=${value}`]),
    ],
    prepare: [
      MAKE_LARGE_FILE,
      [
        "sh",
        "-c",
        START_BACKEND,
        "sh",
        `${dir}/varnish/backend.pl`,
        `${dir}/${SITE_ROOT}`,
        String(BACKEND_PORT),
        `${dir}/varnish/backend.log`,
      ],
    ],
  });
}

/** Varnish with Debian's command line and VCL, and a variant with 10 s send timeouts. */
export default defineTarget({
  id: "varnish",
  title: "Varnish Cache (Debian package and VCL, in front of a static backend)",
  install: { binary: BINARY, debianPackage: "varnish" },
  port: 6081,
  runsAs: "vcache",
  start: startWith({}),
  version: async () => {
    // `varnishd -V` prints e.g. "varnishd (varnish-7.1.1 revision ...)" on stderr.
    const { stdout, stderr } = await run([BINARY, "-V"]);
    return /varnish-(\S+?) /.exec(stderr + stdout)?.[1] ?? "unknown";
  },
  protocol: HTTP_PROTOCOL,
  knobs: {
    "timeout_idle": "5 s: idle keep-alive connections and incomplete request headers closed",
    "idle_send_timeout": "60 s (SO_SNDTIMEO): a stalled write ends the session once…",
    "send_timeout": "…600 s of sending have passed: a stalled reader is dropped at 600 to 660 s",
    "tcp_keepalive_time / intvl / probes": "the kernel's: 7200 s, 75 s, 9",
    "connection limits": "none per address; thread_pool_max 5000 × 2 pools",
  },
  variants: {
    "send-timeout-10": {
      title: "-p send_timeout=10 -p idle_send_timeout=10",
      knobs: {
        "idle_send_timeout": "10 s (SO_SNDTIMEO): a stalled write ends the session once…",
        "send_timeout": "…10 s of sending have passed: a stalled reader is dropped at 10 to 20 s",
      },
      start: startWith({ send_timeout: "10", idle_send_timeout: "10" }),
    },
  },
});
