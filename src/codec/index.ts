export { encodeCbor, decodeCbor } from './cbor.js'
export {
  encodeRegister, decodeRegister, encodeCounter, decodeCounter, encodeOrSet, decodeOrSet,
  encodeVersionVector, decodeVersionVector
} from './state-codec.js'
export { encodeContext, decodeContext } from './context-codec.js'
