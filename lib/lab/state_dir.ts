/**
 * Where labs keep their files: owner records, generated configs, logs, captures.
 * `CLIENTDOWN_STATE` overrides the default `/run/clientdown` (a tmpfs on Debian).
 *
 * @module
 */

/** The root of clientdown's state. */
export function stateDir(): string {
  return Deno.env.get("CLIENTDOWN_STATE") ?? "/run/clientdown";
}

/** The directory that holds one record per running owner process. */
export function ownersDir(): string {
  return `${stateDir()}/owners`;
}

/** The working directory of one lab. */
export function labDir(run: string, index: number): string {
  return `${stateDir()}/labs/${run}-${index}`;
}
