/*
 * The console's only script (the pages' CSP allows scripts from this server
 * alone, none inline). Charts: every element with data-chart="<kind>" reads
 * its figures from the JSON block named by data-source and draws them with
 * ECharts (/static/echarts.min.js). Forms: the disposition 其他 needs a comment.
 */
(function () {
  'use strict';

  var COLOURS = { 1: '#c62828', 2: '#ef6c00', 3: '#f2c200', 4: '#1a56b0' };
  var NUMERAL = { 1: 'Ⅰ', 2: 'Ⅱ', 3: 'Ⅲ', 4: 'Ⅳ' };
  var charts = [];

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function people(v) {
    return v === null || v === undefined || v === '-' ? '—' : String(Math.round(v * 10) / 10);
  }

  function pct(v) {
    return v === null || v === undefined || v === '-' ? '—' : Math.round(v * 100) + '%';
  }

  var base = {
    animationDuration: 300,
    textStyle: { fontFamily: '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif' },
    tooltip: { trigger: 'axis', confine: true, axisPointer: { type: 'shadow' } },
    legend: { type: 'scroll', top: 0 },
  };

  function extend(target, source) {
    for (var k in source) if (Object.prototype.hasOwnProperty.call(source, k)) target[k] = source[k];
    return target;
  }

  /** An employer's 24 months: staff, separations with the key groups and the model's probability, then the level. */
  function employer(d) {
    var left = 52;
    var right = 52;
    var levels = [];
    d.level.forEach(function (l, i) {
      if (l !== null) levels.push({ value: [d.periods[i], NUMERAL[l]], itemStyle: { color: COLOURS[l] } });
    });
    var x = function (grid, labels) {
      return { type: 'category', gridIndex: grid, data: d.periods, axisLabel: { show: labels }, axisTick: { alignWithLabel: true } };
    };
    return extend(extend({}, base), {
      axisPointer: { link: [{ xAxisIndex: 'all' }] },
      grid: [
        { left: left, right: right, top: 60, height: '16%' },
        { left: left, right: right, top: '38%', height: '27%' },
        { left: left, right: right, top: '74%', height: '10%' },
      ],
      xAxis: [x(0, false), x(1, false), x(2, true)],
      yAxis: [
        { type: 'value', gridIndex: 0, name: '参保人数', nameTextStyle: { align: 'left', fontSize: 11 }, nameGap: 8, min: 0, splitNumber: 2 },
        { type: 'value', gridIndex: 1, name: '减员（人）', nameTextStyle: { align: 'left', fontSize: 11 }, nameGap: 8, minInterval: 1 },
        { type: 'value', gridIndex: 1, name: '裁员概率', nameTextStyle: { align: 'right', fontSize: 11 }, nameGap: 8, min: 0, max: 1, position: 'right', splitLine: { show: false }, axisLabel: { formatter: pct } },
        { type: 'category', gridIndex: 2, data: ['Ⅳ', 'Ⅲ', 'Ⅱ', 'Ⅰ'], name: '等级', nameTextStyle: { align: 'left', fontSize: 11 }, nameGap: 6, axisLabel: { interval: 0, fontSize: 10 }, axisTick: { show: false } },
      ],
      dataZoom: [
        { type: 'inside', xAxisIndex: [0, 1, 2] },
        { type: 'slider', xAxisIndex: [0, 1, 2], height: 18, bottom: 4 },
      ],
      series: [
        { name: '参保人数', type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: d.insured, symbolSize: 5, itemStyle: { color: '#37474f' }, tooltip: { valueFormatter: people } },
        { name: '减员', type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: d.separated, itemStyle: { color: '#90a4ae' }, tooltip: { valueFormatter: people } },
        { name: '其中农民工', type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: d.migrant, itemStyle: { color: '#8e24aa' }, tooltip: { valueFormatter: people } },
        { name: '其中高校毕业生', type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: d.graduate, itemStyle: { color: '#00897b' }, tooltip: { valueFormatter: people } },
        {
          name: '裁员概率（3个月内）', type: 'line', xAxisIndex: 1, yAxisIndex: 2, data: d.probability, connectNulls: true, symbolSize: 4,
          itemStyle: { color: '#e53935' }, lineStyle: { type: 'dashed' }, tooltip: { valueFormatter: pct },
        },
        {
          name: '预警等级', type: 'scatter', xAxisIndex: 2, yAxisIndex: 3, data: levels, symbolSize: 12, itemStyle: { color: '#5f6b7a' },
          tooltip: { valueFormatter: function (v) { return Array.isArray(v) ? v[1] + '级' : v; } },
        },
      ],
    });
  }

  var SEVERITY = { 4: 'Ⅰ级', 3: 'Ⅱ级', 2: 'Ⅲ级', 1: 'Ⅳ级' };

  /** A city's systemic level by month: the taller the bar, the more severe; and the expected job losses. */
  function cityLevel(d) {
    var bars = d.level.map(function (l, i) {
      if (d.dataMissing[i]) return { value: 0.4, itemStyle: { color: '#6d4c41' } };
      if (l === null) return { value: 0.12, itemStyle: { color: '#cfd6df' } };
      return { value: 5 - l, itemStyle: { color: COLOURS[l] } };
    });
    return extend(extend({}, base), {
      grid: { left: 52, right: 56, top: 46, bottom: 52 },
      xAxis: { type: 'category', data: d.periods, axisTick: { alignWithLabel: true } },
      yAxis: [
        { type: 'value', name: '等级', min: 0, max: 4, interval: 1, axisLabel: { formatter: function (v) { return SEVERITY[v] || ''; } } },
        { type: 'value', name: '预计失业（人）', position: 'right', splitLine: { show: false } },
      ],
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 4 }],
      series: [
        {
          name: '系统性风险等级', type: 'bar', data: bars, barMaxWidth: 28, itemStyle: { color: '#9aa5b1' },
          tooltip: { valueFormatter: function (v) { return v === 0.4 ? '数据缺失' : v === 0.12 ? '无' : SEVERITY[v]; } },
        },
        { name: '预计失业人数', type: 'line', yAxisIndex: 1, data: d.expectedJobLosses, symbolSize: 4, itemStyle: { color: '#37474f' }, tooltip: { valueFormatter: people } },
      ],
    });
  }

  /**
   * Key groups by month: all separations beside those of migrant workers and graduates, side by side, not stacked:
   * the two groups count only the employers that reported the split, so "all minus the groups" would count the
   * silent employers' leavers as neither. Jobs at stake as lines.
   */
  function cityGroups(d) {
    var g = d.groups;
    return extend(extend({}, base), {
      grid: { left: 52, right: 56, top: 58, bottom: 52 },
      legend: { type: 'scroll', top: 0 },
      xAxis: { type: 'category', data: g.periods, axisTick: { alignWithLabel: true } },
      yAxis: [
        { type: 'value', name: '减员（人）', minInterval: 1, nameTextStyle: { align: 'left', fontSize: 11 } },
        { type: 'value', name: '涉及岗位', position: 'right', splitLine: { show: false }, nameTextStyle: { align: 'right', fontSize: 11 } },
      ],
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 4 }],
      series: [
        { name: '减员（全部企业）', type: 'bar', data: g.separated, itemStyle: { color: '#b0bec5' }, tooltip: { valueFormatter: people } },
        { name: '其中农民工（报送企业）', type: 'bar', data: g.migrant, itemStyle: { color: '#8e24aa' }, tooltip: { valueFormatter: people } },
        { name: '其中高校毕业生（报送企业）', type: 'bar', data: g.graduate, itemStyle: { color: '#00897b' }, tooltip: { valueFormatter: people } },
        { name: '涉及岗位', type: 'line', yAxisIndex: 1, data: g.jobsAtStake, itemStyle: { color: '#c62828' }, symbolSize: 4, tooltip: { valueFormatter: people } },
        { name: '涉及岗位·农民工（估）', type: 'line', yAxisIndex: 1, data: g.jobsAtStakeMigrant, itemStyle: { color: '#8e24aa' }, lineStyle: { type: 'dashed' }, symbolSize: 3, tooltip: { valueFormatter: people } },
        { name: '涉及岗位·高校毕业生（估）', type: 'line', yAxisIndex: 1, data: g.jobsAtStakeGraduate, itemStyle: { color: '#00897b' }, lineStyle: { type: 'dashed' }, symbolSize: 3, tooltip: { valueFormatter: people } },
      ],
    });
  }

  var BUILDERS = { employer: employer, 'city-level': cityLevel, 'city-groups': cityGroups };

  function drawCharts() {
    var nodes = document.querySelectorAll('[data-chart]');
    if (nodes.length === 0) return;
    if (typeof window.echarts === 'undefined') {
      nodes.forEach(function (el) { el.textContent = '图表未能加载，请刷新页面。'; });
      return;
    }
    nodes.forEach(function (el) {
      var build = BUILDERS[el.getAttribute('data-chart')];
      var data = read(el.getAttribute('data-source'));
      if (!build || !data) return;
      var chart = window.echarts.init(el, null, { renderer: 'canvas', locale: 'ZH' });
      // Marked drawn once the first rendering (with its animation) is over: tests and screenshots wait for it.
      chart.on('finished', function () { el.setAttribute('data-ready', '1'); });
      chart.setOption(build(data));
      charts.push(chart);
    });
    var pending = 0;
    window.addEventListener('resize', function () {
      if (pending) window.cancelAnimationFrame(pending);
      pending = window.requestAnimationFrame(function () {
        charts.forEach(function (c) { c.resize(); });
      });
    });
  }

  function dispositionNeedsComment() {
    var form = document.getElementById('resolve-form');
    if (!form) return;
    var select = form.querySelector('select[name="disposition"]');
    var comment = form.querySelector('textarea[name="comment"]');
    var sync = function () { comment.required = select.value === '其他'; };
    select.addEventListener('change', sync);
    sync();
  }

  function start() {
    drawCharts();
    dispositionNeedsComment();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
