// The esbuild options of the server's bundle, shared by `npm run build` (dist/bundle/, from the compiled
// dist/src/main.js) and the test runner (a bundle straight from src/main.ts for the servers tests spawn).
export const bundleOptions = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'bufferutil', 'utf-8-validate', '@open-wa/*', 'baileys', 'https-proxy-agent', 'socks-proxy-agent'],
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __waCreateRequire } from 'node:module'; const require = __waCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
};
