// Contract detail: devices × days heat-map, required-vs-active gauge, per-device evidence and
// signals, the policy in force (with a what-if override), the report digest, CSV export, the
// report's signature and audit tree head (signature.js) and —
// for keys allowed to decide — the redemption decision.
import { api, ApiError, download, fetchAll, fenToInput, fromLocalInput, shanghai, toFen, toLocalInput, yuan } from './api.js';
import { h, svg } from './dom.js';
import { heatmap } from './heatmap.js';
import { t } from './i18n.js';
import { bySerial, cityLabel, itemLabel, loadCatalog, loadContracts, loadProgram, problemView, reasonList, signalBadge, statusBadge } from './shared.js';
import { applicationForm, reviewPanel } from './money.js';
import { auditIntegrity, signatureCard } from './signature.js';
import { connectionPanel, shortfallPanel } from './supplier.js';

const POLICY_KEYS = ['at', 'windowDays', 'minActiveDays', 'minOnlineMinutes'];

export function notFoundView(id) {
  return h('section', { class: 'card not-found', 'data-contract': id }, h('a', { href: '#/contracts' }, t('back')), h('h2', {}, t('notFound')), h('p', {}, t('notFoundHint')), h('p', { class: 'mono muted' }, id));
}

/**
 * The contract with enterprise, supplier and catalog names, or null when this key may not see it.
 * A supplier's own contracts are all listed for it, so an id outside that list is answered
 * without asking the server for a contract it would refuse anyway.
 */
async function findContract(id, me) {
  if (me.role === 'supplier') return (await loadContracts()).find((c) => c.id === id) ?? null;
  let contract;
  try {
    contract = await api(`/v1/contracts/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
  const { items } = await api('/v1/contracts', { query: { enterpriseId: contract.enterpriseId, limit: 1000 } });
  return { ...contract, ...(items.find((c) => c.id === id) ?? {}) };
}

/** Required-vs-active gauge: a bar scaled to the registered devices, with a mark at the requirement. */
function gauge(report) {
  const required = report.requiredDevices;
  const scale = Math.max(required ?? 0, report.registeredDevices, report.activeDevices, 1);
  const W = 400;
  const x = (n) => Math.round((n / scale) * W);
  const short = required !== null && report.activeDevices < required;
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} 44`, class: 'gauge-svg', role: 'img', 'aria-label': `${t('gauge')}: ${report.activeDevices} / ${required ?? '—'}` },
    svg('rect', { x: 0, y: 14, width: W, height: 16, rx: 8, class: 'track' }),
    svg('rect', { x: 0, y: 14, width: x(report.registeredDevices), height: 16, rx: 8, class: 'registered' }),
    svg('rect', { x: 0, y: 14, width: x(report.activeDevices), height: 16, rx: 8, class: ['fill', short ? 'short' : 'ok'].join(' ') }),
    required === null
      ? null
      : [
          svg('line', { x1: Math.min(x(required), W - 1), x2: Math.min(x(required), W - 1), y1: 8, y2: 36, class: 'mark' }),
          svg('text', { x: Math.min(Math.max(x(required), 12), W - 12), y: 7, 'text-anchor': 'middle', class: 'mark-label' }, String(required)),
        ],
  );
  return h(
    'div',
    { class: 'gauge card', 'data-active': report.activeDevices, 'data-required': required ?? '', 'data-registered': report.registeredDevices },
    h('div', { class: 'gauge-head' }, h('span', {}, t('gauge')), statusBadge(report)),
    h('div', { class: 'gauge-value' }, h('b', {}, report.activeDevices), ` / ${required ?? '—'}`, h('span', { class: 'muted' }, ` · ${t('registered')} ${report.registeredDevices}`)),
    chart,
    h('p', { class: short ? 'bad' : 'ok' }, required === null ? t('noThreshold') : short ? t('shortBy', required - report.activeDevices) : t('enough')),
  );
}

/** Above everything else on the page when the report's policy is not the program's: a what-if must not read as a verdict. */
function whatIfBanner(report) {
  if (!report.policy.overridden) return null;
  const changes = report.policy.overrides.map((o) => t('policyChange', o.parameter, o.used, o.default)).join(' · ');
  return h('div', { class: 'what-if-banner', role: 'alert' }, h('strong', {}, t('whatIfBanner')), ' ', changes);
}

function policyCard(report, query, id, me) {
  const p = report.policy;
  const overridden = p.overridden || query.has('at');
  // Only admin and reviewer keys may override the policy (API: 403 for a supplier); a supplier picks the time only.
  const mayOverride = me.role !== 'supplier';
  const input = (name, value, attrs = {}) => h('input', { name, type: 'number', min: 1, value, required: true, ...attrs });
  const at = h('input', { name: 'at', type: 'datetime-local', value: toLocalInput(report.at) });
  const fields = {
    windowDays: input('windowDays', p.windowDays, { max: 366 }),
    minActiveDays: input('minActiveDays', p.minActiveDays, { max: 366 }),
    minOnlineMinutes: input('minOnlineMinutes', p.minOnlineMinutes, { max: 1440 }),
  };
  const form = h(
    'form',
    {
      class: 'policy-form',
      onsubmit: (e) => {
        e.preventDefault();
        const params = new URLSearchParams();
        if (at.value) params.set('at', fromLocalInput(at.value));
        if (mayOverride) for (const [k, el] of Object.entries(fields)) params.set(k, el.value);
        location.hash = `#/contracts/${encodeURIComponent(id)}?${params}`;
      },
    },
    h('label', {}, t('policyAt'), at),
    mayOverride
      ? [
          h('label', {}, t('policyWindowDays'), fields.windowDays),
          h('label', {}, t('policyMinActiveDays'), fields.minActiveDays),
          h('label', {}, t('policyMinOnlineMinutes'), fields.minOnlineMinutes),
        ]
      : null,
    h('button', { type: 'submit' }, t('policyApply')),
    overridden ? h('a', { href: `#/contracts/${encodeURIComponent(id)}`, class: 'reset' }, t('policyReset')) : null,
  );
  const extra = Object.entries(p).filter(([k]) => !['windowDays', 'minActiveDays', 'minOnlineMinutes', 'overridden', 'overrides'].includes(k));
  return h(
    'section',
    { class: 'card policy' },
    h('h3', {}, t('policy'), p.overridden ? h('span', { class: 'warn' }, ` ${t('policyOverridden')}`) : null),
    h('p', { class: 'policy-text' }, t('policyText', p)),
    h('p', {}, `${t('policyWindow')}: ${shanghai(report.window.from)} — ${shanghai(report.window.to)} · ${t('policyAt')}: ${shanghai(report.at)}`),
    extra.length ? h('p', { class: 'muted mono' }, extra.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ')) : null,
    form,
  );
}

function devicesTable(report, registry) {
  const head = [t('serial'), t('model'), t('deviceId'), t('isActive'), t('counted'), t('activeDays'), t('onlineMinutes'), t('heartbeats'), t('firstSeen'), t('lastSeen'), t('sources'), t('signals')];
  const yesNo = (v) => h('span', { class: v ? 'ok' : 'bad' }, v ? t('yes') : t('no'));
  return h(
    'section',
    { class: 'card' },
    h('h3', {}, `${t('devices')} (${report.devices.length})`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'devices' },
        h('thead', {}, h('tr', {}, head.map((label) => h('th', { scope: 'col' }, label)))),
        h(
          'tbody',
          {},
          report.devices.map((d) => {
            const reg = registry.get(d.id);
            return h(
              'tr',
              { 'data-device': d.id, class: d.counted ? 'counted' : 'short' },
              h('td', {}, d.serial, reg && reg.enabled === false ? h('span', { class: 'badge rejected' }, t('disabled')) : null),
              h('td', {}, [reg?.model, reg?.name].filter(Boolean).join(' · ') || '—'),
              h('td', { class: 'mono' }, d.id),
              h('td', {}, yesNo(d.active)),
              h('td', { 'data-col': 'counted' }, yesNo(d.counted)),
              h('td', { class: 'num' }, `${d.activeDays}/${report.policy.minActiveDays}`),
              h('td', { class: 'num' }, d.onlineMinutes),
              h('td', { class: 'num' }, d.heartbeats),
              h('td', {}, shanghai(d.firstSeen)),
              h('td', {}, shanghai(d.lastSeen)),
              // Addresses it connected from, and the edge nodes it reported through (issue 20).
              h('td', { class: 'mono' }, [...(d.sources ?? []), ...(d.reportedVia ?? []).filter((v) => v.edgeNode).map((v) => `${t('via')} ${v.edgeNode}`)].join(', ') || '—'),
              h('td', {}, d.signals.length ? d.signals.map(signalBadge) : '—'),
            );
          }),
        ),
      ),
    ),
  );
}

function signalSummary(report) {
  const entries = Object.entries(report.signalCounts ?? {}).filter(([, n]) => n > 0);
  return h(
    'p',
    { class: 'signal-summary' },
    `${t('signalSummary')}: `,
    entries.length ? entries.map(([code, n]) => h('span', { class: 'signal medium', 'data-signal': code }, `${t('signal', code)} × ${n}`)) : t('noSignals'),
  );
}

export async function renderContractDetail({ me, params, query }) {
  const id = params.id;
  const contract = await findContract(id, me);
  if (!contract) return notFoundView(id);
  const policyQuery = Object.fromEntries(POLICY_KEYS.map((k) => [k, query.get(k) ?? undefined]));
  const path = `/v1/contracts/${encodeURIComponent(id)}/verification`;
  const [rawReport, registered, catalog, info, program, integrity] = await Promise.all([
    api(path, { query: policyQuery }),
    fetchAll(`/v1/contracts/${encodeURIComponent(id)}/devices`).catch(() => []),
    loadCatalog().catch(() => undefined),
    me.role === 'supplier' ? api('/v1/connection-info') : undefined,
    loadProgram(),
    auditIntegrity(),
  ]);
  const report = { ...rawReport, devices: [...rawReport.devices].sort(bySerial) };
  const signature = await signatureCard(path, policyQuery, rawReport, integrity).catch((err) => problemView(err));
  const registry = new Map(registered.map((d) => [d.id, d]));

  const exportButton = h('button', { type: 'button', id: 'export-csv', onclick: async () => {
    exportButton.disabled = true;
    exportButton.textContent = t('exporting');
    try {
      // The file name carries the report's digest (as its #digest row does), so a CSV names its report.
      await download(path, { query: { ...policyQuery, at: report.at }, accept: 'text/csv', filename: `verification-${id}-${report.digest.slice(7, 19)}.csv` });
    } catch (err) {
      exportButton.after(problemView(err));
    } finally {
      exportButton.disabled = false;
      exportButton.textContent = t('exportCsv');
    }
  } }, t('exportCsv'));

  const facts = [
    [t('contractId'), h('span', { class: 'mono' }, id)],
    [t('enterprise'), `${contract.enterprise?.name ?? contract.enterpriseId} · ${cityLabel(program, contract.enterprise?.city)}`],
    [t('supplier'), contract.supplier?.name ?? contract.supplierId],
    [t('item'), itemLabel(catalog, contract.catalogId, contract.catalogName)],
    [t('contractAmount'), yuan(contract.contractAmountFen)],
    [t('voucher'), yuan(report.voucherFen ?? contract.voucherFen)],
    [t('appliedAt'), shanghai(contract.appliedAt)],
  ];
  const canDecide = me.role === 'reviewer' || me.role === 'admin';
  const rerender = async () => document.querySelector('section.detail')?.replaceWith(await renderContractDetail({ me, params, query }));
  const review = canDecide ? await reviewPanel(id, report, rerender) : null;
  return h(
    'section',
    { class: 'detail', 'data-contract': id },
    h('a', { href: me.role === 'supplier' ? '#/supplier' : '#/contracts', class: 'back' }, t('back')),
    whatIfBanner(report),
    h('h2', {}, `${t('detail')} · ${contract.enterprise?.name ?? id}`),
    h(
      'div',
      { class: 'detail-top' },
      h('dl', { class: 'facts card' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      gauge(report),
    ),
    policyCard(report, query, id, me),
    h('section', { class: 'card digest-card' }, h('p', { class: 'digest' }, `${t('digest')}: `, h('code', {}, report.digest)), exportButton, signalSummary(report)),
    signature,
    heatmap(report),
    me.role === 'supplier' ? [shortfallPanel(report), connectionPanel(info, report.devices)] : null,
    devicesTable(report, registry),
    review,
    // Suppliers apply for their own admitted contracts; reviewers may apply for an enterprise too (SPEC rule 12).
    applicationForm(id, contract),
  );
}
