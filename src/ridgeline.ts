/**
 * The extension's state and its command implementations. Commands return plain values (the analysis,
 * the written file, a refusal) so that scripts and tests can call them; the UI around them is
 * notifications, quick picks and the output channel.
 */
import * as vscode from 'vscode';
import { ConfigService } from './configs';
import { analyzeConfigText, applyDeviceSettings, device, devices, editorLine, engineProfile, engineProfiles, type AnalysisResult, type Device } from './engine';
import * as fmt from './format';
import { KernelService } from './kernels';
import { GpuService } from './gpu';
import { renderComparison, renderReport, REPORT_FORMATS, type ReportFormat } from './report';
import { kernelExecutionAllowed, readSettings, SECTION, type Settings } from './settings';
import { StatusBar } from './statusBar';
import { loadMeasuredDevice } from '../engine/gpu/measured';
import { measuredDeviceChanged } from './panels/index';

export interface Refusal {
  refused: true;
  reason: string;
}


export class Ridgeline implements vscode.Disposable {
  readonly configs: ConfigService;
  readonly kernels: KernelService;
  readonly gpu: GpuService;
  readonly status: StatusBar;
  private current: Settings;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.current = readSettings();
    this.configs = new ConfigService(() => this.current, log);
    this.status = new StatusBar();
    this.kernels = new KernelService(context, () => this.current, log);
    this.gpu = new GpuService(context, log, this.status);
    this.applySettings();
  }

  get settings(): Settings {
    return this.current;
  }

  /** The device measured on this machine (the file `ridgeline bench` and Run Device Benchmark write). */
  measuredDevice(): Device | null {
    try {
      return loadMeasuredDevice();
    } catch (e) {
      this.log.warn(editorLine(e));
      return null;
    }
  }

  /** Status bar: the adapter of an earlier measurement (file of `ridgeline bench`), until probed again. */
  showMeasuredAdapter(): void {
    if (this.status.state.kind !== 'unknown') return;
    const d = this.measuredDevice();
    if (d?.measured) this.status.setGpu({ kind: 'ready', adapter: `${d.measured.adapter}, measured ${d.measured.dateIso.slice(0, 10)}`, software: /software|swiftshader|llvmpipe|lavapipe/i.test(d.measured.adapter) });
  }

  /** Status bar: "kernels off" from the start where kernels may not run (untrusted workspace, or the setting off),
   *  and back to the adapter state once they may. */
  showKernelGate(): void {
    // A run in flight shows its own progress; the gate is applied again when it ends.
    if (this.gpu?.running) return;
    const g = kernelExecutionAllowed(this.current);
    const kind = this.status.state.kind;
    if (!g.allowed) this.status.setGpu({ kind: 'blocked', reason: g.reason! });
    else if (g.allowed && kind === 'blocked') {
      this.status.setGpu({ kind: 'unknown' });
      this.showMeasuredAdapter();
    }
  }

  /** Re-reads settings, pushes devices into the engine, updates the status bar. */
  applySettings(): void {
    this.current = readSettings();
    // Devices the engine rejects are reported like any other settings problem (RLC004, output channel).
    // `this` reads the measured file each time; a damaged one throws, and the analysis names the file and the
    // problem (as the CLI does) instead of "no measured device".
    this.current.problems.push(...applyDeviceSettings(this.current, () => loadMeasuredDevice()));
    for (const p of this.current.problems) this.log.warn(p);
    this.showKernelGate();
    try {
      const d = device(this.current.hardware);
      this.status.setHardware(d.name, d.id);
    } catch (e) {
      this.status.setHardware(this.current.hardware, this.current.hardware, editorLine(e));
    }
  }

  onSettingsChanged(): void {
    this.applySettings();
    this.configs.invalidate();
    this.kernels.invalidate();
  }

  reportError(what: string, e: unknown): void {
    const line = editorLine(e);
    this.log.error(`${what}: ${e instanceof Error && !(e as { exitCode?: number }).exitCode ? e.stack ?? line : line}`);
    void vscode.window.showErrorMessage(`Ridgeline: ${line}`);
  }

  /**
   * Writes a setting where it takes effect: the workspace settings when the workspace sets it (a user-level
   * write would be shadowed and change nothing), else the user settings.
   */
  async setSetting(key: string, value: unknown): Promise<void> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const at = cfg.inspect(key);
    const inWorkspace = at?.workspaceValue !== undefined || at?.workspaceFolderValue !== undefined;
    const target = inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await cfg.update(key, value, target);
  }

  /** A config document: the one given, else the active editor's, else one picked from the workspace. */
  async resolveConfig(uri?: vscode.Uri, prompt = 'Pick a model config'): Promise<vscode.TextDocument | undefined> {
    if (uri) return vscode.workspace.openTextDocument(uri);
    const active = vscode.window.activeTextEditor?.document;
    if (active && this.configs.isConfig(active)) return active;
    const files = await vscode.workspace.findFiles('**/*.json', '**/node_modules/**', 500);
    const picks: Array<vscode.QuickPickItem & { uri: vscode.Uri }> = [];
    for (const f of files) {
      const doc = await vscode.workspace.openTextDocument(f);
      if (this.configs.isConfig(doc)) picks.push({ label: vscode.workspace.asRelativePath(f), uri: f });
    }
    if (picks.length === 0) {
      void vscode.window.showWarningMessage('Ridgeline: open a Hugging Face config.json first (a JSON file with "architectures" or "model_type").');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(picks, { placeHolder: prompt });
    return pick ? vscode.workspace.openTextDocument(pick.uri) : undefined;
  }

  private analyzeDoc(doc: vscode.TextDocument): AnalysisResult {
    const st = this.configs.state(doc);
    if (!st) throw new Error(`${vscode.workspace.asRelativePath(doc.uri)}: not a model config (no "architectures" or "model_type")`);
    if (st.error || !st.analysis) {
      // Re-run to throw the engine's own error (one line naming the file and field).
      analyzeConfigText(doc.getText(), doc.uri.fsPath, this.current);
    }
    return st.analysis!.result;
  }

  // ---- commands ----

  async analyzeConfigCommand(uri?: vscode.Uri): Promise<AnalysisResult | undefined> {
    const doc = await this.resolveConfig(uri);
    if (!doc) return undefined;
    const r = this.analyzeDoc(doc);
    this.configs.refreshDiagnostics(doc);
    const w = r.workload;
    const lines = [
      `${r.model.name} on ${r.hardware.name}: batch ${w.batch}, prompt ${w.promptTokens}, generate ${w.generateTokens}, weights ${w.weights}, KV ${w.kv}${w.tp > 1 ? `, tp ${w.tp}` : ''}${r.costModel.servingEngine ? `, ${r.costModel.servingEngine.name}` : ''}`,
      `  params ${r.model.params.total.toLocaleString('en-US')} (${r.model.params.active.toLocaleString('en-US')} active); attention ${r.model.attention.kind} ${r.model.attention.heads}/${r.model.attention.kvHeads} heads`,
      `  memory: weights ${fmt.bytes(r.memory.weightsBytes)}, KV ${fmt.bytes(r.memory.kvCacheBytes)}, activations ${fmt.bytes(r.memory.activationsBytes)}, total ${fmt.bytes(r.memory.totalBytes)} of ${fmt.bytes(r.memory.usableBytes)} usable (of ${fmt.bytes(r.memory.deviceBytes)}): ${r.memory.fits ? 'fits' : 'does NOT fit'}`,
      `  prefill ${fmt.seconds(r.prefill.timeS)} (${r.prefill.bound}-bound); decode ${fmt.seconds(r.decode.timeS)}/step, ${fmt.tokensPerS(r.decode.tokensPerS)} (${r.decode.bound}-bound); e2e ${fmt.seconds(r.e2e.timeS)}, ${fmt.tokensPerS(r.e2e.outputTokensPerS)}`,
      ...r.warnings.map((x) => `  warning: ${x}`),
    ];
    for (const l of lines) this.log.info(l);
    void vscode.window
      .showInformationMessage(
        `Ridgeline: ${r.model.name} on ${r.hardware.name}: decode ${fmt.tokensPerS(r.decode.tokensPerS)} (${r.decode.bound}-bound), TTFT ${fmt.seconds(r.prefill.timeS)}, ${r.memory.fits ? 'fits' : 'does not fit'} (${fmt.bytes(r.memory.totalBytes)})`,
        'Show Roofline',
        'Export Report',
      )
      .then((choice) => {
        if (choice === 'Show Roofline') void vscode.commands.executeCommand('ridgeline.showRoofline', doc.uri);
        if (choice === 'Export Report') void vscode.commands.executeCommand('ridgeline.exportReport', undefined, undefined, doc.uri);
      });
    return r;
  }

  async selectHardwareCommand(id?: string): Promise<string | undefined> {
    let chosen = id;
    if (!chosen) {
      const measured = this.measuredDevice();
      const items: Array<vscode.QuickPickItem & { id: string }> = devices().map((d) => ({
        id: d.id,
        label: d.name,
        description: d.id,
        detail: `${fmt.bytes(d.memoryBytes)}, ${fmt.rate(d.memoryBandwidthBytesPerS, 'B')}, fp16 ${d.peakFlopsPerS.fp16 ? fmt.rate(d.peakFlopsPerS.fp16, 'FLOP') : 'n/a'}`,
        picked: d.id === this.current.hardware,
      }));
      if (measured) items.unshift({ id: 'this', label: `This machine: ${measured.name}`, description: 'this', detail: 'measured by Run Device Benchmark' });
      const pick = await vscode.window.showQuickPick(items, { placeHolder: `Hardware for estimates (now ${this.current.hardware})`, matchOnDescription: true, matchOnDetail: true });
      chosen = pick?.id;
    }
    if (!chosen) return undefined;
    const d = device(chosen); // throws a clear line on an unknown id
    await this.setSetting('hardware', d.id === chosen.toLowerCase() ? d.id : chosen);
    this.log.info(`hardware: ${d.name} (${d.id})`);
    return chosen;
  }

  /**
   * Sets ridgeline.servingEngine: the id given (an empty string clears it: the cost model's defaults), or one
   * picked from the profiles. An unknown id throws (the command reports it) and changes nothing.
   */
  async selectServingEngineCommand(id?: string): Promise<string | undefined> {
    let chosen = id;
    if (chosen === undefined) {
      const describe = (p: Record<string, unknown>) => {
        const parts: string[] = [];
        if (typeof p.forwardOverheadS === 'number') parts.push(`host work ${fmt.seconds(p.forwardOverheadS)} per step`);
        if (typeof p.sequenceOverheadS === 'number' && p.sequenceOverheadS > 0) parts.push(`${fmt.seconds(p.sequenceOverheadS)} more per sequence of the batch`);
        if (p.fusedAttention === false) parts.push('unfused attention');
        if (p.groupedDecodeAttention === false) parts.push('per-head decode attention');
        if (typeof p.launchOverheadS === 'number') parts.push(`${fmt.seconds(p.launchOverheadS)} per kernel`);
        if (typeof p.allreduceLatencyS === 'number') parts.push(`all-reduce ${fmt.seconds(p.allreduceLatencyS)} per call${typeof p.allreduceStepLatencyS === 'number' ? ` + ${fmt.seconds(p.allreduceStepLatencyS)} per ring step` : ''}`);
        if (typeof p.prefillChunkTokens === 'number' && p.prefillChunkTokens > 0) parts.push(`prompt in chunks of ${p.prefillChunkTokens} tokens`);
        if (p.fp16AccumulateGemm === true) parts.push('fp16-accumulate GEMMs');
        if (typeof p.matrixUnitComputeScale === 'number' && p.matrixUnitComputeScale !== 1) parts.push(`tensor-core GEMM and attention kernels at ${p.matrixUnitComputeScale} of the default efficiency`);
        if (p.blockRescaleGemm === true) parts.push('quantized prompt GEMMs rescaled per 32-wide block (MMQ)');
        if (typeof p.quantizedGemmComputeScale === 'number' && p.quantizedGemmComputeScale !== 1) parts.push(`quantized prompt GEMMs at ${p.quantizedGemmComputeScale} of the default efficiency`);
        return parts.length ? parts.join(', ') : 'the cost model defaults';
      };
      const items: Array<vscode.QuickPickItem & { id: string }> = [
        { id: '', label: 'No engine profile', description: 'defaults', detail: 'the cost model defaults, fitted mostly on TensorRT-LLM measurements', picked: this.current.servingEngine === '' },
        ...engineProfiles().map((e) => ({ id: e.id, label: e.name, description: e.id, detail: describe(e.params as Record<string, unknown>), picked: e.id === this.current.servingEngine })),
      ];
      const pick = await vscode.window.showQuickPick(items, { placeHolder: `Serving engine for estimates (now ${this.current.servingEngine || 'none'})`, matchOnDescription: true });
      if (!pick) return undefined;
      chosen = pick.id;
    }
    const profile = chosen.trim() === '' ? null : engineProfile(chosen);
    await this.setSetting('servingEngine', profile ? profile.id : undefined);
    this.log.info(`serving engine: ${profile ? profile.name : 'none (cost model defaults)'}`);
    return profile ? profile.id : '';
  }

  async analyzeKernelsCommand(uri?: vscode.Uri) {
    const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc) {
      void vscode.window.showWarningMessage('Ridgeline: open a .cu, .cuh, .wgsl or Triton (.py) file first.');
      return undefined;
    }
    const report = await this.kernels.analyze(doc, true);
    if (!report) {
      void vscode.window.showWarningMessage(`Ridgeline: ${vscode.workspace.asRelativePath(doc.uri)} is not a CUDA, Triton or WGSL kernel file.`);
      return undefined;
    }
    this.log.info(`kernels in ${vscode.workspace.asRelativePath(doc.uri)}: ${report.kernels.length}, diagnostics: ${report.diagnostics.length}`);
    for (const k of report.kernels) {
      const e = k.estimate;
      this.log.info(
        `  ${k.name} (line ${k.line}): workgroup ${k.workgroupSize ? k.workgroupSize.join('x') : '?'}, shared ${k.sharedMemoryBytes === null ? '?' : fmt.bytes(k.sharedMemoryBytes)}` +
          (e ? `, ${fmt.count(e.flops)}FLOP, ${fmt.bytes(e.bytes)}, intensity ${e.intensity.toFixed(2)}${e.device ? `, ${e.device.bound}-bound, ${fmt.seconds(e.device.timeS)} on ${e.device.id}` : ''}` : k.estimateUnavailable ? ` (${k.estimateUnavailable})` : ''),
      );
    }
    return report;
  }

  /** Kernels run only in trusted workspaces with ridgeline.allowKernelExecution on. */
  private guardKernelExecution(what: string): Refusal | undefined {
    const g = kernelExecutionAllowed(this.current);
    if (g.allowed) return undefined;
    const reason = g.reason!;
    this.log.warn(`${what} refused: ${reason}`);
    this.status.setGpu({ kind: 'blocked', reason });
    void vscode.window.showWarningMessage(`Ridgeline: ${reason}`, 'Manage Workspace Trust').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return { refused: true, reason };
  }

  async profileKernelCommand(uri?: vscode.Uri, kernel?: string) {
    const refusal = this.guardKernelExecution('Profile Kernel');
    if (refusal) return refusal;
    const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== 'wgsl') {
      void vscode.window.showWarningMessage('Ridgeline: Profile Kernel runs WGSL compute kernels; open a .wgsl file.');
      return undefined;
    }
    try {
      return await this.gpu.profile(doc, kernel, this.current, await this.kernels.analyze(doc, false), () => this.kernels.analyzerInstance());
    } finally {
      // The setting may have changed while it ran.
      this.showKernelGate();
    }
  }

  async runBenchmarkCommand() {
    const refusal = this.guardKernelExecution('Run Device Benchmark');
    if (refusal) return refusal;
    const result = await this.gpu.benchmark().finally(() => this.showKernelGate());
    if (result?.device) {
      // Lenses, hovers and diagnostics on `this` recompute with the new measurement (the settings are unchanged,
      // so no configuration event would tell them).
      this.onSettingsChanged();
      measuredDeviceChanged();
      void vscode.window.showInformationMessage(`Ridgeline: measured ${result.device.name}. Select hardware "this" to estimate on it.`, 'Use It').then((c) => {
        if (c) void this.selectHardwareCommand('this');
      });
    }
    return result;
  }

  async exportReportCommand(format?: string, target?: vscode.Uri, config?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const doc = await this.resolveConfig(config, 'Pick the model config to report on');
    if (!doc) return undefined;
    let f = format?.toLowerCase() as ReportFormat | undefined;
    if (!f) {
      const pick = await vscode.window.showQuickPick(
        REPORT_FORMATS.map((x) => ({ label: x.toUpperCase(), id: x })),
        { placeHolder: 'Report format' },
      );
      f = pick?.id;
    }
    if (!f) return undefined;
    if (!REPORT_FORMATS.includes(f)) throw new Error(`report format: expected one of ${REPORT_FORMATS.join(', ')} (got "${format}")`);
    const r = analyzeConfigText(doc.getText(), doc.uri.fsPath, this.current, { sweeps: true }).result;
    const ext = f === 'markdown' ? 'md' : f;
    let out = target;
    if (!out) {
      const base = vscode.Uri.joinPath(doc.uri, '..', `ridgeline-report.${ext}`);
      out = await vscode.window.showSaveDialog({ defaultUri: base, filters: { [f.toUpperCase()]: [ext] } });
    }
    if (!out) return undefined;
    await vscode.workspace.fs.writeFile(out, new TextEncoder().encode(renderReport(f, r)));
    this.log.info(`report written: ${out.fsPath}`);
    void vscode.window.showInformationMessage(`Ridgeline: report written to ${vscode.workspace.asRelativePath(out)}`, 'Open').then((c) => {
      if (c) void vscode.commands.executeCommand('vscode.open', out);
    });
    return out;
  }

  async compareConfigsCommand(a?: vscode.Uri, b?: vscode.Uri): Promise<{ a: AnalysisResult; b: AnalysisResult; document: vscode.TextDocument } | undefined> {
    const docA = await this.resolveConfig(a, 'First config to compare');
    if (!docA) return undefined;
    const docB = b ? await vscode.workspace.openTextDocument(b) : await this.resolveConfig(undefined, 'Second config to compare');
    if (!docB) return undefined;
    const ra = this.analyzeDoc(docA);
    const rb = this.analyzeDoc(docB);
    const text = renderComparison(ra, rb);
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: text });
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return { a: ra, b: rb, document };
  }

  async openWalkthroughCommand(): Promise<void> {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${this.context.extension.id}#gettingStarted`, false);
  }

  dispose(): void {
    this.configs.dispose();
    this.kernels.dispose();
    this.gpu.dispose();
    this.status.dispose();
  }
}
