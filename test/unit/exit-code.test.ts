import { describe, expect, it } from 'vitest';
import { exitCode, type Report } from '../../src/cli/report.js';
import { defaultConfig, type Config } from '../../src/config/types.js';
import { isDenied, type EvaluationResult, type Finding } from '../../src/engine/evaluate.js';

const finding = (action: Finding['action']): Finding => ({
  policy: 'p',
  action,
  severity: 'high',
  message: '[p] m -> f',
  path: 'a.b',
  fix: 'f',
  source: 'x.yaml',
  object: 'release x',
});
const result = (findings: Finding[], errors = 0): EvaluationResult => ({
  object: 'release x',
  findings,
  exempted: [],
  errors: Array.from({ length: errors }, () => ({ policy: 'p', object: 'release x', message: 'failed' })),
  notes: [],
});
const report = (...results: EvaluationResult[]): Report => ({ results, errors: [], skipped: 0 });
const configs: Config[] = (['enforce', 'audit'] as const).flatMap((mode) =>
  (['deny', 'allow'] as const).map((onError) => ({ ...defaultConfig(), mode, onError })),
);

describe('exit code and the webhook agree', () => {
  it('when the webhook would refuse a result under a config, then check exits non-zero under it', () => {
    const results = [result([]), result([finding('warn')]), result([finding('deny')]), result([], 1)];
    for (const config of configs)
      for (const r of results) {
        if (isDenied(r, config)) expect(exitCode(report(r), config)).toBeGreaterThan(0);
        else if (r.errors.length === 0) expect(exitCode(report(r), config)).toBe(0);
      }
  });

  it('when a policy failed, then the exit is 2 whatever onError says, never a silent 0', () => {
    for (const config of configs) expect(exitCode(report(result([], 1)), config)).toBe(2);
  });

  it('when an input could not be read, then the exit is 2', () => {
    const r: Report = { results: [], errors: [{ source: 'a.yaml', message: 'bad' }], skipped: 0 };
    expect(exitCode(r, defaultConfig())).toBe(2);
  });
});
