// The environment that puts Chromium's SwiftShader Vulkan driver under Dawn, for a child process
// (tests and benches run WebGPU in one: Dawn finds the Vulkan loader through LD_LIBRARY_PATH,
// which the dynamic linker reads only at process start, so setting it in process.env is too late).
// SwiftShader comes with `apt-get install chromium`: /usr/lib/chromium/vk_swiftshader_icd.json,
// with its own libvulkan.so.1 for machines without a system loader.
import { existsSync } from 'node:fs'
import path from 'node:path'

const CHROMIUM = '/usr/lib/chromium'
export const SWIFTSHADER_ICD = path.join(CHROMIUM, 'vk_swiftshader_icd.json')
const LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']

/** The environment that puts SwiftShader under Dawn (null where Chromium's driver is absent). */
export function swiftshaderEnv(): NodeJS.ProcessEnv | null {
  if (!existsSync(SWIFTSHADER_ICD)) return null
  const env: NodeJS.ProcessEnv = { VK_ICD_FILENAMES: SWIFTSHADER_ICD }
  const hasLoader = LOADER_DIRS.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))
  if (!hasLoader) env.LD_LIBRARY_PATH = [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':')
  return env
}
