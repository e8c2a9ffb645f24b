// The built-in frame set `vtest`: OpenCV's pedestrian video (768x576, 795 frames, 2-11 people per
// frame: scene complexity that changes by itself), from OpenCV's sample data. Found where an OpenCV
// package installed it, else taken once from Debian/Ubuntu's opencv-doc package (`apt-get
// download` needs no root; only the one file is extracted) and cached. Not committed: it is
// OpenCV's, and 8 MB.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../../contract/cacheDir';
import { BadInputError } from './errors';
import type { Frame } from '../../models/src/frames';
import { decodeVideo } from './pipelineFrames';
import { BUILTIN_FRAME_SETS } from '../../contract/runSpec';

export { BUILTIN_FRAME_SETS };

/** Where OpenCV packages put vtest.avi (Debian/Ubuntu opencv-doc; JetPack's OpenCV samples). */
const INSTALLED = [
  '/usr/share/doc/opencv-doc/examples/data/vtest.avi',
  '/usr/share/opencv4/samples/data/vtest.avi',
  '/usr/share/opencv/samples/data/vtest.avi',
];

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, maxBuffer: 1 << 20 }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderrText: String(stderr) }));
      else resolve();
    });
  });
}

/** A frame source as a path: `vtest` resolved (fetched on first use, with progress), anything else
 * as given. */
export async function resolveFrameSource(source: string, progress: (message: string) => void, dir = path.join(cacheDir(), 'frames')): Promise<string> {
  if (source !== 'vtest') return source;
  const cached = path.join(dir, 'vtest.avi');
  if (existsSync(cached)) return cached;
  const installed = INSTALLED.find((p) => existsSync(p));
  if (installed) return installed;
  progress('fetching the frame set vtest (OpenCV\'s vtest.avi, from the opencv-doc package: 96 MB download, once)');
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(path.join(dir, 'fetch-'));
  const fix = "install it (sudo apt-get install opencv-doc), or give the frames yourself: a video, an image or a directory of images (--source / --fidelity-source)";
  try {
    try {
      await run('apt-get', ['download', 'opencv-doc'], work);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'apt-get is not on this device' : ((e as { stderrText?: string }).stderrText ?? '').trim().split('\n').pop() || (e as Error).message;
      const lists = /unable to locate|no installation candidate/i.test(why) ? 'the package lists may be missing or old: sudo apt-get update, then run again; or ' : '';
      throw new BadInputError(`the frame set vtest comes from the opencv-doc package, and it could not be downloaded (${why}): ${lists}${fix}`);
    }
    const deb = (await readdir(work)).find((n) => n.endsWith('.deb'));
    if (!deb) throw new BadInputError(`apt-get download opencv-doc left no .deb: ${fix}`);
    try {
      await run('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x --wildcards '*/vtest.avi'`, 'sh', deb], work);
    } catch (e) {
      throw new BadInputError(`opencv-doc's vtest.avi could not be extracted (${((e as { stderrText?: string }).stderrText ?? (e as Error).message).trim()}): ${fix}`);
    }
    const found = await findFile(work, 'vtest.avi');
    if (!found) throw new BadInputError(`this opencv-doc package has no vtest.avi: ${fix}`);
    await rename(found, cached);
    return cached;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function findFile(dir: string, name: string): Promise<string | null> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return p;
    if (entry.isDirectory()) {
      const inner = await findFile(p, name);
      if (inner) return inner;
    }
  }
  return null;
}

/** Where in vtest the int8 calibration frames start: past the first 50 s (frames ~500 on), so a
 * fidelity check on the video's first frames (the default) never sees a frame it calibrated on. */
export const CALIBRATION_START_S = 50;
export const CALIBRATION_FRAMES = 32;

/** The real frames an int8 variant calibrates on (nanodet-g-int8): 32 consecutive frames of vtest
 * from 50 s on. */
export async function calibrationFrames(progress: (message: string) => void): Promise<{ frames: Frame[]; describe: string }> {
  const file = await resolveFrameSource('vtest', progress);
  const frames = await decodeVideo(file, CALIBRATION_FRAMES, { startS: CALIBRATION_START_S });
  return { frames, describe: `${frames.length} frames of OpenCV's vtest.avi from ${CALIBRATION_START_S} s` };
}
