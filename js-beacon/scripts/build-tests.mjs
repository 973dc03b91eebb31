// Bundles test/*.test.ts for node's test runner (dist-test/*.test.mjs).
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const tests = readdirSync('test').filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
await build({ entryPoints: tests, bundle: true, platform: 'node', format: 'esm', outdir: 'dist-test',
              outExtension: { '.js': '.mjs' }, external: ['node:*'], logLevel: 'warning' });
