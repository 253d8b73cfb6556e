import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedParts, regenerate } from '../../bench/docs.js';

describe('generated performance docs', () => {
  it('when bench/results changes, then docs/performance.md must be regenerated (npm run docs:perf)', () => {
    const page = readFileSync(resolve(import.meta.dirname, '../../docs/performance.md'), 'utf8');
    expect(regenerate(page, generatedParts()), 'docs/performance.md drifted: run `npm run docs:perf`').toBe(
      page,
    );
  });

  it('when a generated block is missing from the page, then regenerating says which', () => {
    expect(() => regenerate('# page\n', { e2e: 'x' })).toThrow(
      /no <!-- generated:e2e --> … <!-- \/generated:e2e --> block/,
    );
  });
});
