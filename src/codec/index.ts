export { encodeCbor, decodeCbor } from './cbor.js'
export { encodeCanonical, decodeCanonical, MAX_CBOR_DEPTH } from './canonical-cbor.js'
export type { CanonicalValue } from './canonical-cbor.js'
export {
  encodeRegister, decodeRegister, encodeCounter, decodeCounter, encodeOrSet, decodeOrSet,
  encodeVersionVector, decodeVersionVector
} from './state-codec.js'
export { encodeContext, decodeContext } from './context-codec.js'
export { encodeOrMap, decodeOrMap } from './map-codec.js'
