import { userInfo } from 'node:os';
import { ModelRegistry, registryRoot, resolveModelArtifact } from '../../models/registry.js';
import { FEATURE_SPEC } from '../../services/scoring/features.js';
import type { CliContext } from './context.js';
import { printJson, printTable, UsageError, printLine } from './output.js';

/**
 * `ews models list|promote|rollback`: the model registry under
 * EWS_DATA_DIR/models. What scoring loads is decided by
 * resolveModelArtifact (MODEL_DIR when set, else the registry's current
 * version, else the shipped model); these commands change the second.
 */

function registry(ctx: CliContext): ModelRegistry {
  return new ModelRegistry(registryRoot(ctx.config.dataDir), FEATURE_SPEC);
}

function scoringChoice(ctx: CliContext) {
  return resolveModelArtifact({ configuredDir: ctx.config.scoring.modelDir, dataDir: ctx.config.dataDir, expected: FEATURE_SPEC });
}

export function modelsListCommand(ctx: CliContext, opts: { json?: boolean }): void {
  const listing = registry(ctx).list();
  const scoring = scoringChoice(ctx);
  if (opts.json) {
    printJson({ ...listing, scoring: { version: scoring.version, source: scoring.source, dir: scoring.dir, note: scoring.note } });
    return;
  }
  const ap = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(4));
  printLine(`model registry: ${listing.root}`);
  printLine(
    scoring.source === 'configured'
      ? `scoring loads: ${scoring.dir} (MODEL_DIR is set: the registry's current version, ${listing.current.version}, is not used while it is)`
      : `scoring loads: ${scoring.version} (${scoring.source === 'registry' ? "the registry's current version" : `the shipped model, ${listing.shipped.dir}`})`,
  );
  if (listing.current.note !== null) printLine(`note: ${listing.current.note}: scoring falls back to the shipped model`);
  printLine('');
  const rows = listing.versions.map((v) => ({
    version: v.version,
    status: v.current ? 'current' : v.status,
    features: v.featureVersion,
    kind: v.kind,
    trained: `${v.trainingWindow.from}..${v.trainingWindow.to}`,
    held_out: `${v.holdout.window.from}..${v.holdout.window.to}`,
    ap: ap(v.holdout.candidate.averagePrecision),
    ap_then_current: `${ap(v.holdout.current.averagePrecision)} (${v.holdout.current.version})`,
    why: v.problem !== null ? `cannot be used now: ${v.problem}. ${v.reason}` : v.reason,
  }));
  rows.push({
    version: listing.shipped.version,
    status: listing.shipped.current ? 'current (shipped)' : 'shipped',
    features: '',
    kind: '',
    trained: '',
    held_out: '',
    ap: '',
    ap_then_current: '',
    why: listing.shipped.problem !== null ? `cannot be used now: ${listing.shipped.problem}` : 'the fallback when no version is current',
  });
  printTable(rows, ['version', 'status', 'features', 'kind', 'trained', 'held_out', 'ap', 'ap_then_current', 'why']);
  if (listing.current.source === 'registry') {
    printLine('');
    printLine(`\`ews models rollback\` returns to ${listing.previous.at(-1) ?? 'the shipped model'}`);
  }
}

export async function modelsPromoteCommand(ctx: CliContext, version: string, opts: { by?: string; json?: boolean }): Promise<void> {
  const reg = registry(ctx);
  if (version !== 'default' && !reg.readSync().versions.some((v) => v.version === version)) {
    throw new UsageError(`no version ${version} in the model registry ${reg.root} (see \`ews models list\`)`);
  }
  const result = await reg.promote(version, opts.by ?? whoami());
  ctx.log.info({ version, from: result.from, changed: result.changed }, result.changed ? `model ${version} promoted by hand` : `model ${version} was already current`);
  const override = ctx.config.scoring.modelDir;
  if (opts.json) printJson({ ...result, modelDirOverride: override ?? null });
  else {
    printLine(result.changed ? `${version} is now current (was ${result.from})` : `${version} is already current`);
    if (result.note !== null && result.changed) printLine(`note: ${result.note}`);
    if (override !== undefined) printLine(`note: MODEL_DIR is set (${override}): scoring keeps loading it, not the registry's current version`);
  }
}

export async function modelsRollbackCommand(ctx: CliContext, opts: { by?: string; json?: boolean }): Promise<void> {
  const result = await registry(ctx).rollback(opts.by ?? whoami());
  ctx.log.info({ from: result.from, to: result.to, skipped: result.skipped }, `model rolled back from ${result.from} to ${result.to}`);
  if (opts.json) printJson(result);
  else {
    printLine(`rolled back from ${result.from} to ${result.to}`);
    for (const s of result.skipped) printLine(`passed over ${s.version}: ${s.problem}`);
    if (result.note !== null) printLine(`note: ${result.note}`);
  }
}

/** Who is recorded with a promotion or rollback when --by is not given: the login name. */
export function whoami(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown user';
  }
}
