import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { analyze } from '../../../engine/analyze';
import { getDevice } from '../../../engine/hardware/index';
import { parseConfig } from '../../../engine/model/parse';
import * as fmt from '../../../src/format';
import { api, hoverText, keyPosition, lenses, lensObjects, open, setSetting, waitFor } from '../helpers';

const CONFIG = 'llama-3.1-8b/config.json';
/** Published parameter count of Llama-3.1-8B (the checkpoint's safetensors index total / 2 bytes). */
const LLAMA31_8B_PARAMS = 8_030_261_248;

/** The engine's own result for the config at the given settings (what every lens must show). */
function engineDecode(text: string, hardware: string, batch: number) {
  const spec = parseConfig(text, 'config.json');
  return analyze(spec, { batch, promptTokens: 1024, generateTokens: 256, weights: spec.dtype, activations: spec.dtype, kv: spec.dtype, tp: 1 }, getDevice(hardware), { sweeps: false });
}

describe('model config: code lenses', () => {
  before(async () => {
    await api();
  });
  afterEach(async () => {
    await setSetting('hardware', undefined);
    await setSetting('batch', undefined);
    await setSetting('codeLens.enabled', undefined);
    await setSetting('servingEngine', undefined);
    await setSetting('cachedPromptTokens', undefined);
  });

  it('shows parameters, weights, KV bytes/token and decode speed above config.json', async () => {
    const doc = await open(CONFIG);
    const titles = await waitFor('config lenses', async () => {
      const t = await lenses(doc.uri);
      return t.length >= 4 ? t : undefined;
    });
    const all = titles.join('\n');
    assert.match(all, /8\.03 B params/, all);
    // bf16 weights: 8,030,261,248 x 2 bytes = 16,060,522,496 B = 14.96 GiB, shown as 15 GiB.
    assert.match(all, /weights 15 GiB \(bf16\)/, all);
    // KV per token: 2 (K and V) x 32 layers x 8 KV heads x 128 head dim x 2 bytes = 131,072 B = 128 KiB.
    assert.match(all, /KV 128 KiB\/token/, all);
    const r = engineDecode(doc.getText(), 'h100-sxm', 1);
    assert.equal(r.model.params.total, LLAMA31_8B_PARAMS);
    assert.ok(all.includes(`decode ${fmt.tokensPerS(r.decode.tokensPerS)} on ${r.hardware.name}, ${r.decode.bound}-bound`), `${all}\nexpected the engine's decode figure ${r.decode.tokensPerS}`);
    // Decode of an 8B model at batch 1 re-reads 16 GB of weights per token: memory-bound on any GPU.
    assert.equal(r.decode.bound, 'memory');
  });

  it('follows a settings change: hardware and batch', async () => {
    const doc = await open(CONFIG);
    await waitFor('lenses', async () => ((await lenses(doc.uri)).length >= 4 ? true : undefined));
    await setSetting('hardware', 'a100-80gb');
    const a100 = engineDecode(doc.getText(), 'a100-80gb', 1);
    const h100 = engineDecode(doc.getText(), 'h100-sxm', 1);
    assert.ok(a100.decode.tokensPerS < h100.decode.tokensPerS, 'less bandwidth, slower memory-bound decode');
    const expectA100 = `decode ${fmt.tokensPerS(a100.decode.tokensPerS)} on ${a100.hardware.name}`;
    await waitFor(`lens "${expectA100}"`, async () => ((await lenses(doc.uri)).some((t) => t.includes(expectA100)) ? true : undefined));
    await setSetting('batch', 16);
    const b16 = engineDecode(doc.getText(), 'a100-80gb', 16);
    assert.ok(b16.decode.tokensPerS > a100.decode.tokensPerS * 4, 'batch 16 decode throughput is far above batch 1 while memory-bound');
    const expectB16 = `decode ${fmt.tokensPerS(b16.decode.tokensPerS)} on ${b16.hardware.name}`;
    await waitFor(`lens "${expectB16}"`, async () => ((await lenses(doc.uri)).some((t) => t.includes(expectB16)) ? true : undefined));
  });

  it('follows ridgeline.servingEngine: the vLLM profile waits longer per step; an unknown id says so (RLC004)', async () => {
    const doc = await open(CONFIG);
    await waitFor('lenses', async () => ((await lenses(doc.uri)).length >= 4 ? true : undefined));
    await setSetting('servingEngine', 'vllm');
    const spec = parseConfig(doc.getText(), 'config.json');
    const w = { batch: 1, promptTokens: 1024, generateTokens: 256, weights: spec.dtype, activations: spec.dtype, kv: spec.dtype, tp: 1 };
    const vllm = analyze(spec, w, getDevice('h100-sxm'), { servingEngine: 'vllm', sweeps: false });
    const defaults = engineDecode(doc.getText(), 'h100-sxm', 1);
    // 1 ms of host work per step against 0.7 ms: 0.3 ms longer on a ~7.5 ms step.
    assert.ok(Math.abs(vllm.decode.timeS - defaults.decode.timeS - 3e-4) < 1e-12);
    const expected = `decode ${fmt.tokensPerS(vllm.decode.tokensPerS)} on ${vllm.hardware.name} with vLLM, memory-bound`;
    assert.notEqual(fmt.tokensPerS(vllm.decode.tokensPerS), fmt.tokensPerS(defaults.decode.tokensPerS));
    await waitFor(`lens "${expected}"`, async () => ((await lenses(doc.uri)).some((t) => t.includes(expected)) ? true : undefined));
    // Its tooltip says what backs the figure: the validation table's rows on the device, and those run with vLLM.
    const h = vllm.evidence.hardware!;
    const e = vllm.evidence.servingEngine!;
    assert.ok(h.rows > 0 && e.rows > 0 && e.rows < h.rows, JSON.stringify(vllm.evidence));
    const tip = (await lensObjects(doc.uri)).find((l) => l.command?.title.includes(expected))?.command?.tooltip ?? '';
    const evidence = `Published measurements on ${vllm.hardware.name}: ${h.within15} of ${h.rows} predicted within 15%, ${e.within15} of ${e.rows} with vLLM`;
    assert.ok(String(tip).includes(evidence), `tooltip "${String(tip)}" lacks "${evidence}"`);
    await setSetting('servingEngine', 'vlm');
    const d = await waitFor('RLC004', () => vscode.languages.getDiagnostics(doc.uri).find((x) => x.source === 'ridgeline' && x.code === 'RLC004'));
    assert.equal(d.message, `ridgeline.servingEngine: expected one of tensorrt-llm, vllm, vllm-v0, fastertransformer, llama.cpp or empty (got "vlm"); using the cost model's defaults`);
  });

  it('follows ridgeline.cachedPromptTokens: a prefix-cache hit shortens the prefill only; one not below the prompt says so (RLC004)', async () => {
    const doc = await open(CONFIG);
    await waitFor('lenses', async () => ((await lenses(doc.uri)).length >= 4 ? true : undefined));
    await setSetting('cachedPromptTokens', 768);
    const spec = parseConfig(doc.getText(), 'config.json');
    const w = { batch: 1, promptTokens: 1024, generateTokens: 256, weights: spec.dtype, activations: spec.dtype, kv: spec.dtype, tp: 1 };
    const hit = analyze(spec, { ...w, cachedPromptTokens: 768 }, getDevice('h100-sxm'), { sweeps: false });
    const full = engineDecode(doc.getText(), 'h100-sxm', 1);
    assert.ok(hit.prefill.timeS < full.prefill.timeS / 2, `${hit.prefill.timeS} ${full.prefill.timeS}`);
    assert.equal(hit.decode.timeS, full.decode.timeS);
    const expected = `prefill (TTFT) ${fmt.seconds(hit.prefill.timeS)} (${hit.prefill.bound}-bound, 768 of 1024 prompt tokens from the prefix cache)`;
    await waitFor(`tooltip "${expected}"`, async () => ((await lensObjects(doc.uri)).some((l) => String(l.command?.tooltip ?? '').includes(expected)) ? true : undefined));
    await setSetting('cachedPromptTokens', 1024);
    const d = await waitFor('RLC004', () => vscode.languages.getDiagnostics(doc.uri).find((x) => x.source === 'ridgeline' && x.code === 'RLC004'));
    assert.equal(d.message, 'ridgeline.cachedPromptTokens: expected an integer from 0 to 1023, fewer than ridgeline.promptTokens (got 1024); using 0');
  });

  it('a device from ridgeline.customDevices can be selected, and the lenses use it', async () => {
    const doc = await open(CONFIG);
    const mine = {
      id: 'lab-gpu',
      name: 'Lab GPU 48GB',
      memoryBytes: 48e9,
      memoryBandwidthBytesPerS: 960e9,
      peakFlopsPerS: { fp32: 45e12, fp16: 180e12, bf16: 180e12 },
      source: 'integration test',
    };
    await setSetting('customDevices', [mine]);
    await setSetting('hardware', 'lab-gpu');
    try {
      const spec = parseConfig(doc.getText(), 'config.json');
      const r = analyze(spec, { batch: 1, promptTokens: 1024, generateTokens: 256, weights: spec.dtype, activations: spec.dtype, kv: spec.dtype, tp: 1 }, { ...mine, vendor: 'custom' }, { sweeps: false });
      const expected = `decode ${fmt.tokensPerS(r.decode.tokensPerS)} on Lab GPU 48GB`;
      await waitFor(`lens "${expected}"`, async () => ((await lenses(doc.uri)).some((t) => t.includes(expected)) ? true : undefined));
    } finally {
      await setSetting('customDevices', undefined);
    }
  });

  it('a custom device the settings reject is named beside the unknown hardware id it leaves (RLC001 + RLC004)', async () => {
    const doc = await open(CONFIG);
    await setSetting('customDevices', [{ id: 'lab-gpu', memoryBytes: 48e9, memoryBandwidthBytesPerS: 960e9, peakFlopsPerS: { fp16: 180e12 }, tdpWats: 300 }]);
    await setSetting('hardware', 'lab-gpu');
    try {
      const why = await waitFor('RLC004 naming the misspelled field', () =>
        vscode.languages.getDiagnostics(doc.uri).find((x) => x.source === 'ridgeline' && x.code === 'RLC004' && /tdpWats/.test(x.message)),
      );
      assert.equal(why.message, 'ridgeline.customDevices[0](lab-gpu).tdpWats: expected a known field (did you mean tdpWatts?): id, name, vendor, source, memoryBytes, memoryBandwidthBytesPerS, peakFlopsPerS, l2CacheBytes, sharedMemoryPerSmBytes, maxSharedMemoryPerBlockBytes, smCount, maxThreadsPerSm, maxThreadsPerBlock, registersPerSm, simdWidth, maxBlocksPerSm, reservedSharedMemoryPerBlockBytes, interconnect, tdpWatts, memoryEfficiencyScale, memoryEfficiencySource, computeEfficiencyScale, computeEfficiencySource, quantizedMemoryEfficiencyScale, quantizedMemoryEfficiencySource, fp16AccumulateFlopsPerS, measured; this entry is skipped');
      assert.ok(vscode.languages.getDiagnostics(doc.uri).some((x) => x.source === 'ridgeline' && x.code === 'RLC001' && /unknown hardware id "lab-gpu"/.test(x.message)));
    } finally {
      await setSetting('customDevices', undefined);
      await setSetting('hardware', undefined);
    }
  });

  it('an out-of-range setting falls back to its default and says so (RLC004)', async () => {
    const doc = await open(CONFIG);
    await setSetting('batch', 0);
    const d = await waitFor('RLC004', () => vscode.languages.getDiagnostics(doc.uri).find((x) => x.source === 'ridgeline' && x.code === 'RLC004'));
    assert.equal(d.message, 'ridgeline.batch: expected an integer from 1 to 4096 (got 0); using 1');
  });

  it('can be turned off with ridgeline.codeLens.enabled', async () => {
    const doc = await open(CONFIG);
    await setSetting('codeLens.enabled', false);
    await waitFor('no ridgeline lenses', async () => ((await lenses(doc.uri)).every((t) => !/params|tok\/s/.test(t)) ? true : undefined));
    await setSetting('codeLens.enabled', true);
    await waitFor('lenses back', async () => ((await lenses(doc.uri)).some((t) => t.includes('params')) ? true : undefined));
  });

  it('shows no lenses on JSON that is not a model config', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'json', content: '{ "name": "not-a-model", "version": "1.0.0" }' });
    assert.deepEqual((await lenses(doc.uri)).filter((t) => /params|tok\/s/.test(t)), []);
  });
});

describe('model config: hovers', () => {
  it('num_key_value_heads: what halving it saves, recomputed by the engine', async () => {
    await api();
    const doc = await open(CONFIG);
    const text = await waitFor('hover', async () => {
      const t = await hoverText(doc.uri, keyPosition(doc, 'num_key_value_heads'));
      return t.includes('num_key_value_heads') ? t : undefined;
    });
    // 8 -> 4 KV heads: KV bytes/token 128 KiB -> 64 KiB, i.e. 64 KiB x 1024 = 64 MiB less per 1k tokens.
    assert.match(text, /halve `num_key_value_heads`[^\n]*KV cache saves 64 MiB per 1k tokens of context/, text);
  });

  it('num_hidden_layers, intermediate_size, vocab_size, torch_dtype explain their cost', async () => {
    const doc = await open(CONFIG);
    const layers = await hoverText(doc.uri, keyPosition(doc, 'num_hidden_layers'));
    // One layer of Llama-3.1-8B: attention 4096x(4096+1024+1024+4096) + MLP 3x4096x14336 + 2 norms x 4096
    // = 41,943,040 + 176,160,768 + 8,192 = 218,112,000 params, shown as 218 M; KV 2x8x128x2 B = 4 KiB/token.
    assert.match(layers, /remove one layer[^\n]*params -218 M/, layers);
    assert.match(layers, /saves 4 MiB per 1k tokens/, layers);
    const inter = await hoverText(doc.uri, keyPosition(doc, 'intermediate_size'));
    // Halving 14336 -> 7168 removes 32 layers x 3 x 4096 x 7168 = 2,818,572,288 params.
    assert.match(inter, /params -2\.82 B/, inter);
    const vocab = await hoverText(doc.uri, keyPosition(doc, 'vocab_size'));
    // Untied embeddings and LM head: 2 x 64,128 x 4096 = 525,336,576 params fewer at half the vocabulary.
    assert.match(vocab, /params -525 M/, vocab);
    const dtype = await hoverText(doc.uri, keyPosition(doc, 'torch_dtype'));
    // float32 doubles the weights: +16,060,522,496 B = +14.96 GiB, shown as +15 GiB.
    assert.match(dtype, /store the weights in float32[^\n]*weights \+15 GiB/, dtype);
  });

  it('torch_dtype under llama.cpp with Q4_K_M weights: the settings and the profile fix every format', async () => {
    const doc = await open(CONFIG);
    await setSetting('servingEngine', 'llama.cpp');
    await setSetting('weightsFormat', 'q4_k_m');
    try {
      const text = await waitFor('hover', async () => {
        const t = await hoverText(doc.uri, keyPosition(doc, 'torch_dtype'));
        return /llama\.cpp profile/.test(t) ? t : undefined;
      });
      // Q4_K_M weights, and llama.cpp's fp16 cache and fp16 activations for quantized weights: float32 changes nothing.
      assert.match(text, /store the weights in float32[^\n]*no change in cost \(ridgeline\.weightsFormat, the llama\.cpp profile \(the fp16 KV cache and fp16 activations\) set the formats/, text);
    } finally {
      await setSetting('servingEngine', undefined);
      await setSetting('weightsFormat', undefined);
    }
  });

  it('num_local_experts (Mixtral): every expert costs memory, only top-k cost time', async () => {
    const doc = await open('models/mixtral-8x7b.json');
    const text = await waitFor('hover', async () => {
      const t = await hoverText(doc.uri, keyPosition(doc, 'num_local_experts'));
      return t.includes('num_local_experts') ? t : undefined;
    });
    // 8 -> 4 experts: 4 experts x 32 layers x 3 x 4096 x 14336 = 22,548,578,304 expert params, plus the
    // router (4096 x 4 x 32 = 524,288): 22,549,102,592 fewer, shown as -22.5 B.
    assert.match(text, /halve `num_local_experts`[^\n]*params -22\.5 B/, text);
  });

  it('max_position_embeddings and sliding_window: evaluated at the full context', async () => {
    const llama = await open(CONFIG);
    const full = await hoverText(llama.uri, keyPosition(llama, 'max_position_embeddings'));
    // One sequence at 131,072 tokens x 128 KiB/token = 16 GiB of KV cache (Llama-3.1-8B, bf16).
    assert.match(full, /fill the whole context \(at 131,072 tokens of context, batch 1\): KV cache 16 GiB/, full);
    const mistral = await open('models/mistral-7b-v0.1.json');
    const win = await hoverText(mistral.uri, keyPosition(mistral, 'sliding_window'));
    // Mistral-7B: 128 KiB/token; the 4096-token window caps the cache near 512 MiB at 32,768 tokens of
    // context; without it: 32,768 x 128 KiB = 4 GiB, about 3.5 GiB more.
    assert.match(win, /turn the window off \(full attention\) \(at 32,768 tokens of context, batch 1\): KV cache 4 GiB \(\+3\.5 GiB\)/, win);
    // Its per-1k KV figures hold only below the window, and say so.
    assert.match(win, /KV 128 MiB per 1k tokens, up to the 4,096-token window of the windowed layers/, win);
  });

  it('sliding_window on Gemma 3 turns full attention off for real (its family defaults a null window to 4096)', async () => {
    const gemma = await open('models/gemma-3-1b.json');
    const win = await waitFor('hover', async () => {
      const t = await hoverText(gemma.uri, keyPosition(gemma, 'sliding_window'));
      return t.includes('sliding_window') ? t : undefined;
    });
    // 26 layers x 1 KV head x 256 x 2 (K, V) x 2 B = 26 KiB/token: 32,768 tokens of full attention = 832 MiB; with
    // 22 layers windowed at 512 tokens the cache is 139 MiB.
    assert.match(win, /turn the window off \(full attention\) \(at 32,768 tokens of context, batch 1\): KV cache 832 MiB \(\+693 MiB\)/, win);
    // Its lens: 999,885,952 params read 1 B, not 1000 M.
    assert.ok((await lenses(gemma.uri)).some((t) => t.includes('1 B params')), (await lenses(gemma.uri)).join(' | '));
  });

  it('fields a layout does not use say so; a multimodal config is hovered in its text_config; expert routing shows active params', async () => {
    const ds = await open('models/deepseek-v2-lite.json');
    const kv = await waitFor('hover', async () => {
      const t = await hoverText(ds.uri, keyPosition(ds, 'num_key_value_heads'));
      return t.includes('num_key_value_heads') ? t : undefined;
    });
    assert.match(kv, /It does not enter this model's cost: this model caches a compressed latent per token \(MLA/, kv);
    assert.doesNotMatch(kv, /If you halve/);
    // google/gemma-3-12b-it keeps its sizes in text_config: halving its KV heads (8 -> 4) over 48 layers of 256-wide
    // heads saves 48 x 4 x 256 x 2 x 2 B = 192 KiB per token, 192 MiB per 1k tokens.
    const mm = await open('models/gemma-3-12b-it.json');
    const nested = await waitFor('hover', async () => {
      const t = await hoverText(mm.uri, keyPosition(mm, 'num_key_value_heads'));
      return t.includes('num_key_value_heads') ? t : undefined;
    });
    assert.match(nested, /halve `num_key_value_heads`[^\n]*KV cache saves 192 MiB per 1k tokens of context, up to the 1,024-token window/, nested);
    // Mixtral top-2 -> top-1: 32 layers x 3 x 4096 x 14336 = 5.64 B fewer active params (12.9 B -> 7.24 B).
    const mixtral = await open('models/mixtral-8x7b.json');
    const topk = await hoverText(mixtral.uri, keyPosition(mixtral, 'num_experts_per_tok'));
    assert.match(topk, /halve `num_experts_per_tok`[^\n]*active params -5\.64 B \(7\.24 B\)/, topk);
  });
});

