/**
 * The node's persistent libp2p identity: an Ed25519 key in DATA/peer.key (protobuf, mode
 * 0600), so the peer id survives restarts. A damaged key file is an error, never silently
 * replaced — a new identity would make this node's old dots look like another node's.
 *
 * The peer id is also the name under which the node's writes are counted (dots), so two
 * processes must never write under one identity: a copied data directory (a VM image, a backup
 * restored twice) would reuse version counters, and one of two different writes under the same
 * dot vanishes everywhere. Two defences:
 *
 * - DATA/identity.json records where the identity lives (the directory's real path and its
 *   inode; the host name for the operator). A directory that finds itself elsewhere is a copy:
 *   it takes a new identity before its first write. A moved directory renews too (see
 *   docs/consistency.md for what a new identity costs).
 * - A node that receives writes of its own identity that it never made (replica/identity-check.ts)
 *   refuses local writes and leaves DATA/identity-conflict behind; the next start renews.
 *
 * A renewed identity's old key stays beside it as peer.key.replaced-<ms>, for forensics.
 */
import { readFile, writeFile, rename, realpath, stat, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { DataDirError } from '../errors.js'

export const PEER_KEY_FILE = 'peer.key'
export const IDENTITY_FILE = 'identity.json'
export const IDENTITY_CONFLICT_FILE = 'identity-conflict'

export interface Identity {
  key: PrivateKey
  /** Why a new identity replaced the one the directory had, when it did. */
  renewed?: string
}

interface Fingerprint {
  peerId: string
  path: string
  ino: number
  host: string
}

export async function loadOrCreateIdentity (dataDir: string): Promise<Identity> {
  const keyPath = join(dataDir, PEER_KEY_FILE)
  const existing = await readKey(keyPath)
  const here = await fingerprintOf(dataDir)
  if (existing === undefined) return { key: await createIdentity(dataDir, here) }
  const peerId = peerIdFromPrivateKey(existing).toString()
  const reason = await renewalReason(dataDir, { ...here, peerId })
  if (reason === undefined) return { key: existing }
  await rename(keyPath, `${keyPath}.replaced-${Date.now()}`)
  const key = await createIdentity(dataDir, here)
  await rm(join(dataDir, IDENTITY_CONFLICT_FILE), { force: true })
  return { key, renewed: `${reason}; the old identity was ${peerId}` }
}

/** Left by a node that saw another process write with its identity; read at the next start. */
export async function markIdentityConflict (dataDir: string, detail: Record<string, unknown>): Promise<void> {
  await writeFile(join(dataDir, IDENTITY_CONFLICT_FILE), JSON.stringify({ ...detail, atMs: Date.now() }))
}

async function renewalReason (dataDir: string, here: Fingerprint): Promise<string | undefined> {
  const conflict = await readText(join(dataDir, IDENTITY_CONFLICT_FILE))
  if (conflict !== undefined) return 'another process wrote with this identity (see identity-conflict)'
  const recorded = parseFingerprint(await readText(join(dataDir, IDENTITY_FILE)))
  if (recorded === undefined) {
    // A directory from before identity.json existed, or the file was lost: record it as it is.
    await writeFingerprint(dataDir, here)
    return undefined
  }
  if (recorded.peerId !== here.peerId) return undefined // not ours to judge: peer.key was replaced by hand
  // The host name is recorded for the operator, not compared: containers get a new one each run.
  if (recorded.path === here.path && recorded.ino === here.ino) return undefined
  return `the data directory was copied, restored or moved (it was ${recorded.path} on ${recorded.host}, now ${here.path} on ${here.host})`
}

async function createIdentity (dataDir: string, here: Omit<Fingerprint, 'peerId'>): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  const path = join(dataDir, PEER_KEY_FILE)
  // Write then rename, so a crash never leaves a half-written identity behind.
  await writeFile(`${path}.tmp`, privateKeyToProtobuf(key), { mode: 0o600 })
  await rename(`${path}.tmp`, path)
  await writeFingerprint(dataDir, { ...here, peerId: peerIdFromPrivateKey(key).toString() })
  return key
}

async function readKey (path: string): Promise<PrivateKey | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DataDirError(`cannot read ${path}`, { cause: err })
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new DataDirError(`${path} is not a valid libp2p private key; restore it from a backup or move the data directory aside`, { cause: err })
  }
}

async function fingerprintOf (dataDir: string): Promise<Omit<Fingerprint, 'peerId'>> {
  const path = await realpath(dataDir)
  return { path, ino: (await stat(path)).ino, host: hostname() }
}

async function writeFingerprint (dataDir: string, fp: Fingerprint): Promise<void> {
  const path = join(dataDir, IDENTITY_FILE)
  await writeFile(`${path}.tmp`, JSON.stringify(fp) + '\n')
  await rename(`${path}.tmp`, path)
}

function parseFingerprint (text: string | undefined): Fingerprint | undefined {
  if (text === undefined) return undefined
  try {
    const raw = JSON.parse(text) as Partial<Fingerprint>
    if (typeof raw.peerId !== 'string' || typeof raw.path !== 'string' || typeof raw.host !== 'string' || !Number.isSafeInteger(raw.ino)) return undefined
    return raw as Fingerprint
  } catch {
    return undefined
  }
}

async function readText (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DataDirError(`cannot read ${path}`, { cause: err })
  }
}
