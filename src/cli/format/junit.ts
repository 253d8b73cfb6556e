/** `--output junit`: one test suite per judged object, one failing case per denied violation. */
import { allErrors, type Report } from '../report.js';

function xml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

/** Renders the report as JUnit XML: denials fail, warnings are recorded as passing cases with output. */
export function renderJunit(r: Report): string {
  const suites = r.results.map((res) => {
    const cases = res.findings.map((f) => {
      const name = `${f.policy} ${f.path}`;
      const body =
        f.action === 'deny'
          ? `<failure type="${f.policy}" message="${xml(f.message)}">${xml(f.message)}</failure>`
          : `<system-out>${xml(f.message)}</system-out>`;
      return `    <testcase classname="${xml(res.object)}" name="${xml(name)}">${body}</testcase>`;
    });
    if (cases.length === 0) cases.push(`    <testcase classname="${xml(res.object)}" name="all policies"/>`);
    const failures = res.findings.filter((f) => f.action === 'deny').length;
    return `  <testsuite name="${xml(res.object)}" tests="${cases.length}" failures="${failures}" errors="0">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const errors = allErrors(r);
  if (errors.length > 0) {
    const cases = errors.map(
      (e) =>
        `    <testcase classname="${xml(e.source)}" name="input"><error message="${xml(e.message)}"/></testcase>`,
    );
    suites.push(
      `  <testsuite name="input errors" tests="${errors.length}" failures="0" errors="${errors.length}">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="gloo-guard">\n${suites.join('\n')}\n</testsuites>\n`;
}
