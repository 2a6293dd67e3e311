/**
 * Writing a file so that it is either the old file or the whole new one, never a truncated
 * mix: the text goes to a temporary file in the same directory, is flushed to disk, and is
 * renamed over the target (rename is atomic within one file system). A full disk or a
 * read-only directory leaves the old file as it was.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/**
 * Writes `text` to `path` atomically; on failure the temporary file is removed and the error
 * is thrown, and `path` is untouched.
 *
 * @example
 * ```ts ignore
 * import { writeFileAtomic } from "./atomic_write.ts";
 * await writeFileAtomic("reports/ref-hardened.json", "{}\n");
 * ```
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  const temp = join(dirname(path), `.${basename(path)}.${Deno.pid}-${random}.tmp`);
  const bytes = new TextEncoder().encode(text);
  let created = false;
  try {
    using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
    created = true;
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
    // Data on disk before the rename makes it visible: a crash then leaves the old file.
    await file.sync();
  } catch (error) {
    if (created) await Deno.remove(temp).catch(() => {});
    throw error;
  }
  try {
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Checks that files can be created in `dir` (making it when missing) by creating and
 * removing a probe file: a read-only mount, missing permissions or a path that is a file all
 * show here, before any work is done. Throws the file system's error.
 */
export async function probeWritable(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const probe = join(dir, `.clientdown-probe-${Deno.pid}.tmp`);
  await Deno.writeTextFile(probe, "");
  await Deno.remove(probe);
}
