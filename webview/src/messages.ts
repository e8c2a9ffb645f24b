// Messages between the extension and a result panel. The extension sends the run; the panel
// answers `ready` once it can draw, so nothing is posted into a page that is not listening.
import type { RunFile, SamplesBatch } from '../../device-agent/src/protocol';

/** Extension -> panel. */
export type ToPanel =
  | { type: 'showRun'; run: RunFile }
  | { type: 'samples'; batch: SamplesBatch };

/** Panel -> extension. */
export type FromPanel = { type: 'ready' };
