import { describe, expect, it } from 'vitest'
import { MAX_MAP_DEPTH, MAX_MAP_FIELD_NAME_BYTES, MAX_MAP_OPS } from '../../src/constants.js'
import { formatOpsPath, parseMapOps } from '../../src/model/index.js'

const refusal = (raw: unknown): { at: string, problem: string } => {
  const r = parseMapOps(raw)
  if (r.ok) throw new Error('accepted')
  return { at: formatOpsPath(r.path), problem: r.problem }
}

function nested (depth: number): unknown {
  let op: unknown = { op: 'incr', field: 'n' }
  for (let i = 1; i < depth; i++) op = { op: 'update', field: `m${i}`, ops: [op] }
  return [op]
}

describe('map.update ops', () => {
  it('turns JSON ops into checked ones (values as JSON text, by defaulting to 1)', () => {
    const r = parseMapOps([
      { op: 'set', field: 'title', value: { a: [1] } },
      { op: 'incr', field: 'views' },
      { op: 'add', field: 'tags', members: ['x'] },
      { op: 'delete', field: 'old', type: 'map' },
      { op: 'update', field: 'address', ops: [{ op: 'remove', field: 'tags', members: ['y'] }] }
    ])
    expect(r).toEqual({ ok: true, ops: [
      { op: 'set', field: 'title', json: '{"a":[1]}' },
      { op: 'incr', field: 'views', by: 1 },
      { op: 'add', field: 'tags', members: ['x'] },
      { op: 'delete', field: 'old', type: 'map' },
      { op: 'update', field: 'address', ops: [{ op: 'remove', field: 'tags', members: ['y'] }] }
    ] })
  })

  it.each([
    [[], 'ops', 'non-empty'],
    ['x', 'ops', 'non-empty'],
    [[{ op: 'put', field: 'a' }], 'ops[0].op', 'must be one of'],
    [[{ op: 'set', field: '', value: 1 }], 'ops[0].field', 'must not be empty'],
    [[{ op: 'set', field: 'x'.repeat(MAX_MAP_FIELD_NAME_BYTES + 1), value: 1 }], 'ops[0].field', `${MAX_MAP_FIELD_NAME_BYTES} bytes`],
    [[{ op: 'set', field: 'a' }], 'ops[0].value', 'required'],
    [[{ op: 'set', field: 'a', value: 1, by: 2 }], 'ops[0].by', 'not a parameter'],
    [[{ op: 'incr', field: 'a', by: 1.5 }], 'ops[0].by', 'safe integer'],
    [[{ op: 'add', field: 'a', members: [1] }], 'ops[0].members[0]', 'string'],
    [[{ op: 'delete', field: 'a', type: 'list' }], 'ops[0].type', 'must be one of'],
    [[{ op: 'update', field: 'a', ops: [{ op: 'incr', field: 'b', by: 'x' }] }], 'ops[0].ops[0].by', 'safe integer']
  ])('refuses %j at %s', (raw, at, problem) => {
    const r = refusal(raw)
    expect(r.at).toBe(at)
    expect(r.problem).toContain(problem)
  })

  it(`allows paths of ${MAX_MAP_DEPTH} names, not more`, () => {
    expect(parseMapOps(nested(MAX_MAP_DEPTH)).ok).toBe(true)
    expect(refusal(nested(MAX_MAP_DEPTH + 1)).problem).toContain(`more than ${MAX_MAP_DEPTH} deep`)
  })

  it(`allows ${MAX_MAP_OPS} operations in one update, nested ones counted`, () => {
    const ops = (n: number): unknown => Array.from({ length: n }, (_, i) => ({ op: 'incr', field: `f${i}` }))
    expect(parseMapOps(ops(MAX_MAP_OPS)).ok).toBe(true)
    expect(refusal([{ op: 'update', field: 'm', ops: ops(MAX_MAP_OPS) }]).problem).toContain(`more than ${MAX_MAP_OPS}`)
  })
})
