import { describe, it, expect } from 'vitest';
import {
  getCatalogItem,
  getProgram,
  loadProgram,
  program2020Data,
  ProgramDataError,
  programs,
  programYears,
  requiredDevices,
  resolveCity,
  safeLoadProgram,
  type ProgramData,
} from '../../../src/rules/index.js';

const program = getProgram(2020)!;
const clone = (): ProgramData => structuredClone(program2020Data) as ProgramData;

function issuesOf(data: unknown): string[] {
  const result = safeLoadProgram(data);
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
}

/** Every `{ value, … }` wrapper and every record with an id/code carries citation + effective. */
function uncited(node: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(node)) node.forEach((child, i) => uncited(child, `${path}.${i}`, out));
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    const needsCitation = 'value' in record || 'id' in record || 'code' in record || 'kind' in record;
    if (needsCitation && (typeof record.citation !== 'string' || record.citation.trim() === '' || !record.effective)) out.push(path);
    for (const [key, child] of Object.entries(record)) if (key !== 'value') uncited(child, `${path}.${key}`, out);
  }
  return out;
}

describe('2020 program data (粤工信办函〔2020〕37号 and 附件)', () => {
  it('is a built-in program year', () => {
    expect(programYears()).toContain(2020);
    expect(programs.get(2020)).toBe(program);
    expect(program.source.document).toBe('粤工信办函〔2020〕37号');
  });

  it('cites every value and dates it', () => {
    expect(uncited(program, 'program', [])).toEqual([]);
  });

  it('has the 27 catalog items numbered 1..27', () => {
    expect(program.catalog.map((item) => item.id)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
  });

  it.each([
    ['rnd-design', '研发设计', [1, 2, 3, 4]],
    ['production-control', '生产管控', [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]],
    ['business-management', '经营管理', [18, 19, 20, 21, 22, 23]],
    ['equipment-services', '工业设备服务', [24, 25]],
    ['middle-platform', '中台集成', [26, 27]],
  ])('puts the rows under 一级目录 %s (%s): %j', (id, zh, members) => {
    expect(program.categories.find((c) => c.id === id)?.name.zh).toBe(zh);
    expect(program.catalog.filter((item) => item.category === id).map((item) => item.id)).toEqual(members);
  });

  it.each([
    [1, '通用设计工具', 8], [2, '行业仿真工具 (CAE)', 18], [3, '通用研发管理 (PDM)', 5], [4, '行业设计工具', 15],
    [5, '设备物联', 10], [6, '生产协同 I', 20], [7, '生产协同 II', 25], [8, '生产协同 III', 15], [9, '设备管理', 5],
    [10, '设备智能', 25], [11, '精益管理', 5], [12, '质量管理', 10], [13, '流程工业生产过程追溯', 25],
    [14, '能源管理（通用配电设备）', 15], [15, '能源管理（通用生产设备）', 20], [16, '能源管理（高耗能工艺设备）', 25],
    [17, '视觉检测', 20], [18, '供应链协同', 3], [19, '仓储管理', 5], [20, '资源计划 I', 3], [21, '资源计划 II', 5],
    [22, '数据管理 BI', 5], [23, '客户关系管理', 3], [24, '工业设备后市场服务', 25], [25, '工业设备租赁管理', 10],
    [26, '智造中台', 30], [27, '工厂应用集成', 30],
  ])('#%i %s is capped at %i万元 (附件 奖补上限)', (id, zh, capWan) => {
    const item = getCatalogItem(program, id)!;
    expect(item.name.zh).toBe(zh);
    expect(item.name.en.length).toBeGreaterThan(0);
    expect(item.capFen.value).toBe(capWan * 1_000_000);
    expect(item.capFen.citation).toBe(`附件 #${id} 奖补上限`);
  });

  it('has per-device subsidies only for #5 (1500), #24 (1500), #25 (800) — 附件 备注, 说明2', () => {
    const perDevice = program.catalog.filter((item) => item.perDeviceFen).map((item) => [item.id, item.perDeviceFen!.value]);
    expect(perDevice).toEqual([[5, 150_000], [24, 150_000], [25, 80_000]]);
  });

  it('has the product conditions of #4, #10 and #27 (SPEC rule 9)', () => {
    const conditions = program.catalog.filter((item) => item.conditions.length > 0).map((item) => [item.id, item.conditions.map((c) => c.kind)]);
    expect(conditions).toEqual([
      [4, ['min-function-modules']],
      [10, ['min-big-data-models']],
      [27, ['cluster-pilot-only', 'min-service-providers']],
    ]);
    expect(getCatalogItem(program, 27)!.conditions.find((c) => c.kind === 'min-service-providers')).toMatchObject({ min: 2 });
    expect(getCatalogItem(program, 4)!.conditions[0]).toMatchObject({ min: 5 });
    expect(getCatalogItem(program, 14)!.remark).toContain('选项功能不作为奖补强制要求');
  });

  it('has the 21 prefecture cities with GB/T 2260 codes and regions (37号 §四)', () => {
    expect(program.cities).toHaveLength(21);
    const prd = program.cities.filter((c) => c.region === 'pearl-river-delta').map((c) => c.shortName).sort();
    expect(prd).toEqual(['东莞', '中山', '佛山', '广州', '惠州', '江门', '深圳', '珠海', '肇庆'].sort());
    expect(program.cities.filter((c) => c.region === 'east-west-north')).toHaveLength(12);
    expect(program.cities.filter((c) => !c.eligible).map((c) => c.code)).toEqual(['440300']);
  });

  it('has the rates, caps, windows and quotas of the notice', () => {
    expect(program.rates.byRegion['pearl-river-delta'].value).toBe(7000);
    expect(program.rates.byRegion['east-west-north'].value).toBe(8000);
    expect(program.rates.clusterPilot.value).toBe(8000);
    expect(program.enterpriseCapFen).toMatchObject({ value: 30_000_000, citation: '附件 说明3' });
    expect(program.windows.application.value).toEqual({ from: '2020-05-25T10:00:00+08:00', to: '2020-09-30T17:00:00+08:00' });
    expect(program.windows.redemption.value).toEqual({ from: '2020-10-08T10:00:00+08:00', to: '2021-02-08T17:00:00+08:00' });
    expect(program.quotas.supplierByKind.platform.value).toBe(800_000_000);
    expect(program.quotas.supplierByKind.other.value).toBe(500_000_000);
    expect(program.quotas.cityDefaultFen.value).toBeNull();
    expect(program.exclusionGroups.map((g) => g.members)).toEqual([[6, 7, 8], [14, 15, 16], [20, 21], [5, 9, 10]]);
  });

  it('is frozen so no caller can change the rules', () => {
    expect(Object.isFrozen(program)).toBe(true);
    expect(Object.isFrozen(program.catalog[0]!.capFen)).toBe(true);
  });
});

describe('resolveCity / requiredDevices', () => {
  it.each(['佛山', '佛山市', '440600', 'Foshan', ' foshan '])('resolves %j to 佛山市 440600', (input) => {
    expect(resolveCity(program, input)).toMatchObject({ name: '佛山市', code: '440600' });
  });
  it.each(['北京', '', '440000', '佛山县'])('does not resolve %j', (input) => {
    expect(resolveCity(program, input)).toBeNull();
  });
  it('resolves Shenzhen, which is then ineligible', () => {
    expect(resolveCity(program, '深圳市')).toMatchObject({ code: '440300', eligible: false });
  });
  it('requires ceil(voucher ÷ per-device) devices for per-device items only (附件 说明2)', () => {
    expect(requiredDevices(program, 5, 150_000 * 40)).toBe(40);
    expect(requiredDevices(program, 5, 150_000 * 40 + 1)).toBe(41);
    expect(requiredDevices(program, 25, 0)).toBe(0);
    expect(requiredDevices(program, 6, 1_000_000)).toBeNull();
    expect(requiredDevices(program, 99, 1_000_000)).toBeNull();
  });
});

describe('loadProgram validates', () => {
  it('accepts the 2020 data', () => {
    expect(loadProgram(clone()).year).toBe(2020);
  });

  it('rejects a value without a citation', () => {
    const data = clone() as unknown as { rates: { clusterPilot: Record<string, unknown> } };
    delete data.rates.clusterPilot.citation;
    expect(issuesOf(data).join('\n')).toContain('rates.clusterPilot.citation');
  });

  it('rejects a blank citation', () => {
    const data = clone();
    data.enterpriseCapFen.citation = '   ';
    expect(issuesOf(data).join('\n')).toMatch(/enterpriseCapFen\.citation: citation must not be blank/);
  });

  it('rejects a record without effective dates', () => {
    const data = clone() as unknown as { catalog: Record<string, unknown>[] };
    delete data.catalog[3]!.effective;
    expect(issuesOf(data).join('\n')).toContain('catalog.3.effective');
  });

  it('rejects duplicate catalog ids', () => {
    const data = clone();
    data.catalog[1]!.id = 1;
    expect(issuesOf(data)).toContain('catalog.1.id: duplicate catalog id 1');
  });

  it('rejects a group member that is not in the catalog', () => {
    const data = clone();
    data.exclusionGroups[0]!.members.push(42);
    expect(issuesOf(data)).toContain('exclusionGroups.0.members.3: group production-collaboration names catalog item 42, which does not exist');
  });

  it('rejects duplicate cities', () => {
    const data = clone();
    data.cities.push({ ...data.cities[5]! });
    expect(issuesOf(data).some((issue) => issue.startsWith('cities.21.code: duplicate city 440600'))).toBe(true);
  });

  it('rejects a fen amount that is not an integer', () => {
    const data = clone();
    data.quotas.supplierByKind.other.value = 1.5;
    const issues = issuesOf(data).join('\n');
    expect(issues).toContain('quotas.supplierByKind.other.value');
  });

  it('rejects an inverted window', () => {
    const data = clone();
    data.windows.application.value = { from: '2020-09-30T17:00:00+08:00', to: '2020-05-25T10:00:00+08:00' };
    expect(issuesOf(data).join('\n')).toContain('windows.application.value: from 2020-09-30T17:00:00+08:00 is after to');
  });

  it('rejects a local time without offset', () => {
    const data = clone();
    data.windows.redemption.value.from = '2020-10-08T10:00:00';
    expect(issuesOf(data).join('\n')).toContain('windows.redemption.value.from');
  });

  it('throws ProgramDataError listing the issues', () => {
    const data = clone();
    data.catalog[1]!.id = 1;
    expect(() => loadProgram(data)).toThrow(ProgramDataError);
    expect(() => loadProgram(data)).toThrow(/duplicate catalog id 1/);
  });
});
