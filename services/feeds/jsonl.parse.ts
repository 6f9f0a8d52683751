import { maskPii } from '../domain/pii.js';
import { jsonProblem } from './json.problem.js';
import { WITHHELD, type ParsedRecord } from './record.js';

/**
 * Streaming JSON Lines: one JSON object a line; blank lines skipped. Values
 * may be strings, numbers or null (null and absent read as empty). JSON.parse
 * error messages quote the input, so they are never passed on: only the
 * position is.
 */
export async function* parseJsonl(chunks: AsyncIterable<string>): AsyncGenerator<ParsedRecord> {
  let carry = '';
  let lineNo = 0;
  const take = (rawLine: string): ParsedRecord | undefined => {
    lineNo += 1;
    let line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '') return undefined;
    return toRecord(line, lineNo);
  };
  for await (const chunk of chunks) {
    const text = carry + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n', from); nl !== -1; nl = text.indexOf('\n', from)) {
      const r = take(text.slice(from, nl));
      if (r) yield r;
      from = nl + 1;
    }
    carry = text.slice(from);
  }
  if (carry !== '') {
    const r = take(carry);
    if (r) yield r;
  }
}

function toRecord(raw: string, line: number): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { ok: false, broken: { line, raw, problem: `not valid JSON (${jsonProblem(err)})` } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, broken: { line, raw, problem: 'line is not a JSON object' } };
  }
  const obj = value as Record<string, unknown>;
  const columns = Object.keys(obj);
  const fields: (string | undefined)[] = [];
  for (const key of columns) {
    const v = obj[key];
    if (v !== null && typeof v !== 'string' && typeof v !== 'number') {
      return { ok: false, broken: { line, raw, problem: `${maskPii(key)}: must be a string, a number or null` } };
    }
    fields.push(v === null ? undefined : typeof v === 'number' ? numberText(v) : v);
  }
  return {
    ok: true,
    record: {
      line,
      raw,
      columns,
      fields,
      get: (column) => {
        const i = columns.indexOf(column);
        return i < 0 ? undefined : fields[i];
      },
      redacted: (withheld) => JSON.stringify(Object.fromEntries(columns.map((k) => [k, withheld.has(k) ? WITHHELD : obj[k]]))),
    },
  };
}

/** Numbers as written, without exponent notation for ordinary magnitudes. */
function numberText(n: number): string {
  return Number.isFinite(n) ? (Math.abs(n) < 1e21 ? String(n) : n.toExponential()) : String(n);
}
