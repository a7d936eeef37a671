// Secrets at rest: AES-256-GCM with a random 96-bit IV per value and the secret's path as
// additional data, so a ciphertext copied under another path fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format tag of a sealed value, so a later key or cipher can be told apart. */
const VERSION = 1;

/** Seals and opens secret values with one key. */
export interface SecretBox {
  /** `value` encrypted for `path`: version byte, IV, ciphertext, tag. Never the same twice. */
  seal(path: string, value: string): Uint8Array;
  /** The value sealed for `path`; throws when the data was changed, moved or sealed by another key. */
  open(path: string, sealed: Uint8Array): string;
}

/** A box over a 32-byte key. */
export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.byteLength !== KEY_BYTES) {
    throw new Error(`A secrets key is ${KEY_BYTES} bytes, got ${key.byteLength}`);
  }
  const aad = (path: string) => Buffer.from(`pacer-secret:${path}`, 'utf8');
  return {
    seal(path, value) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(path));
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
    },
    open(path, sealed) {
      const data = Buffer.from(sealed);
      if (data.byteLength < 1 + IV_BYTES + TAG_BYTES || data[0] !== VERSION) {
        throw new Error(`The sealed secret '${path}' is not in a known format`);
      }
      const iv = data.subarray(1, 1 + IV_BYTES);
      const tag = data.subarray(data.byteLength - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aad(path));
      decipher.setAuthTag(tag);
      const body = data.subarray(1 + IV_BYTES, data.byteLength - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    },
  };
}

/**
 * The key in `file`: 32 raw bytes, or their base64 (a trailing newline allowed). Anything else
 * throws: a short or mistyped key must stop the master, not weaken the encryption.
 */
export async function readSecretsKey(file: string): Promise<Uint8Array> {
  const raw = await readFile(file);
  if (raw.byteLength === KEY_BYTES) return raw;
  const text = raw.toString('utf8').trim();
  const decoded = Buffer.from(text, 'base64');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && decoded.byteLength === KEY_BYTES) return decoded;
  throw new Error(`${file} must hold ${KEY_BYTES} raw bytes or their base64`);
}

/** Reads the key in `file`, first writing a new random one (mode 0600) when there is none. */
export async function readOrCreateSecretsKey(file: string): Promise<Uint8Array> {
  try {
    // `wx`: never overwrite a key that appeared meanwhile (its secrets would be lost).
    await writeFile(file, randomBytes(KEY_BYTES).toString('base64') + '\n', {
      flag: 'wx',
      mode: 0o600,
    });
    await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readSecretsKey(file);
}
