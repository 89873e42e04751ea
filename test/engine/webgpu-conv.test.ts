// Score Lab's WebGPU convolution kernels (src/engine/backend/webgpu/conv.ts): Conv2D,
// Conv2DBackpropInput and Conv2DBackpropFilter against the pure-JS cpu backend (relative L2 ≤
// 1e-5) on the shapes wasm-kernels.test.ts covers, random shapes, and the tutorial ScoreNet's
// convs and transposed convs (with output padding, value and both gradients); that our programs
// ran (both the direct and the split-K path), and that a dilated or NCHW conv, and by default a
// GEMM too narrow for a 64-wide tile, goes to the stock kernel and still matches.
//
// One child process for all cases (helpers/webgpu-child.ts): the machine's adapter, else SwiftShader.
import { describe, expect, test } from 'vitest'
import { tf } from '../../src/engine/tf'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

const TOL = 1e-5

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]]
interface ConvCase {
  x: [number, number, number, number]
  f: [number, number, number, number]
  s: number | [number, number]
  pad: Pad
  format?: 'NHWC' | 'NCHW'
  dilation?: number
  /** A case ours must hand to the stock kernel. */
  stock?: boolean
}

const CASES: ConvCase[] = [
  // wasm-kernels.test.ts's cases: odd sizes, channels not divisible by 4, all padding kinds
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 1, pad: 'valid' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' },
  { x: [3, 10, 7, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [2, 11, 8, 5], f: [3, 3, 5, 2], s: 1, pad: 'same' },
  { x: [3, 8, 11, 2], f: [3, 2, 2, 5], s: [2, 1], pad: 1 },
  { x: [2, 12, 12, 3], f: [3, 3, 3, 4], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 5, 5, 4], f: [5, 5, 4, 2], s: 3, pad: 'same' },
  { x: [2, 7, 9, 3], f: [1, 1, 3, 4], s: [1, 3], pad: 'valid' },
  // vec4 loads on one operand or both, batch 1, stride equal to the kernel (one tap per phase),
  // and N over one 64-wide tile with a remainder
  { x: [1, 7, 5, 8], f: [3, 3, 8, 12], s: 2, pad: 'same' },
  { x: [2, 8, 8, 6], f: [3, 3, 6, 8], s: 1, pad: 'same' },
  { x: [2, 8, 8, 8], f: [3, 3, 8, 6], s: 2, pad: 'valid' },
  { x: [1, 6, 6, 4], f: [2, 2, 4, 4], s: 2, pad: 'valid' },
  { x: [1, 10, 9, 4], f: [3, 3, 4, 70], s: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
  // the tutorial ScoreNet's convs (batch 2): conv1 28→26, conv2 26→12, conv3 12→5, conv4 5→2
  { x: [2, 28, 28, 1], f: [3, 3, 1, 32], s: 1, pad: 'valid' },
  { x: [2, 26, 26, 32], f: [3, 3, 32, 64], s: 2, pad: 'valid' },
  { x: [2, 12, 12, 64], f: [3, 3, 64, 128], s: 2, pad: 'valid' },
  { x: [2, 5, 5, 128], f: [3, 3, 128, 256], s: 2, pad: 'valid' },
  // not ours: stock kernels, same answers
  { x: [2, 3, 9, 7], f: [3, 3, 3, 4], s: 2, pad: 'same', format: 'NCHW', stock: true },
  { x: [2, 9, 9, 4], f: [3, 3, 4, 8], s: 1, pad: 'same', dilation: 2, stock: true }
]

// wasm-kernels.test.ts's random shapes (same generator): strides 1..3, all padding kinds.
{
  let s = 12345
  const r = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n
  for (let i = 0; i < 12; i++) {
    const k = 1 + r(4)
    const st = 1 + r(3)
    const pads: Pad[] = ['valid', 'same', r(2), [[0, 0], [r(3), r(3)], [r(3), r(3)], [0, 0]]]
    const c: ConvCase = { x: [1 + r(3), k + r(9), k + r(9), 1 + r(6)], f: [k, 1 + r(4), 0, 1 + r(6)], s: [st, 1 + r(3)], pad: pads[r(4)]! }
    c.f[2] = c.x[3]
    if (c.f[1] > c.x[2]) c.f[1] = c.x[2]
    if (typeof c.pad === 'number') c.s = st // numeric pad + unequal strides trips tfjs's own shape code
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad as never)
    if (info.outHeight > 0 && info.outWidth > 0) CASES.push(c)
  }
}

/** The tutorial ScoreNet's transposed convs (layers.ts conv2dTranspose, PyTorch output_padding), batch 2. */
const TCONVS = [
  { name: 'tconv4', x: [2, 2, 2, 256], w: [3, 3, 128, 256], s: 2, op: 0 },
  { name: 'tconv3', x: [2, 5, 5, 256], w: [3, 3, 64, 256], s: 2, op: 1 },
  { name: 'tconv2', x: [2, 12, 12, 128], w: [3, 3, 32, 128], s: 2, op: 1 },
  { name: 'tconv1', x: [2, 26, 26, 64], w: [3, 3, 1, 64], s: 1, op: 0 }
]

/** Run with conv.ts's default tuning: the input gradient has N = CI = 1 columns, so it goes to stock; the other two are ours. */
const NARROW: ConvCase = { x: [2, 9, 9, 1], f: [3, 3, 1, 16], s: 1, pad: 'valid' }

const caseName = (c: ConvCase) =>
  `x ${c.x} f ${c.f} stride ${c.s} pad ${JSON.stringify(c.pad)}${c.format ? ' ' + c.format : ''}${c.dilation ? ' dilation ' + c.dilation : ''}`

// Every case computed on webgpu with our kernels on, then on cpu from the same inputs; the child
// returns relative L2 errors and how many times each of our programs ran for the case. CASES and
// TCONVS run with convTuning.minColumns = 1, so our GEMM takes even one-column shapes; NARROW
// runs with the default.
const CHILD = WEBGPU_CHILD_PRELUDE + `
import { convKernelRuns, convTuning } from './src/engine/backend/webgpu/conv.ts'
import { useWebgpuKernels, webgpuKernelsActive } from './src/engine/backend/webgpu/kernels.ts'
import { conv2dTranspose } from './src/engine/nets/layers.ts'
const CASES = ${JSON.stringify(CASES)}
const TCONVS = ${JSON.stringify(TCONVS)}
const NARROW = ${JSON.stringify(NARROW)}
const rnd = (n, seed) => {
  let s = seed >>> 0
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))
}
const size = (sh) => sh.reduce((a, b) => a * b, 1)
const relL2 = (a, b) => {
  if (a.length !== b.length) return Infinity
  let num = 0, den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2 }
  const e = den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
  return Number.isNaN(e) ? Infinity : e
}
async function both(fn) {
  const results = {}
  let ran
  for (const backend of ['webgpu', 'cpu']) {
    await tf.setBackend(backend)
    const before = { ...convKernelRuns }
    const outs = tf.tidy(fn)
    results[backend] = { data: await Promise.all(outs.map((t) => t.data())), shapes: outs.map((t) => t.shape) }
    tf.dispose(outs)
    if (backend === 'webgpu') ran = Object.fromEntries(Object.entries(convKernelRuns).map(([k, v]) => [k, v - before[k]]))
  }
  const g = results.webgpu, c = results.cpu
  return { errs: c.data.map((ref, i) => relL2(g.data[i], ref)), sameShapes: JSON.stringify(g.shapes) === JSON.stringify(c.shapes), ran }
}
async function convParity(c, i) {
  const format = c.format ?? 'NHWC'
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.dilation ?? 1, c.pad, undefined, false, format === 'NHWC' ? 'channelsLast' : 'channelsFirst')
  const dyShape = format === 'NHWC' ? info.outShape : [info.batchSize, info.outChannels, info.outHeight, info.outWidth]
  const xs = rnd(size(c.x), 1 + i), fs = rnd(size(c.f), 100 + i), dys = rnd(size(dyShape), 200 + i)
  const attrs = { strides: c.s, pad: c.pad, dataFormat: format }
  return await both(() => {
    const x = tf.tensor(xs, c.x), f = tf.tensor(fs, c.f), dy = tf.tensor(dys, dyShape)
    const y = tf.conv2d(x, f, c.s, c.pad, format, c.dilation ?? 1)
    if (c.dilation) return [y] // tfjs has no gradient for dilated convs
    return [
      y,
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: c.x }),
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f })
    ]
  })
}
const out = { device: backendInfo.device, active: false, cases: [], tconvs: [], narrow: null, totals: null }
useWebgpuKernels(true)
await tf.setBackend('webgpu')
out.active = webgpuKernelsActive()
const t0 = Date.now()
const defaultColumns = convTuning.minColumns
convTuning.minColumns = 1 // our GEMM on every shape, however narrow
for (const [i, c] of CASES.entries()) out.cases.push(await convParity(c, i))
for (const [i, c] of TCONVS.entries()) {
  const xs = rnd(size(c.x), 300 + i), ws = rnd(size(c.w), 400 + i)
  const outShape = [c.x[0], (c.x[1] - 1) * c.s + c.w[0] + c.op, (c.x[2] - 1) * c.s + c.w[1] + c.op, c.w[2]]
  const rs = rnd(size(outShape), 500 + i)
  out.tconvs.push(await both(() => {
    const loss = (x, w) => tf.sum(tf.mul(conv2dTranspose(x, w, c.s, c.op), tf.tensor(rs, outShape)))
    const y = conv2dTranspose(tf.tensor(xs, c.x), tf.tensor(ws, c.w), c.s, c.op)
    const { value, grads } = tf.valueAndGrads(loss)([tf.tensor(xs, c.x), tf.tensor(ws, c.w)])
    return [y, value, ...grads]
  }))
}
convTuning.minColumns = defaultColumns
out.narrow = await convParity(NARROW, 99)
out.seconds = (Date.now() - t0) / 1000
out.totals = { ...convKernelRuns }
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface Parity {
  errs: number[]
  sameShapes: boolean
  ran: Record<'conv2d' | 'backpropInput' | 'backpropFilter' | 'splitK', number>
}
interface ChildResult {
  device: string
  active: boolean
  cases: Parity[]
  tconvs: Parity[]
  narrow: Parity
  seconds: number
  totals: Record<string, number>
}

describe('Score Lab WebGPU conv kernels', () => {
  let result: ChildResult | null = null
  let skipWhy = ''
  const child = (): ChildResult | null => {
    if (result || skipWhy) return result
    const run = runOnWebgpu<ChildResult>(CHILD)
    if (run.ok) result = run.value
    else skipWhy = run.why
    return result
  }

  test('Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter match cpu; ours ran, except on dilated and NCHW convs', (ctx) => {
    const res = child()
    if (!res) {
      console.log(`SKIPPED webgpu conv test: ${skipWhy}`)
      ctx.skip(skipWhy)
      return
    }
    expect(res.active).toBe(true)
    const worst = [0, 0, 0]
    CASES.forEach((c, i) => {
      const p = res.cases[i]!
      const name = caseName(c)
      expect(p.sameShapes, name).toBe(true)
      expect(p.errs).toHaveLength(c.dilation ? 1 : 3)
      p.errs.forEach((e, k) => {
        expect(e, `${name}: ${['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'][k]}`).toBeLessThanOrEqual(TOL)
        worst[k] = Math.max(worst[k]!, e)
      })
      if (c.stock) expect(p.ran, name).toEqual({ conv2d: 0, backpropInput: 0, backpropFilter: 0, splitK: 0 })
      else expect([p.ran.conv2d, p.ran.backpropInput, p.ran.backpropFilter], name).toEqual([1, 1, 1])
    })
    // Default tuning: the one-column input gradient went to stock, the 16-column kernels to ours.
    res.narrow.errs.forEach((e) => expect(e, caseName(NARROW)).toBeLessThanOrEqual(TOL))
    expect([res.narrow.ran.conv2d, res.narrow.ran.backpropInput, res.narrow.ran.backpropFilter]).toEqual([1, 0, 1])
    console.log(`webgpu conv parity on ${res.device} (${res.seconds.toFixed(1)} s): worst relative L2 Conv2D ${worst[0]!.toExponential(1)}, BackpropInput ${worst[1]!.toExponential(1)}, BackpropFilter ${worst[2]!.toExponential(1)}; runs ${JSON.stringify(res.totals)}`)
  }, 600_000)

  test("the tutorial ScoreNet's transposed convs (output padding 0 and 1): value and both gradients match cpu, through ours", (ctx) => {
    const res = child()
    if (!res) {
      ctx.skip(skipWhy)
      return
    }
    TCONVS.forEach((c, i) => {
      const p = res.tconvs[i]!
      expect(p.sameShapes, c.name).toBe(true)
      expect(p.errs).toHaveLength(4)
      p.errs.forEach((e, k) => expect(e, `${c.name} ${['y', 'value', 'dx', 'dw'][k]}`).toBeLessThanOrEqual(TOL))
      // forward (BackpropInput) twice: y and inside valueAndGrads; dx is a Conv2D, dw a BackpropFilter
      expect(p.ran.backpropInput, c.name).toBe(2)
      expect(p.ran.conv2d, c.name).toBe(1)
      expect(p.ran.backpropFilter, c.name).toBe(1)
    })
    // Both the one-pass GEMM and the split-K path (partial sums + reduce) were exercised.
    const all = [...res.cases, ...res.tconvs]
    expect(all.some((p) => p.ran.splitK > 0)).toBe(true)
    expect(all.some((p) => p.ran.conv2d + p.ran.backpropInput + p.ran.backpropFilter > p.ran.splitK)).toBe(true)
  }, 600_000)
})
