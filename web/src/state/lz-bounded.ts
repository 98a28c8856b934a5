// lz-string's decompressFromEncodedURIComponent with a limit on what it may produce. LZW output
// can grow with the square of its input (each code may stand for one more character than the
// last), so an 80 kB link could otherwise decompress to gigabytes before anything is checked.
// Same format and results as lz-string (tests/node/url-state.test.mjs compares them); the output
// and the dictionary (which never holds more than the output plus one character per code) stop
// growing at maxChars.

const URI_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$";
const BITS_PER_CHAR = 6;

/** A reader of the input's bits, lowest first within each 6-bit character (lz-string's order). */
function bitReader(input: string): { read: (n: number) => number; consumed: () => number } {
  const value = (i: number) => Math.max(0, URI_ALPHABET.indexOf(input.charAt(i)));  // as lz-string: an unknown character reads as 0
  const top = 1 << (BITS_PER_CHAR - 1);
  let index = 1, current = value(0), position = top;
  const read = (n: number) => {
    let bits = 0;
    for (let power = 1; power !== 2 ** n; power *= 2) {
      if (current & position) bits += power;
      position >>= 1;
      if (position === 0) {
        position = top;
        current = value(index++);
      }
    }
    return bits;
  };
  return { read, consumed: () => index };
}

export type Decompressed = { text: string } | { problem: "damaged" | "too large" };

/** The decompressed text ("" for a truncated stream, as lz-string), or why there is none. */
export function decompressBounded(compressed: string, maxChars: number): Decompressed {
  const input = compressed.replace(/ /g, "+");
  if (input === "") return { problem: "damaged" };
  const { read, consumed } = bitReader(input);
  // Codes 0 and 1 bring an 8- or 16-bit character, 2 ends the stream, 3 and up are dictionary entries.
  const literal = (code: number) => String.fromCharCode(read(code === 0 ? 8 : 16));
  const first = read(2);
  if (first === 2) return { text: "" };
  if (first === 3) return { problem: "damaged" };
  const dictionary: string[] = ["", "", "", literal(first)];
  let w = dictionary[3], total = w.length, enlargeIn = 4, numBits = 3;
  const out = [w];
  const grow = () => {
    if (--enlargeIn === 0) enlargeIn = 2 ** numBits++;
  };
  for (;;) {
    if (consumed() > input.length) return { text: "" };
    let code = read(numBits);
    if (code === 2) return { text: out.join("") };
    if (code < 2) {
      dictionary.push(literal(code));
      code = dictionary.length - 1;
      grow();
    }
    const entry = code >= 3 && code < dictionary.length ? dictionary[code] : code === dictionary.length ? w + w.charAt(0) : null;
    if (entry === null) return { problem: "damaged" };
    total += entry.length;
    if (total > maxChars) return { problem: "too large" };
    out.push(entry);
    dictionary.push(w + entry.charAt(0));
    grow();
    w = entry;
  }
}
