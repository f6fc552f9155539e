/**
 * The extension's settings (`trajlab.*` in package.json) as the client reads them and sends
 * them to the daemon (`initializationOptions` and `workspace/didChangeConfiguration`), and the
 * conventions both sides share. No secrets here: API keys live in SecretStorage.
 */

/** A Docker host of the `trajlab.dockerHosts` setting. */
export interface DockerHostSetting {
  name: string;
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`. */
  url: string;
  /** For `tcp://`: TLS with the Docker client certificates of DOCKER_CERT_PATH. */
  tls?: boolean;
  /** At most this many containers at once on this host (a cap on `workers` and on a run's workers). */
  maxConcurrent?: number;
  /** Pool runs: attempts at once on this host (HostSpec.workers); default the run's workers. */
  workers?: number;
  /** Pool runs: GPU device ids this host offers (HostSpec.gpus); default the engine's list. */
  gpus?: string[];
  /** false: listed in the Hosts view but left out of pool runs; default true. */
  enabled?: boolean;
}

/**
 * The URL the daemon is given for a `trajlab.dockerHosts` entry: `tls: true` on a `tcp://` URL
 * becomes `https://` (the daemon then speaks TLS with the client certificates of
 * DOCKER_CERT_PATH, as the docker CLI does); other URLs are passed as they are.
 */
export function dockerUrl(host: DockerHostSetting): string {
  return host.tls && host.url.startsWith('tcp://') ? `https://${host.url.slice('tcp://'.length)}` : host.url;
}

/** What the daemon needs of the settings (sent as `initializationOptions` and on change). */
export interface DaemonSettings {
  /** Absolute output root (the `trajlab.outputFolder` setting resolved against the workspace folder). */
  out?: string;
  /** Docker host URL for image checks and runs; default: the local engine. */
  dockerHost?: string;
  /** Image used when a task names none. */
  defaultImage?: string;
  /** `trajlab.metrics.port`: where the daemon serves /metrics and /health on 127.0.0.1; 0: off. */
  metricsPort?: number;
}

/** The environment variable holding each provider's API key (mirrors PROVIDERS in server/src/agent/model.ts). */
export const PROVIDER_KEY_ENV: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  vllm: 'VLLM_API_KEY',
  ollama: 'OLLAMA_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  gemini: 'GEMINI_API_KEY',
};

/** The provider of a model spec (`openai:gpt-4o` → `openai`; a bare name is `openai`; `gold`, `noop`, `replay:` have none). */
export function providerOf(modelSpec: string): string | undefined {
  if (modelSpec === 'gold' || modelSpec === 'noop' || modelSpec.startsWith('replay:')) return undefined;
  const colon = modelSpec.indexOf(':');
  return colon > 0 ? modelSpec.slice(0, colon) : 'openai';
}
