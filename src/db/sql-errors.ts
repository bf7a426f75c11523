/**
 * The same constraint failure as SQLite (better-sqlite3 `code`) and PostgreSQL (SQLSTATE) name
 * it, so the registry maps a database refusal to one answer whichever database said it.
 */
function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/** A UNIQUE or PRIMARY KEY constraint (SQLite) / unique_violation 23505 (PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** A CHECK constraint / check_violation 23514. */
export function isCheckViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_CHECK' || code === '23514';
}
