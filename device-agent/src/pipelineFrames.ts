// Frames for a pipeline run, decoded before anything is measured (a camera hands over decoded
// frames): synthetic 1080p scenes of a given complexity, or the images of a directory, as BGR HWC
// uint8 (what OpenCV gives a YOLOv5 application).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { syntheticScene, type Frame } from '../../models/src/frames';
import { BadInputError } from './errors';

export const SYNTHETIC_WIDTH = 1920;
export const SYNTHETIC_HEIGHT = 1080;
const IMAGE_EXTENSIONS = /\.(ppm|pnm|png|jpe?g)$/i;

export interface LoadedFrames {
  frames: Frame[];
  /** In words, for the run file. */
  source: string;
}

/** RGB or RGBA pixels -> BGR HWC. */
function toBgr(pixels: Uint8Array, width: number, height: number, channels: 3 | 4): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < data.length; i += channels, j += 3) {
    data[j] = pixels[i + 2]!;
    data[j + 1] = pixels[i + 1]!;
    data[j + 2] = pixels[i]!;
  }
  return { width, height, data };
}

/** Binary PPM (P6, maxval 255): the simplest image a camera tool writes. */
export function decodePpm(bytes: Uint8Array, name: string): Frame {
  const text = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 200))).toString('latin1');
  const m = /^P6\s+(?:#[^\n]*\s+)*(\d+)\s+(?:#[^\n]*\s+)*(\d+)\s+(?:#[^\n]*\s+)*(\d+)\s/.exec(text);
  if (!m) throw new BadInputError(`${name} is not a binary PPM (P6) image`);
  const [width, height, maxval] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (maxval !== 255) throw new BadInputError(`${name}: only 8-bit PPM images (maxval 255) are supported, not maxval ${maxval}`);
  const start = m[0].length;
  if (width <= 0 || height <= 0 || bytes.length < start + width * height * 3) {
    throw new BadInputError(`${name}: a ${width}x${height} PPM needs ${width * height * 3} bytes of pixels, the file has ${bytes.length - start}`);
  }
  return toBgr(bytes.subarray(start, start + width * height * 3), width, height, 3);
}

export function decodeImage(bytes: Uint8Array, name: string): Frame {
  const ext = path.extname(name).toLowerCase();
  try {
    if (ext === '.ppm' || ext === '.pnm') return decodePpm(bytes, name);
    if (ext === '.png') {
      const png = PNG.sync.read(Buffer.from(bytes));
      return toBgr(png.data, png.width, png.height, 4);
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return toBgr(img.data, img.width, img.height, 4);
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(`${name} could not be decoded as ${ext.slice(1)}: ${(e as Error).message}`);
  }
}

/** `synthetic` -> `count` scenes with `objects` objects each (seeds 1..count); a directory -> its
 * images in name order, at most `count`. */
export async function loadFrames(source: string, count: number, objects: number): Promise<LoadedFrames> {
  if (source === 'synthetic') {
    const frames = Array.from({ length: count }, (_, i) => syntheticScene(SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT, i + 1, objects));
    return { frames, source: `synthetic ${SYNTHETIC_WIDTH}x${SYNTHETIC_HEIGHT} scenes, ${objects} objects each` };
  }
  let names: string[];
  try {
    names = (await readdir(source)).filter((n) => IMAGE_EXTENSIONS.test(n)).sort();
  } catch (e) {
    throw new BadInputError(`frame source '${source}' is not a readable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give --source synthetic or a directory of images`);
  }
  if (names.length === 0) throw new BadInputError(`frame source '${source}' has no images (.ppm, .pnm, .png, .jpg): add some or use --source synthetic`);
  const frames: Frame[] = [];
  for (const name of names.slice(0, count)) frames.push(decodeImage(await readFile(path.join(source, name)), name));
  return { frames, source: `${frames.length} image(s) from ${source}` };
}
