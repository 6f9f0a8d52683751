import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { featureMismatchMessage } from './artifact.contract.js';
import type { FeatureSpec } from './artifact.contract.js';

/**
 * The model registry: retrained versions under `<EWS_DATA_DIR>/models/`, one
 * folder per version (the usual artifact: model.json, weights.bin,
 * metadata.json), and `registry.json` recording for each version how it was
 * trained, how it and the then-current model did on the held-out months,
 * whether it was promoted and why (not), which version is current, and the
 * promotions to roll back through. The shipped `models/default` is never
 * written here and stays the fallback: no current version, or one that
 * cannot be used, means the shipped model.
 *
 * registry.json is written whole to a temporary file and renamed over the
 * old one (a reader sees the old or the new state, never half of one), with
 * the state before kept as registry.json.bak; writers take a lock directory.
 * No tfjs here: the service's main thread resolves its artifact with this.
 */

export const SHIPPED_MODEL_DIR = fileURLToPath(new URL('./default', import.meta.url));
/** What a scoring run records when the shipped model scored (the folder's name, as for any artifact). */
export const SHIPPED_VERSION = 'default';
export const REGISTRY_FILE = 'registry.json';
const LOCK_DIR = 'registry.lock';
const ARTIFACT_FILES = ['model.json', 'weights.bin', 'metadata.json'] as const;
/** A lock older than this was left by a process that died (holding it takes milliseconds). */
const STALE_LOCK_MS = 120_000;
const LOCK_WAIT_MS = 30_000;

/** `2026-12-07T0215-3f9a1c2b`: the UTC minute it was registered and the start of its weights' sha256. */
const VERSION_NAME = /^\d{4}-\d{2}-\d{2}T\d{4}-[0-9a-f]{8}(-\d+)?$/;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

const month = z.string().regex(/^\d{4}-\d{2}$/);
const window = z.object({ from: month, to: month }).strict();
/** Average precision and log-loss; null where undefined (no positives) or not measured. */
const figure = z.number().nullable();

const versionSchema = z
  .object({
    version: z.string().regex(VERSION_NAME),
    createdAt: z.string(),
    kind: z.string(),
    featureVersion: z.string(),
    trainingWindow: window,
    /** The latest month of data the training saw (labels reach it). */
    dataThrough: month,
    /** Which batches and officials' labels that data was (a restatement changes it). */
    dataFingerprint: z.string().optional(),
    examples: z.number().int().nonnegative(),
    positives: z.number().int().nonnegative(),
    holdout: z
      .object({
        window,
        n: z.number().int().nonnegative(),
        positives: z.number().int().nonnegative(),
        candidate: z.object({ averagePrecision: figure, logLoss: figure }).strict(),
        /** The model that was current when this one was judged. */
        current: z.object({ version: z.string(), averagePrecision: figure, logLoss: figure, note: z.string().nullable() }).strict(),
      })
      .strict(),
    /** promoted: became current (it may have been replaced since); rejected: judged not better; candidate: better or not, left for a person to promote; rolled-back: was current until a rollback. */
    status: z.enum(['promoted', 'rejected', 'candidate', 'rolled-back']),
    reason: z.string(),
  })
  .strict();

const eventSchema = z
  .object({
    at: z.string(),
    action: z.enum(['promote', 'rollback']),
    /** null: the shipped model. */
    version: z.string().nullable(),
    from: z.string().nullable(),
    by: z.string(),
    reason: z.string(),
  })
  .strict();

const registrySchema = z
  .object({
    formatVersion: z.literal(1),
    /** null: the shipped model. */
    current: z.string().nullable(),
    /** The versions that were current before, oldest first: a rollback returns to the last (null: the shipped model). */
    previous: z.array(z.string().nullable()),
    versions: z.array(versionSchema),
    history: z.array(eventSchema),
  })
  .strict();

export type RegistryState = z.infer<typeof registrySchema>;
export type VersionRecord = z.infer<typeof versionSchema>;
export type RegistryEvent = z.infer<typeof eventSchema>;

export interface HoldoutScore {
  averagePrecision: number | null;
  logLoss: number | null;
}

/** Where scoring's artifact comes from; `version` is what a scoring run records. */
export interface ModelChoice {
  dir: string;
  version: string;
  source: 'configured' | 'registry' | 'shipped';
  /** Why the registry's current version was passed over for the shipped model, if it was. */
  note: string | null;
}

/**
 * The artifact scoring loads, decided in one place: MODEL_DIR when it is
 * set (operators and the evaluation name an artifact on purpose); else the
 * registry's current version; else, or when that version cannot be used,
 * the shipped models/default. Synchronous and cheap (one small JSON file and
 * a metadata.json), so a long-running worker can ask before each run.
 */
export function resolveModelArtifact(o: { configuredDir?: string | undefined; dataDir: string; expected: FeatureSpec; shippedDir?: string }): ModelChoice {
  const shippedDir = o.shippedDir ?? SHIPPED_MODEL_DIR;
  if (o.configuredDir !== undefined && o.configuredDir !== '') {
    const dir = path.resolve(o.configuredDir);
    return { dir, version: path.basename(dir), source: 'configured', note: null };
  }
  return new ModelRegistry(registryRoot(o.dataDir), o.expected, shippedDir).choice();
}

export function registryRoot(dataDir: string): string {
  return path.resolve(dataDir, 'models');
}

/** Why an artifact folder cannot serve this code (files missing, metadata unreadable, other features), or null. Reads metadata.json only. */
export function artifactProblem(dir: string, expected: FeatureSpec): string | null {
  const missing = ARTIFACT_FILES.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length === ARTIFACT_FILES.length) return `${dir} holds no model artifact`;
  if (missing.length > 0) return `${dir} is incomplete: ${missing.join(', ')} missing`;
  const spec = readFeatureSpec(dir);
  if (typeof spec === 'string') return spec;
  return featureMismatchMessage(dir, spec, expected) ?? null;
}

const metadataSpec = z.object({ featureSpec: z.object({ version: z.string(), steps: z.number(), names: z.array(z.string()) }) });

function readFeatureSpec(dir: string): FeatureSpec | string {
  try {
    const parsed = metadataSpec.safeParse(JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')));
    return parsed.success ? parsed.data.featureSpec : `${dir}/metadata.json has no feature spec`;
  } catch (err) {
    return `${dir}/metadata.json cannot be read (${(err as Error).message.split('\n')[0] ?? ''})`;
  }
}

/**
 * The decision, pure: promote only a candidate that beats the current model's
 * average precision on the held-out months (a tie is not better). A current
 * model that cannot be scored there (another feature version, a damaged
 * artifact) loses to a candidate that is itself better than chance.
 */
export function decidePromotion(
  candidate: HoldoutScore & { n: number; positives: number },
  current: { version: string; score: HoldoutScore | null; note: string | null },
): { promote: boolean; reason: string } {
  const ap = candidate.averagePrecision;
  if (ap === null || Number.isNaN(ap)) return { promote: false, reason: 'the held-out months have no positive example: the candidate cannot be judged' };
  const chance = candidate.n > 0 ? candidate.positives / candidate.n : 0;
  if (!(ap > chance)) {
    return { promote: false, reason: `no better than chance on the held-out months: average precision ${f(ap)} against a base rate of ${f(chance)}` };
  }
  const theirs = current.score?.averagePrecision ?? null;
  if (theirs === null || Number.isNaN(theirs)) {
    return {
      promote: true,
      reason: `the current model ${current.version} cannot be scored on the held-out months (${current.note ?? 'no score'}); the candidate is better than chance (average precision ${f(ap)}, base rate ${f(chance)})`,
    };
  }
  const losses = `log-loss ${f(candidate.logLoss)} vs ${f(current.score?.logLoss ?? null)}`;
  if (ap > theirs) return { promote: true, reason: `average precision ${f(ap)} > ${f(theirs)} of the current model ${current.version} on the held-out months (${losses})` };
  return {
    promote: false,
    reason: `not better than the current model ${current.version}: average precision ${f(ap)} vs ${f(theirs)} on the held-out months (${losses})${ap === theirs ? '; a tie is not promoted' : ''}`,
  };
}

function f(v: number | null): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  return Number(v.toPrecision(4)).toString();
}

export interface RegistryListing {
  root: string;
  /** What the registry makes current (MODEL_DIR, when set, still wins at scoring). */
  current: { version: string; source: 'registry' | 'shipped'; note: string | null };
  /** Newest first; `problem` says why a version could not be promoted or loaded now (e.g. trained on another feature version). */
  versions: (VersionRecord & { current: boolean; problem: string | null })[];
  shipped: { version: string; dir: string; current: boolean; problem: string | null };
  previous: (string | null)[];
  history: RegistryEvent[];
}

export interface NewVersion {
  /** The trained artifact, in a folder of its own under the registry root; renamed into place. */
  stagingDir: string;
  record: Omit<VersionRecord, 'version' | 'status' | 'reason'>;
  decision: { promote: boolean; reason: string; status: 'promoted' | 'rejected' | 'candidate' };
  /** The version that was current when the candidate was judged (null: the shipped model): promoted only if it still is. */
  judgedAgainst: string | null;
  by: string;
}

export class ModelRegistry {
  readonly file: string;

  constructor(
    readonly root: string,
    readonly expected: FeatureSpec,
    readonly shippedDir: string = SHIPPED_MODEL_DIR,
  ) {
    this.file = path.join(root, REGISTRY_FILE);
  }

  versionDir(version: string): string {
    return path.join(this.root, version);
  }

  /** The state on disk; no file yet is an empty registry (the shipped model current). */
  readSync(): RegistryState {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { formatVersion: 1, current: null, previous: [], versions: [], history: [] };
      throw new RegistryError(`model registry ${this.file} cannot be read: ${(err as Error).message}`);
    }
    const repair = `restore it from ${REGISTRY_FILE}.bak beside it, or move it away to start an empty registry (the version folders stay)`;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new RegistryError(`model registry ${this.file} is not valid JSON (${(err as Error).message.split('\n')[0] ?? ''}): it was damaged outside ews; ${repair}`);
    }
    const parsed = registrySchema.safeParse(raw);
    if (!parsed.success) {
      throw new RegistryError(`model registry ${this.file} is not a registry (${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; ')}); ${repair}`);
    }
    const state = parsed.data;
    const known = new Set(state.versions.map((v) => v.version));
    for (const v of [state.current, ...state.previous]) {
      if (v !== null && !known.has(v)) throw new RegistryError(`model registry ${this.file} names version ${v}, which it does not list; ${repair}`);
    }
    return state;
  }

  /** The registry's part of resolveModelArtifact: its current version if usable, else the shipped model, with the reason. */
  choice(): ModelChoice {
    const shipped = (note: string | null): ModelChoice => ({ dir: this.shippedDir, version: SHIPPED_VERSION, source: 'shipped', note });
    let state: RegistryState;
    try {
      state = this.readSync();
    } catch (err) {
      return shipped((err as Error).message);
    }
    if (state.current === null) return shipped(null);
    const dir = this.versionDir(state.current);
    const problem = artifactProblem(dir, this.expected);
    if (problem !== null) return shipped(`registry version ${state.current} cannot be used (${problem})`);
    return { dir, version: state.current, source: 'registry', note: null };
  }

  list(): RegistryListing {
    const state = this.readSync();
    const versions = [...state.versions]
      .sort((a, b) => (a.version < b.version ? 1 : -1))
      .map((v) => ({ ...v, current: v.version === state.current, problem: artifactProblem(this.versionDir(v.version), this.expected) }));
    const choice = this.choice();
    return {
      root: this.root,
      current: { version: choice.version, source: choice.source === 'registry' ? 'registry' : 'shipped', note: choice.note },
      versions,
      shipped: { version: SHIPPED_VERSION, dir: this.shippedDir, current: state.current === null, problem: artifactProblem(this.shippedDir, this.expected) },
      previous: state.previous,
      history: state.history,
    };
  }

  /**
   * Registers a trained and judged candidate: its folder renamed to its
   * version name, its record added, and, if the decision says so and the
   * model it was judged against is still current, made current.
   */
  async add(n: NewVersion): Promise<{ version: string; dir: string; promoted: boolean; status: VersionRecord['status']; reason: string }> {
    const sha = createHash('sha256').update(await fs.readFile(path.join(n.stagingDir, 'weights.bin'))).digest('hex');
    return this.update((state) => {
      let { promote, reason, status } = n.decision;
      if (promote && state.current !== n.judgedAgainst) {
        promote = false;
        status = 'candidate';
        reason = `it was judged against ${n.judgedAgainst ?? SHIPPED_VERSION}, but ${state.current ?? SHIPPED_VERSION} became current meanwhile: not promoted (${reason}); compare again, or \`ews models promote\` it`;
      }
      const base = versionName(new Date(), sha);
      let version = base;
      for (let i = 2; state.versions.some((v) => v.version === version) || existsSync(this.versionDir(version)); i++) version = `${base}-${i}`;
      return {
        result: { version, dir: this.versionDir(version), promoted: promote, status, reason },
        // The folder moves into place before the state naming it is written.
        before: () => fs.rename(n.stagingDir, this.versionDir(version)),
        next: {
          ...state,
          versions: [...state.versions, { version, ...n.record, status, reason }],
          ...(promote
            ? {
                current: version,
                previous: [...state.previous, state.current],
                history: [...state.history, { at: new Date().toISOString(), action: 'promote' as const, version, from: state.current, by: n.by, reason }],
              }
            : {}),
        },
      };
    });
  }

  /** Makes a version current (or the shipped model: `default`); refuses one this code cannot load, with the reason. */
  promote(version: string, by: string): Promise<{ version: string; from: string; changed: boolean; note: string | null }> {
    return this.update<{ version: string; from: string; changed: boolean; note: string | null }>((state) => {
      const target = version === SHIPPED_VERSION ? null : version;
      const record = state.versions.find((v) => v.version === version);
      if (target !== null && record === undefined) {
        throw new RegistryError(`no version ${version} in the model registry ${this.root} (see \`ews models list\`)`);
      }
      const problem = artifactProblem(target === null ? this.shippedDir : this.versionDir(version), this.expected);
      if (problem !== null) throw new RegistryError(`refusing to promote ${version}: ${problem}`);
      const from = state.current ?? SHIPPED_VERSION;
      if (state.current === target) return { result: { version, from, changed: false, note: `${version} is already current` }, next: null };
      const at = new Date().toISOString();
      const note = record?.status === 'rejected' ? `training had not promoted it: ${record.reason}` : null;
      const reason = `promoted by ${by}${note !== null ? ` (${note})` : ''}`;
      return {
        result: { version, from, changed: true, note },
        next: {
          ...state,
          current: target,
          previous: [...state.previous, state.current],
          versions: state.versions.map((v) => (v.version === target ? { ...v, status: 'promoted' as const, reason: `${reason} on ${at}` } : v)),
          history: [...state.history, { at, action: 'promote' as const, version: target, from: state.current, by, reason }],
        },
      };
    });
  }

  /**
   * Back to the version current before this one, passing over any this code
   * cannot load (said in `skipped`); to the shipped model when none is left.
   */
  rollback(by: string): Promise<{ from: string; to: string; skipped: { version: string; problem: string }[]; note: string | null }> {
    return this.update((state) => {
      if (state.current === null) throw new RegistryError('the shipped model is already current: there is nothing to roll back to');
      const previous = [...state.previous];
      const skipped: { version: string; problem: string }[] = [];
      let target: string | null = null;
      while (previous.length > 0) {
        const candidate = previous.pop() ?? null;
        if (candidate === null) break;
        const problem = artifactProblem(this.versionDir(candidate), this.expected);
        if (problem === null) {
          target = candidate;
          break;
        }
        skipped.push({ version: candidate, problem });
      }
      const shippedProblem = target === null ? artifactProblem(this.shippedDir, this.expected) : null;
      const note = shippedProblem !== null ? `the shipped model cannot be used either (${shippedProblem}): scoring will be rules only until a usable version is promoted` : null;
      const at = new Date().toISOString();
      const from = state.current;
      const reason = `rolled back by ${by}${skipped.length > 0 ? `, passing over ${skipped.map((s) => s.version).join(', ')}` : ''}`;
      return {
        result: { from, to: target ?? SHIPPED_VERSION, skipped, note },
        next: {
          ...state,
          current: target,
          previous,
          versions: state.versions.map((v) => (v.version === from ? { ...v, status: 'rolled-back' as const, reason: `${reason} on ${at}` } : v)),
          history: [...state.history, { at, action: 'rollback' as const, version: target, from, by, reason }],
        },
      };
    });
  }

  /** Read, change and write under the lock; `next: null` writes nothing. */
  private async update<T>(change: (state: RegistryState) => { result: T; next: RegistryState | null; before?: () => Promise<void> }): Promise<T> {
    await fs.mkdir(this.root, { recursive: true });
    const release = await this.lock();
    try {
      const { result, next, before } = change(this.readSync());
      if (next !== null) {
        await before?.();
        await this.write(next);
      }
      return result;
    } finally {
      await release();
    }
  }

  private async write(state: RegistryState): Promise<void> {
    const checked = registrySchema.parse(state);
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(checked, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      if (existsSync(this.file)) await fs.copyFile(this.file, `${this.file}.bak`);
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const dir = path.join(this.root, LOCK_DIR);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      try {
        await fs.mkdir(dir);
        return () => fs.rm(dir, { recursive: true, force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await fs.stat(dir).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (held > STALE_LOCK_MS) {
        await fs.rm(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new RegistryError(`model registry ${this.root} is locked (${dir}): another \`ews train\` or \`ews models\` is writing it; if none is running, remove ${dir}`);
      }
      await new Promise<void>((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** `2026-12-07T0215-3f9a1c2b` (UTC): sorts by time, names the weights. */
export function versionName(at: Date, weightsSha256: string): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}-${weightsSha256.slice(0, 8)}`;
}
