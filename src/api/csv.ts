/** RFC 4180 CSV: fields with comma, quote, CR or LF are quoted; formula-leading cells are neutralised. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (value: unknown): string => {
    let s = value === null || value === undefined ? '' : Array.isArray(value) ? value.join(';') : String(value);
    // A spreadsheet would run =…, +…, -…, @… as a formula (CSV injection); serials come from suppliers.
    if (/^[=+\-@]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
