// The one way the extension shows notifications, modal questions and progress messages. Their
// text often carries what a device or a run file supplied (a run's error, a deploy's progress,
// a file's problems): it passes the contract's sanitiser, so it stays one line of plain text and
// VS Code finds no link in it (a `command:` link in a notification runs a command on click).
import * as vscode from 'vscode';
import { notificationDetail, notificationText } from '../../contract/untrustedText';

export function showError<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showErrorMessage(notificationText(message), ...items);
}

export function showWarning<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showWarningMessage(notificationText(message), ...items);
}

export function showInfo<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showInformationMessage(notificationText(message), ...items);
}

/** A modal warning that waits for an answer; `detail` may hold several lines. */
export function askModal<T extends string>(message: string, detail: string | undefined, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showWarningMessage(notificationText(message), { modal: true, detail: detail === undefined ? undefined : notificationDetail(detail) }, ...items);
}

/** A progress reporter whose messages (often a device's progress lines) are sanitised. */
export function progressReporter(progress: vscode.Progress<{ message?: string; increment?: number }>): (message: string, increment?: number) => void {
  return (message, increment) => progress.report(increment !== undefined ? { message: notificationText(message), increment } : { message: notificationText(message) });
}
