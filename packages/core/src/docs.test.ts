import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The documentation is only worth something while a reader can follow it: the
// README stays a short front page, every relative link (and its #anchor) leads
// somewhere, and no page promises what has not arrived.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const pages = [
  'README.md',
  'SECURITY.md',
  'BENCHMARKS.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const read = (page: string) => readFileSync(join(repoRoot, page), 'utf8');

/** The page without fenced code blocks and inline code, where brackets are code, not links. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(page: string): Set<string> {
  const found = new Set<string>();
  for (const line of read(page)
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading) found.add(slug(heading.trim()));
  }
  return found;
}

function relativeLinks(page: string): string[] {
  return [...prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((target) => !/^[a-z]+:/i.test(target));
}

describe('the documentation', () => {
  it('keeps the README to at most 200 lines', () => {
    expect(read('README.md').trimEnd().split('\n').length).toBeLessThanOrEqual(200);
  });

  it('keeps the table cells of the README and SECURITY.md short enough to read (at most 200 characters)', () => {
    const long = ['README.md', 'SECURITY.md'].flatMap((page) =>
      prose(read(page))
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .flatMap((line) => line.split('|').map((cell) => cell.trim()))
        .filter((cell) => cell.length > 200)
        .map((cell) => `${page}: ${cell.slice(0, 60)}… (${cell.length} characters)`),
    );
    expect(long).toEqual([]);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const target of relativeLinks(page)) {
        const [path = '', anchor] = target.split('#');
        const file = path ? relative(repoRoot, join(repoRoot, dirname(page), path)) : page;
        if (!existsSync(join(repoRoot, file))) broken.push(`${page}: ${target} (no file ${file})`);
        else if (anchor && file.endsWith('.md') && !anchors(file).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('states only what exists: no page says what arrives later', () => {
    const promises = pages.flatMap((page) =>
      read(page)
        .split('\n')
        .filter((line) => /\barrives? with\b|\bcoming soon\b/i.test(line))
        .map((line) => `${page}: ${line.trim()}`),
    );
    expect(promises).toEqual([]);
  });
});
