/**
 * The import picture of the whole tree: image ← admission ← review ← {http, cli, audit}, fastify only in
 * http/, and no import cycle between files (type-only imports included: a cycle of types is still two
 * modules that cannot be understood apart).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(new URL('../../src', import.meta.url).pathname);

/**
 * What each area may import besides itself. Leaves (certs, deploy, version.ts, mounted-folders.ts) hold no
 * policy and import no layer; config.ts and server.ts assemble the server, and only the CLI and server.ts
 * read the config (http/ takes its settings as arguments: config.ts imports http/'s types, never the other
 * way round).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  image: [],
  signature: ['image'],
  admission: ['image', 'signature'],
  review: ['image', 'signature', 'admission'],
  http: ['image', 'signature', 'admission', 'review', 'certs', 'version'],
  audit: ['image', 'signature', 'admission', 'review'],
  // The controller keeps a live report of the stored Images: a consumer of the rules like audit scan.
  controller: ['image', 'signature', 'admission', 'review', 'audit', 'keys', 'certs', 'version', 'log-format'],
  // check and audit scan read --trusted-keys as the server does.
  cli: ['image', 'signature', 'admission', 'review', 'http', 'audit', 'controller', 'keys', 'certs', 'deploy', 'config', 'server', 'version', 'log-format'],
  // Both follow mounted Secrets and ConfigMaps on disk the same way.
  certs: ['mounted-folders'],
  // The trusted signing keys, loaded from files for the signature rules.
  keys: ['signature', 'mounted-folders'],
  // The image reference in the deploy files is checked with the rules' own pull-spec parser.
  deploy: ['image'],
  version: [],
  // JSON log lines or text for a terminal (serve, controller).
  'log-format': [],
  // Following a folder Kubernetes updates by a `..data` swap: a leaf.
  'mounted-folders': [],
  config: ['image', 'signature', 'admission', 'http', 'log-format'],
  server: ['http', 'certs', 'keys', 'signature', 'config', 'version', 'review', 'admission', 'log-format'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The area of a file: its folder under src/, or its own name for the files at the top. */
function areaOf(file: string): string {
  const [first, second] = relative(SRC, file).split('/');
  return second === undefined ? first!.replace(/\.ts$/, '') : first!;
}

/** Every module a file imports: static, type-only, re-exports and dynamic import() of a literal. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specs = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => (m[1] ?? m[2])!);
  return specs;
}

/** The import cycles of `graph`: its strongly connected components of two or more nodes (Tarjan). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indexes = new Map<string, number>();
  const lowest = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indexes.set(node, index);
    lowest.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indexes.has(next)) {
        visit(next);
        lowest.set(node, Math.min(lowest.get(node)!, lowest.get(next)!));
      } else if (onStack.has(next)) lowest.set(node, Math.min(lowest.get(node)!, indexes.get(next)!));
    }
    if (lowest.get(node) === indexes.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indexes.has(node)) visit(node);
  return cycles;
}

const files = sourceFiles(SRC);
const graph = new Map<string, string[]>(
  files.map((file) => [
    file,
    importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts'))),
  ]),
);

describe('the layers', () => {
  it('know every area of src/', () => {
    expect([...new Set(files.map(areaOf))].filter((area) => !(area in MAY_IMPORT))).toEqual([]);
  });

  it('import only downwards', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = areaOf(file);
      for (const target of targets) {
        const to = areaOf(target);
        if (to !== from && !MAY_IMPORT[from]!.includes(to)) wrong.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keep fastify in http/', () => {
    // server.ts listens with the app http/ builds (src/server.ts is its only listener), and names its type.
    const outside = files.filter((file) => areaOf(file) !== 'http' && areaOf(file) !== 'server' && importsOf(file).some((spec) => spec === 'fastify' || spec.startsWith('@fastify/')));
    expect(outside.map((file) => relative(SRC, file))).toEqual([]);
  });

  it('have no import cycle between files', () => {
    expect(cyclesOf(graph).map((cycle) => cycle.map((file) => relative(SRC, file)))).toEqual([]);
  });

  it('have no import cycle between areas (folders and top-level files)', () => {
    // Each file may be acyclic while its folder is not: config.ts importing http/tls-policy.ts while
    // http/app.ts imports config.ts is a loop of areas that the table above could not see.
    const areas = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = areaOf(file);
      const edges = areas.get(from) ?? [];
      for (const target of targets) if (areaOf(target) !== from && !edges.includes(areaOf(target))) edges.push(areaOf(target));
      areas.set(from, edges);
    }
    expect(cyclesOf(areas)).toEqual([]);
  });

  it('resolve every relative import to a file (the check above sees the whole graph)', () => {
    const missing = [...graph.entries()].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${relative(SRC, file)} → ${relative(SRC, t)}`));
    expect(missing).toEqual([]);
  });
});
