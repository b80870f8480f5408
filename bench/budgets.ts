/**
 * What `npm run bench` promises and what its exit code says: the budget lines of each workload, and
 * the verdict over all of them. Pure functions over figures the run measured, so that the exit code's
 * logic is tested without timing anything (test/bench/budgets.test.ts).
 *
 * The bench is a gate by default, as `npm run bench:audit` is: a run that missed a budget must not end
 * with the same exit code as one that met them all, or a script (or a person skimming) reads "all clear"
 * from it. `--report` (or BENCH_REPORT_ONLY=1) prints the same lines and exits 0 on missed budgets, for
 * measuring on a machine whose figures are known to be off; wrong answers fail the run in either mode.
 */
import type { WorkloadName } from './workloads.js';

/** One line of the verdict: a figure, its limit, and whether the run met it. */
export interface Budget {
  what: string;
  value: number;
  limit: string;
  pass: boolean;
  /** `answers`: correctness, fails the run in every mode; `budget`: speed or memory, fails it unless --report. */
  kind: 'answers' | 'budget';
}

/** The figures of one workload that its budgets are set on (ratios are webhook ÷ floor, in one run). */
export interface BudgetFigures {
  /** Wrong answers from webhook and floor, warm-up included. */
  wrong: number;
  /** CPU time per review in the saturation rounds. */
  cpuPerReview: number;
  /** Reviews per second in the saturation rounds. */
  capacity: number;
  /** The webhook's p99 latency in the fixed-rate rounds, ms. */
  moderateP99Ms: number;
  /** The webhook's largest event-loop delay in any round, ms. */
  loopMaxMs: number;
  /** The webhook's peak resident memory, MiB. */
  vmHwmMiB: number;
  /** The fixed rate, reviews per second (named in the latency line). */
  moderateRate: number;
}

/**
 * The budget lines of one workload. A figure that could not be measured (NaN: no reviews answered)
 * misses its budget: a run that could not tell is not a pass.
 */
export function budgetsFor(workload: WorkloadName, f: BudgetFigures): Budget[] {
  const budgets: Budget[] = [{ what: 'wrong answers (webhook and floor, warm-up included)', value: f.wrong, limit: '= 0', pass: f.wrong === 0, kind: 'answers' }];
  const budget = (what: string, value: number, limit: number, direction: 'max' | 'min', unit = '') =>
    budgets.push({ what, value, limit: `${direction === 'max' ? '≤' : '≥'} ${limit}${unit}`, pass: direction === 'max' ? value <= limit : value >= limit, kind: 'budget' });
  // Issue 14's budget: the reviews one core answers, as a share of the floor's, from CPU per review.
  budget('capacity by CPU (floor CPU ÷ webhook CPU per review)', 1 / f.cpuPerReview, workload === 'huge' ? 0.9 : 0.5, 'min', '×');
  if (workload === 'typical') {
    budget('CPU per review, × floor', f.cpuPerReview, 1.25, 'max', '×');
    budget('capacity, × floor', f.capacity, 0.8, 'min', '×');
    budget(`p99 latency at ${f.moderateRate}/s, ms`, f.moderateP99Ms, 5, 'max', ' ms');
  } else if (workload === 'large') {
    budget('CPU per review, × floor', f.cpuPerReview, 1.4, 'max', '×');
  } else {
    budget('CPU per review, × floor', f.cpuPerReview, 2, 'max', '×');
    budget(`p99 latency, one review in flight (${f.moderateRate}/s), ms`, f.moderateP99Ms, 100, 'max', ' ms');
    budget('event loop max delay, ms', f.loopMaxMs, 50, 'max', ' ms');
    budget('peak resident memory (VmHWM), MiB', f.vmHwmMiB, 300, 'max', ' MiB');
  }
  return budgets;
}

/** `gate`: a missed budget fails the run (the default); `report`: only wrong answers do. */
export type BenchMode = 'gate' | 'report';

/** The mode from the command line (`--report`) and the environment (BENCH_REPORT_ONLY=1), or what is wrong with them. */
export function benchMode(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { mode: BenchMode } | { error: string } {
  const unknown = argv.filter((arg) => arg !== '--report');
  if (unknown.length > 0) return { error: `unknown argument ${JSON.stringify(unknown[0]!.slice(0, 80))}; the only one is --report (budgets printed, not enforced)` };
  const only = env.BENCH_REPORT_ONLY ?? '';
  if (only !== '' && only !== '0' && only !== '1') return { error: `BENCH_REPORT_ONLY must be 1 or 0, not ${JSON.stringify(only.slice(0, 80))}` };
  return { mode: argv.includes('--report') || only === '1' ? 'report' : 'gate' };
}

/** The run's exit code and the sentence that says why. */
export interface Verdict {
  /** 0: every answer right and (unless --report) every budget met; 1: otherwise. */
  code: 0 | 1;
  summary: string;
}

/** The verdict over every workload's budget lines. */
export function benchVerdict(results: readonly { name: string; budgets: readonly Budget[] }[], mode: BenchMode): Verdict {
  const lines = results.flatMap((r) => r.budgets.map((b) => ({ workload: r.name, ...b })));
  if (results.length === 0 || lines.length === 0) return { code: 1, summary: 'no workload was measured: the run cannot tell, so it fails (exit 1)' };
  const wrong = lines.filter((b) => b.kind === 'answers').reduce((n, b) => n + (Number.isFinite(b.value) ? b.value : 0), 0);
  const wrongLines = lines.filter((b) => b.kind === 'answers' && !b.pass);
  const missed = lines.filter((b) => b.kind === 'budget' && !b.pass);
  const missedText = `${missed.length} budget line${missed.length === 1 ? '' : 's'} missed (${[...new Set(missed.map((b) => b.workload))].join(', ')})`;
  if (wrongLines.length > 0) {
    return { code: 1, summary: `${wrong} wrong answers${missed.length > 0 ? ` and ${missedText}` : ''}: the run fails (exit 1; wrong answers fail it with --report too)` };
  }
  if (missed.length === 0) return { code: 0, summary: 'every answer right, every budget met (exit 0)' };
  if (mode === 'report') return { code: 0, summary: `${missedText}; every answer right; --report: budgets are printed, not enforced (exit 0)` };
  return { code: 1, summary: `${missedText}: the run fails (exit 1); \`npm run bench -- --report\` or BENCH_REPORT_ONLY=1 only reports budgets` };
}
