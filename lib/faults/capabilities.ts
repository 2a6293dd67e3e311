/**
 * What this machine and kernel can do for the faults and observers, probed once per process
 * by trying each thing for real in a scratch network namespace (named like a lab's, `cd-<run>-0-prb`, so the sweep finds it if we are killed; always
 * deleted again). A missing tool or kernel feature is a `supported: false` with the reason,
 * never an exception: the runner turns it into "skip: unsupported on this kernel".
 *
 * @module
 */

import { netnsName, runId } from "../lab/names.ts";
import { check, libc } from "../libc/libc.ts";
import { readSocketTable } from "../observe/proc_net_tcp.ts";
import { addNetns, deleteNetns } from "../libc/netns.ts";
import { CommandError, onPath, run, spawn } from "../process/spawn.ts";

/** Every capability the probe reports, in report order. */
export const CAPABILITY_NAMES = [
  "nft",
  "nat",
  "conntrackTimeout",
  "rejectTcpReset",
  "rejectIcmp",
  "iptables",
  "conntrack",
  "tcpdump",
  "socketDestroy",
  "tbf",
  "htb",
  "netem",
  "pidfdGetfd",
] as const;

/** The name of one capability. */
export type CapabilityName = typeof CAPABILITY_NAMES[number];

/** Whether one capability is there, and why (or why not), in plain words. */
export interface Capability {
  supported: boolean;
  reason: string;
}

/** The probe's full record. */
export type Capabilities = Readonly<Record<CapabilityName, Capability>>;

/** The Debian package of each tool the probes run. */
const PACKAGES = {
  nft: "nftables",
  iptables: "iptables",
  conntrack: "conntrack",
  tcpdump: "tcpdump",
  ss: "iproute2",
  tc: "iproute2",
  sysctl: "procps",
} as const;

type Tool = keyof typeof PACKAGES;

const SOCKET_PAIR = new URL("./_socket_pair.ts", import.meta.url).pathname;

let cached: Promise<Capabilities> | undefined;

/**
 * The capabilities of this machine, probed on the first call and cached for the process.
 *
 * @example
 * ```ts
 * import { capabilities } from "./capabilities.ts";
 *
 * const { netem } = await capabilities();
 * if (!netem.supported) console.log(`no delay faults: ${netem.reason}`);
 * ```
 */
export function capabilities(): Promise<Capabilities> {
  cached ??= probeAll().then((probed) => known = probed);
  return cached;
}

let known: Capabilities | undefined;

/** The capabilities once the probe has finished, else undefined: for a synchronous look. */
export function probedCapabilities(): Capabilities | undefined {
  return known;
}

function yes(reason: string): Capability {
  return { supported: true, reason };
}

function no(reason: string): Capability {
  return { supported: false, reason };
}

function missingTool(tools: readonly Tool[]): string | undefined {
  const tool = tools.find((t) => !onPath(t));
  return tool && `${tool} not found on PATH (Debian package ${PACKAGES[tool]})`;
}

function refusal(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a command in the scratch namespace; a refusal reads in the words of the tool. */
async function inScratch(ns: string, argv: readonly string[], input?: string): Promise<string> {
  try {
    return (await run(argv, { netns: ns, ...(input === undefined ? {} : { input }) })).stdout;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const said = error.stderr.split("\n").map((l) => l.trim()).find(Boolean) ??
      `exit code ${error.code}`;
    throw new Error(`"${argv.join(" ")}" failed: ${said}`);
  }
}

async function attempt(
  tools: readonly Tool[],
  action: () => Promise<string>,
): Promise<Capability> {
  const missing = missingTool(tools);
  if (missing) return no(missing);
  try {
    return yes(await action());
  } catch (error) {
    return no(refusal(error));
  }
}

async function nft(ns: string, ruleset: string): Promise<void> {
  await inScratch(ns, ["nft", "-f", "-"], ruleset);
}

/** Adds a root qdisc on the scratch namespace's loopback, then removes it again. */
async function qdisc(ns: string, spec: string, extra: readonly string[] = []): Promise<void> {
  const add = ["tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:"];
  await inScratch(ns, [...add, ...spec.split(" ")]);
  try {
    for (const line of extra) await inScratch(ns, ["tc", ...line.split(" ")]);
  } finally {
    await inScratch(ns, ["tc", "qdisc", "del", "dev", "lo", "root"]);
  }
}

async function probeAll(): Promise<Capabilities> {
  const ns = netnsName(runId(), 0, "prb");
  const pidfdGetfd = probePidfdGetfd();
  try {
    addNetns(ns);
  } catch (error) {
    const unavailable = no(`Could not create the scratch namespace "${ns}": ${refusal(error)}`);
    return Object.fromEntries(
      CAPABILITY_NAMES.map((n) => [n, n === "pidfdGetfd" ? pidfdGetfd : unavailable]),
    ) as Record<CapabilityName, Capability>;
  }
  try {
    await inScratch(ns, ["ip", "link", "set", "lo", "up"]);
    return { ...await probeNamespace(ns), pidfdGetfd };
  } finally {
    deleteNetns([ns]);
  }
}

// Sequential on purpose: the tc probes share the one loopback, and nat must come before
// conntrackTimeout (a nat table is what makes the kernel load conntrack).
async function probeNamespace(ns: string): Promise<Omit<Capabilities, "pidfdGetfd">> {
  const nftOk = await attempt(["nft"], async () => {
    await nft(
      ns,
      "table inet cd_probe {\n chain forward {\n  type filter hook forward priority filter; policy accept;\n" +
        "  ip saddr 192.0.2.9 counter drop\n }\n}\n",
    );
    return "nft loaded a filter table in a scratch namespace";
  });
  const nat = await attempt(["nft"], async () => {
    await nft(
      ns,
      "table ip cd_probe_nat {\n chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n" +
        "  ip saddr 192.0.2.9 masquerade\n  ip saddr 192.0.2.8 snat to 203.0.113.1\n }\n}\n",
    );
    return "nft accepted masquerade and snat rules";
  });
  const conntrackTimeout = await attempt(["sysctl"], async () => {
    const key = "net.netfilter.nf_conntrack_tcp_timeout_established";
    await inScratch(ns, ["sysctl", "-q", "-w", `${key}=4321`]);
    const read = (await inScratch(ns, ["sysctl", "-n", key])).trim();
    if (read !== "4321") throw new Error(`"${key}" reads "${read}" after writing "4321"`);
    return `${key} is writable inside a namespace`;
  });
  const rejectTcpReset = await attempt(["nft"], async () => {
    await nft(
      ns,
      "table inet cd_probe_rst {\n chain input {\n  type filter hook input priority filter; policy accept;\n" +
        "  ip daddr 192.0.2.9 meta l4proto tcp reject with tcp reset\n }\n}\n",
    );
    return "nft accepted reject with tcp reset";
  });
  const rejectIcmp = await attempt(["nft"], async () => {
    await nft(
      ns,
      "table inet cd_probe_icmp {\n chain forward {\n  type filter hook forward priority filter; policy accept;\n" +
        "  ip daddr 192.0.2.9 reject with icmpx host-unreachable\n" +
        "  ip daddr 192.0.2.8 reject with icmpx admin-prohibited\n }\n}\n",
    );
    return "nft accepted reject with icmpx host-unreachable and admin-prohibited";
  });
  const iptables = await attempt(["iptables"], async () => {
    await inScratch(ns, ["iptables", "-w", "-A", "OUTPUT", "-d", "192.0.2.9", "-j", "DROP"]);
    return "iptables added a rule in a scratch namespace";
  });
  const conntrack = await attempt(["conntrack"], async () => {
    await inScratch(ns, ["conntrack", "-L"]);
    return "conntrack listed a namespace's connection table";
  });
  const tcpdump = await attempt(["tcpdump"], async () => {
    await inScratch(ns, ["tcpdump", "-p", "-i", "lo", "-d", "tcp"]);
    return "tcpdump opened an interface and compiled a filter";
  });
  const socketDestroy = await attempt(["ss"], () => probeSocketDestroy(ns));
  const tbf = await attempt(["tc"], async () => {
    await qdisc(ns, "tbf rate 1mbit burst 80kb latency 100ms"); // burst above lo's MTU
    return "tc added a tbf qdisc";
  });
  const htb = await attempt(["tc"], async () => {
    await qdisc(ns, "htb default 2", ["class add dev lo parent 1: classid 1:1 htb rate 1mbit"]);
    return "tc added an htb qdisc with a class";
  });
  const netem = await attempt(["tc"], async () => {
    await qdisc(ns, "netem delay 10ms");
    return "tc added a netem qdisc";
  });
  return {
    nft: nftOk,
    nat,
    conntrackTimeout,
    rejectTcpReset,
    rejectIcmp,
    iptables,
    conntrack,
    tcpdump,
    socketDestroy,
    tbf,
    htb,
    netem,
  };
}

/** A connected pair on the scratch loopback; `ss -K` must make it disappear. */
async function probeSocketDestroy(ns: string): Promise<string> {
  const pair = spawn([Deno.execPath(), "run", "--allow-net", SOCKET_PAIR], {
    netns: ns,
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdin: "piped",
    stdout: "piped",
  });
  const lines = pair.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const port = await firstPort(lines);
    const connected = () =>
      readSocketTable(pair.pid).filter((s) => s.state === "ESTABLISHED" && s.remote.port === port);
    if (connected().length !== 1) {
      throw new Error(`The probe's connection to port ${port} is missing`);
    }
    // ss ignores EOPNOTSUPP from the kernel: only the socket's disappearance proves the destroy.
    await inScratch(ns, ["ss", "-K", "-t", "-n", "-H", `dport = :${port}`]);
    if (connected().length !== 0) {
      throw new Error(
        "ss -K left the socket in place: the kernel lacks socket destroy (CONFIG_INET_DIAG_DESTROY)",
      );
    }
    return "ss -K destroyed a connected socket in a scratch namespace";
  } finally {
    await lines.cancel();
    await pair.process.stdin.close().catch(() => {});
    await pair.end();
  }
}

const STARTUP_MS = 10_000;

async function firstPort(lines: ReadableStreamDefaultReader<string>): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The probe's socket pair did not start within ${STARTUP_MS} ms`)),
      STARTUP_MS,
    );
  });
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await Promise.race([lines.read(), late]);
      if (done) throw new Error("The probe's socket pair exited before it was connected");
      text += value;
    }
    return (JSON.parse(text.split("\n")[0] ?? "") as { port: number }).port;
  } finally {
    clearTimeout(timer);
  }
}

function probePidfdGetfd(): Capability {
  try {
    const c = libc();
    const pidfd = check("pidfd_open", c.pidfd_open(Deno.pid, 0));
    try {
      // The pidfd itself is the one descriptor certain to exist in this process.
      c.close(check("pidfd_getfd", c.pidfd_getfd(pidfd, pidfd, 0)));
    } finally {
      c.close(pidfd);
    }
    return yes("pidfd_getfd duplicated a descriptor of this process");
  } catch (error) {
    return no(refusal(error));
  }
}
