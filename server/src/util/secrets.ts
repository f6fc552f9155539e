/**
 * Known secret values (the API keys a run uses, passwords inside its URLs) scrubbed from the text
 * TrajLab writes or prints: an endpoint that echoes the key (`401 … Bearer sk-…`) must not put it
 * in a trajectory, an event, a log line or on the terminal. See `runSecrets` for what is known.
 */
import type { Logger } from './log';
import { userInfoOf } from './urlCredentials';

/** What a scrubbed secret is replaced with. */
export const REDACTED = '[redacted]';

/** Secrets shorter than this many characters are not scrubbed (they would match ordinary text, e.g. the `EMPTY` key of local servers). */
export const MIN_SECRET_LENGTH = 8;

/** Characters that can appear in JSON text outside string literals. */
const JSON_STRUCTURE = /^[\s{}[\],:0-9+\-.eEtrufalsn]*$/;

/**
 * A set of secret values and the forms they take in text: as given, percent-encoded (in a URL)
 * and JSON-escaped (inside a JSON string). Every method is pure and never throws.
 */
export class Secrets {
  /** Every form of every secret, longest first (a secret inside another is scrubbed with it). */
  private readonly forms: string[];

  /** `values`: the secrets; undefined, empty and short ones (< MIN_SECRET_LENGTH) are skipped. */
  constructor(values: Iterable<string | undefined>) {
    const forms = new Set<string>();
    for (const v of values) {
      if (!v || v.length < MIN_SECRET_LENGTH) continue;
      for (const f of [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)]) forms.add(f);
    }
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  /** True when there is nothing to scrub. */
  get empty(): boolean {
    return this.forms.length === 0;
  }

  /** `text` with every occurrence of a secret replaced by `[redacted]`. */
  scrub(text: string): string {
    for (const f of this.forms) if (text.includes(f)) text = text.split(f).join(REDACTED);
    return text;
  }

  /**
   * `JSON.stringify(value, null, space)` with the secrets in its strings replaced by
   * `[redacted]`. Costs one substring search per form when no secret is present; the text stays
   * valid JSON (a secret that could also be read as JSON numbers or literals is scrubbed string
   * by string instead of in the text).
   */
  json(value: unknown, space?: number): string {
    const text = JSON.stringify(value, null, space);
    const present = this.forms.filter((f) => text.includes(f));
    if (!present.length) return text;
    if (present.every((f) => !JSON_STRUCTURE.test(f))) return this.scrub(text);
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? this.scrub(v) : v), space);
  }

  /** `value` with the secrets in its strings replaced (a copy when any was found; `value` itself otherwise). */
  value<T>(value: T): T {
    if (this.empty || value === undefined) return value;
    const text = JSON.stringify(value);
    if (text === undefined || !this.forms.some((f) => text.includes(f))) return value;
    return JSON.parse(this.json(value)) as T;
  }

  /** `err` with the secrets removed from its message and stack (the same object, changed), for errors that are printed or recorded. */
  error<E>(err: E): E {
    if (err instanceof Error) {
      err.message = this.scrub(err.message);
      if (err.stack) err.stack = this.scrub(err.stack);
    }
    return err;
  }

  /** A logger that writes through `logger` with the secrets scrubbed. */
  logger(logger: Logger): Logger {
    if (this.empty) return logger;
    return {
      info: (m) => logger.info(this.scrub(m)),
      warn: (m) => logger.warn(this.scrub(m)),
      error: (m) => logger.error(this.scrub(m)),
    };
  }
}

/** Scrubs nothing (readers of files written by others; tests). */
export const NO_SECRETS = new Secrets([]);

/**
 * The secrets of a run: the value of every `*_API_KEY` variable of `env` (the process's
 * environment plus the keys the daemon's client sent) and of the variables `keyVars` names (a
 * models list's `api_key_env`), and the password (percent-decoded and as written) of each URL given (`--base-url`, `--host`, `*_BASE_URL` variables of `env`).
 */
export function runSecrets(env: NodeJS.ProcessEnv, urls: (string | undefined)[], keyVars: readonly string[] = []): Secrets {
  const keys: (string | undefined)[] = keyVars.map((name) => env[name]);
  const allUrls = [...urls];
  for (const [name, value] of Object.entries(env)) {
    if (name.endsWith('_API_KEY')) keys.push(value);
    if (name.endsWith('_BASE_URL')) allUrls.push(value);
  }
  return secretsOf(keys, allUrls);
}

/** The secrets `keys` (API keys) and the passwords (percent-decoded and as written) of `urls`. */
export function secretsOf(keys: Iterable<string | undefined>, urls: Iterable<string | undefined>): Secrets {
  const values = [...keys];
  for (const url of urls) values.push(...urlPasswords(url));
  return new Secrets(values);
}

/** The password of `url` as written and percent-decoded (urlCredentials.ts finds it); none when it has none. */
function urlPasswords(url: string | undefined): string[] {
  const password = url ? userInfoOf(url)?.password : undefined;
  if (!password) return [];
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password]; // not valid percent-encoding: only the form as written can appear
  }
}
