/**
 * What `npm run bench`'s exit code says, over given figures (no timing here): a missed budget fails
 * the run unless --report, a wrong answer fails it always, and a figure that could not be measured
 * is a miss, never a pass.
 */
import { describe, expect, it } from 'vitest';
import { benchMode, benchVerdict, type BudgetFigures, budgetsFor } from '../../bench/budgets.js';

/** Figures that meet every budget of every workload. */
const MET: BudgetFigures = { wrong: 0, cpuPerReview: 1.1, capacity: 0.9, moderateP99Ms: 3, loopMaxMs: 10, vmHwmMiB: 150, moderateRate: 500 };
// Run 4 of docs/performance.md (bcd0611): typical capacity by CPU 0.28, large 0.36, huge 1.02.
const TYPICAL_RUN_4: BudgetFigures = { ...MET, cpuPerReview: 447 / 127 };
const LARGE_RUN_4: BudgetFigures = { ...MET, cpuPerReview: 764 / 272 };
const HUGE_RUN_4: BudgetFigures = { ...MET, cpuPerReview: 57_022 / 58_280, moderateP99Ms: 86, moderateRate: 8 };

const run = (...workloads: ['typical' | 'large' | 'huge', BudgetFigures][]) => workloads.map(([name, figures]) => ({ name, budgets: budgetsFor(name, figures) }));

describe('bench budgets', () => {
  it.each(['typical', 'large', 'huge'] as const)('%s: figures within every budget pass every line', (name) => {
    const budgets = budgetsFor(name, MET);
    expect(budgets.filter((b) => !b.pass)).toEqual([]);
    expect(budgets.filter((b) => b.kind === 'answers')).toHaveLength(1);
  });

  it('judges the capacity budget of issue 14: 0.5 of the floor for typical and large, 0.9 for huge', () => {
    const capacity = (name: 'typical' | 'large' | 'huge', figures: BudgetFigures) => budgetsFor(name, figures).find((b) => b.what.startsWith('capacity by CPU'))!;
    expect(capacity('typical', TYPICAL_RUN_4)).toMatchObject({ pass: false, limit: '≥ 0.5×' });
    expect(capacity('typical', TYPICAL_RUN_4).value).toBeCloseTo(0.28, 2);
    expect(capacity('large', LARGE_RUN_4)).toMatchObject({ pass: false, limit: '≥ 0.5×' });
    expect(capacity('huge', HUGE_RUN_4)).toMatchObject({ pass: true, limit: '≥ 0.9×' });
    expect(capacity('huge', { ...HUGE_RUN_4, cpuPerReview: 1 / 0.89 }).pass).toBe(false);
    expect(capacity('typical', { ...MET, cpuPerReview: 2 }).pass).toBe(true);
  });

  it('counts a figure that could not be measured (NaN) as missed', () => {
    const budgets = budgetsFor('huge', { ...MET, moderateP99Ms: NaN, vmHwmMiB: NaN, cpuPerReview: NaN });
    expect(budgets.filter((b) => !b.pass).map((b) => b.what)).toEqual([
      'capacity by CPU (floor CPU ÷ webhook CPU per review)',
      'CPU per review, × floor',
      'p99 latency, one review in flight (500/s), ms',
      'peak resident memory (VmHWM), MiB',
    ]);
  });
});

describe('bench exit code', () => {
  it('is 0 when every answer is right and every budget met', () => {
    expect(benchVerdict(run(['typical', MET], ['large', MET], ['huge', { ...MET, moderateRate: 8 }]), 'gate')).toEqual({ code: 0, summary: 'every answer right, every budget met (exit 0)' });
  });

  it('is 1 by default when a budget line fails, as in the runs of issue 14; 0 with --report', () => {
    const results = run(['typical', TYPICAL_RUN_4], ['large', LARGE_RUN_4], ['huge', HUGE_RUN_4]);
    const gate = benchVerdict(results, 'gate');
    expect(gate.code).toBe(1);
    expect(gate.summary).toMatch(/^4 budget lines missed \(typical, large\): the run fails \(exit 1\)/);
    const report = benchVerdict(results, 'report');
    expect(report.code).toBe(0);
    expect(report.summary).toContain('not enforced');
    // One missed line is enough.
    expect(benchVerdict(run(['typical', MET], ['huge', { ...MET, vmHwmMiB: 301 }]), 'gate').code).toBe(1);
  });

  it.each(['gate', 'report'] as const)('is 1 on any wrong answer, with every budget met, in %s mode', (mode) => {
    const verdict = benchVerdict(run(['typical', MET], ['large', { ...MET, wrong: 3 }]), mode);
    expect(verdict.code).toBe(1);
    expect(verdict.summary).toMatch(/^3 wrong answers: the run fails/);
  });

  it('is 1 when nothing was measured: the run cannot tell', () => {
    expect(benchVerdict([], 'report').code).toBe(1);
    expect(benchVerdict([{ name: 'typical', budgets: [] }], 'gate').code).toBe(1);
  });
});

describe('bench mode', () => {
  it.each([
    { argv: [], env: {}, want: { mode: 'gate' } },
    { argv: [], env: { BENCH_REPORT_ONLY: '0' }, want: { mode: 'gate' } },
    { argv: [], env: { BENCH_REPORT_ONLY: '' }, want: { mode: 'gate' } },
    { argv: ['--report'], env: {}, want: { mode: 'report' } },
    { argv: [], env: { BENCH_REPORT_ONLY: '1' }, want: { mode: 'report' } },
  ])('$argv with $env is $want.mode', ({ argv, env, want }) => {
    expect(benchMode(argv, env)).toEqual(want);
  });

  it('refuses what it does not know, rather than guessing a mode', () => {
    expect(benchMode(['--reprot'], {})).toEqual({ error: expect.stringContaining('unknown argument "--reprot"') });
    expect(benchMode([], { BENCH_REPORT_ONLY: 'yes' })).toEqual({ error: 'BENCH_REPORT_ONLY must be 1 or 0, not "yes"' });
  });
});
