// Waiting for conditions with deadlines (the browser test never sleeps a
// fixed time as synchronisation), and assertions.

/** An error that ends a wait at once (a process died), not retried. */
export class Fatal extends Error {}

/**
 * Polls `check` until it returns a truthy value; throws after `timeoutMs`.
 * Errors thrown by `check` are retried (the last one is reported), except
 * `Fatal` ones.
 */
export async function waitFor(what, check, { timeoutMs = 30000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}
