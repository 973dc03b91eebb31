// Builds dist/rum.js (standard web-vitals) and dist/rum.attribution.js (attribution build)
// and prints their sizes, minified and brotli (quality 11).
import { build } from 'esbuild';
import { report } from './size.mjs';

const common = {
  entryPoints: ['src/index.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  // ES2020: optional chaining and ?? kept as written (smaller); every browser since 2020 runs it
  target: ['es2020'],
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, outfile: 'dist/rum.js', alias: { 'rum-web-vitals': 'web-vitals' },
              define: { ATTRIBUTION: 'false' } });
await build({ ...common, outfile: 'dist/rum.attribution.js',
              alias: { 'rum-web-vitals': 'web-vitals/attribution' },
              define: { ATTRIBUTION: 'true' } });
report(false);
