// Reviewer and supplier page: contracts, contract detail, supplier view, rules what-if.
// Hash routes: #/contracts, #/contracts/<id>, #/what-if. Same API, same key as any client.
import { api, ApiError, session, toFen, yuan } from './api.js';
import { h, mount } from './dom.js';
import { heatmap } from './heatmap.js';
import { t, toggleLang, currentLang } from './i18n.js';

let me = null;

function translateStatic() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.getElementById('lang').textContent = currentLang() === 'zh' ? 'English' : '中文';
  document.getElementById('logout').hidden = !session.key();
}

function problemView(err) {
  const details = err instanceof ApiError && err.problem?.errors ? err.problem.errors.map((e) => `${e.path}: ${e.message}`) : [];
  return h('div', { class: 'error', role: 'alert' }, `${t('error')}: ${err.message}`, details.length ? h('ul', {}, details.map((d) => h('li', {}, d))) : null);
}

// ── sign-in ────────────────────────────────────────────────────────────────────────────
function loginView(message) {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (e) => {
        e.preventDefault();
        session.set(input.value.trim());
        await route();
      },
    },
    h('h2', {}, t('keyPrompt')),
    message ? h('p', { class: 'error' }, message) : null,
    h('label', { for: 'api-key' }, t('keyLabel')),
    input,
    h('button', { type: 'submit' }, t('signIn')),
  );
  mount(form);
  input.focus();
}

// ── contracts ──────────────────────────────────────────────────────────────────────────
const listState = { sort: 'enterprise', dir: 1, city: '', item: '', status: '' };

function statusOf(v) {
  return v.passed === null ? 'no-threshold' : v.passed ? 'passed' : 'failed';
}

function statusLabel(v) {
  const s = statusOf(v);
  return h('span', { class: `badge ${s}` }, s === 'passed' ? t('passed') : s === 'failed' ? t('failed') : t('noThreshold'));
}

async function contractsView() {
  const [stats, page] = await Promise.all([api('/v1/stats'), api('/v1/contracts?limit=1000')]);
  const items = page.items;
  const summary = h(
    'section',
    { class: 'summary' },
    h('div', { class: 'stat', 'data-stat': 'contracts' }, h('b', {}, String(stats.contracts)), t('summaryContracts')),
    h('div', { class: 'stat', 'data-stat': 'passing' }, h('b', {}, `${stats.passing} / ${stats.contractsWithThreshold}`), t('summaryPassing')),
    h('div', { class: 'stat', 'data-stat': 'online' }, h('b', {}, String(stats.devicesOnlineToday)), t('summaryOnline')),
  );
  const select = (key, label, options) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { 'data-filter': key, onchange: (e) => ((listState[key] = e.target.value), renderRows()) },
        h('option', { value: '' }, t('all')),
        options.map(([value, text]) => h('option', { value, selected: listState[key] === value }, text)),
      ),
    );
  const cities = [...new Map(items.map((c) => [c.enterprise.city.code, c.enterprise.city.name])).entries()];
  const catalog = [...new Map(items.map((c) => [String(c.catalogId), `#${c.catalogId} ${c.catalogName}`])).entries()];
  const filters = h(
    'div',
    { class: 'filters' },
    select('city', t('filterCity'), cities),
    select('item', t('filterItem'), catalog),
    select('status', t('filterStatus'), [['passed', t('passed')], ['failed', t('failed')], ['no-threshold', t('noThreshold')]]),
  );
  const columns = [
    ['enterprise', t('enterprise'), (c) => c.enterprise.name],
    ['city', t('city'), (c) => c.enterprise.city.name],
    ['item', t('item'), (c) => c.catalogId],
    ['voucher', t('voucher'), (c) => c.voucherFen],
    ['required', t('required'), (c) => c.verification.requiredDevices ?? -1],
    ['active', t('active'), (c) => c.verification.activeDevices],
    ['status', t('status'), (c) => statusOf(c.verification)],
    ['signals', t('signals'), (c) => c.verification.signalCount],
  ];
  const tbody = h('tbody');
  const headRow = h(
    'tr',
    {},
    columns.map(([key, label]) =>
      h('th', { 'data-sort': key, class: listState.sort === key ? (listState.dir > 0 ? 'asc' : 'desc') : '', onclick: () => {
        listState.dir = listState.sort === key ? -listState.dir : 1;
        listState.sort = key;
        for (const th of headRow.children) th.className = th.dataset.sort === key ? (listState.dir > 0 ? 'asc' : 'desc') : '';
        renderRows();
      } }, label),
    ),
  );
  function renderRows() {
    const [, , sortValue] = columns.find(([key]) => key === listState.sort);
    const rows = items
      .filter((c) => !listState.city || c.enterprise.city.code === listState.city)
      .filter((c) => !listState.item || String(c.catalogId) === listState.item)
      .filter((c) => !listState.status || statusOf(c.verification) === listState.status)
      .sort((a, b) => {
        const x = sortValue(a);
        const y = sortValue(b);
        return (x < y ? -1 : x > y ? 1 : 0) * listState.dir;
      })
      .map((c) =>
        h(
          'tr',
          { 'data-contract': c.id },
          h('td', {}, h('a', { href: `#/contracts/${c.id}` }, c.enterprise.name)),
          h('td', {}, c.enterprise.city.name),
          h('td', {}, `#${c.catalogId} ${c.catalogName}`),
          h('td', { class: 'num' }, yuan(c.voucherFen)),
          h('td', { class: 'num', 'data-col': 'required' }, c.verification.requiredDevices ?? '—'),
          h('td', { class: 'num', 'data-col': 'active' }, c.verification.activeDevices),
          h('td', {}, statusLabel(c.verification)),
          h('td', { class: 'num', 'data-col': 'signals' }, c.verification.signalCount),
        ),
      );
    tbody.replaceChildren(...rows);
  }
  renderRows();
  mount(
    h(
      'section',
      {},
      h('h2', {}, me.role === 'supplier' ? t('supplierView') : t('contracts')),
      summary,
      filters,
      h('table', { class: 'contracts' }, h('thead', {}, headRow), tbody),
    ),
  );
}

// ── contract detail ────────────────────────────────────────────────────────────────────
async function detailView(id) {
  let report;
  try {
    report = await api(`/v1/contracts/${encodeURIComponent(id)}/verification`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      mount(h('section', { class: 'card not-found' }, h('a', { href: '#/contracts' }, t('back')), h('h2', {}, t('notFound')), h('p', {}, id)));
      return;
    }
    throw err;
  }
  const required = report.requiredDevices;
  const ratio = required ? Math.min(1, report.activeDevices / required) : 1;
  const gauge = h(
    'div',
    { class: 'gauge', 'data-active': report.activeDevices, 'data-required': required ?? '' },
    h('div', { class: 'gauge-label' }, `${t('gauge')}: ${report.activeDevices} / ${required ?? '—'}`),
    h('div', { class: 'gauge-track' }, h('div', { class: `gauge-fill ${report.passed === false ? 'short' : ''}`, style: { width: `${Math.round(ratio * 100)}%` } })),
    statusLabel(report),
  );
  const csv = h('button', { type: 'button', id: 'export-csv', onclick: async () => {
    const res = await api(`/v1/contracts/${encodeURIComponent(id)}/verification`, { accept: 'text/csv' });
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: `verification-${id}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
  } }, t('exportCsv'));
  const deviceRows = report.devices.map((d) =>
    h(
      'tr',
      { 'data-device': d.id },
      h('td', {}, d.serial),
      h('td', { class: 'mono' }, d.id),
      h('td', { class: 'num' }, d.activeDays),
      h('td', { class: 'num' }, d.onlineMinutes),
      h('td', { class: 'num' }, d.heartbeats),
      h('td', {}, d.lastSeen ?? '—'),
      h('td', {}, d.sources.join(', ')),
      h('td', {}, d.counted ? t('yes') : t('no')),
      h('td', {}, d.signals.map((s) => h('span', { class: `signal ${s.severity}`, title: s.message }, s.code))),
    ),
  );
  const devicesTable = h(
    'table',
    { class: 'devices' },
    h('thead', {}, h('tr', {}, [t('serial'), t('device'), t('activeDays'), t('onlineMinutes'), t('heartbeats'), t('lastSeen'), t('sources'), t('counted'), t('signals')].map((l) => h('th', {}, l)))),
    h('tbody', {}, deviceRows),
  );
  const parts = [
    h('a', { href: '#/contracts' }, t('back')),
    h('h2', {}, `${t('detail')} ${report.contractId}`),
    gauge,
    h('p', { class: 'policy' }, `${t('policy')}: ${t('policyText', report.policy)} · ${report.window.from} … ${report.window.to}`),
    h('p', { class: 'digest' }, `${t('digest')}: `, h('code', {}, report.digest)),
    csv,
    heatmap(report, { device: t('device'), heatmap: t('heatmap'), threshold: t('threshold') }),
    devicesTable,
  ];
  if (me.role === 'supplier') parts.push(await supplierPanel(report));
  if (me.role === 'reviewer' || me.role === 'admin') parts.push(redemptionForm(id));
  mount(h('section', { class: 'detail' }, parts));
}

async function supplierPanel(report) {
  const info = await api('/v1/connection-info');
  const short = report.devices.filter((d) => !d.counted);
  const why = (d) =>
    d.signals.some((s) => s.code === 'NEVER_SEEN') ? t('neverSeen') : d.active ? d.signals.map((s) => s.code).join(', ') : t('tooFewDays', d.activeDays, report.policy.minActiveDays);
  const pick = h('select', { id: 'mqtt-device' }, report.devices.map((d) => h('option', { value: d.id }, `${d.serial} (${d.id})`)));
  const details = h('dl', { class: 'mqtt' });
  const showDetails = () => {
    const id = pick.value;
    details.replaceChildren(
      h('dt', {}, t('host')), h('dd', { class: 'mono' }, `mqtt://${info.mqtt.host}:${info.mqtt.port}${info.mqtt.tlsPort ? ` · mqtts://${info.mqtt.host}:${info.mqtt.tlsPort}` : ''}`),
      h('dt', {}, t('topic')), h('dd', { class: 'mono' }, info.heartbeatTopic.replace('{deviceId}', id)),
      h('dt', {}, t('credentials')), h('dd', {}, `client id = username = ${id}; ${info.credentials.split(';')[1]?.trim() ?? ''}`),
    );
  };
  pick.addEventListener('change', showDetails);
  showDetails();
  return h(
    'section',
    { class: 'card supplier' },
    h('h3', {}, `${t('shortfall')} (${short.length})`),
    h('ul', { class: 'shortfall' }, short.map((d) => h('li', { 'data-device': d.id }, `${d.serial}: ${why(d)}`))),
    h('h3', {}, t('mqttDetails')),
    pick,
    details,
  );
}

function redemptionForm(id) {
  const invoice = h('input', { name: 'invoice', inputmode: 'decimal', required: true });
  const paid = h('input', { name: 'paid', inputmode: 'decimal', required: true });
  const acceptance = h('input', { name: 'acceptance', type: 'checkbox' });
  const out = h('div', { class: 'result' });
  return h(
    'form',
    {
      class: 'card redemption',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const d = await api(`/v1/contracts/${encodeURIComponent(id)}/redemption`, {
            method: 'POST',
            body: { invoiceAmountFen: toFen(invoice.value), paidAmountFen: toFen(paid.value), acceptanceReport: acceptance.checked },
          });
          out.replaceChildren(
            h('p', { class: `badge ${d.decision}` }, `${t('decision')}: ${t(d.decision)} · ${yuan(d.payableFen ?? 0)}`),
            h('ul', {}, d.reasons.map((r) => h('li', {}, `[${r.code}] ${r.clause} — ${r.message}`))),
          );
        } catch (err) {
          out.replaceChildren(problemView(err));
        }
      },
    },
    h('h3', {}, t('redemption')),
    h('label', {}, t('invoice'), invoice),
    h('label', {}, t('paid'), paid),
    h('label', { class: 'check' }, acceptance, t('acceptance')),
    h('button', { type: 'submit' }, t('decide')),
    out,
  );
}

// ── rules what-if ──────────────────────────────────────────────────────────────────────
async function whatIfView() {
  const catalog = await api('/v1/programs/2020/catalog');
  const city = h('input', { name: 'city', value: '佛山', required: true });
  const pilot = h('input', { name: 'clusterPilot', type: 'checkbox' });
  const list = h('div', { class: 'applications' });
  const addRow = () => {
    const item = h('select', { name: 'catalogId' }, catalog.items.map((i) => h('option', { value: i.id }, `#${i.id} ${currentLang() === 'zh' ? i.name.zh : i.name.en}`)));
    list.append(
      h(
        'fieldset',
        { class: 'application' },
        h('label', {}, t('catalogItem'), item),
        h('label', {}, t('contractAmount'), h('input', { name: 'amount', inputmode: 'decimal', required: true })),
        h('label', {}, t('appliedAt'), h('input', { name: 'appliedAt', type: 'datetime-local', value: '2020-06-01T10:00', required: true })),
      ),
    );
  };
  addRow();
  const out = h('div', { class: 'result', id: 'what-if-result' });
  const form = h(
    'form',
    {
      class: 'card what-if',
      onsubmit: async (e) => {
        e.preventDefault();
        const applications = [...list.querySelectorAll('fieldset')].map((f) => ({
          catalogId: Number(f.querySelector('[name=catalogId]').value),
          contractAmountFen: toFen(f.querySelector('[name=amount]').value),
          appliedAt: `${f.querySelector('[name=appliedAt]').value}:00+08:00`,
        }));
        try {
          const r = await api('/v1/rules/evaluate', {
            method: 'POST',
            body: { program: 2020, enterprise: { city: city.value.trim(), clusterPilot: pilot.checked, priorVouchers: [] }, applications },
          });
          out.replaceChildren(
            h('p', {}, `${r.enterprise.city?.name ?? city.value} · ${r.enterprise.ratePercent}%`),
            ...r.applications.map((a) =>
              h(
                'div',
                { class: 'application-result', 'data-catalog': a.catalogId },
                h('h4', {}, `#${a.catalogId}: `, h('span', { class: `badge ${a.decision}` }, a.decision), ' ', h('b', { class: 'voucher' }, yuan(a.voucherFen)),
                  a.requiredDevices === null ? '' : ` · ${t('required')} ${a.requiredDevices}`),
                h('ul', {}, a.reasons.map((x) => h('li', {}, `[${x.code}] ${x.clause} — ${x.message}`))),
              ),
            ),
            h('p', { class: 'total' }, `${t('total')}: `, h('b', { id: 'what-if-total' }, yuan(r.totalVoucherFen))),
          );
        } catch (err) {
          out.replaceChildren(problemView(err));
        }
      },
    },
    h('h2', {}, t('whatIf')),
    h('label', {}, t('cityInput'), city),
    h('label', { class: 'check' }, pilot, t('clusterPilot')),
    list,
    h('button', { type: 'button', onclick: addRow }, t('addApplication')),
    h('button', { type: 'submit' }, t('evaluate')),
    out,
  );
  mount(form);
}

// ── router ─────────────────────────────────────────────────────────────────────────────
async function route() {
  translateStatic();
  if (!session.key()) return loginView();
  try {
    me ??= await api('/v1/me');
  } catch (err) {
    session.clear();
    me = null;
    translateStatic();
    return loginView(err instanceof ApiError && err.status === 401 ? t('keyInvalid') : err.message);
  }
  const hash = location.hash || '#/contracts';
  try {
    const detail = /^#\/contracts\/([\w-]+)$/.exec(hash);
    if (detail) await detailView(detail[1]);
    else if (hash === '#/what-if') await whatIfView();
    else await contractsView();
  } catch (err) {
    mount(problemView(err));
  }
}

document.getElementById('lang').addEventListener('click', () => {
  toggleLang();
  route();
});
document.getElementById('logout').addEventListener('click', () => {
  session.clear();
  me = null;
  route();
});
window.addEventListener('hashchange', route);
route();
