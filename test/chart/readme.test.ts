import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  expectedReadme,
  expectedSchema,
  readValuesDocs,
  schemaAt,
} from '../../scripts/gen-chart-readme.js';

const read = (f: string): string => readFileSync(join(CHART_DIR, f), 'utf8');

describe('generated chart docs', () => {
  it('when values, schema, template or policies change, then README.md must be regenerated (npm run docs:chart)', async () => {
    expect(read('README.md'), 'charts/webhook/README.md drifted: run `npm run docs:chart`').toBe(
      await expectedReadme(),
    );
  });

  it('when the policy catalog changes, then values.schema.json must be regenerated (npm run docs:chart)', async () => {
    expect(read('values.schema.json'), 'values.schema.json drifted: run `npm run docs:chart`').toBe(
      await expectedSchema(),
    );
  });

  it('when values.yaml is read, then every value has a description and a schema entry', () => {
    const schema = JSON.parse(read('values.schema.json'));
    for (const doc of readValuesDocs(read('values.yaml'))) {
      expect(doc.description.length, doc.key).toBeGreaterThan(10);
      expect(schemaAt(schema, doc.key), `${doc.key} is not in values.schema.json`).toBeDefined();
    }
  });

  it('when the schema is read, then every top-level property is a value in values.yaml', () => {
    const schema = JSON.parse(read('values.schema.json'));
    const documented = new Set(readValuesDocs(read('values.yaml')).map((d) => d.key.split('.')[0]));
    expect(Object.keys(schema.properties).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('when a value has no "# --" comment, then generation refuses it', () => {
    expect(() => readValuesDocs('# -- documented\na: 1\nb: 2\n')).toThrow(
      'values.yaml: b has no "# --" description',
    );
    expect(readValuesDocs('s:\n  # -- first\n  x: 1\n  # -- second\n  y: [1]\n')).toEqual([
      { key: 's.x', default: 1, description: 'first' },
      { key: 's.y', default: [1], description: 'second' },
    ]);
  });

  it('when the README is read, then it explains Fail versus Ignore and starting in audit mode', () => {
    const readme = read('README.md');
    expect(readme).toContain('## Fail or Ignore');
    expect(readme).toContain('## Install: audit first');
    expect(readme).toContain('--set mode=audit');
  });
});
