// Connectivity status for technicians: every device's collector (connected, cycles, late, last error), the bridge, the Sparkplug edge node.
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { declare } from '../route.ts'

export function connectivityRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(declare({ method: 'get', path: '/api/v1/connectivity', tag: 'Connectivity', summary: 'Status of every device collector, the enterprise bridge and the Sparkplug edge node' }), (c) => {
    guard(c, ['lead', 'maintenance', 'integration'])
    return c.json(deps.connectivity.current(), 200)
  })
}
