/**
 * Chorus as another package's dependency: a fresh package that depends on it (node_modules/chorus
 * is a link to this checkout, as `npm install file:…` makes it) runs every example of
 * docs/library.md with `node` and compiles its TypeScript example with `tsc` (NodeNext) against
 * the package's `exports` and `types`. The examples are read from the page, so the page and the
 * package cannot drift apart. Needs dist/ (`npm run build`, which `npm ci` runs).
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cleanEnv } from '../cli/helpers.js'
import { tempDir } from '../helpers/nodes.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const PAGE = join(ROOT, 'docs', 'library.md')
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const RUN_TIMEOUT_MS = 60_000
/** tsc type-checks libp2p's declarations too: tens of seconds on a loaded 2-core machine. */
const TSC_TIMEOUT_MS = 150_000

interface Example { file: string, code: string, prints?: string }

/** The blocks of the page that start with `// example: FILE`, each with the ```text block after it, if any. */
function examplesOf (markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(m => ({ lang: m[1] ?? '', body: m[2] ?? '' }))
  const examples: Example[] = []
  blocks.forEach((block, i) => {
    const file = /^\/\/ example: (\S+)\n/.exec(block.body)?.[1]
    if (file === undefined) return
    const next = blocks[i + 1]
    examples.push({ file, code: block.body, ...(next?.lang === 'text' ? { prints: next.body } : {}) })
  })
  return examples
}

/** A package that depends on chorus, holding the page's examples. */
async function consumerPackage (): Promise<{ dir: string, examples: Example[] }> {
  const dir = await tempDir('chorus-consumer-')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'chorus-consumer', private: true, type: 'module', dependencies: { chorus: `file:${ROOT}` } }, null, 2))
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true })
  symlinkSync(ROOT, join(dir, 'node_modules', 'chorus'), 'dir')
  // A TypeScript app of Node brings @types/node; ours stands in for it.
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir')
  const examples = examplesOf(readFileSync(PAGE, 'utf8'))
  for (const e of examples) writeFileSync(join(dir, e.file), e.code)
  return { dir, examples }
}

interface Ran { code: number | null, stdout: string, stderr: string }

async function run (cwd: string, args: string[], timeout = RUN_TIMEOUT_MS): Promise<Ran> {
  return await new Promise(resolve => {
    execFile(process.execPath, args, { cwd, env: cleanEnv(), timeout }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

describe('chorus as a dependency of another package', () => {
  it('`npm run build` emitted the entry point and its types', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: { '.': { types: string, default: string } } }
    expect(existsSync(join(ROOT, pkg.exports['.'].default)), 'run `npm run build`').toBe(true)
    expect(existsSync(join(ROOT, pkg.exports['.'].types)), 'run `npm run build`').toBe(true)
  })

  it('runs every JavaScript example of docs/library.md and prints what the page says', async () => {
    const { dir, examples } = await consumerPackage()
    const scripts = examples.filter(e => e.file.endsWith('.mjs'))
    expect(scripts.map(e => e.file)).toEqual(expect.arrayContaining(['quickstart.mjs', 'replicate.mjs']))
    const resolved = await run(dir, ['--input-type=module', '-e', 'console.log(import.meta.resolve("chorus"))'])
    expect(resolved.stdout.trim()).toBe(`file://${join(ROOT, 'dist', 'index.js')}`)
    for (const example of scripts) {
      expect(example.prints, `${example.file}: a \`\`\`text block of its output follows it`).toBeDefined()
      const ran = await run(dir, [example.file])
      expect(ran.code, `${example.file} failed:\n${ran.stderr.slice(-3000)}`).toBe(0)
      expect(ran.stdout, example.file).toBe(example.prints)
    }
  }, 180_000)

  it('compiles the TypeScript example against the package\'s exports with tsc (NodeNext), and the types are not `any`', async () => {
    const { dir, examples } = await consumerPackage()
    expect(examples.map(e => e.file)).toContain('typed.ts')
    // Each line below must be a type error: were the types missing or `any`, tsc would report
    // the unused @ts-expect-error instead.
    writeFileSync(join(dir, 'refused.ts'), [
      'import { ChorusClient, createNode } from \'chorus\'',
      '// @ts-expect-error rpc is "HOST:PORT" or false',
      'await createNode({ rpc: 7070 })',
      '// @ts-expect-error there is no such option',
      'await createNode({ rcp: \'127.0.0.1:0\' })',
      'const local = await createNode({ rpc: false })',
      '// @ts-expect-error a node without an RPC server has no URL to give a client',
      'new ChorusClient(local.rpcUrl)',
      'const node = await createNode({ rpc: \'127.0.0.1:0\' })',
      '// @ts-expect-error get() resolves with a KvGetResult, whose value is unknown',
      'const n: number = (await new ChorusClient(node.rpcUrl).get(\'k\')).value',
      'console.log(n)',
      ''
    ].join('\n'))
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['typed.ts', 'refused.ts']
    }, null, 2))
    const tsc = await run(dir, [TSC, '-p', dir], TSC_TIMEOUT_MS)
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0)
  }, TSC_TIMEOUT_MS + 30_000)
})
