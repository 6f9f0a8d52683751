/**
 * Text for the chart as glyph outlines.
 *
 * resvg-js 2.6 can only load fonts from files, and with the 5 MB CJK font it
 * goes back to the file for every glyph it lays out (about 0.2 ms a glyph, so
 * 30–40 ms for a chart's ~150 glyphs). Instead each character is outlined by
 * resvg once per process — its path at 1000 units per em and its advance —
 * and the chart draws text as `<use>` of those paths: a chart then needs the
 * font only for characters not seen before (a new employer's name).
 */
import { Resvg } from '@resvg/resvg-js';
import { escapeMarkup } from './escape.js';

/** Units per em of the cached outlines (font-size used to outline them). */
export const UNITS = 1000;
/** Advance of whitespace and of characters the font could not outline, in units. */
const SPACE_ADVANCE = 330;
const FALLBACK_ADVANCE = 600;
/** Cleared when full (distinct characters; a CJK outline is 1–3 kB). */
const MAX_GLYPHS = 4000;

export interface Glyph {
  /** Path data at 1000 units per em, origin on the baseline; '' for none. */
  d: string;
  advance: number;
}

/** Outlines per font set (the font files and family joined), then per character. */
const caches = new Map<string, Map<string, Glyph>>();

function isWhitespace(ch: string): boolean {
  return ch.trim() === '';
}

/**
 * East Asian wide and fullwidth characters: one em in CJK fonts (checked for
 * WenQuanYi Micro Hei), so only their outline needs resvg, not their advance.
 */
function isWide(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0x303e) ||
    (c >= 0x3041 && c <= 0x33ff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xa000 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

/** Rounds every number in path data to whole units (plenty at chart sizes). */
function roundPath(d: string): string {
  return d.replace(/-?\d+(?:\.\d+)?(?:e-?\d+)?/gi, (n) => String(Math.round(Number(n)) || 0)).replace(/\s+/g, ' ').trim();
}

/** The first x coordinate in path data (the start of the first contour). */
function firstX(d: string): number | null {
  const m = /^\s*M\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)/i.exec(d);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/**
 * Outlines `chars` with one resvg parse: for each character a text at x=0
 * (its outline) and, unless it is wide (one em), one anchored at its end (the
 * outline shifted left by the advance). resvg's cost is per glyph laid out.
 * Characters the font lacks come back as .notdef boxes or nothing.
 */
function outline(chars: string[], fontFiles: string[], fontFamily: string): Map<string, Glyph> | null {
  const found = new Map<string, Glyph>();
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" font-family="${escapeMarkup(fontFamily)}" font-size="${UNITS}">`];
  chars.forEach((ch, i) => {
    const t = escapeMarkup(ch);
    parts.push(`<text id="a${i}" x="0" y="0">${t}</text>`);
    if (!isWide(ch)) parts.push(`<text id="b${i}" x="0" y="0" text-anchor="end">${t}</text>`);
  });
  parts.push('</svg>');
  let tree: string;
  try {
    tree = new Resvg(parts.join(''), {
      font: { fontFiles, loadSystemFonts: false, defaultFontFamily: fontFamily },
      logLevel: 'off',
    }).toString();
  } catch {
    return null;
  }
  const paths = new Map<string, string>();
  for (const m of tree.matchAll(/<g id="([ab]\d+)"[^>]*>\s*<path\b[^>]*?\sd="([^"]*)"/g)) {
    if (m[1] !== undefined && m[2] !== undefined) paths.set(m[1], m[2]);
  }
  chars.forEach((ch, i) => {
    const a = paths.get(`a${i}`);
    const xa = a === undefined ? null : firstX(a);
    if (a === undefined || xa === null) {
      found.set(ch, { d: '', advance: isWide(ch) ? UNITS : FALLBACK_ADVANCE });
      return;
    }
    if (isWide(ch)) {
      found.set(ch, { d: roundPath(a), advance: UNITS });
      return;
    }
    const b = paths.get(`b${i}`);
    const xb = b === undefined ? null : firstX(b);
    const advance = xb === null ? FALLBACK_ADVANCE : xa - xb;
    found.set(ch, { d: roundPath(a), advance: advance > 0 && advance < 4 * UNITS ? advance : FALLBACK_ADVANCE });
  });
  return found;
}

/**
 * The glyphs of every character in `texts`, outlining the ones not cached in
 * one batch. Never throws; without fonts everything has an empty outline.
 */
export function glyphsFor(texts: string[], fontFiles: string[], fontFamily: string): Map<string, Glyph> {
  const result = new Map<string, Glyph>();
  const missing = new Set<string>();
  const key = `${fontFamily}\u0000${fontFiles.join('\u0000')}`;
  let cache = caches.get(key);
  if (cache === undefined) {
    cache = new Map();
    caches.set(key, cache);
  }
  for (const text of texts) {
    for (const ch of text) {
      if (result.has(ch)) continue;
      const cached = cache.get(ch);
      if (cached !== undefined) {
        result.set(ch, cached);
      } else if (isWhitespace(ch)) {
        result.set(ch, { d: '', advance: SPACE_ADVANCE });
      } else if (fontFiles.length === 0) {
        result.set(ch, { d: '', advance: FALLBACK_ADVANCE });
      } else {
        missing.add(ch);
      }
    }
  }
  if (missing.size > 0) {
    const outlined = outline([...missing], fontFiles, fontFamily);
    if (outlined === null) {
      // Not cached: a failure must not blank these characters for good.
      for (const ch of missing) result.set(ch, { d: '', advance: FALLBACK_ADVANCE });
    } else {
      if (cache.size + outlined.size > MAX_GLYPHS) cache.clear();
      for (const [ch, glyph] of outlined) {
        cache.set(ch, glyph);
        result.set(ch, glyph);
      }
    }
  }
  return result;
}
