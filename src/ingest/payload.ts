import { z } from 'zod';

/**
 * The heartbeat payload of ../shared/API.md: JSON ≤ 4 KiB, only `seq` required.
 * Unknown top-level fields are ignored (forward compatibility); known ones must be valid.
 */
export const MAX_PAYLOAD_BYTES = 4096;
const MAX_METRICS = 64;

export const heartbeatPayloadSchema = z.object({
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ts: z
    .union([
      z.iso.datetime({ offset: true }),
      z.number().int().nonnegative().max(8_640_000_000_000_000),
    ])
    .optional(),
  status: z.enum(['running', 'idle', 'fault', 'off']).optional(),
  metrics: z
    .record(z.string().min(1).max(64), z.number().refine(Number.isFinite, 'metric must be a finite number'))
    .refine((m) => Object.keys(m).length <= MAX_METRICS, `at most ${MAX_METRICS} metrics`)
    .optional(),
});

export type HeartbeatPayload = z.infer<typeof heartbeatPayloadSchema>;

export type RejectReason = 'payload-too-large' | 'invalid-json' | 'invalid-payload';

export type ParseResult =
  | { ok: true; payload: HeartbeatPayload; deviceTs: number | undefined }
  | { ok: false; reason: RejectReason; detail: string };

/** Step 1–2 of the pipeline: bytes → JSON → validated payload, or a precise reason. */
export function parseHeartbeat(bytes: Uint8Array): ParseResult {
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: 'payload-too-large', detail: `${bytes.length} bytes > ${MAX_PAYLOAD_BYTES}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid-json', detail: (err as Error).message };
  }
  const parsed = heartbeatPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(payload)';
    return { ok: false, reason: 'invalid-payload', detail: `${where}: ${issue.message}` };
  }
  const protoMetric = ownProtoMetric(json);
  if (protoMetric !== undefined && !(typeof protoMetric === 'number' && Number.isFinite(protoMetric))) {
    return { ok: false, reason: 'invalid-payload', detail: 'metrics.__proto__: metric must be a finite number' };
  }
  const ts = parsed.data.ts;
  const deviceTs = ts === undefined ? undefined : typeof ts === 'number' ? ts : Date.parse(ts);
  return { ok: true, payload: parsed.data, deviceTs };
}

/**
 * zod's record skips an own "__proto__" key (JSON.parse creates one), so its value would go
 * unchecked; this reads it as a plain data property.
 */
function ownProtoMetric(json: unknown): unknown {
  const metrics = (json as { metrics?: unknown }).metrics;
  if (!metrics || typeof metrics !== 'object') return undefined;
  return Object.getOwnPropertyDescriptor(metrics, '__proto__')?.value;
}
