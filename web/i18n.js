// Labels: Chinese first, English on request. One dictionary, one lookup.
const STRINGS = {
  zh: {
    title: '上云上平台服务券 · 设备核验', navContracts: '合同', navWhatIf: '规则试算', logout: '退出',
    footer: '依据 粤工信办函〔2020〕37号 · 时间为 Asia/Shanghai',
    keyPrompt: '请输入 API 密钥', keyLabel: 'API 密钥', signIn: '登录', keyInvalid: '密钥无效或已停用',
    contracts: '合同列表', enterprise: '企业', city: '城市', item: '目录项', voucher: '服务券金额',
    required: '应接入设备', active: '有效设备', status: '核验结果', signals: '风险信号',
    passed: '通过', failed: '未通过', noThreshold: '无设备要求', all: '全部',
    summaryPassing: '通过核验的合同', summaryOnline: '今日在线设备', summaryContracts: '合同数',
    filterCity: '城市', filterItem: '目录项', filterStatus: '结果',
    back: '← 返回列表', detail: '合同详情', gauge: '有效设备 / 应接入设备', policy: '核验规则',
    policyText: (p) => `${p.windowDays} 天内至少 ${p.minActiveDays} 天、每天至少 ${p.minOnlineMinutes} 分钟在线`,
    digest: '报告摘要', exportCsv: '导出 CSV', heatmap: '设备 × 日期 在线分钟', threshold: '有效日阈值',
    device: '设备', serial: '序列号', activeDays: '有效天数', onlineMinutes: '在线分钟', heartbeats: '心跳数',
    lastSeen: '最后在线', sources: '来源地址', counted: '计入',
    redemption: '兑现决定', invoice: '发票金额（元）', paid: '实付金额（元）', acceptance: '已提交验收报告', decide: '提交兑现决定',
    decision: '决定', approved: '批准', rejected: '不予兑现',
    supplierView: '我的合同', shortfall: '未达标设备', neverSeen: '从未上线', tooFewDays: (n, m) => `有效天数不足（${n}/${m}）`,
    mqttDetails: '设备接入信息', host: '地址', topic: '主题', credentials: '认证',
    notFound: '未找到该合同', whatIf: '规则试算', cityInput: '城市（名称或代码）', clusterPilot: '产业集群试点',
    addApplication: '添加申请', catalogItem: '目录项', contractAmount: '合同金额（元）', appliedAt: '申领时间',
    evaluate: '试算', total: '合计', reasons: '依据', yes: '是', no: '否', error: '错误',
  },
  en: {
    title: 'Cloud service vouchers · device verification', navContracts: 'Contracts', navWhatIf: 'Rules what-if', logout: 'Sign out',
    footer: 'Per 粤工信办函〔2020〕37号 · times are Asia/Shanghai',
    keyPrompt: 'Enter your API key', keyLabel: 'API key', signIn: 'Sign in', keyInvalid: 'Unknown or disabled key',
    contracts: 'Contracts', enterprise: 'Enterprise', city: 'City', item: 'Catalog item', voucher: 'Voucher',
    required: 'Required', active: 'Active', status: 'Verification', signals: 'Signals',
    passed: 'passed', failed: 'failed', noThreshold: 'no threshold', all: 'all',
    summaryPassing: 'Contracts passing', summaryOnline: 'Devices online today', summaryContracts: 'Contracts',
    filterCity: 'City', filterItem: 'Item', filterStatus: 'Result',
    back: '← Back to list', detail: 'Contract detail', gauge: 'Active / required devices', policy: 'Policy',
    policyText: (p) => `≥ ${p.minActiveDays} of ${p.windowDays} days with ≥ ${p.minOnlineMinutes} online minutes`,
    digest: 'Report digest', exportCsv: 'Export CSV', heatmap: 'Devices × days, online minutes', threshold: 'active-day threshold',
    device: 'Device', serial: 'Serial', activeDays: 'Active days', onlineMinutes: 'Online minutes', heartbeats: 'Heartbeats',
    lastSeen: 'Last seen', sources: 'Sources', counted: 'Counted',
    redemption: 'Redemption decision', invoice: 'Invoice (yuan)', paid: 'Paid (yuan)', acceptance: 'Acceptance report received', decide: 'Decide',
    decision: 'Decision', approved: 'approved', rejected: 'rejected',
    supplierView: 'My contracts', shortfall: 'Devices falling short', neverSeen: 'never seen', tooFewDays: (n, m) => `too few active days (${n}/${m})`,
    mqttDetails: 'Device connection', host: 'Address', topic: 'Topic', credentials: 'Credentials',
    notFound: 'Contract not found', whatIf: 'Rules what-if', cityInput: 'City (name or code)', clusterPilot: 'Cluster pilot',
    addApplication: 'Add application', catalogItem: 'Catalog item', contractAmount: 'Contract amount (yuan)', appliedAt: 'Applied at',
    evaluate: 'Evaluate', total: 'Total', reasons: 'Reasons', yes: 'yes', no: 'no', error: 'Error',
  },
};

let lang = sessionStorage.getItem('lang') === 'en' ? 'en' : 'zh';

export function t(key, ...args) {
  const value = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return typeof value === 'function' ? value(...args) : value;
}

export function currentLang() {
  return lang;
}

export function toggleLang() {
  lang = lang === 'zh' ? 'en' : 'zh';
  sessionStorage.setItem('lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}
