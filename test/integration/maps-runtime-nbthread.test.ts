/** The maps-at-runtime tests with `nbthread 2`: what the runtime API changes, every proxy thread serves. */
process.env.TSLB_TEST_NBTHREAD = '2'
await import('./maps-runtime.test.ts')
