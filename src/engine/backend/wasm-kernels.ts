// Kernels the tfjs wasm backend lacks, registered from ones it has (filled in by the
// fast-compute work). Until then wasm can sample but not train.
export function registerWasmTrainingKernels(): void {}
