/**
 * The webhook's version: package.json's, read once at start. One definition for the start-up log, the
 * `image_admission_build_info` metric and anything else that reports it. package.json sits one level
 * above both src/ and dist/ (the container image copies it to /app).
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' && version !== '' ? version : 'unknown';
}

/** This build's version, e.g. `0.1.0`. */
export const VERSION: string = readVersion();
