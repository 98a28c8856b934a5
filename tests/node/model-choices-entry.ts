// What tests/node/model-choices.test.mjs imports: the lab's model list (pure data).
export { MODEL_CHOICES, BUNDLED_OPTIONAL_FILES, bundledModelShips } from "../../web/src/app/model-choices";
