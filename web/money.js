// The money path on the page (SPEC rules 11–14): the reviewer queue of redemption applications
// (signals, recommendation, acknowledge / approve / reject), the settlement queue and batches,
// spot checks; a supplier key sees its own applications and their states.
import { api, shanghai, toFen, yuan } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { problemView, reasonList } from './shared.js';

const STATES = ['submitted', 'approved', 'rejected', 'settled', 'withdrawn'];
const isStaff = (me) => me.role === 'admin' || me.role === 'reviewer';

/** Runs an action, re-renders the view on success, shows the problem next to `anchor` on failure. */
function act(anchor, run, rerender) {
  return async () => {
    try {
      await run();
      await rerender();
    } catch (err) {
      anchor.replaceChildren(problemView(err));
    }
  };
}

function stateBadge(state) {
  return h('span', { class: ['badge', state === 'settled' || state === 'approved' ? 'approved' : state === 'rejected' ? 'rejected' : 'waitlisted'], 'data-state': state }, t('appState', state));
}

function applicationRow(a, me, rerender) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const acked = new Set(a.acknowledgements.map((x) => x.signal));
  const open = a.state === 'submitted' && isStaff(me);
  const signals = a.recommendation.signalKinds.map((kind) => {
    if (acked.has(kind) || !open) return h('span', { class: ['signal', acked.has(kind) ? 'low' : 'high'], 'data-signal': kind }, `${kind}${acked.has(kind) ? ' ✓' : ''}`);
    const note = h('input', { name: `ack-note-${kind}`, placeholder: t('ackNote'), required: true });
    return h(
      'span',
      { class: 'ack', 'data-ack': kind },
      h('span', { class: 'signal high' }, kind),
      note,
      h('button', { type: 'button', 'data-action': 'acknowledge', onclick: act(out, () => api(`/v1/redemption-applications/${a.id}/acknowledgements`, { method: 'POST', body: { signal: kind, note: note.value } }), rerender) }, t('acknowledge')),
    );
  });
  const reason = h('input', { name: 'reason', placeholder: t('decisionReason') });
  const decide = (decision) => act(out, () => api(`/v1/redemption-applications/${a.id}/decision`, { method: 'POST', body: { decision, ...(reason.value ? { reason: reason.value } : {}) } }), rerender);
  return h(
    'tr',
    { 'data-application': a.id, 'data-state': a.state },
    h('td', { class: 'num' }, a.id),
    h('td', {}, h('a', { href: `#/contracts/${encodeURIComponent(a.contractId)}`, class: 'mono' }, a.contractId), a.clusterPilot ? h('span', { class: 'badge' }, t('clusterPilot')) : null),
    h('td', {}, stateBadge(a.state)),
    h('td', {}, shanghai(a.submittedAt)),
    h('td', { class: 'num', 'data-col': 'payable' }, yuan(a.payableFen)),
    h('td', {}, h('span', { class: ['badge', a.recommendation.decision], 'data-recommendation': a.recommendation.decision }, t(a.recommendation.decision)), ` ${a.recommendation.activeDevices ?? '—'}/${a.recommendation.requiredDevices ?? '—'}`, reasonList(a.recommendation.reasons.filter((r) => r.effect === 'reject'))),
    h('td', {}, signals.length ? signals : '—'),
    h(
      'td',
      {},
      open
        ? [
            reason,
            h('button', { type: 'button', class: 'primary', 'data-action': 'approve', onclick: decide('approved') }, t('approve')),
            h('button', { type: 'button', 'data-action': 'reject', onclick: decide('rejected') }, t('reject')),
          ]
        : a.decision
          ? `${t(a.decision.decision)} · ${shanghai(a.decision.at)}${a.decision.reason ? ` · ${a.decision.reason}` : ''}`
          : '—',
      out,
    ),
  );
}

export async function renderApplications({ me, query }) {
  const state = query.get('state') ?? '';
  const { items } = await api('/v1/redemption-applications', { query: { state } });
  const section = h('section', { class: 'applications' });
  const rerender = async () => section.replaceWith(await renderApplications({ me, query }));
  const filter = h(
    'select',
    { name: 'state', onchange: (e) => (location.hash = e.target.value ? `#/applications?state=${e.target.value}` : '#/applications') },
    h('option', { value: '' }, t('allStates')),
    STATES.map((s) => h('option', { value: s, ...(s === state ? { selected: true } : {}) }, t('appState', s))),
  );
  section.append(
    h('h2', {}, me.role === 'supplier' ? t('myApplications') : t('reviewQueue')),
    h('p', { class: 'muted' }, t('queueHint')),
    h('label', {}, t('state'), filter),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'applications' },
        h('thead', {}, h('tr', {}, ['#', t('contractId'), t('state'), t('submittedAt'), t('payable'), t('recommendation'), t('signals'), t('decision')].map((l) => h('th', { scope: 'col' }, l)))),
        h('tbody', {}, items.map((a) => applicationRow(a, me, rerender))),
      ),
    ),
  );
  return section;
}

export async function renderSettlements({ me }) {
  const [queue, batches] = await Promise.all([api('/v1/settlements/queue'), api('/v1/settlements')]);
  const section = h('section', { class: 'settlements' });
  const rerender = async () => section.replaceWith(await renderSettlements({ me }));
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const budget = h('input', { name: 'budget', inputmode: 'decimal', placeholder: t('budgetHint') });
  const settle = act(out, () => api('/v1/settlements', { method: 'POST', body: budget.value.trim() ? { budgetFen: toFen(budget.value) } : {} }), rerender);
  section.append(
    h('h2', {}, t('settlementQueue')),
    h('p', { class: 'muted' }, t('settlementHint')),
    h(
      'table',
      { class: 'settlement-queue' },
      h('thead', {}, h('tr', {}, ['#', t('applicationId'), t('contractId'), t('enterprise'), t('submittedAt'), t('payable')].map((l) => h('th', { scope: 'col' }, l)))),
      h(
        'tbody',
        {},
        queue.items.map((l) =>
          h('tr', { 'data-queue-application': l.applicationId }, h('td', { class: 'num' }, l.position), h('td', { class: 'num' }, l.applicationId), h('td', { class: 'mono' }, l.contractId), h('td', {}, l.enterprise.name, l.clusterPilot ? h('span', { class: 'badge' }, t('clusterPilot')) : null), h('td', {}, shanghai(l.submittedAt)), h('td', { class: 'num' }, yuan(l.payableFen))),
        ),
      ),
    ),
    h('p', {}, `${t('queueTotal')}: `, h('b', { 'data-queue-total': queue.totalFen }, yuan(queue.totalFen))),
    me.role === 'admin' ? h('div', { class: 'card' }, h('label', {}, t('budget'), budget), h('button', { type: 'button', class: 'primary', 'data-action': 'settle', onclick: settle }, t('settle')), out) : null,
    h('h3', {}, t('batches')),
    h(
      'ul',
      { class: 'batches' },
      batches.items.map((b) => {
        const csv = h('pre', { class: 'csv', hidden: true, 'data-batch-csv': b.id });
        return h(
          'li',
          { 'data-batch': b.id },
          `#${b.id} · ${shanghai(b.createdAt)} · ${b.applicationIds.length} · ${yuan(b.totalFen)}${b.budgetFen === null ? '' : ` / ${yuan(b.budgetFen)}`} `,
          h('button', { type: 'button', 'data-action': 'csv', onclick: async () => {
            const res = await api(`/v1/settlements/${b.id}/csv`, { accept: 'text/csv' });
            csv.textContent = typeof res === 'string' ? res : await res.text();
            csv.hidden = false;
          } }, 'CSV'),
          csv,
        );
      }),
    ),
  );
  return section;
}

export async function renderSpotChecks({ me }) {
  const { items } = await api('/v1/spot-checks');
  const section = h('section', { class: 'spot-checks' });
  const rerender = async () => section.replaceWith(await renderSpotChecks({ me }));
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const count = h('input', { name: 'count', type: 'number', min: 1, value: 1 });
  const seed = h('input', { name: 'seed', placeholder: t('seedHint') });
  const draw = act(out, () => api('/v1/spot-checks', { method: 'POST', body: { count: Number(count.value), ...(seed.value ? { seed: seed.value } : {}) } }), rerender);
  section.append(
    h('h2', {}, t('spotChecks')),
    h('p', { class: 'muted' }, t('spotCheckHint')),
    h('div', { class: 'card' }, h('label', {}, t('sampleCount'), count), h('label', {}, t('seed'), seed), h('button', { type: 'button', class: 'primary', 'data-action': 'draw', onclick: draw }, t('draw')), out),
    ...items.map((check) =>
      h(
        'section',
        { class: 'card', 'data-spot-check': check.id },
        h('h3', {}, `#${check.id} · ${shanghai(check.drawnAt)} · ${t('seed')} ${check.seed} · ${check.items.length}/${check.population.length}`),
        h(
          'ul',
          {},
          check.items.map((item) => {
            const itemOut = h('span', { class: 'result' });
            const outcome = h('select', { name: 'outcome' }, ['ok', 'devices-missing', 'evidence-forged', 'other'].map((o) => h('option', { value: o }, t('outcome', o))));
            const note = h('input', { name: 'note', placeholder: t('ackNote') });
            const record = act(itemOut, () => api(`/v1/spot-checks/${check.id}/outcomes/${item.applicationId}`, { method: 'PUT', body: { outcome: outcome.value, ...(note.value ? { note: note.value } : {}) } }), rerender);
            return h(
              'li',
              { 'data-spot-item': item.applicationId },
              `${t('applicationId')} ${item.applicationId} · ${item.contractId} · ${t('appState', item.state)} · `,
              item.outcome
                ? [h('b', { 'data-outcome': item.outcome }, t('outcome', item.outcome)), item.note ? ` · ${item.note}` : null, item.recovery ? h('span', { class: 'badge rejected', 'data-recovery': item.recovery.amountFen }, `${t('recovery')} ${yuan(item.recovery.amountFen)}`) : null]
                : [outcome, note, h('button', { type: 'button', 'data-action': 'record', onclick: record }, t('record')), itemOut],
            );
          }),
        ),
      ),
    ),
  );
  return section;
}

/** The redemption application form on a contract page (SPEC rules 10, 12): documents, amounts, dates. */
export function applicationForm(id, contract, onDone) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const field = (name, attrs = {}) => h('input', { name, required: true, ...attrs });
  const amount = (name) => field(name, { inputmode: 'decimal', value: contract.contractAmountFen ? (contract.contractAmountFen / 100).toFixed(2) : '' });
  const fields = {
    invoiceNumber: field('invoiceNumber'),
    invoice: amount('invoice'),
    invoiceDate: field('invoiceDate', { type: 'date' }),
    proof: amount('proof'),
    paymentDate: field('paymentDate', { type: 'date' }),
    paid: amount('paid'),
    signedAt: field('signedAt', { type: 'date', value: contract.contractSignedAt ? contract.contractSignedAt.slice(0, 10) : '' }),
  };
  const acceptance = h('input', { name: 'acceptance', type: 'checkbox' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('submitApplication'));
  return h(
    'form',
    {
      class: 'card redemption-application',
      onsubmit: async (e) => {
        e.preventDefault();
        button.disabled = true;
        try {
          const a = await api(`/v1/contracts/${encodeURIComponent(id)}/redemption-applications`, {
            method: 'POST',
            body: {
              invoiceNumber: fields.invoiceNumber.value,
              invoiceAmountFen: toFen(fields.invoice.value),
              invoiceDate: fields.invoiceDate.value,
              paymentProofAmountFen: toFen(fields.proof.value),
              paymentDate: fields.paymentDate.value,
              paidAmountFen: toFen(fields.paid.value),
              acceptanceReport: acceptance.checked,
              ...(fields.signedAt.value ? { contractSignedAt: fields.signedAt.value } : {}),
            },
          });
          out.replaceChildren(
            h('p', { class: 'decision' }, `${t('application')} #${a.id}: `, stateBadge(a.state), ` · ${t('recommendation')} `, h('span', { class: ['badge', a.recommendation.decision], 'data-decision': a.recommendation.decision }, t(a.recommendation.decision)), ` · ${t('payable')} ${yuan(a.recommendation.payableFen)}`, a.recommendation.signalKinds.length ? ` · ${t('signals')}: ${a.recommendation.signalKinds.join(', ')}` : null),
            reasonList(a.recommendation.reasons.filter((r) => r.effect === 'reject')),
            h('a', { href: '#/applications', 'data-link': 'queue' }, t('toQueue')),
          );
          onDone?.(a);
        } catch (err) {
          out.replaceChildren(problemView(err));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h3', {}, t('redemptionApplication')),
    h('p', { class: 'muted' }, t('applicationHint')),
    h('label', {}, t('invoiceNumber'), fields.invoiceNumber),
    h('label', {}, t('invoice'), fields.invoice),
    h('label', {}, t('invoiceDate'), fields.invoiceDate),
    h('label', {}, t('paymentProof'), fields.proof),
    h('label', {}, t('paymentDate'), fields.paymentDate),
    h('label', {}, t('paid'), fields.paid),
    h('label', {}, t('signedAt'), fields.signedAt),
    h('label', { class: 'check' }, acceptance, t('acceptance')),
    button,
    out,
  );
}

/** Reviewer decisions on a contract's devices: exclude / re-include (reason required), resolve duplicated serials. */
export async function reviewPanel(id, report, rerender) {
  const { items: duplicates } = await api('/v1/duplicate-serials', { query: { contractId: id } });
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  return h(
    'section',
    { class: 'card review' },
    h('h3', {}, t('reviewDevices')),
    h(
      'ul',
      { class: 'exclusions' },
      report.devices.map((d) => {
        const reason = h('input', { name: `reason-${d.id}`, placeholder: t('decisionReason') });
        const verb = d.excluded ? 'inclusion' : 'exclusion';
        return h(
          'li',
          { 'data-review-device': d.id },
          `${d.serial} `,
          d.excluded ? h('span', { class: 'badge rejected' }, `${t('excluded')}: ${d.excluded.reason}`) : null,
          reason,
          h('button', { type: 'button', 'data-action': verb, onclick: act(out, () => api(`/v1/devices/${encodeURIComponent(d.id)}/${verb}`, { method: 'POST', body: { reason: reason.value } }), rerender) }, d.excluded ? t('include') : t('exclude')),
        );
      }),
    ),
    duplicates.length ? h('h4', {}, t('duplicateSerials')) : null,
    duplicates.map((dup) => {
      const reason = h('input', { name: `assign-${dup.serial}`, placeholder: t('decisionReason') });
      return h(
        'div',
        { 'data-duplicate': dup.serial },
        `${dup.serial}: ${dup.registrations.map((r) => r.contractId).join(', ')}`,
        dup.assignment ? h('span', { class: 'badge' }, `→ ${dup.assignment.contractId}`) : null,
        reason,
        h('button', { type: 'button', 'data-action': 'assign', onclick: act(out, () => api(`/v1/duplicate-serials/${encodeURIComponent(dup.serial)}/assignment`, { method: 'PUT', body: { contractId: id, reason: reason.value } }), rerender) }, t('assignHere')),
      );
    }),
    out,
  );
}
