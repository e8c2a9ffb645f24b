// `jetbench deploy --device D`: puts this jetbench's agent on an SSH device (a no-op when that
// bundle is there already) and says where, with which Node, and how long it took.
import { connectAndDeploy, deploySummary } from '../core/deploy';
import { describeDevice, resolveDevice } from '../core/devices';
import { parse, UsageError } from './args';
import { HELP } from './help';
import { cliSshHooks } from './sshHooks';
import type { CliIo } from './io';

export async function deploy(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    {
      device: { type: 'string' },
      'accept-new-host-key': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    false,
  );
  if (values.help) {
    io.out(HELP.deploy);
    return 0;
  }
  if (!values.device) throw new UsageError('deploy needs --device NAME (a configured device, an ssh config Host, or ssh://user@host:port)');
  const device = resolveDevice(values.device, { cwd: io.cwd });
  if (device.kind === 'local') throw new UsageError('the local device runs the agent from this installation: there is nothing to deploy');
  const hooks = cliSshHooks(io, { acceptNewHostKey: values['accept-new-host-key'], quiet: values.quiet || values.json });
  const result = await connectAndDeploy(device, hooks);
  if (values.json) io.out(JSON.stringify({ device: describeDevice(device), ...result }, null, 2) + '\n');
  else io.out(deploySummary(device, result).join('\n') + '\n');
  // The agent works without the addon (ONNX Runtime, TVM); a build that failed is still worth a warning.
  if (result.native.status === 'failed' && !values.json) io.err('jetbench deploy: WARNING: the native addon was not built (see above); the pipeline and TensorRT need it\n');
  return 0;
}
