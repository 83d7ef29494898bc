// The IBM Cloudant SDK, configured from StoreSettings.

import { BasicAuthenticator, CloudantV1, IamAuthenticator } from "@ibm-cloud/cloudant";
import { NoAuthAuthenticator } from "ibm-cloud-sdk-core";
import { statusOf } from "../errors.ts";
import type { StoreAuth, StoreSettings } from "./config.ts";

export type Cloudant = CloudantV1;

function authenticatorFor(auth: StoreAuth) {
  switch (auth.kind) {
    case "none":
      return new NoAuthAuthenticator();
    case "basic":
      return new BasicAuthenticator({ username: auth.username, password: auth.password });
    case "iam":
      return new IamAuthenticator({ apikey: auth.apiKey, ...(auth.iamUrl ? { url: auth.iamUrl } : {}) });
  }
}

export function createCloudant(settings: StoreSettings): Cloudant {
  const client = new CloudantV1({ authenticator: authenticatorFor(settings.auth) });
  client.setServiceUrl(settings.url);
  return client;
}

/** HTTP status of an SDK error, or undefined when the request never got an answer (unreachable, timeout). */

/** Creates the database unless it exists (412 from the server means it does). */
export async function ensureDatabase(client: Cloudant, db: string): Promise<"created" | "existed"> {
  try {
    await client.putDatabase({ db });
    return "created";
  } catch (err) {
    if (statusOf(err) === 412) return "existed";
    throw err;
  }
}
