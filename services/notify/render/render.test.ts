import { describe, expect, it } from 'vitest';
import type { CitySummaryRow, EmployerAlertView, MonthlySeries, NotificationPayload } from '../notification.types.js';
import { buildChartSvg, svgToPng } from './chart.js';
import { cleanText, html, truncate } from './escape.js';
import { renderChartPng, renderEmail } from './index.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function months(n: number, from = '2024-11'): string[] {
  const [y0, m0] = from.split('-').map(Number) as [number, number];
  return Array.from({ length: n }, (_, i) => {
    const m = m0 - 1 + i;
    return `${y0 + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
  });
}

function series(n = 24): MonthlySeries {
  const periods = months(n);
  return {
    periods,
    insured: periods.map((_, i) => (i === 5 ? null : 1200 - Math.max(0, i - 18) * 60)),
    separated: periods.map((_, i) => (i === 6 ? null : i > 18 ? 40 + (i - 18) * 30 : 8 + (i % 4))),
  };
}

let nextId = 100;
function employer(over: Partial<EmployerAlertView> = {}): EmployerAlertView {
  nextId += 1;
  return {
    alertId: nextId,
    kind: 'layoff',
    uscc: '91510100MA61234567',
    name: `成都某某电子科技有限公司${nextId}`,
    regionCode: '510104',
    industryCode: 'C39',
    insured: 1200,
    excessSeparations: 150,
    probability: 0.873,
    rules: ['law41'],
    ruleSummaries: ['一个月内减员150人，超过20人'],
    level: 2,
    previousLevel: null,
    change: 'new',
    status: 'open',
    disposition: null,
    resolvedBy: null,
    openedPeriod: '2026-10',
    unacknowledgedDays: null,
    series: null,
    ...over,
  };
}

function payload(over: Partial<NotificationPayload> = {}): NotificationPayload {
  return {
    kind: 'immediate',
    period: '2026-10',
    runId: 42,
    cityCode: '510100',
    cityName: '成都市',
    recipient: { email: 'duty@example.gov.cn', name: '值班员' },
    employers: [],
    city: null,
    dataMissing: [],
    consoleUrl: 'https://ews.example.gov.cn',
    summary: null,
    failedDeliveries: 0,
    ...over,
  };
}

const cityAlert = {
  alertId: 9,
  level: 2 as const,
  previousLevel: 3 as const,
  change: 'escalated' as const,
  expectedJobLosses: 1800,
  observedLayoffs: 950,
  uiClaimsRatio: 1.34,
  surveyedRate: 5.6,
  reasons: ['新增失业保险申领为往年同期1.34倍'],
};

const CITY_NAMES = [
  '成都市', '自贡市', '攀枝花市', '泸州市', '德阳市', '绵阳市', '广元市', '遂宁市', '内江市', '乐山市', '南充市',
  '眉山市', '宜宾市', '广安市', '达州市', '雅安市', '巴中市', '资阳市', '阿坝州', '甘孜州', '凉山州',
];

function summaryRows(): CitySummaryRow[] {
  return CITY_NAMES.map((cityName, i) => ({
    cityCode: String(510100 + i * 100),
    cityName,
    levels: { '1': i === 0 ? 1 : 0, '2': i < 4 ? 1 : 0, '3': i < 20 ? 1 : 0, '4': 0 },
    unacknowledged: i === 0 ? 2 : 0,
    newToday: i === 1 ? 3 : 0,
    systemicLevel: i === 0 ? 2 : null,
    dataMissing: i === 2,
  }));
}

/** Lines of the text part that belong to the employer tables. */
function employerLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\d+\. 企业名称：/.test(l) || l.startsWith('   '));
}

describe('subjects', () => {
  it('uses the numerals U+2160..U+2163', () => {
    const r = renderEmail(payload({ employers: [employer({ level: 4 })], kind: 'digest' }));
    expect(r.subject).toContain('\u2163级 1家');
  });

  it('immediate: most severe level, city, number of employers', () => {
    const r = renderEmail(payload({ employers: [employer({ level: 3 }), employer({ level: 2 }), employer({ level: 3 })] }));
    expect(r.subject).toBe('【规模裁员预警·Ⅱ级】成都市：3家企业');
  });

  it('immediate: a systemic city alert without employers', () => {
    const r = renderEmail(payload({ city: cityAlert }));
    expect(r.subject).toBe('【规模裁员预警·Ⅱ级】成都市：系统性失业风险');
  });

  it('digest: counts by level, most severe first, then resolutions', () => {
    const employers = [
      ...Array.from({ length: 12 }, () => employer({ level: 4 })),
      ...Array.from({ length: 5 }, () => employer({ level: 3 })),
      employer({ level: 3, change: 'resolved', status: 'resolved', disposition: '已核实', resolvedBy: 'system' }),
      employer({ level: 2, change: 'resolved', status: 'resolved', disposition: '已核实', resolvedBy: '李四' }),
    ];
    expect(renderEmail(payload({ kind: 'digest', employers })).subject).toBe(
      '【规模裁员预警·日报】成都市 2026-10：Ⅲ级 5家、Ⅳ级 12家、解除 2家',
    );
    expect(renderEmail(payload({ kind: 'digest', employers: employers.slice(0, 17) })).subject).toBe(
      '【规模裁员预警·日报】成都市 2026-10：Ⅲ级 5家、Ⅳ级 12家',
    );
  });

  it('digest: missing data only, or nothing new', () => {
    const dataMissing = [{ cityCode: '510100', cityName: '成都市', feeds: ['social_insurance'] }];
    expect(renderEmail(payload({ kind: 'digest', dataMissing })).subject).toBe('【规模裁员预警·日报】成都市 2026-10：数据缺失');
    expect(renderEmail(payload({ kind: 'digest' })).subject).toBe('【规模裁员预警·日报】成都市 2026-10：无新增预警');
  });

  it('reminder', () => {
    const r = renderEmail(payload({ kind: 'reminder', employers: [employer({ level: 1, change: 'unacknowledged' }), employer({ level: 2 })] }));
    expect(r.subject).toBe('【规模裁员预警·Ⅰ级·未确认提醒】成都市：2家企业');
  });

  it('escalation: days are the largest unacknowledged days', () => {
    const r = renderEmail(
      payload({
        kind: 'escalation',
        employers: [employer({ level: 1, unacknowledgedDays: 2 }), employer({ level: 2, unacknowledgedDays: 3 })],
      }),
    );
    expect(r.subject).toBe('【规模裁员预警·升级】成都市：2家企业Ⅰ/Ⅱ级预警超过3天未确认');
  });

  it('summary: sums over the rows, levels present only', () => {
    const r = renderEmail(payload({ kind: 'summary', cityCode: null, cityName: '四川省', summary: summaryRows() }));
    expect(r.subject).toBe('【规模裁员预警·全省日报】2026-10：Ⅰ级 1家、Ⅱ级 4家、Ⅲ级 20家');
  });

  it('never contains CR, LF or anything of an employer name', () => {
    const evil = employer({ level: 1, name: '恶意\r\nBcc: evil@example.com' });
    for (const kind of ['immediate', 'digest', 'reminder', 'escalation', 'summary'] as const) {
      const r = renderEmail(payload({ kind, employers: [evil], cityName: '成都\r\n市', period: '2026-10\nX-Evil: 1' }));
      expect(r.subject).not.toMatch(/[\r\n]/);
      expect(r.subject).not.toContain('Bcc');
      expect(r.subject).not.toContain('恶意');
    }
  });
});

describe('escaping and injection', () => {
  it('shows a <script> name only escaped in the HTML', () => {
    const e = employer({ level: 1, name: '<script>alert(1)</script>', series: series() });
    const r = renderEmail(payload({ employers: [e] }));
    expect(r.html).not.toMatch(/<script/i);
    expect(r.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Also in the img alt attribute.
    expect(r.html).toMatch(/alt="&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    expect(r.text).toContain('企业名称：<script>alert(1)</script>');
  });

  it('keeps a name with CR/LF on one line and out of the subject', () => {
    const e = employer({ level: 2, name: '恶意\r\nBcc: evil@example.com' });
    const r = renderEmail(payload({ employers: [e] }));
    expect(r.subject).not.toMatch(/[\r\n]|Bcc/);
    expect(r.text).not.toContain('\r');
    expect(r.text.split('\n').some((l) => l.startsWith('Bcc'))).toBe(false);
    expect(r.text).toContain('1. 企业名称：恶意 Bcc: evil@example.com');
    expect(r.html).not.toContain('\r');
    expect(r.html).not.toContain('\n');
    expect(r.html).toContain('恶意  Bcc: evil@example.com');
  });

  it('escapes quotes in attributes and values', () => {
    const e = employer({ level: 1, name: `"><img src=x onerror=alert(1)>'`, uscc: 'A&B', series: series() });
    const r = renderEmail(payload({ employers: [e], consoleUrl: 'https://ews.example.gov.cn/"onmouseover="alert(1)' }));
    expect(r.html).not.toContain('<img src=x');
    expect(r.html).not.toContain('"onmouseover="');
    expect(r.html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;');
    expect(r.html).toContain('A&amp;B');
  });

  it('links only to an http(s) console', () => {
    const e = employer();
    const r = renderEmail(payload({ employers: [e], consoleUrl: 'javascript:alert(1)' }));
    expect(r.html).not.toContain('javascript:');
    expect(r.html).not.toContain('<a ');
    const ok = renderEmail(payload({ employers: [e], consoleUrl: 'https://ews.example.gov.cn/' }));
    expect(ok.html).toContain(`<a href="https://ews.example.gov.cn/alerts/${e.alertId}"`);
    expect(ok.text).toContain(`详情：https://ews.example.gov.cn/alerts/${e.alertId}`);
  });

  it('replaces control characters by spaces and escapes the five characters', () => {
    expect(cleanText('a\u0000b\u0085c\u2028d\u202ee')).toBe('a b c d e');
    expect(cleanText('𠀀ok')).toBe('𠀀ok');
    expect(cleanText('x\ud800y')).toBe('x y');
    expect(html(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
    expect(truncate('𠀀'.repeat(61), 60)).toBe(`${'𠀀'.repeat(60)}…`);
  });
});

describe('a 200-character name', () => {
  const name = `${'四川省某某超长名称'.repeat(22)}有限公司`.slice(0, 200);

  it('is full and breakable in the HTML, truncated in the text and the chart title', () => {
    expect(name).toHaveLength(200);
    const e = employer({ level: 1, name, series: series() });
    const r = renderEmail(payload({ employers: [e] }));
    expect(r.html).toContain(`>${name}</a>`);
    expect(r.html).toMatch(/word-break:break-all;[^"]*font-weight:bold;"><a href/);
    const nameLine = r.text.split('\n').find((l) => l.includes('企业名称'));
    expect(nameLine).toBe(`1. 企业名称：${name.slice(0, 60)}…`);
    const svg = buildChartSvg(e.series as MonthlySeries, name);
    expect(svg).toContain(`<title>${name.slice(0, 60)}…</title>`);
    expect(r.attachments).toHaveLength(1);
  });
});

describe('charts', () => {
  it('attaches a PNG per Ⅰ/Ⅱ employer with a series and references it by cid', () => {
    const a = employer({ level: 1, series: series() });
    const b = employer({ level: 2, series: series(10) });
    const c = employer({ level: 3, series: series() });
    const d = employer({ level: 2, series: null });
    const r = renderEmail(payload({ employers: [a, b, c, d] }));
    expect(r.attachments.map((x) => x.cid).sort()).toEqual([`chart-${a.alertId}@layoff-ews`, `chart-${b.alertId}@layoff-ews`].sort());
    for (const att of r.attachments) {
      expect([...att.content.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(att.content.readUInt32BE(16)).toBe(560); // IHDR width
      expect(att.content.readUInt32BE(20)).toBe(220); // IHDR height
      expect(att.contentType).toBe('image/png');
      expect(att.filename).toBe(`${att.cid.replace('@layoff-ews', '')}.png`);
      expect(r.html).toContain(`<img src="cid:${att.cid}" width="560" alt="`);
    }
    expect(r.html.match(/<img /g)).toHaveLength(2);
  });

  it('renders the same bytes for the same payload', () => {
    const p = payload({ employers: [employer({ level: 1, series: series() })] });
    const one = renderEmail(p);
    const two = renderEmail(p);
    expect(two.html).toBe(one.html);
    expect(two.text).toBe(one.text);
    expect(two.attachments[0]?.content.equals(one.attachments[0]?.content ?? Buffer.alloc(0))).toBe(true);
  });

  it('caps charts at 20 and says so', () => {
    const employers = Array.from({ length: 25 }, (_, i) => employer({ level: 1, excessSeparations: 1000 - i, series: series() }));
    const r = renderEmail(payload({ employers }));
    expect(r.attachments).toHaveLength(20);
    expect(new Set(r.attachments.map((a) => a.cid)).size).toBe(20);
    // The first 20 in display order (most excess separations) get the charts.
    expect(r.attachments.map((a) => a.cid)).toEqual(employers.slice(0, 20).map((e) => `chart-${e.alertId}@layoff-ews`));
    expect(r.html).toContain('图表仅显示前20家');
    expect(r.text).toContain('图表仅显示前20家');
    expect(r.html).not.toContain(`cid:chart-${employers[24]?.alertId}@`);
  });

  it('draws missing months as gaps and labels every 6 months back from the latest', () => {
    const s = series();
    const svg = buildChartSvg(s, '测试企业');
    const line = /<path d="(M[^"]+)" fill="none"/.exec(svg)?.[1] ?? '';
    expect(line.match(/M/g)).toHaveLength(2); // broken once, at the missing month
    expect(svg.match(/<circle /g)).toHaveLength(23);
    expect(svg.match(/fill-opacity="0.85"/g)).toHaveLength(23); // one bar per known month
  });

  it('escapes the title inside the SVG', () => {
    const svg = buildChartSvg(series(), '<script>&"\'');
    expect(svg).toContain('<title>&lt;script&gt;&amp;&quot;&#39;</title>');
    expect(svg).not.toContain('<script');
  });

  it('handles all-null, all-zero, short and empty series', () => {
    const nulls = { periods: months(24), insured: Array<null>(24).fill(null), separated: Array<null>(24).fill(null) };
    const zeros = { periods: months(24), insured: Array<number>(24).fill(0), separated: Array<number>(24).fill(0) };
    const short = { periods: months(3), insured: [10, null, 8], separated: [0, 1, null] };
    const empty = { periods: [], insured: [], separated: [] };
    for (const s of [nulls, zeros, short, empty]) {
      const png = renderChartPng(s, '企业');
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    }
    expect(buildChartSvg(nulls, 'x')).not.toContain('<circle');
    expect(buildChartSvg(zeros, 'x').match(/<circle /g)).toHaveLength(24);
  });

  it('keeps only the last 24 months of a longer series', () => {
    const s = { periods: months(30), insured: Array<number>(30).fill(100), separated: Array<number>(30).fill(1) };
    expect(buildChartSvg(s, 'x').match(/<circle /g)).toHaveLength(24);
  });

  it('renders without a font (the text is then missing)', () => {
    const svg = buildChartSvg(series(), '无字体', []);
    expect(svg).not.toContain('<use ');
    expect([...svgToPng(svg).subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  });
});

describe('body', () => {
  it('says what it is in a header line', () => {
    const r = renderEmail(payload({ employers: [employer()] }));
    expect(r.html).toContain('规模裁员预警 · 即时预警');
    expect(r.html).toContain('成都市 ｜ 期间 2026-10 ｜ 运行编号 42');
    expect(r.text.split('\n').slice(0, 2)).toEqual(['规模裁员预警 · 即时预警', '成都市 ｜ 期间 2026-10 ｜ 运行编号 42']);
  });

  it('shows every employer field', () => {
    const e = employer({
      level: 2,
      probability: 0.876,
      excessSeparations: 153,
      insured: 1234,
      regionCode: '510107',
      industryCode: 'C3971',
      ruleSummaries: ['规则一', '规则二'],
      change: 'escalated',
      previousLevel: 3,
    });
    const r = renderEmail(payload({ employers: [e, employer({ probability: null, ruleSummaries: [], rules: ['law41', 'unreported'] })] }));
    for (const s of ['Ⅱ级（橙色）', '升级（原Ⅲ级）', '武侯区', 'C3971', '1234', '153', '88%', '规则一<br>规则二', '—', 'law41、unreported']) {
      expect(r.html).toContain(s);
    }
    expect(r.text).toContain('参保人数：1234　超基线减员：153　模型概率：88%');
    expect(r.text).toContain('触发规则：规则一；规则二');
  });

  it('names the district and the industry beside its code, and shows a code it does not know as it is', () => {
    const known = employer({ regionCode: '510105', industryCode: 'C18' });
    const r = renderEmail(payload({ employers: [known] }));
    expect(r.html).toContain('<td style="color:#666;font-size:13px;">区县</td><td style="word-break:break-all;">青羊区</td>');
    expect(r.html).toContain('纺织服装、服饰业（C18）');
    expect(r.text).toContain('区县：青羊区　行业：纺织服装、服饰业（C18）');
    const section = renderEmail(payload({ employers: [employer({ regionCode: '510100', industryCode: 'F' })] }));
    expect(section.text).toContain('区县：成都市　行业：批发和零售业（F）');
    const unknown = renderEmail(payload({ employers: [employer({ regionCode: '999999', industryCode: 'Z99' })] }));
    expect(unknown.text).toContain('区县：999999　行业：Z99');
    expect(unknown.html).toContain('999999');
    const resolved = renderEmail(payload({ kind: 'digest', employers: [employer({ regionCode: '510105', industryCode: 'C18', change: 'resolved', status: 'resolved', resolvedBy: 'system' })] }));
    expect(resolved.text).toContain('区县：青羊区　行业：纺织服装、服饰业（C18）');
    expect(resolved.html).toContain('纺织服装、服饰业（C18）');
  });

  it('shows migrant workers and graduates among the month’s separations, with the estimated jobs at stake among them', () => {
    const e = employer({ migrant: { separated: 12, jobsAtStake: 30.4 }, graduate: { separated: 3, jobsAtStake: 0 } });
    const r = renderEmail(payload({ employers: [e] }));
    expect(r.text).toContain('农民工：减员 12 / 涉及岗位约 30　高校毕业生：减员 3 / 涉及岗位 0');
    expect(r.html).toContain('<td style="color:#666;font-size:13px;">农民工</td><td>减员 12 / 涉及岗位约 30</td>');
    expect(r.html).toContain('<td style="color:#666;font-size:13px;">高校毕业生</td><td>减员 3 / 涉及岗位 0</td>');
    // Not reported this month, but in earlier months: the estimate alone.
    const earlier = renderEmail(payload({ employers: [employer({ migrant: { separated: null, jobsAtStake: 8.6 }, graduate: { separated: null, jobsAtStake: null } })] }));
    expect(earlier.text).toContain('农民工：减员 — / 涉及岗位约 9　高校毕业生：—');
    expect(earlier.html).toContain('<td>减员 — / 涉及岗位约 9</td>');
  });

  it('renders an e-mail queued before key groups were carried with "—" in both parts', () => {
    const old = employer();
    expect('migrant' in old || 'graduate' in old).toBe(false);
    const frozen = JSON.parse(JSON.stringify(payload({ employers: [old] }))) as NotificationPayload;
    const r = renderEmail(frozen);
    expect(r.text).toContain('农民工：—　高校毕业生：—');
    expect(r.html).toContain('<td style="color:#666;font-size:13px;">农民工</td><td>—</td>');
    expect(r.html).toContain('<td style="color:#666;font-size:13px;">高校毕业生</td><td>—</td>');
  });

  it('sorts by level, then excess separations descending', () => {
    const a = employer({ level: 3, excessSeparations: 500 });
    const b = employer({ level: 1, excessSeparations: 20 });
    const c = employer({ level: 2, excessSeparations: 30 });
    const d = employer({ level: 1, excessSeparations: 80 });
    const r = renderEmail(payload({ kind: 'digest', employers: [a, b, c, d] }));
    const order = [...r.html.matchAll(/\/alerts\/(\d+)"/g)].map((m) => Number(m[1]));
    expect(order).toEqual([d, b, c, a].map((e) => e.alertId));
    const textOrder = employerLines(r.text)
      .filter((l) => l.includes('企业名称'))
      .map((l) => l.replace(/^\d+\. 企业名称：/, ''));
    expect(textOrder).toEqual([d, b, c, a].map((e) => e.name));
  });

  it('lists resolutions separately with disposition and who resolved them', () => {
    const open = employer({ level: 3 });
    const done = employer({ level: 3, change: 'resolved', status: 'resolved', disposition: '企业已补偿到位', resolvedBy: 'system' });
    const r = renderEmail(payload({ kind: 'digest', employers: [open, done] }));
    expect(r.html).toContain('已解除预警（1家）');
    expect(r.html).toContain('预警企业（1家）');
    expect(r.html).toContain('企业已补偿到位');
    expect(r.html).toContain('系统自动解除');
    expect(r.html.indexOf(`/alerts/${done.alertId}"`)).toBeGreaterThan(r.html.indexOf('已解除预警'));
    expect(r.text).toContain('处置结果：企业已补偿到位');
  });

  it('shows the missing-data notice per city with Chinese feed names', () => {
    const dataMissing = [
      { cityCode: '510100', cityName: '成都市', feeds: ['social_insurance', 'layoff_filings'] },
      { cityCode: '510300', cityName: '自贡市', feeds: ['headcount', 'regional'] },
    ];
    const r = renderEmail(payload({ kind: 'digest', dataMissing }));
    const chengdu = '数据缺失：成都市 的 社保参保、裁员备案 数据未按时报送，该市风险等级无法判定（不代表无风险）';
    const zigong = '数据缺失：自贡市 的 企业用工监测、地区失业指标 数据未按时报送，该市风险等级无法判定（不代表无风险）';
    for (const s of [chengdu, zigong]) {
      expect(r.html).toContain(s);
      expect(r.text).toContain(s);
    }
  });

  it('shows the systemic city alert', () => {
    const r = renderEmail(payload({ city: cityAlert }));
    for (const s of ['系统性失业风险', 'Ⅱ级（橙色）', '1800', '950', '1.34', '5.6%', '新增失业保险申领为往年同期1.34倍']) {
      expect(r.html).toContain(s);
      expect(r.text).toContain(s);
    }
  });

  it('gives the full next steps for Ⅰ/Ⅱ e-mails, a shorter version for digests, none for the summary', () => {
    for (const kind of ['immediate', 'reminder', 'escalation'] as const) {
      const r = renderEmail(payload({ kind, employers: [employer({ level: 1, unacknowledgedDays: 2 })] }));
      expect(r.text).toContain('（1）2小时内联系企业核实裁员情况和人数');
      expect(r.text).toContain('劳动合同法第四十一条提前30日');
      expect(r.text).toContain('（5）在系统中确认（ack）并填写处置结果');
      expect(r.html).toContain('下一步工作');
    }
    const digest = renderEmail(payload({ kind: 'digest', employers: [employer({ level: 3 })] }));
    expect(digest.text).toContain('下一步工作');
    expect(digest.text).not.toContain('以工代训');
    const summary = renderEmail(payload({ kind: 'summary', summary: summaryRows() }));
    expect(summary.text).not.toContain('下一步工作');
  });

  it('has the footer and the console link', () => {
    const r = renderEmail(payload());
    expect(r.html).toContain('本邮件由规模裁员和失业风险预警系统自动发送');
    expect(r.html).toContain('<a href="https://ews.example.gov.cn"');
    expect(r.text).toContain('本邮件由规模裁员和失业风险预警系统自动发送');
    expect(r.text).toContain('https://ews.example.gov.cn');
  });

  it('is a phone-sized page without external resources or scripts', () => {
    const r = renderEmail(payload({ employers: [employer({ level: 1, series: series() })] }));
    expect(r.html).toContain('max-width:640px');
    expect(r.html).not.toMatch(/<script|<link|<style|src="http|url\(/i);
    expect(r.html.match(/src="/g)).toHaveLength(1);
  });
});

describe('summary', () => {
  it('tables the 21 cities with counts, systemic level and missing data, and reports failed deliveries', () => {
    const rows = summaryRows();
    const r = renderEmail(payload({ kind: 'summary', cityCode: null, cityName: '四川省', summary: rows, failedDeliveries: 3 }));
    for (const name of CITY_NAMES) expect(r.html).toContain(`>${name}</td>`);
    expect(r.text.split('\n').filter((l) => /^.+(市|州)：Ⅰ级 \d/.test(l))).toHaveLength(21);
    expect(r.text).toContain('成都市：Ⅰ级 1　Ⅱ级 1　Ⅲ级 1　Ⅳ级 0　未确认 2　今日新增 0　系统性风险 Ⅱ级');
    expect(r.text).toContain('攀枝花市：Ⅰ级 0　Ⅱ级 1　Ⅲ级 1　Ⅳ级 0　未确认 0　今日新增 0　系统性风险 —　【数据缺失】');
    expect(r.text).toContain('合计：Ⅰ级 1　Ⅱ级 4　Ⅲ级 20　Ⅳ级 0　未确认 2　今日新增 3');
    expect(r.html.match(/>缺失</g)).toHaveLength(1);
    expect(r.html).toContain('有 3 封邮件投递失败，请运维处理');
    expect(r.text).toContain('有 3 封邮件投递失败，请运维处理');
    const ok = renderEmail(payload({ kind: 'summary', summary: rows, failedDeliveries: 0 }));
    expect(ok.text).not.toContain('投递失败');
  });

  it("names the night's batches that could not be loaded and its stalls, in both parts, escaped; says nothing when there were none", () => {
    const nightIssues = {
      missingBatches: [{ source: 'exchange', file: 'regional-2026-10.jsonl', feed: 'regional', period: '2026-10', status: 'pending' }],
      redrives: 1,
      stalledAt: ['score', 'score'],
    };
    const r = renderEmail(payload({ kind: 'summary', cityCode: null, cityName: '四川省', summary: summaryRows(), nightIssues }));
    for (const part of [r.text, r.html]) {
      expect(part).toContain('数据批次未能载入：exchange/regional-2026-10.jsonl');
      expect(part).toContain('本次夜间运行曾 2 次长时间无进展（评分阶段），调度程序已自动重新驱动 1 次');
    }
    const reported = renderEmail(payload({ kind: 'summary', summary: summaryRows(), nightIssues: { missingBatches: [], redrives: 0, stalledAt: ['ingest'] } }));
    expect(reported.text).toContain('本次夜间运行曾 1 次长时间无进展（数据载入阶段），请运维查看日志');
    // E-mails queued before the field existed have none.
    const old = renderEmail(payload({ kind: 'summary', summary: summaryRows() }));
    expect(old.text).not.toMatch(/未能载入|长时间无进展/);
  });
});

describe('size', () => {
  it('keeps 50 employers under the 100 kB at which webmail clips a message', () => {
    const employers = Array.from({ length: 50 }, (_, i) => employer({ level: 3, excessSeparations: i }));
    const r = renderEmail(payload({ kind: 'digest', employers }));
    expect(r.html.match(/企业名称/g)).toHaveLength(50);
    expect(Buffer.byteLength(r.html)).toBeLessThan(100_000);
  });
});

describe('a night with many alerts', () => {
  it('lists the 100 most severe, counts them all, and says how many more there are', () => {
    const employers = Array.from({ length: 150 }, (_, i) => employer({ alertId: 1000 + i, level: i === 149 ? 2 : 3, excessSeparations: i }));
    const r = renderEmail(payload({ kind: 'digest', employers }));
    expect(r.html.match(/企业名称/g)).toHaveLength(100);
    expect(r.html).toContain('预警企业（150家）');
    expect(r.html).toContain('另有 50 家未列出');
    expect(r.text).toContain('另有 50 家未列出');
    // The most severe is listed first even though it came last; the least (smallest excess) are the ones left out.
    expect(r.html.indexOf('/alerts/1149"')).toBeGreaterThan(-1);
    expect(r.html.indexOf('/alerts/1149"')).toBeLessThan(r.html.indexOf('/alerts/1148"'));
    expect(r.html).toContain('/alerts/1050"');
    expect(r.html).not.toContain('/alerts/1049"');
  });
});
