export { encodeCbor, decodeCbor } from './cbor.js'
export {
  encodeRegister, decodeRegister, encodeCounter, decodeCounter, encodeOrSet, decodeOrSet,
  encodeContext, decodeContext
} from './state-codec.js'
