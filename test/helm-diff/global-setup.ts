// Builds the helm-diff harness once before the tests (cached; see test/helm-diff/README.md). A
// missing Go fails the run with build.sh's message: the differential tests are never skipped.
import { buildHarness } from './helm.js';

export function setup(): void {
  buildHarness((s) => process.stderr.write(`[helm-diff] ${s}\n`));
}
