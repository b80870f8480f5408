/**
 * How `check` prints its report: text lines a person (or grep) reads in a CI log, each naming file,
 * Image and rule, or one JSON document for tools.
 */
import type { CheckResult } from '../review/check.js';
import type { CommandIo } from './io.js';

/** A result with the input it came from; `index` counts the Images of that input from 1. */
export type FileResult = CheckResult & { file: string; index: number };

/** An input that could not be checked; `line` when the mistake has one. */
export interface CheckError {
  file: string;
  line?: number;
  reason: string;
}

/** Everything one run found. */
export interface CheckReport {
  inputs: number;
  results: FileResult[];
  errors: CheckError[];
}

const VERB = { deny: 'denied', warn: 'warning', record: 'recorded' } as const;

/**
 * One line per finding (`FILE: Image "NAME" denied: field: message [rule]`), one per valid Image, the
 * errors on stderr as `FILE:LINE: error: reason`, and a summary line.
 */
export function printText(report: CheckReport, io: CommandIo): void {
  for (const error of report.errors) io.stderr.write(`${error.file}${error.line === undefined ? '' : `:${error.line}`}: error: ${error.reason}\n`);
  for (const result of report.results) {
    const subject = `${result.file}: Image ${result.name === '' ? `#${result.index} (no name)` : JSON.stringify(result.name)}`;
    for (const f of result.findings) {
      const pre = f.kind === 'pre-existing' ? 'pre-existing: ' : '';
      io.stdout.write(`${subject} ${VERB[f.action]}: ${pre}${f.field}: ${f.message} [${f.rule}]\n`);
    }
    if (result.valid) io.stdout.write(`${subject} valid\n`);
  }
  const s = summaryOf(report);
  const errors = s.errors === 0 ? '' : `; ${plural(s.errors, 'input')} could not be checked`;
  io.stdout.write(`${plural(s.images, 'Image')} checked in ${plural(s.inputs, 'input')}: ${s.valid} valid, ${s.invalid} denied${errors}\n`);
}

/** The report as one JSON document: `{results, errors, summary}`. */
export function printJson(report: CheckReport, io: CommandIo): void {
  io.stdout.write(`${JSON.stringify({ results: report.results, errors: report.errors, summary: summaryOf(report) }, null, 2)}\n`);
}

function summaryOf(report: CheckReport) {
  const valid = report.results.filter((r) => r.valid).length;
  return { inputs: report.inputs, images: report.results.length, valid, invalid: report.results.length - valid, errors: report.errors.length };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
