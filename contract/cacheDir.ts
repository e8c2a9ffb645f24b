// Where jetbench caches what it builds (models, engines, modules, the native addon) on a machine.
// Its own module: the deploy code needs the path without the model generator behind models/.
import os from 'node:os';
import path from 'node:path';

/** $JETBENCH_CACHE_DIR, else $XDG_CACHE_HOME/jetbench, else the platform's cache directory. */
export function cacheDir(): string {
  if (process.env.JETBENCH_CACHE_DIR) return path.resolve(process.env.JETBENCH_CACHE_DIR);
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'jetbench');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'jetbench');
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'jetbench', 'Cache');
  return path.join(os.homedir(), '.cache', 'jetbench');
}
