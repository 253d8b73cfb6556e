/** `gloo-guard vap`: ValidatingAdmissionPolicies and bindings for what the API server can enforce alone. */
import { stringify } from 'yaml';
import { renderVaps } from '../rules/vap.js';
import { configFrom, parseOrHelp, reportFailure, UsageError } from './args.js';

const HELP = `usage: gloo-guard vap [--config FILE]

  Prints ValidatingAdmissionPolicies and their bindings (YAML, for kubectl apply -f -) for the
  built-in Namespace, Deployment and Service checks and the config's rules that judge objects only.
  Rules that judge Helm releases stay with the webhook; each is named on standard error.`;

const OPTIONS = { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } as const;

/** Runs `gloo-guard vap`. */
export async function runVap(args: string[]): Promise<number> {
  await Promise.resolve();
  try {
    const parsed = parseOrHelp(args, OPTIONS, HELP);
    if (!parsed) return 0;
    const { values, positionals } = parsed;
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
    const { objects, skipped } = renderVaps(configFrom(values.config));
    process.stdout.write(objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
    for (const s of skipped)
      process.stderr.write(`gloo-guard vap: rule ${s.id} stays with the webhook: ${s.reason}\n`);
    return 0;
  } catch (err: unknown) {
    return reportFailure(err, HELP);
  }
}
