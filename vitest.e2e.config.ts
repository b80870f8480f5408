import { defineConfig } from 'vitest/config';
import { slowSuites } from './vitest.config.js';

/**
 * `npm run test:e2e`: the webhook as a running server over real TLS (test/e2e: keep-alive, rotation,
 * mTLS, shutdown of a child process on SIGTERM) and under hostile input and slow clients
 * (test/hostile). Kept out of `npm test` for its time, never out of CI (.ci/run runs it next).
 */
export default defineConfig({
  test: {
    include: slowSuites.map((glob) => `${glob.replace(/\*\*$/, '')}**/*.test.ts`),
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
