/**
 * The dashboard's build: `vite build --config web/vite.config.ts` writes dist/web (index.html
 * and hashed assets) for the master to serve at `/`. `vite --config web/vite.config.ts` runs a
 * dev server that proxies /api to a master (TITAN_HTTP, default http://127.0.0.1:5000).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const master = process.env.TITAN_HTTP ?? 'http://127.0.0.1:5000';

/** The policy the master sends; `vite preview` sends it too, so a preview shows CSP violations. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Everything as files: nothing inlined into index.html or CSS.
    assetsInlineLimit: 0,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: { '/api': { target: master, changeOrigin: false } },
  },
  preview: {
    headers: { 'content-security-policy': CSP },
    proxy: { '/api': { target: master, changeOrigin: false } },
  },
});
