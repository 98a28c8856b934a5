// What the engine-crash tests import.
export { fatalMessage } from "../../web/src/engine/fatal-error";
