/**
 * 统一社会信用代码 (unified social credit identifier), GB 32100-2015.
 *
 * 18 characters from a 31-symbol alphabet (digits and capital letters without I O Z S V).
 * Position 18 is a check character: with the first 17 mapped to their alphabet index and
 * weighted 3^(i) mod 31 (1, 3, 9, 27, 19, 26, …), check = 31 − (Σ mod 31), where 31 means 0
 * (GB 32100-2015 §4, 附录 B).
 */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
export const CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** The check character the first 17 characters call for, or undefined if one is not in the alphabet. */
export function creditCodeCheckChar(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = CREDIT_CODE_ALPHABET.indexOf(first17[i]!);
    if (value < 0) return undefined;
    sum += value * CREDIT_CODE_WEIGHTS[i]!;
  }
  const check = 31 - (sum % 31);
  return CREDIT_CODE_ALPHABET[check === 31 ? 0 : check];
}

/** Why a code is invalid, or undefined when it is valid. */
export function creditCodeProblem(code: string): string | undefined {
  if (code.length !== 18) return `must be 18 characters, got ${code.length}`;
  for (let i = 0; i < 18; i++) {
    if (!CREDIT_CODE_ALPHABET.includes(code[i]!)) {
      return `character ${i + 1} ('${code[i]}') is not allowed: use 0-9 and A-Z without I, O, Z, S, V`;
    }
  }
  const expected = creditCodeCheckChar(code.slice(0, 17));
  if (expected !== code[17]) return `check character is '${code[17]}', expected '${expected}' (GB 32100-2015)`;
  return undefined;
}

export function isValidCreditCode(code: string): boolean {
  return creditCodeProblem(code) === undefined;
}
