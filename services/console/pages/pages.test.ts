import { describe, expect, it } from 'vitest';
import type { Principal } from '../../domain/access.js';
import type { AlertItem } from '../console.service.js';
import { alertPage, employerChartData, type AlertDetail } from './alert.page.js';
import { alertsPage, type AlertList } from './alerts.page.js';
import { readCityEvidence, readEmployerEvidence } from './evidence.js';
import { districtText, hours, industryText, levelBadge, query } from './format.js';
import { navItems, type Assets } from './layout.js';

const ASSETS: Assets = { css: '/static/console.css?v=1', js: '/static/console.js?v=1', echarts: '/static/echarts.min.js?v=1' };
const HOSTILE = '某<b id="x">公司</b><img src=x onerror=alert(1)>';
const who = (role: Principal['role'], cityCode: string | null = null): Principal => ({ accountId: 1, email: 'li.na@cd.example.cn', role, cityCode, via: 'session' });

function item(over: Partial<AlertItem> = {}): AlertItem {
  return {
    id: 7, cityCode: '510100', cityName: '成都市', level: 2, peakLevel: 2, status: 'open', kind: 'layoff', subjectType: 'employer', subject: '91510100MA61234567',
    name: HOSTILE, modelOnly: false, firstPeriod: '2026-09', lastPeriod: '2026-10', openedAt: new Date('2026-11-03T02:00:00Z'), acknowledgedAt: null,
    acknowledgedBy: null, resolvedAt: null, resolvedBy: null, disposition: null, reopenCount: 0, updatedAt: new Date('2026-11-03T02:00:00Z'), ...over,
  };
}

function detail(over: Partial<AlertItem> = {}): AlertDetail {
  return {
    alert: {
      ...item(over), comment: null, escalatedAt: null, firstNotifiedAt: null, lastRemindedAt: null,
      evidence: { uscc: '91510100MA61234567', name: HOSTILE, regionCode: '510105', industryCode: 'C18', insured: 300, excessSeparations: 45, probability: 0.61, rules: ['law41'], ruleSummaries: ['本月减员 50 人，较自身基线多 45 人'], migrant: { separated: 12, jobsAtStake: 30 }, graduate: { separated: null, jobsAtStake: null }, bucket: 7, period: '2026-10' },
    },
    history: [{ at: new Date('2026-11-03T02:00:00Z'), action: 'raised', fromStatus: null, toStatus: 'open', fromLevel: null, toLevel: 2, period: '2026-10', runId: 1, actor: 'system', disposition: null, comment: null }],
    emails: [],
    employer: {
      uscc: '91510100MA61234567', name: HOSTILE, cityCode: '510100', cityName: '成都市', regionCode: '510105', industryCode: 'C18', from: '2026-08', to: '2026-10',
      months: [{ period: '2026-08', insured: 300, separated: 5 }, { period: '2026-10', insured: 250, separated: 50, separatedMigrant: 12, level: 2, probability: 0.61, rules: ['law41'] }],
      filings: [],
    },
    explanation: {
      reasons: ['近两月减员达到劳动合同法第41条规模，且涉及岗位 50 个以上'],
      rules: [{ rule: 'law41', kind: 'layoff', summary: '本月减员 50 人，较自身基线多 45 人', window: { from: '2026-09', to: '2026-10' }, numbers: { separated: 50 }, threshold: '减员 20 人以上或占职工 10% 以上', source: '劳动合同法第四十一条' }],
      model: { version: 'v3', probability: 0.61, drivers: [{ feature: 'arrears_months', value: 4, z: 3.2 }] },
    },
    city: null,
  };
}

describe('the alert page', () => {
  it('shows an employer name with markup as text, in the title, the heading and the chart data', () => {
    const page = alertPage(ASSETS, { principal: who('province'), csrfToken: 'tok' }, detail()).text;
    expect(page).not.toContain('<b id="x">');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('某&lt;b id=&quot;x&quot;&gt;公司&lt;/b&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('<title>预警 #7 · 规模裁员预警</title>');
  });

  it('names the rules, the district and the industry beside their codes', () => {
    const page = alertPage(ASSETS, { principal: who('city', '510100'), csrfToken: 'tok' }, detail()).text;
    expect(page).toContain('达到法定裁员规模（劳动合同法第41条）');
    expect(page).toContain('本月减员 50 人，较自身基线多 45 人');
    expect(page).toContain('青羊区（510105）');
    expect(page).toContain('纺织服装、服饰业（C18）');
    expect(page).toContain('减员 12 · 涉及岗位 约 30');
  });

  it('gives the reasons for the level, each rule with its threshold and source, and the model drivers', () => {
    const page = alertPage(ASSETS, { principal: who('viewer'), csrfToken: 'tok' }, detail()).text;
    expect(page).toContain('近两月减员达到劳动合同法第41条规模');
    expect(page).toContain('阈值：减员 20 人以上或占职工 10% 以上；依据：劳动合同法第四十一条');
    expect(page).toContain('<span class="code">arrears_months</span> = 4（高于参照 3.2 个标准差）');
    const without = alertPage(ASSETS, { principal: who('viewer'), csrfToken: 'tok' }, { ...detail(), explanation: null }).text;
    expect(without).not.toContain('定级理由');
    expect(without).not.toContain('模型依据');
  });

  it('offers the forms, with the session CSRF token, only to those who may act, and only while the alert is open', () => {
    const forms = (p: Principal, over: Partial<AlertItem> = {}) => {
      const page = alertPage(ASSETS, { principal: p, csrfToken: 'tok-123' }, detail(over)).text;
      return { ack: page.includes('id="ack-form"'), resolve: page.includes('id="resolve-form"'), csrf: (page.match(/name="_csrf" value="tok-123"/g) ?? []).length };
    };
    // The logout form carries the token too.
    expect(forms(who('city', '510100'))).toEqual({ ack: true, resolve: true, csrf: 3 });
    expect(forms(who('province'), { status: 'acknowledged' })).toEqual({ ack: false, resolve: true, csrf: 2 });
    expect(forms(who('province'), { status: 'resolved' })).toEqual({ ack: false, resolve: false, csrf: 1 });
    expect(forms(who('province'), { status: 'pending' })).toEqual({ ack: false, resolve: false, csrf: 1 });
    expect(forms(who('viewer'))).toEqual({ ack: false, resolve: false, csrf: 1 });
  });

  it('charts every month of the range, with gaps where nothing was reported', () => {
    const data = employerChartData(detail().employer!);
    expect(data.periods).toEqual(['2026-08', '2026-09', '2026-10']);
    expect(data.insured).toEqual([300, null, 250]);
    expect(data.migrant).toEqual([null, null, 12]);
    expect(data.level).toEqual([null, null, 2]);
  });
});

describe('the alert list', () => {
  it('links the export to the CSV with the same filters, and pages on', () => {
    const list: AlertList = { items: [item()], total: 120, page: 2, pageSize: 50 };
    const page = alertsPage(ASSETS, { principal: who('province'), csrfToken: 't' }, { level: ['1', '2'], status: ['active'], q: '<x>' }, list).text;
    expect(page).toContain('href="/api/v1/alerts.csv?level=1%2C2&amp;status=active&amp;q=%3Cx%3E"');
    expect(page).toContain('第 2 / 3 页（共 120 条）');
    expect(page).toContain('href="/alerts?level=1%2C2&amp;status=active&amp;q=%3Cx%3E&amp;page=3"');
    expect(page).toContain('value="&lt;x&gt;"');
    // A viewer may export; only the city's own select is left out for a city official.
    expect(alertsPage(ASSETS, { principal: who('city', '510100') }, {}, list).text).not.toContain('name="city"');
  });
});

describe('evidence as stored', () => {
  it('pairs each rule with its sentence, and drops what is not well-formed', () => {
    expect(readEmployerEvidence(detail().alert.evidence).rules).toEqual([{ rule: 'law41', summary: '本月减员 50 人，较自身基线多 45 人' }]);
    expect(readEmployerEvidence({ rules: ['a', 'b'], ruleSummaries: ['only one'], insured: 'many', migrant: 3 })).toMatchObject({
      rules: [{ rule: 'a', summary: '' }, { rule: 'b', summary: '' }], insured: null, migrant: null, probability: null,
    });
    expect(readEmployerEvidence(null).rules).toEqual([]);
    expect(readCityEvidence({ reasons: ['失业保险新增申领较往年同期：1.6（触发 Ⅱ级）', 3], surveyedRate: 5.8 })).toMatchObject({ reasons: ['失业保险新增申领较往年同期：1.6（触发 Ⅱ级）'], surveyedRate: 5.8, expectedJobLosses: null });
  });
});

describe('formats and navigation', () => {
  it('formats levels, times, places and queries', () => {
    expect(levelBadge(2).text).toBe('<span class="lv lv2">Ⅱ级 橙</span>');
    expect(levelBadge(null, '无').text).toBe('<span class="lv lv0">无</span>');
    expect([hours(0.2), hours(2.5), hours(14.2), hours(null)]).toEqual(['12 分钟', '2.5 小时', '14 小时', '—']);
    expect([districtText('510105'), districtText('990000'), industryText('C'), industryText('Z99')]).toEqual(['青羊区（510105）', '990000', '制造业（C）', 'Z99']);
    expect(query({ a: '', b: ['1', '2'], c: undefined, d: 'x y', e: [] })).toBe('?b=1%2C2&d=x+y');
  });

  it('gives each role the pages it may open', () => {
    const labels = (p: Principal) => navItems(p).map((i) => i.href);
    expect(labels(who('province'))).toEqual(['/', '/alerts', '/ops', '/audit', '/admin/queues']);
    expect(labels(who('city', '510300'))).toEqual(['/cities/510300', '/alerts']);
    expect(labels(who('viewer'))).toEqual(['/', '/alerts', '/ops']);
    expect(labels(who('ops'))).toEqual(['/', '/ops', '/admin/queues']);
  });
});
