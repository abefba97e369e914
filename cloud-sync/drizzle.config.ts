// drizzle-kit configuration: migrations for the central PostgreSQL (and PGlite) database are generated from schema.ts.
export default {
  dialect: 'postgresql',
  schema: './cloud-sync/schema.ts',
  out: './cloud-sync/migrations',
}
