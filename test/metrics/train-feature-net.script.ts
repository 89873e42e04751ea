// One-off measurement (not a unit test): trains the feature network on FashionMNIST (and MNIST)
// with the default settings on the fast default backend, and prints wall time, test accuracy and
// the FD floor/ceiling at N = 1000. Run from the repository root:
//   node --import tsx test/metrics/train-feature-net.script.ts [fashion|mnist|both] [steps] [--save DIR]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { selectBackend } from '../../src/engine/backend/select'
import { accuracy, encodeFeatureNet, qualityReport, trainFeatureNet, TRAIN_FEATURE_NET_DEFAULTS } from '../../src/engine/metrics'
import { FASHION_DIR, MNIST_DIR, loadIdxSplit } from './data'

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const which = args[0] ?? 'fashion'
  const steps = Number(args[1] ?? TRAIN_FEATURE_NET_DEFAULTS.steps)
  const saveIdx = args.indexOf('--save')
  const saveDir = saveIdx >= 0 ? args[saveIdx + 1] : undefined
  const backend = await selectBackend()
  console.log(`backend: ${backend.name} (${backend.device})`)
  const sets = which === 'both' ? ['fashion', 'mnist'] : [which]
  for (const name of sets) {
    const dir = name === 'fashion' ? FASHION_DIR : MNIST_DIR
    const train = loadIdxSplit(dir, 'train', { asBytes: true })
    const test = loadIdxSplit(dir, 'test')
    const { net, seconds, finalLoss } = await trainFeatureNet(train.images, train.labels, {
      steps,
      seed: 0,
      onProgress: (p) => {
        if (p.step % 250 === 0 || p.step === p.steps) console.log(`  ${name} step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} batch acc ${p.batchAccuracy.toFixed(2)} ${p.seconds.toFixed(1)} s`)
      }
    })
    const t0 = performance.now()
    const acc = await accuracy(net, test.images, test.labels)
    const accSeconds = (performance.now() - t0) / 1000
    console.log(`${name}: ${steps} steps × ${TRAIN_FEATURE_NET_DEFAULTS.batchSize} in ${seconds.toFixed(1)} s, final loss ${finalLoss.toFixed(3)}, test accuracy ${(100 * acc).toFixed(2)} % (10k test images embedded in ${accSeconds.toFixed(1)} s); ${net.numParams()} parameters`)
    const trainFloat = loadIdxSplit(dir, 'train', { limit: 20000 })
    for (const seed of [0, 1]) {
      const t1 = performance.now()
      const r = await qualityReport({ net, generated: trainFloat.images, reference: test.images, train: trainFloat.images, n: 1000, seed })
      console.log(`  N=1000 seed ${seed} (train images as "generated"): fd ${r.fd.toFixed(3)} floor ${r.fdFloor.toFixed(3)} ceiling ${r.fdCeiling.toFixed(1)} kid ${r.kid.mean.toExponential(2)}±${r.kid.std.toExponential(1)} P ${r.precision.toFixed(3)} R ${r.recall.toFixed(3)} H ${r.classEntropy.toFixed(3)}/${r.classEntropyMax.toFixed(3)} conf ${r.meanConfidence.toFixed(3)} (${((performance.now() - t1) / 1000).toFixed(1)} s)`)
    }
    if (saveDir) {
      mkdirSync(saveDir, { recursive: true })
      const file = join(saveDir, `${name}-feature-net.safetensors`)
      writeFileSync(file, await encodeFeatureNet(net, { dataset: name === 'fashion' ? 'fashion-mnist' : 'mnist', steps, seed: 0, testAccuracy: acc, trainSeconds: seconds }))
      console.log(`  saved ${file}`)
    }
    net.dispose()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
