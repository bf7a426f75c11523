/** Device-day activity: the type both the telemetry stores and the verifier speak, and its minute map. */
export { MINUTE_MAP_BYTES, MINUTES_PER_DAY, type DeviceDayActivity } from './types.js';
export { countMinutes, countMinutesUpTo, createMinuteMap, isMinuteSet, orInto, setMinute } from './minute-map.js';
