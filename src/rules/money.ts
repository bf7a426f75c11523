/**
 * Fen arithmetic. Money is integer fen (0.01 yuan) everywhere (SPEC "Interpretations");
 * rates are basis points (7000 = 70%). Products are taken in BigInt so that contract amounts
 * up to Number.MAX_SAFE_INTEGER fen never lose precision (x × 10000 would overflow 2^53).
 */

export const BASIS_POINTS = 10_000;

export type Rounding = 'floor' | 'half-up';

export function assertFen(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer (fen), got ${value}`);
  }
}

/** amount × bp / 10000, rounded to the fen (down by default: SPEC 解释 "rounded down"). */
export function applyRate(amountFen: number, basisPoints: number, rounding: Rounding = 'floor'): number {
  assertFen('amountFen', amountFen);
  if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > BASIS_POINTS) {
    throw new RangeError(`basisPoints must be an integer in 0..10000, got ${basisPoints}`);
  }
  const product = BigInt(amountFen) * BigInt(basisPoints);
  const divisor = BigInt(BASIS_POINTS);
  // Non-negative operands: BigInt division truncates, which is floor here.
  const fen = rounding === 'floor' ? product / divisor : (product + divisor / 2n) / divisor;
  return Number(fen);
}

/** ceil(a / b) for non-negative safe integers, exact (float division can round past an integer). */
export function ceilDiv(numerator: number, denominator: number): number {
  assertFen('numerator', numerator);
  if (!Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new RangeError(`denominator must be a positive integer, got ${denominator}`);
  }
  const n = BigInt(numerator);
  const d = BigInt(denominator);
  return Number((n + d - 1n) / d);
}

/** part ≥ percent% of whole, in integer math: part × 100 ≥ whole × percent. */
export function atLeastPercent(partFen: number, wholeFen: number, percent: number): boolean {
  return BigInt(partFen) * 100n >= BigInt(wholeFen) * BigInt(percent);
}

/** `12,345.67元` — for human-readable messages only, never for computation. */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  // % is exact on doubles, and (abs − cents) / 100 is an exact integer quotient.
  const cents = abs % 100;
  const whole = String((abs - cents) / 100).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${whole}.${cents < 10 ? '0' : ''}${cents}元`;
}

export const bpToPercent = (basisPoints: number): number => basisPoints / 100;
