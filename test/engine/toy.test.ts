import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { Rng } from '../../src/engine/rng'
import { createToy, GmmToy, listToys } from '../../src/engine/toy'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

describe('toy data', () => {
  it('all three are seeded samplers of [n, 2] and the registry lists them', () => {
    expect(listToys().map((t) => t.name)).toEqual(['toy-gmm', 'toy-rings', 'toy-moons'])
    for (const { name } of listToys()) {
      const toy = createToy(name)
      const a = toy.sample(500, new Rng(3))
      const b = toy.sample(500, new Rng(3))
      expect(a.length).toBe(1000)
      expect(Array.from(a)).toEqual(Array.from(b))
      expect(Array.from(toy.sample(500, new Rng(4)))).not.toEqual(Array.from(a))
      expect(a.every(Number.isFinite)).toBe(true)
    }
    expect(() => createToy('toy-nope')).toThrow(/Unknown toy data set/)
  })

  it('rings lie at their radii; moons are centred', () => {
    const rings = createToy('toy-rings', { radii: [1, 2], noise: 0.01 }).sample(2000, new Rng(1))
    for (let i = 0; i < 2000; i++) {
      const r = Math.hypot(rings[2 * i], rings[2 * i + 1])
      expect(Math.min(Math.abs(r - 1), Math.abs(r - 2))).toBeLessThan(0.06)
    }
    const moons = createToy('toy-moons').sample(20000, new Rng(1))
    let mx = 0
    for (let i = 0; i < 20000; i++) mx += moons[2 * i]
    expect(Math.abs(mx / 20000)).toBeLessThan(0.03)
  })

  it('gmm: sample moments, normalised density, score = ∇ log p_t (finite differences), tensor score = JS score', () => {
    const gmm = new GmmToy({ means: [[-1, 0], [2, 1]], stds: [0.3, 0.5], weights: [1, 3] })
    const xs = gmm.sample(40000, new Rng(2))
    let mx = 0
    for (let i = 0; i < 40000; i++) mx += xs[2 * i]
    expect(mx / 40000).toBeCloseTo(0.25 * -1 + 0.75 * 2, 1)
    // ∫ p_0 over a grid ≈ 1.
    const h = 0.05
    const grid: number[] = []
    for (let x = -4; x < 5; x += h) for (let y = -3; y < 4; y += h) grid.push(x, y)
    const lp = gmm.logDensity(new Float32Array(grid))
    expect(lp.reduce((a, v) => a + Math.exp(v) * h * h, 0)).toBeCloseTo(1, 3)

    const pts = new Float32Array([0.1, 0.2, -1.2, 0.3, 2.5, 0.4, 1, -1])
    for (const [name, t] of [['vpsde', 0.3], ['vesde_tutorial', 0.05], ['subvpsde', 0.8]] as const) {
      const sde = createSde({ name })
      const s = gmm.score(pts, sde, t)
      const d = 1e-4
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 2; j++) {
          const plus = Float32Array.from(pts.slice(2 * i, 2 * i + 2))
          const minus = Float32Array.from(plus)
          plus[j] += d
          minus[j] -= d
          const fd = (gmm.logDensity(plus, sde, t)[0] - gmm.logDensity(minus, sde, t)[0]) / (2 * d)
          expect(s[2 * i + j]).toBeCloseTo(fd, 2)
        }
      }
      const st = tf.tidy(() => Array.from(gmm.scoreFn(sde)(tf.tensor2d(pts, [4, 2]), tf.fill([4], t) as tf.Tensor1D).dataSync()))
      st.forEach((v, k) => expect(v).toBeCloseTo(s[k], 3))
    }
  })
})
