import { programSchema, type Program } from './program-schema.js';
import { parseInstant } from './time.js';

/**
 * Loading a program year: structural validation by zod (every value cited, every amount an
 * integer fen, every instant with an offset), then the cross-record checks zod cannot express.
 * A loaded program is deep-frozen so that no caller can change the rules under the engine.
 */

export interface ProgramIssue {
  path: string;
  message: string;
}

export class ProgramDataError extends Error {
  readonly issues: ProgramIssue[];
  constructor(issues: ProgramIssue[]) {
    super(`invalid program data: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'ProgramDataError';
    this.issues = issues;
  }
}

export type LoadResult = { ok: true; program: Program } | { ok: false; issues: ProgramIssue[] };

export function safeLoadProgram(data: unknown): LoadResult {
  const parsed = programSchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      })),
    };
  }
  const issues = checkProgramIntegrity(parsed.data);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, program: deepFreeze(parsed.data) };
}

/** Validates and freezes program data; throws ProgramDataError listing every problem. */
export function loadProgram(data: unknown): Program {
  const result = safeLoadProgram(data);
  if (!result.ok) throw new ProgramDataError(result.issues);
  return result.program;
}

/** Checks that need more than one record: uniqueness, references, ordered ranges. */
export function checkProgramIntegrity(program: Program): ProgramIssue[] {
  const issues: ProgramIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ path, message });
  };

  const categoryIds = new Set<string>();
  program.categories.forEach((category, i) => {
    if (categoryIds.has(category.id)) add(`categories.${i}.id`, `duplicate category id ${category.id}`);
    categoryIds.add(category.id);
  });

  const catalogIds = new Set<number>();
  program.catalog.forEach((item, i) => {
    if (catalogIds.has(item.id)) add(`catalog.${i}.id`, `duplicate catalog id ${item.id}`);
    catalogIds.add(item.id);
    if (!categoryIds.has(item.category)) add(`catalog.${i}.category`, `unknown category ${item.category}`);
    const kinds = new Set<string>();
    item.conditions.forEach((condition, j) => {
      if (kinds.has(condition.kind)) add(`catalog.${i}.conditions.${j}.kind`, `duplicate condition ${condition.kind}`);
      kinds.add(condition.kind);
    });
  });

  const cityKeys = new Map<string, string>();
  program.cities.forEach((city, i) => {
    for (const [field, key] of [
      ['code', city.code],
      ['name', city.name],
      ['shortName', city.shortName],
      ['nameEn', city.nameEn.toLowerCase()],
    ] as const) {
      if (cityKeys.has(key)) add(`cities.${i}.${field}`, `duplicate city ${key}`);
      cityKeys.set(key, city.code);
    }
    if (!city.eligible && !city.ineligibleReason) {
      add(`cities.${i}.ineligibleReason`, 'an ineligible city needs a reason');
    }
  });
  const cityCodes = new Set(program.cities.map((city) => city.code));
  for (const code of Object.keys(program.quotas.cityFen)) {
    if (!cityCodes.has(code)) add(`quotas.cityFen.${code}`, `unknown city code ${code}`);
  }

  const groupIds = new Set<string>();
  program.exclusionGroups.forEach((group, i) => {
    if (groupIds.has(group.id)) add(`exclusionGroups.${i}.id`, `duplicate group id ${group.id}`);
    groupIds.add(group.id);
    const seen = new Set<number>();
    group.members.forEach((member, j) => {
      if (!catalogIds.has(member)) {
        add(`exclusionGroups.${i}.members.${j}`, `group ${group.id} names catalog item ${member}, which does not exist`);
      }
      if (seen.has(member)) add(`exclusionGroups.${i}.members.${j}`, `duplicate member ${member}`);
      seen.add(member);
    });
  });

  checkRange(program.effective, 'effective', add);
  checkRange(program.windows.application.value, 'windows.application.value', add);
  checkRange(program.windows.redemption.value, 'windows.redemption.value', add);
  return issues;
}

function checkRange(
  range: { from: string; to: string },
  path: string,
  add: (path: string, message: string) => void,
): void {
  const from = parseInstant(range.from);
  const to = parseInstant(range.to);
  if (from === null || to === null) add(path, 'not an ISO instant with offset');
  else if (from > to) add(path, `from ${range.from} is after to ${range.to}`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
