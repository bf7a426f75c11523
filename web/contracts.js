// Contracts table: enterprise, city, catalog item, voucher, required vs active devices,
// pass/fail and signals; sortable, filterable (city, item, status, enterprise search), with a
// summary bar (contracts passing, devices online today).
import { api, shanghai, sumFen, yuan } from './api.js';
import { h, select } from './dom.js';
import { t } from './i18n.js';
import { cityLabel, itemLabel, loadCatalog, loadContracts, loadProgram, statusBadge, statusOf } from './shared.js';

// Kept across visits, so "back to list" returns to the same sort and filters.
const state = { sort: 'enterprise', dir: 1, city: '', item: '', status: '', q: '' };

const STATUS_RANK = { failed: 0, passed: 1, 'no-threshold': 2 };

export async function renderContracts({ me }) {
  const [stats, items, catalog, program] = await Promise.all([api('/v1/stats'), loadContracts({ fresh: true }), loadCatalog().catch(() => undefined), loadProgram()]);

  const columns = [
    { key: 'enterprise', label: t('enterprise'), value: (c) => c.enterprise?.name ?? '' },
    { key: 'city', label: t('city'), value: (c) => cityLabel(program, c.enterprise?.city) },
    { key: 'item', label: t('item'), value: (c) => c.catalogId },
    { key: 'voucher', label: t('voucher'), value: (c) => c.voucherFen, num: true },
    { key: 'required', label: t('required'), value: (c) => c.verification.requiredDevices ?? -1, num: true },
    { key: 'active', label: t('active'), value: (c) => c.verification.activeDevices, num: true },
    { key: 'status', label: t('status'), value: (c) => STATUS_RANK[statusOf(c.verification)] },
    { key: 'signals', label: t('signals'), value: (c) => c.verification.signalCount, num: true },
  ];

  const cities = [...new Map(items.map((c) => [c.enterprise.city.code, cityLabel(program, c.enterprise.city)])).entries()].sort((a, b) => a[0].localeCompare(b[0]));
  const itemsOffered = [...new Set(items.map((c) => c.catalogId))].sort((a, b) => a - b).map((id) => [String(id), itemLabel(catalog, id, items.find((c) => c.catalogId === id)?.catalogName)]);

  const summary = h('section', { class: 'summary', 'aria-label': 'summary' });
  const tbody = h('tbody');
  const shown = h('span', { class: 'shown' });
  const headRow = h('tr');

  const filterSelect = (key, label, options) =>
    h('label', {}, label, select({ 'data-filter': key, onchange: (e) => ((state[key] = e.target.value), update()) }, options, state[key], t('all')));
  const search = h('input', { type: 'search', 'data-filter': 'q', value: state.q, placeholder: t('search'), oninput: (e) => ((state.q = e.target.value), update()) });
  const filters = h(
    'div',
    { class: 'filters' },
    filterSelect('city', t('filterCity'), cities),
    filterSelect('item', t('filterItem'), itemsOffered),
    filterSelect('status', t('filterStatus'), [['passed', t('passed')], ['failed', t('failed')], ['no-threshold', t('noThreshold')]]),
    h('label', {}, t('search'), search),
    shown,
  );

  function renderHead() {
    headRow.replaceChildren(
      ...columns.map((col) => {
        const sorted = state.sort === col.key;
        return h(
          'th',
          { scope: 'col', 'data-sort': col.key, class: [col.num && 'num', sorted && (state.dir > 0 ? 'asc' : 'desc')], 'aria-sort': sorted ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' },
          h('button', { type: 'button', class: 'sort', title: t('sortBy', col.label), onclick: () => {
            state.dir = state.sort === col.key ? -state.dir : 1;
            state.sort = col.key;
            update();
          } }, col.label),
        );
      }),
    );
  }

  function visible() {
    const q = state.q.trim().toLowerCase();
    const col = columns.find((c) => c.key === state.sort) ?? columns[0];
    return items
      .filter((c) => !state.city || c.enterprise.city.code === state.city)
      .filter((c) => !state.item || String(c.catalogId) === state.item)
      .filter((c) => !state.status || statusOf(c.verification) === state.status)
      .filter((c) => !q || c.enterprise.name.toLowerCase().includes(q) || c.supplier?.name?.toLowerCase().includes(q))
      .sort((a, b) => {
        const x = col.value(a);
        const y = col.value(b);
        const order = typeof x === 'string' ? x.localeCompare(y, 'zh-CN') : x - y;
        return (order || a.id.localeCompare(b.id)) * state.dir;
      });
  }

  function renderSummary(rows) {
    const stat = (key, value, label) => h('div', { class: 'stat', 'data-stat': key }, h('b', {}, value), h('span', {}, label));
    summary.replaceChildren(
      stat('passing', `${stats.passing} / ${stats.contractsWithThreshold}`, t('summaryPassing')),
      stat('online', String(stats.devicesOnlineToday), t('summaryOnline')),
      stat('contracts', String(stats.contracts), t('summaryContracts')),
      stat('registered', String(stats.registeredDevices), t('summaryRegistered')),
      stat('voucher', yuan(sumFen(rows.map((c) => c.voucherFen))), t('summaryVoucher')),
    );
  }

  function row(c) {
    const v = c.verification;
    const short = v.requiredDevices !== null && v.activeDevices < v.requiredDevices;
    return h(
      'tr',
      { 'data-contract': c.id, class: statusOf(v) },
      h(
        'td',
        { 'data-col': 'enterprise' },
        h('a', { href: `#/contracts/${encodeURIComponent(c.id)}` }, c.enterprise.name),
        h('div', { class: 'sub' }, c.supplier?.name ?? '', c.status && c.status !== 'admitted' ? h('span', { class: ['badge', c.status] }, t('allocation', c.status)) : null),
      ),
      h('td', { 'data-col': 'city' }, cityLabel(program, c.enterprise.city)),
      h('td', { 'data-col': 'item' }, itemLabel(catalog, c.catalogId, c.catalogName)),
      h('td', { class: 'num', 'data-col': 'voucher' }, yuan(c.voucherFen)),
      h('td', { class: 'num', 'data-col': 'required' }, v.requiredDevices ?? '—'),
      h('td', { class: ['num', short && 'short'], 'data-col': 'active' }, v.activeDevices),
      h('td', { 'data-col': 'status' }, statusBadge(v)),
      h('td', { class: ['num', v.signalCount > 0 && 'warn'], 'data-col': 'signals' }, v.signalCount),
    );
  }

  function update() {
    renderHead();
    const rows = visible();
    renderSummary(rows);
    shown.textContent = t('shown', rows.length, items.length);
    tbody.replaceChildren(...(rows.length ? rows.map(row) : [h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, t('noRows')))]));
  }
  update();

  return h(
    'section',
    { class: 'contracts-view' },
    h('h2', {}, me.role === 'supplier' ? t('supplierContracts') : t('contracts'), h('small', { class: 'muted' }, ` · ${t('verifiedAt', shanghai(stats.at))}`)),
    summary,
    filters,
    h('div', { class: 'table-wrap' }, h('table', { class: 'contracts' }, h('thead', {}, headRow), tbody)),
  );
}
