// The crash loop of audit_crash.test.mjs, 1000 rounds (ctest label slow; SECURITY_RELIABILITY.md
// 7, case 40 asks for at least 1,000 iterations).
import { test } from 'node:test';
import { runCrashLoop } from '../lib/crash_loop.mjs';

test('1000 SIGKILLs during audited operations lose no acknowledged operation', { timeout: 3600000 }, async () => {
  await runCrashLoop(1000);
});
