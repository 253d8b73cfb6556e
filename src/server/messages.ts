/**
 * The texts the API server passes on to users: the denial message, warnings and audit annotations.
 *
 * Why the denial message is several lines: the API server copies `status.message` verbatim into
 * `admission webhook "<name>" denied the request: <message>` (no length limit, newlines kept), and
 * Helm and kubectl print that error as it is. Gatekeeper joins its violations with "\n" for the same
 * reason. So the first line is a complete sentence that continues Helm's
 * `Error: UPGRADE FAILED: ... denied the request:` line on its own (it names the chart, release,
 * revision and namespace), then one `[policy-id] what (path) -> fix` per line, then where to read
 * more. Where a tool shows the message on one line (events, CD status), every line still starts with
 * `[policy-id]`, so the flattened text stays readable.
 */
import type { Config } from '../config/types.js';
import type { EvaluationError, Finding } from '../engine/evaluate.js';

/** The API server cuts each warning at this many runes. */
export const WARNING_MAX_RUNES = 256;
/** The API server stops accepting warnings once their runes add up to this. */
export const WARNINGS_TOTAL_RUNES = 4096;
/** Violations listed in a denial; the rest are counted. */
export const MAX_LISTED_VIOLATIONS = 20;

const OVERFLOW_RESERVE = 120;
const MAX_ERROR_RUNES = 200;

/** Replaces control characters (newlines included) with a space, so a line of ours stays one line. */
export function oneLine(text: string): string {
  return text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** The length of a string in runes (code points), as the API server counts. */
export function runeLength(text: string): number {
  return Array.from(text).length;
}

/** Cuts text to at most `max` runes, at a word boundary when one is near, ending with an ellipsis. */
export function truncateRunes(text: string, max: number): string {
  const runes = Array.from(text);
  if (runes.length <= max) return text;
  const head = runes.slice(0, max - 1).join('');
  const space = head.lastIndexOf(' ');
  const cut = space >= head.length - 40 && space > 0 ? head.slice(0, space) : head;
  return `${cut.trimEnd()}…`;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

/** Room a shortened description keeps before the fix, so it still names what is wrong. */
const MIN_DESCRIPTION_RUNES = 30;

/**
 * One warning within `max` runes. A `[policy-id] what (path) -> fix` line is shortened in its
 * description, never in its fix: the fix is what the user acts on.
 */
export function fitWarning(line: string, max = WARNING_MAX_RUNES): string {
  const text = oneLine(line);
  if (runeLength(text) <= max) return text;
  const arrow = text.lastIndexOf(' -> ');
  const fix = arrow > 0 ? text.slice(arrow) : '';
  const room = max - runeLength(fix);
  if (fix === '' || room < MIN_DESCRIPTION_RUNES) return truncateRunes(text, max);
  return `${truncateRunes(text.slice(0, arrow), room)}${fix}`;
}

/** Warnings the API server keeps whole: one line each, at most 256 runes, at most 4096 runes in all. */
export function fitWarnings(lines: readonly string[]): string[] {
  const items = unique(lines.map((l) => fitWarning(l)).filter((l) => l !== ''));
  const out: string[] = [];
  let total = 0;
  for (const [i, item] of items.entries()) {
    const reserve = i < items.length - 1 ? OVERFLOW_RESERVE : 0;
    const len = runeLength(item);
    if (total + len + reserve > WARNINGS_TOTAL_RUNES) {
      out.push(
        `gloo-guard: ${plural(items.length - i, 'more warning')} not shown; run gloo-guard check for all`,
      );
      break;
    }
    out.push(item);
    total += len;
  }
  return out;
}

function readMore(policyIds: string[]): string {
  const links = unique(policyIds).map((id) => `docs/policies.md#${id}`);
  const where = links.length > 0 ? `${links.join(', ')}, or run` : 'run';
  return `Read more: ${where} \`gloo-guard policies\`; exceptions go in the gloo-guard config.`;
}

function headline(object: string, denied: number, errors: number): string {
  if (errors === 0) return `gloo-guard: ${plural(denied, 'violation')} in ${object}:`;
  const unchecked = `${plural(errors, 'policy', 'policies')} could not be checked and onError is deny`;
  return denied === 0
    ? `gloo-guard refused ${object}: ${unchecked}:`
    : `gloo-guard: ${plural(denied, 'violation')} in ${object}, and ${unchecked}:`;
}

/** What a denial reports: the object, the deny findings, and policy errors when onError refuses them. */
export interface DenialInput {
  object: string;
  denied: readonly Finding[];
  errors: readonly EvaluationError[];
}

/** The denial message: a headline, one `[policy-id] ...` line per violation, then where to read more. */
export function denialMessage(input: DenialInput): string {
  const { object, denied, errors } = input;
  const lines = [headline(object, denied.length, errors.length)];
  lines.push(...denied.slice(0, MAX_LISTED_VIOLATIONS).map((f) => oneLine(f.message)));
  if (denied.length > MAX_LISTED_VIOLATIONS) {
    lines.push(
      `...and ${denied.length - MAX_LISTED_VIOLATIONS} more; run gloo-guard check on the same values to see them all`,
    );
  }
  for (const e of errors) {
    lines.push(
      `[${e.policy ?? 'gloo-guard'}] could not be checked: ${truncateRunes(oneLine(e.message), MAX_ERROR_RUNES)}`,
    );
  }
  lines.push(
    readMore([...denied.map((f) => f.policy), ...errors.flatMap((e) => (e.policy ? [e.policy] : []))]),
  );
  return lines.join('\n');
}

/** Why something that could not be judged is let through, as the warnings say it: audit mode first. */
export function allowedBecause(config: Pick<Config, 'mode'>): string {
  return config.mode === 'audit' ? 'mode: audit' : 'onError: allow';
}

/** A warning for a policy that failed to run while onError (or audit mode) lets the object through. */
export function policyErrorWarning(e: EvaluationError, why: string): string {
  return `[${e.policy ?? 'gloo-guard'}] could not be checked (${why}): ${oneLine(e.message)}`;
}

/** The denial for an object that cannot be read (corrupt release, gzip bomb) under onError: deny. */
export function inputErrorDenial(what: string, problem: string): string {
  return [
    `gloo-guard could not read ${what}, so it refused it (onError: deny)`,
    oneLine(problem),
    'To let objects that cannot be read through with a warning instead, set onError: allow in the gloo-guard config.',
  ].join('\n');
}

/** The warning for an object that cannot be read but is let through (onError: allow, or audit mode). */
export function inputErrorWarning(what: string, problem: string, why: string): string {
  return `gloo-guard could not read ${what} and allowed it (${why}): ${oneLine(problem)}`;
}

/** Audit annotations (the API server prefixes each key with the webhook name): short keys, short values. */
export function auditAnnotations(
  findings: readonly Finding[],
  extra: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = { ...extra };
  if (findings.length > 0) {
    out.violations = String(findings.length);
    out.policies = unique(findings.map((f) => `${f.policy}=${f.action}`)).join(',');
  }
  return out;
}
