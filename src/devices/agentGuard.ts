// The device is not trusted with the developer's machine. Whatever answers on an agent's socket
// speaks LSP to a stock LanguageClient, which would otherwise apply `workspace/applyEdit` (create,
// rename, delete any file), open `window/showDocument` links (external: true opens a browser) and
// answer `workspace/configuration` with the user's settings. The jetbench agent needs none of
// them: each is refused, and the refusal is logged with the device's name.
import type { ApplyWorkspaceEditParams, ApplyWorkspaceEditResult } from 'vscode-languageclient';
import { LanguageClient, type LanguageClientOptions, type Middleware, type ServerOptions } from 'vscode-languageclient/node';
import { oneLine } from '../../contract/untrustedText';

/** Middleware that refuses what a device may not do here; `log` gets one line per refusal. */
export function refusingMiddleware(log: (line: string) => void): Middleware {
  return {
    window: {
      showDocument: async (params) => {
        log(`refused window/showDocument of ${oneLine(params.uri).slice(0, 200)}${params.external ? ' (external)' : ''}: a device agent may not open documents or links`);
        return { success: false };
      },
    },
    workspace: {
      configuration: (params) => {
        log(`refused workspace/configuration (${params.items.map((i) => oneLine(i.section ?? '?')).join(', ').slice(0, 200)}): a device agent may not read settings`);
        return params.items.map(() => null);
      },
    },
  };
}

/** A LanguageClient that refuses workspace edits from the agent (and, through its middleware,
 * documents, links and settings). */
export class GuardedLanguageClient extends LanguageClient {
  constructor(
    id: string,
    name: string,
    serverOptions: ServerOptions,
    clientOptions: LanguageClientOptions,
    private readonly log: (line: string) => void,
  ) {
    super(id, name, serverOptions, { ...clientOptions, middleware: { ...clientOptions.middleware, ...refusingMiddleware(log) } });
    // LanguageClient answers workspace/applyEdit with a private method; this replaces it on the
    // instance before any connection exists.
    (this as unknown as { handleApplyWorkspaceEdit(p: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> }).handleApplyWorkspaceEdit = async (p) => {
      const files = [...Object.keys(p.edit.changes ?? {}), ...(p.edit.documentChanges ?? []).map((c) => ('textDocument' in c ? c.textDocument.uri : 'uri' in c ? c.uri : 'oldUri' in c ? c.oldUri : '?'))];
      this.log(`refused workspace/applyEdit of ${files.length} file(s) (${files.map(oneLine).join(', ').slice(0, 200)}): a device agent may not edit files`);
      return { applied: false, failureReason: 'jetbench does not let a device agent edit files' };
    };
  }
}
