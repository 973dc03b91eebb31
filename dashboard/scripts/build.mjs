// Builds dist/: index.html, dashboard.js (uPlot, the world map and our code, one file) and
// dashboard.css. Everything is bundled: the page works offline, no CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
await build({
  entryPoints: { dashboard: 'src/main.ts', 'dashboard-style': 'src/style.css' },
  bundle: true, minify: true, format: 'iife', target: ['es2020'], outdir: 'dist',
  legalComments: 'none', logLevel: 'warning', loader: { '.json': 'json' },
});
copyFileSync('src/index.html', 'dist/index.html');
for (const name of ['index.html', 'dashboard.js', 'dashboard-style.css']) {
  console.log(`dist/${name}: ${statSync(`dist/${name}`).size} bytes`);
}
