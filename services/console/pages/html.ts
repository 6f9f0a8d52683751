/**
 * HTML for the console: every value goes through `esc` (or `attr`) on its
 * way into a page, so an employer's name with markup in it is shown as text.
 * Templates are tagged literals: `html\`<p>${value}</p>\`` escapes `value`
 * unless it is already Html.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function esc(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? value.toString() : value instanceof Date ? value.toISOString() : JSON.stringify(value);
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function part(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(part).join('');
  return esc(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += part(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export function raw(text: string): Html {
  return new Html(text);
}

/** JSON for a <script type="application/json"> block: `<` escaped so no `</script>` can end it early. */
export function jsonBlock(id: string, value: unknown): Html {
  const text = JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return new Html(`<script type="application/json" id="${esc(id)}">${text}</script>`);
}
