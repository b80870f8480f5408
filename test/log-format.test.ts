/** --log-format text: the same log lines, readable at a terminal; JSON stays the default. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/controller/log.js';
import { buildApp } from '../src/http/app.js';
import { logStream, textLine } from '../src/log-format.js';
import { admissionReview, anImage } from './fixtures/index.js';

function collect() {
  const lines: string[] = [];
  return { out: { write: (chunk: string) => (lines.push(String(chunk)), true) } as unknown as NodeJS.WritableStream, lines };
}

describe('text log lines', () => {
  it('a pino line: time, level, message, then the fields; no pid or hostname', () => {
    const line = textLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 7, hostname: 'h', msg: 'bad request', endpoint: 'validate', problem: 'not JSON', n: 3 }));
    expect(line).toBe('2026-01-02T03:04:05.000Z WARN  bad request endpoint=validate problem="not JSON" n=3\n');
  });

  it('a controller line (level and time as text), objects as JSON', () => {
    expect(textLine(JSON.stringify({ level: 'info', time: '2026-01-02T03:04:05.000Z', msg: 'controller started', probes: { port: 8081 } }))).toBe(
      '2026-01-02T03:04:05.000Z INFO  controller started probes={"port":8081}\n',
    );
  });

  it('passes through what is not a JSON object', () => {
    expect(textLine('plain words')).toBe('plain words\n');
  });

  it('serve: the decision line of a denied review, readable', async () => {
    const { out, lines } = collect();
    const app = buildApp({ policy: { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() }, logger: { level: 'info', stream: logStream(out, 'text') } });
    await app.inject({ method: 'POST', url: '/validate', payload: admissionReview({ operation: 'CREATE', object: anImage({ dockerImageReference: undefined }) }) });
    await app.close();
    const decision = lines.find((l) => / INFO {2}decision /.test(l));
    expect(decision, lines.join('')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}decision reqId=\S+ decisionId=\S+ endpoint=validate operation=CREATE .*decision=denied .*"rule":"reference-format"/);
    expect(lines.every((l) => !l.startsWith('{'))).toBe(true);
  });

  it('the controller: text with format text, JSON by default', () => {
    const text = collect();
    createLogger(text.out, 'info', 'text').info('controller started', { leaderElection: 'off' });
    expect(text.lines[0]).toMatch(/^\S+Z INFO {2}controller started leaderElection=off\n$/);
    const json = collect();
    createLogger(json.out, 'info').info('controller started', { leaderElection: 'off' });
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 'info', msg: 'controller started', leaderElection: 'off' });
  });
});
