// MQTT topic rules for the broker's ACLs: does a topic match a pattern, is a subscription filter inside one.

/** Whether a concrete topic matches a filter with `+` and `#` wildcards (MQTT-4.7). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!
    // MQTT-4.7.2-1: wildcards at the first level do not match topics starting with '$'.
    if (i === 0 && (level === '+' || level === '#') && t[0]!.startsWith('$')) return false
    if (level === '#') return i < t.length || (i === t.length && i > 0) // MQTT-4.7.1-2: '#' also matches the parent level
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}

/** Whether every topic a subscription filter can match is also matched by an allowed pattern. */
export function filterWithin(allowed: string, filter: string): boolean {
  const a = allowed.split('/')
  const f = filter.split('/')
  for (let i = 0; i < a.length; i++) {
    const level = a[i]!
    if (level === '#') return true
    if (i >= f.length) return false
    const asked = f[i]!
    if (asked === '#') return false
    if (level === '+') continue
    if (asked === '+' || asked !== level) return false
  }
  return a.length === f.length
}

/** Patterns may name the client: `${username}` and `${clientId}` are filled in per connection. */
export function expandPattern(pattern: string, who: { username: string; clientId: string }): string {
  return pattern.replaceAll('${username}', who.username).replaceAll('${clientId}', who.clientId)
}
