// drizzle-kit configuration: migrations for the gateway's SQLite database are generated from schema.ts.
export default {
  dialect: 'sqlite',
  schema: './edge/store/schema.ts',
  out: './edge/store/migrations',
}
