/** The pure comparison behind the "another Chorus version" warning (node/peer-versions.ts). */
import { describe, expect, it } from 'vitest'
import { protocolFamily, versionMismatches } from '../../src/node/peer-versions.js'

const AE = '/chorus/main/anti-entropy/3.0.0'
const TIME = '/chorus/main/time/1.0.0'

describe('versionMismatches', () => {
  it('names each of our protocols the peer speaks only in other versions', () => {
    expect(versionMismatches([AE, TIME], ['/ipfs/id/1.0.0', '/chorus/main/anti-entropy/2.0.0', '/chorus/main/anti-entropy/1.0.0', TIME]))
      .toEqual([{ ours: AE, theirs: ['/chorus/main/anti-entropy/1.0.0', '/chorus/main/anti-entropy/2.0.0'] }])
  })

  it('is empty for a peer that speaks our version too, or none of the family', () => {
    expect(versionMismatches([AE], [AE, '/chorus/main/anti-entropy/4.0.0'])).toEqual([])
    expect(versionMismatches([AE], ['/ipfs/id/1.0.0', '/meshsub/1.1.0'])).toEqual([])
    // Another cluster's protocol is not another version of ours.
    expect(versionMismatches([AE], ['/chorus/other/anti-entropy/2.0.0'])).toEqual([])
    // Nor is a longer id that merely starts like ours.
    expect(versionMismatches([AE], ['/chorus/main/anti-entropy/2.0.0/extra'])).toEqual([])
  })

  it('cuts the version off at the last slash', () => {
    expect(protocolFamily(AE)).toBe('/chorus/main/anti-entropy/')
    expect(protocolFamily('/chorus/main/changes/1')).toBe('/chorus/main/changes/')
  })
})
