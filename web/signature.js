// Trust on the page: a report's signature state (its JWS verified here with WebCrypto Ed25519
// against the gateway's JWKS — the same check `npx gateway verify-report` makes offline), the
// audit tree head the signature names, the signed report for download, and the audit log's
// integrity as /healthz reports it.
import { api, download, shanghai } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

function base64urlBytes(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
const json = (bytes) => JSON.parse(new TextDecoder().decode(bytes));

/** { state: 'valid' | 'invalid' | 'unknown-key' | 'unsupported', header, payload } */
export async function verifyCompactJws(jws, jwks) {
  const [h64, p64, s64] = jws.trim().split('.');
  const header = json(base64urlBytes(h64));
  const payload = json(base64urlBytes(p64));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (header.alg !== 'EdDSA') return { state: 'invalid', header, payload };
  if (!jwk) return { state: 'unknown-key', header, payload };
  try {
    const key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, base64urlBytes(s64), new TextEncoder().encode(`${h64}.${p64}`));
    return { state: ok ? 'valid' : 'invalid', header, payload };
  } catch {
    // No WebCrypto Ed25519 here (an older browser, or plain http off localhost): say so, do not guess.
    return { state: 'unsupported', header, payload };
  }
}

/** The audit log's last integrity check, from /healthz. */
export async function auditIntegrity() {
  try {
    return (await api('/healthz')).auditLog ?? null;
  } catch {
    return null;
  }
}

/** A warning shown above every view while the audit log is reported tampered with. */
export function auditBanner(integrity) {
  if (integrity?.status !== 'tampered') return null;
  return h(
    'section',
    { class: 'card audit-banner bad', role: 'alert', 'data-audit': 'tampered' },
    h('strong', {}, t('auditTampered')),
    h('ul', {}, integrity.problems.map((p) => h('li', { class: 'mono' }, p))),
  );
}

/**
 * The signature card of a report: fetches the signed form of the very report shown (same policy,
 * `at` pinned to the report's), verifies it, and offers it for download.
 */
export async function signatureCard(path, query, report, integrity) {
  const signedQuery = { ...query, at: report.at };
  const [res, jwks] = await Promise.all([api(path, { query: signedQuery, accept: 'application/jose' }), api('/.well-known/jwks.json')]);
  const jws = await res.text();
  const { state, header, payload } = await verifyCompactJws(jws, jwks);
  const sameReport = payload?.digest === report.digest;
  const head = header.treeHead;
  const downloadButton = h('button', { type: 'button', id: 'download-jws', onclick: () =>
    download(path, { query: signedQuery, accept: 'application/jose', filename: `verification-${report.contractId}-${report.digest.slice(7, 19)}.jws` }) }, t('downloadSigned'));
  return h(
    'section',
    { class: 'card signature-card', 'data-signature': state },
    h('p', { class: `signature-state ${state === 'valid' ? 'ok' : 'bad'}` }, `${t('signature')}: `, h('strong', {}, t(`signature_${state}`)),
      header.kid ? h('span', { class: 'muted mono' }, ` · ${t('signingKey')} ${header.kid}`) : null),
    h('p', { class: sameReport ? 'muted' : 'bad' }, sameReport ? t('signedSameDigest') : t('signedOtherDigest', payload?.digest ?? '')),
    head
      ? h('p', { class: 'tree-head', 'data-tree-size': String(head.treeSize) }, `${t('treeHead')}: `,
          h('span', {}, t('treeHeadText', head.treeSize, shanghai(new Date(head.timestamp).toISOString(), { seconds: true }))), ' ',
          h('code', { title: head.rootHash }, `${head.rootHash.slice(0, 16)}…`))
      : null,
    h('p', { class: `audit-integrity ${integrity?.status === 'tampered' ? 'bad' : 'muted'}`, 'data-audit': integrity?.status ?? 'unknown' },
      `${t('auditIntegrity')}: `, t(`audit_${integrity?.status ?? 'unknown'}`), integrity?.checkedAt ? ` (${shanghai(integrity.checkedAt, { seconds: true })})` : ''),
    downloadButton,
  );
}
