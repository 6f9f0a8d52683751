/**
 * The small per-employer chart: insured staff (line, left axis) and
 * separations (bars, right axis) over the last 24 months, as an SVG string
 * rendered to PNG by resvg. Missing months are gaps, never zeros.
 *
 * Text is drawn from cached glyph outlines (glyphs.ts) so that a chart does
 * not pay resvg's per-glyph font file access for every label.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import type { MonthlySeries } from '../notification.types.js';
import { cleanText, escapeMarkup, truncate } from './escape.js';
import { glyphsFor, UNITS, type Glyph } from './glyphs.js';

export const CHART_WIDTH = 560;
export const CHART_HEIGHT = 220;
/** Months drawn at most. */
export const CHART_MONTHS = 24;
/** Characters of the title kept before `…`. */
export const CHART_TITLE_MAX = 60;

/** Debian fonts-wqy-microhei. */
export const CJK_FONT_FILE = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const FONT_FAMILY = 'WenQuanYi Micro Hei';

const INSURED_COLOUR = '#1a56b0';
const SEPARATED_COLOUR = '#e07b39';
const AXIS_COLOUR = '#888888';
const GRID_COLOUR = '#e6e6e6';
const TEXT_COLOUR = '#333333';
const MUTED_COLOUR = '#666666';

// Plot area.
const LEFT = 50;
const RIGHT = CHART_WIDTH - 46;
const TOP = 46;
const BOTTOM = CHART_HEIGHT - 30;

let fontFilesCache: string[] | undefined;

/** The font files to load, checked once per process (a missing font is not an error). */
export function chartFontFiles(): string[] {
  fontFilesCache ??= existsSync(CJK_FONT_FILE) ? [CJK_FONT_FILE] : [];
  return fontFilesCache;
}

/** A finite, non-negative value, or null for a gap. */
function value(v: number | null | undefined): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  return v < 0 ? 0 : v;
}

/** 1, 2, 2.5 or 5 times a power of ten, at least 1 (counts of people). */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return Math.max(1, m * power);
}

/** Axis top and gridline count for values up to `max` (at most 5 intervals, whole numbers). */
function axis(max: number): { top: number; ticks: number } {
  const m = Math.max(max, 1);
  const step = niceStep(m / 5);
  const ticks = Math.max(1, Math.ceil(m / step));
  return { top: ticks * step, ticks };
}

/** 12000 → '1.2万'; smaller numbers as they are. */
function tickLabel(v: number): string {
  if (v >= 10000) return `${Math.round(v / 1000) / 10}万`;
  return String(Math.round(v * 100) / 100);
}

const f1 = (v: number): string => String(Math.round(v * 10) / 10);

type Anchor = 'start' | 'middle' | 'end';

/** Lays out single-line text as `<use>` of glyph outlines defined once per chart. */
class Typesetter {
  private readonly ids = new Map<string, string>();
  private readonly defs: string[] = [];

  constructor(private readonly glyphs: Map<string, Glyph>) {}

  private advance(ch: string): number {
    return this.glyphs.get(ch)?.advance ?? UNITS * 0.6;
  }

  /** Width in pixels at `size`. */
  width(text: string, size: number): number {
    let units = 0;
    for (const ch of text) units += this.advance(ch);
    return (units * size) / UNITS;
  }

  text(text: string, x: number, y: number, size: number, fill: string, anchor: Anchor = 'start', bold = false): string {
    const w = this.width(text, size);
    const x0 = anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w;
    const uses: string[] = [];
    let offset = 0;
    for (const ch of text) {
      const glyph = this.glyphs.get(ch);
      if (glyph !== undefined && glyph.d !== '') {
        let id = this.ids.get(ch);
        if (id === undefined) {
          id = `g${this.ids.size}`;
          this.ids.set(ch, id);
          this.defs.push(`<path id="${id}" d="${glyph.d}"/>`);
        }
        uses.push(`<use xlink:href="#${id}" x="${Math.round(offset)}"/>`);
      }
      offset += this.advance(ch);
    }
    if (uses.length === 0) return '';
    const stroke = bold ? ` stroke="${fill}" stroke-width="36" stroke-linejoin="round"` : '';
    return `<g transform="translate(${f1(x0)} ${f1(y)}) scale(${size / UNITS})" fill="${fill}"${stroke}>${uses.join('')}</g>`;
  }

  defsSvg(): string {
    return `<defs>${this.defs.join('')}</defs>`;
  }
}

/** The chart as an SVG document (exported for tests). */
export function buildChartSvg(series: MonthlySeries, title: string, fontFiles: string[] = chartFontFiles()): string {
  const total = Math.max(series.periods.length, series.insured.length, series.separated.length);
  const start = Math.max(0, total - CHART_MONTHS);
  const n = total - start;
  const periods: string[] = [];
  const insured: (number | null)[] = [];
  const separated: (number | null)[] = [];
  for (let i = start; i < total; i++) {
    periods.push(truncate(cleanText(series.periods[i] ?? ''), 7));
    insured.push(value(series.insured[i]));
    separated.push(value(series.separated[i]));
  }
  const knownInsured = insured.filter((v): v is number => v !== null);
  const knownSeparated = separated.filter((v): v is number => v !== null);
  const empty = knownInsured.length === 0 && knownSeparated.length === 0;
  const left = axis(knownInsured.length > 0 ? Math.max(...knownInsured) : 0);
  const right = axis(knownSeparated.length > 0 ? Math.max(...knownSeparated) : 0);

  // Every string drawn, so the glyphs are fetched in one go.
  const titleText = truncate(cleanText(title).replace(/\s+/g, ' ').trim(), CHART_TITLE_MAX);
  const monthsLabel = `近${n}个月`;
  const insuredLabel = '参保人数(左轴)';
  const separatedLabel = '减员人数(右轴)';
  const noData = '暂无数据';
  const leftTicks: string[] = [];
  const rightTicks: string[] = [];
  for (let t = 0; t <= left.ticks; t++) leftTicks.push(tickLabel((left.top * t) / left.ticks));
  for (let t = 0; t <= right.ticks; t++) rightTicks.push(tickLabel((right.top * t) / right.ticks));
  const labelled: number[] = [];
  // Month labels every 6 months counted back from the latest, so the latest is labelled.
  for (let i = 0; i < n; i++) if ((n - 1 - i) % 6 === 0) labelled.push(i);
  const ts = new Typesetter(
    glyphsFor(
      [titleText, monthsLabel, insuredLabel, separatedLabel, noData, ...leftTicks, ...rightTicks, ...labelled.map((i) => periods[i] ?? '')],
      fontFiles,
      FONT_FAMILY,
    ),
  );

  const body: string[] = [`<rect x="0" y="0" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`];

  // Title, shrunk to fit the width (8 to 14 px).
  const titleRoom = CHART_WIDTH - 16;
  const titleSize = Math.max(8, Math.min(14, Math.floor((14 * titleRoom) / Math.max(1, ts.width(titleText, 14)))));
  body.push(ts.text(titleText, 8, 18, titleSize, TEXT_COLOUR, 'start', true));

  // Legend.
  const legendY = 36;
  let x = 8;
  body.push(ts.text(monthsLabel, x, legendY, 11, MUTED_COLOUR));
  x += ts.width(monthsLabel, 11) + 12;
  body.push(`<line x1="${f1(x)}" y1="${legendY - 4}" x2="${f1(x + 20)}" y2="${legendY - 4}" stroke="${INSURED_COLOUR}" stroke-width="2"/>`);
  x += 24;
  body.push(ts.text(insuredLabel, x, legendY, 11, TEXT_COLOUR));
  x += ts.width(insuredLabel, 11) + 12;
  body.push(`<rect x="${f1(x)}" y="${legendY - 9}" width="12" height="9" fill="${SEPARATED_COLOUR}"/>`);
  x += 16;
  body.push(ts.text(separatedLabel, x, legendY, 11, TEXT_COLOUR));

  // Grid and axis labels (left: insured, right: separations).
  const plotH = BOTTOM - TOP;
  leftTicks.forEach((label, t) => {
    const y = BOTTOM - (t / left.ticks) * plotH;
    body.push(
      `<line x1="${LEFT}" y1="${f1(y)}" x2="${RIGHT}" y2="${f1(y)}" stroke="${t === 0 ? AXIS_COLOUR : GRID_COLOUR}" stroke-width="1"/>`,
      ts.text(label, LEFT - 4, y + 3.5, 10, INSURED_COLOUR, 'end'),
    );
  });
  rightTicks.forEach((label, t) => {
    const y = BOTTOM - (t / right.ticks) * plotH;
    body.push(ts.text(label, RIGHT + 4, y + 3.5, 10, SEPARATED_COLOUR));
  });
  body.push(
    `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${BOTTOM}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`,
    `<line x1="${RIGHT}" y1="${TOP}" x2="${RIGHT}" y2="${BOTTOM}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`,
  );

  if (n === 0 || empty) {
    body.push(ts.text(noData, (LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2, 13, '#999999', 'middle'));
  } else {
    const slot = (RIGHT - LEFT) / n;
    const cx = (i: number): number => LEFT + slot * (i + 0.5);
    const barW = Math.max(1, slot * 0.6);
    const yLeft = (v: number): number => BOTTOM - (v / left.top) * plotH;
    const yRight = (v: number): number => BOTTOM - (v / right.top) * plotH;

    for (const i of labelled) {
      body.push(
        `<line x1="${f1(cx(i))}" y1="${BOTTOM}" x2="${f1(cx(i))}" y2="${BOTTOM + 4}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`,
        ts.text(periods[i] ?? '', cx(i), BOTTOM + 16, 10, '#555555', 'middle'),
      );
    }

    // Separations as bars; a missing month has no bar.
    separated.forEach((v, i) => {
      if (v === null) return;
      const y = yRight(v);
      if (BOTTOM - y <= 0) return;
      body.push(
        `<rect x="${f1(cx(i) - barW / 2)}" y="${f1(y)}" width="${f1(barW)}" height="${f1(BOTTOM - y)}" fill="${SEPARATED_COLOUR}" fill-opacity="0.85"/>`,
      );
    });

    // Insured as a line broken at missing months, with a dot per known month.
    let path = '';
    let penDown = false;
    const dots: string[] = [];
    insured.forEach((v, i) => {
      if (v === null) {
        penDown = false;
        return;
      }
      const px = f1(cx(i));
      const py = f1(yLeft(v));
      path += `${penDown ? 'L' : 'M'}${px} ${py} `;
      penDown = true;
      dots.push(`<circle cx="${px}" cy="${py}" r="2.2" fill="${INSURED_COLOUR}"/>`);
    });
    if (path !== '') {
      body.push(`<path d="${path.trim()}" fill="none" stroke="${INSURED_COLOUR}" stroke-width="2" stroke-linejoin="round"/>`);
    }
    body.push(...dots);
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}">`,
    `<title>${escapeMarkup(titleText)}</title>`,
    ts.defsSvg(),
    ...body,
    '</svg>',
  ].join('');
}

/** An SVG rendered to PNG (exported for tests). Text is already outlines, so no font is needed here. */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles: [], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: 'width', value: CHART_WIDTH },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/** The chart as a PNG (560 × 220). Never throws for a missing font (the text is then missing). */
export function renderChartPng(series: MonthlySeries, title: string): Buffer {
  return svgToPng(buildChartSvg(series, title));
}
