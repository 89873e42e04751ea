// WGSL for conv.ts: one tiled implicit-GEMM body shared by Conv2D, Conv2DBackpropInput and
// Conv2DBackpropFilter, each supplying how to gather its A [M, K] and B [K, N] operands from the
// NHWC tensors and where row m of C lands.
//
// Geometry comes in as uniforms, so one pipeline per (kernel, vec4 layout, split) serves every
// layer: baking it in as constants made each conv shape its own pipeline, and on SwiftShader a
// pipeline takes seconds to compile. The integer divisions that uniforms make costly are kept out
// of the K loop: each thread's A row and B column are fixed for the whole loop, so their index
// decomposition is done once (sl_prepA/sl_prepB); per 16-deep slice a thread decomposes its k
// once (two divisions), and the scalar path walks the next three k by carrying, not dividing.
//
// Tiling: a 256-thread workgroup computes a 64×64 tile of C, each thread a 4×4 block (rows
// ty*4..+3, columns tx*4..+3) in four vec4 registers. K advances in slices of 16: each thread
// fetches one vec4 of A and one of B into registers (the next slice's, while the current one is
// in use), then stores them into workgroup memory laid out [k][m/4] and [k][n/4], so each
// multiply-add step reads one vec4 of A and one of B for 16 FMAs.
//
// A vec4 fetch runs along the operand's contiguous axis: along k ('inner') or along m/n
// ('outer'). When the channel count that axis walks is a multiple of 4 the fetch is a single
// 16-byte load from a buffer bound as array<vec4<f32>>; otherwise four scalar gathers.

export const TILE_M = 64
export const TILE_N = 64
export const TILE_K = 16

/** Conv geometry (NHWC, dilation 1), passed as uniforms in this order. */
export interface ConvGeometry {
  inH: number
  inW: number
  inC: number
  outH: number
  outW: number
  outC: number
  kH: number
  kW: number
  sH: number
  sW: number
  padT: number
  padL: number
}

export const GEOMETRY_FIELDS: readonly (keyof ConvGeometry)[] = ['inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kH', 'kW', 'sH', 'sW', 'padT', 'padL']

/** The program's uniforms after tfjs' own (shapes and strides): geometry, then the batch and the K split. */
export const GEMM_UNIFORMS = GEOMETRY_FIELDS.map((f) => `${f} : i32, `).join('') + 'batch : i32, kChunk : i32, splits : i32, slab : i32,'

export type ConvKind = 'conv2d' | 'backpropInput' | 'backpropFilter'

/** Which inputs a kind reads as vec4 (the channel count its contiguous axis walks is a multiple of 4), and whether C's rows are vec4. */
export interface ConvVectors {
  a: boolean
  b: boolean
  out: boolean
}

export function convVectors(kind: ConvKind, g: ConvGeometry): ConvVectors {
  const ci = g.inC % 4 === 0
  const co = g.outC % 4 === 0
  switch (kind) {
    case 'conv2d':
      return { a: ci, b: co, out: co } // A = x along ci, B = w along co, C = y [.., co]
    case 'backpropInput':
      return { a: co, b: co, out: ci } // A = dy along co, B = w along co, C = dx [.., ci]
    case 'backpropFilter':
      return { a: ci, b: co, out: co } // A = x along ci, B = dy along co, C = dw [.., co]
  }
}

/** Sub-pixel phases of the gather-form input gradient: each dx phase sees a fixed subset of taps. */
export const phaseCount = (kind: ConvKind, g: ConvGeometry) => (kind === 'backpropInput' ? g.sH * g.sW : 1)

/** The longest reduction of any phase. */
export function reductionLength(kind: ConvKind, g: ConvGeometry, batch: number): number {
  switch (kind) {
    case 'conv2d':
      return g.kH * g.kW * g.inC
    case 'backpropInput':
      return Math.ceil(g.kH / g.sH) * Math.ceil(g.kW / g.sW) * g.outC
    case 'backpropFilter':
      return batch * g.outH * g.outW
  }
}

/** Rows of C per phase (the M the tiles cover) and columns N. */
export function gemmRows(kind: ConvKind, g: ConvGeometry, batch: number): { m: number; n: number } {
  switch (kind) {
    case 'conv2d':
      return { m: batch * g.outH * g.outW, n: g.outC }
    case 'backpropInput':
      return { m: batch * Math.ceil(g.inH / g.sH) * Math.ceil(g.inW / g.sW), n: g.inC }
    case 'backpropFilter':
      return { m: g.kH * g.kW * g.inC, n: g.outC }
  }
}

const GEOMETRY_PRIVATES = `
var<private> IH : i32; var<private> IW : i32; var<private> CI : i32;
var<private> OH : i32; var<private> OW : i32; var<private> CO : i32;
var<private> KH : i32; var<private> KW : i32; var<private> SH : i32; var<private> SW : i32;
var<private> PT : i32; var<private> PL : i32; var<private> OHW : i32;
fn sl_geometry() {
  IH = uniforms.inH; IW = uniforms.inW; CI = uniforms.inC;
  OH = uniforms.outH; OW = uniforms.outW; CO = uniforms.outC;
  KH = uniforms.kH; KW = uniforms.kW; SH = uniforms.sH; SW = uniforms.sW;
  PT = uniforms.padT; PL = uniforms.padL; OHW = OH * OW;
}
`

/** B outer for a row-major [K, N] operand (w for conv2d, dy for backpropFilter): B[k, n..n+3]. */
function rowMajorB(vec: boolean, buf: string): string {
  return `
var<private> bN : i32;
fn sl_prepB(n : i32) { bN = n; }
fn sl_loadB(k : i32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k >= sl_kEnd) { return v; }
  ${
    vec
      ? `if (bN < NN) { v = ${buf}[(k * NN + bN) / 4]; }`
      : `for (var j = 0; j < 4; j++) { if (bN + j < NN) { v[j] = ${buf}[k * NN + bN + j]; } }`
  }
  return v;
}
`
}

/** conv2d: M = (b, oh, ow), K = (kh, kw, ci), A inner (x along ci), B outer (w [K, CO] along co). */
function conv2dSource(v: ConvVectors): string {
  const at = (dst: string, index: (i: string) => string) => `
      let ih = aIh0 + kh; let iw = aIw0 + kw;
      if (ih >= 0 && ih < IH && iw >= 0 && iw < IW) { ${dst} = x[${index(`((aXb + ih) * IW + iw) * CI + ci`)}]; }`
  return `
var<private> NN : i32;
fn sl_group(g : i32) { NN = CO; }
fn sl_M() -> i32 { return uniforms.batch * OHW; }
fn sl_K() -> i32 { return KH * KW * CI; }
fn sl_rowOffset(m : i32) -> i32 { return select(-1, m * NN, m < sl_M()); }
var<private> aOk : bool; var<private> aIh0 : i32; var<private> aIw0 : i32; var<private> aXb : i32;
fn sl_prepA(m : i32) {
  aOk = m < sl_M();
  let b = m / OHW; let r = m - b * OHW; let oh = r / OW; let ow = r - oh * OW;
  aIh0 = oh * SH - PT; aIw0 = ow * SW - PL; aXb = b * IH;
}
fn sl_loadA(k : i32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (!aOk || k >= sl_kEnd) { return v; }
  let tap = k / CI; var ci = k - tap * CI; var kh = tap / KW; var kw = tap - kh * KW;
  ${
    v.a
      ? `{ ${at('v', (i) => `(${i}) / 4`)} }`
      : `for (var j = 0; j < 4; j++) {
    if (k + j < sl_kEnd) { ${at('v[j]', (i) => i)} }
    ci++; if (ci == CI) { ci = 0; kw++; if (kw == KW) { kw = 0; kh++; } }
  }`
  }
  return v;
}
${rowMajorB(v.b, 'w')}
`
}

/**
 * backpropInput, gather form split into sub-pixel phases: dx (ih, iw) with ih ≡ ph (mod SH) is
 * reached only by taps kh ≡ ph + PT (mod SH), so each phase is a dense GEMM over its own taps:
 * M = (b, i, j) with ih = ph + SH·i, iw = pw + SW·j; K = (th, tw, co) with kh = kh0 + SH·th;
 * A = dy[b, oh0 − th, ow0 − tw, co] (zero outside dy; oh0 = (ih + PT − kh0)/SH is exact),
 * B = w[kh, kw, n, co]. Both run along co, and no tap is visited that contributes nothing.
 */
function backpropInputSource(v: ConvVectors): string {
  const carry = `co++; if (co == CO) { co = 0; tw++; if (tw == sl_ntw) { tw = 0; th++; } }`
  const decompose = `let tap = k / CO; var co = k - tap * CO; var th = tap / sl_ntw; var tw = tap - th * sl_ntw;`
  const dyRead = (dst: string) => `
      let oh = aOh0 - th; let ow = aOw0 - tw;
      if (oh >= 0 && oh < OH && ow >= 0 && ow < OW) { ${dst} = dy[${v.a ? '(' : ''}((aDb + oh) * OW + ow) * CO + co${v.a ? ') / 4' : ''}]; }`
  const wIndex = `(((sl_kh0 + th * SH) * KW + sl_kw0 + tw * SW) * CI + bN) * CO + co`
  return `
var<private> NN : i32; var<private> PHM : i32; var<private> PWM : i32;
var<private> sl_ph : i32; var<private> sl_pw : i32;
var<private> sl_kh0 : i32; var<private> sl_kw0 : i32; var<private> sl_ntw : i32; var<private> sl_kLen : i32;
fn sl_group(g : i32) {
  NN = CI; PHM = (IH + SH - 1) / SH; PWM = (IW + SW - 1) / SW;
  sl_ph = g / SW; sl_pw = g - sl_ph * SW;
  sl_kh0 = (sl_ph + PT) % SH; sl_kw0 = (sl_pw + PL) % SW;
  let nth = select(0, (KH - sl_kh0 + SH - 1) / SH, sl_kh0 < KH);
  sl_ntw = select(0, (KW - sl_kw0 + SW - 1) / SW, sl_kw0 < KW);
  sl_kLen = nth * sl_ntw * CO;
}
fn sl_M() -> i32 { return uniforms.batch * PHM * PWM; }
fn sl_K() -> i32 { return sl_kLen; }
/** dx row of phase row m: (b, ih, iw), or ih = -1 past the batch or the image. */
fn sl_phaseRow(m : i32) -> vec3<i32> {
  let b = m / (PHM * PWM); let r = m - b * (PHM * PWM); let i = r / PWM; let jj = r - i * PWM;
  let ih = sl_ph + SH * i; let iw = sl_pw + SW * jj;
  return vec3<i32>(b, select(-1, ih, m < sl_M() && ih < IH && iw < IW), iw);
}
fn sl_rowOffset(m : i32) -> i32 {
  let p = sl_phaseRow(m);
  return select(-1, ((p.x * IH + p.y) * IW + p.z) * NN, p.y >= 0);
}
var<private> aOk : bool; var<private> aOh0 : i32; var<private> aOw0 : i32; var<private> aDb : i32;
fn sl_prepA(m : i32) {
  let p = sl_phaseRow(m);
  aOk = p.y >= 0;
  aOh0 = (p.y + PT - sl_kh0) / SH; aOw0 = (p.z + PL - sl_kw0) / SW; aDb = p.x * OH;
}
fn sl_loadA(k : i32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (!aOk || k >= sl_kEnd) { return v; }
  ${decompose}
  ${v.a ? `{ ${dyRead('v')} }` : `for (var j = 0; j < 4; j++) {
    if (k + j < sl_kEnd) { ${dyRead('v[j]')} }
    ${carry}
  }`}
  return v;
}
var<private> bN : i32;
fn sl_prepB(n : i32) { bN = n; }
fn sl_loadB(k : i32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (bN >= NN || k >= sl_kEnd) { return v; }
  ${decompose}
  ${v.b ? `v = w[(${wIndex}) / 4];` : `for (var j = 0; j < 4; j++) {
    if (k + j < sl_kEnd) { v[j] = w[${wIndex}]; }
    ${carry}
  }`}
  return v;
}
`
}

/** backpropFilter: M = (kh, kw, ci), N = co, K = (b, oh, ow); A outer (x along ci), B outer (dy [K, CO] along co). */
function backpropFilterSource(v: ConvVectors): string {
  return `
var<private> NN : i32; var<private> KKC : i32;
fn sl_group(g : i32) { NN = CO; KKC = KH * KW * CI; }
fn sl_M() -> i32 { return KKC; }
fn sl_K() -> i32 { return uniforms.batch * OHW; }
fn sl_rowOffset(m : i32) -> i32 { return select(-1, m * NN, m < KKC); }
// Rows m..m+3: their taps and channels (the vec4 path's four rows share one tap).
var<private> aOk : vec4<bool>; var<private> aKh : vec4<i32>; var<private> aKw : vec4<i32>; var<private> aCi : vec4<i32>;
fn sl_prepA(m : i32) {
  let tap = m / CI; var ci = m - tap * CI; var kh = tap / KW; var kw = tap - kh * KW;
  for (var j = 0; j < 4; j++) {
    aOk[j] = m + j < KKC; aKh[j] = kh; aKw[j] = kw; aCi[j] = ci;
    ci++; if (ci == CI) { ci = 0; kw++; if (kw == KW) { kw = 0; kh++; } }
  }
}
fn sl_loadA(k : i32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k >= sl_kEnd) { return v; }
  let b = k / OHW; let r = k - b * OHW; let oh = r / OW; let ow = r - oh * OW;
  let ih0 = oh * SH - PT; let iw0 = ow * SW - PL; let xb = b * IH;
  ${
    v.a
      ? `let ih = ih0 + aKh.x; let iw = iw0 + aKw.x;
  if (aOk.x && ih >= 0 && ih < IH && iw >= 0 && iw < IW) { v = x[(((xb + ih) * IW + iw) * CI + aCi.x) / 4]; }`
      : `for (var j = 0; j < 4; j++) {
    let ih = ih0 + aKh[j]; let iw = iw0 + aKw[j];
    if (aOk[j] && ih >= 0 && ih < IH && iw >= 0 && iw < IW) { v[j] = x[((xb + ih) * IW + iw) * CI + aCi[j]]; }
  }`
  }
  return v;
}
${rowMajorB(v.b, 'dy')}
`
}

/** Where each thread's vec4 of an operand comes from (its fixed row/column and its k offset) and goes in the [k][·/4] tile. */
function operandMoves(name: 'A' | 'B', inner: boolean): string {
  const tile = `sl_${name}s`
  // inner: 64 rows × 4 k-quads, one per thread, transposed into the tile component by component;
  // outer: 16 row-quads × 16 k, one per thread, stored whole.
  const stash = inner
    ? `let r = t >> 2; let kq = (t & 3) * 4;
  ${tile}[(kq + 0) * 16 + (r >> 2)][r & 3] = v.x;
  ${tile}[(kq + 1) * 16 + (r >> 2)][r & 3] = v.y;
  ${tile}[(kq + 2) * 16 + (r >> 2)][r & 3] = v.z;
  ${tile}[(kq + 3) * 16 + (r >> 2)][r & 3] = v.w;`
    : `${tile}[(t >> 4) * 16 + (t & 15)] = v;`
  return `
fn sl_line${name}(t : i32) -> i32 { return ${inner ? 't >> 2' : '(t & 15) * 4'}; }
fn sl_kOffset${name}(t : i32) -> i32 { return ${inner ? '(t & 3) * 4' : 't >> 4'}; }
fn sl_stash${name}(v : vec4<f32>, t : i32) {
  ${stash}
}
`
}

/** The whole user code of one GEMM program (tfjs' makeShader adds bindings, uniforms and _start). */
export function convGemmSource(kind: ConvKind, v: ConvVectors, split: boolean): string {
  const body = kind === 'conv2d' ? conv2dSource(v) : kind === 'backpropInput' ? backpropInputSource(v) : backpropFilterSource(v)
  // A runs along k for conv2d and backpropInput (channels of x / dy), along m for backpropFilter;
  // B along k only for backpropInput (w[kh, kw, ci, co] read with co fastest).
  const aInner = kind !== 'backpropFilter'
  const bInner = kind === 'backpropInput'
  const write = v.out
    ? `if (n < NN) { result[(row + n) / 4] = acc; }`
    : `for (var j = 0; j < 4; j++) { if (n + j < NN) { result[row + n + j] = acc[j]; } }`
  return `
${GEOMETRY_PRIVATES}
var<workgroup> sl_As : array<vec4<f32>, ${TILE_K * (TILE_M / 4)}>;
var<workgroup> sl_Bs : array<vec4<f32>, ${TILE_K * (TILE_N / 4)}>;
var<workgroup> sl_tiles : i32;
var<private> sl_kEnd : i32;
${body}
${operandMoves('A', aInner)}
${operandMoves('B', bInner)}
fn sl_write(m : i32, n : i32, slab : i32, acc : vec4<f32>) {
  let rowOffset = sl_rowOffset(m);
  if (rowOffset < 0) { return; }
  let row = rowOffset + slab;
  ${write}
}

fn main(index : i32) {
  sl_geometry();
  let t = i32(localIndex);
  let tx = t & 15;
  let ty = t >> 4;
  let nBase = i32(workgroupId.x) * ${TILE_N};
  let mBase = i32(workgroupId.y) * ${TILE_M};
  let z = i32(workgroupId.z);
  let split = z % uniforms.splits;
  sl_group(z / uniforms.splits);
  let kStart = split * uniforms.kChunk;
  sl_kEnd = min(kStart + uniforms.kChunk, sl_K());
  // The slice count differs between phases and splits; workgroupUniformLoad makes it provably
  // uniform so the barriers in the loop are legal.
  if (t == 0) { sl_tiles = max(0, (sl_kEnd - kStart + ${TILE_K - 1}) / ${TILE_K}); }
  let tiles = workgroupUniformLoad(&sl_tiles);
  sl_prepA(mBase + sl_lineA(t));
  sl_prepB(nBase + sl_lineB(t));
  let kA = kStart + sl_kOffsetA(t);
  let kB = kStart + sl_kOffsetB(t);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  var va = sl_loadA(kA);
  var vb = sl_loadB(kB);
  for (var s = 0; s < tiles; s++) {
    sl_stashA(va, t);
    sl_stashB(vb, t);
    workgroupBarrier();
    if (s + 1 < tiles) {
      va = sl_loadA(kA + (s + 1) * ${TILE_K});
      vb = sl_loadB(kB + (s + 1) * ${TILE_K});
    }
    for (var kk = 0; kk < ${TILE_K}; kk++) {
      let a = sl_As[kk * 16 + ty];
      let b = sl_Bs[kk * 16 + tx];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }
  let slab = ${split ? 'split * uniforms.slab' : '0'};
  let m = mBase + ty * 4;
  let n = nBase + tx * 4;
  sl_write(m, n, slab, acc0);
  sl_write(m + 1, n, slab, acc1);
  sl_write(m + 2, n, slab, acc2);
  sl_write(m + 3, n, slab, acc3);
}
`
}

/** Sums the split-K partial products [S, size] into the output, in a fixed order (deterministic). */
export const SPLIT_REDUCE_SOURCE = `
fn main(index : i32) {
  if (index < uniforms.size) {
    var s = partial[index];
    for (var i = 1; i < uniforms.splits; i++) {
      s = s + partial[index + i * uniforms.slab];
    }
    result[index] = s;
  }
}
`
