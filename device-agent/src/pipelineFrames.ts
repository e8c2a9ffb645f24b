// Frames for a pipeline run, decoded before anything is measured (a camera hands over decoded
// frames): synthetic 1080p scenes of a given complexity, the images of a directory, or the frames
// of a video file (decoded by the device's ffmpeg), as BGR HWC uint8 (what OpenCV gives a YOLOv5
// application).
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { syntheticScene, type Frame } from '../../models/src/frames';
import { BadInputError } from './errors';

export const SYNTHETIC_WIDTH = 1920;
export const SYNTHETIC_HEIGHT = 1080;
const IMAGE_EXTENSIONS = /\.(ppm|pnm|png|jpe?g)$/i;
const VIDEO_EXTENSIONS = /\.(avi|mp4|m4v|mkv|mov|webm|mpe?g|ts|h264|h265|hevc|mjpe?g|y4m)$/i;

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

function run(command: string, args: string[], maxBuffer: number): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'buffer', maxBuffer }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderrText: stderr.toString('utf8') }));
      else resolve({ stdout, stderr: stderr.toString('utf8') });
    });
  });
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim())?.trim() ?? '';
}

type VideoTools = { ffmpeg?: string; ffprobe?: string; startS?: number };

function missingTool(file: string, tool: string): BadInputError {
  return new BadInputError(
    `decoding the video ${file} needs ${tool} on the device, and it is not there: install FFmpeg (sudo apt-get install ffmpeg; on a Jetson the same), or extract the frames to a directory of .png/.jpg images and give that as --source`,
  );
}

/** The video's frame size (ffprobe); a clear error when it cannot be read. */
async function probeVideo(file: string, tools: VideoTools): Promise<{ width: number; height: number }> {
  try {
    const probe = await run(tools.ffprobe ?? 'ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], 1 << 20);
    const m = /^(\d+),(\d+)/.exec(probe.stdout.toString('utf8').trim());
    if (!m) throw Object.assign(new Error('no video stream'), { stderrText: 'it has no video stream' });
    return { width: Number(m[1]), height: Number(m[2]) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missingTool(file, 'ffprobe');
    throw new BadInputError(`${file} is not a video ffmpeg can read (${firstLine((e as { stderrText?: string }).stderrText ?? '') || (e as Error).message}): give a video file, a directory of images or --source synthetic`);
  }
}

/** Up to `count` frames of the video as BGR, one at a time from one ffmpeg process whose output
 * is read only as fast as the frames are taken (so memory holds one frame, not the video);
 * stopping early stops ffmpeg. */
async function* readVideo(file: string, size: { width: number; height: number }, count: number, tools: VideoTools): AsyncGenerator<Frame> {
  const frameBytes = size.width * size.height * 3;
  const args = ['-v', 'error', '-nostdin', ...(tools.startS ? ['-ss', String(tools.startS)] : []), '-i', file, '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'];
  const child = spawn(tools.ffmpeg ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString('utf8');
  });
  const closed = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  let chunks: Buffer[] = [];
  let have = 0;
  let n = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      while (have >= frameBytes && n < count) {
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
        n++;
        yield { width: size.width, height: size.height, data: new Uint8Array(all.buffer, all.byteOffset, frameBytes) };
        const rest = all.subarray(frameBytes);
        chunks = rest.length ? [rest] : [];
        have = rest.length;
      }
    }
    const { code, error } = await closed;
    if (error?.code === 'ENOENT') throw missingTool(file, 'ffmpeg');
    if (error || code !== 0) throw new BadInputError(`ffmpeg could not decode ${file} (${firstLine(stderr) || error?.message || `exit code ${code}`})`);
    if (n === 0) throw new BadInputError(`${file}: ffmpeg decoded no frames from it`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** The first `count` frames of a video file, decoded by ffmpeg to BGR (ffprobe gives the size). */
export async function decodeVideo(file: string, count: number, tools: VideoTools = {}): Promise<Frame[]> {
  const size = await probeVideo(file, tools);
  const frames: Frame[] = [];
  for await (const f of readVideo(file, size, count, tools)) frames.push(f);
  return frames;
}

/** Frames to be taken one at a time: a long check (10,000 frames of a video) holds one frame in
 * memory at a time, not all of them. */
export interface FrameStream {
  frames: AsyncIterable<Frame>;
  /** In words, for the run file, once `taken` frames were taken. */
  describe(taken: number): string;
}

/** `synthetic` -> `count` scenes with `objects` objects each (seeds 1..count); a directory -> its
 * images in name order, at most `count`; a video file -> its first `count` frames; an image file ->
 * that one frame. What can be checked before the first frame (the source exists, ffprobe reads the
 * video, the directory has images) is checked here. */
export async function openFrames(source: string, count: number, objects: number): Promise<FrameStream> {
  if (source === 'synthetic') {
    return {
      frames: (async function* () {
        for (let i = 0; i < count; i++) yield syntheticScene(SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT, i + 1, objects);
      })(),
      describe: () => `synthetic ${SYNTHETIC_WIDTH}x${SYNTHETIC_HEIGHT} scenes, ${objects} objects each`,
    };
  }
  const st = await stat(source).catch(() => null);
  if (st?.isFile()) {
    if (VIDEO_EXTENSIONS.test(source)) {
      const size = await probeVideo(source, {});
      return { frames: readVideo(source, size, count, {}), describe: (n) => `${n} frame(s) of the video ${source} (ffmpeg)` };
    }
    if (IMAGE_EXTENSIONS.test(source)) {
      const frame = decodeImage(await readFile(source), path.basename(source));
      return {
        frames: (async function* () {
          yield frame;
        })(),
        describe: () => `the image ${source}`,
      };
    }
    throw new BadInputError(`frame source '${source}' is a file but neither a video (.avi, .mp4, .mkv, .mov, ...) nor an image (.ppm, .png, .jpg): give one of those, a directory of images or --source synthetic`);
  }
  let names: string[];
  try {
    names = (await readdir(source)).filter((n) => IMAGE_EXTENSIONS.test(n)).sort();
  } catch (e) {
    throw new BadInputError(`frame source '${source}' is not a readable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give --source synthetic, a directory of images or a video file`);
  }
  if (names.length === 0) throw new BadInputError(`frame source '${source}' has no images (.ppm, .pnm, .png, .jpg): add some or use --source synthetic`);
  return {
    frames: (async function* () {
      for (const name of names.slice(0, count)) yield decodeImage(await readFile(path.join(source, name)), name);
    })(),
    describe: (n) => `${n} image(s) from ${source}`,
  };
}

/** openFrames, all of them in memory (a pipeline cycles through a few loaded frames). */
export async function loadFrames(source: string, count: number, objects: number): Promise<LoadedFrames> {
  const stream = await openFrames(source, count, objects);
  const frames: Frame[] = [];
  for await (const f of stream.frames) frames.push(f);
  return { frames, source: stream.describe(frames.length) };
}
