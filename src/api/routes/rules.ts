import { z } from 'zod';
import { badRequest, notFound } from '../../errors.js';
import {
  allocate,
  allocateRequestSchema,
  allocationSchema,
  evaluate,
  evaluateRequestSchema,
  evaluationSchema,
  getProgram,
  programSchema,
  programs,
  validateAgainstProgram,
  type Program,
} from '../../rules/index.js';
import { routesWith } from '../route.js';

const route = routesWith<unknown>();

const yearParams = z.object({ year: z.coerce.number().int().min(2000).max(2100) });

function programOr404(year: number): Program {
  const program = getProgram(year);
  if (!program) throw notFound('program', year);
  return program;
}

/** zod checked the shapes; the program data checks catalog ids and cities, with the same error shape. */
function programFor(request: Parameters<typeof validateAgainstProgram>[1]): Program {
  const program = getProgram(request.program);
  const issues = validateAgainstProgram(program, request);
  if (issues.length) throw badRequest('GW_ERR_RULES_UNKNOWN_REFERENCE', issues.map((i) => i.message).join('; '), issues);
  return program!;
}

const programSummary = z
  .object({ year: z.number().int(), title: z.object({ zh: z.string(), en: z.string() }), catalogItems: z.number().int() })
  .meta({ id: 'ProgramSummary' });

export const rulesRoutes = [
  route({
    method: 'get',
    path: '/v1/programs',
    summary: 'Program years this gateway knows',
    tags: ['rules'],
    auth: ['admin', 'reviewer', 'supplier'],
    responses: { 200: { description: 'program years', schema: z.object({ items: z.array(programSummary) }) } },
    handler() {
      const items = [...programs.values()].map((p) => ({ year: p.year, title: p.title, catalogItems: p.catalog.length }));
      return { status: 200, body: { items } };
    },
  }),
  route({
    method: 'get',
    path: '/v1/programs/{year}',
    summary: "A program year's data: every parameter with its value, effective dates and clause citation",
    tags: ['rules'],
    auth: ['admin', 'reviewer', 'supplier'],
    params: yearParams,
    responses: { 200: { description: 'program data', schema: programSchema }, 404: { description: 'unknown year' } },
    handler({ params }) {
      return { status: 200, body: programOr404(params.year) };
    },
  }),
  route({
    method: 'get',
    path: '/v1/programs/{year}/catalog',
    summary: 'The catalog (附件) of a program year',
    tags: ['rules'],
    auth: ['admin', 'reviewer', 'supplier'],
    params: yearParams,
    responses: {
      200: {
        description: 'catalog items',
        schema: z.object({ program: z.number().int(), categories: programSchema.shape.categories, items: programSchema.shape.catalog }),
      },
      404: { description: 'unknown year' },
    },
    handler({ params }) {
      const p = programOr404(params.year);
      return { status: 200, body: { program: p.year, categories: p.categories, items: p.catalog } };
    },
  }),
  route({
    method: 'post',
    path: '/v1/rules/evaluate',
    summary: "Evaluate one enterprise's applications: eligibility, amounts, exclusions, caps, required devices, with clause citations",
    tags: ['rules'],
    auth: ['admin', 'reviewer', 'supplier'],
    body: evaluateRequestSchema,
    responses: { 200: { description: 'evaluation', schema: evaluationSchema } },
    handler({ body }) {
      const program = programFor(body);
      return { status: 200, body: evaluate(program, body.enterprise, body.applications) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/rules/allocate',
    summary: 'Admit or waitlist many applications against city and supplier quotas, in processing order',
    tags: ['rules'],
    auth: ['admin', 'reviewer', 'supplier'],
    body: allocateRequestSchema,
    responses: { 200: { description: 'allocation', schema: allocationSchema } },
    handler({ body }) {
      const program = programFor(body);
      return { status: 200, body: allocate(program, body.applications, body.quotas ?? {}) };
    },
  }),
];
