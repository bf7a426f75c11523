import { z } from 'zod';
import { reportPolicySchema, signalCodeSchema } from '../../verifier/index.js';

/** Response schema of a verification report (documentation and OpenAPI; the verifier builds it). */
export const signalSchema = z
  .object({
    code: signalCodeSchema,
    severity: z.enum(['high', 'medium', 'low']),
    message: z.string(),
    data: z.record(z.string(), z.union([z.number(), z.string(), z.array(z.string())])),
  })
  .meta({ id: 'Signal' });

export const reviewNoteSchema = z.object({ by: z.string(), at: z.string(), reason: z.string() });

export const deviceReportSchema = z
  .object({
    id: z.string(),
    serial: z.string(),
    active: z.boolean(),
    counted: z.boolean(),
    excluded: reviewNoteSchema.nullable().describe("a reviewer's exclusion from the count"),
    activeDays: z.number().int(),
    onlineMinutes: z.number().int(),
    heartbeats: z.number().int(),
    firstSeen: z.string().nullable(),
    lastSeen: z.string().nullable(),
    sources: z.array(z.string()),
    reportedVia: z
      .array(z.object({ edgeNode: z.string().nullable().describe('null: its own connection'), heartbeats: z.number().int() }))
      .describe('whether its heartbeats came directly or through which edge node'),
    dailyMinutes: z.array(z.number().int()),
    signals: z.array(signalSchema),
  })
  .meta({ id: 'DeviceReport' });

export const verificationReportSchema = z
  .object({
    contractId: z.string(),
    catalogId: z.number().int(),
    voucherFen: z.number().int(),
    at: z.string(),
    window: z.object({ from: z.string(), to: z.string(), days: z.array(z.string()) }),
    policy: reportPolicySchema,
    requiredDevices: z.number().int().nullable(),
    registeredDevices: z.number().int(),
    activeDevices: z.number().int(),
    passed: z.boolean().nullable(),
    signalCounts: z.record(z.string(), z.number().int()),
    edgeNodes: z
      .array(
        z.object({
          id: z.string(),
          children: z.number().int().describe("the contract's devices it reported for in the window"),
          withMetrics: z.number().int(),
          clonedMetrics: z.number().int(),
          deviceLifecycle: z.number().int(),
          ownLifecycle: z.number().int(),
          clonedPercent: z.number().int().nullable(),
          ownLifecyclePercent: z.number().int().nullable(),
          fabrication: z.boolean().describe('EDGE_FABRICATION fired (on each of its devices)'),
        }),
      )
      .describe('edge nodes the devices reported through (issue 20)'),
    devices: z.array(deviceReportSchema),
    reviews: z
      .object({
        exclusions: z.array(reviewNoteSchema.extend({ deviceId: z.string() })),
        serialAssignments: z.array(reviewNoteSchema.extend({ serial: z.string(), assignedHere: z.boolean() })),
      })
      .describe('reviewer decisions in force, covered by the digest'),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  })
  .meta({ id: 'VerificationReport' });
