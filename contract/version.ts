// The agent's version, injected by the bundler from package.json (esbuild `define`); "dev" when
// run from source.
declare const __JETBENCH_VERSION__: string | undefined;
export const AGENT_VERSION: string = typeof __JETBENCH_VERSION__ === 'string' ? __JETBENCH_VERSION__ : 'dev';
