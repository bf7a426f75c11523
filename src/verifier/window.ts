import { addDays, shanghaiDay } from '../time/shanghai.js';

/**
 * The verification window (SPEC "What active device means"): the `windowDays` Asia/Shanghai
 * calendar days ending with the day that contains `at`. The one definition, used by the
 * verifier and by the service that fetches the activity rows it needs.
 */
export function verificationWindow(at: number, windowDays: number): { firstDay: string; lastDay: string; days: string[] } {
  const lastDay = shanghaiDay(at);
  const firstDay = addDays(lastDay, -(windowDays - 1));
  return { firstDay, lastDay, days: Array.from({ length: windowDays }, (_, i) => addDays(firstDay, i)) };
}
