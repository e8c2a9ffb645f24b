// Every contributed command, registered from this one table; ids match package.json (ids.ts).
// Each command is a small function of the context: commands do not reach into globals.
import type { JetbenchContext } from '../vscode/context';
import { addDevice, connectDevice, deployAgent, disconnectDevice, selectDevice, showDeviceInfo } from './devices';
import type { CommandId } from './ids';
import { runBenchmark } from './runBenchmark';
import { compareRuns, deleteRun, exportReport, labelRun, openRun, refreshRuns, revealRunJson, runSpec, showLog, stopRun } from './runs';

export type CommandHandler = (...args: never[]) => Promise<unknown>;

/** Typed by CommandId: a missing or unknown command is a compile error. */
export const COMMANDS: Record<CommandId, (ctx: JetbenchContext) => CommandHandler> = {
  'jetbench.addDevice': addDevice,
  'jetbench.deployAgent': deployAgent,
  'jetbench.runBenchmark': runBenchmark,
  'jetbench.openRun': openRun,
  'jetbench.compareRuns': compareRuns,
  'jetbench.exportReport': exportReport,
  'jetbench.showLog': showLog,
  'jetbench.connectDevice': connectDevice,
  'jetbench.disconnectDevice': disconnectDevice,
  'jetbench.showDeviceInfo': showDeviceInfo,
  'jetbench.selectDevice': selectDevice,
  'jetbench.stopRun': stopRun,
  'jetbench.runSpec': runSpec,
  'jetbench.labelRun': labelRun,
  'jetbench.deleteRun': deleteRun,
  'jetbench.revealRunJson': revealRunJson,
  'jetbench.refreshRuns': refreshRuns,
};
