import { h } from './dom.js';

/**
 * Devices × days heat-map: one row per device, one cell per window day, shaded by online
 * minutes; cells at or above the active-day threshold get an outline, so the line a device must
 * cross is visible.
 */
export function heatmap(report, labels) {
  const days = report.window.days;
  const threshold = report.policy.minOnlineMinutes;
  const shade = (minutes) => {
    if (minutes === 0) return 'var(--empty)';
    const strength = Math.min(1, minutes / Math.max(threshold * 2, 1));
    return `hsl(150 60% ${Math.round(85 - strength * 55)}%)`;
  };
  const head = h('tr', {}, h('th', {}, labels.device), ...days.map((d) => h('th', { class: 'day', title: d }, d.slice(8))));
  const rows = report.devices.map((device) =>
    h(
      'tr',
      { 'data-device': device.id },
      h('th', { class: 'device', title: device.serial }, device.serial),
      ...device.dailyMinutes.map((minutes, i) =>
        h('td', {
          class: minutes >= threshold ? 'cell active' : 'cell',
          style: { background: shade(minutes) },
          title: `${device.serial} ${days[i]}: ${minutes} min`,
          'data-minutes': minutes,
        }),
      ),
    ),
  );
  return h(
    'figure',
    { class: 'heatmap' },
    h('figcaption', {}, `${labels.heatmap} — ${labels.threshold} ${threshold} min`),
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, head), h('tbody', {}, rows))),
  );
}
