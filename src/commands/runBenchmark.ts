// Jetbench: Run Benchmark. Quick-pick steps device -> model (built-in or a workspace .onnx) ->
// backend -> precision -> iterations, each starting from the last choice.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PRECISIONS } from '../../contract/protocolValues';
import type { BackendId, BackendStatus, Precision, RunSpec } from '../../contract/protocol';
import { BUILTIN_BASES, impliedPrecision, isBuiltinModel } from '../../contract/modelNames';
import { specBase } from '../specs/specCodeLens';
import { completeSpec, quotedProblem } from '../../contract/runSpec';
import { lastFirst } from '../runs/livePhase';
import { runBenchmarkSession, type RunOutcome } from '../runs/runSession';
import type { JetbenchContext } from '../vscode/context';
import { pickDevice, requireRunsFolder } from './picks';
import { MODEL_SEARCH_EXCLUDE, MODEL_SEARCH_INCLUDE } from './modelSearch';
import { progressReporter, showError, showWarning } from '../vscode/notify';

const MODEL_NOTES: Record<string, string> = {
  tiny: 'a few ms on a CPU: for trying things out',
  yolov5n: 'YOLOv5 nano, 640x640',
  yolov5s: 'YOLOv5 small, 640x640 (the research model)',
  yolov5m: 'YOLOv5 medium, 640x640',
  'nanodet-g': 'a trained COCO detector (NanoDet-g, 416x416): detections that mean something; fetched once (145 MB)',
};

/** The models the picker offers: the generated built-ins and the trained one fetched on first use. */
const PICKER_MODELS: readonly string[] = [...BUILTIN_BASES, 'nanodet-g'];

const STEPS = 5;

function stepTitle(step: number, what: string): string {
  return `Jetbench: Run Benchmark (${step}/${STEPS}) — ${what}`;
}

/** Built-in models and the workspace's .onnx files; "Browse…" for any other file. */
async function pickModel(last: string | undefined): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(MODEL_SEARCH_INCLUDE, MODEL_SEARCH_EXCLUDE, 200);
  type Item = vscode.QuickPickItem & { value: string };
  const builtins: Item[] = PICKER_MODELS.map((b) => ({ label: b, value: b, description: 'built-in', detail: MODEL_NOTES[b] }));
  const workspace: Item[] = files
    .map((f) => ({ label: vscode.workspace.asRelativePath(f), value: f.fsPath, description: 'workspace .onnx' }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const browse: Item = { label: '$(folder-opened) Browse…', value: '<browse>', description: 'an .onnx file elsewhere' };
  const items = [...lastFirst(builtins, last), ...lastFirst(workspace, last), browse];
  const pick = await vscode.window.showQuickPick(items, { title: stepTitle(2, 'model'), placeHolder: 'Model', ignoreFocusOut: true, matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.value !== '<browse>') return pick.value;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX model': ['onnx'] }, title: 'ONNX model to benchmark' });
  return chosen?.[0]?.fsPath;
}

async function pickBackend(backends: BackendStatus[], last: BackendId | undefined): Promise<BackendId | undefined> {
  const items = lastFirst(
    backends.map((b) => ({
      label: b.id,
      value: b.id,
      description: b.available ? `${b.version ?? ''} · ${b.precisions.join(', ')}` : 'unavailable',
      detail: b.available ? undefined : (b.reason ?? undefined),
    })),
    last,
  );
  for (;;) {
    const pick = await vscode.window.showQuickPick(items, { title: stepTitle(3, 'backend'), placeHolder: 'Backend', ignoreFocusOut: true });
    if (!pick) return undefined;
    const status = backends.find((b) => b.id === pick.value);
    if (status?.available) return pick.value as BackendId;
    await showWarning(`${pick.value} cannot run on this device: ${status?.reason ?? 'unavailable'}`);
  }
}

async function pickPrecision(offered: readonly Precision[], implied: Precision, last: Precision | undefined): Promise<Precision | undefined> {
  const items = lastFirst(
    offered.map((p) => ({ label: p, value: p, description: p === implied ? "the model's own" : undefined })),
    last ?? implied,
  );
  const pick = await vscode.window.showQuickPick(items, { title: stepTitle(4, 'precision'), placeHolder: 'Precision', ignoreFocusOut: true });
  return pick?.value as Precision | undefined;
}

async function askIterations(initial: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: stepTitle(5, 'iterations'),
    prompt: 'Measured iterations (warm-up runs first and is not counted)',
    value: String(initial),
    ignoreFocusOut: true,
    validateInput: (v) => (/^\s*\d+\s*$/.test(v) && Number(v) >= 1 ? null : 'A whole number of at least 1'),
  });
  return text === undefined ? undefined : Number(text.trim());
}

/** The spec from the pickers; undefined when the user cancelled a step. */
async function specFromPicks(ctx: JetbenchContext, given: Partial<RunSpec>): Promise<RunSpec | undefined> {
  const last = ctx.lastChoices;
  const s = ctx.settings.value;
  const device = given.device ?? (await pickDevice(ctx, stepTitle(1, 'device'), last.device));
  if (!device) return undefined;
  let backends: BackendStatus[];
  try {
    const client = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Connecting to ${device}…` }, (progress) =>
      ctx.devices.connect(device, progressReporter(progress)),
    );
    backends = client.backends ?? [];
  } catch (e) {
    void showError(`Cannot connect to ${device}: ${(e as Error).message}`);
    return undefined;
  }
  const model = given.model ?? (await pickModel(last.model));
  if (!model) return undefined;
  const backend = given.backend ?? (await pickBackend(backends, last.backend));
  if (!backend) return undefined;
  const implied = impliedPrecision(model);
  // A built-in base comes in every precision (variants, or converted by the backend); a file, or a
  // built-in variant, runs as stored on ONNX Runtime.
  const status = backends.find((b) => b.id === backend);
  const base = isBuiltinModel(model) && implied === 'fp32';
  const offered = base ? (status?.precisions ?? PRECISIONS) : [implied];
  const precision = given.precision ?? (offered.length === 1 ? offered[0]! : await pickPrecision(offered, implied, last.precision));
  if (!precision) return undefined;
  const iterations = given.iterations ?? (await askIterations(last.iterations ?? s.iterations));
  if (!iterations) return undefined;
  await ctx.rememberChoices({ device, model, backend, precision, iterations });
  return completeSpec({ device, model, backend, precision, iterations }, specBase(s, device)).spec ?? undefined;
}

/** `jetbench.runBenchmark [partial spec]`: with a `model`, runs it at once (the rest from the
 * settings, as a spec file's run); otherwise asks. Returns the outcome, or undefined if cancelled. */
export function runBenchmark(ctx: JetbenchContext) {
  return async (given?: unknown): Promise<RunOutcome | undefined> => {
    const folder = await requireRunsFolder();
    if (!folder) return undefined;
    const partial = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
    let spec: RunSpec | undefined;
    if (partial.model !== undefined) {
      const completed = completeSpec(partial, specBase(ctx.settings.value, ctx.activeDevice));
      if (!completed.spec) {
        void showError(`Jetbench: cannot run that: ${completed.problems.map(quotedProblem).join('; ')}`);
        return undefined;
      }
      spec = completed.spec;
    } else {
      spec = await specFromPicks(ctx, typeof partial.device === 'string' ? { device: partial.device } : {});
    }
    if (!spec) return undefined;
    if (path.isAbsolute(spec.model) && spec.device !== 'local') {
      ctx.output.appendLine(`model ${spec.model} is a path on this machine; on '${spec.device}' it must exist at the same path`);
    }
    await ctx.setActiveDevice(spec.device);
    return runBenchmarkSession(ctx, spec, folder);
  };
}
