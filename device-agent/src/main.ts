// The device agent's entry point: `node agent.js` serves the JSON-RPC API on stdin/stdout.
// stdout carries protocol frames only; diagnostics go to stderr.
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { buildNativeCommand } from './native/build';
import { runNativeWorker } from './native/worker';
import { reportFatal, serve } from './server';
import { AGENT_VERSION } from './version';

function main(argv: string[]): void {
  const [command = 'stdio'] = argv;
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }
  if (command === 'native-worker') return runNativeWorker();
  if (command === 'build-native') return void buildNativeCommand(argv.slice(1)).then((code) => process.exit(code));
  if (command !== 'stdio') {
    process.stderr.write(`jetbench agent: unknown command '${command}' (use: stdio, version, build-native)\n`);
    process.exit(2);
  }
  const connection = createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  process.on('uncaughtException', (e) => reportFatal(connection, e));
  process.on('unhandledRejection', (e) => reportFatal(connection, e));
  serve(connection);
  connection.onExit(() => process.exit(0));
  // The client went away (pipe closed): nothing left to serve.
  process.stdin.on('end', () => process.exit(0));
  connection.listen();
}

main(process.argv.slice(2));
