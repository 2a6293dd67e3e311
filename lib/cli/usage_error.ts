/**
 * Errors a command reports with its own exit code: 2 for usage or input mistakes,
 * 3 when the harness itself failed.
 *
 * @module
 */

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, mustFailed: 1, usage: 2, harness: 3 } as const;

/** A mistake in the command line or an input file: exit code 2. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
