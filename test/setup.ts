// libp2p 2.x reaches Promise.withResolvers, which Node 20 lacks.
import '../src/util/polyfills.js'
