// Waiting for a state a part reaches by itself: a deadline, not a speed assertion — it fails only if the state is never reached.

export async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 90_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never reached: ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
