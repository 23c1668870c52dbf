/**
 * The node's persistent libp2p identity: an Ed25519 key in DATA/peer.key (protobuf, mode
 * 0600), so the peer id survives restarts. A damaged key file is an error, never silently
 * replaced — a new identity would make this node's old dots look like another node's.
 */
import { readFile, writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { DataDirError } from '../errors.js'

export const PEER_KEY_FILE = 'peer.key'

export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataDirError(`cannot read ${path}`, { cause: err })
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new DataDirError(`${path} is not a valid libp2p private key; restore it from a backup or move the data directory aside`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  // Write then rename, so a crash never leaves a half-written identity behind.
  await writeFile(`${path}.tmp`, privateKeyToProtobuf(key), { mode: 0o600 })
  await rename(`${path}.tmp`, path)
  return key
}
