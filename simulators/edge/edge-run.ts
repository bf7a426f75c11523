/**
 * Runs edge gateway fleets (simulators/edge/edge-fleets.ts) against a gateway on a virtual
 * clock: registers one contract, its devices and one edge node per fleet through the HTTP API,
 * plays the days minute by minute over real Sparkplug B connections, and verifies.
 */
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { buildCreditCode } from '../../src/provisioning/index.js';
import type { InProcessGateway } from '../in-process.js';
import { deriveSeed } from '../profiles.js';
import { verifyContract, type DeviceVerification } from '../run.js';
import { edgeFleetBehaviour, isDishonestEdge, playMinute, type EdgeFleetBehaviour, type EdgeProfile } from './edge-fleets.js';
import { SparkplugEdgeNode } from './sparkplug-edge-node.js';

export interface EdgeFleetSpec {
  profile: EdgeProfile;
  children: number;
}

export interface EdgeRunFleet {
  profile: EdgeProfile;
  dishonest: boolean;
  edgeNodeId: string;
  children: string[];
}

export interface EdgeRun {
  contractId: string;
  fleets: EdgeRunFleet[];
  /** Sparkplug messages published. */
  messages: number;
  verifyAt: number;
}

const DAY_MS = 86_400_000;

/** Registers an enterprise, a contract (#5 设备物联) of an existing supplier, its devices and one edge node per fleet. */
export async function provisionEdgeContract(
  gw: Pick<InProcessGateway, 'api'>,
  options: { supplierId: string; fleets: readonly EdgeFleetSpec[]; label: string; creditSeed: number; contractAmountFen?: number },
): Promise<{ contractId: string; fleets: Array<EdgeRunFleet & { token: string }> }> {
  const enterprise = await gw.api.json<{ id: string }>('/v1/enterprises', {
    body: { name: `${options.label} 企业`, creditCode: buildCreditCode(9_000_000 + (options.creditSeed % 1_000_000)), city: '东莞', clusterPilot: false },
  });
  const contract = await gw.api.json<{ id: string }>('/v1/contracts', {
    body: {
      enterpriseId: enterprise.id,
      supplierId: options.supplierId,
      program: 2020,
      catalogId: 5,
      // 20,000 yuan at 70% (东莞, PRD): a 14,000 yuan voucher, so ceil(14,000 ÷ 1,500) = 10 devices (附件 说明2).
      contractAmountFen: options.contractAmountFen ?? 2_000_000,
      appliedAt: '2020-06-01T10:00:00+08:00',
    },
  });
  const fleets: Array<EdgeRunFleet & { token: string }> = [];
  for (const [i, fleet] of options.fleets.entries()) {
    const devices = await gw.api.json<{ devices: Array<{ id: string }> }>(`/v1/contracts/${contract.id}/devices`, {
      body: { devices: Array.from({ length: fleet.children }, (_, c) => ({ serial: `${options.label}-${i}-${fleet.profile}-${c}`, model: 'PLC-CNC' })) },
    });
    const children = devices.devices.map((d) => d.id);
    const node = await gw.api.json<{ id: string; token: string }>(`/v1/contracts/${contract.id}/edge-nodes`, {
      body: { name: `${fleet.profile} gateway`, devices: children },
    });
    fleets.push({ profile: fleet.profile, dishonest: isDishonestEdge(fleet.profile), edgeNodeId: node.id, token: node.token, children });
  }
  return { contractId: contract.id, fleets };
}

/** Plays `days` days from `gw.clock`'s current time (00:00 Asia/Shanghai) and returns what was run. */
export async function playEdgeFleets(
  gw: Pick<InProcessGateway, 'api' | 'clock' | 'gateway'>,
  provisioned: { contractId: string; fleets: Array<EdgeRunFleet & { token: string }> },
  options: { days: number; seed: number },
): Promise<EdgeRun> {
  const start = gw.clock.now();
  const played = provisioned.fleets.map((fleet) => ({
    fleet,
    behaviour: edgeFleetBehaviour(fleet.profile, fleet.children, deriveSeed(options.seed, fleet.profile), options.days) as EdgeFleetBehaviour,
    node: new SparkplugEdgeNode({ id: fleet.edgeNodeId, token: fleet.token }, { port: gw.gateway.mqttPort, group: 'sim', now: () => gw.clock.now() }),
    started: false,
  }));
  let messages = 0;
  for (let m = 0; m < options.days * 1440; m++) {
    const steps = played.map((p) => ({ p, step: p.behaviour.minute(m) })).filter((s) => s.step !== undefined);
    if (steps.length === 0) continue;
    gw.clock.set(start + m * 60_000);
    const counts = await Promise.all(
      steps.map(async ({ p, step }) => {
        if (step!.node === 'start' && p.started) p.node.nextLife();
        if (step!.node === 'start') p.started = true;
        return playMinute(p.node, step!, () => killAndReconnect(gw, p.node));
      }),
    );
    messages += counts.reduce((a, b) => a + b, 0);
  }
  for (const p of played) if (p.node.client?.connected) await p.node.shutdown();
  await gw.gateway.flush();
  return {
    contractId: provisioned.contractId,
    fleets: provisioned.fleets.map(({ token: _token, ...f }) => f),
    messages,
    verifyAt: start + options.days * DAY_MS - 60_000,
  };
}

/** A gateway losing power: the socket dies without DISCONNECT, the broker publishes the NDEATH will. */
async function killAndReconnect(gw: Pick<InProcessGateway, 'api'>, node: SparkplugEdgeNode): Promise<void> {
  (node.client.stream as net.Socket).destroy();
  for (let i = 0; i < 200; i++) {
    const read = await gw.api.json<{ live?: { connected: boolean } }>(`/v1/edge-nodes/${node.credentials.id}`);
    if (!read.live?.connected) break;
    await delay(5);
  }
  node.nextLife();
  await node.connect();
}

export interface EdgeFleetOutcome {
  label: string;
  dishonest: boolean;
  devices: number;
  counted: number;
  flagged: Record<string, number>;
  caught: number;
}

/** Per fleet: devices, counted active, devices flagged per signal, devices with any signal. */
export async function edgeOutcomes(gw: Pick<InProcessGateway, 'api'>, run: EdgeRun): Promise<EdgeFleetOutcome[]> {
  const report = await verifyContract(gw.api, run.contractId, run.verifyAt);
  const byId = new Map<string, DeviceVerification>(report.devices.map((d) => [d.id, d]));
  return run.fleets.map((fleet) => {
    const outcome: EdgeFleetOutcome = { label: `${fleet.profile} (${fleet.children.length} children, Sparkplug B)`, dishonest: fleet.dishonest, devices: 0, counted: 0, flagged: {}, caught: 0 };
    for (const id of fleet.children) {
      const device = byId.get(id);
      if (!device) throw new Error(`device ${id} missing from the verification of ${run.contractId}`);
      outcome.devices++;
      if (device.counted) outcome.counted++;
      const codes = new Set(device.signals.map((s) => s.code));
      for (const code of codes) outcome.flagged[code] = (outcome.flagged[code] ?? 0) + 1;
      if (codes.size > 0) outcome.caught++;
      if (!device.reportedVia.some((v) => v.edgeNode === fleet.edgeNodeId)) throw new Error(`device ${id} does not show its edge node ${fleet.edgeNodeId}`);
    }
    return outcome;
  });
}
