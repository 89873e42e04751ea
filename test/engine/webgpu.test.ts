// Training on the WebGPU backend (Dawn for Node, the `webgpu` package): 5 Adam steps of a small
// conv net (conv2d stride 1 and 2, conv2dTranspose, GroupNorm by reshape/moments, swish, dense,
// Fourier time embedding) give the same losses as the cpu backend.
//
// Runs in a child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

const STEPS = 5

// The child: trains the same net from the same initial weights and data on webgpu, then on cpu.
const CHILD = WEBGPU_CHILD_PRELUDE + `
const out = { device: '', losses: {} }
out.device = backendInfo.device
let s = 7
const rnd = (n, scale = 1, offset = 0) => Float32Array.from({ length: n }, () => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0
  const u = (s + 0.5) / 4294967296
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0
  const v = (s + 0.5) / 4294967296
  return offset + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
})
const SHAPES = { W: [4], embW: [8, 8], embB: [8], c1: [3, 3, 1, 4], d1: [8, 4], g1: [4], b1: [4],
  c2: [3, 3, 4, 8], d2: [8, 8], g2: [8], b2: [8], t2: [3, 3, 4, 8], t1: [3, 3, 1, 8], t1b: [1] }
const init = Object.fromEntries(Object.entries(SHAPES).map(([n, sh]) =>
  [n, rnd(sh.reduce((a, b) => a * b, 1), n.startsWith('g') ? 0.1 : 0.3, n.startsWith('g') ? 1 : 0)]))
const B = 6
const X = rnd(B * 13 * 13), Z = rnd(B * 13 * 13 * ${STEPS})
const T = Float32Array.from({ length: B }, (_, i) => 0.1 + (0.8 * i) / B)
function net(P, x, t) {
  const swish = (h) => tf.mul(h, tf.sigmoid(h))
  const proj = tf.mul(tf.mul(tf.reshape(t, [B, 1]), tf.reshape(P.W, [1, -1])), 2 * Math.PI)
  const emb = swish(tf.add(tf.matMul(tf.concat([tf.sin(proj), tf.cos(proj)], 1), P.embW), P.embB))
  const gn = (h, groups, g, b) => {
    const [n, hh, ww, c] = h.shape
    const r = tf.reshape(h, [n, hh, ww, groups, c / groups])
    const { mean, variance } = tf.moments(r, [1, 2, 4], true)
    return tf.add(tf.mul(tf.reshape(tf.mul(tf.sub(r, mean), tf.rsqrt(tf.add(variance, 1e-5))), [n, hh, ww, c]), g), b)
  }
  const dense = (w) => tf.reshape(tf.matMul(emb, w), [B, 1, 1, -1])
  const h1 = swish(gn(tf.add(tf.conv2d(x, P.c1, 1, 'valid'), dense(P.d1)), 2, P.g1, P.b1))
  const h2 = swish(gn(tf.add(tf.conv2d(h1, P.c2, 2, 'valid'), dense(P.d2)), 4, P.g2, P.b2))
  const u = swish(tf.conv2dTranspose(h2, P.t2, [B, 11, 11, 4], 2, 'valid'))
  return tf.add(tf.conv2dTranspose(tf.concat([u, h1], 3), P.t1, [B, 13, 13, 1], 1, 'valid'), P.t1b)
}
for (const backend of ['webgpu', 'cpu']) {
  await tf.setBackend(backend)
  const P = Object.fromEntries(Object.entries(SHAPES).map(([n, sh]) => [n, tf.variable(tf.tensor(init[n], sh), true, backend + n)]))
  const opt = tf.train.adam(1e-2)
  const x = tf.tensor(X, [B, 13, 13, 1]), t = tf.tensor(T)
  const losses = []
  for (let i = 0; i < ${STEPS}; i++) {
    const z = tf.tensor(Z.subarray(i * B * 169, (i + 1) * B * 169), [B, 13, 13, 1])
    const loss = opt.minimize(() => {
      const std = tf.reshape(tf.sqrt(t), [B, 1, 1, 1])
      const score = net(P, tf.add(x, tf.mul(z, std)), t)
      return tf.mean(tf.sum(tf.square(tf.add(tf.mul(score, std), z)), [1, 2, 3]))
    }, true, Object.values(P))
    losses.push((await loss.data())[0])
    tf.dispose([loss, z])
  }
  out.losses[backend] = losses
}
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface ChildResult {
  device: string
  losses: Record<string, number[]>
}

describe('webgpu', () => {
  test(`${STEPS} training steps of a small conv net match cpu (loss parity)`, (ctx) => {
    const run = runOnWebgpu<ChildResult>(CHILD)
    if (!run.ok) {
      console.log(`SKIPPED webgpu training test: ${run.why}`)
      ctx.skip(run.why)
      return
    }
    const res = run.value
    console.log(`webgpu adapter: ${res.device}; losses webgpu ${res.losses!.webgpu!.map((l) => l.toFixed(4)).join(', ')}; cpu ${res.losses!.cpu!.map((l) => l.toFixed(4)).join(', ')}`)
    const gpu = res.losses!.webgpu!
    const cpu = res.losses!.cpu!
    expect(gpu).toHaveLength(STEPS)
    expect(cpu).toHaveLength(STEPS)
    for (let i = 0; i < STEPS; i++) {
      expect(Number.isFinite(gpu[i]!)).toBe(true)
      expect(Math.abs(gpu[i]! - cpu[i]!) / Math.abs(cpu[i]!)).toBeLessThanOrEqual(1e-4)
    }
    // it trained: the loss moved
    expect(gpu[STEPS - 1]).not.toBe(gpu[0])
  }, 600_000)
})
