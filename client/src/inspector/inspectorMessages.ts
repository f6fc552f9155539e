/**
 * Checking what the inspector webview posts (common/src/webviewMessages.ts InspectorToHost)
 * before the extension acts on it. The webview renders untrusted trajectories, so its messages
 * are untrusted too: each one is rebuilt from the fields its type allows, with their types and
 * sizes checked; anything else is refused with a reason. Nothing here becomes a path or a
 * command line: a diff names a file as the trajectory's own diff does and the daemon looks it
 * up there. Pure (no `vscode` import).
 */
import { MAX_STEP_PAGE, type StepFilter } from '../../../common/src/inspector';
import type { InspectorMethod, InspectorRequests, InspectorToHost } from '../../../common/src/webviewMessages';

/** The request methods a webview may call (forwarded as `trajlab/trajectory/<method>`). */
export const INSPECTOR_METHODS: readonly InspectorMethod[] = ['steps', 'step', 'filter', 'search', 'screenshot'];

/** Longest search query accepted (characters). */
export const MAX_QUERY_CHARS = 10_000;
/** Longest diff file name accepted (characters). */
export const MAX_DIFF_FILE_CHARS = 4096;

/** A checked message, or why it was refused (`id` set when it was a request, so it can be answered). */
export type ParsedInspectorMessage = { ok: true; message: InspectorToHost } | { ok: false; error: string; id?: number };

/** Checks one message from the inspector webview (see the file comment). */
export function parseInspectorMessage(value: unknown): ParsedInspectorMessage {
  if (!isObject(value) || typeof value.type !== 'string') return { ok: false, error: 'not a message object with a type' };
  switch (value.type) {
    case 'ready':
    case 'replay':
    case 'export':
    case 'openAsText':
      return { ok: true, message: { type: value.type } };
    case 'openDiff': {
      const file = value.file;
      if (file !== undefined) {
        if (typeof file !== 'string' || !file || file.length > MAX_DIFF_FILE_CHARS) return { ok: false, error: 'openDiff: file must be a non-empty string' };
        return { ok: true, message: { type: 'openDiff', file } };
      }
      if (!isIndex(value.step) || !isIndex(value.action)) return { ok: false, error: 'openDiff needs a file, or a step and an action index' };
      return { ok: true, message: { type: 'openDiff', step: value.step, action: value.action } };
    }
    case 'request': {
      const id = value.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) return { ok: false, error: 'request: id must be an integer' };
      const method = value.method;
      if (typeof method !== 'string' || !(INSPECTOR_METHODS as readonly string[]).includes(method)) {
        return { ok: false, id, error: `unknown inspector method ${JSON.stringify(String(method)).slice(0, 80)}; one of ${INSPECTOR_METHODS.join(', ')}` };
      }
      const params = parseParams(method as InspectorMethod, value.params);
      if (typeof params === 'string') return { ok: false, id, error: `${method}: ${params}` };
      return { ok: true, message: { type: 'request', id, method, params } as InspectorToHost };
    }
    default:
      return { ok: false, error: `unknown message type ${JSON.stringify(value.type).slice(0, 80)}` };
  }
}

/** The params of `method` rebuilt from the allowed fields, or a reason they are refused. */
function parseParams(method: InspectorMethod, value: unknown): InspectorRequests[InspectorMethod]['params'] | string {
  const p = isObject(value) ? value : {};
  if (value !== undefined && !isObject(value)) return 'params must be an object';
  switch (method) {
    case 'steps': {
      const out: InspectorRequests['steps']['params'] = {};
      if (p.start !== undefined) {
        if (!isIndex(p.start)) return 'start must be an integer ≥ 0';
        out.start = p.start;
      }
      if (p.count !== undefined) {
        if (!isIndex(p.count)) return 'count must be an integer ≥ 0';
        out.count = p.count;
      }
      if (p.indices !== undefined) {
        if (!Array.isArray(p.indices) || p.indices.length > MAX_STEP_PAGE || !p.indices.every(isIndex)) return `indices must be at most ${MAX_STEP_PAGE} integers ≥ 0`;
        out.indices = [...(p.indices as number[])];
      }
      return out;
    }
    case 'step': {
      if (!isIndex(p.index)) return 'index must be an integer ≥ 0';
      const out: InspectorRequests['step']['params'] = { index: p.index };
      if (p.clip !== undefined) {
        if (!isIndex(p.clip)) return 'clip must be an integer ≥ 0';
        out.clip = p.clip;
      }
      return out;
    }
    case 'screenshot': {
      if (!isIndex(p.step) || !isIndex(p.action)) return 'step and action must be integers ≥ 0';
      return { step: p.step, action: p.action };
    }
    case 'filter': {
      if (!isObject(p.filter)) return 'filter must be an object';
      const filter: StepFilter = {};
      for (const k of ['errorsOnly', 'nonZeroExit', 'editsOnly'] as const) {
        const v = p.filter[k];
        if (v === undefined) continue;
        if (typeof v !== 'boolean') return `filter.${k} must be true or false`;
        filter[k] = v;
      }
      return { filter };
    }
    case 'search': {
      if (typeof p.query !== 'string' || p.query.length > MAX_QUERY_CHARS) return `query must be a string of at most ${MAX_QUERY_CHARS} characters`;
      const out: InspectorRequests['search']['params'] = { query: p.query };
      if (p.caseSensitive !== undefined) {
        if (typeof p.caseSensitive !== 'boolean') return 'caseSensitive must be true or false';
        out.caseSensitive = p.caseSensitive;
      }
      if (p.maxHits !== undefined) {
        if (!isIndex(p.maxHits) || p.maxHits < 1) return 'maxHits must be an integer ≥ 1';
        out.maxHits = p.maxHits;
      }
      return out;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
