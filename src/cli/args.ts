/** Shared argument handling: usage errors are one line and exit 2. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { ConfigError, loadConfig } from '../config/load.js';
import { defaultConfig, type Config } from '../config/types.js';
import { KubeConfigError } from '../k8s/rest.js';
import { InputFileError } from './inputs.js';

/** A usage mistake: one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>
>;

/**
 * parseArgs that turns its errors into UsageError. Commands that take files allow positionals and
 * say errors in our words; `serve` takes none and keeps Node's text, which names the option as typed.
 */
export function parse<O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
  allowPositionals = true,
): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err: unknown) {
    throw new UsageError(
      allowPositionals ? usageProblem(err) : err instanceof Error ? err.message : String(err),
    );
  }
}

/**
 * Node's parseArgs errors in our words: its unknown-option text runs on about `--` with an unbalanced
 * quote, and its missing-value text names a `<value>` placeholder.
 */
function usageProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(?:-\w, )?(-[^' ]*)/.exec(message)?.[1] ?? '';
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}; a file whose name starts with "-" goes after --`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(message) ? `${option} needs a value` : `${option} takes no value`;
    default:
      return message;
  }
}

/** parse(), and prints the help for --help: undefined then (exit 0). The options must have `help`. */
export function parseOrHelp<O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
  help: string,
  allowPositionals = true,
): Parsed<O> | undefined {
  const parsed = parse(args, options, allowPositionals);
  if (!(parsed.values as { help?: boolean }).help) return parsed;
  process.stdout.write(`${help}\n`);
  return undefined;
}

/** The config from a file, or the defaults. */
export function configFrom(file: string | undefined): Config {
  return file === undefined ? defaultConfig() : loadConfig(file);
}

/** Prints a known error as one line (or a few for a config with several problems) and gives exit 2. */
export function reportFailure(err: unknown, help: string): number {
  if (err instanceof UsageError) {
    process.stderr.write(`gloo-guard: ${err.message}\n${help}\n`);
    return 2;
  }
  if (err instanceof ConfigError || err instanceof InputFileError || err instanceof KubeConfigError) {
    process.stderr.write(`gloo-guard: ${err.message}\n`);
    return 2;
  }
  throw err;
}

/** Output formats the CLI offers. */
export type OutputFormat = 'text' | 'json' | 'sarif' | 'junit' | 'html';

/** Checks --output. */
export function outputFormat(
  v: string | undefined,
  allowed: readonly string[] = ['text', 'json', 'sarif', 'junit', 'html'],
): OutputFormat {
  const f = v ?? 'text';
  if (!allowed.includes(f)) throw new UsageError(`--output must be one of ${allowed.join(', ')}, not "${f}"`);
  return f as OutputFormat;
}
