// Size budget (minified + brotli q11): rum.js <= 5000 bytes, rum.attribution.js <= 7500 bytes.
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

export const BUDGET = { 'rum.js': 5000, 'rum.attribution.js': 7500 };

export function report(check) {
  let ok = true;
  for (const [name, budget] of Object.entries(BUDGET)) {
    const code = readFileSync(`dist/${name}`);
    const br = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    const verdict = br <= budget ? 'ok' : 'OVER BUDGET';
    console.log(`${name}: ${code.length} bytes minified, ${br} bytes brotli-11 (budget ${budget}) ${verdict}`);
    if (br > budget) ok = false;
  }
  if (check && !ok) process.exit(1);
}

if (process.argv.includes('--check')) report(true);
