// Master data from ERP: equipment, materials, BOMs, routings, people, material lots. PUT is idempotent.
import { z } from '@hono/zod-openapi'
import { defineBom, defineEquipment, defineLot, defineMaterial, definePerson, defineRouting } from '../../core/master-data.ts'
import type { Decision } from '../../core/decision.ts'
import type { LineView } from '../../core/line-view.ts'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import * as tables from '../../store/schema.ts'
import { guard } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

const writers = ['integration', 'admin'] as const
const readers = ['operator', 'lead', 'quality', 'maintenance', 'integration'] as const

interface Kind<T extends z.ZodType> {
  path: string
  name: string
  schema: T
  versioned: boolean
  define: (view: LineView, value: z.infer<T>) => Decision<{ changed: boolean }>
  read: (view: LineView, id: string, version: string) => unknown
  table: SQLiteTable
}

function mount<T extends z.ZodType>(app: Api, deps: ApiDeps, kind: Kind<T>) {
  const params = kind.versioned ? S.PathVersioned : S.PathId
  const itemPath = kind.versioned ? `/api/v1/${kind.path}/{id}/{version}` : `/api/v1/${kind.path}/{id}`
  app.openapi(declare({ method: 'put', path: itemPath, tag: 'Master data', summary: `Define or redefine a ${kind.name}`, params, body: kind.schema, response: S.Accepted }), async (c) => {
    guard(c, writers)
    const value = valid(c, 'json', kind.schema) as z.infer<T> & { id: string; version?: string }
    const p = valid(c, 'param', S.PathVersioned)
    if (value.id !== p.id || (kind.versioned && value.version !== p.version)) {
      throw new ProblemError(422, 'path_mismatch', `The ${kind.name} in the body (${value.id}${value.version ? ' ' + value.version : ''}) is not the one named in the path.`)
    }
    const { result, seq } = await command(deps, c, (view) => kind.define(view, value))
    return c.json({ seq, changed: result.changed }, 200)
  })
  app.openapi(declare({ method: 'get', path: itemPath, tag: 'Master data', summary: `Read a ${kind.name}`, params }), (c) => {
    guard(c, readers)
    const p = valid(c, 'param', S.PathVersioned)
    const found = kind.read(deps.store.view, p.id, p.version)
    if (!found) throw new ProblemError(404, 'not_found', `There is no ${kind.name} '${p.id}'.`)
    return c.json(found, 200)
  })
  app.openapi(declare({ method: 'get', path: `/api/v1/${kind.path}`, tag: 'Master data', summary: `List ${kind.name}s` }), (c) => {
    guard(c, readers)
    const rows = deps.store.db.orm.select().from(kind.table).limit(10_000).all()
    return c.json({ items: rows }, 200)
  })
}

export function masterDataRoutes(app: Api, deps: ApiDeps): void {
  mount(app, deps, { path: 'equipment', name: 'equipment', schema: S.Equipment, versioned: false, define: defineEquipment, read: (v, id) => v.equipment(id), table: tables.equipment })
  mount(app, deps, { path: 'materials', name: 'material', schema: S.Material, versioned: false, define: defineMaterial, read: (v, id) => v.material(id), table: tables.materials })
  mount(app, deps, { path: 'boms', name: 'BOM', schema: S.Bom, versioned: true, define: defineBom, read: (v, id, ver) => v.bom(id, ver), table: tables.boms })
  mount(app, deps, { path: 'routings', name: 'routing', schema: S.Routing, versioned: true, define: defineRouting, read: (v, id, ver) => v.routing(id, ver), table: tables.routings })
  mount(app, deps, { path: 'people', name: 'person', schema: S.Person, versioned: false, define: definePerson, read: (v, id) => v.person(id), table: tables.people })
  mount(app, deps, { path: 'lots', name: 'material lot', schema: S.Lot, versioned: false, define: defineLot, read: (v, id) => v.lot(id), table: tables.lots })
}
