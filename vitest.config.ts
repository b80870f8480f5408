import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `npm test`: the fast suites (about a minute on 2 cores). The end-to-end suites, which start real
 * servers and child processes over real TLS, are `npm run test:e2e` (vitest.e2e.config.ts), and the
 * real API server suite is `npm run test:apiserver` (vitest.apiserver.config.ts); .ci/run runs all three.
 */
// test/signature/slow: the real server with trusted keys over TLS, and every signature verdict checked
// against `skopeo standalone-verify` (tens of seconds: it also generates a fresh set with gpg).
export const slowSuites = ['test/e2e/**', 'test/hostile/**', 'test/signature/slow/**'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/apiserver/**', ...slowSuites],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
