// @ts-check
// The action container of the local OpenWhisk: one Node process per container, speaking the runtime contract of
// apache/openwhisk-runtime-nodejs (core/nodejsActionBase) on its own 127.0.0.1 port:
//   POST /init {value:{main, code, binary, env?}} -> 200 {OK:true} | 502 {error:"Initialization has failed due to: ..."} | 403
//   POST /run  {value, namespace, action_name, activation_id, deadline, api_key, ...} -> 200 <result> | 502 {error}
// Every string field of /run but `value` becomes __OW_<UPPERCASE>; after each activation the log sentinel is written
// to stdout and stderr. The port is reported to the parent over IPC. Written from the contract, not copied.
"use strict";

const http = require("node:http");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

// The Node.js runtime's image has the openwhisk client installed for every action (Composer's conductors require
// it and leave it out of their bundle); here it resolves from the platform's own modules, whatever the action's folder.
const Module = require("node:module");
/** @type {Map<string, string>} */
const RUNTIME_MODULES = new Map([["openwhisk", require.resolve("openwhisk")]]);
// @ts-ignore: _resolveFilename is Node's internal resolver, the one place a preinstalled module can be added
const resolveFilename = Module._resolveFilename;
// @ts-ignore
Module._resolveFilename = function (/** @type {string} */ request, /** @type {unknown[]} */ ...rest) {
  return RUNTIME_MODULES.get(request) ?? resolveFilename.call(this, request, ...rest);
};

const SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";
const allowConcurrent = process.env.__OW_ALLOW_CONCURRENT === "true";
/** OpenWhisk's largest code (48 MB) in base64, with room for the envelope: a larger request is refused unread. */
const MAX_REQUEST_BYTES = 66 * 1024 * 1024;
/** Where a zipped action is unpacked: the folder the platform made for this container, and removes after it. */
const codeDir = process.argv[2];

/** @type {"ready" | "starting" | "running" | "stopped"} */
let status = "ready";
/** @type {((args: unknown) => unknown) | undefined} */
let handler;

function writeMarkers() {
  process.stdout.write(`${SENTINEL}\n`);
  process.stderr.write(`${SENTINEL}\n`);
}

/** What serialize-error does for the cases that matter: an Error's name, message, stack and own fields. */
function serializeError(/** @type {unknown} */ error, seen = new Set()) {
  if (error === null || typeof error !== "object") return error;
  if (seen.has(error)) return "[Circular]";
  seen.add(error);
  if (Array.isArray(error)) return error.map((item) => serializeError(item, seen));
  /** @type {Record<string, unknown>} */
  const out = {};
  const source = /** @type {Record<string, unknown>} */ (error);
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (typeof value === "function") continue;
    out[key] = serializeError(value, seen);
  }
  if (error instanceof Error) {
    out.name = error.name;
    out.message = error.message;
    out.stack = error.stack;
  }
  return out;
}

/** @param {string} main */
function splitMain(main) {
  const match = /^([^.]+)$|^([^.]+)\.(.+)$/.exec(main);
  if (!match) return undefined;
  return { file: match[2], fn: match[3] || match[1] };
}

/** @param {string} base64 */
async function unzipToTmp(base64) {
  const JSZip = require("jszip");
  const buffer = Buffer.from(base64, "base64");
  if (buffer.subarray(0, 4).toString("hex") !== "504b0304") {
    throw "There was an error uncompressing the action archive. The file type is unsupported";
  }
  const dir = codeDir ? fs.realpathSync(codeDir) : fs.mkdtempSync(path.join(os.tmpdir(), "ow-action-"));
  let zip;
  try {
    zip = await JSZip.loadAsync(buffer);
  } catch {
    throw "There was an error uncompressing the action Zip archive.";
  }
  for (const entry of Object.values(zip.files)) {
    const target = path.resolve(dir, entry.name);
    if (!target.startsWith(dir + path.sep) && target !== dir) continue; // no writing outside the folder
    if (entry.dir) {
      fs.mkdirSync(target, { recursive: true });
    } else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, await entry.async("nodebuffer"));
    }
  }
  return dir;
}

/** @param {{main: string, code: string, binary?: boolean}} message */
async function loadHandler(message) {
  if (message.binary) {
    const dir = await unzipToTmp(message.code);
    const parts = splitMain(message.main);
    if (!parts) throw "Name of main function is not valid.";
    process.chdir(dir);
    if (parts.file === undefined && !fs.existsSync("package.json") && !fs.existsSync("index.js")) {
      throw "Zipped actions must contain either package.json or index.js at the root.";
    }
    const what = parts.file !== undefined ? path.join(dir, parts.file) : dir;
    const loaded = require(what)[parts.fn];
    if (typeof loaded !== "function") throw `Action entrypoint '${message.main}' is not a function.`;
    return loaded;
  }
  if (!/^[A-Za-z_$][\w$]*$/.test(message.main)) throw `Action entrypoint '${message.main}' is not a function.`;
  const module = { exports: /** @type {Record<string, unknown>} */ ({}) };
  const body = `${message.code}\ntry { return ${message.main}; } catch (e) { if (e.name === "ReferenceError") { return module.exports.${message.main} || exports.${message.main}; } throw e; }`;
  const loaded = new Function("require", "module", "exports", "__filename", "__dirname", body)(
    require,
    module,
    module.exports,
    __filename,
    __dirname,
  );
  if (typeof loaded !== "function") throw `Action entrypoint '${message.main}' is not a function.`;
  return loaded;
}

/** @param {any} body */
async function init(body) {
  if (status === "ready" && handler === undefined) {
    status = "starting";
    const message = body?.value || {};
    if (typeof message.main !== "string" || typeof message.code !== "string" || !message.main || !message.code) {
      status = "ready";
      return { code: 403, body: { error: "Missing main/no code to execute." } };
    }
    if (message.env && typeof message.env === "object") {
      for (const [key, value] of Object.entries(message.env)) {
        process.env[key] =
          value === null || typeof value !== "object" ? (value ? String(value) : "") : JSON.stringify(value);
      }
    }
    try {
      handler = await loadHandler(message);
      status = "ready";
      return { code: 200, body: { OK: true } };
    } catch (error) {
      console.error("Error during initialization:", error);
      writeMarkers();
      status = "stopped";
      const text = error instanceof Error && error.stack ? String(error.stack) : String(error);
      return { code: 502, body: { error: `Initialization has failed due to: ${text}` } };
    }
  }
  const msg = handler ? "Cannot initialize the action more than once." : `System not ready, status is ${status}.`;
  console.error("Internal system error:", msg);
  return { code: 403, body: { error: msg } };
}

/** @param {any} body */
async function run(body) {
  if (status !== "ready" || handler === undefined) {
    const msg = handler ? `System not ready, status is ${status}.` : "System not initialized.";
    console.error("Internal system error:", msg);
    return { code: 403, body: { error: msg } };
  }
  if (!allowConcurrent) status = "running";
  const msg = body || {};
  if (msg.value === null || msg.value === undefined) msg.value = {};
  for (const [key, value] of Object.entries(msg)) {
    if (typeof value === "string" && key !== "value") process.env[`__OW_${key.toUpperCase()}`] = value;
  }
  const userMain = handler;
  /** @type {unknown} */
  let result;
  try {
    result = await new Promise((resolve, reject) => {
      let returned;
      try {
        returned = userMain(msg.value);
      } catch (error) {
        reject(error);
        return;
      }
      Promise.resolve(returned).then(
        (value) => resolve(value === undefined ? {} : value),
        (error) => resolve(error ? { error: serializeError(error) } : { error: {} }),
      );
    });
  } catch (error) {
    console.error(error);
    writeMarkers();
    status = "stopped";
    return { code: 502, body: { error: `An error has occurred: ${error}` } };
  }
  if (typeof result !== "object") {
    console.error(`Result must be of type object but has type "${typeof result}":`, result);
  }
  writeMarkers();
  if (!allowConcurrent) status = "ready";
  if (typeof result !== "object") return { code: 502, body: { error: "The action did not return a dictionary." } };
  return { code: 200, body: result };
}

const server = http.createServer((req, res) => {
  const chunks = /** @type {Buffer[]} */ ([]);
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      res.writeHead(413, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ error: `The request is larger than ${MAX_REQUEST_BYTES} bytes.` }));
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", async () => {
    if (size > MAX_REQUEST_BYTES) return;
    /** @type {{code: number, body: unknown}} */
    let answer;
    try {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? JSON.parse(text) : {};
      if (req.method === "POST" && req.url === "/init") answer = await init(body);
      else if (req.method === "POST" && req.url === "/run") answer = await run(body);
      else answer = { code: 404, body: { error: "Not found." } };
    } catch (error) {
      answer = { code: 500, body: { error: `Internal error: ${error}` } };
    }
    let payload;
    try {
      payload = JSON.stringify(answer.body);
    } catch (error) {
      answer.code = 502;
      payload = JSON.stringify({ error: `An error has occurred: ${error}` });
    }
    res.writeHead(answer.code, { "content-type": "application/json" });
    res.end(payload);
  });
});
server.keepAliveTimeout = 0;
server.timeout = 0;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = address && typeof address === "object" ? address.port : 0;
  if (process.send) process.send({ port });
});
process.on("disconnect", () => process.exit(0));
