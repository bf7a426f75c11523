import type { CatalogItem, Program, ProductCondition } from './program-schema.js';
import type { ApplicationInput, PriorVoucher } from './schemas.js';
import { reason, type Reason, type ReasonCode } from './reasons.js';
import { explain, param, recordParam, type Explanation } from './explain.js';
import { groupsOf } from './lookup.js';

/**
 * Per-item checks of evaluate(): product conditions (SPEC rule 9) and no-repeat / exclusion
 * groups (附件 说明4). Each returns explanation nodes plus the reasons that reject.
 */

export interface Grant {
  catalogId: number;
  appliedAt: string;
}

export interface Ledger {
  /** Sum of vouchers granted so far in this cycle (附件 说明3). */
  grantedFen: number;
  granted: Grant[];
}

/** 附件 备注 / 主要功能模块 / 主要应用场景 conditions (SPEC rule 9). */
export function checkCondition(
  condition: ProductCondition,
  application: ApplicationInput,
  clusterPilot: boolean,
): { node: Explanation; failure: Reason | null } {
  const counted = (
    field: 'serviceProviders' | 'bigDataModels' | 'functionModules',
    min: number,
    code: ReasonCode,
    what: string,
  ) => {
    // An absent count is 0: the condition must be shown, not assumed.
    const actual = application[field] ?? 0;
    const ok = actual >= min;
    return {
      node: explain(`condition:${condition.kind}`, condition.citation, `${what}: ${actual} (at least ${min})`, {
        inputs: { [field]: application[field] ?? null },
        parameters: [recordParam(condition.kind, min, condition.citation)],
        value: ok,
      }),
      failure: ok ? null : reason(code, condition.citation, `catalog item ${application.catalogId} needs at least ${min} ${what}; got ${actual}`),
    };
  };
  switch (condition.kind) {
    case 'min-service-providers':
      return counted('serviceProviders', condition.min, 'TOO_FEW_SERVICE_PROVIDERS', 'service providers (服务商)');
    case 'min-big-data-models':
      return counted('bigDataModels', condition.min, 'BIG_DATA_MODEL_REQUIRED', 'industrial big-data models (工业大数据模型)');
    case 'min-function-modules':
      return counted('functionModules', condition.min, 'TOO_FEW_FUNCTION_MODULES', 'function modules (功能模块)');
    case 'cluster-pilot-only':
      return {
        node: explain('condition:cluster-pilot-only', condition.citation, 'for industrial-cluster pilots only (适用于产业集群试点示范)', {
          inputs: { clusterPilot },
          parameters: [recordParam(condition.kind, true, condition.citation)],
          value: clusterPilot,
        }),
        failure: clusterPilot
          ? null
          : reason('CLUSTER_PILOT_ONLY', condition.citation, `catalog item ${application.catalogId} is for cluster-pilot enterprises only`),
      };
  }
}

/** 附件 说明4: the same 二级目录 never twice; one voucher per exclusion group, ever. */
export function checkRepeats(
  program: Program,
  item: CatalogItem,
  priors: readonly PriorVoucher[],
  ledger: Ledger,
): { nodes: Explanation[]; failures: Reason[] } {
  const nodes: Explanation[] = [];
  const failures: Reason[] = [];
  const rule = program.noRepeatSameItem;
  if (rule.value) {
    const prior = priors.find((p) => p.catalogId === item.id);
    const earlier = ledger.granted.find((g) => g.catalogId === item.id);
    const repeated = prior !== undefined || earlier !== undefined;
    nodes.push(
      explain('no-repeat-item', rule.citation, repeated ? 'this 二级目录 was already granted' : 'not granted before', {
        inputs: { priorVouchers: priors.map((p) => `${p.year}#${p.catalogId}`), earlierInRequest: ledger.granted.map((g) => g.catalogId) },
        parameters: [param('noRepeatSameItem', rule)],
        value: !repeated,
      }),
    );
    if (repeated) {
      const where = prior ? `a ${prior.year} voucher` : `an earlier application (appliedAt ${earlier?.appliedAt})`;
      failures.push(reason('NO_REPEAT_ITEM', rule.citation, `catalog item ${item.id} ${item.name.zh} was already granted in ${where}`));
    }
  }
  for (const group of groupsOf(program, item.id)) {
    const others = group.members.filter((member) => member !== item.id);
    const prior = priors.find((p) => others.includes(p.catalogId));
    const earlier = ledger.granted.find((g) => others.includes(g.catalogId));
    const conflict = prior?.catalogId ?? earlier?.catalogId;
    nodes.push(
      explain(`exclusion-group:${group.id}`, group.citation, `${group.name.zh}: at most one voucher of #${group.members.join(', #')}`, {
        inputs: { catalogId: item.id },
        parameters: [recordParam(`exclusionGroups.${group.id}`, group.members, group.citation)],
        value: conflict === undefined,
      }),
    );
    if (conflict !== undefined) {
      const where = prior ? `a ${prior.year} voucher` : 'an earlier application in this request';
      failures.push(
        reason(
          'EXCLUSION_GROUP',
          group.citation,
          `catalog item ${item.id} is in the ${group.name.zh} group with #${conflict}, already granted in ${where}`,
        ),
      );
    }
  }
  return { nodes, failures };
}

