/**
 * The tasks.jsonl language on one LSP connection: incremental text sync, diagnostics,
 * completion, hover, code actions, CodeLens, document and workspace symbols. main.ts calls
 * `registerTasksLanguage` once per connection and answers `initialize` with the capabilities
 * it returns; the caches that are worth sharing between connections (runs on disk, Docker
 * images, repository folders, workspace task files) live in one TasksLanguageShared per daemon.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  TextDocumentSyncKind,
  type CodeLens,
  type Connection,
  type InitializeParams,
  type ServerCapabilities,
  type SymbolInformation,
} from 'vscode-languageserver/node';
import { tokenToSignal } from '../util/cancellation';
import { hostName } from '../runtime/connection';
import { TaskHistory } from '../store/taskHistory';
import { taskValidator } from '../tasks/schema';
import type { Logger } from '../util/log';
import { provideCodeActions } from './codeActions';
import { provideCodeLenses, resolveHistoryLens, type LensData } from './codeLens';
import { provideCompletion } from './completion';
import { computeDiagnosticsYielding, type EnvironmentChecks } from './diagnostics';
import { provideHover } from './hover';
import { collectWhenIdle, LARGE_TEXT } from './idleGc';
import { ImageCatalog } from './imageCatalog';
import { RepoCheck } from './repoCheck';
import { mergeSettings, type LanguageSettings } from './settings';
import { documentSymbols, matchesQuery, taskSymbolsOf, toSymbolInformation } from './symbols';
import { TaskDocument } from './taskDocument';
import { TaskFileIndex } from './taskFileIndex';
import { uriToPath } from './uris';

/** At most this many workspace symbols per query. */
const MAX_WORKSPACE_SYMBOLS = 1000;

/** The daemon-wide state of the language features (one per daemon, shared by its connections). */
export interface TasksLanguageShared {
  /** Output root used when the client's settings name none. */
  defaultOut: string;
  logger: Logger;
  history: TaskHistory;
  images: ImageCatalog;
  repos: RepoCheck;
  files: TaskFileIndex;
  /** Told every client's settings as they arrive (initializationOptions, didChangeConfiguration), for the daemon-wide ones (the metrics port). */
  onSettings?(raw: unknown): void;
}

/** Creates the daemon-wide state; `defaultOut` is the daemon's output root (absolute). */
export function createTasksLanguageShared(defaultOut: string, logger: Logger): TasksLanguageShared {
  // Compile the task schema now rather than inside the first didOpen (~50 ms).
  setImmediate(() => taskValidator());
  return { defaultOut, logger, history: new TaskHistory(), images: new ImageCatalog(logger), repos: new RepoCheck(), files: new TaskFileIndex() };
}

/** What `registerTasksLanguage` gives main.ts. */
export interface TasksLanguage {
  /** Call from the connection's `initialize` handler; returns the server capabilities to answer with. */
  initialize(params: InitializeParams): ServerCapabilities;
  /**
   * A run ended: the "last: reward …" CodeLenses are stale. Asks the client to re-request them
   * (`workspace/codeLens/refresh`) when it supports that; never throws.
   */
  runEnded(): void;
}

/**
 * Registers the tasks.jsonl language handlers on `connection` (text sync, diagnostics,
 * completion, hover, code actions, CodeLens, symbols, configuration). Every handler catches
 * its own errors and logs them: a bad line or a broken file never brings the daemon down.
 */
export function registerTasksLanguage(connection: Connection, shared: TasksLanguageShared): TasksLanguage {
  const log = shared.logger;
  const documents = new Map<string, TaskDocument>();
  let settings: LanguageSettings = { out: shared.defaultOut };
  let workspaceFolders: string[] = [];
  let clientHasWorkspaceFolders = false;
  let clientRefreshesLenses = false;
  const scheduled = new Set<string>();

  /** Checks `uri` in slices (other requests are answered meanwhile) and publishes, unless it changed or closed meanwhile. */
  const publish = async (uri: string): Promise<void> => {
    scheduled.delete(uri);
    const doc = documents.get(uri);
    if (!doc) return;
    try {
      const file = uriToPath(uri);
      const tasksDir = file && path.dirname(file);
      const again = () => schedulePublish(uri);
      const checks: EnvironmentChecks = {
        repoProblem: (repo) => shared.repos.problem(repo, tasksDir),
        imageStatus: (image) => shared.images.status(image, settings.dockerHost, again),
        dockerHostName: settings.dockerHost ? hostName(settings.dockerHost) : 'local engine',
      };
      const diagnostics = await computeDiagnosticsYielding(doc, checks);
      if (!diagnostics || documents.get(uri) !== doc) return;
      void connection.sendDiagnostics({ uri, version: doc.version, diagnostics }).catch((err: Error) => log.warn(`publishing diagnostics: ${err.message}`));
    } catch (err) {
      log.error(`diagnostics of ${uri}: ${(err as Error).stack ?? err}`);
    }
  };
  /** Publishes after the messages already received are handled, so a burst of edits publishes once. */
  const schedulePublish = (uri: string): void => {
    if (scheduled.has(uri)) return;
    scheduled.add(uri);
    setImmediate(() => void publish(uri));
  };
  const republishAll = () => {
    for (const uri of documents.keys()) schedulePublish(uri);
  };

  const guard = <T>(what: string, fallback: T, fn: () => T | Promise<T>): Promise<T> =>
    Promise.resolve()
      .then(fn)
      .catch((err: Error) => {
        if (err?.name !== 'AbortedError') log.error(`${what}: ${err?.stack ?? err}`);
        return fallback;
      });

  connection.onDidOpenTextDocument(({ textDocument }) => {
    try {
      documents.set(textDocument.uri, new TaskDocument(textDocument.uri, textDocument.version, textDocument.text));
      schedulePublish(textDocument.uri);
      if (textDocument.text.length >= LARGE_TEXT) collectWhenIdle();
    } catch (err) {
      log.error(`opening ${textDocument.uri}: ${(err as Error).stack ?? err}`);
    }
  });
  connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return log.warn(`change to ${textDocument.uri}, which is not open`);
    try {
      doc.applyChanges(contentChanges, textDocument.version);
      if (contentChanges.some((c) => c.text.length >= LARGE_TEXT)) collectWhenIdle();
    } catch (err) {
      log.error(`applying a change to ${textDocument.uri}: ${(err as Error).stack ?? err}`);
    }
    schedulePublish(textDocument.uri);
  });
  connection.onDidCloseTextDocument(({ textDocument }) => {
    documents.delete(textDocument.uri);
    scheduled.delete(textDocument.uri);
    void connection.sendDiagnostics({ uri: textDocument.uri, diagnostics: [] }).catch((err: Error) => log.warn(`clearing the diagnostics of ${textDocument.uri}: ${err.message}`));
  });
  connection.onDidChangeConfiguration(({ settings: raw }) => {
    const before = settings;
    settings = mergeSettings(settings, raw, workspaceFolders[0]);
    shared.onSettings?.(raw);
    if (before.dockerHost !== settings.dockerHost) republishAll();
    if (before.out !== settings.out && clientRefreshesLenses) refreshLenses();
  });

  connection.onCompletion((params) =>
    guard('completion', null, async () => {
      const doc = documents.get(params.textDocument.uri);
      return doc ? provideCompletion(doc, params.position, { images: () => shared.images.tags(settings.dockerHost) }) : null;
    }),
  );
  connection.onHover((params, token) =>
    guard('hover', null, async () => {
      const doc = documents.get(params.textDocument.uri);
      const signal = tokenToSignal(token);
      return doc ? provideHover(doc, params.position, { history: async (id) => (await shared.history.read(settings.out, [id], signal))[id] ?? [] }) : null;
    }),
  );
  connection.onCodeAction((params) =>
    guard('code actions', [], () => {
      const doc = documents.get(params.textDocument.uri);
      return doc ? provideCodeActions(doc, params.range, params.context) : [];
    }),
  );
  connection.onCodeLens((params, token) =>
    guard('code lenses', [] as CodeLens[], async () => {
      const doc = documents.get(params.textDocument.uri);
      if (!doc) return [];
      const withTrajectories = await shared.history.tasksWithTrajectories(settings.out, tokenToSignal(token));
      return provideCodeLenses(doc, withTrajectories);
    }),
  );
  connection.onCodeLensResolve((lens, token) =>
    guard('code lens', lens, async () => {
      const data = lens.data as LensData | undefined;
      if (!data?.taskId) return lens;
      const results = (await shared.history.read(settings.out, [data.taskId], tokenToSignal(token)))[data.taskId] ?? [];
      return resolveHistoryLens(lens, data, results);
    }),
  );
  connection.onDocumentSymbol((params) =>
    guard('document symbols', [], () => {
      const doc = documents.get(params.textDocument.uri);
      return doc ? documentSymbols(doc) : [];
    }),
  );
  connection.onWorkspaceSymbol((params, token) =>
    guard('workspace symbols', [] as SymbolInformation[], async () => {
      const signal = tokenToSignal(token);
      if (clientHasWorkspaceFolders) {
        const folders = await connection.workspace.getWorkspaceFolders().catch((err: Error) => {
          log.warn(`asking the client for its workspace folders (the last known ones are searched): ${err.message}`);
          return null;
        });
        if (folders) workspaceFolders = folders.map((f) => uriToPath(f.uri)).filter((f): f is string => !!f);
      }
      const out: SymbolInformation[] = [];
      const query = params.query ?? '';
      const seen = new Set<string>();
      for (const [uri, doc] of documents) {
        const file = uriToPath(uri);
        if (file) seen.add(file);
        const name = file ? path.basename(file) : uri;
        for (const s of taskSymbolsOf(doc)) if (matchesQuery(s.taskId, query) && out.length < MAX_WORKSPACE_SYMBOLS) out.push(toSymbolInformation(uri, s, name));
      }
      const files = await shared.files.symbols(workspaceFolders, [settings.out]);
      if (signal.aborted) return out;
      for (const { file, symbols } of files) {
        if (seen.has(file)) continue;
        const uri = pathToFileURL(file).href;
        const container = workspaceFolders.length ? path.relative(workspaceFolders.find((f) => file.startsWith(f + path.sep)) ?? path.dirname(file), file) : file;
        for (const s of symbols) if (matchesQuery(s.taskId, query) && out.length < MAX_WORKSPACE_SYMBOLS) out.push(toSymbolInformation(uri, s, container));
      }
      return out;
    }),
  );

  return {
    initialize(params: InitializeParams): ServerCapabilities {
      workspaceFolders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((f): f is string => !!f);
      const root = params.rootUri ? uriToPath(params.rootUri) : undefined;
      if (!workspaceFolders.length && root) workspaceFolders = [root];
      clientHasWorkspaceFolders = !!params.capabilities.workspace?.workspaceFolders;
      clientRefreshesLenses = !!params.capabilities.workspace?.codeLens?.refreshSupport;
      settings = mergeSettings(settings, params.initializationOptions, workspaceFolders[0]);
      shared.onSettings?.(params.initializationOptions);
      return TASKS_LANGUAGE_CAPABILITIES;
    },
    runEnded(): void {
      if (!clientRefreshesLenses || !documents.size) return;
      shared.history.invalidate();
      refreshLenses();
    },
  };

  /** Asks the client to re-request the CodeLenses (it said it supports that); never throws. */
  function refreshLenses(): void {
    void connection.sendRequest('workspace/codeLens/refresh').catch((err: Error) => log.warn(`asking the client to refresh the CodeLenses: ${err.message}`));
  }
}

/** The capabilities of the tasks.jsonl language (answered in `initialize`). */
export const TASKS_LANGUAGE_CAPABILITIES: ServerCapabilities = {
  textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
  completionProvider: { triggerCharacters: ['"', ':'] },
  hoverProvider: true,
  codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Empty] },
  codeLensProvider: { resolveProvider: true },
  documentSymbolProvider: true,
  workspaceSymbolProvider: true,
};
