import { z } from 'zod';

/**
 * Signals that point at fraud: a device carrying one may be excluded from the count by policy
 * (`excludingSignals`) and, on the money path, needs a reviewer's acknowledgement.
 */
export const FRAUD_SIGNAL_CODES = ['DUPLICATE_SERIAL', 'LOCKSTEP', 'SESSION_TAKEOVER', 'SEQ_REPLAY', 'CLOCK_SKEW', 'EDGE_FABRICATION', 'SHARED_CLOCK'] as const;
/**
 * Every signal a report can carry: the fraud signals and the observations. ONE_LIFE stays an
 * observation until the virtual-time driver waits for disconnects to be recorded: with coarse
 * steps it sees honest shift ends next to the next morning's reconnects (docs/detection.md).
 */
export const SIGNAL_CODES = [...FRAUD_SIGNAL_CODES, 'ONE_LIFE', 'NEVER_SEEN', 'SILENT'] as const;

export type SignalCode = (typeof SIGNAL_CODES)[number];
export type FraudSignalCode = (typeof FRAUD_SIGNAL_CODES)[number];
export const fraudSignalCodeSchema = z.enum(FRAUD_SIGNAL_CODES);
export const signalCodeSchema = z.enum(SIGNAL_CODES);

/**
 * Fraud signals a reviewer must acknowledge, kind by kind, before approving an application
 * whose counted devices carry them (SPEC rule 14) — every fraud signal, including any added
 * later, except a duplicated serial, which is settled by the earliest registration or a
 * reviewer's assignment instead.
 */
export const SIGNALS_NEEDING_ACKNOWLEDGEMENT: readonly FraudSignalCode[] = FRAUD_SIGNAL_CODES.filter((code) => code !== 'DUPLICATE_SERIAL');
