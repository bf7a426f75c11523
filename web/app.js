// Reviewer and supplier page. Hash routes:
//   #/contracts                 contracts table (reviewers, admins; a supplier sees its own)
//   #/contracts/<id>[?at=&windowDays=&minActiveDays=&minOnlineMinutes=]   contract detail
//   #/supplier                  supplier progress and device connection (supplier keys)
//   #/what-if                   rules what-if
//   #/applications[?state=]     redemption applications: reviewer queue, or a supplier's own
//   #/settlements               settlement queue and batches (reviewers, admins)
//   #/spot-checks               spot checks (抽查) (reviewers, admins)
// The page uses the same HTTP API and API key as any other client; the key is entered once
// and kept in sessionStorage.
import { api, ApiError, session, shanghai } from './api.js';
import { renderContractDetail } from './contract-detail.js';
import { renderContracts } from './contracts.js';
import { renderApplications, renderSettlements, renderSpotChecks } from './money.js';
import { h, mount } from './dom.js';
import { currentLang, setLang, t, toggleLang } from './i18n.js';
import { loading, problemView, resetCaches } from './shared.js';
import { auditBanner, auditIntegrity } from './signature.js';
import { renderSupplier } from './supplier.js';
import { renderWhatIf } from './what-if.js';

let me = null;
let renderSeq = 0;

function translateChrome() {
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.getElementById('lang').textContent = t('langToggle');
  const signedIn = Boolean(me);
  document.getElementById('logout').hidden = !signedIn;
  document.getElementById('nav-supplier').hidden = me?.role !== 'supplier';
  document.getElementById('nav-contracts').hidden = !signedIn;
  document.getElementById('nav-what-if').hidden = !signedIn;
  document.getElementById('nav-applications').hidden = !signedIn;
  document.getElementById('nav-settlements').hidden = !(me?.role === 'admin' || me?.role === 'reviewer');
  document.getElementById('nav-spot-checks').hidden = !(me?.role === 'admin' || me?.role === 'reviewer');
  const expiry = me?.expiresAt ? ` · ${t('keyExpires', shanghai(me.expiresAt))}` : '';
  document.getElementById('whoami').textContent = signedIn ? `${t('role', me.role)} · ${me.keyId}${expiry}` : '';
}

function markNav(hash) {
  for (const a of document.querySelectorAll('nav a[href]')) {
    const target = a.getAttribute('href');
    if (hash === target || hash.startsWith(`${target}/`)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function loginView(message) {
  const input = h('input', { id: 'api-key', name: 'apiKey', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
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
    message ? h('p', { class: 'bad', role: 'alert' }, message) : null,
    h('label', { for: 'api-key' }, t('keyLabel')),
    input,
    h('p', { class: 'muted' }, t('keyHint')),
    h('button', { type: 'submit', class: 'primary' }, t('signIn')),
  );
  mount(form);
  input.focus();
}

function signOut(message) {
  session.clear();
  me = null;
  resetCaches();
  translateChrome();
  loginView(message);
}

/** Parses "#/contracts/abc?at=…" into a route name, params and query. */
export function parseHash(hash) {
  const [path, qs = ''] = hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(qs);
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  if (parts[0] === 'contracts' && parts.length === 2) return { name: 'detail', params: { id: parts[1] }, query };
  if (parts[0] === 'contracts' && parts.length === 1) return { name: 'contracts', params: {}, query };
  if (parts[0] === 'supplier') return { name: 'supplier', params: {}, query };
  if (parts[0] === 'what-if') return { name: 'what-if', params: {}, query };
  if (parts[0] === 'applications') return { name: 'applications', params: {}, query };
  if (parts[0] === 'settlements') return { name: 'settlements', params: {}, query };
  if (parts[0] === 'spot-checks') return { name: 'spot-checks', params: {}, query };
  return { name: 'default', params: {}, query };
}

const VIEWS = {
  contracts: renderContracts,
  detail: renderContractDetail,
  supplier: renderSupplier,
  'what-if': renderWhatIf,
  applications: renderApplications,
  settlements: renderSettlements,
  'spot-checks': renderSpotChecks,
};

async function route() {
  const seq = ++renderSeq;
  translateChrome();
  if (!session.key()) return loginView();
  if (!me) {
    try {
      me = await api('/v1/me');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signOut(t('keyInvalid'));
      if (err instanceof ApiError && err.status === 429) return signOut(t('keyThrottled'));
      session.clear();
      return mount(problemView(err));
    }
    translateChrome();
  }
  let target = parseHash(location.hash);
  if (target.name === 'default' || (target.name === 'supplier' && me.role !== 'supplier')) {
    const home = me.role === 'supplier' ? '#/supplier' : '#/contracts';
    if (location.hash !== home) history.replaceState(null, '', home);
    target = parseHash(home);
  }
  markNav(location.hash);
  mount(loading());
  try {
    const [view, integrity] = await Promise.all([VIEWS[target.name]({ me, params: target.params, query: target.query }), auditIntegrity()]);
    const banner = auditBanner(integrity);
    if (seq === renderSeq) mount(banner ? h('div', {}, banner, view) : view); // a later navigation wins over a slow earlier one
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof ApiError && err.status === 401) return signOut(t('keyInvalid'));
    mount(h('section', {}, problemView(err), h('button', { type: 'button', onclick: () => route() }, t('retry'))));
  }
}

document.getElementById('lang').addEventListener('click', () => {
  toggleLang();
  route();
});
document.getElementById('logout').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => route());
setLang(currentLang());
route();
