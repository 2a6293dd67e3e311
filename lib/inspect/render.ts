/**
 * The inspection for people: a terminal view that fits 100 columns, and a Markdown card in the
 * reports' vocabulary ("released after", predicted, mechanism). Both only read the inspection;
 * text that came from the server (its name, addresses) is data, escaped in Markdown.
 *
 * @module
 */

import { lines, link, type Markdown, md } from "../report/markdown_escape.ts";
import type { SocketOptions, TcpSysctls } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import type { DeadConnection, Exposure, Inspection, OptionGroup } from "./inspection_schema.ts";

/** The widest line of the terminal view. */
const TERMINAL_COLUMNS = 100;

const CASE_WORDS: Record<Exposure["case"], string> = {
  "vanish-idle": "vanishes while idle",
  "vanish-mid-response": "vanishes mid-response",
  "stops-reading": "stops reading",
};

const FROM_WORDS = {
  "last-traffic": "after the last traffic",
  "first-retransmission": "after the first retransmission",
  "first-zero-window-probe": "after the first window probe",
} as const;

const MECHANISM_WORDS = {
  keepalive: "keepalive",
  user_timeout: "TCP_USER_TIMEOUT",
  retransmission_timeout: "retransmission timeout",
  reset_by_peer: "peer's reset",
  zero_window_probes: "unanswered window probes",
  none: "—",
} as const;

/** "1.8 min after the last traffic (predicted, +3.5 s / −10 ms)" or "never (...)". */
function releaseWords(e: Exposure): string {
  if (!e.release) return `never by the kernel (${e.decidedBy})`;
  const { afterMs, from, toleranceMs } = e.release;
  return `${formatMs(afterMs)} ${FROM_WORDS[from]} (predicted, −${formatMs(toleranceMs.early)} +${
    formatMs(toleranceMs.late)
  }), by ${MECHANISM_WORDS[e.mechanism]}: ${e.decidedBy}`;
}

/** Keepalive and user timeout in a few words; keepalive times set though it is off, too. */
function optionsWords(o: SocketOptions, k: TcpSysctls): string {
  const times = `idle ${o.keepIdleS} s, every ${o.keepIntvlS} s, ${o.keepCnt} probes`;
  const set = o.keepIdleS !== k.keepaliveTimeS || o.keepIntvlS !== k.keepaliveIntvlS ||
    o.keepCnt !== k.keepaliveProbes;
  const keepalive = o.keepalive
    ? `keepalive on (${times})`
    : set
    ? `keepalive off (set though: ${times})`
    : "keepalive off";
  const user = o.userTimeoutMs > 0
    ? `TCP_USER_TIMEOUT ${o.userTimeoutMs} ms`
    : "no TCP_USER_TIMEOUT";
  return `${keepalive}, ${user}`;
}

function deadWords(c: DeadConnection): string {
  const release = c.releaseInMs === undefined
    ? ""
    : `; released in ${formatMs(c.releaseInMs)} by ${MECHANISM_WORDS[c.mechanism]} ` +
      `(predicted, −${formatMs(c.toleranceMs?.early ?? 0)} +${formatMs(c.toleranceMs?.late ?? 0)})`;
  return `${endpointWords(c.remote)} (pid ${c.pid} fd ${c.fd}): ${c.evidence}${release}`;
}

function endpointWords(e: { address: string; port: number }): string {
  return e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** Words wrapped to `width` columns, the first line indented by `indent`, the rest 2 more. */
function wrap(text: string, width: number, indent: number): string[] {
  const out: string[] = [];
  let line = " ".repeat(indent);
  for (const word of text.split(" ").filter(Boolean)) {
    const bare = line.trim() === "";
    const candidate = bare ? `${line}${word}` : `${line} ${word}`;
    if (candidate.length > width && !bare) {
      out.push(line);
      line = `${" ".repeat(indent + 2)}${word}`;
    } else line = candidate;
  }
  if (line.trim()) out.push(line);
  // A single word longer than the width (an IPv6 address, say) is cut, never overflows.
  return out.flatMap((l) =>
    l.length <= width ? [l] : Array.from(
      { length: Math.ceil(l.length / width) },
      (_, i) => l.slice(i * width, (i + 1) * width),
    )
  );
}

/** Control characters of server-provided text shown as spaces (a terminal would obey them). */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

function differenceWords(inspection: Inspection): string[] {
  const accepted = inspection.card.groups.filter((g) => g.source === "accepted");
  const k = inspection.sysctls;
  const out: string[] = [];
  if (inspection.card.acceptedDiffer) {
    out.push(
      `Accepted sockets differ: ${
        accepted.map((g) => `${g.count} with ${optionsWords(g.options, k)}`).join("; ")
      }`,
    );
  }
  if (inspection.card.differFromListener && inspection.card.listenerOptions) {
    out.push(
      `Accepted sockets differ from the listener (options set after accept): the listener has ` +
        optionsWords(inspection.card.listenerOptions, k),
    );
  }
  return out;
}

function groupTitle(g: OptionGroup, k: TcpSysctls): string {
  return g.source === "listener"
    ? `No connection held; the listener's options (accepted sockets inherit them unless set ` +
      `after accept): ${optionsWords(g.options, k)}`
    : `${g.count} ${g.source} socket(s) with ${optionsWords(g.options, k)}`;
}

/**
 * The terminal view: at most 100 columns.
 *
 * @example
 * ```ts ignore
 * console.log(terminalView(await inspectProcess(pid)));
 * ```
 */
export function terminalView(inspection: Inspection): string {
  const w = TERMINAL_COLUMNS;
  const { process: p, sockets: s, sysctls: k } = inspection;
  const out: string[] = [];
  const add = (text: string, indent = 0) => out.push(...wrap(text, w, indent));
  add(
    `clientdown inspect: pid ${p.pid} "${plain(p.name)}" (${p.processes} process(es)), ${p.netns}`,
  );
  add(
    `Kernel ${inspection.kernel.release}${
      inspection.kernel.hz ? ` (CONFIG_HZ=${inspection.kernel.hz})` : ""
    }; its namespace: tcp_retries2 ${k.retries2}, tcp_keepalive_time ${k.keepaliveTimeS} s, ` +
      `_intvl ${k.keepaliveIntvlS} s, _probes ${k.keepaliveProbes}`,
  );
  add(
    `Sockets: ${s.listening} listening, ${s.connected} connected, ${s.read} read` +
      (s.sampled ? " (a sample)" : "") + (s.gone ? `, ${s.gone} gone while read` : ""),
  );
  for (const note of inspection.notes) add(`Note: ${note}`);
  out.push("");
  add("When the kernel alone releases a client that goes down:");
  for (const line of differenceWords(inspection)) add(line, 2);
  for (const g of inspection.card.groups) {
    add(groupTitle(g, k), 2);
    for (const e of g.exposures) add(`${CASE_WORDS[e.case]}: ${releaseWords(e)}`, 4);
  }
  add(inspection.card.applicationTimeouts, 2);
  const known = inspection.card.knownTarget;
  if (known) {
    add(
      `The process runs the binary of the built-in target ${known.id}: its published report ` +
        `(version ${known.version}) is ${known.report}.` +
        (known.sooner.length ? " Settings that act sooner:" : ""),
      2,
    );
    for (const s of known.sooner) add(`${s.variant}: ${s.what}`, 4);
  }
  out.push("");
  if (!inspection.deadLooking.length) add("No connection looks dead now.");
  else add("Connections that look dead now:");
  for (const group of inspection.deadLooking) {
    add(`${group.kind} (${group.count}): ${group.meaning}`, 2);
    for (const c of group.connections.slice(0, 20)) add(plain(deadWords(c)), 4);
    if (group.connections.length > 20) add(`… and ${group.connections.length - 20} more`, 4);
  }
  return `${out.join("\n")}\n`;
}

/**
 * The Markdown card, in the reports' vocabulary.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("card.md", markdownCard(await inspectProcess(pid)).toString());
 * ```
 */
export function markdownCard(inspection: Inspection): Markdown {
  const { process: p, sockets: s, sysctls: k } = inspection;
  const out: (Markdown | string)[] = [
    md`# Exposure card: ${p.name} (pid ${p.pid})`,
    "",
    md`Read by clientdown ${inspection.clientdown} \`inspect\` at ${inspection.inspectedAt} from the live sockets: ${s.listening} listening, ${s.connected} connected, ${s.read} read${
      s.sampled ? " (a sample)" : ""
    }. Kernel ${inspection.kernel.release}${
      inspection.kernel.hz ? ` (CONFIG_HZ=${inspection.kernel.hz})` : ""
    }; tcp_retries2 ${k.retries2}. Every time below is a prediction of the kernel model, never a measurement.`,
    "",
  ];
  for (const note of inspection.notes) out.push(md`> ${note}`, "");
  out.push(md`## Released after`, "");
  for (const line of differenceWords(inspection)) out.push(md`**${line}**`, "");
  for (const g of inspection.card.groups) {
    out.push(
      md`${groupTitle(g, k)}:`,
      "",
      md`| Client | Released after (predicted) | Mechanism | Decided by |`,
      md`|---|---|---|---|`,
    );
    for (const e of g.exposures) {
      const after = e.release
        ? `${formatMs(e.release.afterMs)} ${FROM_WORDS[e.release.from]} (−${
          formatMs(e.release.toleranceMs.early)
        } +${formatMs(e.release.toleranceMs.late)})`
        : "never (no kernel timer ends it)";
      out.push(
        md`| ${CASE_WORDS[e.case]} | ${after} | ${MECHANISM_WORDS[e.mechanism]} | ${e.decidedBy} |`,
      );
    }
    out.push("");
  }
  out.push(md`${inspection.card.applicationTimeouts}.`, "");
  const known = inspection.card.knownTarget;
  if (known) {
    const more = known.sooner.length ? md`; settings that act sooner:` : md`.`;
    out.push(
      md`The process runs the binary of the built-in target **${known.id}**: see its published report ${
        link(known.id, known.report)
      } (version ${known.version})${more}`,
      "",
    );
    for (const s of known.sooner) {
      out.push(md`- ${link(s.variant, `reports/${s.variant}.md`)}: ${s.what}`);
    }
    if (known.sooner.length) out.push("");
  }
  out.push(md`## Connections that look dead now`, "");
  if (!inspection.deadLooking.length) out.push(md`None.`, "");
  for (const group of inspection.deadLooking) {
    out.push(md`**${group.kind}** (${group.count}): ${group.meaning}.`, "");
    for (const c of group.connections.slice(0, 50)) out.push(md`- ${deadWords(c)}`);
    if (group.connections.length > 50) out.push(md`- … and ${group.connections.length - 50} more`);
    out.push("");
  }
  return lines(out);
}
