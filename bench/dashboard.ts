import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** Debian's Chromium, as the browser tests use it; undefined when the machine has none. */
export function chromiumPath(): string | undefined {
  return [process.env.KSI_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((candidate): candidate is string => Boolean(candidate && existsSync(candidate)));
}

export interface PaintTiming {
  /** Navigation start to the page's first contentful paint (the header). */
  firstContentfulPaintMs: number;
  /** Navigation start to the agent list showing every agent. */
  agentListMs: number;
}

/**
 * Loads the dashboard in a fresh headless Chromium (the token URL, then the page) and times, from the
 * page's own navigation start, its first paint and the agent table holding `agents` rows. Median of `runs`.
 */
export async function dashboardPaint(executablePath: string, url: string, agents: number, runs = 5): Promise<PaintTiming> {
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const timings: PaintTiming[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const page = await browser.newPage();
      await page.goto(url);
      const agentListMs = await page.waitForFunction((count) => document.querySelectorAll('[data-testid=agent-row]').length >= count && performance.now(), agents, { polling: 'raf', timeout: 30_000 });
      const firstContentfulPaintMs = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
      timings.push({ firstContentfulPaintMs, agentListMs: (await agentListMs.jsonValue()) as number });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  const median = (pick: (timing: PaintTiming) => number) => timings.map(pick).sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { firstContentfulPaintMs: median((timing) => timing.firstContentfulPaintMs), agentListMs: median((timing) => timing.agentListMs) };
}
