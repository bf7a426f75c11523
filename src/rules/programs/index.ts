import type { Program } from '../program-schema.js';
import { loadProgram } from '../load-program.js';
import { program2020Data } from './2020.js';

/**
 * Built-in program years. Adding a year = adding a data file here; the engine reads only data.
 * Each is validated by loadProgram at import time, so bad data fails at start-up, not mid-request.
 */
export { loadProgram, safeLoadProgram, ProgramDataError } from '../load-program.js';
export { program2020Data } from './2020.js';

export const programs: ReadonlyMap<number, Program> = new Map<number, Program>([
  [2020, loadProgram(program2020Data)],
]);

export function getProgram(year: number): Program | undefined {
  return programs.get(year);
}

export const programYears = (): number[] => [...programs.keys()].sort((a, b) => a - b);
