// What the panels' waitForRender share: the first report matching a predicate, among those the
// page already sent or the next ones (the extension-host tests wait on what the page drew).
import type * as vscode from 'vscode';

export function firstMatching<T>(seen: readonly T[], next: vscode.Event<T>, predicate: (r: T) => boolean): Promise<T> {
  const found = seen.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const sub = next((r) => {
      if (!predicate(r)) return;
      sub.dispose();
      resolve(r);
    });
  });
}
