import { z } from 'zod';
import { activityPolicySchema, signalCodeSchema } from '../../verifier/index.js';

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
    policy: activityPolicySchema,
    requiredDevices: z.number().int().nullable(),
    registeredDevices: z.number().int(),
    activeDevices: z.number().int(),
    passed: z.boolean().nullable(),
    signalCounts: z.record(z.string(), z.number().int()),
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
