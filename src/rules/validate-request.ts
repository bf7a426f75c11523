import type { Program } from './program-schema.js';
import type { AllocateRequest, EvaluateRequest } from './schemas.js';
import { catalogIndex, cityIndex } from './lookup.js';

/**
 * Checks a schema-valid request against the program year it names, for a precise 400: zod
 * checks shapes, this checks the things only the program data knows (catalog ids, cities,
 * duplicate allocation ids). Paths are in the API's `body.…` notation (API.md errors[]).
 * An excluded city (深圳) is *not* an error here: it is a rule decision the engine reports.
 */
export interface RequestIssue {
  path: string;
  message: string;
}

type ProgramRequest =
  | Pick<EvaluateRequest, 'program' | 'enterprise' | 'applications'>
  | Pick<AllocateRequest, 'program' | 'applications' | 'quotas'>;

export function validateAgainstProgram(program: Program | undefined, request: ProgramRequest): RequestIssue[] {
  if (!program) return [{ path: 'body.program', message: `unknown program year ${request.program}` }];
  const issues: RequestIssue[] = [];
  if (request.program !== program.year) {
    issues.push({ path: 'body.program', message: `request names program ${request.program}, evaluated against ${program.year}` });
  }
  const catalog = catalogIndex(program);
  const cities = cityIndex(program);
  const knownCity = (input: string): boolean => cities.has(input.trim().toLowerCase());
  const unknownCity = (input: string): string =>
    `unknown city "${input}" in program ${program.year}; use a name (佛山 or 佛山市) or GB/T 2260 code (440600)`;

  if ('enterprise' in request) {
    if (!knownCity(request.enterprise.city)) issues.push({ path: 'body.enterprise.city', message: unknownCity(request.enterprise.city) });
    request.applications.forEach((application, i) => {
      if (!catalog.has(application.catalogId)) {
        issues.push({
          path: `body.applications.${i}.catalogId`,
          message: `unknown catalog item ${application.catalogId} in program ${program.year}`,
        });
      }
    });
    return issues;
  }

  const ids = new Map<string, number>();
  request.applications.forEach((application, i) => {
    if (!knownCity(application.enterpriseCity)) {
      issues.push({ path: `body.applications.${i}.enterpriseCity`, message: unknownCity(application.enterpriseCity) });
    }
    const first = ids.get(application.id);
    if (first !== undefined) {
      issues.push({ path: `body.applications.${i}.id`, message: `duplicate application id "${application.id}" (first at index ${first})` });
    } else {
      ids.set(application.id, i);
    }
  });
  for (const key of Object.keys(request.quotas?.cities ?? {})) {
    if (!knownCity(key)) issues.push({ path: `body.quotas.cities.${key}`, message: unknownCity(key) });
  }
  return issues;
}
