// The versions a run file records: what actually ran it. The runtime that ran the model reports
// its own version from the session (the ONNX Runtime the agent or the native worker loaded, the
// TensorRT library the addon loaded, the TVM imported by the Python that served the module);
// everything else is what the device has installed (deviceInfo's probe).
import type { BackendId, PythonInfo, Versions } from '../../contract/protocol';

/** What a session that ran a model says about itself. */
export interface RuntimeProvenance {
  /** Version of the runtime that ran the model; null when it could not tell. */
  runtimeVersion: string | null;
  /** The Python that ran the model, for backends that run in one. */
  python?: PythonInfo | null;
}

/** The installed versions with the running session's own in place of the backend's entry. */
export function runVersions(installed: Versions, backend: BackendId, ran: RuntimeProvenance): Versions {
  const versions: Versions = { ...installed };
  delete versions.python;
  // Null when the session could not tell: the device's probe may have seen another install.
  versions[backend] = ran.runtimeVersion;
  if (ran.python) versions.python = { path: ran.python.path, version: ran.python.version };
  return versions;
}
