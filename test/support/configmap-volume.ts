/**
 * A folder laid out as the kubelet mounts a ConfigMap or Secret (its AtomicWriter): each generation is
 * a new `..<generation>` folder, `..data` is swapped onto it by an atomic rename, and each file is a
 * symlink into `..data`. Whatever reloads mounted files must follow that swap, not the file names.
 */
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Publishes `files` in `dir` as a new generation: a new folder, then the `..data` rename. */
export async function publishGeneration(dir: string, files: Record<string, Buffer | string>, generation: string): Promise<void> {
  const folder = join(dir, `..${generation}`);
  await mkdir(folder);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(folder, name), bytes);
  await symlink(`..${generation}`, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  // A name already published keeps its symlink: it now reads through the new `..data`.
  for (const name of Object.keys(files)) await symlink(join('..data', name), join(dir, name)).catch(() => undefined);
}
