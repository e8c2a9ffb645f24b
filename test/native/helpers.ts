// The native addon as the native suite uses it: built by `npm run test:native` (build-native into
// the test cache), loaded through the agent's single loader.
import path from 'node:path';
import type { NativeAddon } from '../../device-agent/src/native/binding';
import { loadNativeAddon } from '../../device-agent/src/native/loader';
import { nativeSourceHash } from '../../contract/nativeSources';
import { ROOT, TEST_CACHE_DIR } from '../helpers/cli';

export const NATIVE_DIR = path.join(ROOT, 'native');

export async function loadTestAddon(): Promise<{ addon: NativeAddon; path: string; hash: string }> {
  process.env.JETBENCH_CACHE_DIR = TEST_CACHE_DIR;
  const hash = await nativeSourceHash(NATIVE_DIR);
  const loaded = loadNativeAddon(hash);
  if ('error' in loaded) throw new Error(`${loaded.error} (npm run test:native builds it first)`);
  return { ...loaded, hash };
}
