// Minimal declarations for the untyped packages behind the local CouchDB-compatible server.
declare module "pouchdb-node" {
  interface PouchDBConstructor {
    plugin(plugin: unknown): PouchDBConstructor;
    defaults(options: Record<string, unknown>): PouchDBConstructor;
  }
  const PouchDB: PouchDBConstructor;
  export default PouchDB;
}
declare module "pouchdb-adapter-memory" {
  const plugin: unknown;
  export default plugin;
}
declare module "express-pouchdb" {
  import type { RequestHandler } from "express";

  function expressPouchDB(
    pouchdb: unknown,
    options?: { mode?: "fullCouchDB" | "minimumForPouchDB" | "custom"; configPath?: string; logPath?: string },
  ): RequestHandler;
  export default expressPouchDB;
}
