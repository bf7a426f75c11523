import { readFileSync, writeFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { JWS_TYPES, rotateKeyFile, verifyConsistency, verifyJws } from '../trust/index.js';
import { verifyDigest, type VerificationReport } from '../verifier/index.js';
import { formatVerification } from './format.js';

/**
 * The auditor's side of issue 18, runnable offline: everything is checked here with jose and the
 * RFC 9162 verification algorithms, trusting nothing the gateway says about itself except what
 * its signatures and proofs establish.
 */
type Out = (s: string) => void;

/** A JWKS from a file path or an http(s) URL. */
async function loadJwks(source: string): Promise<JSONWebKeySet> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`JWKS ${source}: HTTP ${res.status}`);
    return (await res.json()) as JSONWebKeySet;
  }
  return JSON.parse(readFileSync(source, 'utf8')) as JSONWebKeySet;
}

interface HeadPayload {
  treeSize: number;
  rootHash: string;
  timestamp: number;
}

/** `gateway verify-report <file.jws> --jwks <file|url>`: signature, digest, then the report. */
export async function verifyReport(file: string, jwksSource: string, json: boolean, out: Out): Promise<number> {
  const jwks = await loadJwks(jwksSource);
  let verified;
  try {
    verified = await verifyJws(readFileSync(file, 'utf8'), jwks, JWS_TYPES.report);
  } catch (err) {
    out(`INVALID: ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const report = verified.payload as VerificationReport;
  if (!verifyDigest(report)) {
    out(`INVALID: ${file}: signature valid but the report does not match its own digest ${report.digest}`);
    return 1;
  }
  const head = verified.header.treeHead as HeadPayload | undefined;
  out(`signature valid: key ${verified.kid}`);
  if (head) out(`audit log tree head at signing: size ${head.treeSize}, root ${head.rootHash}, ${new Date(head.timestamp).toISOString()}`);
  out(json ? JSON.stringify(report, null, 2) : formatVerification(report));
  return 0;
}

/** A saved tree head: the JSON of GET /v1/audit/tree-head, or its bare JWS. Only the signed payload counts. */
async function signedHead(text: string, jwks: JSONWebKeySet): Promise<HeadPayload & { kid: string }> {
  const trimmed = text.trim();
  const jws = trimmed.startsWith('{') ? String((JSON.parse(trimmed) as { jws?: unknown }).jws) : trimmed;
  const verified = await verifyJws(jws, jwks, JWS_TYPES.treeHead);
  const p = verified.payload as HeadPayload;
  if (!Number.isSafeInteger(p.treeSize) || p.treeSize < 0 || !/^[0-9a-f]{64}$/.test(p.rootHash)) throw new Error('tree head payload malformed');
  return { ...p, kid: verified.kid };
}

/**
 * `gateway verify-log --from <saved head> --url <gateway> [--jwks …] [--save <file>]`: the saved
 * head's signature, the current head's signature, and the RFC 9162 consistency proof between them.
 */
export async function verifyLog(
  options: { from: string; url: string; jwks?: string; save?: string },
  out: Out,
): Promise<number> {
  const base = options.url.replace(/\/$/, '');
  const jwks = await loadJwks(options.jwks ?? `${base}/.well-known/jwks.json`);
  const fail = (why: string) => {
    out(`INCONSISTENT: ${why}`);
    return 1;
  };
  let saved;
  try {
    saved = await signedHead(readFileSync(options.from, 'utf8'), jwks);
  } catch (err) {
    return fail(`saved tree head ${options.from}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const headRes = await fetch(`${base}/v1/audit/tree-head`);
  if (!headRes.ok) return fail(`GET /v1/audit/tree-head: HTTP ${headRes.status}`);
  const headText = await headRes.text();
  let current;
  try {
    current = await signedHead(headText, jwks);
  } catch (err) {
    return fail(`current tree head: ${err instanceof Error ? err.message : String(err)}`);
  }
  out(`saved head:   size ${saved.treeSize}, root ${saved.rootHash} (key ${saved.kid})`);
  out(`current head: size ${current.treeSize}, root ${current.rootHash} (key ${current.kid})`);
  if (current.treeSize < saved.treeSize) return fail(`the log shrank from ${saved.treeSize} to ${current.treeSize} entries`);
  if (saved.treeSize > 0) {
    const res = await fetch(`${base}/v1/audit/proof/consistency?from=${saved.treeSize}&to=${current.treeSize}`);
    if (!res.ok) return fail(`GET consistency proof: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { consistencyPath: string[] };
    const path = body.consistencyPath.map((h) => Buffer.from(h, 'hex'));
    const ok = verifyConsistency(saved.treeSize, current.treeSize, path, Buffer.from(saved.rootHash, 'hex'), Buffer.from(current.rootHash, 'hex'));
    if (!ok) return fail(`the first ${saved.treeSize} entries are not a prefix of the current log: history was rewritten`);
  }
  out(`CONSISTENT: the ${saved.treeSize} entries of the saved head are unchanged in the current log of ${current.treeSize}`);
  if (options.save) {
    writeFileSync(options.save, headText);
    out(`saved the current head to ${options.save}`);
  }
  return 0;
}

/** `gateway rotate-signing-key [--file …]`. */
export function rotateSigningKey(file: string, out: Out): number {
  const { activeKid, retiredKid } = rotateKeyFile(file);
  out(`rotated ${file}: active key ${activeKid}; ${retiredKid} retired (public part kept, still published)`);
  return 0;
}
