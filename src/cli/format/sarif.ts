/** `--output sarif`: SARIF 2.1.0 for code-scanning UIs. */
import type { Policy } from '../../engine/types.js';
import { POLICIES } from '../../policies/index.js';
import { allErrors, findings, type Report } from '../report.js';

function fileOf(source: string): { uri: string; line?: number } {
  const m = /^(.*?):(\d+)(?:\s.*)?$/.exec(source);
  return m ? { uri: m[1] ?? source, line: Number(m[2]) } : { uri: source };
}

function location(source: string): Record<string, unknown> {
  const { uri, line } = fileOf(source);
  return {
    physicalLocation: {
      artifactLocation: { uri },
      ...(line !== undefined ? { region: { startLine: line } } : {}),
    },
  };
}

/** Renders the report as SARIF; `catalog` lists the rules (the built-ins and the config's own rules). */
export function renderSarif(r: Report, version: string, catalog: readonly Policy[] = POLICIES): string {
  const rules = catalog.map((p) => ({
    id: p.id,
    name: p.title,
    shortDescription: { text: p.title },
    fullDescription: { text: p.description },
    help: { text: p.remediation },
    properties: { severity: p.severity },
  }));
  const results = [
    ...findings(r).map((f) => ({
      ruleId: f.policy,
      level: f.action === 'deny' ? 'error' : 'warning',
      message: { text: `${f.message} [${f.object}]` },
      locations: [location(f.source)],
    })),
    ...allErrors(r).map((e) => ({
      ruleId: 'input-error',
      level: 'error',
      message: { text: e.message },
      locations: [location(e.source)],
    })),
  ];
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'gloo-guard',
            version,
            informationUri: 'https://github.com/gloo-guard/gloo-guard',
            rules,
          },
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
