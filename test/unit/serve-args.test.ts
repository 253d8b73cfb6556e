// `gloo-guard serve` options, as the chart passes them.
import { describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/cli/serve-args.js';

describe('serve arguments', () => {
  it('when nothing is said, then the worker for large releases starts warmed up with the server', () => {
    expect(parseServeArgs([], 'help')).toMatchObject({ warmUp: true, port: 8443, logLevel: 'info' });
  });

  it('when --no-warm-up is given (chart value warmUp: false), then the worker starts on the first large release', () => {
    expect(parseServeArgs(['--no-warm-up'], 'help')).toMatchObject({ warmUp: false });
  });
});
