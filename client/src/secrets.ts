/**
 * API keys in VS Code's SecretStorage, one per provider (`trajlab.apiKey.<provider>`). They go
 * to the daemon only inside a `trajlab/run/start` request (`apiKeys`), never into settings,
 * logs, run.json or any other file.
 */
import * as vscode from 'vscode';
import type { ApiKeys } from '../../common/src/protocol';
import { PROVIDER_KEY_ENV, providerOf } from '../../common/src/settings';

/** The SecretStorage key of a provider's API key. */
export function secretKey(provider: string): string {
  return `trajlab.apiKey.${provider}`;
}

/** API keys per provider in SecretStorage (see the file comment). */
export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** The providers TrajLab knows (`openai`, `vllm`, …). */
  static providers(): string[] {
    return Object.keys(PROVIDER_KEY_ENV);
  }

  /** Stores (or, with an empty key, deletes) a provider's key. Errors: an unknown provider. */
  async set(provider: string, key: string): Promise<void> {
    if (!(provider in PROVIDER_KEY_ENV)) throw new Error(`unknown provider "${provider}"; use one of ${ApiKeyStore.providers().join(', ')}`);
    if (key) await this.secrets.store(secretKey(provider), key);
    else await this.secrets.delete(secretKey(provider));
  }

  /** Whether a key is stored for the provider. */
  async has(provider: string): Promise<boolean> {
    return !!(await this.secrets.get(secretKey(provider)));
  }

  /**
   * The `apiKeys` of a run with this model spec: `{OPENAI_API_KEY: …}` when a key is stored
   * for the model's provider, else undefined (the daemon then uses its environment).
   */
  /** The stored keys of the providers of `modelSpecs` (a models list's entries), merged; undefined when none is stored. */
  async forModels(modelSpecs: readonly string[]): Promise<ApiKeys | undefined> {
    const keys: ApiKeys = {};
    for (const spec of new Set(modelSpecs)) Object.assign(keys, await this.forModel(spec));
    return Object.keys(keys).length ? keys : undefined;
  }

  async forModel(modelSpec: string): Promise<ApiKeys | undefined> {
    const provider = providerOf(modelSpec);
    if (!provider) return undefined;
    const env = PROVIDER_KEY_ENV[provider];
    if (!env) return undefined;
    const key = await this.secrets.get(secretKey(provider));
    return key ? { [env]: key } : undefined;
  }
}
