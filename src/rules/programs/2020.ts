import type { ProgramData } from '../program-schema.js';

/**
 * 2020 program: 粤工信办函〔2020〕37号 (issued 2020-05-14) and its 附件
 * 《广东省工业企业“上云上平台”应用产品目录（2020年）》, source text in
 * ../shared/seed/000_e15d6956bdbf4941.txt. Money in fen, rates in basis points.
 * Values the notice leaves open are the SPEC's interpretations, cited `SPEC 解释`.
 */

const RULE_10 = 'SPEC 规则10 (2019 兑现流程)';

/** From the notice's issue date to the end of the redemption window (37号 落款, §一(二)). */
const EFFECTIVE = { from: '2020-05-14T00:00:00+08:00', to: '2021-02-08T17:00:00+08:00' };

const c = <T>(value: T, citation: string) => ({ value, citation, effective: EFFECTIVE });
const yuan = (y: number): number => y * 100;
const wan = (w: number): number => w * 10_000 * 100;

/** The table prints 一级目录 only on the first row of each group; members are the rows below it. */
const categories = [
  { id: 'rnd-design', name: { zh: '研发设计', en: 'R&D and design' } },
  { id: 'production-control', name: { zh: '生产管控', en: 'Production management and control' } },
  { id: 'business-management', name: { zh: '经营管理', en: 'Business management' } },
  { id: 'equipment-services', name: { zh: '工业设备服务', en: 'Industrial equipment services' } },
  { id: 'middle-platform', name: { zh: '中台集成', en: 'Middle-platform integration' } },
].map((category) => ({ ...category, citation: '附件 一级目录', effective: EFFECTIVE }));

type Condition = ProgramData['catalog'][number]['conditions'][number];

interface Row {
  id: number;
  category: string;
  zh: string;
  en: string;
  capWan: number;
  perDeviceYuan?: number;
  conditions?: Condition[];
  remark?: string;
}

const rows: Row[] = [
  { id: 1, category: 'rnd-design', zh: '通用设计工具', en: 'General design tools', capWan: 8 },
  { id: 2, category: 'rnd-design', zh: '行业仿真工具 (CAE)', en: 'Industry simulation tools (CAE)', capWan: 18 },
  { id: 3, category: 'rnd-design', zh: '通用研发管理 (PDM)', en: 'General R&D management (PDM)', capWan: 5 },
  {
    id: 4, category: 'rnd-design', zh: '行业设计工具', en: 'Industry design tools', capWan: 15,
    // 附件 #4 主要功能模块: "包含以下功能模块（5项以上）" — 以上 read as inclusive (≥ 5).
    conditions: [{ kind: 'min-function-modules', min: 5, citation: '附件 #4 主要功能模块', effective: EFFECTIVE }],
  },
  {
    id: 5, category: 'production-control', zh: '设备物联', en: 'Equipment IoT', capWan: 10,
    perDeviceYuan: 1500, remark: '每台设备1500元',
  },
  { id: 6, category: 'production-control', zh: '生产协同 I', en: 'Production collaboration I', capWan: 20 },
  { id: 7, category: 'production-control', zh: '生产协同 II', en: 'Production collaboration II', capWan: 25 },
  { id: 8, category: 'production-control', zh: '生产协同 III', en: 'Production collaboration III', capWan: 15 },
  { id: 9, category: 'production-control', zh: '设备管理', en: 'Equipment management', capWan: 5 },
  {
    id: 10, category: 'production-control', zh: '设备智能', en: 'Equipment intelligence', capWan: 25,
    remark: '实现至少一个针对具体业务问题的工业大数据模型。',
    conditions: [{ kind: 'min-big-data-models', min: 1, citation: '附件 #10 备注', effective: EFFECTIVE }],
  },
  { id: 11, category: 'production-control', zh: '精益管理', en: 'Lean management', capWan: 5 },
  { id: 12, category: 'production-control', zh: '质量管理', en: 'Quality management', capWan: 10 },
  {
    id: 13, category: 'production-control', zh: '流程工业生产过程追溯',
    en: 'Process-industry production traceability', capWan: 25,
  },
  {
    id: 14, category: 'production-control', zh: '能源管理（通用配电设备）',
    en: 'Energy management (general power-distribution equipment)', capWan: 15,
    // 附件 #14 备注: optional features are not a condition of the subsidy (SPEC rule 9).
    remark: '选项功能不作为奖补强制要求，作为合同额度参考。',
  },
  {
    id: 15, category: 'production-control', zh: '能源管理（通用生产设备）',
    en: 'Energy management (general production equipment)', capWan: 20,
  },
  {
    id: 16, category: 'production-control', zh: '能源管理（高耗能工艺设备）',
    en: 'Energy management (energy-intensive process equipment)', capWan: 25,
    remark: '选项功能不作为奖补强制要求。',
  },
  { id: 17, category: 'production-control', zh: '视觉检测', en: 'Visual inspection', capWan: 20 },
  { id: 18, category: 'business-management', zh: '供应链协同', en: 'Supply-chain collaboration', capWan: 3 },
  { id: 19, category: 'business-management', zh: '仓储管理', en: 'Warehouse management', capWan: 5 },
  { id: 20, category: 'business-management', zh: '资源计划 I', en: 'Resource planning I (ERP)', capWan: 3 },
  { id: 21, category: 'business-management', zh: '资源计划 II', en: 'Resource planning II (ERP)', capWan: 5 },
  { id: 22, category: 'business-management', zh: '数据管理 BI', en: 'Data management (BI)', capWan: 5 },
  { id: 23, category: 'business-management', zh: '客户关系管理', en: 'Customer relationship management', capWan: 3 },
  {
    id: 24, category: 'equipment-services', zh: '工业设备后市场服务',
    en: 'Industrial equipment after-market service', capWan: 25,
    perDeviceYuan: 1500, remark: '每台设备奖补1500元。',
  },
  {
    id: 25, category: 'equipment-services', zh: '工业设备租赁管理',
    en: 'Industrial equipment leasing management', capWan: 10,
    perDeviceYuan: 800, remark: '每台设备奖补800元。',
  },
  {
    id: 26, category: 'middle-platform', zh: '智造中台', en: 'Smart-manufacturing middle platform', capWan: 30,
    remark:
      '不强制要求包含全部功能模块，实现帮助工业企业建立数字化转型的智造中台，对下提供统一的设备接入平台和统一大数据管理，' +
      '对上提供丰富的标准API和可视化组件，支持灵活集成和定制开发，同时提供基础的产线数字化管理应用作验证。',
  },
  {
    id: 27, category: 'middle-platform', zh: '工厂应用集成', en: 'Factory application integration', capWan: 30,
    remark: '适用于产业集群试点示范。',
    conditions: [
      { kind: 'cluster-pilot-only', citation: '附件 #27 备注', effective: EFFECTIVE },
      // 附件 #27 主要应用场景: "具备2家以上服务商之间基于云平台的应用改造投入".
      { kind: 'min-service-providers', min: 2, citation: '附件 #27 主要应用场景', effective: EFFECTIVE },
    ],
  },
];

const catalog = rows.map((row) => ({
  id: row.id,
  category: row.category,
  name: { zh: row.zh, en: row.en },
  capFen: c(wan(row.capWan), `附件 #${row.id} 奖补上限`),
  perDeviceFen: row.perDeviceYuan === undefined ? null : c(yuan(row.perDeviceYuan), `附件 #${row.id} 备注; 附件 说明2`),
  conditions: row.conditions ?? [],
  remark: row.remark ?? null,
  citation: `附件 #${row.id}`,
  effective: EFFECTIVE,
}));

type RegionId = 'pearl-river-delta' | 'east-west-north';
const PRD: RegionId = 'pearl-river-delta';
const EWN: RegionId = 'east-west-north';

/** The 21 prefecture-level cities with GB/T 2260 codes; regions per 37号 §四 (SPEC rule 2). */
const cityRows: [string, string, string, RegionId][] = [
  ['440100', '广州', 'Guangzhou', PRD],
  ['440200', '韶关', 'Shaoguan', EWN],
  ['440300', '深圳', 'Shenzhen', PRD],
  ['440400', '珠海', 'Zhuhai', PRD],
  ['440500', '汕头', 'Shantou', EWN],
  ['440600', '佛山', 'Foshan', PRD],
  ['440700', '江门', 'Jiangmen', PRD],
  ['440800', '湛江', 'Zhanjiang', EWN],
  ['440900', '茂名', 'Maoming', EWN],
  ['441200', '肇庆', 'Zhaoqing', PRD],
  ['441300', '惠州', 'Huizhou', PRD],
  ['441400', '梅州', 'Meizhou', EWN],
  ['441500', '汕尾', 'Shanwei', EWN],
  ['441600', '河源', 'Heyuan', EWN],
  ['441700', '阳江', 'Yangjiang', EWN],
  ['441800', '清远', 'Qingyuan', EWN],
  ['441900', '东莞', 'Dongguan', PRD],
  ['442000', '中山', 'Zhongshan', PRD],
  ['445100', '潮州', 'Chaozhou', EWN],
  ['445200', '揭阳', 'Jieyang', EWN],
  ['445300', '云浮', 'Yunfu', EWN],
];

const cities = cityRows.map(([code, shortName, nameEn, region]) => {
  // 37号 §二: "面向广东省各地市工业企业（深圳市除外）" — Shenzhen is PRD but outside the scope.
  const excluded = code === '440300';
  return {
    code,
    name: `${shortName}市`,
    shortName,
    nameEn,
    region,
    eligible: !excluded,
    ineligibleReason: excluded ? '深圳市除外 — the 2020 vouchers exclude Shenzhen' : null,
    citation: excluded ? 'GB/T 2260; 37号 §二' : 'GB/T 2260; 37号 §二、§四',
    effective: EFFECTIVE,
  };
});

const groupCitation = '附件 说明4';

export const program2020Data = {
  year: 2020,
  title: {
    zh: '2020年工业企业“上云上平台”服务券',
    en: '2020 industrial enterprise "cloud and platform" service vouchers',
  },
  source: {
    document: '粤工信办函〔2020〕37号',
    issued: '2020-05-14',
    citation: '37号 落款',
    effective: EFFECTIVE,
  },
  effective: EFFECTIVE,
  categories,
  catalog,
  cities,
  rates: {
    byRegion: {
      'pearl-river-delta': c(7000, '37号 §四'),
      'east-west-north': c(8000, '37号 §四'),
    },
    // 37号 §四: "粤东西北地区和产业集群试点 … 80%" — wherever the pilot is.
    clusterPilot: c(8000, '37号 §四'),
  },
  enterpriseCapFen: c(wan(30), '附件 说明3'),
  noRepeatSameItem: c(true, '附件 说明4'),
  exclusionGroups: [
    { id: 'production-collaboration', name: { zh: '生产协同', en: 'Production collaboration' }, members: [6, 7, 8] },
    { id: 'energy-management', name: { zh: '能源管理', en: 'Energy management' }, members: [14, 15, 16] },
    { id: 'resource-planning', name: { zh: '资源计划', en: 'Resource planning' }, members: [20, 21] },
    {
      id: 'equipment',
      name: { zh: '设备物联、设备管理、设备智能', en: 'Equipment IoT / management / intelligence' },
      members: [5, 9, 10],
    },
  ].map((group) => ({ ...group, citation: groupCitation, effective: EFFECTIVE })),
  windows: {
    // 37号 §一(一) 上午10:00起至下午17:00止, Beijing time; both ends inclusive (SPEC rule 6).
    application: c({ from: '2020-05-25T10:00:00+08:00', to: '2020-09-30T17:00:00+08:00' }, '37号 §一(一)'),
    redemption: c({ from: '2020-10-08T10:00:00+08:00', to: '2021-02-08T17:00:00+08:00' }, '37号 §一(二)'),
  },
  quotas: {
    supplierByKind: {
      platform: c(wan(800), '37号 §三(二)'),
      other: c(wan(500), '37号 §三(二)'),
    },
    // 37号 §三(一): city amounts are set and adjusted by the province; none are published.
    cityDefaultFen: c(null, '37号 §三(一); SPEC 规则7 (configurable, null = unlimited)'),
    cityFen: {},
  },
  redemption: {
    deviceThreshold: c(true, '附件 说明2'),
    // SPEC rule 10: the 2019 process, which 37号 §五 keeps "in principle" without restating it.
    invoiceCoversVoucher: c(true, RULE_10),
    paymentProofCoversVoucher: c(true, RULE_10),
    paymentProofFallsBackToPaid: c(false, 'SPEC 解释 (payment proof is evidence of its own)'),
    acceptanceReportRequired: c(true, RULE_10),
    contractSignedAfterDay: c('2018-03-20', RULE_10),
    minPaidPercentOfContract: c(90, RULE_10),
  },
  interpretations: {
    rounding: c('floor' as const, 'SPEC 解释 (rounded down to the fen)'),
    enterpriseCapOverflow: c('reduce-to-headroom' as const, 'SPEC 解释; 附件 说明3'),
    quotaOverflow: c('waitlist-whole-voucher' as const, 'SPEC 解释; 37号 §三'),
    strictQueue: c(false, 'SPEC 解释; 37号 §一'),
    clusterPilotsFirst: c(true, '37号 §一 (集群试点享受服务券优先申领和结算)'),
  },
} satisfies ProgramData;
