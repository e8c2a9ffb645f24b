// The device is not trusted with the developer's machine. Whatever answers on an agent's socket
// speaks LSP to a stock LanguageClient, which would otherwise apply `workspace/applyEdit` (create,
// rename, delete any file), open `window/showDocument` links (external: true opens a browser),
// answer `workspace/configuration` with the user's settings, show `window/showMessage` text as a
// notification (where a `[text](command:…)` link runs a command when clicked), accept
// `client/registerCapability` (a didOpen registration for every file would send the agent the text
// of each file the developer opens) and take providers from the initialize answer's capabilities
// (a code lens for every file puts clickable commands into the editor). The jetbench agent needs
// none of it. This firewall sits between the agent's streams and the LanguageClient: responses,
// jetbench's own notifications, `$/progress` and log messages pass; every request the agent makes is
// answered here with a refusal and never reaches the client; other notifications are dropped; the
// initialize answer's capabilities are emptied; the initialize request carries no workspace paths.
// Each refusal is logged (one line, the device's text made plain).
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  ErrorCodes,
  Message,
  StreamMessageReader,
  StreamMessageWriter,
  type DataCallback,
  type Disposable,
  type MessageReader,
  type MessageWriter,
  type NotificationMessage,
  type RequestMessage,
  type ResponseMessage,
} from 'vscode-jsonrpc/node';
import { oneLine } from '../../contract/untrustedText';

/** What the firewall hands the LanguageClient (vscode-languageclient's MessageTransports). */
export interface GuardedTransports {
  reader: MessageReader;
  writer: MessageWriter;
  detached: boolean;
}

/** Notifications from the agent that reach the client: jetbench's protocol, progress of the
 * client's own tokens, and log lines (they go to the output channel, never a notification). */
function passes(method: string): boolean {
  return method.startsWith('jetbench/') || method === '$/progress' || method === 'window/logMessage' || method === '$/logTrace';
}

const short = (text: string) => oneLine(text).slice(0, 200);

interface EditParams {
  edit?: { changes?: Record<string, unknown>; documentChanges?: Array<{ textDocument?: { uri?: string }; uri?: string; oldUri?: string }> };
}

/** The firewall's answer to a request of the agent, and the line it logs. */
function refusal(request: RequestMessage): { result?: unknown; error?: { code: number; message: string }; line: string } {
  const params = (request.params ?? {}) as Record<string, unknown>;
  switch (request.method) {
    case 'workspace/applyEdit': {
      const edit = (params as EditParams).edit ?? {};
      const files = [...Object.keys(edit.changes ?? {}), ...(edit.documentChanges ?? []).map((c) => c.textDocument?.uri ?? c.uri ?? c.oldUri ?? '?')];
      return {
        result: { applied: false, failureReason: 'jetbench does not let a device agent edit files' },
        line: `refused workspace/applyEdit of ${files.length} file(s) (${short(files.map(String).join(', '))}): a device agent may not edit files`,
      };
    }
    case 'window/showDocument':
      return {
        result: { success: false },
        line: `refused window/showDocument of ${short(String(params.uri ?? '?'))}${params.external === true ? ' (external)' : ''}: a device agent may not open documents or links`,
      };
    case 'workspace/configuration': {
      const items = Array.isArray(params.items) ? (params.items as Array<{ section?: unknown }>) : [];
      return {
        result: items.map(() => null),
        line: `refused workspace/configuration (${short(items.map((i) => String(i.section ?? '?')).join(', '))}): a device agent may not read settings`,
      };
    }
    default:
      return {
        error: { code: ErrorCodes.MethodNotFound, message: `jetbench does not let a device agent ask for ${request.method}` },
        line: `refused ${short(request.method)}: a device agent may only use jetbench's own protocol`,
      };
  }
}

class GuardedReader extends AbstractMessageReader {
  constructor(
    private readonly inner: MessageReader,
    private readonly answer: (response: ResponseMessage) => void,
    private readonly initializeIds: Set<number | string>,
    private readonly log: (line: string) => void,
  ) {
    super();
    inner.onError((e) => this.fireError(e));
    inner.onClose(() => this.fireClose());
    inner.onPartialMessage((info) => this.firePartialMessage(info));
  }

  listen(callback: DataCallback): Disposable {
    return this.inner.listen((message) => {
      if (Message.isRequest(message)) {
        const { line, ...outcome } = refusal(message);
        this.log(line);
        this.answer({ jsonrpc: '2.0', id: message.id, ...outcome } as ResponseMessage);
      } else if (Message.isNotification(message)) {
        if (passes(message.method)) callback(message);
        else this.log(`ignored ${short(message.method)} from the agent${showMessageText(message)}`);
      } else if (Message.isResponse(message) && message.id !== null && this.initializeIds.delete(message.id) && isObject(message.result)) {
        // No static registrations: providers, sync and workspace features stay off.
        callback({ ...message, result: { ...message.result, capabilities: {} } } as ResponseMessage);
      } else {
        callback(message);
      }
    });
  }

  override dispose(): void {
    super.dispose();
    this.inner.dispose();
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A window/showMessage's text, for the log (the user still learns what the agent said). */
function showMessageText(message: NotificationMessage): string {
  const text = isObject(message.params) ? message.params.message : undefined;
  return typeof text === 'string' ? `: ${short(text)}` : '';
}

class GuardedWriter extends AbstractMessageWriter {
  constructor(
    private readonly inner: MessageWriter,
    private readonly initializeIds: Set<number | string>,
  ) {
    super();
    inner.onError((e) => this.fireError(e[0], e[1], e[2]));
    inner.onClose(() => this.fireClose());
  }

  write(message: Message): Promise<void> {
    if (Message.isRequest(message) && message.method === 'initialize') {
      this.initializeIds.add(message.id as number | string);
      // The developer's workspace paths are none of the device's business.
      const params = isObject(message.params) ? message.params : {};
      return this.inner.write({ ...message, params: { ...params, rootPath: null, rootUri: null, workspaceFolders: null } } as RequestMessage);
    }
    return this.inner.write(message);
  }

  end(): void {
    this.inner.end();
  }

  override dispose(): void {
    super.dispose();
    this.inner.dispose();
  }
}

/** The agent's streams behind the firewall, for the LanguageClient's server options. */
export function guardAgentStreams(streams: { reader: NodeJS.ReadableStream; writer: NodeJS.WritableStream }, log: (line: string) => void): GuardedTransports {
  const initializeIds = new Set<number | string>();
  const toAgent = new StreamMessageWriter(streams.writer);
  const answer = (response: ResponseMessage) => void toAgent.write(response).catch(() => undefined);
  return {
    reader: new GuardedReader(new StreamMessageReader(streams.reader), answer, initializeIds, log),
    writer: new GuardedWriter(toAgent, initializeIds),
    detached: false,
  };
}
