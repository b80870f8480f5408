/**
 * Reads the webhook's decision log (the server's JSON lines, msg "decision") into a map by decision id,
 * so that audit events can be joined to the reasons the webhook gave. The line format and its parser
 * belong to the trail's owner, src/review/record.ts.
 */
import { DECISION_MESSAGE, parseDecisionLine, type ReadDecisionLine } from '../review/record.js';
import { forEachLine, type LineInput } from './lines.js';

/** The decisions found, and how many lines were not decisions or not JSON. */
export interface DecisionLog {
  decisions: Map<string, ReadDecisionLine>;
  lines: number;
  skipped: number;
}

// A cheap byte test before the parse: most lines of a busy log are decisions, the rest rarely say it.
const DECISION_MARKER = Buffer.from(JSON.stringify(DECISION_MESSAGE));

/** Loads every decision line of `input`; other lines (startup messages, warnings, garbage) are skipped. */
export async function loadDecisionLog(input: LineInput): Promise<DecisionLog> {
  const decisions = new Map<string, ReadDecisionLine>();
  let skipped = 0;
  const read = await forEachLine(input, (line) => {
    const decision = line.indexOf(DECISION_MARKER) === -1 ? undefined : parseDecisionLine(line.toString('utf8'));
    if (decision === undefined) skipped++;
    else decisions.set(decision.decisionId, decision);
  });
  return { decisions, lines: read.lines, skipped };
}
