// The device agent's entry point.
//   node agent.js [stdio]        serve the JSON-RPC API on stdin/stdout (the local device; stdout
//                                carries protocol frames only, diagnostics go to stderr)
//   node agent.js daemon         serve every client on a unix socket in the agent home (a device)
//        [--ensure]              start it detached unless one runs; print its status and return
//   node agent.js attach         bridge stdin/stdout to the daemon, starting it when needed
//   node agent.js build-native   build the native addon for this device (native/, cached by source hash)
//   node agent.js native-worker  the worker process that loads the addon (forked by the agent)
//   node agent.js trial          one trial of a run of 2+ trials, in a fresh process (forked by the agent)
//   options: --home DIR (default $JETBENCH_HOME or ~/.jetbench), --idle-minutes N (default 30)
import { parseArgs } from 'node:util';
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { agentHome, attach, ensureDaemon, runDaemon } from './daemon';
import { probeDeviceFacts } from './deviceInfo';
import { buildNativeCommand } from './native/build';
import { runNativeWorker } from './native/worker';
import { defaultBackends, reportFatal, serve } from './server';
import { runTrialProcess } from './trialProcess';
import { AGENT_VERSION } from '../../contract/version';

const DEFAULT_IDLE_MINUTES = 30;

function serveStdio(): void {
  const connection = createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  process.on('uncaughtException', (e) => reportFatal([connection], e));
  process.on('unhandledRejection', (e) => reportFatal([connection], e));
  probeDeviceFacts();
  const detach = serve(connection);
  // Leaving stops what this connection started (TVM's RPC servers and tracker: their process
  // groups get SIGTERM synchronously, before the exit), as a daemon's closed connection does.
  const leave = () => {
    detach();
    process.exit(0);
  };
  connection.onExit(leave);
  // The client went away (pipe closed): nothing left to serve.
  process.stdin.on('end', leave);
  connection.listen();
}

function fail(message: string, code = 2): never {
  process.stderr.write(`jetbench agent: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'stdio', ...rest] = argv;
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }
  if (command === 'stdio') return serveStdio();
  if (command === 'native-worker') return runNativeWorker();
  if (command === 'trial') return runTrialProcess(defaultBackends);
  if (command === 'build-native') return void buildNativeCommand(rest).then((code) => process.exit(code));
  if (command !== 'daemon' && command !== 'attach') fail(`unknown command '${command}' (use: stdio, daemon, attach, version, build-native)`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { home: { type: 'string' }, 'idle-minutes': { type: 'string' }, ensure: { type: 'boolean', default: false } },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  const idleMinutes = values['idle-minutes'] === undefined ? DEFAULT_IDLE_MINUTES : Number(values['idle-minutes']);
  if (!Number.isFinite(idleMinutes) || idleMinutes < 0) fail(`--idle-minutes must be a number >= 0 (got '${values['idle-minutes']}')`);
  const opts = { idleMinutes, ...(values.home ? { home: values.home } : {}) };
  if (command === 'attach') return attach(opts);
  if (values.ensure) {
    const status = await ensureDaemon(opts);
    const moved = agentHome(opts.home).socketMoved;
    if (moved) process.stderr.write(`jetbench agent: ${moved}\n`);
    process.stdout.write(JSON.stringify(status) + '\n');
    return;
  }
  await runDaemon(opts);
}

main(process.argv.slice(2)).catch((e: unknown) => fail((e as Error).message, 1));
