import { creditCodeCheckChar } from '../registry/index.js';

/**
 * A valid 统一社会信用代码 (GB 32100-2015) for test, benchmark and simulated enterprises: a
 * company (91) registered in 佛山 (440600), `MA` and `n` as seven digits, then the check
 * character. The same `n` gives the same code.
 */
export function buildCreditCode(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 9_999_999) throw new RangeError(`credit code number out of range: ${n}`);
  const body = `91440600MA${String(n).padStart(7, '0')}`;
  return body + creditCodeCheckChar(body)!;
}
