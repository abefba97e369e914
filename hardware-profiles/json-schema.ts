// The profile schema as JSON Schema, for editors (YAML language servers) and other tools.
import { z } from 'zod'
import { HardwareProfile } from './schema.ts'

export function profileJsonSchema(): string {
  const schema = z.toJSONSchema(HardwareProfile, { io: 'input', unrepresentable: 'any' })
  return `${JSON.stringify({ ...schema, $id: 'takt-hardware-profile', title: 'Takt hardware profile' }, null, 2)}\n`
}

if (import.meta.main) process.stdout.write(profileJsonSchema())
