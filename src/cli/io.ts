// What every CLI command writes to and reads from; bin.ts gives the process's, tests their own.
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  isTty: boolean;
}
