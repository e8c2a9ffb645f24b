// The one place webview HTML is built: a strict Content-Security-Policy (nothing by default,
// scripts only with this load's nonce, styles and images only from the extension's dist/), the
// bundle by asWebviewUri, and the options every panel gets (scripts on, resources from dist/ only).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export type PanelView = 'result' | 'compare';

/** Options for createWebviewPanel and for a panel restored by a serializer. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
    // The page rebuilds itself from the extension's model on `ready`; no need to keep it alive hidden.
    retainContextWhenHidden: false,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function buildWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: PanelView, title: string): string {
  const nonce = randomBytes(18).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css'));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${escapeHtml(title)}</title>
</head>
<body data-view="${view}">
<main id="root"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
