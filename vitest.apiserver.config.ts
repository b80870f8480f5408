import { defineConfig } from 'vitest/config';

/**
 * The real-API-server suite (test/apiserver/): run through `npm run test:apiserver`, which starts
 * etcd and kube-apiserver first (scripts/apiserver/run.sh). One file, in order, one process.
 */
export default defineConfig({
  test: {
    include: ['test/apiserver/**/*.test.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
