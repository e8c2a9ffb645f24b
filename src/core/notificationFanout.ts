// The one fan-out of agent notifications. vscode-jsonrpc (and vscode-languageclient above it) keep a
// single handler per notification method: a second onNotification replaces the first, and disposing
// either removes whichever is registered. So each connection registers one handler per method, once,
// and every follower (runs, views, the client's own logging) joins that method's set and leaves it
// when disposed: N runs on one connection leave no handler behind.
import type { Disposable, NotificationHandler, NotificationType } from 'vscode-jsonrpc';

/** What the fan-out needs of a connection; MessageConnection and LanguageClient both provide it. */
export interface NotificationSource {
  onNotification<P>(type: NotificationType<P>, handler: NotificationHandler<P>): Disposable;
}

export class NotificationFanout implements Disposable {
  /** Every handler in one method's set takes that method's params type. */
  private readonly followers = new Map<string, Set<NotificationHandler<unknown>>>();
  private readonly registrations: Disposable[] = [];

  constructor(private readonly source: NotificationSource) {}

  /** Calls `handler` with every `type` notification on this connection until disposed. */
  follow<P>(type: NotificationType<P>, handler: NotificationHandler<P>): Disposable {
    let set = this.followers.get(type.method);
    if (!set) {
      const created = new Set<NotificationHandler<unknown>>();
      set = created;
      this.followers.set(type.method, created);
      // A copy: a follower may dispose itself (or another) while being called.
      this.registrations.push(this.source.onNotification(type, (params) => [...created].forEach((h) => h(params))));
    }
    const followers = set;
    const h = handler as NotificationHandler<unknown>;
    followers.add(h);
    return { dispose: () => void followers.delete(h) };
  }

  /** How many followers `method` has now (a leak shows as a count that grows with runs). */
  followerCount(method: string): number {
    return this.followers.get(method)?.size ?? 0;
  }

  /** Removes this connection's handlers (the connection ends). */
  dispose(): void {
    this.registrations.splice(0).forEach((r) => r.dispose());
    this.followers.clear();
  }
}
