/**
 * Reads the webhook's decision log (the server's JSON lines, msg "decision") into a map by decision id,
 * so that audit events can be joined to the reasons the webhook gave.
 */
import { forEachLine, type LineInput } from './lines.js';

/** A violation as the decision log records it. */
export interface LoggedViolation {
  rule: string;
  path: string;
  detail: string;
}

/** One decision of the log. */
export interface DecisionRecord {
  decision: string;
  violations: LoggedViolation[];
}

/** The decisions found, and how many lines were not decisions or not JSON. */
export interface DecisionLog {
  decisions: Map<string, DecisionRecord>;
  lines: number;
  skipped: number;
}

const DECISION_MARKER = Buffer.from('"decision"');

/** Loads every decision line of `input`; other lines (startup messages, warnings, garbage) are skipped. */
export async function loadDecisionLog(input: LineInput): Promise<DecisionLog> {
  const decisions = new Map<string, DecisionRecord>();
  let skipped = 0;
  const read = await forEachLine(input, (line) => {
    if (line.indexOf(DECISION_MARKER) === -1) {
      skipped++;
      return;
    }
    let entry: { msg?: unknown; decisionId?: unknown; decision?: unknown; violations?: unknown };
    try {
      entry = JSON.parse(line.toString('utf8')) as typeof entry;
    } catch {
      skipped++;
      return;
    }
    if (entry?.msg !== 'decision' || typeof entry.decisionId !== 'string') {
      skipped++;
      return;
    }
    const violations = Array.isArray(entry.violations)
      ? entry.violations.map((v: { rule?: unknown; path?: unknown; detail?: unknown; type?: unknown }) => ({
          rule: String(v?.rule ?? ''),
          path: String(v?.path ?? ''),
          detail: String(v?.detail ?? v?.type ?? ''),
        }))
      : [];
    decisions.set(entry.decisionId, { decision: String(entry.decision ?? ''), violations });
  });
  return { decisions, lines: read.lines, skipped };
}
