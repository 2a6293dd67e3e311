import assert from "node:assert/strict";
import mermaid from "mermaid";
import type { Results, TimelineEvent } from "../results/schema.ts";
import { formatMs } from "../time/duration.ts";
import { mermaidText } from "./markdown_escape.ts";
import { mermaidTimeline, TIMELINE_MAX_LINES } from "./mermaid_timeline.ts";
import { renderTargetReport } from "./target_report.ts";
import { SAMPLE } from "./testdata/sample_results.ts";

const REPORTS = new URL("../../reports/", import.meta.url);

/** The sample, and every results file published in reports/, by file name. */
function allResults(): [string, Results][] {
  const published: [string, Results][] = [];
  try {
    for (const entry of Deno.readDirSync(REPORTS)) {
      if (entry.name.endsWith(".json") && entry.name !== "index.json") {
        published.push([
          entry.name,
          JSON.parse(Deno.readTextFileSync(new URL(entry.name, REPORTS))),
        ]);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  published.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return [["sample", SAMPLE], ...published];
}

/** A time stamp as the diagram writes it. */
function stamp(ms: number): string {
  return ms < 0 ? `−${formatMs(-ms)}` : `+${formatMs(ms)}`;
}

/** The messages and notes of a diagram (participants and fences aside). */
function drawn(diagram: string): string[] {
  return diagram.split("\n").filter((l) => /^ {2}(Note over |\w+(->>|-x)\w+:)/.test(l));
}

/** The diagram's line that shows `what` (numbers aside) at `ms`, if any. */
function lineOf(diagram: string, what: string, ms: number): string | undefined {
  const words = mermaidText(what.split(/[\d(,]/)[0]?.trim() ?? "").toString();
  return drawn(diagram).find((l) => l.includes(words) && l.includes(stamp(ms)));
}

Deno.test("every Mermaid timeline in the reports parses as a sequence diagram", async () => {
  let parsed = 0;
  for (const [, results] of allResults()) {
    const markdown = renderTargetReport(results);
    for (const [, diagram] of markdown.matchAll(/```mermaid\n([^]*?)```/g)) {
      try {
        const { diagramType } = await mermaid.parse(diagram ?? "");
        assert.equal(diagramType, "sequence");
      } catch (error) {
        assert.fail(`${results.target.id}: a timeline does not parse: ${error}\n${diagram}`);
      }
      parsed++;
    }
  }
  assert(parsed > 0);
});

Deno.test("every published timeline: at most 25 lines, the fault, the release and the end kept", () => {
  const before: number[] = [];
  const after: number[] = [];
  let scenarios = 0;
  for (const [file, results] of allResults()) {
    for (const s of results.scenarios) {
      if (s.evidence.length === 0) continue;
      const where = `${file} ${s.id}`;
      const diagram = mermaidTimeline(s.evidence).toString();
      assert.equal(mermaidTimeline(s.evidence).toString(), diagram, `${where}: deterministic`);
      const lines = drawn(diagram);
      assert(lines.length <= TIMELINE_MAX_LINES, `${where}: ${lines.length} lines\n${diagram}`);
      const sorted = s.evidence.toSorted((a, b) => a.atMs - b.atMs);
      const last = sorted.at(-1) as TimelineEvent;
      assert(lineOf(diagram, last.what, last.atMs), `${where}: last event kept\n${diagram}`);
      for (const e of sorted) {
        const fault = /^fault: (?!heal)/.test(e.what);
        const release = e.actor === "server" && /^socket (freed|closed)/.test(e.what);
        if (fault || release) {
          assert(lineOf(diagram, e.what, e.atMs), `${where}: "${e.what}" kept\n${diagram}`);
        }
      }
      // A server's first FIN or RST (the release on the wire) keeps its moment.
      const wire = sorted.find((e) => e.actor === "server" && /^(FIN|RST)/.test(e.what));
      if (wire && !/retransmission/.test(wire.what)) {
        assert(lineOf(diagram, wire.what, wire.atMs), `${where}: "${wire.what}"\n${diagram}`);
      }
      before.push(s.evidence.length);
      after.push(lines.length);
      scenarios++;
    }
  }
  const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[xs.length >> 1];
  console.log(
    `${scenarios} published timelines: events median ${median(before)}, max ${
      Math.max(...before)
    }; drawn lines median ${median(after)}, max ${Math.max(...after)}`,
  );
  assert(scenarios > 0);
});

Deno.test("published stories with the router's drops marked: nothing after the fault reaches the client", () => {
  let stories = 0;
  let drops = 0;
  for (const [file, results] of allResults()) {
    for (const s of results.scenarios) {
      // The runner's rule, for files that predate `dropped`: a vanish or an ICMP rejection
      // leaves the client silent from the fault on (these scenarios never heal).
      const fault = s.evidence.find((e) => /^fault: (vanish|icmp-unreachable)\b/.test(e.what));
      if (!fault || s.evidence.some((e) => /^fault: heal/.test(e.what))) continue;
      const evidence = s.evidence.map((e): TimelineEvent =>
        e.actor === "server" && e.to === "client" && e.atMs > fault.atMs
          ? { ...e, dropped: true }
          : e
      );
      if (!evidence.some((e) => e.dropped)) continue;
      const lines = drawn(mermaidTimeline(evidence).toString());
      const after = lines.slice(lines.findIndex((l) => l.includes(fault.what)) + 1);
      const where = `${file} ${s.id}`;
      assert(lines.length <= TIMELINE_MAX_LINES, `${where}\n${lines.join("\n")}`);
      assert(!after.some((l) => l.includes("S->>C")), `${where}\n${lines.join("\n")}`);
      assert(after.some((l) => /^ {2}S-xR: .*dropped by the router/.test(l)), where);
      drops += after.filter((l) => l.startsWith("  S-xR:")).length;
      stories++;
    }
  }
  console.log(`${stories} published stories with drops marked: ${drops} lines drawn as drops`);
  assert(stories > 0);
});

/** A connection set up before the fault: handshake, request, response (12 events). */
function setUp(): TimelineEvent[] {
  return [
    { atMs: -184, actor: "client", kind: "handshake", to: "server", what: "SYN" },
    { atMs: -184, actor: "server", kind: "handshake", to: "client", what: "SYN-ACK" },
    { atMs: -183, actor: "client", kind: "setup", what: "connect" },
    { atMs: -120, actor: "server", kind: "socket-open", what: "socket ESTABLISHED" },
    { atMs: -118, actor: "client", kind: "data", to: "server", what: "data" },
    ...Array.from({ length: 6 }, (_, i) => ({
      atMs: -100 + 15 * i,
      actor: "server" as const,
      to: "client" as const,
      kind: "data" as const,
      what: "data",
    })),
    { atMs: -8, actor: "client", kind: "setup", what: "exchange" },
  ];
}

Deno.test("a zero-window story: thirteen probe and reply pairs are one line", () => {
  const probes = [
    200,
    600,
    1400,
    3000,
    6200,
    12_600,
    25_400,
    51_000,
    102_000,
    204_000,
    324_000,
    444_000,
    582_000,
  ];
  const events: TimelineEvent[] = [
    ...setUp(),
    { atMs: 0, actor: "client", kind: "fault", what: "fault: client stops reading" },
    { atMs: 85, actor: "client", kind: "bulk", to: "server", what: "ACK, window 0" },
    ...probes.flatMap((ms, i): TimelineEvent[] => [
      { atMs: ms, actor: "server", kind: "other-packet", to: "client", what: "zero-window probe" },
      { atMs: ms + 1, actor: "client", kind: "bulk", to: "server", what: "ACK, window 0" },
      {
        atMs: ms + 40,
        actor: "server",
        kind: "timer",
        timer: "zero window probe timer",
        count: i,
        what: `zero window probe timer, ${i} probe(s) unanswered`,
      },
    ]),
  ];
  const diagram = mermaidTimeline(events).toString();
  const lines = drawn(diagram);
  assert(lines.length <= 6, diagram);
  assert(
    lines.includes(
      "  S->>C: wrap: zero-window probe ×13 (+200 ms … +9.7 min), all answered with ACK, window 0",
    ),
    diagram,
  );
  assert(lines.includes("  C->>S: ACK, window 0 (+85 ms)"), diagram);
  assert(lines.some((l) => l.includes("zero window probe timer ×13")), diagram);
  assert(lines.includes("  Note over C: fault: client stops reading (+0 ms)"), diagram);
  assert.match(
    lines[0] ?? "",
    /^ {2}Note over C,S: wrap: before the fault \(−184 ms … −8 ms\), connection set up, exchange, 9 packets \(SYN, SYN-ACK, data ×7\)$/,
  );
});

/** Moments of `n` retransmissions: RTO 200 ms, doubling, at most 120 s. */
function retransmissions(n: number): number[] {
  const out: number[] = [];
  let at = 150;
  for (let i = 0; i < n; i++) {
    at += Math.min(200 * 2 ** i, 120_000);
    out.push(at);
  }
  return out;
}

Deno.test("packets the router dropped end at the router, ICMP goes from the router to the server", () => {
  const events: TimelineEvent[] = [
    ...setUp(),
    { atMs: 0, actor: "router", kind: "fault", what: "fault: icmp-unreachable (host-unreachable)" },
    { atMs: 150, actor: "server", kind: "data", to: "client", what: "data", dropped: true },
    { atMs: 151, actor: "router", kind: "icmp", to: "server", what: "ICMP host unreachable" },
    ...retransmissions(13).flatMap((ms): TimelineEvent[] => [
      {
        atMs: ms,
        actor: "server",
        kind: "bulk",
        to: "client",
        what: "data retransmission",
        dropped: true,
      },
      { atMs: ms + 1, actor: "router", kind: "icmp", to: "server", what: "ICMP host unreachable" },
    ]),
    { atMs: 660_000, actor: "server", kind: "release", what: "socket freed" },
  ];
  const diagram = mermaidTimeline(events).toString();
  const lines = drawn(diagram);
  assert(
    !lines.some((l) => l.includes("S->>C")),
    `nothing drawn as reaching the client\n${diagram}`,
  );
  assert(lines.includes("  S-xR: data (+150 ms), dropped by the router"), diagram);
  assert(lines.includes("  R->>S: ICMP host unreachable (+151 ms)"), diagram);
  const run = lines.find((l) => l.startsWith("  S-xR: wrap: data retransmission ×13"));
  assert(run, diagram);
  assert.match(run, /dropped by the router, all answered by the router with ICMP host unreachable/);
  assert(lines.includes("  Note over S: socket freed (+11 min)"), diagram);
  assert.match(diagram, /participant R as Router/);
});

Deno.test("a long quiet stretch is marked: 75 s do not look like 12 ms", () => {
  const events: TimelineEvent[] = [
    ...setUp(),
    { atMs: 0, actor: "router", kind: "fault", what: "fault: vanish" },
    { atMs: 12, actor: "server", kind: "socket-open", what: "socket ESTABLISHED" },
    { atMs: 75_012, actor: "server", kind: "close", to: "client", what: "FIN-ACK", dropped: true },
    {
      atMs: 75_020,
      actor: "server",
      kind: "release" as const,
      what: "socket closed by the server (FIN_WAIT1)",
    },
  ];
  const lines = drawn(mermaidTimeline(events).toString());
  const gap = lines.indexOf("  Note over C,S: … 75 s pass …");
  assert(gap > 0, lines.join("\n"));
  assert.match(lines[gap - 1] ?? "", /\(\+12 ms\)/);
  assert.match(lines[gap + 1] ?? "", /FIN-ACK \(\+75 s\)/);
});

Deno.test("a story too long for 25 lines loses the middle of its least important stretch and says what", () => {
  const events: TimelineEvent[] = [
    ...setUp(),
    { atMs: 0, actor: "router", kind: "fault", what: "fault: vanish" },
    ...Array.from({ length: 40 }, (_, i): TimelineEvent[] => [
      {
        atMs: 1000 + 500 * i,
        actor: "client",
        kind: "step" as const,
        what: `step ${"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"[i]}`,
      },
      {
        atMs: 1100 + 500 * i,
        actor: "server",
        kind: "data",
        to: "client",
        what: "data",
        dropped: true,
      },
    ]).flat(),
    { atMs: 30_000, actor: "server", kind: "close", to: "client", what: "RST", dropped: true },
    { atMs: 30_001, actor: "server", kind: "release", what: "socket freed" },
    { atMs: 31_000, actor: "client", kind: "failed", what: "exchange failed: ECONNRESET" },
  ];
  const diagram = mermaidTimeline(events).toString();
  const lines = drawn(diagram);
  assert(lines.length <= TIMELINE_MAX_LINES, `${lines.length} lines\n${diagram}`);
  assert(lines.includes("  Note over R: fault: vanish (+0 ms)"), diagram);
  assert(lines.includes("  Note over C: step a (+1 s)"), diagram);
  assert(lines.includes("  Note over S: socket freed (+30 s)"), diagram);
  assert.equal(lines.at(-1), "  Note over C: exchange failed: ECONNRESET (+31 s)");
  const left = lines.filter((l) => l.includes("left out"));
  assert.equal(left.length, 1, diagram);
  assert.match(left[0] ?? "", /… \d+ events left out \(\+[\d.]+ s … \+[\d.]+ s\), data ×\d+, step/);
  // The same story in 8 lines still has its fault, release and end.
  const short = drawn(mermaidTimeline(events, 8).toString());
  assert(short.length <= 8, short.join("\n"));
  for (const kept of ["fault: vanish", "socket freed", "exchange failed"]) {
    assert(short.some((l) => l.includes(kept)), short.join("\n"));
  }
});

Deno.test("same input, same bytes; no events, one note", () => {
  const events = setUp();
  assert.equal(mermaidTimeline(events).toString(), mermaidTimeline([...events]).toString());
  assert.equal(
    mermaidTimeline([]).toString(),
    "```mermaid\nsequenceDiagram\n  participant C as Client\n  participant S as Server\n" +
      "  Note over C,S: no events recorded\n```",
  );
});

Deno.test("every crafted timeline parses as a Mermaid sequence diagram", async () => {
  const events: TimelineEvent[] = [
    ...setUp(),
    { atMs: 0, actor: "router", kind: "fault", what: "fault: icmp-unreachable (host-unreachable)" },
    {
      atMs: 10,
      actor: "server",
      kind: "bulk",
      to: "client",
      what: "data retransmission",
      dropped: true,
    },
    { atMs: 11, actor: "router", kind: "icmp", to: "server", what: "ICMP host unreachable" },
    { atMs: 90_000, actor: "harness", kind: "step", what: "waited 90s" },
    { atMs: 90_001, actor: "bystander", kind: "no-answer", what: "no answer: ETIMEDOUT" },
  ];
  for (const limit of [3, 8, 25]) {
    const diagram = mermaidTimeline(events, limit).toString().replace(/^```mermaid\n|```$/g, "");
    const { diagramType } = await mermaid.parse(diagram);
    assert.equal(diagramType, "sequence");
  }
});

Deno.test("the fault is drawn from zero, when it began, to when it took effect", () => {
  const diagram = mermaidTimeline([
    ...setUp(),
    { atMs: 8, actor: "router", kind: "fault", what: "fault: vanish" },
    { atMs: 75_000, actor: "server", kind: "release", what: "socket freed" },
  ]).toString();
  assert.ok(diagram.includes("  Note over R: fault: vanish (+0 ms … +8 ms)"), diagram);
});
