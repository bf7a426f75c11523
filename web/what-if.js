// Rules what-if: an enterprise (city, cluster pilot, earlier vouchers) and its applications →
// POST /v1/rules/evaluate → per application decision, amount, required devices, reasons with
// clause citations and the explanation tree. Pure calculation: nothing is stored.
import { api, fromLocalInput, toFen, yuan } from './api.js';
import { h, select } from './dom.js';
import { pick, t } from './i18n.js';
import { cityLabel, citedValue, loadCatalog, loadProgram, problemView, reasonList } from './shared.js';

// The draft survives language switches and visits to other views (until the tab is reloaded).
const draft = {
  city: '佛山',
  clusterPilot: false,
  prior: [],
  applications: [{ catalogId: '5', amount: '', appliedAt: '2020-06-01T10:00', serviceProviders: '', bigDataModels: '', functionModules: '' }],
};
let lastResult = null;

const CONDITION_FIELD = {
  'min-service-providers': 'serviceProviders',
  'min-big-data-models': 'bigDataModels',
  'min-function-modules': 'functionModules',
};

function explanationTree(node, depth = 0) {
  if (!node || typeof node !== 'object') return null;
  const value = node.value === undefined ? '' : ` = ${typeof node.value === 'object' ? JSON.stringify(node.value) : String(node.value)}`;
  const children = Array.isArray(node.children) ? node.children : [];
  const params = Array.isArray(node.parameters) ? node.parameters : [];
  return h(
    'details',
    { class: 'explain', open: depth === 0 ? true : undefined },
    h('summary', {}, h('code', {}, node.rule ?? ''), ' ', h('span', { class: 'clause' }, node.clause ?? ''), value),
    node.note ? h('p', { class: 'muted' }, node.note) : null,
    params.length
      ? h('ul', { class: 'params' }, params.map((p) => h('li', {}, `${p.name} = ${typeof p.value === 'object' ? JSON.stringify(p.value) : String(p.value)} `, h('span', { class: 'clause' }, p.citation))))
      : null,
    children.map((c) => explanationTree(c, depth + 1)),
  );
}

function resultView(r, catalog, program) {
  const e = r.enterprise;
  const itemName = (id) => {
    const item = catalog.get(Number(id));
    return `#${id} ${item ? pick(item.name) : ''}`;
  };
  return h(
    'div',
    { class: 'what-if-result' },
    h(
      'section',
      { class: 'card enterprise-result', 'data-eligible': String(e.eligible) },
      h(
        'h3',
        {},
        h('span', { class: ['badge', e.eligible ? 'approved' : 'rejected'] }, e.eligible ? t('eligible') : t('ineligible')),
        ` ${e.city ? cityLabel(program, e.city) : draft.city} (${e.city?.code ?? '—'}) · ${t('region', e.region)} · ${t('rate')} `,
        h('b', { class: 'rate' }, e.ratePercent === null || e.ratePercent === undefined ? '—' : `${e.ratePercent}%`),
        e.clusterPilot ? ` · ${t('clusterPilot')}` : null,
      ),
      e.reasons?.length ? reasonList(e.reasons) : null,
    ),
    r.applications.map((a, i) =>
      h(
        'section',
        { class: 'card application-result', 'data-catalog': a.catalogId, 'data-index': i },
        h(
          'h4',
          {},
          `${itemName(a.catalogId)} `,
          h('span', { class: ['badge', a.decision], 'data-decision': a.decision }, t(a.decision)),
          ' ',
          h('b', { class: 'voucher' }, yuan(a.voucherFen)),
          a.requiredDevices === null || a.requiredDevices === undefined ? null : h('span', { class: 'required' }, ` · ${t('requiredDevicesN', a.requiredDevices)}`),
        ),
        reasonList(a.reasons),
        a.explanation ? h('details', { class: 'explanation' }, h('summary', {}, t('explanation')), explanationTree(a.explanation)) : null,
      ),
    ),
    h('p', { class: 'total card' }, `${t('total')}: `, h('b', { id: 'what-if-total' }, yuan(r.totalVoucherFen))),
  );
}

export async function renderWhatIf() {
  const [catalog, program] = await Promise.all([loadCatalog(), loadProgram()]);
  const itemOptions = [...catalog.values()].map((i) => {
    const cap = citedValue(i.capFen);
    const perDevice = citedValue(i.perDeviceFen);
    const extras = [cap ? t('cap', yuan(cap)) : null, perDevice ? t('perDevice', yuan(perDevice)) : null].filter(Boolean).join('，');
    return [String(i.id), `#${i.id} ${pick(i.name)}${extras ? `（${extras}）` : ''}`];
  });
  const cities = (program?.cities ?? []).filter((c) => c.eligible !== false);
  const cityList = h('datalist', { id: 'city-list' }, cities.map((c) => h('option', { value: c.shortName ?? c.name }, `${c.name} ${c.code}`)));

  const out = h('div', { class: 'result', id: 'what-if-output', 'aria-live': 'polite' });
  if (lastResult) out.replaceChildren(resultView(lastResult, catalog, program));

  const city = h('input', { name: 'city', list: 'city-list', value: draft.city, required: true, oninput: (e) => (draft.city = e.target.value) });
  const pilot = h('input', { name: 'clusterPilot', type: 'checkbox', checked: draft.clusterPilot, onchange: (e) => (draft.clusterPilot = e.target.checked) });

  const priorList = h('div', { class: 'prior-list' });
  function renderPrior() {
    priorList.replaceChildren(
      ...draft.prior.map((p, i) =>
        h(
          'div',
          { class: 'prior row' },
          h('label', {}, t('catalogItem'), select({ name: 'priorCatalogId', onchange: (e) => (p.catalogId = e.target.value) }, itemOptions, p.catalogId)),
          h('label', {}, t('year'), h('input', { name: 'priorYear', type: 'number', min: 2000, max: 2100, value: p.year, required: true, oninput: (e) => (p.year = e.target.value) })),
          h('label', {}, t('priorAmount'), h('input', { name: 'priorAmount', inputmode: 'decimal', value: p.amount, required: true, oninput: (e) => (p.amount = e.target.value) })),
          h('label', { class: 'check' }, h('input', { name: 'priorPaid', type: 'checkbox', checked: p.paid, onchange: (e) => (p.paid = e.target.checked) }), t('priorPaid')),
          h('button', { type: 'button', class: 'secondary', onclick: () => (draft.prior.splice(i, 1), renderPrior()) }, t('remove')),
        ),
      ),
    );
  }

  const appList = h('div', { class: 'applications' });
  function renderApps() {
    appList.replaceChildren(
      ...draft.applications.map((a, i) => {
        const item = catalog.get(Number(a.catalogId));
        const needs = new Set((item?.conditions ?? []).map((c) => CONDITION_FIELD[c.kind]).filter(Boolean));
        const count = (field) =>
          h(
            'label',
            { class: needs.has(field) ? 'needed' : 'optional' },
            `${t(field)}${needs.has(field) ? '' : ` (${t('optional')})`}`,
            h('input', { name: field, type: 'number', min: 0, value: a[field], required: needs.has(field), oninput: (e) => (a[field] = e.target.value) }),
          );
        return h(
          'fieldset',
          { class: 'application', 'data-index': i },
          h('legend', {}, `${t('applications')} ${i + 1}`),
          h('label', {}, t('catalogItem'), select({ name: 'catalogId', onchange: (e) => ((a.catalogId = e.target.value), renderApps()) }, itemOptions, a.catalogId)),
          h('label', {}, t('contractAmountYuan'), h('input', { name: 'amount', inputmode: 'decimal', value: a.amount, required: true, placeholder: '100000', oninput: (e) => (a.amount = e.target.value) })),
          h('label', {}, t('appliedAt'), h('input', { name: 'appliedAt', type: 'datetime-local', value: a.appliedAt, required: true, oninput: (e) => (a.appliedAt = e.target.value) })),
          count('serviceProviders'),
          count('bigDataModels'),
          count('functionModules'),
          (item?.conditions ?? []).length ? h('p', { class: 'muted conditions' }, item.conditions.map((c) => `${c.kind}${c.min ? ` ≥ ${c.min}` : ''} (${c.citation})`).join('；')) : null,
          draft.applications.length > 1 ? h('button', { type: 'button', class: 'secondary', onclick: () => (draft.applications.splice(i, 1), renderApps()) }, t('remove')) : null,
        );
      }),
    );
  }
  renderPrior();
  renderApps();

  const submit = h('button', { type: 'submit', class: 'primary' }, t('evaluate'));
  const form = h(
    'form',
    {
      class: 'what-if',
      onsubmit: async (e) => {
        e.preventDefault();
        const applications = draft.applications.map((a) => {
          const app = { catalogId: Number(a.catalogId), contractAmountFen: toFen(a.amount), appliedAt: fromLocalInput(a.appliedAt) };
          for (const field of ['serviceProviders', 'bigDataModels', 'functionModules']) if (a[field] !== '' && a[field] !== undefined) app[field] = Number(a[field]);
          return app;
        });
        if (applications.some((a) => Number.isNaN(a.contractAmountFen))) {
          out.replaceChildren(h('p', { class: 'bad', role: 'alert' }, t('invalidAmount')));
          return;
        }
        submit.disabled = true;
        try {
          lastResult = await api('/v1/rules/evaluate', {
            method: 'POST',
            body: {
              program: 2020,
              enterprise: {
                city: draft.city.trim(),
                clusterPilot: draft.clusterPilot,
                priorVouchers: draft.prior.map((p) => ({ catalogId: Number(p.catalogId), year: Number(p.year), voucherFen: toFen(p.amount), paid: p.paid })),
              },
              applications,
            },
          });
          out.replaceChildren(resultView(lastResult, catalog, program));
        } catch (err) {
          lastResult = null;
          out.replaceChildren(problemView(err));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h(
      'fieldset',
      { class: 'enterprise' },
      h('legend', {}, t('enterpriseSection')),
      h('label', {}, t('cityInput'), city, cityList),
      h('label', { class: 'check' }, pilot, t('clusterPilot')),
      h('h4', {}, t('priorVouchers')),
      priorList,
      h('button', { type: 'button', class: 'secondary', onclick: () => (draft.prior.push({ catalogId: '5', year: '2019', amount: '0', paid: true }), renderPrior()) }, t('addPrior')),
    ),
    h('h3', {}, t('applications')),
    appList,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'add-application', onclick: () => {
        draft.applications.push({ catalogId: '6', amount: '', appliedAt: draft.applications.at(-1)?.appliedAt ?? '2020-06-01T10:00', serviceProviders: '', bigDataModels: '', functionModules: '' });
        renderApps();
      } }, t('addApplication')),
      submit,
    ),
  );
  return h('section', { class: 'what-if-view' }, h('h2', {}, t('whatIf')), h('p', { class: 'muted' }, t('whatIfIntro')), h('div', { class: 'what-if-grid' }, h('div', { class: 'card' }, form), out));
}
