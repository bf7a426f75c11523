import { isDayString, shanghaiDayNumber, shanghaiDayStart } from '../time/shanghai.js';
import type { ActivityOptions } from './types.js';

/**
 * The day numbers (Asia/Shanghai) of a `dailyActivity` request, validated the same way by every
 * store: `fromDay..toDay` inclusive and the first day whose minute maps are wanted.
 */
export function activityDayRange(fromDay: string, toDay: string, options: ActivityOptions): { fromNumber: number; toNumber: number; mapsFromNumber: number } {
  const mapsFrom = options.minuteMapsFrom ?? fromDay;
  for (const [name, day] of [['fromDay', fromDay], ['toDay', toDay], ['minuteMapsFrom', mapsFrom]] as const) {
    if (!isDayString(day)) throw new RangeError(`${name} is not a YYYY-MM-DD day: ${day}`);
  }
  const number = (day: string) => shanghaiDayNumber(shanghaiDayStart(day));
  return { fromNumber: number(fromDay), toNumber: number(toDay), mapsFromNumber: number(mapsFrom) };
}
