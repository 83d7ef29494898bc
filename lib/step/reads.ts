// What a read side (a view, the dashboard) needs of the steps' databases, and nothing that reaches Kafka: a view's
// bundle that imports only this file stays small.
export {
  findStreamHeads,
  readEntityPage,
  readEntityState,
  readEntityStates,
  readStreams,
  replay,
  type StreamCommitDoc,
} from "./documents.ts";
