/**
 * The shape check of a trajectory read from a file, done once where the file is read
 * (`importTrajectory`) so that everything after it (statistics, export, `show`, the inspector)
 * can trust the fields it reads: `nestingProblem` for any parsed file (a value nested deeper than
 * MAX_NESTING makes recursive code such as JSON.stringify overflow the stack), and
 * `trajectoryShapeProblem` for a TrajLab trajectory.
 *
 * Source of the format: `schemas/trajectory.schema.json` (ajv, JSON Schema 2020-12, as
 * tasks/schema.ts does for tasks), checked a little more closely than the published schema says
 * where the code reads more: the task snapshot is checked against `schemas/task.schema.json`
 * except for unknown keys (a trajectory stays readable when the task format gains or loses a
 * key); each action has the fields of its kind (common/src/trajectory.ts `Action`); tool calls
 * (`response.tool_calls`, `messages[].tool_calls`) have the OpenAI shape the schema's
 * description names ({id, type, function: {name, arguments}}).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { BROWSER_ACTIONS, type Trajectory } from '../../../common/src/trajectory';
import taskSchema from '../../../schemas/task.schema.json';
import trajectorySchema from '../../../schemas/trajectory.schema.json';
import { pointerToPath } from '../tasks/schema';

/** The deepest nesting of arrays and objects a trajectory file may have (real ones nest under 20). */
export const MAX_NESTING = 200;

/** A tool call as OpenAI writes it; `id` may be '' (imported trajectories). */
const TOOL_CALLS = {
  type: 'array',
  items: {
    type: 'object',
    required: ['function'],
    properties: {
      id: { type: 'string' },
      function: { type: 'object', required: ['name', 'arguments'], properties: { name: { type: 'string' }, arguments: { type: 'string' } } },
    },
  },
};

/** The fields of each action kind (common/src/trajectory.ts `Action`). */
const ACTION = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { enum: ['bash', 'edit', 'submit', 'browser', 'format_error'] }, tool_call_id: { type: 'string' } },
  allOf: [
    { if: { properties: { kind: { const: 'bash' } } }, then: { required: ['command'], properties: { command: { type: 'string' } } } },
    { if: { properties: { kind: { const: 'edit' } } }, then: { required: ['command', 'path', 'args'], properties: { command: { type: 'string' }, path: { type: 'string' }, args: { type: 'object' } } } },
    { if: { properties: { kind: { const: 'submit' } } }, then: { properties: { answer: { type: 'string' } } } },
    { if: { properties: { kind: { const: 'format_error' } } }, then: { required: ['message'], properties: { message: { type: 'string' } } } },
    {
      if: { properties: { kind: { const: 'browser' } } },
      then: {
        required: ['action', 'args'],
        properties: {
          action: { enum: [...BROWSER_ACTIONS] },
          args: { type: 'object', properties: { url: { type: 'string' }, element_id: { type: 'integer' }, text: { type: 'string' }, submit: { type: 'boolean' }, direction: { enum: ['up', 'down'] } } },
        },
      },
    },
  ],
};

/** `schema` without `additionalProperties: false` anywhere (unknown keys allowed). */
function allowingUnknownKeys(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(allowingUnknownKeys);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k, v]) => !(k === 'additionalProperties' && v === false)).map(([k, v]) => [k, allowingUnknownKeys(v)]));
}

let validator: ValidateFunction<Trajectory> | undefined;

function trajectoryValidator(): ValidateFunction<Trajectory> {
  if (!validator) {
    const schema = structuredClone(trajectorySchema) as Record<string, any>;
    schema.properties.messages.items.properties.tool_calls = TOOL_CALLS;
    const step = schema.properties.steps.items;
    step.properties.response.properties.tool_calls = TOOL_CALLS;
    step.properties.actions.items = ACTION;
    // `formats` off: a timestamp TrajLab cannot parse is shown as written, never trusted as a date.
    const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
    ajv.addSchema(allowingUnknownKeys(taskSchema) as object);
    validator = ajv.compile<Trajectory>(schema);
  }
  return validator;
}

/**
 * Where `data` (a parsed JSON value) nests arrays and objects deeper than MAX_NESTING, as
 * `<JSON path>: nested deeper than 200 levels`; undefined when it does not. Iterative: any depth
 * is measured without recursion. Cost: one pass over the value.
 */
export function nestingProblem(data: unknown): string | undefined {
  interface Entry {
    value: unknown;
    depth: number;
    parent?: Entry;
    key?: string | number;
  }
  const stack: Entry[] = typeof data === 'object' && data !== null ? [{ value: data, depth: 0 }] : [];
  while (stack.length) {
    const entry = stack.pop()!;
    const { value, depth } = entry;
    if (depth >= MAX_NESTING) {
      const segments: (string | number)[] = [];
      for (let e: Entry | undefined = entry; e?.parent; e = e.parent) segments.unshift(e.key!);
      return `${jsonPath(segments)}: nested deeper than ${MAX_NESTING} levels`;
    }
    const children = Array.isArray(value) ? value.entries() : Object.entries(value as object);
    for (const [key, v] of children) if (typeof v === 'object' && v !== null) stack.push({ value: v, depth: depth + 1, parent: entry, key });
  }
  return undefined;
}

/**
 * Why `data` (a parsed TrajLab trajectory) does not have the shape of
 * `schemas/trajectory.schema.json`, as `<JSON path>: <problem> (got <value>)`, e.g.
 * `steps[1]: must be an object (got null)`; undefined when it has. The first problem only.
 */
export function trajectoryShapeProblem(data: unknown): string | undefined {
  const validate = trajectoryValidator();
  if (validate(data)) return undefined;
  const error = validate.errors?.[0];
  return error ? describe(error, data) : 'does not match schemas/trajectory.schema.json';
}

function describe(error: ErrorObject, root: unknown): string {
  const segments = pointerToPath(error.instancePath);
  const where = segments.length ? jsonPath(segments) : 'the trajectory';
  const got = shown(valueAt(root, segments));
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${where}: the required key ${JSON.stringify(p.missingProperty)} is missing`;
    case 'type':
      return `${where}: must be ${typeWords(p.type as string | string[])} (got ${got})`;
    case 'enum':
      return `${where}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${got})`;
    case 'const':
      return `${where}: must be ${JSON.stringify(p.allowedValue)} (got ${got})`;
    default:
      return `${where}: ${error.message ?? 'is invalid'} (got ${got})`;
  }
}

/** `['steps', 1, 'observations']` → `steps[1].observations`. */
function jsonPath(segments: (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? (i ? `.${s}` : s) : `[${JSON.stringify(s)}]`)).join('');
}

function typeWords(type: string | string[]): string {
  const words = (Array.isArray(type) ? type : [type]).map((t) => (t === 'null' ? 'null' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`));
  return words.join(' or ');
}

/** A short JSON rendering of a value, for messages (at most ~60 characters). */
function shown(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length} item(s)`;
  if (typeof v === 'object' && v !== null) return 'an object';
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function valueAt(root: unknown, segments: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const seg of segments) {
    if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}
