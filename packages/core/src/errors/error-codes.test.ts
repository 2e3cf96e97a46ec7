import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCodes } from './error-codes.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourcesUnder(path);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

// Constructors take only codes of the table (a type); these are the places a
// code is a bare string the compiler does not check: a comparison with an
// error's code, and an error body written out by hand.
const codeInSource = [/(?<!typeof [\w?.]*)\bcode\s*[!=]==?\s*'([a-z][a-z0-9_]*)'/g, /\bcode:\s*'([a-z][a-z0-9_]*)'/g];

describe('the table of error codes', () => {
  it('holds every code the sources compare an error with or write into a body', () => {
    const packages = join(repo, 'packages');
    const found: string[] = [];
    for (const pkg of readdirSync(packages)) {
      for (const file of sourcesUnder(join(packages, pkg, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const pattern of codeInSource) for (const m of text.matchAll(pattern)) found.push(`${m[1]} (${file.slice(repo.length)})`);
      }
    }
    // The scan does find codes (so a broken pattern cannot pass unnoticed)…
    expect(found.some((f) => f.startsWith('wait_timeout '))).toBe(true);
    // …and each is in the table.
    expect(found.filter((f) => !Object.hasOwn(errorCodes, f.split(' ')[0] ?? ''))).toEqual([]);
  });

  it('is listed in docs/errors.md, each code with its status and class', () => {
    const doc = readFileSync(join(repo, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z0-9_]+)` *\| (\d+) *\| (\w+) *\|/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(rows).toEqual(Object.entries(errorCodes).map(([code, e]) => `${code} ${e.status} ${e.error}`));
  });
});
