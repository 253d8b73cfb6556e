/// <reference lib="dom" />
/**
 * The HTML report in a real headless Chromium: the fleet page of a three-cluster audit (built by the
 * audit's own functions over static clusters) and the page `check --output html` writes (the real CLI).
 * Rendered without network or console errors, readable in ten seconds, cells open their findings,
 * interactive elements have accessible names, printable, and its layout matches the screenshot in docs.
 * GG_UPDATE_SCREENSHOTS=1 rewrites docs/images/fleet-report.png from this test.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCluster } from '../../src/audit/audit.js';
import { crossClusterFindings } from '../../src/audit/cross-cluster.js';
import { fleetPage } from '../../src/cli/audit.js';
import { renderHtml } from '../../src/cli/format/html.js';
import { defaultConfig, type Config } from '../../src/config/types.js';
import { CHART_DEFAULTS } from '../../src/engine/charts/defaults.js';
import { releaseSecret } from '../../src/helm/release.js';
import { POLICIES } from '../../src/policies/index.js';
import { launch, luminanceGrid, open, type PageLog } from '../helpers/browser.js';
import { cli } from '../helpers/cli.js';
import { staticSource } from '../helpers/static-source.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOT = join(ROOT, 'docs/images/fleet-report.png');
const dir = mkdtempSync(join(tmpdir(), 'gg-html-'));

const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const deploy = (name: string, namespace: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, uid: `uid-${name}` },
  spec: { template: { spec: { containers: [{ name, image: `${name}:1` }] } } },
});
const rel = (name: string, config: Record<string, unknown>) =>
  releaseSecret({
    name,
    namespace: 'gloo-mesh',
    version: 1,
    info: { status: 'deployed' },
    // The chart's own values, as the real chart ships them (a release is judged on them alone).
    chart: { metadata: { name: 'gloo-platform', version: '2.4.3' }, values: CHART_DEFAULTS['gloo-platform'] },
    config,
  } as never);
const mgmtService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'gloo-mesh-mgmt-server', namespace: 'gloo-mesh' },
  spec: { type: 'ClusterIP' },
  status: { loadBalancer: { ingress: [{ hostname: 'mgmt.example.com' }] } },
};
const MGMT = {
  glooMgmtServer: { enabled: true, serviceType: 'ClusterIP' },
  prometheus: { enabled: false },
  common: { prometheusUrl: 'http://prom.monitoring:9090', insecure: true },
  redis: { deployment: { enabled: false } },
};
const agent = (addr: string) => ({ glooAgent: { enabled: true, relay: { serverAddress: addr } } });

/** A fleet: a management cluster with denials, two workload clusters (one exempted, one relaying nowhere), one unreadable. */
async function fleetHtml(): Promise<string> {
  const config: Config = {
    ...defaultConfig(),
    exceptions: [
      {
        policy: 'relay-custom-certs',
        namespace: 'gloo-mesh',
        reason: 'certificates from Vault, rolled out in Q1',
      },
    ],
  };
  const audits = [
    await auditCluster(
      staticSource('mgmt-east', [
        ns('gloo-mesh', { 'istio-injection': 'enabled' }),
        deploy('gloo-mesh-mgmt-server', 'gloo-mesh'),
        deploy('gloo-mesh-redis', 'gloo-mesh'),
        mgmtService,
        rel('gloo-platform', MGMT),
      ] as never),
      defaultConfig(),
    ),
    await auditCluster(
      staticSource('workload-1', [
        ns('gloo-mesh'),
        deploy('gloo-mesh-agent', 'gloo-mesh'),
        rel('agent', agent('mgmt.example.com:9900')),
      ]),
      config,
    ),
    await auditCluster(
      staticSource('workload-2', [
        ns('gloo-mesh'),
        deploy('gloo-mesh-agent', 'gloo-mesh'),
        rel('agent', agent('old-mgmt.example.com:9900')),
      ]),
      defaultConfig(),
    ),
  ];
  const failures = [
    {
      source: 'workload-3',
      message: 'cannot audit cluster: GET https://10.0.0.3:6443/api/v1/namespaces: connect ECONNREFUSED',
    },
  ];
  const page = fleetPage(
    { audits, failures, cross: crossClusterFindings(audits) },
    new Date('2026-11-29T12:00:00Z'),
  );
  return renderHtml({ ...page, version: '0.0.0-test' });
}

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
}, 900_000);
afterAll(async () => {
  await browser?.close();
});

/** Every element a user can operate, with the name assistive technology reads out. */
async function interactiveNames(page: Page): Promise<Array<{ role: string; name: string }>> {
  const tree = await page.accessibility.snapshot({ interestingOnly: true });
  const out: Array<{ role: string; name: string }> = [];
  const walk = (n: { role: string; name?: string; children?: unknown[] } | null): void => {
    if (!n) return;
    if (['link', 'button', 'DisclosureTriangle', 'checkbox', 'textbox'].includes(n.role))
      out.push({ role: n.role, name: n.name ?? '' });
    for (const c of (n.children ?? []) as Array<typeof n>) walk(c);
  };
  walk(tree);
  return out;
}

function expectQuiet(log: PageLog, file: string): void {
  expect(log.consoleErrors).toEqual([]);
  expect(log.pageErrors).toEqual([]);
  // Self-contained: the only request is the file itself.
  expect(log.requests).toEqual([pathToFileURL(file).href]);
}

describe('the fleet page (audit --output html) in Chromium', () => {
  let page: Page;
  let log: PageLog;
  const file = join(dir, 'fleet.html');

  beforeAll(async () => {
    writeFileSync(file, await fleetHtml());
    ({ page, log } = await open(browser, pathToFileURL(file).href));
  });

  it('when it loads, then it makes no request and logs no error', () => {
    expectQuiet(log, file);
  });

  it('when a person looks for ten seconds, then the verdict and totals are in the first screen', async () => {
    const summary = await page.$eval('.summary', (el) => ({
      text: (el as HTMLElement).innerText,
      bottom: el.getBoundingClientRect().bottom,
    }));
    expect(summary.bottom).toBeLessThan(800);
    expect(summary.text).toMatch(/^1 of 4 clusters would be refused: \d+ denials\./);
    expect(summary.text).toContain('4 clusters audited');
    expect(summary.text).toMatch(/1\s+errors/);
    expect(summary.text).toMatch(/1\s+cross-cluster/);
  });

  it('when the matrix is read, then each cluster is a column, each policy a row, with counts', async () => {
    const head = await page.$$eval('table.matrix thead th', (ths) =>
      ths.map((t) => t.firstChild?.textContent),
    );
    expect(head).toEqual(['Policy', 'mgmt-east', 'workload-1', 'workload-2', 'workload-3']);
    const rows = await page.$$eval('table.matrix tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.children, (c) => (c as HTMLElement).innerText.split('\n')[0])),
    );
    expect(rows.map((r) => r[0])).toEqual(POLICIES.map((p) => p.id));
    const insecure = rows.find((r) => r[0] === 'no-insecure-relay');
    expect(insecure).toEqual(['no-insecure-relay', '1 denied', '✓', '✓', 'not judged']);
    const certs = rows.find((r) => r[0] === 'relay-custom-certs');
    expect(certs?.[2]).toMatch(/^\d+ exempt$/);
  });

  it('when a count is clicked, then its findings open with the fix', async () => {
    const link = await page.$('td a[href$="-no-insecure-relay"]');
    await link!.click();
    await page.waitForFunction(
      () => document.querySelector<HTMLDetailsElement>('details:target')?.open === true,
    );
    const opened = await page.$eval('details:target', (d) => ({
      id: d.id,
      text: (d as HTMLElement).innerText,
      fixVisible: (d.querySelector('.fix') as HTMLElement).checkVisibility(),
    }));
    expect(opened.id).toBe('c0-no-insecure-relay');
    expect(opened.fixVisible).toBe(true);
    expect(opened.text).toContain('release gloo-mesh/gloo-platform');
    expect(opened.text).toMatch(/Fix: .*insecure: false/);
  });

  it('when read by assistive technology, then every link and disclosure has a name that says what it opens', async () => {
    const named = await interactiveNames(page);
    expect(named.length).toBeGreaterThan(5);
    for (const n of named) expect(n.name.trim(), `${n.role} without a name`).not.toBe('');
    expect(named).toContainEqual({
      role: 'link',
      name: 'no-insecure-relay in mgmt-east: 1 denied, 0 warnings, 0 exempted; show findings',
    });
  });

  it('when printed, then every finding is printed open and the page fits the paper width', async () => {
    const hiddenFixes = () =>
      page.$$eval(
        'details .fix',
        (fixes) => fixes.filter((f) => !(f as HTMLElement).checkVisibility()).length,
      );
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = false)));
    // On screen, closed findings hide their fixes...
    expect(await hiddenFixes()).toBeGreaterThan(0);
    await page.emulateMediaType('print');
    try {
      // ...on paper none may be hidden.
      expect(await hiddenFixes()).toBe(0);
      const pdf = await page.pdf({ format: 'A4' });
      expect(Buffer.from(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await page.emulateMediaType('screen');
    }
  });

  it('when the window is narrow, then the matrix scrolls inside its box, not the page', async () => {
    const narrow = await open(browser, pathToFileURL(file).href, 700, 800);
    const overflow = await narrow.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await narrow.page.close();
  });

  it('when screenshotted, then the layout matches the picture in docs (block by block)', async () => {
    const { page: fresh } = await open(browser, pathToFileURL(file).href);
    const png = Buffer.from(await fresh.screenshot({ fullPage: true, type: 'png' }));
    await fresh.close();
    if (process.env.GG_UPDATE_SCREENSHOTS === '1' || !existsSync(SCREENSHOT)) {
      mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
      writeFileSync(SCREENSHOT, png);
    }
    const now = luminanceGrid(png);
    const ref = luminanceGrid(readFileSync(SCREENSHOT));
    expect(now.width).toBe(1280);
    // Not blank: a page of text, tables and coloured cells varies from block to block.
    expect(new Set(now.grid.map((v) => Math.round(v / 16))).size).toBeGreaterThan(4);
    expect(Math.abs(now.height - ref.height) / ref.height).toBeLessThan(0.1);
    const n = Math.min(now.grid.length, ref.grid.length);
    const diffs = now.grid.slice(0, n).map((v, i) => Math.abs(v - ref.grid[i]!));
    const mean = diffs.reduce((a, b) => a + b, 0) / n;
    expect(mean).toBeLessThan(8);
    expect(diffs.filter((d) => d > 40).length / n).toBeLessThan(0.02);
  });
});

describe('check --output html (a CI artifact) in Chromium', () => {
  it('when values would be refused, then the page names the file, shows the denial and opens its fix', async () => {
    const values = join(dir, 'values.yaml');
    writeFileSync(values, 'glooMeshMgmtServer:\n  relay:\n    disableCa: true\ninsecure: true\n');
    const r = cli(['check', '--chart', 'gloo-mesh-enterprise', values, '--output', 'html']);
    expect(r.code).toBe(1);
    const file = join(dir, 'check.html');
    writeFileSync(file, r.stdout);
    const { page, log } = await open(browser, pathToFileURL(file).href);
    expectQuiet(log, file);
    expect(await page.$eval('.verdict', (e) => e.textContent)).toMatch(/^1 of 1 input would be refused/);
    expect(await page.$eval('table.matrix thead th:nth-child(2)', (e) => e.firstChild?.textContent)).toBe(
      values,
    );
    await (await page.$('td a[href$="-no-insecure-relay"]'))!.click();
    // The page opens the target on 'hashchange', which fires after the click returns: wait for it.
    await page.waitForSelector('details:target[open]');
    const text = await page.$eval('details:target', (d) => (d as HTMLElement).innerText);
    expect(text).toMatch(/DENY .*insecure/s);
    expect(text).toContain('Fix:');
    await page.close();
  });
});
