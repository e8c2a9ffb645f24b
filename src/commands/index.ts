// Every contributed command, registered from this one list; ids match package.json.
import * as vscode from 'vscode';
import { DeviceInfoRequest, ListBackendsRequest } from '../../device-agent/src/protocol';
import { formatDeviceInfo } from '../cli/info';
import { startLocalAgent } from '../core/agentConnection';

export interface CommandContext {
  output: vscode.OutputChannel;
}

export interface CommandEntry {
  id: string;
  run: (ctx: CommandContext) => () => Promise<void>;
}

const showDeviceInfo: CommandEntry = {
  id: 'jetbench.showDeviceInfo',
  run: (ctx) => async () => {
    const agent = await startLocalAgent({ client: 'jetbench-vscode', stderr: (t) => ctx.output.append(t) });
    try {
      const device = await agent.connection.sendRequest(DeviceInfoRequest);
      const { backends } = await agent.connection.sendRequest(ListBackendsRequest);
      ctx.output.appendLine(formatDeviceInfo(device, backends));
      ctx.output.show(true);
    } finally {
      await agent.dispose();
    }
  },
};

export const COMMANDS: readonly CommandEntry[] = [showDeviceInfo];
