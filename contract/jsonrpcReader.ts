// vscode-jsonrpc's stream reader, when its stream ends in the middle of a message (a connection
// cut mid-frame), keeps a "partial message" timer that re-arms itself every 10 s for ever: its
// dispose() does not clear it. In the CLI that timer alone kept the process alive after the run
// was written (seen with a connection cut on the emulated aarch64 device), and in the daemon each
// cut client left one behind. Both sides call this when the stream has ended.

/** The one part of vscode-jsonrpc's ReadableStreamMessageReader this needs (structural, so the
 * agent and the client can pass their own import of it). */
export interface PartialMessageReader {
  partialMessageTimeout: number;
}

/** Stops the reader's partial-message timer for good: no re-arming (timeout 0), and the one armed
 * now cleared (a private method of the reader; without it the armed one fires once more). */
export function stopPartialMessageTimer(reader: PartialMessageReader): void {
  reader.partialMessageTimeout = 0;
  (reader as unknown as { clearPartialMessageTimer?: () => void }).clearPartialMessageTimer?.();
}
