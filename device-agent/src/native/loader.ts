// The single place that loads the native addon (into the native worker process only).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { NativeAddon } from './binding';
import { ADDON_FILE, nativeBuildDir, nativeSourceDir } from '../../../contract/nativeSources';

export type LoadedAddon = { addon: NativeAddon; path: string } | { error: string };

/** $JETBENCH_NATIVE_ADDON, else the build of the current sources (build-native), else a cmake-js
 * development build (native/build/Release). */
export function nativeAddonCandidates(sourceHash: string | null): string[] {
  const src = nativeSourceDir();
  return [
    process.env.JETBENCH_NATIVE_ADDON,
    sourceHash ? path.join(nativeBuildDir(sourceHash), ADDON_FILE) : undefined,
    src ? path.join(src, 'build', 'Release', ADDON_FILE) : undefined,
  ].filter((p): p is string => !!p);
}

export function loadNativeAddon(sourceHash: string | null): LoadedAddon {
  const candidates = nativeAddonCandidates(sourceHash);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    return {
      error: `the native addon is not built (looked for ${candidates.join(', ')}): build it on this device with '${agentCommand('build-native')}' (needs cmake and a C++17 compiler; CUDA and TensorRT are used where found)`,
    };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the .node file found at run time
    return { addon: require(found) as NativeAddon, path: found };
  } catch (e) {
    return { error: `the native addon ${found} could not be loaded (${(e as Error).message.split('\n')[0]}): rebuild it with '${agentCommand('build-native --force')}'` };
  }
}

/** A command that works from wherever the user is: this agent's own path (the worker runs as
 * `node <agent.js> native-worker`). */
function agentCommand(args: string): string {
  const agent = process.argv[1] ?? 'agent.js';
  return `node ${/^[\w./-]+$/.test(agent) ? agent : JSON.stringify(agent)} ${args}`;
}
