import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';

export interface VerifiedJws {
  kid: string;
  typ: string | undefined;
  header: Record<string, unknown>;
  payload: unknown;
}

/**
 * Verifies a compact JWS against a JWK Set with jose: EdDSA only (no `alg` confusion), the
 * key chosen by `kid`. Throws with jose's reason (unknown key, bad signature, malformed).
 */
export async function verifyJws(jws: string, jwks: JSONWebKeySet, expectedTyp?: string): Promise<VerifiedJws> {
  const { payload, protectedHeader } = await compactVerify(jws.trim(), createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
  if (expectedTyp !== undefined && protectedHeader.typ !== expectedTyp) {
    throw new Error(`JWS typ is ${protectedHeader.typ ?? '(none)'}, expected ${expectedTyp}`);
  }
  return {
    kid: String(protectedHeader.kid),
    typ: protectedHeader.typ,
    header: protectedHeader as Record<string, unknown>,
    payload: JSON.parse(new TextDecoder().decode(payload)) as unknown,
  };
}
