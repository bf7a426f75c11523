import { h } from './dom.js';
import { t } from './i18n.js';

/** Minutes online in a day at which a cell gets the darkest shade (8 hours). */
const LONG_DAY_MINUTES = 480;

/** Shade class of one device-day: l0 none, l1/l2 below the threshold, l3 active day, l4 ≥ 8 h. */
export function level(minutes, threshold) {
  if (!minutes) return 'l0';
  if (minutes < threshold) return minutes * 2 < threshold ? 'l1' : 'l2';
  return minutes >= Math.max(LONG_DAY_MINUTES, threshold) ? 'l4' : 'l3';
}

/**
 * Calendar heat-map of a verification report: one row per device, one column per window day
 * (oldest first), each cell shaded by that day's online minutes. Days at or above the policy's
 * active-day threshold carry a mark, and the legend states the threshold, so the line a device
 * must cross is visible; the last column counts active days against the minimum.
 */
export function heatmap(report) {
  const days = report.window.days ?? [];
  const threshold = report.policy.minOnlineMinutes;
  const minDays = report.policy.minActiveDays;
  const dayHead = (day, i) => {
    const date = new Date(`${day}T00:00:00Z`);
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    const label = i === 0 || day.endsWith('-01') ? `${Number(day.slice(5, 7))}/${Number(day.slice(8))}` : String(Number(day.slice(8)));
    return h('th', { scope: 'col', class: ['day', weekend && 'weekend'], title: day }, label);
  };
  const head = h('tr', {}, h('th', { scope: 'col', class: 'device' }, t('device')), days.map(dayHead), h('th', { scope: 'col', class: 'days' }, t('activeDaysShort')));
  const rows = report.devices.map((device) => {
    const minutesByDay = device.dailyMinutes ?? [];
    return h(
      'tr',
      { 'data-device': device.id, class: device.counted ? 'counted' : 'short' },
      h('th', { scope: 'row', class: 'device', title: device.id }, device.serial),
      days.map((day, i) => {
        const minutes = minutesByDay[i] ?? 0;
        return h('td', {
          class: ['cell', level(minutes, threshold), minutes >= threshold && 'active'],
          title: t('heatCell', device.serial, day, minutes),
          'data-day': day,
          'data-minutes': minutes,
        });
      }),
      h('td', { class: ['days', device.activeDays >= minDays ? 'ok' : 'bad'] }, `${device.activeDays}/${minDays}`),
    );
  });
  const swatch = (cls, label) => h('span', { class: 'legend-item' }, h('span', { class: ['swatch', 'cell', cls] }), label);
  return h(
    'figure',
    { class: 'heatmap card', 'data-threshold': threshold },
    h('figcaption', {}, h('b', {}, t('heatmap')), ' · ', h('span', { class: 'threshold' }, t('threshold', threshold))),
    h(
      'div',
      { class: 'legend' },
      swatch('l0', t('legendNone')),
      swatch('l1', t('legendBelow', threshold)),
      swatch('l3 active', t('legendActive', threshold)),
      swatch('l4 active', t('legendLong')),
    ),
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, head), h('tbody', {}, rows))),
  );
}
