// The verbs that read the same for every kind of entity: only the client's collection differs.
import { needName } from "./args.ts";
import { got, type Out } from "./format.ts";

type ByName<T> = (query: { name: string }) => Promise<T>;

/** `wsk KIND get NAME`: the ok line, then the entity. */
export async function getNamed(out: Out, kind: string, positionals: string[], read: ByName<unknown>): Promise<number> {
  const name = needName(positionals, `wsk ${kind} get NAME`);
  got(out, kind, name, await read({ name }));
  return 0;
}

/** `wsk KIND delete NAME`. */
export async function deleteNamed(
  out: Out,
  kind: string,
  positionals: string[],
  remove: ByName<unknown>,
): Promise<number> {
  const name = needName(positionals, `wsk ${kind} delete NAME`);
  await remove({ name });
  out(`ok: deleted ${kind} ${name}`);
  return 0;
}
