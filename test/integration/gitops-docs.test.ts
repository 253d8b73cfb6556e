// The worked examples of docs/gitops.md are real transcripts: each command is run as written (helm
// template through real Helm 3, gloo-guard through its CLI) and must print exactly what the page shows.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helmBin } from '../../scripts/helm-bin.js';
import { cli } from '../helpers/cli.js';

interface Transcript {
  command: string;
  output: string;
  exit: number;
}

/** The ```console blocks of the page: `$ command`, its output, then `$ echo $?` and the exit status. */
function transcripts(page: string): Transcript[] {
  return [...page.matchAll(/```console\n([\s\S]*?)```/g)].map((m) => {
    const lines = (m[1] ?? '').split('\n');
    const command = (lines[0] ?? '').replace(/^\$ /, '');
    const echo = lines.indexOf('$ echo $?');
    return { command, output: lines.slice(1, echo).join('\n'), exit: Number(lines[echo + 1]) };
  });
}

/** Runs `gloo-guard ARGS`, or `helm template ARGS | gloo-guard ARGS`, as a shell would. */
function run(command: string): { out: string; code: number } {
  const [left = '', right] = command.split(' | ');
  let input: string | undefined;
  let check = left;
  if (right !== undefined) {
    const h = spawnSync(helmBin('v3'), left.split(' ').slice(1), { encoding: 'utf8' });
    if (h.status !== 0) throw new Error(`${left}: ${h.stderr}`);
    input = h.stdout;
    check = right;
  }
  const r = cli(check.split(' ').slice(1), input);
  return { out: (r.stdout + r.stderr).trimEnd(), code: r.code };
}

const examples = transcripts(readFileSync('docs/gitops.md', 'utf8'));

describe('docs/gitops.md worked examples', () => {
  it('has one per way of installing: Argo CD, Flux, umbrella, ConfigMap driver, rendered manifests', () => {
    expect(examples.map((e) => e.command)).toEqual([
      expect.stringContaining('solo-cop-gloo-platform-helm.yaml'),
      expect.stringContaining('flux-helmrelease.yaml'),
      expect.stringContaining('--subchart mesh=gloo-platform'),
      expect.stringContaining('release-configmap.yaml'),
      expect.stringMatching(/^helm template .* \| gloo-guard check -$/),
    ]);
  });

  it.each(examples)('when `$command` runs, then it prints what the page shows', (e) => {
    const r = run(e.command);
    expect(r.out).toBe(e.output.trimEnd());
    expect(r.code).toBe(e.exit);
  });
});

describe('README GitOps example', () => {
  it('when the Argo CD command of the README runs, then it prints the lines the README quotes', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## GitOps'), readme.indexOf('## Configuration'));
    const quoted = /The first prints, in part:\n\n```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(quoted).not.toBe('');
    const out = run('gloo-guard check test/fixtures/carriers/public/solo-cop-gloo-platform-helm.yaml').out;
    for (const line of quoted.trimEnd().split('\n')) expect(out).toContain(line);
  });
});
