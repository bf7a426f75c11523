/**
 * A cell a spreadsheet would evaluate: it starts with `=`, `+`, `-`, `@`, tab or CR (OWASP "CSV
 * Injection"). Serials and names come from suppliers, so such a cell gets a leading `'` — unless
 * the whole cell is a plain number (`-5`, `+3.5`, `-1e3`), which a spreadsheet reads as a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function neutraliseFormula(s: string): string {
  return FORMULA_START.test(s) && !PLAIN_NUMBER.test(s) ? `'${s}` : s;
}

/**
 * RFC 4180 CSV: fields with comma, quote, CR or LF are quoted; formula-leading cells are
 * neutralised. `preamble` rows (`#…` notes a reader must not miss) go before the header.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[], preamble: readonly (readonly unknown[])[] = []): string {
  const cell = (value: unknown): string => {
    const s = neutraliseFormula(value === null || value === undefined ? '' : Array.isArray(value) ? value.join(';') : String(value));
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [...preamble, header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
