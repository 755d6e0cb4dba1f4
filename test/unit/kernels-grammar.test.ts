import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

// Tokenizes with the same engine VS Code uses (vscode-textmate + oniguruma), from syntaxes/.
const root = join(__dirname, '../..');

async function registry(): Promise<vsctm.Registry> {
  const wasm = readFileSync(join(root, 'node_modules/vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  return new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope: string) => {
      if (scope !== 'source.wgsl') return null;
      const file = join(root, 'syntaxes/wgsl.tmLanguage.json');
      return vsctm.parseRawGrammar(readFileSync(file, 'utf8'), file);
    },
  });
}

function tokenize(grammar: vsctm.IGrammar, text: string): Array<{ text: string; scopes: string[] }> {
  const out: Array<{ text: string; scopes: string[] }> = [];
  let state = vsctm.INITIAL;
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) out.push({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    state = r.ruleStack;
  }
  return out;
}

function scopeOf(tokens: Array<{ text: string; scopes: string[] }>, text: string): string {
  const t = tokens.find((x) => x.text === text);
  assert.ok(t, `token ${JSON.stringify(text)}`);
  return t.scopes.join(' ');
}

test('WGSL grammar: scope source.wgsl; attributes, declarations, types, builtins, comments, annotations', async () => {
  const grammar = await (await registry()).loadGrammar('source.wgsl');
  assert.ok(grammar);
  const src = readFileSync(join(root, 'samples/kernels/matmul_tiled.wgsl'), 'utf8');
  const tokens = tokenize(grammar, src);
  assert.ok(tokens.every((t) => t.scopes[0] === 'source.wgsl'));
  assert.match(scopeOf(tokens, 'compute'), /storage\.modifier\.attribute\.stage\.wgsl/);
  assert.match(scopeOf(tokens, 'workgroup_size'), /storage\.modifier\.attribute\.wgsl/);
  assert.match(scopeOf(tokens, 'matmul'), /entity\.name\.function\.wgsl/);
  assert.match(scopeOf(tokens, 'Dims'), /entity\.name\.type\.struct\.wgsl/);
  assert.match(scopeOf(tokens, 'workgroup'), /storage\.modifier\.address-space\.wgsl/);
  assert.match(scopeOf(tokens, 'read_write'), /storage\.modifier\.access\.wgsl/);
  assert.match(scopeOf(tokens, 'f32'), /support\.type\.builtin\.wgsl/);
  assert.match(scopeOf(tokens, 'workgroupBarrier'), /support\.function\.barrier\.wgsl/);
  assert.match(scopeOf(tokens, 'global_invocation_id'), /support\.constant\.builtin-value\.wgsl/);
  assert.match(scopeOf(tokens, 'for'), /keyword\.control\.wgsl/);
  assert.match(scopeOf(tokens, '16u'), /constant\.numeric\.integer\.wgsl/);
  assert.match(scopeOf(tokens, '0.0'), /constant\.numeric\.float\.wgsl/);
  // the annotation comment: keys and values get their own scopes inside the comment
  assert.match(scopeOf(tokens, 'ridgeline'), /comment\.line\.double-slash\.ridgeline-annotation\.wgsl.*keyword\.other\.ridgeline\.wgsl/);
  assert.match(scopeOf(tokens, 'dispatch'), /variable\.parameter\.ridgeline\.wgsl/);
  // an ordinary comment stays one comment token
  assert.match(scopeOf(tokens, ' Tiled f32 matmul C = A * B (row-major), TILE x TILE workgroups, tiles staged in workgroup memory.'), /comment\.line\.double-slash\.wgsl/);
});

test('WGSL grammar: nested block comments end where they should', async () => {
  const grammar = (await (await registry()).loadGrammar('source.wgsl'))!;
  const tokens = tokenize(grammar, '/* a /* b */ c */ fn f() {}');
  assert.match(scopeOf(tokens, ' c '), /comment\.block\.wgsl/);
  assert.match(scopeOf(tokens, 'f'), /entity\.name\.function\.wgsl/);
});

test('language configuration: comments and brackets', () => {
  const cfg = JSON.parse(readFileSync(join(root, 'syntaxes/wgsl-language-configuration.json'), 'utf8'));
  assert.equal(cfg.comments.lineComment, '//');
  assert.deepEqual(cfg.comments.blockComment, ['/*', '*/']);
  assert.deepEqual(cfg.brackets, [['{', '}'], ['[', ']'], ['(', ')']]);
  const inj = JSON.parse(readFileSync(join(root, 'syntaxes/ridgeline-annotations.injection.json'), 'utf8'));
  assert.equal(inj.scopeName, 'ridgeline.annotation.injection');
});
