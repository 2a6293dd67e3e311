/**
 * A scenario's timeline as a Mermaid sequence diagram (GitHub renders it): packets as arrows
 * between client, router and server; everything else as notes. Runs of the same event
 * (keepalive probes, retransmissions) are folded into one line with a count.
 *
 * @module
 */

import type { TimelineEvent } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { Markdown, mermaidText } from "./markdown_escape.ts";

const PARTICIPANT: Record<TimelineEvent["actor"], string> = {
  client: "C",
  server: "S",
  router: "R",
  bystander: "B",
  harness: "H",
};

function at(ms: number): string {
  return ms < 0 ? `-${formatMs(-ms)}` : `+${formatMs(ms)}`;
}

interface Folded {
  event: TimelineEvent;
  count: number;
  lastMs: number;
}

function fold(events: readonly TimelineEvent[]): Folded[] {
  const out: Folded[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (
      last && last.event.actor === event.actor && last.event.what === event.what &&
      last.event.to === event.to
    ) {
      last.count++;
      last.lastMs = event.atMs;
    } else {
      out.push({ event, count: 1, lastMs: event.atMs });
    }
  }
  return out;
}

/** The timeline as a fenced Mermaid block, at most `limit` lines after folding. */
export function mermaidTimeline(events: readonly TimelineEvent[], limit = 40): Markdown {
  const folded = fold(events);
  const shown = folded.length > limit
    ? [...folded.slice(0, limit - 1), folded.at(-1) as Folded]
    : folded;
  const actors = new Set(
    shown.flatMap((f) => [f.event.actor, ...(f.event.to ? [f.event.to] : [])]),
  );
  const lines = ["```mermaid", "sequenceDiagram"];
  for (
    const [actor, label] of [
      ["client", "Client"],
      ["router", "Router"],
      ["server", "Server"],
      ["bystander", "Other client"],
      ["harness", "clientdown"],
    ] as const
  ) {
    if (actors.has(actor)) lines.push(`  participant ${PARTICIPANT[actor]} as ${label}`);
  }
  shown.forEach((f, i) => {
    if (folded.length > limit && i === limit - 1) {
      lines.push(
        `  Note over ${PARTICIPANT[f.event.actor]}: ... ${folded.length - limit} more ...`,
      );
    }
    const span = f.count > 1
      ? ` ×${f.count} (${at(f.event.atMs)} … ${at(f.lastMs)})`
      : ` (${at(f.event.atMs)})`;
    const what = mermaidText(f.event.what).toString() + span;
    const from = PARTICIPANT[f.event.actor];
    if (f.event.to) {
      const arrow = /RST/.test(f.event.what) ? "-x" : "->>";
      lines.push(`  ${from}${arrow}${PARTICIPANT[f.event.to]}: ${what}`);
    } else {
      lines.push(`  Note over ${from}: ${what}`);
    }
  });
  if (shown.length === 0) lines.push("  Note over H: no events recorded");
  lines.push("```");
  // Every label went through mermaidText; the rest is this function's own syntax.
  return Markdown.unsafe(lines.join("\n"));
}
