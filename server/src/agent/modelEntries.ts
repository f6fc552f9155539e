/**
 * A run's models list (ModelEntry, common/src/run.ts) however it arrives: `--models FILE`
 * (YAML or JSON: a list of entries or `{models: [...]}`, util/listFile.ts adds the file
 * position), a repeated `--model SPEC`, the `trajlab.models` setting and `options.models` of
 * `trajlab/run/start`. One set of rules, a JSON Schema checked with Ajv, then what a schema
 * cannot say (a spec the presets know, names unique).
 *
 *   models:
 *     - {model: "deepseek:deepseek-chat", rpm: 60, tpm: 200000}
 *     - model: openai:gpt-4o-mini
 *       max_concurrency: 8
 *       price: {input: 0.15, output: 0.6}
 *     - {model: "vllm:Qwen/Qwen3-8B", base_url: "http://gpu1:8000/v1", extra_body: {top_k: 20}}
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import type { ModelEntry } from '../../../common/src/run';
import { ListEntryError, parseListFile, readListFile, type ListFileKind } from '../util/listFile';
import { parseModelSpec } from './model';

const positive = { type: 'number', exclusiveMinimum: 0 };
const count = { type: 'integer', minimum: 1 };

/** The JSON Schema of one ModelEntry. */
export const MODEL_ENTRY_SCHEMA = {
  type: 'object',
  required: ['model'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    base_url: { type: 'string', pattern: '^https?://' },
    api_key_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    weight: positive,
    max_concurrency: count,
    rpm: positive,
    tpm: count,
    context_window: count,
    vision: { type: 'boolean' },
    price: {
      type: 'object',
      required: ['input', 'output'],
      additionalProperties: false,
      properties: { input: { type: 'number', minimum: 0 }, output: { type: 'number', minimum: 0 }, cached_input: { type: 'number', minimum: 0 } },
    },
    max_retries: { type: 'integer', minimum: 0 },
    cooldown_sec: { type: 'number', minimum: 0 },
    temperature: { type: 'number', minimum: 0 },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    seed: { type: 'integer' },
    max_tokens: count,
    stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    extra_body: { type: 'object' },
  },
} as const;

const validateEntry = new Ajv2020({ allErrors: false, strict: true }).compile(MODEL_ENTRY_SCHEMA);

/**
 * The entries of `list` checked: each matches MODEL_ENTRY_SCHEMA, names an API model spec
 * (`provider:model`; gold, noop and replay: are single policies, not list entries), and no two
 * entries have the same name (the default name is the spec, so two entries of one spec on two
 * endpoints need a `name` each, or differ by `base_url`: then their default names add the host).
 * Errors: ListEntryError naming the first bad value.
 */
export function checkModelEntries(list: readonly unknown[]): ModelEntry[] {
  const entries = list.map((value, i) => {
    if (!validateEntry(value)) throw entryError(i, validateEntry.errors![0]!);
    const entry = value as unknown as ModelEntry;
    let kind: string;
    try {
      kind = parseModelSpec(entry.model).kind;
    } catch (err) {
      throw new ListEntryError([i, 'model'], (err as Error).message);
    }
    if (kind !== 'api') throw new ListEntryError([i, 'model'], `"model" must be provider:model in a models list (got ${JSON.stringify(entry.model)}; gold, noop and replay: run alone, with one --model)`);
    return entry;
  });
  const names = new Map<string, number>();
  entryNames(entries).forEach((name, i) => {
    const first = names.get(name);
    if (first !== undefined) throw new ListEntryError([i, entries[i]!.name !== undefined ? 'name' : 'model'], `entry ${i + 1} has the name ${JSON.stringify(name)} of entry ${first + 1}: give one of them another "name" (or another base_url)`);
    names.set(name, i);
  });
  return entries;
}

/**
 * The name of each entry (steps, logs, counters): its `name`, else its spec, with the host of
 * its `base_url` added (`vllm:qwen@gpu1:8000`) when another entry has the same spec.
 */
export function entryNames(entries: readonly ModelEntry[]): string[] {
  return entries.map((e) => {
    if (e.name !== undefined) return e.name;
    const shared = entries.filter((o) => o.name === undefined && o.model === e.model).length > 1;
    if (!shared || !e.base_url) return e.model;
    try {
      return `${e.model}@${new URL(e.base_url).host}`;
    } catch {
      return e.model;
    }
  });
}

/** A readable message for the first schema violation of entry `i`. */
function entryError(i: number, e: ErrorObject): ListEntryError {
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path.length ? `"${path.join('.')}"` : 'an entry';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return new ListEntryError([i, ...path, String(p.additionalProperty)], `unknown key ${JSON.stringify(p.additionalProperty)} (${path.length ? `${field} has` : 'an entry has'} ${Object.keys(path[0] === 'price' ? MODEL_ENTRY_SCHEMA.properties.price.properties : MODEL_ENTRY_SCHEMA.properties).join(', ')})`, true);
    case 'required':
      return new ListEntryError([i, ...path], `${field} needs "${String(p.missingProperty)}"${path.length ? '' : ' (a model spec, e.g. openai:gpt-4o-mini)'}`);
    case 'type':
      return new ListEntryError([i, ...path], path.length ? `${field} must be ${article(String(p.type))}` : 'an entry must be an object with at least "model"');
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
      return new ListEntryError([i, ...path], `${field} must be ${String(p.comparison)} ${String(p.limit)}`);
    case 'pattern':
      return new ListEntryError([i, ...path], path[0] === 'base_url' ? `${field} must be an http:// or https:// URL` : `${field} must be an environment variable name (letters, digits, _)`);
    default:
      return new ListEntryError([i, ...path], `${field} ${e.message ?? 'is not valid'}`);
  }
}

function article(type: string): string {
  return type === 'integer' ? 'an integer' : type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

const MODELS: ListFileKind<ModelEntry> = { key: 'models', noun: 'model', example: '{model: "openai:gpt-4o-mini"}', check: checkModelEntries };

/** The entries of the `--models` file `file`, checked. Errors: ListFileError `file:line:col: message`. */
export function readModelsFile(file: string): Promise<ModelEntry[]> {
  return readListFile(file, MODELS);
}

/** The entries in `text`, a models file named `file` (for messages). Errors: ListFileError `file:line:col: message`. */
export function parseModelsFile(text: string, file: string): ModelEntry[] {
  return parseListFile(text, file, MODELS);
}
