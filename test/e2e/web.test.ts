import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { connectDevice, heartbeat } from '../support/mqtt-devices.js';
import { seedContract, type SeededContract } from '../support/seed.js';

/**
 * The reviewer page in a real Chromium against a gateway seeded by a virtual-time scenario:
 * contract A (#5, 3 devices required) has 3 of 4 devices active for 21 days → passes;
 * contract B (#25, 2 required, another supplier) has 1 active device → fails.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const START = Date.parse('2020-11-01T00:00:00+08:00');
const DAY = 86_400_000;
let gw: TestGateway;
let a: SeededContract;
let b: SeededContract;
let browser: Browser;
const consoleErrors: string[] = [];

async function drive(clock: VirtualClock, plan: Array<{ contract: SeededContract; device: number; days: number }>) {
  const clients = await Promise.all(plan.map((p) => connectDevice(gw.mqttPort, p.contract.devices[p.device]!)));
  const seq = plan.map(() => 0);
  for (let day = 0; day < 21; day++) {
    for (let minute = 9 * 60; minute < 9 * 60 + 61; minute++) {
      clock.set(START + day * DAY + minute * 60_000);
      await Promise.all(plan.map((p, i) => (day < p.days ? heartbeat(clients[i]!, p.contract.devices[p.device]!.id, { seq: ++seq[i]! }) : undefined)));
    }
  }
  await Promise.all(clients.map((c) => c.endAsync()));
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const clock = new VirtualClock(START);
  gw = await startTestGateway({ clock, env: { GATEWAY_COMMIT_INTERVAL_MS: '0' } });
  // 6,428.58 yuan × 70% = 4,500 yuan → ⌈4500 / 1500⌉ = 3 devices
  a = await seedContract(gw, { devices: 4, catalogId: 5, contractAmountFen: 642_858, supplierName: '供应商甲' });
  // 2,285.72 yuan × 70% = 1,600 yuan → ⌈1600 / 800⌉ = 2 devices
  b = await seedContract(gw, { devices: 2, catalogId: 25, contractAmountFen: 228_572, supplierName: '供应商乙' });
  await drive(clock, [
    { contract: a, device: 0, days: 21 },
    { contract: a, device: 1, days: 21 },
    { contract: a, device: 2, days: 21 },
    { contract: b, device: 0, days: 21 },
    { contract: b, device: 1, days: 10 },
  ]);
  clock.set(START + 20 * DAY + 20 * 3600_000);
  // playwright starts Chromium with a fresh temporary profile of its own.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

async function openAs(key: string, hash = '#/contracts'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(`${gw.httpUrl}/${hash}`);
  await page.fill('#api-key', key);
  await page.click('form.login button[type=submit]');
  return page;
}

describe('reviewer web page', () => {
  it('lists the contracts with the right required and active counts', async () => {
    const page = await openAs(gw.adminKey);
    await page.waitForSelector(`tr[data-contract="${a.contractId}"]`);
    const cell = (id: string, col: string) => page.textContent(`tr[data-contract="${id}"] td[data-col="${col}"]`);
    expect(await cell(a.contractId, 'required')).toBe('3');
    expect(await cell(a.contractId, 'active')).toBe('3');
    expect(await cell(b.contractId, 'required')).toBe('2');
    expect(await cell(b.contractId, 'active')).toBe('1');
    expect(await page.textContent('[data-stat="passing"] b')).toBe('1 / 2');
    expect(await page.textContent('[data-stat="online"] b')).toBe('4');
    await page.selectOption('select[data-filter="status"]', 'failed');
    expect(await page.locator('tbody tr[data-contract]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'contracts.png'), fullPage: true });
    await page.close();
  });

  it('shows a heat-map with one row per device on the contract detail', async () => {
    const page = await openAs(gw.adminKey, `#/contracts/${a.contractId}`);
    await page.waitForSelector('.heatmap tbody tr');
    expect(await page.locator('.heatmap tbody tr').count()).toBe(4);
    expect(await page.locator(`.heatmap tr[data-device="${a.devices[0]!.id}"] td.cell.active`).count()).toBe(21);
    expect(await page.locator(`.heatmap tr[data-device="${a.devices[3]!.id}"] td.cell.active`).count()).toBe(0);
    expect(await page.getAttribute('.gauge', 'data-active')).toBe('3');
    expect(await page.textContent('.digest code')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await page.locator('form.redemption').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'contract-detail.png'), fullPage: true });
    await page.close();
  });

  it("shows a supplier its shortfall and device connection details, and not another supplier's contract", async () => {
    const { key } = await gw.json('/v1/api-keys', { body: { role: 'supplier', supplierId: b.supplierId } });
    const page = await openAs(key, `#/contracts/${b.contractId}`);
    await page.waitForSelector('.supplier .shortfall');
    expect(await page.locator('.shortfall li').count()).toBe(1);
    await page.selectOption('#mqtt-device', b.devices[1]!.id);
    expect(await page.textContent('.mqtt')).toContain(`v1/devices/${b.devices[1]!.id}/heartbeat`);
    expect(await page.textContent('.shortfall')).toContain(b.devices[1]!.serial);
    expect(await page.locator('form.redemption').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'supplier.png'), fullPage: true });

    await page.goto(`${gw.httpUrl}/#/contracts/${a.contractId}`);
    await page.waitForSelector('.not-found');
    expect(await page.locator('.heatmap').count()).toBe(0);
    await page.goto(`${gw.httpUrl}/#/contracts`);
    await page.waitForSelector('table.contracts tbody tr');
    expect(await page.locator('tbody tr[data-contract]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'supplier-list.png'), fullPage: true });
    await page.close();
  });

  it('evaluates a what-if: 70% of 100,000 yuan for #5 in 佛山', async () => {
    const page = await openAs(gw.adminKey, '#/what-if');
    await page.waitForSelector('form.what-if');
    await page.selectOption('[name=catalogId]', '5');
    await page.fill('[name=amount]', '100000');
    await page.click('form.what-if button[type=submit]');
    await page.waitForSelector('#what-if-total');
    expect(await page.textContent('#what-if-total')).toBe('¥70,000.00');
    expect(await page.textContent('.application-result')).toContain('37号 §四');
    await page.screenshot({ path: join(ARTIFACTS, 'what-if.png'), fullPage: true });
    await page.close();
  });

  it('logged no console errors (but the browser\'s own note of the one expected 404)', () => {
    const notFound = consoleErrors.filter((m) => /status of 404/.test(m));
    expect(notFound.length).toBeLessThanOrEqual(1);
    expect(consoleErrors.filter((m) => !notFound.includes(m))).toEqual([]);
  });
});
