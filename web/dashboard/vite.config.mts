import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The daemon serves what this builds (dist/dashboard) as static files: no CDN, nothing fetched at run time.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
