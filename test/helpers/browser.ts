/**
 * A real headless Chromium (Debian's package, found or installed by scripts/ensure-chromium.sh) driven
 * through puppeteer-core over the DevTools protocol: no browser is downloaded.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { PNG } from 'pngjs';

const ROOT = resolve(import.meta.dirname, '../..');

/** The Chromium binary, installing Debian's package when none is there. */
export function chromiumPath(): string {
  const out = execFileSync(resolve(ROOT, 'scripts/ensure-chromium.sh'), {
    encoding: 'utf8',
    timeout: 900_000,
  });
  return out.trim().split('\n').pop() ?? '';
}

/** Starts headless Chromium; `--no-sandbox` because CI containers run as root. */
export function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
}

/** What a page did while it loaded: console errors, uncaught errors, and every request it made. */
export interface PageLog {
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
}

/** Opens `url` in a fresh page of `width` x `height`, recording what the page does. */
export async function open(
  browser: Browser,
  url: string,
  width = 1280,
  height = 800,
): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage();
  await page.setViewport({ width, height, deviceScaleFactor: 1 });
  const log: PageLog = { consoleErrors: [], pageErrors: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') log.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  page.on('request', (r) => log.requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  return { page, log };
}

/** A coarse picture of a PNG: mean luminance of each `block` x `block` square, row by row. */
export function luminanceGrid(png: Buffer, block = 32): { width: number; height: number; grid: number[] } {
  const img = PNG.sync.read(png);
  const cols = Math.ceil(img.width / block);
  const rows = Math.ceil(img.height / block);
  const sums = new Array<number>(cols * rows).fill(0);
  const counts = new Array<number>(cols * rows).fill(0);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      const lum = 0.2126 * img.data[i]! + 0.7152 * img.data[i + 1]! + 0.0722 * img.data[i + 2]!;
      const b = Math.floor(y / block) * cols + Math.floor(x / block);
      sums[b]! += lum;
      counts[b]! += 1;
    }
  return { width: img.width, height: img.height, grid: sums.map((s, i) => s / counts[i]!) };
}
