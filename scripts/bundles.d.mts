import type { BuildOptions } from 'esbuild';
export declare const builds: BuildOptions[];
