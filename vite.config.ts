/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { availableParallelism } from 'node:os';
import { CONTENT_SECURITY_POLICY_HEADER, withCspMeta } from './src/core/csp.ts';

/**
 * Writes the Content-Security-Policy (src/core/csp.ts) into every built page.
 * Build only: the dev server's HMR client, React Refresh's preamble and its
 * injected <style> elements are inline, which the policy refuses.
 */
function contentSecurityPolicy(): Plugin {
  return { name: 'content-security-policy', apply: 'build', transformIndexHtml: (html) => withCspMeta(html) };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // checks.html runs the tensor code on several backends for the e2e tests and the bench
    rollupOptions: { input: { main: 'index.html', checks: 'checks.html' } },
  },
  server: { port: 5173 },
  // the header is what puts the workers under the policy (a <meta> covers only the page), and carries frame-ancestors
  preview: { port: 4173, headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER } },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // a worker per core: Vitest's default leaves one core idle, which on a 2-core machine halves the unit suite's speed
    maxWorkers: availableParallelism(),
  },
});
