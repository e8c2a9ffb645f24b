// Activates the extension and wires its services; commands live in src/commands/.
// This first version offers the local device's description; views, panels and the language
// client grow from here.
import * as vscode from 'vscode';
import { COMMANDS } from './commands';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Jetbench');
  context.subscriptions.push(output);
  for (const { id, run } of COMMANDS) {
    context.subscriptions.push(vscode.commands.registerCommand(id, run({ output })));
  }
}

export function deactivate(): void {}
