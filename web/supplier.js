// Supplier view (supplier key): its own contracts, which devices still fall short and why,
// and the MQTT connection details for a device. The API scopes every list to the key's
// supplier; this page never asks for anything else.
import { api, shanghai } from './api.js';
import { h, select } from './dom.js';
import { t } from './i18n.js';
import { bySerial, itemLabel, loadCatalog, loadContracts, statusBadge } from './shared.js';

/** Why a device does not count (yet), in words. */
export function shortfallReason(device, policy) {
  if (!device.heartbeats && !device.firstSeen) return t('neverSeen');
  if (device.active && !device.counted) {
    const codes = device.signals.filter((s) => s.severity === 'high').map((s) => t('signal', s.code));
    return t('flagged', codes.length ? codes.join('、') : device.signals.map((s) => t('signal', s.code)).join('、'));
  }
  const reason = t('tooFewDays', device.activeDays, policy.minActiveDays);
  return device.lastSeen ? `${reason}；${t('lastSeenAt', shanghai(device.lastSeen))}` : reason;
}

/** Devices of one report that do not count, each with its reason; plus how many more are needed. */
export function shortfallPanel(report) {
  const short = report.devices.filter((d) => !d.counted).sort(bySerial);
  const missing = report.requiredDevices === null ? 0 : Math.max(0, report.requiredDevices - report.activeDevices);
  return h(
    'section',
    { class: 'card supplier', 'data-contract': report.contractId },
    h('h3', {}, `${t('shortfall')} (${short.length})`, missing ? h('span', { class: 'need' }, ` · ${t('needMore', missing)}`) : null),
    short.length
      ? h(
          'ul',
          { class: 'shortfall' },
          short.map((d) => h('li', { 'data-device': d.id }, h('b', {}, d.serial), h('span', { class: 'mono muted' }, ` ${d.id}`), ' — ', shortfallReason(d, report.policy))),
        )
      : h('p', { class: 'ok' }, t('noShortfall')),
  );
}

/** Where and how a device connects; `devices` are [{id, serial}]. */
export function connectionPanel(info, devices) {
  if (!devices.length) return h('section', { class: 'card connection' }, h('h3', {}, t('mqttDetails')), h('p', {}, t('noDevices')));
  // A gateway bound to every interface reports 0.0.0.0; the device should use the name the browser used.
  const host = !info.mqtt.host || ['0.0.0.0', '::', '[::]'].includes(info.mqtt.host) ? location.hostname : info.mqtt.host;
  const pickDevice = select({ id: 'mqtt-device', onchange: () => show() }, devices.map((d) => [d.id, `${d.serial} (${d.id})`]));
  const details = h('dl', { class: 'mqtt' });
  const row = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
  function show() {
    const id = pickDevice.value;
    const topic = (info.heartbeatTopic ?? 'v1/devices/{deviceId}/heartbeat').replace('{deviceId}', id);
    const example = `mosquitto_pub -h ${host} -p ${info.mqtt.port} -V mqttv311 -i ${id} -u ${id} -P '<token>' -q 1 -t ${topic} -m '{"seq":1}'`;
    details.replaceChildren(
      ...row(t('host'), h('code', {}, `mqtt://${host}:${info.mqtt.port}`)),
      ...(info.mqtt.tlsPort ? row(t('tlsHost'), h('code', {}, `mqtts://${host}:${info.mqtt.tlsPort}`)) : []),
      ...row(t('clientId'), h('code', { class: 'device-id' }, id)),
      ...row(t('password'), t('passwordValue')),
      ...row(t('topic'), h('code', { class: 'topic' }, topic)),
      ...row(t('qos'), t('qosValue')),
      ...row(t('payload'), h('pre', {}, JSON.stringify(info.payloadExample ?? { seq: 1 }, null, 2))),
      ...row(t('example'), h('pre', { class: 'example' }, example)),
    );
  }
  show();
  return h('section', { class: 'card connection' }, h('h3', {}, t('mqttDetails')), h('label', {}, t('pickDevice'), pickDevice), details);
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping order. */
async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export async function renderSupplier() {
  const [contracts, info, catalog] = await Promise.all([loadContracts({ fresh: true }), api('/v1/connection-info'), loadCatalog().catch(() => undefined)]);
  const reports = await mapLimit(contracts, 4, (c) => api(`/v1/contracts/${encodeURIComponent(c.id)}/verification`));
  const cards = contracts.map((c, i) => {
    const report = reports[i];
    return h(
      'article',
      { class: 'card progress', 'data-contract': c.id },
      h(
        'header',
        {},
        h('h3', {}, h('a', { href: `#/contracts/${encodeURIComponent(c.id)}` }, c.enterprise.name), ' · ', itemLabel(catalog, c.catalogId, c.catalogName)),
        h(
          'p',
          {},
          statusBadge(report),
          ` ${t('active')} `,
          h('b', { 'data-col': 'active' }, report.activeDevices),
          ` / ${t('required')} `,
          h('b', { 'data-col': 'required' }, report.requiredDevices ?? '—'),
          ` · ${t('registered')} ${report.registeredDevices}`,
        ),
      ),
      shortfallPanel(report),
    );
  });
  const devices = reports.flatMap((r) => r.devices.map((d) => ({ id: d.id, serial: d.serial })).sort(bySerial));
  return h(
    'section',
    { class: 'supplier-view' },
    h('h2', {}, t('supplierView')),
    h('p', { class: 'muted' }, t('supplierIntro')),
    cards,
    connectionPanel(info, devices),
  );
}
