/**
 * The demo's edge contract (issue 20): a #5 设备物联 contract whose 10 machines report through
 * one Sparkplug B edge gateway (the honest `edge-shifts` fleet). Played on the demo's gateway
 * over the same 30 virtual days as the device fleets — after them, the clock set back to the
 * first day and returned to the verification time — then verified and redeemed like the others.
 */
import type { InProcessGateway } from '../in-process.js';
import { redeem, verifyContract, type ContractVerification, type RedemptionDecision } from '../run.js';
import { playEdgeFleets, provisionEdgeContract } from './edge-run.js';

export const EDGE_DEMO_NAME = '#5 edge gateway';
/** 20,000 yuan at 70% (东莞): a 14,000 yuan voucher, ceil(14,000 ÷ 1,500) = 10 devices (附件 说明2). */
const CONTRACT_AMOUNT_FEN = 2_000_000;

export async function runEdgeDemo(
  gw: Pick<InProcessGateway, 'api' | 'clock' | 'gateway'>,
  options: { firstDay: number; days: number; verifyAt: number; seed: number },
): Promise<{ name: string; verification: ContractVerification; decision: RedemptionDecision; edgeNodeId: string }> {
  const supplier = await gw.api.json<{ id: string }>('/v1/suppliers', { body: { name: '边缘网关服务商', kind: 'other' } });
  const provisioned = await provisionEdgeContract(gw, {
    supplierId: supplier.id,
    fleets: [{ profile: 'edge-shifts', children: 10 }],
    label: 'EDGE-DEMO',
    creditSeed: options.seed,
    contractAmountFen: CONTRACT_AMOUNT_FEN,
  });
  gw.clock.set(options.firstDay);
  await playEdgeFleets(gw, provisioned, { days: options.days, seed: options.seed });
  gw.clock.set(options.verifyAt);
  const verification = await verifyContract(gw.api, provisioned.contractId, options.verifyAt);
  const contract = await gw.api.json<{ id: string; voucherFen: number }>(`/v1/contracts/${provisioned.contractId}`);
  const decision = await redeem(gw.api, contract, CONTRACT_AMOUNT_FEN);
  return { name: EDGE_DEMO_NAME, verification, decision, edgeNodeId: provisioned.fleets[0]!.edgeNodeId };
}
