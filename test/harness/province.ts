import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../services/db/database.js';
import { BatchRepository } from '../../services/feeds/batch.repository.js';
import { ingestBatch, pendingEntries, type BatchOutcome } from '../../services/feeds/ingest.service.js';
import { openSource } from '../../services/feeds/source.js';
import { generateProvince, type GenerateOptions, type GenerateSummary } from '../../services/synth/province.generate.js';
import { captureLogger } from './log.js';

/** Generates a synthetic province and ingests every batch of it into the database, in manifest order. */
export async function ingestProvince(database: Database, options: Omit<GenerateOptions, 'outDir'>): Promise<{ summary: GenerateSummary; outcomes: BatchOutcome[] }> {
  const out = mkdtempSync(join(tmpdir(), 'ews-province-'));
  const summary = await generateProvince({ outDir: out, ...options });
  const deps = { batches: new BatchRepository(database), log: captureLogger().log };
  const source = openSource({ name: 'synth', url: `file://${summary.sourceDir}/` }, { timeoutMs: 5000, retries: 0, retryBaseMs: 10, spoolDir: join(out, 'spool') });
  const outcomes: BatchOutcome[] = [];
  for (const entry of (await pendingEntries(deps, source)).pending) outcomes.push(await ingestBatch(deps, source, entry));
  return { summary, outcomes };
}
