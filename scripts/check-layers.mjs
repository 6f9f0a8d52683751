#!/usr/bin/env node
// npm run check:layers — where code may import from and where SQL may live:
//
//   1. no import cycle among the project's files, counting `import type`,
//      re-exports and import() too (a cycle of types alone still ties two
//      files together for a reader);
//   2. no import from a higher layer (the table LAYERS below, lowest first),
//      and the few extra bans in BANNED;
//   3. no SQL outside a repository, a migration, services/db/, test/ or
//      bench/: the `queryPlacement` ESLint rules of eslint.config.mjs (kysely's
//      `sql`, query builders, pool/client.query with SQL text), run here on
//      syntax only through scripts/eslint.queries.config.mjs.
//   Same-layer imports between peer folders (services/scoring →
//   services/notify) are listed to watch, not failed.
//
// Imports are read with TypeScript's parser (no type check); relative
// specifiers only are followed ('./x.js' is the file './x.ts' under
// NodeNext). One line per problem; exit 1 on any. Flags: --json
// (machine-readable), --quiet (no same-layer list), --no-queries (skip 3).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIRS = ['config', 'sql', 'services', 'models', 'workers', 'bench', 'test', 'bin', 'scripts'];
const SKIP = new Set(['node_modules', 'data', 'outbox', 'tmp', 'coverage']);
const EXTS = ['.ts', '.mts', '.mjs', '.js'];

/**
 * Lowest first; a file may import from its own layer or any lower one. The
 * first pattern that matches a path (relative to the root, '/'-separated)
 * names its layer. In a layer with `peers`, an import from another of its
 * folders (services/scoring → services/notify) is allowed but listed.
 */
const LAYERS = [
  { name: 'config', match: [/^config\//] },
  // The types and code rules every stage shares (sql/schema.ts types its columns with them).
  { name: 'services/domain', match: [/^services\/domain\//] },
  // Plumbing with no domain in it: the tables, the database, the log, the thread pool.
  { name: 'sql, services/db, services/log, services/threads', match: [/^sql\//, /^services\/db\//, /^services\/log\.ts$/, /^services\/threads\//], peers: true },
  { name: 'models', match: [/^models\//] },
  { name: 'services stages', match: [/^services\/(feeds|synth|scoring|notify|alerts|evaluation|access)\//], peers: true },
  { name: 'services/nightly, services/console, services/api', match: [/^services\/(nightly|console|api)\//], peers: true },
  { name: 'workers', match: [/^workers\//] },
  { name: 'bench, test, bin, scripts', match: [/^bench\//, /^test\//, /^bin\//, /^scripts\//] },
];

/** Imports that the order alone would allow but that are still wrong. */
const BANNED = [
  // The model code is tfjs and plain numbers: it sees the domain types and the log, not the database.
  { from: /^models\//, to: /^(services\/db\/|sql\/)/, why: 'models/ may use services/domain, services/log and services/threads only' },
  // Stages and processors run in the queue's workers too: the CLI calls them, not the other way round.
  { from: /^workers\/(?!cli\/)/, to: /^workers\/cli\//, why: 'workers/ outside cli/ must not import the CLI (workers/cli/)' },
];

function layerOf(rel) {
  const i = LAYERS.findIndex((l) => l.match.some((re) => re.test(rel)));
  return i;
}

/** The folder a file belongs to for the same-layer report: services/<x>, or the top folder. */
function groupOf(rel) {
  const parts = rel.split('/');
  if (parts[0] === 'services' && parts.length > 2) return `services/${parts[1]}`;
  return parts.length > 1 ? parts[0] : rel;
}

function listFiles() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (EXTS.some((x) => e.name.endsWith(x)) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const d of DIRS) if (fs.existsSync(path.join(ROOT, d))) walk(path.join(ROOT, d));
  return out;
}

/** Every module specifier in a file, with how it is imported. */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const kind = file.endsWith('.ts') || file.endsWith('.mts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found = [];
  const add = (node, spec, how) => {
    const line = src.getLineAndCharacterOfPosition(node.getStart(src)).line + 1;
    found.push({ spec, how, line });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier.text, typeOnly ? 'type' : 'import');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly ? 'type' : 're-export');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) add(node, e.text, 'import');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = node.arguments[0];
      if (a && ts.isStringLiteralLike(a)) add(node, a.text, 'dynamic');
    } else if (ts.isImportTypeNode(node)) {
      const a = node.argument;
      if (ts.isLiteralTypeNode(a) && ts.isStringLiteral(a.literal)) add(node, a.literal.text, 'type');
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

/** './x.js' from dir → the project file it names, or undefined for a package or a missing file. */
function resolve(fromFile, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), spec);
  const tries = [base];
  const m = /\.(m?)js$/.exec(base);
  if (m) tries.unshift(base.slice(0, -m[0].length) + (m[1] ? '.mts' : '.ts'));
  if (!path.extname(base)) tries.push(...EXTS.map((x) => base + x), ...EXTS.map((x) => path.join(base, 'index' + x)));
  return tries.find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
}

/** Tarjan's strongly connected components; those of more than one file (or a self-import) are cycles. */
function cycles(nodes, edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (edges.get(v) ?? new Set()).has(v)) out.push(comp.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) strong(v);
  return out;
}

/** One shortest loop through the component's first file, for the message. */
function loopIn(comp, edges) {
  const inComp = new Set(comp);
  const start = comp[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of edges.get(v) ?? []) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const loop = [start];
        for (let u = v; u !== start; u = prev.get(u)) loop.splice(1, 0, u);
        return [...loop, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return comp;
}

/** Part 3: the queryPlacement rules over the whole tree. */
async function queryProblems() {
  const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: path.join(ROOT, 'scripts/eslint.queries.config.mjs') });
  const results = await eslint.lintFiles(['.']);
  return results.flatMap((r) =>
    r.messages.map((m) => ({ file: path.relative(ROOT, r.filePath).split(path.sep).join('/'), line: m.line, column: m.column, rule: m.ruleId, message: m.message })),
  );
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const files = listFiles();
  const rel = (p) => path.relative(ROOT, p).split(path.sep).join('/');
  const edges = new Map();
  const how = new Map(); // 'a\0b' → { how, line }
  const layerProblems = [];
  const sameLayer = [];
  const unplaced = [];

  for (const file of files) {
    const from = rel(file);
    const fromLayer = layerOf(from);
    if (fromLayer < 0) unplaced.push(from);
    const targets = new Set();
    for (const imp of importsOf(file)) {
      const target = resolve(file, imp.spec);
      if (target === undefined) continue;
      const to = rel(target);
      targets.add(to);
      const key = `${from}\0${to}`;
      // Name a value import over a type-only one when a file has both.
      if (!how.has(key) || (how.get(key).how === 'type' && imp.how !== 'type')) how.set(key, imp);
      if (fromLayer < 0) continue;
      const toLayer = layerOf(to);
      const where = `${from}:${imp.line}`;
      if (toLayer > fromLayer) {
        layerProblems.push({ file: from, line: imp.line, to, how: imp.how, why: `layer "${LAYERS[fromLayer].name}" imports from higher layer "${LAYERS[toLayer].name}"` });
      } else {
        const ban = BANNED.find((b) => b.from.test(from) && b.to.test(to));
        if (ban) layerProblems.push({ file: from, line: imp.line, to, how: imp.how, why: ban.why });
        else if (toLayer === fromLayer && LAYERS[toLayer].peers && groupOf(from) !== groupOf(to)) {
          sameLayer.push({ file: from, line: imp.line, to, how: imp.how, where });
        }
      }
    }
    edges.set(from, targets);
  }

  const loops = cycles([...edges.keys()].sort(), edges).map((comp) => {
    const inComp = new Set(comp);
    const step = (a, b) => {
      const h = how.get(`${a}\0${b}`);
      return { from: a, to: b, how: h.how, line: h.line };
    };
    const loop = loopIn(comp, edges);
    const shortest = loop.slice(0, -1).map((a, i) => step(a, loop[i + 1]));
    // Every import inside the component: cutting enough of these breaks it.
    const within = comp.flatMap((a) => [...(edges.get(a) ?? [])].filter((b) => inComp.has(b)).sort().map((b) => step(a, b)));
    return { files: comp, loop: shortest, within };
  });

  const queries = args.has('--no-queries') ? [] : await queryProblems();

  if (args.has('--json')) {
    process.stdout.write(JSON.stringify({ files: files.length, cycles: loops, layers: layerProblems, queries, sameLayer, unplaced }, null, 2) + '\n');
  } else {
    const say = (s) => process.stdout.write(s + '\n');
    for (const c of loops) {
      say(`cycle (${c.files.length} files): ${c.files.join(', ')}`);
      say(`    shortest loop: ${[...c.loop.map((s) => s.from), c.loop[0].from].join(' → ')}`);
      for (const s of c.within) say(`    ${s.from}:${s.line} → ${s.to} (${s.how})`);
    }
    for (const p of layerProblems) say(`layer: ${p.file}:${p.line} → ${p.to} (${p.how}): ${p.why}`);
    for (const q of queries) say(`query: ${q.file}:${q.line}:${q.column}: ${q.message}${q.rule ? '' : ' (parse error)'}`);
    for (const u of unplaced) say(`unplaced: ${u} is in no layer (add it to LAYERS in scripts/check-layers.mjs)`);
    if (!args.has('--quiet') && sameLayer.length > 0) {
      say(`same layer, other folder (allowed, listed to watch): ${sameLayer.length}`);
      for (const s of sameLayer) say(`    ${s.where} → ${s.to} (${s.how})`);
    }
    const bad = loops.length + layerProblems.length + queries.length + unplaced.length;
    say(
      `check-layers: ${files.length} files, ${loops.length} cycles, ${layerProblems.length} layer problems, ` +
        `${args.has('--no-queries') ? 'queries not checked' : `${queries.length} SQL outside repositories`}` +
        `${unplaced.length ? `, ${unplaced.length} unplaced` : ''}${bad ? '' : ': ok'}`,
    );
  }
  process.exitCode = loops.length + layerProblems.length + queries.length + unplaced.length > 0 ? 1 : 0;
}

await main();
