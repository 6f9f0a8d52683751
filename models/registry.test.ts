import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureSpec } from './artifact.contract.js';
import { saveArtifact } from './artifact.js';
import { seededRandom, shuffleInPlace } from './random.js';
import { judgeCandidate, type Holdout, type Judged } from './registry.evaluate.js';
import { ModelRegistry, REGISTRY_FILE, RegistryError, resolveModelArtifact, SHIPPED_VERSION } from './registry.js';
import { syntheticWindows } from './synthetic.js';
import { trainModel } from './train.js';

/**
 * The registry with real models: two small logistic regressions on
 * synthetic windows (one learns the signal, one is trained on shuffled
 * labels), judged on held-out windows against the current model, promoted,
 * rolled back, refused, and a damaged registry file.
 */

const spec: FeatureSpec = { version: 'test-v1', steps: 12, names: ['a', 'b', 'c', 'd', 'e', 'f'] };
const older: FeatureSpec = { version: 'test-v0', steps: 12, names: ['a', 'b', 'c', 'd', 'e'] };
const train = syntheticWindows({ n: 1500, seed: 7, steps: 12, features: 6, positiveRate: 0.08, signal: 2 });
const held = syntheticWindows({ n: 1200, seed: 8, steps: 12, features: 6, positiveRate: 0.08, signal: 2 });
const holdout: Holdout = { ...held, positives: held.y.reduce((a, b) => a + b, 0), window: { from: '2026-05', to: '2026-07' } };

let root: string;
/** Artifacts to register (copied into the registry each time, as a training run leaves one). */
const artifacts = { good: '', shuffled: '', otherFeatures: '' };
let shipped: string;

async function trainAndSave(dir: string, y: Uint8Array, featureSpec: FeatureSpec, features: number): Promise<void> {
  const data = features === train.features ? { ...train, y } : syntheticWindows({ n: 1500, seed: 9, steps: 12, features, positiveRate: 0.08 });
  const trained = await trainModel({ ...data, kind: 'mlp', epochs: 5, seed: 1 });
  try {
    await saveArtifact(dir, trained, { featureSpec, trainingWindow: { from: '2024-12', to: '2026-04' }, seed: 1 });
  } finally {
    trained.model.dispose();
  }
}

let copies = 0;
function register(registry: ModelRegistry, artifact: string, promote = true): Promise<Judged> {
  const staging = path.join(registry.root, `.training-test-${copies++}`);
  fs.mkdirSync(registry.root, { recursive: true });
  fs.cpSync(artifact, staging, { recursive: true });
  return judgeCandidate(registry, {
    stagingDir: staging,
    holdout,
    record: { createdAt: new Date().toISOString(), kind: 'mlp', featureVersion: spec.version, trainingWindow: { from: '2024-12', to: '2026-04' }, dataThrough: '2026-10', examples: train.n, positives: 120 },
    promote,
    by: 'test',
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ews-registry-'));
  artifacts.good = path.join(root, 'good');
  artifacts.shuffled = path.join(root, 'shuffled');
  artifacts.otherFeatures = path.join(root, 'other-features');
  await trainAndSave(artifacts.good, train.y, spec, 6);
  await trainAndSave(artifacts.shuffled, shuffleInPlace(Uint8Array.from(train.y), seededRandom(99)), spec, 6);
  await trainAndSave(artifacts.otherFeatures, train.y, older, 5);
  // The shipped model here is one of an older feature version: it cannot be scored on today's windows.
  shipped = path.join(root, 'shipped');
  fs.cpSync(artifacts.otherFeatures, shipped, { recursive: true });
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function fresh(name: string): ModelRegistry {
  return new ModelRegistry(path.join(root, name, 'models'), spec, shipped);
}

describe('the model registry', () => {
  it('promotes a candidate only when it beats the current model on the held-out months, and lists why not', async () => {
    const registry = fresh('judge');
    const first = await register(registry, artifacts.good);
    // The shipped model was trained on other features: it cannot be scored, and a candidate better than chance wins.
    expect(first).toMatchObject({ promoted: true, status: 'promoted' });
    expect(first.holdout.current).toMatchObject({ version: SHIPPED_VERSION, averagePrecision: null });
    expect(first.holdout.current.note).toContain('was trained on feature version test-v0');
    expect(first.reason).toMatch(/^the current model default cannot be scored on the held-out months/);
    expect(first.holdout.candidate.averagePrecision).toBeGreaterThan(0.5);
    expect(first.version).toMatch(/^\d{4}-\d{2}-\d{2}T\d{4}-[0-9a-f]{8}$/);
    expect(fs.readdirSync(first.dir).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);

    // Trained on shuffled labels: worse than the current model, not promoted, and the list says why.
    const worse = await register(registry, artifacts.shuffled);
    expect(worse).toMatchObject({ promoted: false, status: 'rejected' });
    expect(worse.reason).toMatch(new RegExp(`^(not better than the current model ${first.version}: average precision|no better than chance)`));
    expect(worse.holdout.current.version).toBe(first.version);
    expect(worse.holdout.current.averagePrecision).toBeCloseTo(first.holdout.candidate.averagePrecision ?? 0, 10);

    // The same weights again: a tie, which is not promoted.
    const tie = await register(registry, artifacts.good);
    expect(tie).toMatchObject({ promoted: false, status: 'rejected' });
    expect(tie.reason).toContain('a tie is not promoted');
    expect(tie.version).not.toBe(first.version);

    // Better but --no-promote: recorded as a candidate.
    const held = await register(fresh('no-promote'), artifacts.good, false);
    expect(held).toMatchObject({ promoted: false, status: 'candidate' });
    expect(held.reason).toMatch(/^better, but not promoted on request/);

    const listing = registry.list();
    expect(listing.current).toEqual({ version: first.version, source: 'registry', note: null });
    expect(listing.versions.map((v) => [v.version, v.current, v.status])).toEqual([
      [tie.version, false, 'rejected'],
      [worse.version, false, 'rejected'],
      [first.version, true, 'promoted'],
    ].sort((a, b) => (String(a[0]) < String(b[0]) ? 1 : -1)));
    expect(listing.versions.find((v) => v.version === worse.version)?.reason).toBe(worse.reason);
    expect(listing.shipped).toMatchObject({ version: 'default', current: false });
    expect(listing.history).toHaveLength(1);
    // Every write was whole: no temporary file left, the previous state kept beside it.
    expect(fs.readdirSync(registry.root).filter((f) => f.includes('.tmp-') || f.startsWith('.training'))).toEqual([]);
    expect(fs.existsSync(path.join(registry.root, `${REGISTRY_FILE}.bak`))).toBe(true);
  });

  it('promotes by hand and rolls back to the previous version, then to the shipped model', async () => {
    const registry = fresh('roundtrip');
    const good = await register(registry, artifacts.good);
    const worse = await register(registry, artifacts.shuffled);
    expect(worse.promoted).toBe(false);

    const promoted = await registry.promote(worse.version, 'ops-zhang');
    expect(promoted).toMatchObject({ version: worse.version, from: good.version, changed: true });
    expect(promoted.note).toContain('training had not promoted it');
    expect(resolveModelArtifact({ dataDir: path.dirname(registry.root), expected: spec, shippedDir: shipped })).toMatchObject({ version: worse.version, source: 'registry' });
    expect(await registry.promote(worse.version, 'ops-zhang')).toMatchObject({ changed: false });

    expect(await registry.rollback('ops-li')).toEqual({ from: worse.version, to: good.version, skipped: [], note: null });
    expect(registry.list().versions.find((v) => v.version === worse.version)).toMatchObject({ status: 'rolled-back', current: false });
    const back = await registry.rollback('ops-li');
    expect(back.to).toBe(SHIPPED_VERSION);
    // The shipped model here is of another feature version: rolling back to it is allowed, and said to mean rules only.
    expect(back.note).toContain('scoring will be rules only');
    expect(registry.list().current).toMatchObject({ version: SHIPPED_VERSION, source: 'shipped' });
    await expect(registry.rollback('ops-li')).rejects.toThrow('the shipped model is already current: there is nothing to roll back to');

    expect(registry.readSync().history.map((e) => [e.action, e.from, e.version, e.by])).toEqual([
      ['promote', null, good.version, 'test'],
      ['promote', good.version, worse.version, 'ops-zhang'],
      ['rollback', worse.version, good.version, 'ops-li'],
      ['rollback', good.version, null, 'ops-li'],
    ]);
  });

  it('refuses to promote a version trained on another feature version, and scoring passes it over', async () => {
    const registry = fresh('features');
    const good = await register(registry, artifacts.good);
    // The code moves on to other features: the registered version no longer fits.
    const moved: FeatureSpec = { ...spec, version: 'test-v2' };
    const after = new ModelRegistry(registry.root, moved, shipped);
    const err = await after.promote(good.version, 'ops').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      `refusing to promote ${good.version}: model ${good.dir} was trained on feature version test-v1 (6 features), this code builds test-v2 (6 features): retrain with \`npx ews train\``,
    );
    expect(after.list().versions[0]?.problem).toContain('was trained on feature version test-v1');
    const choice = resolveModelArtifact({ dataDir: path.dirname(registry.root), expected: moved, shippedDir: shipped });
    expect(choice).toMatchObject({ source: 'shipped', version: SHIPPED_VERSION });
    expect(choice.note).toContain(`registry version ${good.version} cannot be used (model ${good.dir} was trained on feature version test-v1`);
    await expect(after.promote('2020-01-01T0000-00000000', 'ops')).rejects.toThrow('no version 2020-01-01T0000-00000000 in the model registry');
  });

  it('resolves MODEL_DIR first, then the current version, then the shipped model', async () => {
    const registry = fresh('resolve');
    const dataDir = path.dirname(registry.root);
    expect(resolveModelArtifact({ dataDir, expected: spec, shippedDir: shipped })).toEqual({ dir: shipped, version: 'default', source: 'shipped', note: null });
    const good = await register(registry, artifacts.good);
    expect(resolveModelArtifact({ dataDir, expected: spec, shippedDir: shipped })).toEqual({ dir: good.dir, version: good.version, source: 'registry', note: null });
    expect(resolveModelArtifact({ configuredDir: artifacts.shuffled, dataDir, expected: spec, shippedDir: shipped })).toEqual({ dir: artifacts.shuffled, version: 'shuffled', source: 'configured', note: null });
    // A current version whose folder went missing: the shipped model, with the reason.
    fs.rmSync(path.join(good.dir, 'weights.bin'));
    expect(resolveModelArtifact({ dataDir, expected: spec, shippedDir: shipped })).toMatchObject({ dir: shipped, source: 'shipped', note: `registry version ${good.version} cannot be used (${good.dir} is incomplete: weights.bin missing)` });
  });

  it('says clearly that a damaged registry file is damaged; scoring falls back to the shipped model; concurrent writers do not lose a change', async () => {
    const registry = fresh('damaged');
    const good = await register(registry, artifacts.good);
    const worse = await register(registry, artifacts.shuffled);
    const file = path.join(registry.root, REGISTRY_FILE);
    const whole = fs.readFileSync(file, 'utf8');

    // A promotion and a rollback at once: the lock serialises them; both land in the history.
    await Promise.all([registry.promote(worse.version, 'a'), registry.rollback('b')]);
    expect(registry.readSync().history.slice(1).map((e) => e.by).sort()).toEqual(['a', 'b']);

    fs.writeFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    expect(() => registry.readSync()).toThrow(RegistryError);
    expect(() => registry.list()).toThrow(
      new RegExp(`^model registry ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON \\(.*\\): it was damaged outside ews; restore it from registry.json.bak beside it, or move it away to start an empty registry \\(the version folders stay\\)$`),
    );
    await expect(registry.promote(good.version, 'ops')).rejects.toThrow(/is not valid JSON/);
    const choice = resolveModelArtifact({ dataDir: path.dirname(registry.root), expected: spec, shippedDir: shipped });
    expect(choice).toMatchObject({ source: 'shipped', dir: shipped });
    expect(choice.note).toMatch(/^model registry .* is not valid JSON \(.*\): it was damaged outside ews; /);

    fs.writeFileSync(file, JSON.stringify({ formatVersion: 1, current: 'v9', previous: [], versions: [], history: [] }));
    expect(() => registry.readSync()).toThrow(/is not a registry \(.*current.*\)|names version v9, which it does not list/);

    // The backup is a whole earlier state.
    fs.copyFileSync(`${file}.bak`, file);
    expect(registry.readSync().versions.map((v) => v.version).sort()).toEqual([good.version, worse.version].sort());
  });
});
