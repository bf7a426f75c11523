import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/sqlite.js';
import { ARTIFACTS, launchBrowser, signIn, type TestBrowser } from './support/browser.js';
import { startScenario, SUPPLIER_B_NAME, type Scenario } from './support/scenario.js';

/**
 * The reviewer and supplier page in a real Chromium against a real gateway seeded by a
 * virtual-time scenario (see support/scenario.ts): A passes 3/3, B fails 1/2, C has no threshold.
 */
let s: Scenario;
let browser: TestBrowser;
let reviewerKey: string;

beforeAll(async () => {
  s = await startScenario();
  ({ key: reviewerKey } = await s.gw.json<{ key: string }>('/v1/api-keys', { body: { role: 'reviewer' } }));
  browser = await launchBrowser(s.gw.httpUrl);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await s?.gw.close();
});

const shot = (name: string) => join(ARTIFACTS, `${name}.png`);

describe('the web page served by the gateway', () => {
  it('is plain static files with no-cache and a strict CSP, needing no key', async () => {
    const res = await s.gw.api('/', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing from a CDN
    for (const file of ['app.js', 'api.js', 'i18n.js', 'contracts.js', 'contract-detail.js', 'supplier.js', 'what-if.js', 'heatmap.js', 'style.css']) {
      expect((await s.gw.api(`/${file}`, { key: null })).status, file).toBe(200);
    }
  });

  it('lists the contracts with the right required and active counts, sorts and filters them', async () => {
    const page = await signIn(browser, s.gw.httpUrl, reviewerKey);
    await page.waitForSelector(`tr[data-contract="${s.a.contractId}"]`);
    const cell = (id: string, col: string) => page.textContent(`tr[data-contract="${id}"] td[data-col="${col}"]`);
    expect(await cell(s.a.contractId, 'required')).toBe('3');
    expect(await cell(s.a.contractId, 'active')).toBe('3');
    expect(await cell(s.a.contractId, 'voucher')).toBe('¥4,500.00');
    expect(await cell(s.a.contractId, 'status')).toBe('通过');
    expect(await cell(s.b.contractId, 'required')).toBe('2');
    expect(await cell(s.b.contractId, 'active')).toBe('1');
    expect(await cell(s.b.contractId, 'voucher')).toBe('¥1,600.00');
    expect(await cell(s.b.contractId, 'status')).toBe('未通过');
    expect(await cell(s.c.contractId, 'required')).toBe('—');
    expect(await cell(s.c.contractId, 'status')).toBe('无设备要求');
    // the signals column shows what the API counted
    const { items } = await s.gw.json<{ items: { id: string; verification: { signalCount: number } }[] }>('/v1/contracts', { key: reviewerKey });
    for (const c of items) expect(await cell(c.id, 'signals')).toBe(String(c.verification.signalCount));

    expect(await page.textContent('[data-stat="passing"] b')).toBe('1 / 2');
    expect(await page.textContent('[data-stat="online"] b')).toBe('4');
    expect(await page.textContent('[data-stat="contracts"] b')).toBe('3');
    expect(await page.textContent('[data-stat="registered"] b')).toBe('6');
    expect(await page.textContent('[data-stat="voucher"] b')).toBe('¥13,100.00'); // 4,500 + 1,600 + 7,000
    // a name with markup is shown as text
    expect(await page.textContent(`tr[data-contract="${s.b.contractId}"] td[data-col="enterprise"] .sub`)).toContain(SUPPLIER_B_NAME);
    expect(await page.locator('table.contracts img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.screenshot({ path: shot('contracts'), fullPage: true });

    const rows = () => page.$$eval('tbody tr[data-contract]', (trs) => trs.map((tr) => tr.getAttribute('data-contract')));
    await page.click('th[data-sort="active"] button');
    expect(await rows()).toEqual([s.c.contractId, s.b.contractId, s.a.contractId]);
    await page.click('th[data-sort="active"] button');
    expect(await rows()).toEqual([s.a.contractId, s.b.contractId, s.c.contractId]);

    await page.selectOption('select[data-filter="status"]', 'failed');
    expect(await rows()).toEqual([s.b.contractId]);
    await page.selectOption('select[data-filter="status"]', '');
    await page.selectOption('select[data-filter="city"]', '440500'); // 汕头
    expect(await rows()).toEqual([s.b.contractId]);
    await page.selectOption('select[data-filter="city"]', '');
    await page.selectOption('select[data-filter="item"]', '6');
    expect(await rows()).toEqual([s.c.contractId]);
    await page.selectOption('select[data-filter="item"]', '');
    expect(await page.textContent('[data-stat="voucher"] b')).toBe('¥13,100.00');

    // Chinese first, English on request, and back
    await page.click('#lang');
    await page.waitForSelector('th[data-sort="required"] button:text-is("Required")');
    expect(await page.textContent(`tr[data-contract="${s.a.contractId}"] td[data-col="status"]`)).toBe('passed');
    expect(await page.textContent(`tr[data-contract="${s.b.contractId}"] td[data-col="city"]`)).toBe('Shantou');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    // one dictionary: both languages define the same labels
    // (a string, so vitest's transform leaves the browser's dynamic import alone)
    const keys = await page.evaluate<{ zh: string[]; en: string[] }>(
      "import('/i18n.js').then((m) => ({ zh: m.keysOf('zh').sort(), en: m.keysOf('en').sort() }))",
    );
    expect(keys.zh.length).toBeGreaterThan(100);
    expect(keys.en).toEqual(keys.zh);
    await page.screenshot({ path: shot('contracts-en'), fullPage: true });
    await page.click('#lang');
    await page.waitForSelector('th[data-sort="required"] button:text-is("应接入设备")');
    await page.close();
  });

  it('shows a contract: heat-map with one row per device, gauge, policy, digest and CSV', async () => {
    const page = await signIn(browser, s.gw.httpUrl, reviewerKey, `#/contracts/${s.a.contractId}`);
    await page.waitForSelector('.heatmap tbody tr');
    const report = await s.gw.json(`/v1/contracts/${s.a.contractId}/verification`, { key: reviewerKey });

    expect(await page.locator('.heatmap tbody tr').count()).toBe(4);
    for (const d of s.a.devices) expect(await page.locator(`.heatmap tbody tr[data-device="${d.id}"]`).count()).toBe(1);
    expect(await page.locator(`.heatmap tr[data-device="${s.a.devices[0]!.id}"] td.cell`).count()).toBe(report.window.days.length);
    expect(await page.locator(`.heatmap tr[data-device="${s.a.devices[0]!.id}"] td.cell.active`).count()).toBe(21);
    expect(await page.getAttribute(`.heatmap tr[data-device="${s.a.devices[0]!.id}"] td.cell[data-day="2020-11-05"]`, 'data-minutes')).toBe('61');
    expect(await page.locator(`.heatmap tr[data-device="${s.a.devices[3]!.id}"] td.cell.active`).count()).toBe(0);
    expect(await page.textContent('.heatmap .threshold')).toContain('60');
    expect(await page.getAttribute('.gauge', 'data-active')).toBe('3');
    expect(await page.getAttribute('.gauge', 'data-required')).toBe('3');
    expect(await page.textContent('.policy-text')).toContain('20');
    expect(await page.locator('.what-if-banner').count()).toBe(0);
    expect(await page.textContent('.digest code')).toBe(report.digest);
    expect(await page.locator('table.devices tbody tr').count()).toBe(4);
    await page.screenshot({ path: shot('contract-detail'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(download.suggestedFilename()).toBe(`verification-${s.a.contractId}-${report.digest.slice(7, 19)}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain(report.digest);
    for (const d of s.a.devices) expect(csv).toContain(d.serial);

    // a what-if policy (25 active days) makes the same devices fall short
    await page.fill('.policy-form [name=minActiveDays]', '25');
    await page.click('.policy-form button[type=submit]');
    await page.waitForSelector('.gauge[data-active="0"]');
    expect(await page.getAttribute('.gauge [data-status]', 'data-status')).toBe('failed');
    // and says above everything that this is a what-if, not the program's verdict (issue 15 point 2)
    expect(await page.textContent('.what-if-banner')).toMatch(/minActiveDays = 25（默认 20）/);
    await page.screenshot({ path: shot('contract-what-if'), fullPage: true });
    await page.close();
  });

  it("shows a supplier its shortfall and connection details, and not another supplier's contract", async () => {
    const expiresAt = new Date(s.gw.clock.now() + 30 * 86_400_000).toISOString();
    const { key } = await s.gw.json<{ key: string }>('/v1/api-keys', { body: { role: 'supplier', supplierId: s.b.supplierId, expiresAt } });
    const page = await signIn(browser, s.gw.httpUrl, key);
    await page.waitForSelector('.supplier-view article.progress');
    expect(await page.textContent('#whoami')).toContain('密钥到期'); // the key's expiry (issue 15 point 5)
    expect(await page.locator('article.progress').count()).toBe(1);
    expect(await page.getAttribute('article.progress', 'data-contract')).toBe(s.b.contractId);
    expect(await page.locator('.shortfall li').count()).toBe(1);
    const shortfall = await page.textContent(`.shortfall li[data-device="${s.b.devices[1]!.id}"]`);
    expect(shortfall).toContain(s.b.devices[1]!.serial);
    expect(shortfall).toContain('有效天数不足：10 / 20');
    expect(await page.textContent('.supplier .need')).toContain('还需 1 台');
    await page.selectOption('#mqtt-device', s.b.devices[1]!.id);
    expect(await page.textContent('dl.mqtt .topic')).toBe(`v1/devices/${s.b.devices[1]!.id}/heartbeat`);
    expect(await page.textContent('dl.mqtt')).toContain(`:${s.gw.mqttPort}`);
    await page.screenshot({ path: shot('supplier'), fullPage: true });

    // its own contract: detail with the application form, without the reviewer's device decisions
    await page.goto(`${s.gw.httpUrl}/#/contracts/${s.b.contractId}`);
    await page.waitForSelector('.heatmap tbody tr');
    expect(await page.locator('.heatmap tbody tr').count()).toBe(2);
    expect(await page.locator('form.redemption-application').count()).toBe(1);
    expect(await page.locator('section.review').count()).toBe(0);
    // a supplier may pick the time, never the thresholds (the API answers 403)
    expect(await page.locator('.policy-form [name=at]').count()).toBe(1);
    expect(await page.locator('.policy-form [name=minActiveDays]').count()).toBe(0);

    // another supplier's contract: the API says 404 and the page says not found
    expect((await s.gw.api(`/v1/contracts/${s.a.contractId}/verification`, { key })).status).toBe(404);
    await page.goto(`${s.gw.httpUrl}/#/contracts/${s.a.contractId}`);
    await page.waitForSelector('.not-found');
    expect(await page.locator('.heatmap').count()).toBe(0);
    expect(await page.textContent('.not-found h2')).toBe('未找到该合同');
    await page.screenshot({ path: shot('supplier-not-found'), fullPage: true });

    await page.goto(`${s.gw.httpUrl}/#/contracts`);
    await page.waitForSelector('table.contracts tbody tr[data-contract]');
    expect(await page.$$eval('tbody tr[data-contract]', (trs) => trs.map((tr) => tr.getAttribute('data-contract')))).toEqual([s.b.contractId]);
    expect(await page.textContent('[data-stat="passing"] b')).toBe('0 / 1');
    await page.screenshot({ path: shot('supplier-list'), fullPage: true });
    await page.close();
  });

  it('evaluates a what-if: 70% of 100,000 yuan for #5 in 佛山, capped at the 100,000-yuan cap', async () => {
    const page = await signIn(browser, s.gw.httpUrl, reviewerKey, '#/what-if');
    await page.waitForSelector('form.what-if');
    await page.fill('form.what-if [name=city]', '佛山');
    await page.selectOption('fieldset.application [name=catalogId]', '5');
    await page.fill('fieldset.application [name=amount]', '100,000');
    await page.click('form.what-if button[type=submit]');
    await page.waitForSelector('#what-if-total');
    expect(await page.textContent('#what-if-total')).toBe('¥70,000.00');
    expect(await page.textContent('.enterprise-result .rate')).toBe('70%');
    expect(await page.textContent('.application-result .required')).toContain('47'); // ⌈70,000 / 1,500⌉
    expect(await page.textContent('.application-result .reasons')).toContain('37号 §四');
    await page.screenshot({ path: shot('what-if'), fullPage: true });

    await page.fill('fieldset.application [name=amount]', '200000');
    await page.click('form.what-if button[type=submit]');
    await page.waitForSelector('#what-if-total:text-is("¥100,000.00")');
    expect(await page.textContent('.application-result .voucher')).toBe('¥100,000.00');

    // 深圳 is known but outside the program (37号 §二): not eligible, nothing granted
    await page.fill('form.what-if [name=city]', '深圳');
    await page.click('form.what-if button[type=submit]');
    await page.waitForSelector('.enterprise-result[data-eligible="false"]');
    expect(await page.textContent('#what-if-total')).toBe('¥0.00');
    expect(await page.textContent('.enterprise-result .reasons')).toContain('37号 §二');

    // an unknown city is a problem+json answer, shown with its detail
    const seen400 = browser.expectProblem(/status of 400/);
    await page.fill('form.what-if [name=city]', '亚特兰蒂斯');
    await page.click('form.what-if button[type=submit]');
    await page.waitForSelector('#what-if-output .problem');
    expect(await page.textContent('#what-if-output .problem')).toContain('亚特兰蒂斯');
    expect(seen400()).toBe(1);
    await page.close();
  });

  it('shows the report\'s signature and tree head, offers the signed report, and flags a tampered audit log', async () => {
    const page = await signIn(browser, s.gw.httpUrl, reviewerKey, `#/contracts/${s.b.contractId}`);
    await page.waitForSelector('.signature-card');
    expect(await page.getAttribute('.signature-card', 'data-signature')).toBe('valid');
    const head = await s.gw.json('/v1/audit/tree-head', { key: null });
    expect(await page.getAttribute('.tree-head', 'data-tree-size')).toBe(String(head.treeSize));
    expect(await page.getAttribute('.tree-head code', 'title')).toBe(head.rootHash);
    expect(await page.getAttribute('.audit-integrity', 'data-audit')).not.toBe('tampered');
    const shownDigest = await page.textContent('.digest code');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-jws')]);
    const jws = readFileSync((await download.path())!, 'utf8');
    const jwks = jose.createLocalJWKSet(await s.gw.json('/.well-known/jwks.json', { key: null }));
    const { payload, protectedHeader } = await jose.compactVerify(jws, jwks, { algorithms: ['EdDSA'] });
    expect(JSON.parse(new TextDecoder().decode(payload)).digest).toBe(shownDigest);
    expect(protectedHeader).toMatchObject({ treeHead: { treeSize: head.treeSize, rootHash: head.rootHash } });
    await page.screenshot({ path: shot('contract-signature'), fullPage: true });

    // Someone with the database file rewrites an audit row: the next check flags it on every view.
    const attacker = openDatabase(join(s.gw.dataDir, 'gateway.db'));
    try {
      attacker.exec('DROP TRIGGER audit_log_no_update');
      attacker.prepare("UPDATE audit_log SET actor = 'nobody' WHERE id = 1").run();
    } finally {
      attacker.close();
    }
    expect((await s.gw.json('/v1/audit/check', { method: 'POST' })).status).toBe('tampered');
    await page.reload();
    await page.waitForSelector('.audit-banner');
    expect(await page.getAttribute('.audit-integrity', 'data-audit')).toBe('tampered');
    expect(await page.textContent('.audit-banner')).toContain('audit row 1');
    await page.screenshot({ path: shot('audit-tampered'), fullPage: true });
    await page.close();
  });

  it('logged no console errors, page errors or requests beyond the gateway', () => {
    expect(browser.problems).toEqual([]);
  });

  it('runs the money path: a supplier submits, a reviewer excludes and re-includes a device, acknowledges a signal and approves, an admin settles', async () => {
    const { key: supplierKey } = await s.gw.json<{ key: string }>('/v1/api-keys', { body: { role: 'supplier', supplierId: s.a.supplierId } });
    // The supplier submits its application from the contract page: documents, amounts and dates.
    const supplier = await signIn(browser, s.gw.httpUrl, supplierKey, `#/contracts/${s.a.contractId}`);
    await supplier.waitForSelector('form.redemption-application');
    const form = 'form.redemption-application';
    await supplier.fill(`${form} [name=invoiceNumber]`, 'INV-2020-0001');
    await supplier.fill(`${form} [name=invoice]`, '6,428.58');
    await supplier.fill(`${form} [name=invoiceDate]`, '2020-07-01');
    await supplier.fill(`${form} [name=proof]`, '6428.58');
    await supplier.fill(`${form} [name=paymentDate]`, '2020-07-02');
    await supplier.fill(`${form} [name=paid]`, '6428.58');
    await supplier.fill(`${form} [name=signedAt]`, '2020-06-01');
    await supplier.check(`${form} [name=acceptance]`);
    await supplier.click(`${form} button[type=submit]`);
    await supplier.waitForSelector(`${form} [data-decision]`);
    expect(await supplier.getAttribute(`${form} [data-decision]`, 'data-decision')).toBe('approved');
    expect(await supplier.textContent(`${form} .decision`)).toContain('¥4,500.00');
    expect(await supplier.textContent(`${form} .decision`)).toContain('CLOCK_SKEW');
    // …and sees it among its applications, submitted.
    await supplier.goto(`${s.gw.httpUrl}/#/applications`);
    await supplier.waitForSelector('tr[data-application]');
    expect(await supplier.getAttribute('tr[data-application]', 'data-state')).toBe('submitted');
    expect(await supplier.locator('[data-action=approve]').count()).toBe(0);
    await supplier.close();

    // The reviewer excludes a device with a reason and counts it again, on the contract page.
    const page = await signIn(browser, s.gw.httpUrl, reviewerKey, `#/contracts/${s.a.contractId}`);
    const device = s.a.devices[0]!.id;
    await page.waitForSelector(`[data-review-device="${device}"]`);
    await page.fill(`[data-review-device="${device}"] input`, 'seen in a warehouse on the site visit');
    await page.click(`[data-review-device="${device}"] [data-action=exclusion]`);
    await page.waitForSelector(`[data-review-device="${device}"] [data-action=inclusion]`);
    expect(await page.textContent(`table.devices tr[data-device="${device}"] td[data-col=counted]`)).toBe('否');
    await page.fill(`[data-review-device="${device}"] input`, 'installed after all');
    await page.click(`[data-review-device="${device}"] [data-action=inclusion]`);
    await page.waitForSelector(`[data-review-device="${device}"] [data-action=exclusion]`);

    // In the queue: approval is refused until CLOCK_SKEW is acknowledged, then granted.
    await page.goto(`${s.gw.httpUrl}/#/applications`);
    const row = 'tr[data-application]';
    await page.waitForSelector(`${row} [data-ack=CLOCK_SKEW]`);
    await page.click(`${row} [data-action=approve]`);
    await page.waitForSelector(`${row} .problem, ${row} [role=alert], ${row} .bad`);
    expect(await page.textContent(row)).toContain('CLOCK_SKEW');
    await page.fill(`${row} [data-ack=CLOCK_SKEW] input`, 'the edge box has no NTP; receive times are what count');
    await page.click(`${row} [data-ack=CLOCK_SKEW] [data-action=acknowledge]`);
    await page.waitForSelector(`${row} [data-signal=CLOCK_SKEW]`);
    await page.click(`${row} [data-action=approve]`);
    await page.waitForSelector('tr[data-application][data-state=approved]');
    await page.screenshot({ path: shot('review-queue'), fullPage: true });
    await page.close();

    // The admin settles the queue and reads the batch's CSV for the finance office.
    const admin = await signIn(browser, s.gw.httpUrl, s.gw.adminKey, '#/settlements');
    await admin.waitForSelector('[data-queue-application]');
    expect(await admin.locator('[data-queue-application]').count()).toBe(1);
    await admin.click('[data-action=settle]');
    await admin.waitForSelector('[data-batch]');
    expect(await admin.locator('[data-queue-application]').count()).toBe(0);
    await admin.click('[data-batch] [data-action=csv]');
    await admin.waitForSelector('[data-batch-csv]:not([hidden])');
    const csv = await admin.textContent('[data-batch-csv]');
    expect(csv).toContain(s.a.contractId);
    expect(csv).toContain('450000');
    await admin.screenshot({ path: shot('settlements'), fullPage: true });

    // A spot check draws it; a failed outcome marks the settled payout for recovery.
    await admin.goto(`${s.gw.httpUrl}/#/spot-checks`);
    await admin.waitForSelector('[data-action=draw]');
    await admin.fill('.spot-checks [name=seed]', 'e2e-seed');
    await admin.click('[data-action=draw]');
    await admin.waitForSelector('[data-spot-item]');
    await admin.selectOption('[data-spot-item] [name=outcome]', 'devices-missing');
    await admin.fill('[data-spot-item] [name=note]', 'two machines gone at the follow-up visit');
    await admin.click('[data-spot-item] [data-action=record]');
    await admin.waitForSelector('[data-spot-item] [data-recovery]');
    expect(await admin.getAttribute('[data-spot-item] [data-recovery]', 'data-recovery')).toBe('450000');
    await admin.close();

    const [application] = (await s.gw.json<{ items: { state: string; acknowledgements: { signal: string }[] }[] }>(`/v1/redemption-applications?contractId=${s.a.contractId}`)).items;
    expect(application).toMatchObject({ state: 'settled', acknowledgements: [{ signal: 'CLOCK_SKEW' }] });
  });
});
