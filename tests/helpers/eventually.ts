/**
 * Retries `check` until it stops throwing or `timeoutMs` passes, then rethrows its last error.
 * For state the proxy changes just after it replies, such as a backup's copy of a write.
 */
export async function eventually(check: () => Promise<void>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
