/**
 * Self-signed HTTPS for phones on the LAN (WebGPU needs a secure context). The certificate is
 * made once with `selfsigned` and kept in the config folder, so a phone that accepted it once
 * keeps accepting it; it is remade only when missing, expired, or lacking a current LAN address.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate as generateCertificate } from 'selfsigned';
import type { Logger } from '../src/core/log';

export function configDir(): string {
  const fromEnv = process.env['SPLITSCOPE_CONFIG_DIR'];
  if (fromEnv) return fromEnv;
  const xdg = process.env['XDG_CONFIG_HOME'] ?? path.join(os.homedir(), '.config');
  return path.join(xdg, 'splitscope');
}

export interface TlsMaterial {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
  created: boolean;
}

function sanFor(hosts: readonly string[]): { type: 2 | 7; value?: string; ip?: string }[] {
  return hosts.map((host) =>
    /^[\d.]+$/.test(host) || host.includes(':')
      ? { type: 7 as const, ip: host }
      : { type: 2 as const, value: host },
  );
}

function certCovers(certPem: string, hosts: readonly string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (new Date(cert.validTo).getTime() < Date.now() + 24 * 3600 * 1000) return false;
    const san = cert.subjectAltName ?? '';
    return hosts.every((host) => san.includes(host));
  } catch {
    return false;
  }
}

export async function loadOrCreateCertificate(
  hosts: readonly string[],
  log: Logger,
  dir = configDir(),
): Promise<TlsMaterial> {
  const keyFile = path.join(dir, 'tls-key.pem');
  const certFile = path.join(dir, 'tls-cert.pem');
  try {
    const [key, cert] = await Promise.all([fs.readFile(keyFile, 'utf8'), fs.readFile(certFile, 'utf8')]);
    if (certCovers(cert, hosts)) return { key, cert, keyFile, certFile, created: false };
    log.info(`certificate in ${dir} does not cover ${hosts.join(', ')} or expires soon; making a new one`);
  } catch {
    // No certificate yet: make one below.
  }
  const notAfterDate = new Date();
  notAfterDate.setFullYear(notAfterDate.getFullYear() + 2);
  const pems = await generateCertificate([{ name: 'commonName', value: 'SplitScope (self-signed)' }], {
    keySize: 2048,
    notAfterDate,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: sanFor(hosts) },
    ],
  });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(keyFile, pems.private, { mode: 0o600 });
  await fs.writeFile(certFile, pems.cert, { mode: 0o644 });
  log.info(`created a self-signed certificate for ${hosts.join(', ')} in ${dir}`);
  return { key: pems.private, cert: pems.cert, keyFile, certFile, created: true };
}
