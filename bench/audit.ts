/**
 * Benchmark of `image-admission audit review` (the built dist/, as shipped) against jq, in one run:
 *
 * 1. a busy cluster's log (10% Image events) at two sizes, against a jq filter selecting the Image
 *    events: throughput (MB/s) and peak RSS (from /usr/bin/time);
 * 2. a log made only of Image events, against bench/outcomes.jq, a jq program computing the same
 *    outcome counts (checked equal): the case where no line can be skipped on its bytes;
 * 3. the large log gzipped, streamed: peak RSS.
 *
 * Budget: at least 2x jq's throughput in 1 and 2, memory flat between the sizes, under 100 MiB for gzip.
 *
 *   npm run bench:audit                       # 1 GB and 250 MB; 250 MB of Image events
 *   AUDIT_BENCH_MB=300 npm run bench:audit    # 300 MB and 75 MB; 75 MB of Image events
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineTemplates } from '../test/audit/audit-log.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const largeMb = Number(process.env.AUDIT_BENCH_MB ?? '1000');
const sizes = [Math.round(largeMb / 4), largeMb];
const JQ_FILTER = 'select(.objectRef.apiGroup=="image.openshift.io" and .stage=="ResponseComplete") | {a: .annotations, c: .responseStatus.code}';

const OUTCOMES_JQ = join(root, 'bench', 'outcomes.jq');
const GZIP_BUDGET_MB = 100 * 1.048576;

function need(tool: string, aptPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return;
  console.error(`${tool} is missing: installing the Debian package ${aptPackage} (apt-get install -y ${aptPackage})`);
  try {
    execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${aptPackage}`], { stdio: 'inherit' });
  } catch {
    throw new Error(`${tool} is missing and could not be installed: run apt-get install -y ${aptPackage} (as root), then npm run bench:audit again`);
  }
}

/** Writes an audit log of about `mb` megabytes: ~10% Image events (all kinds and levels), the rest noise. */
function generate(path: string, mb: number, noise = 9): number {
  const templates = lineTemplates(240, noise);
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
function measure(command: string[], stdout?: string): { seconds: number; cpuSeconds: number; rssMb: number; status: number } {
  const timeFile = join(tmpdir(), `bench-time-${process.pid}`);
  const out = stdout === undefined ? 'ignore' : openSync(stdout, 'w');
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...command], { stdio: ['ignore', out, 'inherit'] });
  if (typeof out === 'number') closeSync(out);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(timeFile, { force: true });
  return { seconds, cpuSeconds: user! + sys!, rssMb: rssKb! / 1024, status: result.status ?? -1 };
}

async function main(): Promise<number> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  need('jq', 'jq');
  need('/usr/bin/time', 'time');
  const dir = mkdtempSync(join(tmpdir(), 'audit-bench-'));
  const rows: { mb: number; tool: string; seconds: number; mbPerS: number; cpuSeconds: number; mbPerCpuS: number; rssMb: number }[] = [];
  const row = (mb: number, tool: string, m: ReturnType<typeof measure>) =>
    rows.push({ mb, tool, seconds: m.seconds, mbPerS: mb / m.seconds, cpuSeconds: m.cpuSeconds, mbPerCpuS: mb / m.cpuSeconds, rssMb: m.rssMb });
  // Exit 1 is expected (the logs hold writes that need attention); anything else is a failure.
  const reviewed = (m: ReturnType<typeof measure>) => {
    if (m.status !== 0 && m.status !== 1) throw new Error(`audit review exited ${m.status}`);
    return m;
  };
  let countsMatch = false;
  let gzipRss = Infinity;
  let gzipMb = 0;
  try {
    // 1. A busy cluster's log at two sizes. --ndjson streams the listed writes: flat memory.
    let large = '';
    for (const mb of sizes) {
      const file = join(dir, `audit-${mb}mb.log`);
      const began = Date.now();
      const bytes = generate(file, mb);
      console.error(`generated ${(bytes / 1e6).toFixed(0)} MB in ${((Date.now() - began) / 1000).toFixed(1)} s: ${file}`);
      const size = statSync(file).size / 1e6;
      row(size, 'audit review (mixed log)', reviewed(measure([process.execPath, cli, 'audit', 'review', file, '--ndjson'])));
      const jq = measure(['jq', '-c', JQ_FILTER, file]);
      // No malformed lines in this file: jq stops at the first one, which would flatter it.
      if (jq.status !== 0) throw new Error(`jq exited ${jq.status}`);
      row(size, 'jq select (mixed log)', jq);
      if (mb === largeMb) large = file;
      else rmSync(file, { force: true });
    }

    // 3. The large log gzipped, streamed through gunzip: memory must stay flat and small.
    const zipped = `${large}.gz`;
    await pipeline(createReadStream(large), createGzip({ level: 1 }), createWriteStream(zipped));
    rmSync(large, { force: true });
    gzipMb = statSync(zipped).size / 1e6;
    const gz = reviewed(measure([process.execPath, cli, 'audit', 'review', zipped, '--ndjson']));
    row(gzipMb, 'audit review (gzip, compressed MB)', gz);
    gzipRss = gz.rssMb;
    rmSync(zipped, { force: true });

    // 2. Only Image events: every line is parsed by both; jq computes the same counts.
    const images = join(dir, 'audit-images.log');
    const imagesSize = generate(images, sizes[0]!, 0) / 1e6;
    const ours = reviewed(measure([process.execPath, cli, 'audit', 'review', images, '--ndjson'], join(dir, 'ours.ndjson')));
    row(imagesSize, 'audit review (Image events only)', ours);
    const jq = measure(['jq', '-n', '-c', '-f', OUTCOMES_JQ, images], join(dir, 'jq.json'));
    if (jq.status !== 0) throw new Error(`jq exited ${jq.status}`);
    row(imagesSize, 'jq outcome counts (Image events only)', jq);
    // The last line of the stream is the summary, with the counts.
    const summary = readFileSync(join(dir, 'ours.ndjson'), 'utf8').trimEnd().split('\n').pop()!;
    const ourCounts = Object.fromEntries(Object.entries((JSON.parse(summary) as { outcomes: Record<string, number> }).outcomes).filter(([, n]) => n > 0));
    const jqCounts = JSON.parse(readFileSync(join(dir, 'jq.json'), 'utf8')) as Record<string, number>;
    const sorted = (c: Record<string, number>) => JSON.stringify(Object.fromEntries(Object.entries(c).sort()));
    countsMatch = sorted(ourCounts) === sorted(jqCounts);
    console.log(`outcome counts: audit review ${sorted(ourCounts)}; jq ${sorted(jqCounts)}: ${countsMatch ? 'equal' : 'DIFFERENT'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Wall-clock MB/s is the budget; MB per CPU-second is shown too, since other work on the machine
  // slows both tools' wall clock alike but not their CPU time.
  console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} CPUs`);
  console.log('size MB  tool                                     wall s    MB/s   CPU s  MB/CPU-s  peak RSS MB');
  for (const r of rows) {
    console.log(
      `${r.mb.toFixed(0).padStart(7)}  ${r.tool.padEnd(40)} ${r.seconds.toFixed(2).padStart(6)} ${r.mbPerS.toFixed(1).padStart(7)} ${r.cpuSeconds.toFixed(2).padStart(7)} ${r.mbPerCpuS.toFixed(1).padStart(9)} ${r.rssMb.toFixed(1).padStart(12)}`,
    );
  }
  const find = (tool: string) => rows.filter((r) => r.tool === tool);
  const ours = find('audit review (mixed log)');
  const jq = find('jq select (mixed log)');
  const ratio = Math.min(...ours.map((r, i) => r.mbPerS / jq[i]!.mbPerS));
  const cpuRatio = Math.min(...ours.map((r, i) => r.mbPerCpuS / jq[i]!.mbPerCpuS));
  const [oursImages] = find('audit review (Image events only)');
  const [jqImages] = find('jq outcome counts (Image events only)');
  const imagesRatio = oursImages!.mbPerS / jqImages!.mbPerS;
  const imagesCpuRatio = oursImages!.mbPerCpuS / jqImages!.mbPerCpuS;
  const growth = ours[1]!.rssMb - ours[0]!.rssMb;
  const fast = ratio >= 2 && imagesRatio >= 2;
  // Flat: 4x the input may cost at most 10% (or 16 MB) more memory.
  const flat = growth <= Math.max(16, ours[0]!.rssMb * 0.1);
  const gzipSmall = gzipRss < GZIP_BUDGET_MB;
  console.log(`mixed log vs jq select: ${ratio.toFixed(2)}x wall-clock, ${cpuRatio.toFixed(2)}x per CPU-second (budget >= 2x wall-clock)`);
  console.log(`Image events only vs jq outcome counts: ${imagesRatio.toFixed(2)}x wall-clock, ${imagesCpuRatio.toFixed(2)}x per CPU-second (budget >= 2x wall-clock); counts ${countsMatch ? 'equal' : 'DIFFERENT'}`);
  console.log(`throughput: ${fast ? 'PASS' : 'FAIL'}`);
  console.log(`peak RSS ${ours[0]!.rssMb.toFixed(1)} MB at ${ours[0]!.mb.toFixed(0)} MB, ${ours[1]!.rssMb.toFixed(1)} MB at ${ours[1]!.mb.toFixed(0)} MB (growth ${growth.toFixed(1)} MB): ${flat ? 'PASS (flat)' : 'FAIL (grows)'}`);
  console.log(`gzip (${gzipMb.toFixed(0)} MB compressed): peak RSS ${gzipRss.toFixed(1)} MB, budget under 100 MiB: ${gzipSmall ? 'PASS' : 'FAIL'}`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', 'audit.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, ratio, cpuRatio, imagesRatio, imagesCpuRatio, countsMatch, growth, gzipRss }, null, 2)}\n`,
  );
  return fast && flat && gzipSmall && countsMatch ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
