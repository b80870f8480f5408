/**
 * Benchmark of `image-admission audit review` (the built dist/, as shipped) against jq running a
 * comparable filter on the same generated audit log, at two sizes, in one run: throughput (MB/s) and
 * peak RSS (from /usr/bin/time). Budget: at least 2x jq's throughput, and memory that does not grow
 * with the file.
 *
 *   npm run bench:audit                       # 1 GB and 256 MB
 *   AUDIT_BENCH_MB=300 npm run bench:audit    # 300 MB and 75 MB
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineTemplates } from '../test/audit/audit-log.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const largeMb = Number(process.env.AUDIT_BENCH_MB ?? '1000');
const sizes = [Math.round(largeMb / 4), largeMb];
const JQ_FILTER = 'select(.objectRef.apiGroup=="image.openshift.io" and .stage=="ResponseComplete") | {a: .annotations, c: .responseStatus.code}';

function need(tool: string, aptPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return;
  console.error(`${tool} is missing: installing the Debian package ${aptPackage}`);
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${aptPackage}`], { stdio: 'inherit' });
}

/** Writes an audit log of about `mb` megabytes: ~10% Image events (all kinds and levels), the rest noise. */
function generate(path: string, mb: number): number {
  const templates = lineTemplates(240, 9);
  const target = mb * 1e6;
  const fd = openSync(path, 'w');
  let written = 0;
  let t = Date.parse('2024-06-03T00:00:00.000Z');
  let i = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  while (written + batchBytes < target) {
    const stamp = new Date(t).toISOString().replace('Z', '000Z');
    const line = `${templates[i % templates.length]!.parts.join(stamp)}\n`;
    batch.push(line);
    batchBytes += line.length;
    i++;
    t += 40;
    if (batchBytes > 4e6) {
      written += writeSync(fd, batch.join(''));
      batch = [];
      batchBytes = 0;
    }
  }
  written += writeSync(fd, batch.join(''));
  closeSync(fd);
  return written;
}

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS in MB. */
function measure(command: string[]): { seconds: number; cpuSeconds: number; rssMb: number; status: number } {
  const timeFile = join(tmpdir(), `bench-time-${process.pid}`);
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...command], { stdio: ['ignore', 'ignore', 'inherit'] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(timeFile, { force: true });
  return { seconds, cpuSeconds: user! + sys!, rssMb: rssKb! / 1024, status: result.status ?? -1 };
}

function main(): number {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  need('jq', 'jq');
  need('/usr/bin/time', 'time');
  const dir = mkdtempSync(join(tmpdir(), 'audit-bench-'));
  const rows: { mb: number; tool: string; seconds: number; mbPerS: number; cpuSeconds: number; mbPerCpuS: number; rssMb: number }[] = [];
  try {
    for (const mb of sizes) {
      const file = join(dir, `audit-${mb}mb.log`);
      const began = Date.now();
      const bytes = generate(file, mb);
      console.error(`generated ${(bytes / 1e6).toFixed(0)} MB in ${((Date.now() - began) / 1000).toFixed(1)} s: ${file}`);
      const size = statSync(file).size / 1e6;
      const ours = measure([process.execPath, cli, 'audit', 'review', file, '--json']);
      // Exit 1 is expected (the log holds writes that got through); anything else is a failure.
      if (ours.status !== 0 && ours.status !== 1) throw new Error(`audit review exited ${ours.status}`);
      const jq = measure(['jq', '-c', JQ_FILTER, file]);
      // No malformed lines in this file: jq stops at the first one, which would flatter it.
      if (jq.status !== 0) throw new Error(`jq exited ${jq.status}`);
      for (const [tool, m] of [['image-admission audit review', ours], ['jq (comparable filter)', jq]] as const) {
        rows.push({ mb: size, tool, seconds: m.seconds, mbPerS: size / m.seconds, cpuSeconds: m.cpuSeconds, mbPerCpuS: size / m.cpuSeconds, rssMb: m.rssMb });
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Wall-clock MB/s is the budget; MB per CPU-second is shown too, since other work on the machine
  // slows both tools' wall clock alike but not their CPU time.
  console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} CPUs`);
  console.log('size MB  tool                           wall s    MB/s   CPU s  MB/CPU-s  peak RSS MB');
  for (const r of rows) {
    console.log(
      `${r.mb.toFixed(0).padStart(7)}  ${r.tool.padEnd(30)} ${r.seconds.toFixed(2).padStart(6)} ${r.mbPerS.toFixed(1).padStart(7)} ${r.cpuSeconds.toFixed(2).padStart(7)} ${r.mbPerCpuS.toFixed(1).padStart(9)} ${r.rssMb.toFixed(1).padStart(12)}`,
    );
  }
  const ours = rows.filter((r) => r.tool.startsWith('image-admission'));
  const jq = rows.filter((r) => r.tool.startsWith('jq'));
  const ratio = Math.min(...ours.map((r, i) => r.mbPerS / jq[i]!.mbPerS));
  const cpuRatio = Math.min(...ours.map((r, i) => r.mbPerCpuS / jq[i]!.mbPerCpuS));
  const growth = ours[1]!.rssMb - ours[0]!.rssMb;
  const fast = ratio >= 2;
  // Flat: 4x the input may cost at most 10% (or 16 MB) more memory.
  const flat = growth <= Math.max(16, ours[0]!.rssMb * 0.1);
  console.log(`throughput vs jq: ${ratio.toFixed(2)}x wall-clock, ${cpuRatio.toFixed(2)}x per CPU-second (budget >= 2x wall-clock): ${fast ? 'PASS' : 'FAIL'}`);
  console.log(`peak RSS ${ours[0]!.rssMb.toFixed(1)} MB at ${ours[0]!.mb.toFixed(0)} MB, ${ours[1]!.rssMb.toFixed(1)} MB at ${ours[1]!.mb.toFixed(0)} MB (growth ${growth.toFixed(1)} MB): ${flat ? 'PASS (flat)' : 'FAIL (grows)'}`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'audit.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, ratio, cpuRatio, growth }, null, 2)}\n`);
  return fast && flat ? 0 : 1;
}

process.exitCode = main();
