// A LanguageClient whose own error toasts can be held back. vscode-languageclient shows a forced,
// sticky "<name> client: couldn't create connection to server." toast (with "Go to output") when a
// start fails, whatever the error handler says; on a first connection the extension already shows
// one clear message naming the device and the cause (commands/devices.ts), so the library's would be
// a second, generic one. Its text still goes to the output channel.
import { LanguageClient } from 'vscode-languageclient/node';

export class QuietLanguageClient extends LanguageClient {
  /** While this says true, the library's error notifications are logged only. */
  quietErrors: () => boolean = () => false;

  override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
    super.error(message, data, this.quietErrors() ? false : showNotification);
  }
}
