import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ViewKind } from '../../webview/protocol';

/** Only the bundle and media are reachable from a webview. */
export function localRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: localRoots(extensionUri) };
}

export function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * The page every view loads: a strict CSP (nothing remote, scripts and styles only with this page's nonce
 * or from the extension's own files) and the view's bundle from dist/webview/<view>.js.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: ViewKind, title: string): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${view}.js`));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${n}'`,
    `style-src ${webview.cspSource} 'nonce-${n}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title.replace(/[<&"]/g, '')}</title>
</head>
<body data-view="${view}">
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
}
