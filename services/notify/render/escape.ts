/**
 * Making payload values safe to show. Employer names (and in principle any
 * other string in a payload) are as reported and may contain markup, CR/LF,
 * bidi overrides or hundreds of characters.
 */

/** True for characters that must not reach a header or a text line as-is. */
function isControl(code: number): boolean {
  return (
    code < 0x20 || // C0, including CR, LF, TAB
    (code >= 0x7f && code <= 0x9f) || // DEL, C1 (including NEL)
    code === 0x2028 || // line separator
    code === 0x2029 || // paragraph separator
    (code >= 0x202a && code <= 0x202e) || // bidi embeddings and overrides
    (code >= 0x2066 && code <= 0x2069) || // bidi isolates
    code === 0xfeff || // BOM / zero-width no-break space
    code === 0xfffe || // not characters (and not allowed in XML)
    code === 0xffff
  );
}

/**
 * Control characters (and lone surrogates, which cannot be encoded) replaced
 * by spaces; everything else unchanged. Fast path when nothing to replace.
 */
export function cleanText(value: string): string {
  let out: string | null = null;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    let bad = isControl(code);
    if (!bad && code >= 0xd800 && code <= 0xdfff) {
      if (code <= 0xdbff) {
        const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
        if (next >= 0xdc00 && next <= 0xdfff) {
          if (out !== null) out += value.slice(i, i + 2);
          i++;
          continue;
        }
      }
      bad = true;
    }
    if (bad) {
      out ??= value.slice(0, i);
      out += ' ';
    } else if (out !== null) {
      out += value[i];
    }
  }
  return out ?? value;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `& < > " '` only (no cleaning). */
export function escapeMarkup(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** A payload value for HTML text or a quoted attribute (also valid in SVG/XML). */
export function html(value: string): string {
  return escapeMarkup(cleanText(value));
}

/**
 * At most `max` characters (code points), then `…`. Applied after cleaning so
 * a cut never splits a surrogate pair.
 */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const points = Array.from(value);
  if (points.length <= max) return value;
  return `${points.slice(0, max).join('')}…`;
}

/** A value for one line of the plain-text part: cleaned, optionally truncated. */
export function line(value: string, max?: number): string {
  const cleaned = cleanText(value);
  return max === undefined ? cleaned : truncate(cleaned, max);
}

/** A finite number as an integer-ish string, otherwise `—`. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}
