// Every command the extension contributes; package.json `contributes.commands` lists the same ids
// (a unit test holds them equal). Pure: tests read it without VS Code.
export const COMMAND_IDS = [
  // Fixed by the issue.
  'jetbench.addDevice',
  'jetbench.deployAgent',
  'jetbench.runBenchmark',
  'jetbench.openRun',
  'jetbench.compareRuns',
  'jetbench.exportReport',
  'jetbench.showLog',
  // Devices.
  'jetbench.connectDevice',
  'jetbench.disconnectDevice',
  'jetbench.showDeviceInfo',
  'jetbench.selectDevice',
  // Runs.
  'jetbench.stopRun',
  'jetbench.runSpec',
  'jetbench.labelRun',
  'jetbench.deleteRun',
  'jetbench.revealRunJson',
  'jetbench.refreshRuns',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
