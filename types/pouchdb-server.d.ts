// Minimal declarations for the untyped packages behind the local CouchDB-compatible server.
declare module "pouchdb-node" {
  interface PouchDBConstructor {
    plugin(plugin: unknown): PouchDBConstructor;
    defaults(options: Record<string, unknown>): PouchDBConstructor;
    /** Added by express-pouchdb once it has started. */
    allDbs(): Promise<string[]>;
  }
  export interface PouchDatabase {
    allDocs(options: Record<string, unknown>): Promise<unknown>;
  }
  const PouchDB: PouchDBConstructor;

  export type { PouchDBConstructor };
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
declare module "express-pouchdb/lib/create-or-delete-dbs.js" {
  import type { PouchDatabase, PouchDBConstructor } from "pouchdb-node";

  /** express-pouchdb's cache of database instances: the one it serves the database with. */
  export function getOrCreateDB(pouchdb: PouchDBConstructor, name: string): Promise<PouchDatabase>;
}
