// R8 and R9 under crashes: 200 SIGKILLs at random moments while the gateway performs audited
// operations that change its SQLite state (weights, keys). No acknowledged operation is lost,
// the audit chain and both SQLite files stay valid, and the gateway comes back serving
// (tests/lib/crash_loop.mjs; audit_crash.slow.test.mjs runs 1000 rounds).
import { test } from 'node:test';
import { runCrashLoop } from '../lib/crash_loop.mjs';

const ROUNDS = Number(process.env.DW_AUDIT_CRASH_ROUNDS ?? 200);

test(`${ROUNDS} SIGKILLs during audited operations lose no acknowledged operation`, { timeout: 600000 }, async () => {
  await runCrashLoop(ROUNDS);
});
