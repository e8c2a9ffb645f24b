// CodeLenses on spec files (`*.jetbench.json`): "Run on <device>" above each run, "Run all" at the
// top, and the problem instead of a lens where a run cannot be completed.
import * as vscode from 'vscode';
import type { JetbenchSettings } from '../vscode/settingsModel';
import { parseSpecFile, type ParsedSpecFile } from './specFile';
import type { SpecBase } from '../../contract/runSpec';

export const SPEC_SELECTOR: vscode.DocumentSelector = [{ pattern: '**/*.jetbench.json' }];

export function specBase(settings: Readonly<JetbenchSettings>, activeDevice: string): SpecBase {
  return { device: activeDevice, warmup: settings.warmup, iterations: settings.iterations, trials: settings.trials, threads: settings.threads };
}

export class SpecCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly base: () => SpecBase) {}

  /** Settings or the active device changed: the lenses' device names may have. */
  refresh(): void {
    this.changed.fire();
  }

  parse(document: vscode.TextDocument): ParsedSpecFile {
    return parseSpecFile(document.getText(), this.base());
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const parsed = this.parse(document);
    const lenses: vscode.CodeLens[] = [];
    const top = new vscode.Range(0, 0, 0, 0);
    if (parsed.problems.length > 0) {
      lenses.push(new vscode.CodeLens(top, { title: `$(warning) ${parsed.problems[0]}`, command: '' }));
      return lenses;
    }
    const runnable = parsed.runs.filter((r) => r.spec);
    if (runnable.length > 1) {
      lenses.push(new vscode.CodeLens(top, { title: `$(run-all) Run all ${runnable.length}`, command: 'jetbench.runSpec', arguments: [document.uri, 'all'] }));
    }
    for (const entry of parsed.runs) {
      const at = document.positionAt(entry.offset);
      const range = new vscode.Range(at, at);
      if (!entry.spec) {
        lenses.push(new vscode.CodeLens(range, { title: `$(warning) ${entry.problems.join('; ')}`, command: '' }));
        continue;
      }
      lenses.push(
        new vscode.CodeLens(range, {
          title: `$(play) Run on ${entry.spec.device}`,
          tooltip: `${entry.spec.model} · ${entry.spec.backend} ${entry.spec.precision} · ${entry.spec.iterations} iterations`,
          command: 'jetbench.runSpec',
          arguments: [document.uri, entry.index],
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
