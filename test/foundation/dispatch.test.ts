import { describe, expect, it } from 'vitest'
import { PROCEDURE_NAMES, procedures } from '../../src/shared/contract'
import { createDispatch } from '../../src/lab/dispatch'
import { testService } from '../helpers/service'

describe('contract', () => {
  it('pairs every procedure name with schemas, and nothing else', () => {
    expect(Object.keys(procedures).sort()).toEqual([...PROCEDURE_NAMES].sort())
  })
})

describe('dispatch (the validation both transports share)', () => {
  const dispatch = createDispatch(testService().handlers)

  it('answers a valid call', async () => {
    const env = await dispatch('system.ping', { message: 'hi' })
    expect(env.ok).toBe(true)
    if (env.ok) expect((env.result as { message: string }).message).toBe('hi')
  })

  it('refuses an unknown method by name', async () => {
    const env = await dispatch('system.reboot', {})
    expect(env).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
    if (!env.ok) expect(env.error.message).toContain('system.reboot')
  })

  it('refuses a non-string method', async () => {
    const env = await dispatch(42, {})
    expect(env).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
  })

  it('names the field on wrong types and missing fields', async () => {
    const wrongType = await dispatch('system.ping', { message: 12 })
    expect(wrongType).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    if (!wrongType.ok) expect(wrongType.error.issues?.[0]?.path).toBe('message')
    const missing = await dispatch('system.ping', {})
    expect(missing).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    if (!missing.ok) expect(missing.error.message).toMatch(/message/)
  })

  it('refuses unknown extra fields (strict inputs)', async () => {
    const env = await dispatch('system.info', { surprise: true })
    expect(env).toMatchObject({ ok: false, error: { code: 'bad_request' } })
  })

  it('refuses a 10 MB string with a size error, not a crash', async () => {
    const env = await dispatch('system.ping', { message: 'x'.repeat(10_000_000) })
    expect(env).toMatchObject({ ok: false, error: { code: 'too_large' } })
    if (!env.ok) expect(env.error.message).toMatch(/10\.0 MB/)
  })

  it('refuses a non-object input', async () => {
    const env = await dispatch('system.ping', 'just a string')
    expect(env).toMatchObject({ ok: false, error: { code: 'bad_request' } })
  })

  it('turns a handler crash into an internal error envelope', async () => {
    const service = testService()
    service.handlers['system.ping'] = async () => {
      throw new Error('boom')
    }
    const env = await createDispatch(service.handlers)('system.ping', { message: 'x' })
    expect(env).toMatchObject({ ok: false, error: { code: 'internal' } })
    if (!env.ok) expect(env.error.message).toContain('boom')
  })

  it('system.info reports backend, versions and the data folder', async () => {
    const service = testService()
    const env = await createDispatch(service.handlers)('system.info', {})
    expect(env.ok).toBe(true)
    if (!env.ok) return
    const info = procedures['system.info'].output.parse(env.result)
    expect(info.backend.name).toBe('cpu')
    expect(info.dataDir).toBe(service.dataDir)
    expect(info.versions.tfjs).toBe('4.22.0')
  })
})
