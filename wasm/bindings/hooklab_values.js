// Emscripten JS library: the one step of handing results to JavaScript that Embind makes costly.
// A run_with_cache writes every hook's value into the cache's Float32Array as the forward makes
// it (run_values.cpp, StreamedCache); through emscripten::val each write cost a method-name
// lookup, a memory-view wrapper and a handle per argument, about 8 µs, which made 208 hooks
// about 1.7 ms: a twentieth of a 2-thread forward at T=8.
mergeInto(LibraryManager.library, {
  // target (a Float32Array handle)[offset, offset + n) = the n floats at data in wasm memory.
  // Pointers above 2 GB arrive negative, hence >>>.
  hooklab_float32_set__deps: ['$Emval'],
  hooklab_float32_set: function(target, data, n, offset) {
    var first = data >>> 2;
    Emval.toValue(target).set(HEAPF32.subarray(first, first + n), offset);
  },
  // 1 when every element of the array-like `array` (a handle) is a string without a NUL, else 0:
  // such strings can cross NUL-joined (js_values.cpp); anything else keeps Embind's path, and its
  // error for what is not a string.
  hooklab_joinable_strings__deps: ['$Emval'],
  hooklab_joinable_strings: function(array) {
    var a = Emval.toValue(array);
    for (var i = 0; i < a.length; i++) if (typeof a[i] !== 'string' || a[i].indexOf('\0') >= 0) return 0;
    return 1;
  },
  // The value of the JSON text of `length` bytes at `text`, frozen all the way down (a cache's
  // entries, shared by the results of runs with the same plan: run_values.cpp). Pointers as above.
  hooklab_frozen_json__deps: ['$Emval'],
  hooklab_frozen_json: function(text, length) {
    return Emval.toHandle(JSON.parse(UTF8ToString(text >>> 0, length), function(key, value) { return Object.freeze(value); }));
  },
});
