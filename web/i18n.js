// Every label of the page, Chinese first, English on request: one dictionary, one lookup.
// A missing English entry falls back to Chinese; a missing key shows the key (easy to spot).

const STRINGS = {
  zh: {
    title: '上云上平台服务券 · 设备核验',
    navContracts: '合同', navSupplier: '我的进度', navWhatIf: '规则试算', logout: '退出', langToggle: 'English',
    footer: '依据 粤工信办函〔2020〕37号 · 时间均为北京时间（Asia/Shanghai, UTC+08:00） · 金额单位：元',
    role: (role) => ({ admin: '管理员', reviewer: '审核员', supplier: '供应商' })[role] ?? role,
    loading: '加载中…',
    // sign-in
    keyPrompt: '请输入 API 密钥', keyLabel: 'API 密钥', signIn: '登录',
    keyHint: '密钥仅保存在本浏览器标签页的会话中（sessionStorage），关闭标签页即清除。',
    keyInvalid: '密钥无效或已停用', keyThrottled: '登录失败次数过多，请稍后再试',
    // errors
    error: '错误', httpStatus: (s) => `HTTP ${s}`, retry: '重试',
    notFound: '未找到该合同', notFoundHint: '合同不存在，或当前密钥无权查看。',
    // contracts table
    contracts: '合同列表', supplierContracts: '我的合同', enterprise: '企业', supplier: '供应商', city: '城市',
    item: '目录项', voucher: '服务券金额', required: '应接入设备', active: '有效设备', status: '核验结果',
    signals: '风险信号', passed: '通过', failed: '未通过', noThreshold: '无设备要求', all: '全部',
    allocation: (s) => ({ admitted: '已入选', waitlisted: '候补', rejected: '未获批' })[s] ?? s,
    summaryContracts: '合同数', summaryPassing: '通过核验的合同', summaryOnline: '今日在线设备',
    summaryRegistered: '已注册设备', summaryVoucher: '所列合同服务券合计',
    filterCity: '城市', filterItem: '目录项', filterStatus: '核验结果', search: '搜索企业', shown: (n, m) => `显示 ${n} / ${m} 份合同`,
    noRows: '没有符合条件的合同', verifiedAt: (at) => `核验时间：${at}`, sortBy: (l) => `按“${l}”排序`,
    // detail
    back: '← 返回列表', detail: '合同详情', contractId: '合同编号', contractAmount: '合同金额', appliedAt: '申领时间',
    gauge: '有效设备 / 应接入设备', registered: '已注册', shortBy: (n) => `还差 ${n} 台`, enough: '已达标',
    policy: '核验规则（当前适用）', policyWindow: '核验窗口', policyWindowDays: '窗口天数', policyMinActiveDays: '最少有效天数',
    policyMinOnlineMinutes: '有效日最少在线分钟', policyAt: '核验时间', policyApply: '按此规则重新核验', policyReset: '恢复默认规则',
    policyText: (p) => `${p.windowDays} 天窗口内至少 ${p.minActiveDays} 个有效日；有效日 = 当天至少 ${p.minOnlineMinutes} 个不同分钟在线`,
    policyOverridden: '（试算规则，非默认）',
    digest: '报告摘要（SHA-256）', exportCsv: '导出 CSV', exporting: '正在导出…',
    signature: '报告签名', signingKey: '密钥', downloadSigned: '下载签名报告（JWS）',
    signature_valid: '有效（Ed25519）', signature_invalid: '无效', 'signature_unknown-key': '未知密钥', signature_unsupported: '本浏览器无法验证，请用 npx gateway verify-report',
    signedSameDigest: '签名报告与上方摘要一致', signedOtherDigest: (d) => `签名报告的摘要不同：${d}`,
    treeHead: '审计日志树头', treeHeadText: (n, at) => `${n} 条，签于 ${at}，根哈希`,
    auditIntegrity: '审计日志完整性', audit_ok: '一致', audit_tampered: '已被篡改！', audit_unchecked: '尚未检查', audit_unknown: '未知',
    auditTampered: '审计日志与其已签名的默克尔树不一致：数据库中的记录被改动过。',
    heatmap: '设备 × 日期：每日在线分钟', threshold: (m) => `有效日阈值：≥ ${m} 分钟`,
    legendNone: '无数据', legendBelow: (m) => `< ${m} 分钟`, legendActive: (m) => `≥ ${m} 分钟（有效日）`, legendLong: '≥ 8 小时',
    heatCell: (serial, day, minutes) => `${serial} · ${day}：${minutes} 分钟`, activeDaysShort: '有效日',
    devices: '设备明细', device: '设备', serial: '序列号', model: '型号', deviceId: '设备 ID', activeDays: '有效天数',
    onlineMinutes: '在线分钟', heartbeats: '心跳数', firstSeen: '首次上线', lastSeen: '最后上线', sources: '来源地址',
    counted: '计入', isActive: '有效', enabled: '启用', disabled: '已停用', signalSummary: '风险信号汇总', noSignals: '无风险信号',
    yes: '是', no: '否',
    // redemption
    redemption: '兑现决定', redemptionHint: '依据发票、付款凭证、验收报告与有效设备数作出决定，并记入审计日志。',
    redemptionAt: '兑现时间', invoice: '发票金额（元）', paid: '实付金额（元）', acceptance: '已提交验收报告', decide: '提交兑现决定',
    decision: '决定', approved: '批准', rejected: '不予兑现', reduced: '核减', payable: '应兑付', invalidAmount: '请输入金额（元，最多两位小数）',
    reasons: '依据', reportDigest: '所依据的核验报告',
    // supplier
    supplierView: '我的进度', supplierIntro: '本供应商的合同、尚未达标的设备及原因，以及设备接入信息。',
    shortfall: '未达标设备', noShortfall: '所有设备均已计入', needMore: (n) => `还需 ${n} 台有效设备`,
    neverSeen: '从未上线（未收到任何心跳）', tooFewDays: (n, m) => `有效天数不足：${n} / ${m} 天，还差 ${m - n} 天`,
    flagged: (codes) => `有效但暂不计入：${codes}（待审核）`, disabledDevice: '设备已停用',
    lastSeenAt: (at) => `最后上线 ${at}`,
    mqttDetails: '设备接入信息（MQTT）', pickDevice: '选择设备', host: '服务器地址', tlsHost: 'TLS 地址', topic: '心跳主题',
    clientId: '客户端 ID / 用户名', password: '密码', passwordValue: '设备令牌（注册时发放一次，网关不保存明文）',
    qos: '服务质量', qosValue: 'QoS 1（收到 PUBACK 即表示已持久保存）', payload: '消息示例', example: '命令行示例',
    noDevices: '该合同尚未注册设备',
    // what-if
    whatIf: '规则试算', whatIfIntro: '输入企业及其申请，按 2020 年规则计算服务券金额，并列出依据条款。不会保存任何数据。',
    enterpriseSection: '企业', cityInput: '城市（名称或行政区划代码）', clusterPilot: '特色产业集群数字化转型试点',
    priorVouchers: '以往已获服务券', addPrior: '添加以往服务券', year: '年度', priorAmount: '服务券金额（元）', priorPaid: '已兑现（获得财政补贴）',
    applications: '申请', addApplication: '添加申请', remove: '删除', catalogItem: '目录项', contractAmountYuan: '合同金额（元）',
    serviceProviders: '服务商数量', bigDataModels: '工业大数据模型数', functionModules: '功能模块数', optional: '选填',
    cap: (v) => `上限 ${v}`, perDevice: (v) => `每台设备 ${v}`,
    evaluate: '试算', total: '服务券合计', eligible: '符合申领条件', ineligible: '不符合申领条件',
    region: (r) => ({ 'pearl-river-delta': '珠三角', 'east-west-north': '粤东西北' })[r] ?? r ?? '—',
    rate: '补贴比例', requiredDevicesN: (n) => `须接入 ${n} 台有效设备`, explanation: '计算过程',
    effect: (e) => ({ info: '说明', reduce: '核减', reject: '否决', waitlist: '候补' })[e] ?? e,
    // signals
    signal: (code) => ({
      DUPLICATE_SERIAL: '序列号在多个合同重复', CLOCK_SKEW: '设备时钟偏差', SEQ_REPLAY: '序号重放/重复',
      LOCKSTEP: '多台设备同步心跳（疑似一机冒充多台）', SESSION_TAKEOVER: '会话频繁被接管', NEVER_SEEN: '从未上线', SILENT: '近期无心跳',
    })[code] ?? code,
    severity: (s) => ({ high: '高', medium: '中', low: '低' })[s] ?? s,
  },
  en: {
    title: 'Cloud-platform service vouchers · device verification',
    navContracts: 'Contracts', navSupplier: 'My progress', navWhatIf: 'Rules what-if', logout: 'Sign out', langToggle: '中文',
    footer: 'Per 粤工信办函〔2020〕37号 · all times are China Standard Time (Asia/Shanghai, UTC+08:00) · amounts in yuan',
    role: (role) => role,
    loading: 'Loading…',
    keyPrompt: 'Enter your API key', keyLabel: 'API key', signIn: 'Sign in',
    keyHint: 'The key is kept only in this tab’s session storage and is gone when the tab closes.',
    keyInvalid: 'Unknown or disabled key', keyThrottled: 'Too many failed sign-ins; try again later',
    error: 'Error', httpStatus: (s) => `HTTP ${s}`, retry: 'Retry',
    notFound: 'Contract not found', notFoundHint: 'The contract does not exist, or this key may not see it.',
    contracts: 'Contracts', supplierContracts: 'My contracts', enterprise: 'Enterprise', supplier: 'Supplier', city: 'City',
    item: 'Catalog item', voucher: 'Voucher', required: 'Required', active: 'Active', status: 'Verification',
    signals: 'Signals', passed: 'passed', failed: 'failed', noThreshold: 'no threshold', all: 'all',
    allocation: (s) => ({ admitted: 'admitted', waitlisted: 'waitlisted', rejected: 'not admitted' })[s] ?? s,
    summaryContracts: 'Contracts', summaryPassing: 'Contracts passing', summaryOnline: 'Devices online today',
    summaryRegistered: 'Registered devices', summaryVoucher: 'Vouchers listed',
    filterCity: 'City', filterItem: 'Item', filterStatus: 'Verification', search: 'Search enterprise', shown: (n, m) => `${n} of ${m} contracts`,
    noRows: 'No contracts match', verifiedAt: (at) => `verified at ${at}`, sortBy: (l) => `Sort by ${l}`,
    back: '← Back to list', detail: 'Contract', contractId: 'Contract id', contractAmount: 'Contract amount', appliedAt: 'Applied at',
    gauge: 'Active / required devices', registered: 'registered', shortBy: (n) => `${n} short`, enough: 'threshold met',
    policy: 'Policy in force', policyWindow: 'Window', policyWindowDays: 'Window days', policyMinActiveDays: 'Min. active days',
    policyMinOnlineMinutes: 'Min. online minutes per active day', policyAt: 'Verified at', policyApply: 'Re-verify with this policy', policyReset: 'Default policy',
    policyText: (p) => `≥ ${p.minActiveDays} active days in a ${p.windowDays}-day window; an active day has ≥ ${p.minOnlineMinutes} distinct online minutes`,
    policyOverridden: '(what-if policy, not the default)',
    digest: 'Report digest (SHA-256)', exportCsv: 'Export CSV', exporting: 'Exporting…',
    signature: 'Report signature', signingKey: 'key', downloadSigned: 'Download signed report (JWS)',
    signature_valid: 'valid (Ed25519)', signature_invalid: 'INVALID', 'signature_unknown-key': 'unknown key', signature_unsupported: 'cannot be checked in this browser; use npx gateway verify-report',
    signedSameDigest: 'the signed report has the digest shown above', signedOtherDigest: (d) => `the signed report has another digest: ${d}`,
    treeHead: 'Audit log tree head', treeHeadText: (n, at) => `${n} entries, signed ${at}, root`,
    auditIntegrity: 'Audit log integrity', audit_ok: 'consistent', audit_tampered: 'TAMPERED WITH', audit_unchecked: 'not checked yet', audit_unknown: 'unknown',
    auditTampered: 'The audit log no longer matches its signed Merkle tree: rows in the database were changed.',
    heatmap: 'Devices × days: online minutes per day', threshold: (m) => `active-day threshold: ≥ ${m} min`,
    legendNone: 'no data', legendBelow: (m) => `< ${m} min`, legendActive: (m) => `≥ ${m} min (active day)`, legendLong: '≥ 8 h',
    heatCell: (serial, day, minutes) => `${serial} · ${day}: ${minutes} min`, activeDaysShort: 'active',
    devices: 'Devices', device: 'Device', serial: 'Serial', model: 'Model', deviceId: 'Device id', activeDays: 'Active days',
    onlineMinutes: 'Online minutes', heartbeats: 'Heartbeats', firstSeen: 'First seen', lastSeen: 'Last seen', sources: 'Sources',
    counted: 'Counted', isActive: 'Active', enabled: 'enabled', disabled: 'disabled', signalSummary: 'Signals', noSignals: 'no signals',
    yes: 'yes', no: 'no',
    redemption: 'Redemption decision', redemptionHint: 'Decides on invoice, payment proof, acceptance report and active devices; recorded in the audit log.',
    redemptionAt: 'Redemption time', invoice: 'Invoice (yuan)', paid: 'Paid (yuan)', acceptance: 'Acceptance report received', decide: 'Decide',
    decision: 'Decision', approved: 'approved', rejected: 'rejected', reduced: 'reduced', payable: 'payable', invalidAmount: 'Enter an amount in yuan (at most 2 decimals)',
    reasons: 'Reasons', reportDigest: 'Verification report used',
    supplierView: 'My progress', supplierIntro: 'Your contracts, the devices that still fall short and why, and how devices connect.',
    shortfall: 'Devices falling short', noShortfall: 'every device counts', needMore: (n) => `${n} more active device(s) needed`,
    neverSeen: 'never seen (no heartbeat received)', tooFewDays: (n, m) => `too few active days: ${n} / ${m}, ${m - n} to go`,
    flagged: (codes) => `active but not counted: ${codes} (awaiting review)`, disabledDevice: 'device disabled',
    lastSeenAt: (at) => `last seen ${at}`,
    mqttDetails: 'Device connection (MQTT)', pickDevice: 'Device', host: 'Server', tlsHost: 'TLS server', topic: 'Heartbeat topic',
    clientId: 'Client id / username', password: 'Password', passwordValue: 'the device token (issued once at registration; the gateway keeps only its hash)',
    qos: 'QoS', qosValue: 'QoS 1 (a PUBACK means the heartbeat is durably stored)', payload: 'Payload example', example: 'Command-line example',
    noDevices: 'No devices registered for this contract',
    whatIf: 'Rules what-if', whatIfIntro: 'Enter an enterprise and its applications to see the 2020 voucher amounts with the clauses behind them. Nothing is saved.',
    enterpriseSection: 'Enterprise', cityInput: 'City (name or GB/T 2260 code)', clusterPilot: 'Industrial-cluster digitalisation pilot',
    priorVouchers: 'Earlier vouchers', addPrior: 'Add earlier voucher', year: 'Year', priorAmount: 'Voucher amount (yuan)', priorPaid: 'Paid out',
    applications: 'Applications', addApplication: 'Add application', remove: 'Remove', catalogItem: 'Catalog item', contractAmountYuan: 'Contract amount (yuan)',
    serviceProviders: 'Service providers', bigDataModels: 'Big-data models', functionModules: 'Function modules', optional: 'optional',
    cap: (v) => `cap ${v}`, perDevice: (v) => `${v} per device`,
    evaluate: 'Evaluate', total: 'Total vouchers', eligible: 'eligible', ineligible: 'not eligible',
    region: (r) => ({ 'pearl-river-delta': 'Pearl River Delta', 'east-west-north': 'East, west and north' })[r] ?? r ?? '—',
    rate: 'Rate', requiredDevicesN: (n) => `${n} active device(s) required`, explanation: 'How it was computed',
    effect: (e) => e,
    signal: (code) => ({
      DUPLICATE_SERIAL: 'serial registered under several contracts', CLOCK_SKEW: 'device clock skew', SEQ_REPLAY: 'replayed sequence numbers',
      LOCKSTEP: 'lock-step heartbeats (one source posing as many devices)', SESSION_TAKEOVER: 'frequent session take-overs', NEVER_SEEN: 'never seen', SILENT: 'silent lately',
    })[code] ?? code,
    severity: (s) => s,
  },
};

const LANG_KEY = 'lang';
let lang = sessionStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';

/** The label for `key` in the current language; function entries are called with `args`. */
export function t(key, ...args) {
  const value = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return typeof value === 'function' ? value(...args) : value;
}

export function currentLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  sessionStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export function toggleLang() {
  setLang(lang === 'zh' ? 'en' : 'zh');
}

/** A {zh, en} pair from the API (catalog and category names) in the current language. */
export function pick(bilingual) {
  if (bilingual === null || bilingual === undefined) return '';
  if (typeof bilingual === 'string') return bilingual;
  return bilingual[lang] ?? bilingual.zh ?? '';
}

// For tests and audits: both languages must define the same keys.
export const LANGUAGES = Object.freeze(Object.keys(STRINGS));
export function keysOf(language) {
  return Object.keys(STRINGS[language] ?? {});
}
