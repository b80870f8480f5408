/**
 * The inputs `check` reads: files as named, standard input for `-`, and with -R the manifest files
 * under a directory (`.json`, `.yaml`, `.yml`, as `kubectl apply -R -f` reads them). What cannot be an
 * input is a problem naming the path, never a raw EISDIR.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One input: where to read it (`-` for standard input) and how results name it. */
export interface Input {
  path: string;
  name: string;
  /** Named on the command line: it must hold an Image. Files found under a directory may hold other kinds. */
  named: boolean;
}

/** A path that gave no input, and why. */
export interface InputProblem {
  file: string;
  reason: string;
}

/** Manifest file names under a directory. */
const MANIFEST = /\.(json|ya?ml)$/i;

/** The inputs `args` name, in order, directories walked in name order when `recursive`. */
export async function expandInputs(args: readonly string[], recursive: boolean): Promise<{ inputs: Input[]; problems: InputProblem[] }> {
  const inputs: Input[] = [];
  const problems: InputProblem[] = [];
  for (const arg of args) {
    if (arg === '-') {
      inputs.push({ path: '-', name: '<stdin>', named: true });
      continue;
    }
    let info;
    try {
      info = await stat(arg);
    } catch (error) {
      problems.push({ file: arg, reason: fileSystemReason(error) });
      continue;
    }
    if (info.isFile()) inputs.push({ path: arg, name: arg, named: true });
    else if (!info.isDirectory()) problems.push({ file: arg, reason: 'not a regular file' });
    else if (!recursive) problems.push({ file: arg, reason: 'is a directory: pass -R to check the .json, .yaml and .yml files under it' });
    else {
      const found = await walk(arg, new Set(), problems);
      if (found.length === 0) problems.push({ file: arg, reason: 'holds no .json, .yaml or .yml file' });
      inputs.push(...found.map((path) => ({ path, name: path, named: false })));
    }
  }
  return { inputs, problems };
}

/** The manifest files under `dir`, sorted; hidden entries (`.git`) are left out, and each directory is read once. */
async function walk(dir: string, seen: Set<string>, problems: InputProblem[]): Promise<string[]> {
  let names: string[];
  try {
    // A symbolic link back up the tree must not loop.
    const real = await realpath(dir);
    if (seen.has(real)) return [];
    seen.add(real);
    names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  } catch (error) {
    problems.push({ file: dir, reason: fileSystemReason(error) });
    return [];
  }
  const files: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      // A dangling symbolic link is not a manifest; anything else unreadable is reported.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ file: path, reason: fileSystemReason(error) });
      continue;
    }
    if (info.isDirectory()) files.push(...(await walk(path, seen, problems)));
    else if (info.isFile() && MANIFEST.test(name)) files.push(path);
  }
  return files;
}

/** A file system error as a reason a person reads. */
export function fileSystemReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return `cannot be read: ${code ?? (error instanceof Error ? error.message : String(error))}`;
  }
}
