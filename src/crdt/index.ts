export { EMPTY_COUNTER, incrementCounter, mergeCounters, counterValue, counterContext, wouldOverflow } from './pn-counter.js'
export type { CounterState, CounterEntry } from './pn-counter.js'
export { EMPTY_OR_SET, addMembers, removeMembers, mergeOrSets, setMembers } from './or-set.js'
export type { OrSetState } from './or-set.js'
