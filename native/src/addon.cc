// N-API surface of the native kernels. Arrays are Float32Array views (for the wasm backend,
// views into its heap, so nothing is copied); geometry comes as an Int32Array. Every length is
// checked here against the geometry before a kernel touches memory: a wrong call throws a
// TypeError/RangeError in JavaScript instead of corrupting the heap.
#include <node_api.h>

#include <cstdint>
#include <exception>
#include <new>
#include <string>

#include "conv.h"
#include "copy.h"
#include "gemm.h"
#include "norm.h"
#include "pool.h"

namespace {

struct Arr {
  float* data = nullptr;
  size_t length = 0;
};

bool fail(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, "ERR_SCORE_LAB_NATIVE", msg.c_str());
  return false;
}

bool getF32(napi_env env, napi_value v, const char* name, Arr& out, bool optional = false) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (optional && (t == napi_null || t == napi_undefined)) return true;
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return fail(env, std::string(name) + " must be a Float32Array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset);
  if (type != napi_float32_array) return fail(env, std::string(name) + " must be a Float32Array");
  out.data = static_cast<float*>(data);
  out.length = length;
  return true;
}

bool getI32(napi_env env, napi_value v, size_t n, int32_t* out) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (is) napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
  if (!is || type != napi_int32_array || length != n) return fail(env, "geometry must be an Int32Array of length " + std::to_string(n));
  const int32_t* d = static_cast<const int32_t*>(data);
  for (size_t i = 0; i < n; i++) out[i] = d[i];
  return true;
}

// C++ exceptions (std::bad_alloc from a scratch buffer) must not cross into Node: they become a
// JavaScript Error, and the caller's output tensor is simply left unwritten.
template <typename F>
void guarded(napi_env env, F&& f) {
  try {
    f();
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, "ERR_SCORE_LAB_NATIVE", "native kernel: out of memory for its scratch buffers");
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_SCORE_LAB_NATIVE", (std::string("native kernel failed: ") + e.what()).c_str());
  }
}

bool need(napi_env env, const Arr& a, size_t n, const char* name) {
  if (a.length != n) return fail(env, std::string(name) + " has " + std::to_string(a.length) + " elements, expected " + std::to_string(n));
  return true;
}

bool args(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < n) return fail(env, "expected " + std::to_string(n) + " arguments");
  return true;
}

// geometry: B H W C OH OW CO KH KW sh sw dh dw top left
bool convGeom(napi_env env, napi_value v, sl::ConvGeom& g) {
  int32_t a[15];
  if (!getI32(env, v, 15, a)) return false;
  g = {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14]};
  for (int i = 0; i < 13; i++)
    if (a[i] < 1) return fail(env, "convolution geometry must be positive");
  if (g.top < 0 || g.left < 0) return fail(env, "negative padding");
  return true;
}

size_t sz(long long a, long long b, long long c, long long d) { return static_cast<size_t>(a * b * c * d); }

// The three convolution entry points differ only in which arrays play which part.
enum class Role { Input, Filter, Output };

size_t roleSize(const sl::ConvGeom& g, Role r) {
  switch (r) {
    case Role::Input: return sz(g.B, g.H, g.W, g.C);
    case Role::Filter: return sz(g.KH, g.KW, g.C, g.CO);
    default: return sz(g.B, g.OH, g.OW, g.CO);
  }
}

using ConvKernel = void (*)(const sl::ConvGeom&, const float*, const float*, float*);

struct ConvArg {
  const char* name;
  Role role;
};

napi_value convCall(napi_env env, napi_callback_info info, const ConvArg (&spec)[3], ConvKernel kernel) {
  napi_value argv[4];
  sl::ConvGeom g;
  Arr a[3];
  if (!args(env, info, 4, argv)) return nullptr;
  for (int i = 0; i < 3; i++)
    if (!getF32(env, argv[i], spec[i].name, a[i])) return nullptr;
  if (!convGeom(env, argv[3], g)) return nullptr;
  for (int i = 0; i < 3; i++)
    if (!need(env, a[i], roleSize(g, spec[i].role), spec[i].name)) return nullptr;
  guarded(env, [&] { kernel(g, a[0].data, a[1].data, a[2].data); });
  return nullptr;
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  static const ConvArg spec[3] = {{"x", Role::Input}, {"filter", Role::Filter}, {"y", Role::Output}};
  return convCall(env, info, spec, sl::conv2dForward);
}

napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  static const ConvArg spec[3] = {{"dy", Role::Output}, {"filter", Role::Filter}, {"dx", Role::Input}};
  return convCall(env, info, spec, sl::conv2dBackpropInput);
}

napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  static const ConvArg spec[3] = {{"x", Role::Input}, {"dy", Role::Output}, {"dw", Role::Filter}};
  return convCall(env, info, spec, sl::conv2dBackpropFilter);
}

// geometry: B HW C G swish hasBias, plus eps as a number
bool normGeom(napi_env env, napi_value v, napi_value eps, sl::NormGeom& g) {
  int32_t a[6];
  if (!getI32(env, v, 6, a)) return false;
  double e = 0;
  if (napi_get_value_double(env, eps, &e) != napi_ok || !(e > 0)) return fail(env, "eps must be a positive number");
  g = {a[0], a[1], a[2], a[3], static_cast<float>(e), a[4], a[5]};
  if (g.B < 1 || g.HW < 1 || g.C < 1 || g.G < 1 || g.C % g.G != 0) return fail(env, "GroupNorm geometry: channels must divide into groups");
  return true;
}

napi_value GroupNormForward(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  sl::NormGeom g;
  Arr x, bias, gamma, beta, y, mean, rstd;
  if (!args(env, info, 9, argv) || !normGeom(env, argv[7], argv[8], g) || !getF32(env, argv[0], "x", x) ||
      !getF32(env, argv[1], "bias", bias, true) || !getF32(env, argv[2], "gamma", gamma) || !getF32(env, argv[3], "beta", beta) ||
      !getF32(env, argv[4], "y", y) || !getF32(env, argv[5], "mean", mean) || !getF32(env, argv[6], "rstd", rstd))
    return nullptr;
  const size_t n = sz(g.B, g.HW, g.C, 1);
  if (!need(env, x, n, "x") || !need(env, y, n, "y") || !need(env, gamma, g.C, "gamma") || !need(env, beta, g.C, "beta") ||
      !need(env, mean, sz(g.B, g.G, 1, 1), "mean") || !need(env, rstd, sz(g.B, g.G, 1, 1), "rstd") ||
      (g.hasBias && !need(env, bias, sz(g.B, g.C, 1, 1), "bias")))
    return nullptr;
  guarded(env, [&] { sl::groupNormForward(g, x.data, bias.data, gamma.data, beta.data, y.data, mean.data, rstd.data); });
  return nullptr;
}

napi_value GroupNormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  sl::NormGeom g;
  Arr dy, x, bias, gamma, beta, mean, rstd, dx, dbias, dgamma, dbeta;
  if (!args(env, info, 13, argv) || !normGeom(env, argv[11], argv[12], g) || !getF32(env, argv[0], "dy", dy) ||
      !getF32(env, argv[1], "x", x) || !getF32(env, argv[2], "bias", bias, true) || !getF32(env, argv[3], "gamma", gamma) ||
      !getF32(env, argv[4], "beta", beta) || !getF32(env, argv[5], "mean", mean) || !getF32(env, argv[6], "rstd", rstd) ||
      !getF32(env, argv[7], "dx", dx) || !getF32(env, argv[8], "dbias", dbias, true) || !getF32(env, argv[9], "dgamma", dgamma) ||
      !getF32(env, argv[10], "dbeta", dbeta))
    return nullptr;
  const size_t n = sz(g.B, g.HW, g.C, 1);
  if (!need(env, dy, n, "dy") || !need(env, x, n, "x") || !need(env, dx, n, "dx") || !need(env, gamma, g.C, "gamma") ||
      !need(env, beta, g.C, "beta") || !need(env, dgamma, g.C, "dgamma") || !need(env, dbeta, g.C, "dbeta") ||
      !need(env, mean, sz(g.B, g.G, 1, 1), "mean") || !need(env, rstd, sz(g.B, g.G, 1, 1), "rstd") ||
      (g.hasBias && (!need(env, bias, sz(g.B, g.C, 1, 1), "bias") || !need(env, dbias, sz(g.B, g.C, 1, 1), "dbias"))))
    return nullptr;
  guarded(env, [&] {
    sl::groupNormBackward(g, dy.data, x.data, bias.data, gamma.data, beta.data, mean.data, rstd.data, dx.data, dbias.data, dgamma.data,
                          dbeta.data);
  });
  return nullptr;
}

// geometry: outer srcStride srcOffset dstStride dstOffset len — dst[o·dS + dO + i] = src[o·sS + sO + i]
// for o < outer, i < len: one input of a Concat or one output of a SplitV along any axis.
napi_value CopyBlocks(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Arr src, dst;
  int32_t g[6];
  if (!args(env, info, 3, argv) || !getF32(env, argv[0], "src", src) || !getF32(env, argv[1], "dst", dst) || !getI32(env, argv[2], 6, g))
    return nullptr;
  const long long outer = g[0], sS = g[1], sO = g[2], dS = g[3], dO = g[4], len = g[5];
  if (outer < 0 || sS < 0 || sO < 0 || dS < 0 || dO < 0 || len < 0) return fail(env, "copyBlocks geometry must not be negative"), nullptr;
  if (outer > 0 && len > 0) {
    if ((outer - 1) * sS + sO + len > static_cast<long long>(src.length)) return fail(env, "copyBlocks reads past the end of src"), nullptr;
    if ((outer - 1) * dS + dO + len > static_cast<long long>(dst.length)) return fail(env, "copyBlocks writes past the end of dst"), nullptr;
    guarded(env, [&] { sl::copyBlocks(src.data, dst.data, outer, sS, sO, dS, dO, len); });
  }
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, kernel, threads;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, sl::gemmKernelName(), NAPI_AUTO_LENGTH, &kernel);
  napi_create_int32(env, sl::threads(), &threads);
  napi_set_named_property(env, obj, "kernel", kernel);
  napi_set_named_property(env, obj, "threads", threads);
  return obj;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t n = 0;
  if (!args(env, info, 1, argv)) return nullptr;
  if (napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > 256) {
    fail(env, "threads must be a whole number from 1 to 256");
    return nullptr;
  }
  sl::setThreads(n);
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupNormForward", nullptr, GroupNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupNormBackward", nullptr, GroupNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyBlocks", nullptr, CopyBlocks, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
