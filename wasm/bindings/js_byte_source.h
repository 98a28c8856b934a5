// A ByteSource whose bytes stay in JavaScript: the loader asks for one range at a time and
// `reader.read(offset, length, heapPointer)` copies it into the wasm heap. A 500 MB
// model.safetensors therefore never occupies wasm memory as a whole.
#pragma once

#include <emscripten/val.h>

#include <memory>
#include <string>

#include "hooklab/byte_source.h"

namespace hooklab::wasm {

// reader: {size: number, read(offset: number, length: number, pointer: number): void}
std::shared_ptr<ByteSource> make_js_byte_source(std::string name, emscripten::val reader);

}  // namespace hooklab::wasm
