// What a newcomer meets first, through the real CLI process: the version, exit codes that never pass
// a run that judged nothing, and one line saying why for each input it cannot use (issue 16, 4-6).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { releaseSecret } from '../../src/helm/release.js';
import { rawReleaseSecret } from '../fixtures/admission/reviews.js';
import { cli, type CliRun } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gg-first-hour-'));
});

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Exit 2 and exactly one line on stderr, nothing on stdout. */
function expectOneLineError(r: CliRun, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^gloo-guard: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
}

describe('gloo-guard --version', () => {
  it('when asked for its version, then it prints the package version and exits 0', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = cli(['--version']);
    expect(r).toEqual({ code: 0, stdout: `gloo-guard ${pkg.version}\n`, stderr: '' });
  });
});

describe('check: a run that judged nothing does not pass', () => {
  it('when helm template failed and the pipe gave empty standard input, then exit 2 says so and names pipefail', () => {
    expectOneLineError(cli(['check', '-'], ''), /<stdin>: nothing judged: .*set -o pipefail/);
  });

  it('when the file is empty, then exit 2 says there was no object', () => {
    const empty = file('empty.yaml', '');
    expectOneLineError(cli(['check', empty]), new RegExp(`${empty}: nothing judged: no Kubernetes object`));
  });

  it('when only objects gloo-guard does not judge are given (a release of another chart), then exit 2 counts them', () => {
    const other = releaseSecret({
      name: 'web',
      namespace: 'web',
      version: 1,
      info: { status: 'pending-install' },
      chart: { metadata: { name: 'nginx', version: '1.0.0' }, values: {} },
      config: { replicas: 2 },
    } as never);
    expectOneLineError(
      cli(['check', file('other.yaml', stringify(other))]),
      /nothing judged: 1 object\(s\) read/,
    );
  });

  it('when Helm values are checked without --chart, then the error says to add it', () => {
    const values = file('values.yaml', 'glooMeshMgmtServer:\n  enabled: true\n');
    expectOneLineError(
      cli(['check', values]),
      /values\.yaml:1: not a Kubernetes object \(no kind\); for Helm values add --chart NAME/,
    );
  });
});

describe('check: AdmissionReview files (the files of examples/)', () => {
  it('when the review of the chart defaults is checked, then its object is judged and denied (exit 1)', () => {
    const r = cli(['check', 'examples/review-enterprise-defaults.json', '-o', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { summary: { objects: number; denied: number } };
    expect(report.summary.objects).toBe(1);
    expect(report.summary.denied).toBeGreaterThan(0);
    expect(r.stdout).toContain('examples/review-enterprise-defaults.json:1 request.object');
  });

  it('when the review of production values is checked, then it is judged and passes (exit 0)', () => {
    const r = cli(['check', 'examples/review-enterprise-production.json', '-o', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { summary: { objects: number } }).summary.objects).toBe(1);
  });
});

describe('check: messages that say what is wrong', () => {
  it('when a values file is UTF-16 (PowerShell >), then exit 2 says to save it as UTF-8', () => {
    const utf16 = file(
      'utf16.yaml',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('glooMeshUi:\n  enabled: true\n', 'utf16le')]),
    );
    expectOneLineError(
      cli(['check', '--chart', 'gloo-mesh-enterprise', utf16]),
      /utf16\.yaml: is UTF-16 text; save it as UTF-8/,
    );
  });

  it('when an option is unknown, then the error names it in plain words', () => {
    const r = cli(['check', '--bogus', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'gloo-guard: unknown option --bogus; a file whose name starts with "-" goes after --',
    );
    expect(cli(['check', 'x', '--output']).stderr.split('\n')[0]).toBe('gloo-guard: --output needs a value');
  });

  it('when a release payload was never gzip and is not JSON, then the error does not speak of gunzip', () => {
    // Helm writes gzip; an uncompressed payload is legal too, and this one is cut short.
    const secret = rawReleaseSecret(Buffer.from('{"name": "cut short').toString('base64'));
    const r = cli(['check', file('plain.yaml', stringify(secret))]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('release is neither gzip nor valid JSON');
    expect(r.stdout + r.stderr).not.toContain('gunzip');
  });

  it('when fips-images judges values checked without --chart-version, then it explains the empty tag', () => {
    const config = file('fips.yaml', 'policies:\n  fips-images: {action: deny}\n');
    const values = file('mgmt.yaml', 'glooMeshMgmtServer:\n  enabled: true\n');
    const r = cli(['check', '--chart', 'gloo-mesh-enterprise', '--config', config, values]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '[fips-images] the image tag is empty (the chart version), which is not a FIPS build',
    );
    expect(r.stdout).not.toContain('tag ""');
  });

  it('when the kubeconfig is empty, then audit exits 2 with one line, not a JavaScript error', () => {
    const r = cli(['audit', '--kubeconfig', file('kubeconfig', '')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^gloo-guard: cannot load kubeconfig .*: it is empty or not a kubeconfig[^\n]*\n$/,
    );
    expect(r.stderr).not.toMatch(/Cannot read properties/);
  });
});

describe('config: exception dates and YAML errors', () => {
  const manifest = (): string =>
    file('ns.yaml', stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gloo-mesh' } }));
  const withExpiry = (expires: string): string =>
    file(
      `config-${expires}.yaml`,
      [
        'exceptions:',
        '  - policy: no-bundled-redis',
        '    reason: staging',
        `    expires: ${expires}`,
        '',
      ].join('\n'),
    );

  it.each(['2030-13-01', '2030-02-30'])(
    'when an exception expires on %s, a day that does not exist, then exit 2 names the expires line',
    (day) => {
      const config = withExpiry(day);
      expectOneLineError(
        cli(['check', '--config', config, manifest()]),
        new RegExp(
          `^gloo-guard: ${config}:4: exceptions\\[0\\]\\.expires: "${day}" is not a date; write a real day as YYYY-MM-DD`,
        ),
      );
    },
  );

  it('when an exception expires on a real day (a leap day), then the config is accepted', () => {
    const r = cli(['check', '--config', withExpiry('2028-02-29'), manifest()]);
    expect(r.code).toBe(0);
  });

  it('when the config has a YAML syntax error, then one line names the file and line', () => {
    const config = file('broken.yaml', 'mode: enforce\npolicies: {fips-images: [\n');
    expectOneLineError(
      cli(['check', '--config', config, manifest()]),
      new RegExp(`^gloo-guard: ${config}:\\d+: not valid YAML`),
    );
  });
});
