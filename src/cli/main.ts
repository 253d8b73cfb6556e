#!/usr/bin/env node
/** The gloo-guard command: check, audit, policies, serve. Exit codes: 0 ok, 1 denied, 2 bad input or usage. */
import { runCheck } from './check.js';
import { runPolicies } from './policies.js';
import { version } from './version.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  check: { run: runCheck, summary: 'judge values files, manifests or release Secrets' },
  // audit and serve load the Kubernetes client and the HTTP stack: only when asked for.
  audit: {
    run: async (a) => (await import('./audit.js')).runAudit(a),
    summary: 'judge what already runs in one or more clusters',
  },
  policies: { run: runPolicies, summary: 'list the policy catalog' },
  test: {
    run: async (a) => (await import('./test.js')).runTest(a),
    summary: 'run rule tests (*.test.yaml: inputs and the verdict each policy must give)',
  },
  vap: {
    run: async (a) => (await import('./vap.js')).runVap(a),
    summary: 'print ValidatingAdmissionPolicies for the object checks the API server can enforce alone',
  },
  serve: {
    run: async (a) => (await import('./serve.js')).runServe(a),
    summary: 'run the admission webhook (HTTPS)',
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: gloo-guard <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun gloo-guard <command> --help for a command's options, gloo-guard --version for the version.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`gloo-guard ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`gloo-guard: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Last resort: a bug, not bad input. One line, no stack trace for users.
    process.stderr.write(`gloo-guard: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
