/**
 * Per-connection sequence tracking. A new MQTT connection is a new session: devices may
 * restart their counter after a reboot. Within one session a `seq` at or below the highest
 * seen is a duplicate or a replay: dropped, counted, never activity (SEQ_REPLAY evidence).
 */
export interface SeqSession {
  maxSeq: number;
}

export type SeqVerdict = 'new' | 'duplicate' | 'replay';

export function createSeqSession(): SeqSession {
  return { maxSeq: -1 };
}

export function checkSeq(session: SeqSession, seq: number): SeqVerdict {
  if (seq > session.maxSeq) {
    session.maxSeq = seq;
    return 'new';
  }
  return seq === session.maxSeq ? 'duplicate' : 'replay';
}
