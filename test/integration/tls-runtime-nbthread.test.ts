/** The certificates-at-runtime tests with `nbthread 2`: what the runtime API commits, every proxy thread serves. */
process.env.TSLB_TEST_NBTHREAD = '2'
await import('./tls-runtime.test.ts')
