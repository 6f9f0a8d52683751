import type { BatchOutcome } from '../../services/feeds/ingest.service.js';
import type { InlineNight } from '../../services/nightly/nightly.service.js';

/**
 * A part of a command's work that failed while the rest went on: what it
 * was (a source, a batch file, the night's e-mails) and why. A command that
 * returns any ends with exit code 3 (EXIT.partial), one stderr line each.
 */
export interface Shortfall {
  readonly what: string;
  readonly reason: string;
}

/** stderr lines for a command's shortfalls, the last one a count (nothing when there are none). */
export function shortfallLines(command: string, shortfalls: readonly Shortfall[]): string[] {
  if (shortfalls.length === 0) return [];
  const n = shortfalls.length;
  return [...shortfalls.map((s) => `ews: ${command}: ${s.what}: ${s.reason}`), `ews: ${command}: partly failed (${n} ${n === 1 ? 'part' : 'parts'} above); exit code 3`];
}

/** Batches that were read but refused whole (sha256, row count, format): their data is not loaded. */
export function rejectedBatches(outcomes: readonly (BatchOutcome & { source?: string })[]): Shortfall[] {
  return outcomes
    .filter((o) => o.status === 'rejected')
    .map((o) => ({ what: `batch ${o.file}${o.source !== undefined ? ` (source ${o.source})` : ''}`, reason: `rejected: ${o.reason ?? 'no reason recorded'} (see \`ews batches --status rejected\`)` }));
}

/** E-mails the command was to send that are not delivered: refused for good (5xx), or left pending after a temporary failure. */
export function undelivered(emails: { failed: number; deferred: number }): Shortfall[] {
  const out: Shortfall[] = [];
  if (emails.failed > 0) {
    out.push({ what: 'e-mails', reason: `${emails.failed} refused permanently by the mail relay (SMTP 5xx): \`ews notify list --status failed\` lists them with the reason` });
  }
  if (emails.deferred > 0) {
    out.push({
      what: 'e-mails',
      reason: `${emails.deferred} not sent after a temporary failure (SMTP 4xx or connection): they stay pending for the next \`ews notify send\` or notify-sweep (\`ews notify list --status pending\`)`,
    });
  }
  return out;
}

/**
 * What of a night inline did not get done: a source that could not be
 * read, a batch that failed to load or was rejected, no month to score,
 * e-mails not delivered. Cities scored "data missing" are not counted: the
 * night scored them with what there is and says so; a batch of theirs that
 * failed tonight is counted as that batch.
 */
export function nightShortfalls(night: InlineNight, label?: string): Shortfall[] {
  const at = (what: string): string => (label !== undefined ? `${label}: ${what}` : what);
  const out: Shortfall[] = [];
  // services/nightly reports a source it could not poll, and a batch of it that failed to load (reason "<file>: …"), alike.
  for (const u of night.unreadable) out.push({ what: at(`source ${u.source}`), reason: `not read: ${u.reason.replace(/^([^:]+): \1: /, '$1: ')}` });
  for (const r of rejectedBatches(night.ingested)) out.push({ what: at(r.what), reason: r.reason });
  if (night.period === null) out.push({ what: at('scoring'), reason: 'nothing scored: no social-insurance month is loaded yet' });
  for (const e of undelivered(night.emails)) out.push({ what: at(e.what), reason: e.reason });
  return out;
}
