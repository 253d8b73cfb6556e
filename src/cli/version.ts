/** The package version, read from package.json (works from src/ and from dist/). */
import { readFileSync } from 'node:fs';

/** gloo-guard's version. */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
