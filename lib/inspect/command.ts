/**
 * The `inspect` command's work once its flags are parsed: which process, and which view.
 *
 * @module
 */

import { inspectProcess, listeningProcess } from "./inspect.ts";
import type { TargetBinary } from "./known_target.ts";
import { DEFAULT_LIMITS } from "./read_server.ts";
import { InspectRefused } from "./read_server.ts";
import { markdownCard, terminalView } from "./render.ts";

export { InspectRefused };

/**
 * The output of `inspect TARGET` (a PID or `:PORT`), as terminal text, JSON (`json`) or a
 * Markdown card (`md`); `targets` are the built-in targets whose binary the process may run.
 * Throws InspectRefused for input it cannot inspect (exit 2).
 *
 * @example
 * ```ts ignore
 * console.log(await inspect([":6379"], { json: true, md: false }));
 * ```
 */
export async function inspect(
  positionals: readonly string[],
  views: { json: boolean; md: boolean },
  targets: readonly TargetBinary[] = [],
): Promise<string> {
  if (positionals.length !== 1) {
    throw new InspectRefused(
      `"inspect" takes one PID or :PORT (got ${positionals.length} arguments)`,
    );
  }
  if (views.json && views.md) throw new InspectRefused(`"--json" and "--md" exclude each other`);
  const target = positionals[0]!;
  const port = /^:(\d{1,5})$/.exec(target);
  const pid = /^\d{1,10}$/.test(target) ? Number(target) : undefined;
  if (port && Number(port[1]) >= 1 && Number(port[1]) <= 65535) {
    return render(
      await inspectProcess(listeningProcess(Number(port[1])), DEFAULT_LIMITS, targets),
      views,
    );
  }
  if (pid === undefined || pid < 1) {
    throw new InspectRefused(`Expected a PID or :PORT (1 to 65535), got "${target}"`);
  }
  return render(await inspectProcess(pid, DEFAULT_LIMITS, targets), views);
}

function render(
  inspection: Awaited<ReturnType<typeof inspectProcess>>,
  views: { json: boolean; md: boolean },
): string {
  if (views.json) return `${JSON.stringify(inspection, null, 2)}\n`;
  if (views.md) return `${markdownCard(inspection)}\n`;
  return terminalView(inspection);
}
