import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/apiserver needs a real API server: `npm run test:apiserver` (vitest.apiserver.config.ts).
    exclude: [...configDefaults.exclude, 'test/apiserver/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
