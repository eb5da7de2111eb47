/** The URLs a person can open: localhost and every LAN IPv4 address, plus a terminal QR code. */
import os from 'node:os';
import qrcode from 'qrcode-terminal';

export function lanIPv4Addresses(): string[] {
  const addresses: string[] = [];
  for (const infos of Object.values(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4' && !info.internal) addresses.push(info.address);
    }
  }
  return addresses;
}

export interface ServerUrls {
  local: string[];
  lan: string[];
}

export function serverUrls(host: string, port: number, https: boolean): ServerUrls {
  const scheme = https ? 'https' : 'http';
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const local = [`${scheme}://localhost:${port}/`];
  if (!wildcard && host !== 'localhost' && host !== '127.0.0.1') {
    return { local: [], lan: [`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}/`] };
  }
  const lan = wildcard ? lanIPv4Addresses().map((address) => `${scheme}://${address}:${port}/`) : [];
  return { local, lan };
}

export function qrCode(text: string): Promise<string> {
  return new Promise((resolve) => qrcode.generate(text, { small: true }, resolve));
}
