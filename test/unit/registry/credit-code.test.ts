import { describe, expect, it } from 'vitest';
import {
  CREDIT_CODE_ALPHABET,
  creditCodeCheckChar,
  creditCodeProblem,
  isValidCreditCode,
} from '../../../src/registry/credit-code.js';

// Published codes of well-known companies (public business-registration data) and
// Guangdong-style codes whose check character was computed by hand from GB 32100-2015.
const VALID = [
  ['9144030071526726XG', 'Tencent (Shenzhen): letter in the body'],
  ['914403001922038216', 'Huawei (Shenzhen): all digits'],
  ['91110000100006485K', 'Beijing company: letter check character'],
  ['91440606MA4UJ5YL0L', 'Foshan Shunde, MA-series organisation code'],
  ['91440300MA5DC1XX8H', 'Shenzhen, MA-series organisation code'],
  ['91445200MA51XY0K2Y', 'Jieyang: Y as check character'],
] as const;

describe('统一社会信用代码 check character (GB 32100-2015)', () => {
  it.each(VALID)('accepts %s (%s)', (code) => {
    expect(creditCodeProblem(code)).toBeUndefined();
    expect(isValidCreditCode(code)).toBe(true);
  });

  it('computes 0 when 31 − (Σ mod 31) is 31', () => {
    // Find a body whose weighted sum is ≡ 0 (mod 31) by varying the last body character.
    const body16 = '9144060600000000';
    const last = [...CREDIT_CODE_ALPHABET].find((ch) => creditCodeCheckChar(body16 + ch) === '0');
    expect(last).toBeDefined();
    expect(isValidCreditCode(`${body16}${last}0`)).toBe(true);
  });

  it.each(VALID)('rejects %s with every other check character', (code) => {
    const wrong = [...CREDIT_CODE_ALPHABET].filter((ch) => ch !== code[17]);
    expect(wrong).toHaveLength(30);
    for (const ch of wrong) {
      expect(creditCodeProblem(code.slice(0, 17) + ch)).toMatch(/check character/);
    }
  });

  it('detects every single-character substitution in the first 17 characters', () => {
    const code = VALID[0][0];
    for (let position = 0; position < 17; position++) {
      for (const ch of CREDIT_CODE_ALPHABET) {
        if (ch === code[position]) continue;
        const altered = code.slice(0, position) + ch + code.slice(position + 1);
        expect(isValidCreditCode(altered), `${altered} (position ${position + 1})`).toBe(false);
      }
    }
  });

  it.each([
    ['9144030071526726X', 'one short'],
    ['9144030071526726XGG', 'one long'],
    ['', 'empty'],
  ])('rejects %j as the wrong length (%s)', (code) => {
    expect(creditCodeProblem(code)).toMatch(/18 characters/);
  });

  it.each(['I', 'O', 'Z', 'S', 'V'])('rejects the forbidden letter %s', (letter) => {
    const code = `91440300${letter}A5DC1XX8H`;
    expect(creditCodeProblem(code)).toMatch(/not allowed/);
  });

  it('rejects lowercase letters (callers normalise first)', () => {
    expect(creditCodeProblem('9144030071526726xg')).toMatch(/not allowed/);
  });
});
