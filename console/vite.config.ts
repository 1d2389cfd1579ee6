import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// `npm run dev -w console` proxies the API to a running gateway (GATEWAY, default http://127.0.0.1:4000).
const gateway = process.env.GATEWAY ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      '/graphql': { target: gateway, ws: true },
      '/console-config.json': gateway,
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    // Generous: the suite runs beside the platform's on two cores.
    testTimeout: 30_000,
  },
});
