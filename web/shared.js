// Pieces more than one view uses: status badges, problem display, cached catalog and contracts.
import { api, ApiError, fetchAll } from './api.js';
import { h } from './dom.js';
import { currentLang, pick, t } from './i18n.js';

/** Verification outcome of a report or summary: passed | failed | no-threshold. */
export function statusOf(verification) {
  if (!verification || verification.passed === null || verification.passed === undefined) return 'no-threshold';
  return verification.passed ? 'passed' : 'failed';
}

export function statusBadge(verification) {
  const s = statusOf(verification);
  return h('span', { class: ['badge', s], 'data-status': s }, s === 'passed' ? t('passed') : s === 'failed' ? t('failed') : t('noThreshold'));
}

export function signalBadge(signal) {
  return h(
    'span',
    { class: ['signal', signal.severity], title: [`${t('severity', signal.severity)} · ${signal.message}`, t('signalHelp', signal.code)].filter(Boolean).join('\n'), 'data-signal': signal.code },
    t('signal', signal.code),
  );
}

/** An RFC 9457 problem (or any error) as a readable alert: title, status, detail, field errors. */
export function problemView(err) {
  const problem = err instanceof ApiError ? err.problem : undefined;
  const errors = Array.isArray(problem?.errors) ? problem.errors : [];
  return h(
    'div',
    { class: 'problem', role: 'alert' },
    h('b', {}, `${t('error')}: ${problem?.title ?? err.message}`),
    err instanceof ApiError ? h('span', { class: 'status' }, ` (${t('httpStatus', err.status)})`) : null,
    problem?.detail && problem.detail !== problem.title ? h('p', {}, problem.detail) : null,
    errors.length ? h('ul', {}, errors.map((e) => h('li', {}, `${e.path ?? ''}${e.path ? ': ' : ''}${e.message ?? ''}`))) : null,
  );
}

export function reasonList(reasons) {
  return h(
    'ul',
    { class: 'reasons' },
    (reasons ?? []).map((r) =>
      h(
        'li',
        { 'data-code': r.code, class: r.effect ? `effect-${r.effect}` : null },
        h('code', {}, r.code),
        ' ',
        h('span', { class: 'clause' }, r.clause),
        r.effect ? h('span', { class: 'effect' }, ` [${t('effect', r.effect)}]`) : null,
        ' — ',
        r.message,
      ),
    ),
  );
}

// ── caches (per page load; the key and role do not change without a reload of the route) ────

let catalogPromise;
/** Program 2020 catalog: Map id → item ({id, name:{zh,en}|string, capFen, perDeviceFen, …}). */
export function loadCatalog() {
  catalogPromise ??= api('/v1/programs/2020/catalog').then((c) => new Map((c.items ?? []).map((i) => [Number(i.id), i])), (err) => {
    catalogPromise = undefined;
    throw err;
  });
  return catalogPromise;
}

/** "#5 设备物联" in the current language; falls back to the name the contract list gave. */
export function itemLabel(catalog, catalogId, fallback) {
  const item = catalog?.get(Number(catalogId));
  const name = item ? pick(item.name) : fallback;
  return `#${catalogId} ${name ?? ''}`.trim();
}

/** Cited parameter `{value, citation}` or a bare value → value. */
export function citedValue(x) {
  return x !== null && typeof x === 'object' && 'value' in x ? x.value : x;
}

let programPromise;
/** Program 2020 data (cities with English names, windows, rates); undefined if unavailable. */
export function loadProgram() {
  programPromise ??= api('/v1/programs/2020').catch(() => {
    programPromise = undefined;
    return undefined;
  });
  return programPromise;
}

/** A city {name, code} from the API in the current language (English names from the program). */
export function cityLabel(program, city) {
  if (!city) return '';
  if (currentLang() === 'zh') return city.name;
  return program?.cities?.find((c) => c.code === city.code)?.nameEn ?? city.name;
}

/** Natural order of serials ("SN-2" before "SN-10"). */
export function bySerial(a, b) {
  return String(a.serial).localeCompare(String(b.serial), undefined, { numeric: true }) || String(a.id).localeCompare(String(b.id));
}

let contractsPromise;
/** The contracts (with verification summaries) this key may see; `fresh` refetches. */
export function loadContracts({ fresh = false } = {}) {
  if (fresh) contractsPromise = undefined;
  contractsPromise ??= fetchAll('/v1/contracts').catch((err) => {
    contractsPromise = undefined;
    throw err;
  });
  return contractsPromise;
}

export function resetCaches() {
  contractsPromise = undefined;
  catalogPromise = undefined;
  programPromise = undefined;
}

/** A loading placeholder for slow views. */
export function loading() {
  return h('p', { class: 'loading' }, t('loading'));
}
