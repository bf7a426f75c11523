import type { Cited } from './program-schema.js';

/**
 * Explanation trees: each decision is a node naming the rule, the clause it comes from, the
 * inputs it looked at, the cited parameters it used and the value it produced, with the
 * sub-decisions as children — so a reviewer can follow a voucher amount down to the clauses.
 */

export interface ExplanationParameter {
  name: string;
  value: unknown;
  citation: string;
}

export interface Explanation {
  rule: string;
  clause: string;
  note: string;
  inputs: Record<string, unknown>;
  parameters: ExplanationParameter[];
  value: unknown;
  children: Explanation[];
}

export function explain(
  rule: string,
  clause: string,
  note: string,
  parts: {
    inputs?: Record<string, unknown>;
    parameters?: ExplanationParameter[];
    value: unknown;
    children?: Explanation[];
  },
): Explanation {
  return {
    rule,
    clause,
    note,
    inputs: parts.inputs ?? {},
    parameters: parts.parameters ?? [],
    value: parts.value,
    children: parts.children ?? [],
  };
}

/** A program parameter as it appears in an explanation: name, value, citation. */
export function param(name: string, cited: Cited<unknown>): ExplanationParameter {
  return { name, value: cited.value, citation: cited.citation };
}

/** A parameter that is a record (catalog item, group) rather than a cited wrapper. */
export function recordParam(name: string, value: unknown, citation: string): ExplanationParameter {
  return { name, value, citation };
}
