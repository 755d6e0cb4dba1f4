import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearRegisteredDevices, closeMatches, getDevice, listDevices, loadDeviceFile, registerDevices, setMeasuredDeviceLoader } from '../../engine/hardware/index';
import { RidgelineError } from '../../engine/errors';
import { costParamsFor, defaultCostParams } from '../../engine/cost/params';
import { renderDevicesTable } from '../../engine/report/hardware';

const IDS = [
  'h100-sxm', 'h100-pcie', 'h200', 'b200', 'a100-80gb', 'a100-40gb', 'l40s', 'l4', 'a10g', 't4', 'v100', 'rtx-4090',
  'rtx-3090', 'quadro-rtx-8000', 'rtx-a6000', 'mi300x', 'mi250x', 'apple-m2-ultra', 'apple-m3-max', 'cpu-generic',
];

test('the database has every required id, spelled exactly', () => {
  const ids = listDevices().map((d) => d.id);
  for (const id of IDS) assert.ok(ids.includes(id), id);
});

test('every device has positive memory, bandwidth, a 16/32-bit peak and a source', () => {
  for (const d of listDevices()) {
    assert.ok(d.memoryBytes > 0 && d.memoryBandwidthBytesPerS > 0, d.id);
    assert.ok((d.peakFlopsPerS.fp16 ?? d.peakFlopsPerS.fp32 ?? 0) > 0, d.id);
    assert.ok(d.source.length > 20, d.id);
    for (const v of Object.values(d.peakFlopsPerS)) assert.ok(Number.isFinite(v) && v! > 0, d.id);
  }
});

test('peaks are dense datasheet figures, not 2:4 sparse ones', () => {
  // NVIDIA H100 SXM datasheet: FP16 tensor 1,979 TFLOPS *with sparsity*; dense is half.
  assert.equal(getDevice('h100-sxm').peakFlopsPerS.fp16, 989.4e12);
  assert.equal(getDevice('h100-sxm').peakFlopsPerS.fp8, 1978.9e12);
  // A100 datasheet: FP16 312 TFLOPS dense (624 sparse), 2,039 GB/s for the 80GB SXM.
  const a = getDevice('a100-80gb');
  assert.equal(a.peakFlopsPerS.fp16, 312e12);
  assert.equal(a.memoryBandwidthBytesPerS, 2.039e12);
  // Ridge point of the A100 80GB at fp16: 312e12 / 2.039e12 = 153 FLOP/byte.
  assert.ok(Math.abs(a.peakFlopsPerS.fp16! / a.memoryBandwidthBytesPerS - 153.0) < 0.1);
  // No fp8 on Ampere; no bf16 on Turing/Volta.
  assert.equal(a.peakFlopsPerS.fp8, undefined);
  assert.equal(getDevice('t4').peakFlopsPerS.bf16, undefined);
  // Every device: the fp8 peak is at most ~2x fp16 (L40S: 733 vs 362.05 = 2.02x; a sparse figure would show as 4x).
  for (const d of listDevices()) {
    if (d.peakFlopsPerS.fp8 && d.peakFlopsPerS.fp16) assert.ok(d.peakFlopsPerS.fp8 <= 2.05 * d.peakFlopsPerS.fp16, d.id);
  }
});

test('unknown hardware id: exit-2 error listing close matches', () => {
  assert.throws(
    () => getDevice('a100'),
    (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /unknown hardware id "a100"/.test(e.message) && /a100-80gb/.test(e.message) && /a100-40gb/.test(e.message),
  );
  assert.ok(closeMatches('h100', listDevices().map((d) => d.id)).includes('h100-sxm'));
  assert.ok(closeMatches('rtx4090', listDevices().map((d) => d.id)).includes('rtx-4090'));
});

test('ids are case-insensitive', () => {
  assert.equal(getDevice('H100-SXM').id, 'h100-sxm');
});

function tmpFile(name: string, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-hw-'));
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

const GOOD = { id: 'my-gpu', name: 'My GPU', memoryBytes: 16e9, memoryBandwidthBytesPerS: 500e9, peakFlopsPerS: { fp16: 100e12 }, source: 'my own measurements' };

test('user device files: good file registers; bad fields name file and field', () => {
  const ok = tmpFile('ok.json', JSON.stringify({ devices: [GOOD] }));
  registerDevices(loadDeviceFile(ok), ok);
  assert.equal(getDevice('my-gpu').memoryBandwidthBytesPerS, 500e9);
  clearRegisteredDevices();
  assert.throws(() => getDevice('my-gpu'), RidgelineError);

  const missing = tmpFile('missing.json', JSON.stringify({ devices: [{ ...GOOD, memoryBandwidthBytesPerS: undefined }] }));
  assert.throws(() => loadDeviceFile(missing), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && e.message.includes(missing) && /memoryBandwidthBytesPerS: expected a positive number from 1e6 to 1e15$/.test(e.message));
  const negative = tmpFile('neg.json', JSON.stringify([{ ...GOOD, memoryBytes: -1 }]));
  assert.throws(() => loadDeviceFile(negative), (e: unknown) => e instanceof RidgelineError && /memoryBytes/.test(e.message) && /got -1/.test(e.message));
  const badDtype = tmpFile('dtype.json', JSON.stringify([{ ...GOOD, peakFlopsPerS: { fp12: 1e12 } }]));
  assert.throws(() => loadDeviceFile(badDtype), (e: unknown) => e instanceof RidgelineError && /peakFlopsPerS\.fp12/.test(e.message));
  const notJson = tmpFile('bad.json', '{ devices: ');
  assert.throws(() => loadDeviceFile(notJson), (e: unknown) => e instanceof RidgelineError && e.message.startsWith(`${notJson}: malformed JSON at line 1, column 3: expected a device file`));
  assert.throws(() => loadDeviceFile(join(tmpdir(), 'no-such-ridgeline-file.json')), (e: unknown) => e instanceof RidgelineError && /readable device file \(JSON\): no such file$/.test(e.message));
});

test('device files: unit mistakes, fractional counts, duplicate ids, an empty list, binary data and non-files are refused', () => {
  const bad = (name: string, devices: unknown, want: RegExp) => {
    const f = tmpFile(name, JSON.stringify(devices));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && e.message.startsWith(`${f}: `) && want.test(e.message), name);
  };
  // Bandwidth in GB/s where bytes/s belong, or a typo of 300 orders of magnitude: every op would cost forever or nothing.
  bad('bw-low.json', [{ ...GOOD, memoryBandwidthBytesPerS: 500 }], /devices\[0\]\(my-gpu\)\.memoryBandwidthBytesPerS: expected a positive number from 1e6 to 1e15 \(got 500\)$/);
  bad('bw-high.json', [{ ...GOOD, memoryBandwidthBytesPerS: 1e300 }], /memoryBandwidthBytesPerS: expected a positive number from 1e6 to 1e15 \(got 1e\+300\)$/);
  bad('mem.json', [{ ...GOOD, memoryBytes: 1e300 }], /memoryBytes: expected a positive number from 2\^20 to 2\^50/);
  bad('peak.json', [{ ...GOOD, peakFlopsPerS: { fp16: 1e308 } }], /peakFlopsPerS\.fp16: expected a positive number from 1e6 to 1e18/);
  bad('sm.json', [{ ...GOOD, smCount: 1.5 }], /smCount: expected a positive integer from 1 to 1e8 \(got 1\.5\)$/);
  bad('tdp.json', [{ ...GOOD, tdpWatts: 1e9 }], /tdpWatts: expected a positive number from 0\.1 to 1e5/);
  bad('reserved.json', [{ ...GOOD, reservedSharedMemoryPerBlockBytes: -1 }], /reservedSharedMemoryPerBlockBytes: expected a whole number of bytes from 0 to 2\^20 \(got -1\)$/);
  bad('blocks.json', [{ ...GOOD, maxBlocksPerSm: 0 }], /maxBlocksPerSm: expected a positive integer from 1 to 1e8 \(got 0\)$/);
  bad('empty.json', [], /devices: expected at least one device \(the array is empty\)$/);
  bad('dup.json', { devices: [GOOD, { ...GOOD, name: 'Other' }] }, /devices\[1\]\.id: expected an id not used by an earlier device of the file \(got "my-gpu"\)$/);
  // The edges of the ranges are accepted.
  const edges = tmpFile('edges.json', JSON.stringify([{ ...GOOD, memoryBandwidthBytesPerS: 1e6, memoryBytes: 2 ** 50, peakFlopsPerS: { fp16: 1e18 }, smCount: 1, reservedSharedMemoryPerBlockBytes: 0 }]));
  assert.equal(loadDeviceFile(edges)[0]!.memoryBandwidthBytesPerS, 1e6);
  const binary = tmpFile('bin.json', Buffer.from([0x7b, 0x00, 0xff, 0x22]).toString('latin1'));
  assert.throws(() => loadDeviceFile(binary), (e: unknown) => e instanceof RidgelineError && /readable device file \(JSON\): binary content/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-devdir-'));
  assert.throws(() => loadDeviceFile(dir), (e: unknown) => e instanceof RidgelineError && e.message === `${dir}: expected a readable device file (JSON): is a directory`);
  // A character device never ends: refused before it is opened.
  assert.throws(() => loadDeviceFile('/dev/zero'), (e: unknown) => e instanceof RidgelineError && e.message === '/dev/zero: expected a readable device file (JSON): a character device, not a regular file');
});

test('device files: misspelled fields, the id `this`, a measured block without its adapter and a device without a float peak are refused', () => {
  const bad = (name: string, devices: unknown, want: RegExp) => {
    const f = tmpFile(name, JSON.stringify(devices));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && e.message.startsWith(`${f}: `) && want.test(e.message), name);
  };
  // A misspelled optional field would have been dropped without a word (tdpWats: no energy estimate).
  bad('typo.json', [{ ...GOOD, tdpWats: 400 }], /devices\[0\]\(my-gpu\)\.tdpWats: expected a known field \(did you mean tdpWatts\?\): id, name, vendor, /);
  bad('typo-l2.json', [{ ...GOOD, l2CachBytes: 1 << 20 }], /\.l2CachBytes: expected a known field \(did you mean l2CacheBytes\?\)/);
  bad('typo-link.json', [{ ...GOOD, interconnect: { kind: 'NVLink', bandwidthBytesPerS: 1e11, latency: 1 } }], /\.interconnect\.latency: expected a known field: kind, bandwidthBytesPerS, groupSize, beyondGroup$/);
  bad('this.json', [{ ...GOOD, id: 'This' }], /devices\[0\]\(this\)\.id: expected an id other than "this", which names the device `ridgeline bench` measured on this machine$/);
  const measured = { adapter: 'a colleague\'s GPU', dispatchOverheadS: 5e-6, dateIso: '2026-01-01T00:00:00Z' };
  bad('m-adapter.json', [{ ...GOOD, measured: { ...measured, adapter: undefined } }], /\.measured\.adapter: expected a non-empty string$/);
  bad('m-date.json', [{ ...GOOD, measured: { ...measured, dateIso: 7 } }], /\.measured\.dateIso: expected a non-empty string \(got 7\)$/);
  bad('m-eff.json', [{ ...GOOD, measured: { ...measured, efficiency: { foo: 0.5 } } }], /\.measured\.efficiency\.foo: expected a known field: gemm, gemm\.compute, gemm\.memory, attention, /);
  // Float math needs a float roof: an int8 peak alone would price fp16 GEMMs and norms at the integer unit's rate.
  bad('int8-only.json', [{ ...GOOD, peakFlopsPerS: { int8: 6e14 } }], /\.peakFlopsPerS: expected at least one floating-point peak: fp32, fp16 or bf16$/);
  // Comments ($-prefixed keys) pass; a measured block with its fields and class keys passes; the vendor is lowercased.
  const ok = tmpFile('ok-extra.json', JSON.stringify([{ ...GOOD, $comment: 'copied from the datasheet', vendor: ' NVIDIA ', measured: { ...measured, efficiency: { gemm: 0.6, 'attention.memory': 0.7 } } }]));
  assert.equal(loadDeviceFile(ok)[0]!.vendor, 'nvidia');
  // Settings and other registrations go through the same checks.
  assert.throws(() => registerDevices([{ ...GOOD, id: 'this' } as never], 'settings'), (e: unknown) => e instanceof RidgelineError && /^settings: device\(this\)\.id: expected an id other than "this"/.test(e.message));
  assert.throws(() => getDevice('my-gpu'), RidgelineError);
});

test('the measured device file is checked like a device file when `this` is used', () => {
  const measured = { ...GOOD, id: 'this', vendor: 'x', measured: { adapter: 'test adapter', dispatchOverheadS: 5e-6, dateIso: '2026-01-01T00:00:00Z' } };
  setMeasuredDeviceLoader(() => ({ ...measured, name: undefined as unknown as string }));
  assert.throws(() => getDevice('this'), (e: unknown) => e instanceof RidgelineError && /device\(this\)\.name: expected a non-empty string$/.test(e.message));
  setMeasuredDeviceLoader(() => ({ ...measured, memoryBytes: 1e300 }));
  assert.throws(() => getDevice('this'), (e: unknown) => e instanceof RidgelineError && /device\(this\)\.memoryBytes: expected a positive number from 2\^20 to 2\^50/.test(e.message));
  setMeasuredDeviceLoader(() => measured);
  assert.equal(getDevice('this').name, GOOD.name);
  setMeasuredDeviceLoader(null);
});

test('a device may scale the memory efficiencies (its kernels reach less of the datasheet bandwidth); the scale is checked', () => {
  // The M2 Ultra carries 0.81, calibrated on one llama.cpp generation row: GEMM reads at 0.86 x 0.81 = 0.6966 of 800 GB/s.
  const m2 = getDevice('apple-m2-ultra');
  assert.equal(m2.memoryEfficiencyScale, 0.81);
  assert.ok((m2.memoryEfficiencySource ?? '').includes('#10238'));
  const p = costParamsFor(m2);
  const d = defaultCostParams();
  for (const c of ['gemm', 'attention', 'elementwise', 'norm'] as const) assert.ok(Math.abs(p.efficiency[c].memory - d.efficiency[c].memory * 0.81) < 1e-12, c);
  assert.equal(p.efficiency.comm.memory, d.efficiency.comm.memory);
  assert.equal(p.efficiency.gemm.compute, d.efficiency.gemm.compute);
  assert.match(p.origin, /memory efficiencies x 0\.81, memory efficiency of quantized matrix-vector products x 0\.85 on apple-m2-ultra/);
  const mine = tmpFile('scaled.json', JSON.stringify([{ ...GOOD, id: 'scaled', memoryEfficiencyScale: 0.5 }]));
  registerDevices(loadDeviceFile(mine), mine);
  assert.equal(costParamsFor(getDevice('scaled')).efficiency.gemm.memory, d.efficiency.gemm.memory * 0.5);
  clearRegisteredDevices();
  for (const bad of [0, 1.5, '0.8']) {
    const f = tmpFile('badscale.json', JSON.stringify([{ ...GOOD, memoryEfficiencyScale: bad }]));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /memoryEfficiencyScale: expected a fraction in \(0, 1\]/.test(e.message), String(bad));
  }
});

test('a device may scale the compute efficiencies of its matrix kernels (clock under dense GEMMs); the scale is checked', () => {
  // The MI300X: its datasheet peaks assume 2,100 MHz; AMD's max-achievable-FLOPs runs hold a median 1,207 MHz in BF16.
  const mi = getDevice('mi300x');
  assert.equal(mi.computeEfficiencyScale, Math.round((1207 / 2100) * 100) / 100);
  assert.ok((mi.computeEfficiencySource ?? '').includes('Max-Achievable'));
  const p = costParamsFor(mi);
  const d = defaultCostParams();
  for (const c of ['gemm', 'attention'] as const) assert.ok(Math.abs(p.efficiency[c].compute - d.efficiency[c].compute * 0.57) < 1e-12, c);
  for (const c of ['elementwise', 'norm', 'comm'] as const) assert.equal(p.efficiency[c].compute, d.efficiency[c].compute, c);
  assert.equal(p.efficiency.gemm.memory, d.efficiency.gemm.memory);
  assert.match(p.origin, /GEMM and attention compute efficiencies x 0\.57 on mi300x/);
  // Both scales at once name both.
  const mine = tmpFile('cscaled.json', JSON.stringify([{ ...GOOD, id: 'cscaled', computeEfficiencyScale: 0.5, memoryEfficiencyScale: 0.9 }]));
  registerDevices(loadDeviceFile(mine), mine);
  const q = costParamsFor(getDevice('cscaled'));
  assert.equal(q.efficiency.gemm.compute, d.efficiency.gemm.compute * 0.5);
  assert.equal(q.efficiency.gemm.memory, d.efficiency.gemm.memory * 0.9);
  assert.match(q.origin, /memory efficiencies x 0\.9, GEMM and attention compute efficiencies x 0\.5 on cscaled/);
  clearRegisteredDevices();
  for (const bad of [0, -0.2, 1.01, '0.5', null]) {
    const f = tmpFile('badcscale.json', JSON.stringify([{ ...GOOD, computeEfficiencyScale: bad }]));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /computeEfficiencyScale: expected a fraction in \(0, 1\]/.test(e.message), String(bad));
  }
});

test('a device may scale the memory efficiency of quantized matrix-vector products (the Apple chips: 0.85); the figure is checked', () => {
  assert.equal(costParamsFor(getDevice('apple-m2-ultra')).quantizedWeightMemoryScale, 0.85);
  assert.match(costParamsFor(getDevice('apple-m3-max')).origin, /memory efficiency of quantized matrix-vector products x 0\.85 on apple-m3-max/);
  assert.equal(costParamsFor(getDevice('h100-sxm')).quantizedWeightMemoryScale, 1);
  assert.ok((getDevice('apple-m2-ultra').quantizedMemoryEfficiencySource ?? '').includes('calibration'));
  // A measured device's own efficiencies replace the datasheet-derived factors, this one included.
  const m2 = getDevice('apple-m2-ultra');
  const measured = { ...m2, measured: { adapter: 'Apple M2 Ultra', dispatchOverheadS: 5e-6, efficiency: { 'gemm.memory': 0.6 }, dateIso: '2026-01-01T00:00:00Z' } };
  assert.equal(costParamsFor(measured).quantizedWeightMemoryScale, 1);
  assert.equal(costParamsFor(measured).efficiency.gemm.memory, 0.6);
  for (const bad of [0, 1.5, '0.85']) {
    const f = tmpFile('badqscale.json', JSON.stringify([{ ...GOOD, quantizedMemoryEfficiencyScale: bad }]));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /quantizedMemoryEfficiencyScale: expected a fraction in \(0, 1\]/.test(e.message), String(bad));
  }
});

test('a device may list its fp16-accumulate tensor peak (GeForce); the figure is checked', () => {
  // GA102 and Ada whitepapers: FP16 tensor with FP16 accumulate 142 and 330.3 TFLOPS dense, twice the FP32-accumulate figure.
  assert.equal(getDevice('rtx-3090').fp16AccumulateFlopsPerS, 2 * getDevice('rtx-3090').peakFlopsPerS.fp16!);
  assert.equal(getDevice('rtx-4090').fp16AccumulateFlopsPerS, 330.3e12);
  for (const bad of [-1, 0, '142e12']) {
    const f = tmpFile('badacc.json', JSON.stringify([{ ...GOOD, fp16AccumulateFlopsPerS: bad }]));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /fp16AccumulateFlopsPerS: expected a positive number/.test(e.message), String(bad));
  }
});

test('the MI250X is one GCD, as ROCm and --tp count it: half the data sheet\'s card', () => {
  // AMD MI250X data sheet (the card): 128 GB HBM2e, 3.2768 TB/s, 383 TFLOPS FP16, 220 CUs, 560 W, over two GCDs.
  const d = getDevice('mi250x');
  assert.equal(d.memoryBytes, 64 * 2 ** 30);
  assert.equal(d.memoryBandwidthBytesPerS, 3.2768e12 / 2);
  assert.equal(d.peakFlopsPerS.fp16, 383e12 / 2);
  assert.equal(d.smCount, 220 / 2);
  assert.equal(d.tdpWatts, 560 / 2);
  // OLCF Frontier node: the card's two GCDs share four links (200 GB/s per direction); cards, one or two (50 or 100).
  assert.equal(d.interconnect?.bandwidthBytesPerS, 200e9);
  assert.equal(d.interconnect?.groupSize, 2);
  assert.equal(d.interconnect?.beyondGroup?.bandwidthBytesPerS, 50e9);
  // The device table shows the slower link in its notes.
  assert.match(renderDevicesTable([d]), /^mi250x .* 200 GB\/s +280 W .* link beyond 2 devices 50\.0 GB\/s$/m);
});

test('device files: a link group needs an integer size of 2 or more and the link beyond it', () => {
  const link = { kind: 'Fabric', bandwidthBytesPerS: 100e9 };
  const ok = tmpFile('group.json', JSON.stringify([{ ...GOOD, interconnect: { ...link, groupSize: 4, beyondGroup: { kind: 'PCIe', bandwidthBytesPerS: 25e9 } } }]));
  assert.equal(loadDeviceFile(ok)[0].interconnect?.beyondGroup?.bandwidthBytesPerS, 25e9);
  const bad = (name: string, interconnect: unknown, want: RegExp) => {
    const f = tmpFile(name, JSON.stringify([{ ...GOOD, interconnect }]));
    assert.throws(() => loadDeviceFile(f), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && want.test(e.message), `${name}: ${want}`);
  };
  bad('g1.json', { ...link, groupSize: 1, beyondGroup: link }, /interconnect\.groupSize: expected an integer from 2 to 1024/);
  bad('g2.json', { ...link, groupSize: 2.5, beyondGroup: link }, /interconnect\.groupSize/);
  bad('g3.json', { ...link, groupSize: 2 }, /interconnect\.beyondGroup: expected \{ kind, bandwidthBytesPerS \}/);
  bad('g4.json', { ...link, beyondGroup: link }, /interconnect\.groupSize/);
  bad('g5.json', { ...link, groupSize: 2, beyondGroup: { kind: 'x', bandwidthBytesPerS: -1 } }, /interconnect\.beyondGroup\.bandwidthBytesPerS: expected a positive number/);
  bad('g6.json', { ...link, groupSize: 2, beyondGroup: { kind: 'x', bandwidthBytesPerS: 1e9, latency: 1 } }, /interconnect\.beyondGroup\.latency: expected a known field/);
});

test('`this` needs a measured device', () => {
  setMeasuredDeviceLoader(() => null);
  assert.throws(() => getDevice('this'), (e: unknown) => e instanceof RidgelineError && e.exitCode === 2 && /run `ridgeline bench` first/.test(e.message));
  setMeasuredDeviceLoader(() => ({ ...GOOD, id: 'this', vendor: 'x', measured: { adapter: 'test adapter', dispatchOverheadS: 5e-6, dateIso: '2026-01-01T00:00:00Z' } }));
  assert.equal(getDevice('this').measured?.adapter, 'test adapter');
  setMeasuredDeviceLoader(null);
});
