/** User-facing explanations of failed calls to a Docker host (see connection.ts for the connections). */
import { dockerCertPath, hostKeyProblem, hostName } from './connection';

/**
 * A user-facing sentence for a failed call to the Docker host `url`: what went wrong and what to
 * do (TLS verification, a missing client certificate, ssh authentication, a refused or unknown
 * host), ending with the underlying message. Pure.
 */
export function explainDockerError(url: string | undefined, err: unknown): string {
  const e = err as NodeJS.ErrnoException & { level?: string };
  const full = String(e?.message ?? err);
  // OpenSSL's messages carry a routine path and a source line: keep the alert's words.
  const msg = /alert ([a-z ]+)/i.exec(full)?.[0] ?? full.split('\n')[0].trim();
  const code = e?.code ?? '';
  const shown = hostName(url);
  const certs = `DOCKER_CERT_PATH (now ${dockerCertPath()})`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code) || /certificate/i.test(msg) && !/certificate required/i.test(msg)) {
    if (/certificate required|bad certificate/i.test(msg)) {
      return `the Docker host ${shown} asks for a client certificate TrajLab could not give (${msg}): put cert.pem and key.pem signed by the engine's CA in ${certs}`;
    }
    return `the Docker host ${shown} presented a TLS certificate TrajLab cannot verify (${msg}): put the engine's CA as ca.pem in ${certs}`;
  }
  if (/certificate required|alert bad certificate|alert unknown ca|handshake/i.test(msg) || code === 'EPROTO') {
    return `the Docker host ${shown} refused the TLS handshake (${msg}): it wants a client certificate signed by its CA; put cert.pem and key.pem in ${certs}`;
  }
  if (url?.startsWith('ssh:') && /host denied/i.test(msg)) {
    return hostKeyProblem(url) ?? `ssh to the Docker host ${shown} was refused at the host key check (${msg})`;
  }
  if (e?.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    return `ssh to the Docker host ${shown} was refused (${msg}): add your key to the ssh agent (ssh-add; SSH_AUTH_SOCK=${process.env.SSH_AUTH_SOCK ?? 'unset'}) or use an unencrypted ~/.ssh/id_ed25519`;
  }
  if (/HTTP request to an HTTPS server/i.test(msg)) {
    return `the Docker host ${shown} speaks TLS: use https://host:port (or tcp://host:2376, or DOCKER_TLS_VERIFY=1) with the certificates in ${certs}`;
  }
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `the Docker host ${shown} does not answer (${msg}): start Docker there, or check the host URL`;
  }
  if (/EPIPE|ECONNRESET|socket hang up/.test(code + msg) && url && /^(https?|tcp):/.test(url)) {
    return `the Docker host ${shown} closed the connection (${msg}): check whether it speaks TLS (https:// or port 2376, certificates in ${certs}) or plain HTTP (tcp://…:2375)`;
  }
  return `the Docker host ${shown} failed (${msg})`;
}

/**
 * Whether `err` says the connection to a Docker host failed or broke (refused, socket missing,
 * reset, hung up, timed out, an ssh channel closed), rather than the engine answering with an
 * error. Pure.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException & { level?: string };
  const code = e?.code ?? '';
  if (['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED'].includes(code)) return true;
  const msg = String(e?.message ?? err);
  return /socket hang up|ECONNREFUSED|ECONNRESET|EPIPE|channel open failure|not connected|no response from server/i.test(msg) || e?.level === 'client-socket';
}
