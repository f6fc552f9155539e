/**
 * `trajlab/dataset/progress` notifications, routed by their `token` to the request that asked
 * for them. A LanguageClient keeps one handler per notification method, so this hub registers
 * the only one (again on every reconnect) and requests subscribe by token.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { DatasetProgress } from '../../../common/src/dataset';
import { DatasetProgressNotification } from '../../../common/src/protocol';
import type { Ctx } from '../ctx';

/** Routes dataset progress by token (see the file comment). */
export class DatasetProgressHub implements vscode.Disposable {
  private readonly listeners = new Map<string, (p: DatasetProgress) => void>();
  private handler: vscode.Disposable | undefined;
  private attached: LanguageClient | undefined;
  private readonly stateListener: vscode.Disposable;

  constructor(ctx: Ctx) {
    this.attach(ctx.daemon.client);
    this.stateListener = ctx.daemon.onDidChangeState((s) => this.attach(s.kind === 'running' ? s.client : undefined));
  }

  /**
   * A fresh progress token: pass it as the request's `progressToken`; `listener` gets each
   * progress report until the returned object is disposed.
   */
  listen(listener: (p: DatasetProgress) => void): { token: string; dispose(): void } {
    const token = `dataset-${crypto.randomUUID()}`;
    this.listeners.set(token, listener);
    return { token, dispose: () => this.listeners.delete(token) };
  }

  dispose(): void {
    this.stateListener.dispose();
    this.handler?.dispose();
    this.listeners.clear();
  }

  private attach(client: LanguageClient | undefined): void {
    if (client === this.attached) return;
    this.handler?.dispose();
    this.handler = undefined;
    this.attached = client;
    if (client) {
      this.handler = client.onNotification(DatasetProgressNotification.type, (p) => {
        if (p && typeof p.token === 'string') this.listeners.get(p.token)?.(p.progress);
      });
    }
  }
}
